"""Sharing through the service: the request's two approvals, the grant, masks, the data API, audit."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.audit import AuditRecord
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import Forbidden, IllegalTransition, NotFound
from digigov.datastore import versions
from digigov.sharing import data, service
from digigov.sharing.errors import (
    BadShareRequest,
    CredentialRejected,
    GrantClosed,
    MaskedField,
    NotGranted,
    QuotaExceeded,
)
from digigov.sharing.models import Grant, GrantCall
from digigov.sharing.schemas import Decision, ShareRequestCreate
from tests.conftest import actor_named
from tests.sharing.conftest import CODE, PERSONS, persons_csv, publish_persons

TODAY = date(2026, 3, 2)
ID, NAME, PHONE, BORN = "公民身份号码", "姓名", "手机号码", "出生日期"
FIRST = PERSONS.slice(0, 1).to_pylist()[0]
CALLER = data.Caller("chenjing", "RSJ-2026-001")


def ask(**change: object) -> ShareRequestCreate:
    body: dict[str, object] = {
        "resource_code": CODE,
        "fields": [ID, NAME, PHONE, BORN],
        "access": "lookup",
        "key_field": ID,
        "purpose": "核对社保待遇申领人的身份信息",
        "legal_basis": "《社会保险法》第七十四条",
        "starts_on": TODAY,
        "days": 365,
    }
    return ShareRequestCreate.model_validate(body | change)


def approved(session: Session, consumer: Actor, steward: Actor, admin: Actor, **change: object) -> Grant:
    request = service.request_share(session, consumer, ask(**change), today=TODAY)
    service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=True))
    service.decide_as_platform(session, admin, request_id=request.id, decision=Decision(approve=True))
    grant = service.grant_of(session, request)
    assert grant is not None
    return grant


def provisioned(session: Session, consumer: Actor, steward: Actor, admin: Actor, **change: object) -> Grant:
    grant = approved(session, consumer, steward, admin, **change)
    service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    return grant


@pytest.mark.usefixtures("persons")
def test_a_conditional_request_needs_the_source_then_the_platform(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, reviewer: Actor
) -> None:
    request = service.request_share(session, consumer, ask(), today=TODAY)
    assert (request.state, request.clear_fields, request.ends_on) == ("pending_source", [ID], date(2027, 3, 1))
    with pytest.raises(Forbidden):  # the consumer cannot approve its own request
        service.decide_as_source(session, consumer, request_id=request.id, decision=Decision(approve=True))
    with pytest.raises(IllegalTransition):  # the platform comes second
        service.decide_as_platform(session, reviewer, request_id=request.id, decision=Decision(approve=True))
    service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=True, reason="同意"))
    assert request.state == "pending_platform" and service.grant_of(session, request) is None
    service.decide_as_platform(session, reviewer, request_id=request.id, decision=Decision(approve=True))
    grant = service.grant_of(session, request)
    assert grant is not None and (request.state, grant.state) == ("approved", "approved")
    # masks follow the classification of the version: the key in clear, the rest masked by kind
    assert grant.masks == {ID: "clear", NAME: "name", PHONE: "phone", BORN: "date_year"}
    kinds = [r.kind for r in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))][-4:]
    assert kinds == ["sharing.requested", "sharing.decided", "sharing.decided", "sharing.grant_made"]


@pytest.mark.usefixtures("persons")
def test_a_refusal_needs_a_reason_and_ends_the_request(
    session: Session, consumer: Actor, steward: Actor, admin: Actor
) -> None:
    request = service.request_share(session, consumer, ask(), today=TODAY)
    with pytest.raises(BadShareRequest):
        service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=False))
    service.decide_as_source(
        session, steward, request_id=request.id, decision=Decision(approve=False, reason="用途与共享条件不符")
    )
    assert (request.state, request.refusal) == ("refused", "用途与共享条件不符")
    with pytest.raises(IllegalTransition):
        service.decide_as_platform(session, admin, request_id=request.id, decision=Decision(approve=True))


def test_unconditional_is_granted_at_once_and_none_is_refused_with_its_basis(
    session: Session, consumer: Actor, steward: Actor, reviewer: Actor, settings: Settings
) -> None:
    publish_persons(session, steward, reviewer, settings.home, code="rk-open", share_type="unconditional")
    publish_persons(session, steward, reviewer, settings.home, code="rk-none", share_type="none")
    at_once = service.request_share(session, consumer, ask(resource_code="rk-open"), today=TODAY)
    assert at_once.state == "approved" and service.grant_of(session, at_once) is not None
    refused = service.request_share(session, consumer, ask(resource_code="rk-none"), today=TODAY)
    assert (refused.state, refused.refusal) == ("refused", "《中华人民共和国个人信息保护法》第十三条")
    assert service.grant_of(session, refused) is None


@pytest.mark.usefixtures("persons")
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"fields": ["不存在的字段"], "key_field": None, "access": "query"}, "没有数据项"),
        ({"clear_fields": [PHONE], "fields": [ID, NAME]}, "须在申请的数据项之中"),
        ({"key_field": None}, "查询键"),
        ({"resource_code": "no-such"}, "不存在"),
    ],
)
def test_bad_requests_are_refused_with_what_is_wrong(
    session: Session, consumer: Actor, change: dict[str, object], why: str
) -> None:
    with pytest.raises((BadShareRequest, NotFound)) as refused:
        service.request_share(session, consumer, ask(**change), today=TODAY)
    assert why in refused.value.message_zh


@pytest.mark.usefixtures("persons")
def test_a_department_does_not_request_its_own_data(session: Session, steward: Actor) -> None:
    with pytest.raises(BadShareRequest):
        service.request_share(session, steward, ask(), today=TODAY)


@pytest.mark.usefixtures("persons")
def test_lookup_returns_masked_rows_and_records_the_call(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = approved(session, consumer, steward, admin)
    _, secret = service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    opened = data.open_grant(session, secret, today=TODAY)
    served = data.lookup(session, settings.home, opened, key=f" {FIRST[ID]} ", caller=CALLER, now=utcnow())
    (row,) = served.rows
    name, phone = FIRST[NAME], FIRST[PHONE]
    assert row[ID] == FIRST[ID]
    assert row[NAME] == name[0] + "*" * (len(name) - 1)
    assert row[PHONE] == phone[:3] + "****" + phone[-4:]
    assert row[BORN] == str(FIRST[BORN].year)
    nobody = data.lookup(session, settings.home, opened, key="110101190001010000", caller=CALLER, now=utcnow())
    assert nobody.rows == []
    event = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
    assert event.kind == "sharing.data_called" and event.target == f"share_grant:{grant.id}"
    detail = json.loads(event.detail)
    assert (detail["caller"], detail["issue"], detail["rows"]) == ("chenjing", "RSJ-2026-001", 0)
    assert len(detail["request_hash"]) == 64 and len(detail["response_hash"]) == 64
    assert FIRST[ID] not in event.detail  # hashes, never values, in the log
    assert audit.verify_chain(session).ok
    usage = service.grant_usage(session, consumer, grant_id=grant.id, today=TODAY)
    assert (usage.calls, usage.rows, usage.by_kind) == (2, 1, {"lookup": 2})


@pytest.mark.usefixtures("persons")
def test_a_masked_field_cannot_be_filtered_on(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = provisioned(session, consumer, steward, admin, access="query", key_field=None)
    assert grant.masks[ID] == "id_number"
    with pytest.raises(MaskedField):  # refused, not answered: an answer would say whether the number is there
        data.query(
            session, settings.home, grant, filters={ID: FIRST[ID]}, after=None, limit=10, caller=CALLER, now=utcnow()
        )
    page = data.query(session, settings.home, grant, filters={}, after=None, limit=150, caller=CALLER, now=utcnow())
    assert len(page.rows) == 150 and page.next == 150  # the last `_id` seen
    assert page.rows[0][ID] == FIRST[ID][:6] + "********" + FIRST[ID][-4:]
    rest = data.query(
        session, settings.home, grant, filters={}, after=page.next, limit=150, caller=CALLER, now=utcnow()
    )
    assert (len(rest.rows), rest.next, rest.rows[0]["_id"]) == (50, None, 151)


@pytest.mark.usefixtures("persons")
def test_verification_answers_yes_or_no_only(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = provisioned(session, consumer, steward, admin, access="verify", key_field=None, fields=[ID, NAME])
    assert grant.masks == {ID: "id_number", NAME: "name"}
    right = data.verify(
        session, settings.home, grant, values={ID: FIRST[ID], NAME: FIRST[NAME]}, caller=CALLER, now=utcnow()
    )
    wrong = data.verify(
        session, settings.home, grant, values={ID: FIRST[ID], NAME: "某某某"}, caller=CALLER, now=utcnow()
    )
    assert (right.match, wrong.match, right.rows, wrong.rows) == (True, False, [], [])
    with pytest.raises(NotGranted):  # only granted fields
        data.verify(session, settings.home, grant, values={PHONE: FIRST[PHONE]}, caller=CALLER, now=utcnow())
    with pytest.raises(NotGranted):  # a verification grant returns no rows
        data.lookup(session, settings.home, grant, key=FIRST[ID], caller=CALLER, now=utcnow())


@pytest.mark.usefixtures("persons")
def test_revocation_and_expiry_take_effect_on_the_next_call(
    session: Session, consumer: Actor, steward: Actor, admin: Actor
) -> None:
    grant = approved(session, consumer, steward, admin, days=30)
    with pytest.raises(Forbidden):  # the consumer cannot revoke; the source department and the platform can
        service.revoke_grant(session, consumer, grant_id=grant.id, reason="x")
    _, secret = service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    assert data.open_grant(session, secret, today=TODAY + timedelta(days=29)).id == grant.id
    with pytest.raises(GrantClosed) as expired:
        data.open_grant(session, secret, today=TODAY + timedelta(days=30))
    assert "已到期" in expired.value.message_zh
    with pytest.raises(GrantClosed):
        data.open_grant(session, secret, today=TODAY - timedelta(days=1))  # not started yet
    _, rotated = service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    with pytest.raises(CredentialRejected):  # the old credential died with the rotation
        data.open_grant(session, secret, today=TODAY)
    service.revoke_grant(session, steward, grant_id=grant.id, reason="申请单位职能调整")
    with pytest.raises(GrantClosed) as revoked:
        data.open_grant(session, rotated, today=TODAY)
    assert "申请单位职能调整" in revoked.value.message_zh
    with pytest.raises(IllegalTransition):
        service.revoke_grant(session, admin, grant_id=grant.id, reason="again")


@pytest.mark.usefixtures("persons")
def test_a_reviewer_revokes_any_grant_with_a_reason_and_it_is_audited(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, reviewer: Actor, auditor: Actor
) -> None:
    grant = provisioned(session, consumer, steward, admin)
    with pytest.raises(BadShareRequest) as blank:
        service.revoke_grant(session, reviewer, grant_id=grant.id, reason="  ")
    assert blank.value.message_zh == "撤销授权须说明理由。"
    with pytest.raises(Forbidden):  # the auditor watches; it does not act
        service.revoke_grant(session, auditor, grant_id=grant.id, reason="审计发现超范围调用")
    service.revoke_grant(session, reviewer, grant_id=grant.id, reason=" 审计发现超范围调用 ")
    assert (grant.state, grant.revoked_by, grant.revoke_reason) == ("revoked", "reviewer", "审计发现超范围调用")
    event = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
    assert (event.kind, event.actor_name, event.target) == (
        "sharing.grant_ended",
        "reviewer",
        f"share_grant:{grant.id}",
    )
    assert json.loads(event.detail)["reason"] == "审计发现超范围调用" and audit.verify_chain(session).ok


@pytest.mark.usefixtures("persons")
def test_the_daily_quota_and_the_rate_limit_are_counted(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, reviewer: Actor, settings: Settings
) -> None:
    request = service.request_share(session, consumer, ask(), today=TODAY)
    service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=True))
    limits = Decision(approve=True, daily_quota=2, rate_per_minute=100)
    service.decide_as_platform(session, reviewer, request_id=request.id, decision=limits)
    grant = service.grant_of(session, request)
    assert grant is not None
    service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    # 15:59:05 China time (07:59:05 UTC); the counters' minutes and days are China's
    now = datetime.combine(utcnow().date(), time(7, 59, 5))

    def call(at: datetime) -> None:
        data.lookup(session, settings.home, grant, key=FIRST[ID], caller=CALLER, now=at)

    for _ in range(2):
        call(now)
    with pytest.raises(QuotaExceeded) as used_up:
        call(now)
    assert used_up.value.status == 429 and "上限 2 次" in used_up.value.message_zh
    grant.daily_quota, grant.rate_per_minute = 100, 2
    with pytest.raises(QuotaExceeded) as too_fast:
        call(now + timedelta(seconds=50))  # the same minute
    assert "每分钟最多调用 2 次" in too_fast.value.message_zh
    call(now + timedelta(seconds=60))  # the next minute starts again from zero
    call(now + timedelta(seconds=61))
    with pytest.raises(QuotaExceeded):
        call(now + timedelta(seconds=62))
    grant.daily_quota, grant.rate_per_minute = 4, 100
    with pytest.raises(QuotaExceeded):  # 4 calls today, refused ones not counted
        call(now + timedelta(minutes=5))
    call(now + timedelta(hours=16, minutes=1))  # 00:00 China time the next day: a new day's quota
    recorded = session.scalars(select(GrantCall).where(GrantCall.grant_id == grant.id)).all()
    assert len(recorded) == 5, "refused calls are neither answered nor recorded"


@pytest.mark.usefixtures("persons")
def test_other_departments_see_nothing_of_a_request(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, auditor: Actor
) -> None:
    request = service.request_share(session, consumer, ask(), today=TODAY)
    below = actor_named(session, "inspector")  # 西湖区市场监督管理局: under the source, on neither side
    policy = actor_named(session, "policy")  # 浙江省人民政府办公厅: neither side
    with pytest.raises(Forbidden):
        service.get_request(session, policy, request.id)  # the policy officer holds no sharing role
    assert service.get_request(session, auditor, request.id).id == request.id  # platform roles see all
    assert service.get_request(session, steward, request.id).id == request.id  # the source side sees it
    with pytest.raises(NotFound):  # the same answer as for a request that does not exist
        service.get_request(session, below, request.id)
    with pytest.raises(NotFound):
        service.get_grant(session, below, 1)
    assert [r.id for r in service.list_requests(session, consumer)] == [request.id]


@pytest.mark.usefixtures("persons")
def test_a_later_version_with_new_sensitive_values_is_masked_from_then_on(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = provisioned(session, consumer, steward, admin, access="query", key_field=None, fields=["就业状态", ID])
    assert grant.masks["就业状态"] == "clear"  # a status, nothing personal
    swapped = PERSONS.rename_columns(
        ["就业状态" if n == ID else (ID if n == "就业状态" else n) for n in PERSONS.schema.names]
    )
    upload = io.BytesIO(persons_csv(swapped))
    versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code=CODE,
        upload=upload,
        filename="v2.csv",
        allow_schema_change=True,
    )
    page = data.query(session, settings.home, grant, filters={}, after=None, limit=1, caller=CALLER, now=utcnow())
    assert page.version == 2 and page.masks["就业状态"] == "id_number"
    assert page.rows[0]["就业状态"] == FIRST[ID][:6] + "********" + FIRST[ID][-4:]
