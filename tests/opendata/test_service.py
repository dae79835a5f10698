"""The open-data portal through its services: what is visible, masks, access to 受限开放 data and the
application's two approvals, registration, ratings, comments, data requests, counts and quotas."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from digigov.core.auth import PUBLIC, Actor
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import Forbidden, IllegalTransition, InvalidCode, NotFound
from digigov.identity import authenticate_token
from digigov.identity.errors import UsernameTaken
from digigov.opendata import accounts, applications, data, feedback, service
from digigov.opendata.errors import (
    AccessNeeded,
    ApiKeyNeeded,
    BadApplication,
    BadFeedback,
    BadRegistration,
    DailyQuotaUsed,
    ProfileNeeded,
)
from digigov.opendata.schemas import ApplicationCreate, DataRequestAnswer, DataRequestCreate, Decision
from tests.conftest import actor_named
from tests.opendata.conftest import BORN, FIRST, ID, NAME, OPEN, PHONE, PROHIBITED, RESTRICTED, register

TODAY = date(2026, 3, 2)
pytestmark = pytest.mark.usefixtures("opened")


def masked_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def apply(session: Session, actor: Actor, **change: object) -> applications.Application:
    body = {"resource_code": RESTRICTED, "purpose": "研究杭州市人口结构变化", "commitment": True, "days": 30}
    return applications.apply(session, actor, ApplicationCreate.model_validate(body | change), today=TODAY)


def approved(session: Session, applicant: Actor, steward: Actor, reviewer: Actor) -> applications.Application:
    made = apply(session, applicant)
    applications.decide_as_source(session, steward, application_id=made.id, decision=Decision(approve=True))
    return applications.decide_as_platform(
        session, reviewer, application_id=made.id, decision=Decision(approve=True, reason="同意"), today=TODAY
    )


def kinds(session: Session, target: str) -> list[str]:
    stmt = select(AuditRecord.kind).where(AuditRecord.target == target).order_by(AuditRecord.seq)
    return list(session.scalars(stmt))


# ---- what exists on the portal ----------------------------------------------------------------------


def test_search_finds_unconditional_and_restricted_but_never_prohibited(session: Session) -> None:
    found = service.search_open(session, PUBLIC, q="人口")
    assert sorted(r.code for r in found.results) == [OPEN, RESTRICTED]
    assert dict(found.facets["open_type"]) == {"unconditional": 1, "restricted": 1}
    asked = service.search_open(session, PUBLIC, q="人口", filters={"open_type": ["prohibited"]})
    assert asked.count == 0 and asked.results == []
    assert service.search_open(session, PUBLIC, q="禁止开放").count == 0  # its title says so; still not found


def test_a_prohibited_resource_is_the_same_not_found_as_a_missing_code(
    session: Session, settings: Settings, enterprise: Actor
) -> None:
    def refusal(code: str, call: str) -> str:
        with pytest.raises(NotFound) as caught:
            if call == "page":
                service.get_open_resource(session, PUBLIC, code)
            elif call == "preview":
                data.preview(session, PUBLIC, settings, code=code, today=TODAY)
            elif call == "download":
                data.download(session, PUBLIC, settings, code=code, fmt="csv", via="page", now=utcnow())
            else:
                apply(session, enterprise, resource_code=code)
        return caught.value.message_zh.replace(code, "…")

    for call in ("page", "preview", "download", "apply"):
        assert refusal(PROHIBITED, call) == refusal("no-such-code", call), call


def test_unconditional_preview_is_masked_by_classification(session: Session, settings: Settings) -> None:
    served = data.preview(session, PUBLIC, settings, code=OPEN, today=TODAY)
    first = served.rows[0]
    assert first[ID] == masked_id(FIRST[ID])
    assert first[NAME] == FIRST[NAME][0] + "*" * (len(FIRST[NAME]) - 1)
    assert first[PHONE] == FIRST[PHONE][:3] + "****" + FIRST[PHONE][-4:]
    assert first[BORN] == str(FIRST[BORN].year)
    assert served.masks[ID] == "id_number" and served.masks[NAME] == "name"
    assert len(served.rows) == data.PREVIEW_ROWS and served.rows[0]["_id"] == 1
    described = service.describe(session, service.get_open_resource(session, PUBLIC, OPEN), with_fields=True)
    assert {f.name: f.mask_label for f in described.fields}[ID] == "证件号脱敏"


def test_downloads_are_masked_and_counted(session: Session, settings: Settings) -> None:
    resource = service.get_open_resource(session, PUBLIC, OPEN)
    assert service.download_count(session, resource.id) == 0
    made = data.download(session, PUBLIC, settings, code=OPEN, fmt="csv", via="page", now=utcnow())
    text = made.path.read_bytes().decode("utf-8-sig")
    assert masked_id(FIRST[ID]) in text and FIRST[ID] not in text and FIRST[NAME] not in text
    assert made.filename == f"{OPEN}-v1.csv"
    rows = json.loads(
        data.download(session, PUBLIC, settings, code=OPEN, fmt="json", via="page", now=utcnow()).path.read_text()
    )
    assert len(rows) == 200 and rows[0][ID] == masked_id(FIRST[ID])
    assert service.download_count(session, resource.id) == 2
    assert kinds(session, f"resource:{resource.id}")[-2:] == ["opendata.data_read", "opendata.data_read"]


def test_the_api_needs_a_key_and_stops_at_its_daily_quota(
    session: Session, settings: Settings, enterprise: Actor
) -> None:
    with pytest.raises(ApiKeyNeeded):
        data.rows_page(session, enterprise, settings, code=OPEN, after=None, limit=5, now=utcnow())
    _, secret = accounts.create_api_key(session, enterprise, settings)
    keyed = authenticate_token(session, secret)
    limited = settings.model_copy(update={"open_daily_quota": 2})
    page = data.rows_page(session, keyed, limited, code=OPEN, after=None, limit=5, now=utcnow())
    assert [r["_id"] for r in page.rows] == [1, 2, 3, 4, 5] and page.next == 5
    after = data.rows_page(session, keyed, limited, code=OPEN, after=page.next, limit=5, now=utcnow())
    assert after.rows[0]["_id"] == 6
    with pytest.raises(DailyQuotaUsed):
        data.download(session, keyed, limited, code=OPEN, fmt="csv", via="api", now=utcnow())
    tomorrow = utcnow() + timedelta(days=1)
    assert data.rows_page(session, keyed, limited, code=OPEN, after=None, limit=1, now=tomorrow).rows


# ---- 受限开放 and applications -----------------------------------------------------------------------


def test_restricted_rows_need_an_approved_application_until_its_end(
    session: Session, settings: Settings, enterprise: Actor, steward: Actor, reviewer: Actor
) -> None:
    for actor in (PUBLIC, enterprise):
        with pytest.raises(AccessNeeded):
            data.preview(session, actor, settings, code=RESTRICTED, today=TODAY)
    application = approved(session, enterprise, steward, reviewer)
    assert (application.starts_on, application.ends_on) == (TODAY, TODAY + timedelta(days=29))
    served = data.preview(session, enterprise, settings, code=RESTRICTED, today=TODAY)
    assert served.rows[0][ID] == masked_id(FIRST[ID])
    other = register(session, "other", uscc="91330100MA2KD8GH9G")
    with pytest.raises(AccessNeeded):  # the approval is the applicant's, not the enterprise code's
        data.preview(session, other, settings, code=RESTRICTED, today=TODAY)
    with pytest.raises(AccessNeeded):
        data.preview(session, enterprise, settings, code=RESTRICTED, today=TODAY + timedelta(days=30))
    assert applications.effective_state(application, TODAY + timedelta(days=30)).value == "expired"


def test_the_source_steward_decides_first_then_the_platform(
    session: Session, researcher: Actor, steward: Actor, reviewer: Actor, consumer: Actor, admin: Actor
) -> None:
    made = apply(session, researcher)
    yes = Decision(approve=True)
    for wrong in (researcher, consumer, reviewer):  # the applicant, another department, the platform too early
        with pytest.raises((Forbidden, NotFound)):
            applications.decide_as_source(session, wrong, application_id=made.id, decision=yes)
    with pytest.raises(IllegalTransition):
        applications.decide_as_platform(session, reviewer, application_id=made.id, decision=yes, today=TODAY)
    applications.decide_as_source(
        session, steward, application_id=made.id, decision=Decision(approve=True, reason="用途合理")
    )
    assert made.state == "pending_platform"
    with pytest.raises(Forbidden):
        applications.decide_as_platform(session, steward, application_id=made.id, decision=yes, today=TODAY)
    with pytest.raises(BadApplication):
        applications.decide_as_platform(
            session, admin, application_id=made.id, decision=Decision(approve=False), today=TODAY
        )
    applications.decide_as_platform(session, admin, application_id=made.id, decision=yes, today=TODAY)
    assert made.state == "approved"
    target = f"open_application:{made.id}"
    assert kinds(session, target) == [
        "opendata.applied",
        "opendata.application_decided",
        "opendata.application_decided",
    ]


def test_who_sees_an_application(
    session: Session, enterprise: Actor, researcher: Actor, steward: Actor, consumer: Actor, auditor: Actor
) -> None:
    made = apply(session, enterprise)
    for actor in (enterprise, steward, auditor):
        assert applications.get_application(session, actor, made.id).id == made.id
    for actor in (researcher, consumer):
        with pytest.raises(NotFound):
            applications.get_application(session, actor, made.id)
    assert applications.list_applications(session, researcher, today=TODAY) == []


def test_a_refusal_ends_the_application_with_its_reason(session: Session, enterprise: Actor, steward: Actor) -> None:
    made = apply(session, enterprise)
    with pytest.raises(BadApplication):
        applications.decide_as_source(session, steward, application_id=made.id, decision=Decision(approve=False))
    applications.decide_as_source(
        session, steward, application_id=made.id, decision=Decision(approve=False, reason="用途与开放条件不符")
    )
    assert (made.state, made.source_reason) == ("refused", "用途与开放条件不符")
    assert apply(session, enterprise).state == "pending_source"  # a refused application may be made again


def test_who_may_apply_and_for_what(session: Session, enterprise: Actor, steward: Actor) -> None:
    citizen = actor_named(session, "citizen")  # Role.public, but no enterprise or researcher profile
    with pytest.raises(ProfileNeeded):
        apply(session, citizen)
    with pytest.raises(Forbidden):
        apply(session, steward)
    with pytest.raises(BadApplication):
        apply(session, enterprise, commitment=False)
    with pytest.raises(BadApplication):
        apply(session, enterprise, resource_code=OPEN)
    apply(session, enterprise)
    with pytest.raises(BadApplication):  # one pending application per resource
        apply(session, enterprise)


# ---- registration -----------------------------------------------------------------------------------


def test_registration_checks_the_credit_code_and_the_institution(session: Session) -> None:
    with pytest.raises(InvalidCode):
        register(session, "badcode", uscc="91330100MA2KD8GH9T")
    with pytest.raises(BadRegistration):
        register(session, "nocode", uscc="")
    with pytest.raises(BadRegistration):
        register(session, "noinst", kind="researcher", organisation=" ")
    actor = register(session, "shuzhi")
    assert [r.value for r in actor.roles] == ["public"] and actor.department_id is None
    profile = accounts.get_profile(session, actor.user_id)
    assert profile is not None and (profile.kind, profile.uscc) == ("enterprise", "91330100MA2KD8GH9G")
    with pytest.raises(UsernameTaken):
        register(session, "ShuZhi")
    assert kinds(session, f"user:{actor.user_id}") == ["identity.user_created", "opendata.registered"]


# ---- ratings, comments, data requests -----------------------------------------------------------------


def test_one_rating_per_user_and_it_can_change(
    session: Session, enterprise: Actor, researcher: Actor, consumer: Actor
) -> None:
    resource = service.get_open_resource(session, PUBLIC, OPEN)
    feedback.rate(session, enterprise, code=OPEN, stars=5)
    feedback.rate(session, enterprise, code=OPEN, stars=3)
    assert service.rating_of(session, resource.id) == (3.0, 1)
    feedback.rate(session, researcher, code=OPEN, stars=4)
    assert service.rating_of(session, resource.id) == (3.5, 2)
    assert feedback.my_rating(session, enterprise, resource.id) == 3
    with pytest.raises(BadFeedback):
        feedback.rate(session, enterprise, code=OPEN, stars=6)
    with pytest.raises(BadFeedback):  # the anonymous public signs in first
        feedback.rate(session, PUBLIC, code=OPEN, stars=4)
    with pytest.raises(Forbidden):
        feedback.rate(session, consumer, code=OPEN, stars=4)
    with pytest.raises(NotFound):
        feedback.rate(session, enterprise, code=PROHIBITED, stars=4)


def test_comments_are_plain_text_and_moderators_may_hide_them(
    session: Session, enterprise: Actor, reviewer: Actor, steward: Actor
) -> None:
    comment = feedback.add_comment(session, enterprise, code=RESTRICTED, body="  数据很有用，希望按月更新。 ")
    assert comment.body == "数据很有用，希望按月更新。"
    for bad in ("", "字" * 501, "a\x00b"):
        with pytest.raises(BadFeedback):
            feedback.add_comment(session, enterprise, code=OPEN, body=bad)
    assert [c.id for c in feedback.list_comments(session, PUBLIC, code=RESTRICTED)] == [comment.id]
    with pytest.raises(Forbidden):
        feedback.hide_comment(session, steward, comment_id=comment.id, reason="广告")
    feedback.hide_comment(session, reviewer, comment_id=comment.id, reason="含广告信息")
    assert feedback.list_comments(session, PUBLIC, code=RESTRICTED) == []
    assert feedback.list_comments(session, reviewer, code=RESTRICTED) == [comment]
    assert accounts.signature(session, comment.user_id) == "王经理（杭州数智科技有限公司）"


def test_data_requests_are_answered_in_public(
    session: Session, researcher: Actor, reviewer: Actor, steward: Actor
) -> None:
    asked = DataRequestCreate(title="公交站点客流数据", description="用于研究城市公共交通可达性，按站点按日汇总即可。")
    made = feedback.request_data(session, researcher, asked)
    assert [r.id for r in feedback.list_data_requests(session, PUBLIC)] == [made.id]
    with pytest.raises(Forbidden):
        feedback.answer_data_request(
            session, steward, request_id=made.id, answer=DataRequestAnswer(accept=True, reason="同意")
        )
    with pytest.raises(NotFound):  # a prohibited resource cannot answer it either
        feedback.answer_data_request(
            session,
            reviewer,
            request_id=made.id,
            answer=DataRequestAnswer(accept=True, reason="已开放", resource_code=PROHIBITED),
        )
    answer = DataRequestAnswer(accept=True, reason="已协调数源部门开放", resource_code=OPEN)
    feedback.answer_data_request(session, reviewer, request_id=made.id, answer=answer)
    assert (made.state, made.answer, made.resource_code) == ("accepted", "已协调数源部门开放", OPEN)
    assert accounts.organisation_of(session, made.user_id) == "科研人员 · 浙江大学公共管理学院"
    with pytest.raises(IllegalTransition):
        feedback.answer_data_request(
            session, reviewer, request_id=made.id, answer=DataRequestAnswer(accept=False, reason="重复")
        )
