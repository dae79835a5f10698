"""Problems keyed on a masked field: refused to staff who see it masked; work items never carry it in clear.

The resource of `test_rows_masked` (杭州市市场监督管理局's residents, ID numbers and names masked for
other staff). Naming a row by a masked ID number would tell the consumer whether a resident is in
the data, so it is refused like a filter on the field; the owner raises as before, and the work
item it opens (subject, detail, the verifier's notes, the audit log) shows the ID number only masked
to the auditor and anyone else who sees the work-item pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Invalid
from digigov.core.workflow import WorkItem
from digigov.datastore import MaskedField, versions
from digigov.governance import problems
from digigov.governance.models import ProblemReport
from tests.conftest import login
from tests.governance.test_rows_masked import CODE, CSV_TEXT, ID, NAME, masked_id, people, resident_id

__all__ = ["people"]  # the fixture, imported for its use here

Headers = Callable[..., dict[str, str]]
MISSING = resident_id(999)  # a valid ID number no row holds
assert MISSING not in CSV_TEXT


def counts(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0 for model in (ProblemReport, WorkItem, AuditRecord)
    )


def raise_keyed(session: Session, actor: Actor, settings: Settings, key: str, **more: str) -> ProblemReport:
    return problems.raise_problem(
        session,
        actor,
        home=settings.home,
        resource_code=CODE,
        field="姓名",
        key_field="公民身份号码",
        key_value=key,
        description=more.pop("description", "姓名登记有误"),
        **more,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("key", [ID, MISSING])
def test_a_non_owner_keyed_on_a_masked_id_is_refused_whether_or_not_it_exists(
    session: Session, consumer: Actor, settings: Settings, people: versions.Version, key: str
) -> None:
    before = counts(session)
    for more in ({}, {"observed": NAME}, {"expected": "张三"}):
        with pytest.raises(MaskedField) as refused:
            raise_keyed(session, consumer, settings, key, **more)
        assert refused.value.code == "masked_field" and refused.value.status == 403
        assert "公民身份号码" in refused.value.message and "脱敏" in refused.value.message_zh
        assert key not in refused.value.message + refused.value.message_zh
    assert counts(session) == before


def test_the_api_refuses_the_same_for_an_existing_and_a_missing_key(
    client: TestClient, token_for: Headers, session: Session, people: versions.Version
) -> None:
    headers = token_for("consumer")
    before = counts(session)
    replies = []
    for key in (ID, MISSING):
        body = {
            "resource_code": CODE,
            "field": "姓名",
            "key_field": "公民身份号码",
            "key_value": key,
            "description": "姓名登记有误",
        }
        reply = client.post("/api/v1/governance/problems", json=body, headers=headers)
        assert reply.status_code == 403, reply.text
        assert reply.json()["code"] == "masked_field" and ID not in reply.text
        replies.append(reply.json())
    assert replies[0] == replies[1]  # nothing tells the two apart
    assert counts(session)[:2] == before[:2]  # no problem, no work item (the token is audited, not the raise)
    events = session.scalars(select(AuditRecord.kind).order_by(AuditRecord.seq.desc()).limit(5)).all()
    assert not any("problem" in kind or "work_item" in kind for kind in events)


def test_the_owner_still_raises_keyed_on_the_id_and_a_missing_key_is_told(
    session: Session, steward: Actor, settings: Settings, people: versions.Version
) -> None:
    problem = raise_keyed(session, steward, settings, ID, expected="张三")
    assert problem.key_value == ID and problem.observed == NAME
    with pytest.raises(Invalid, match="has no row"):
        raise_keyed(session, steward, settings, MISSING)


def test_work_items_show_the_id_only_masked_to_the_auditor_and_on_every_page(
    client: TestClient,
    token_for: Headers,
    session: Session,
    steward: Actor,
    settings: Settings,
    people: versions.Version,
) -> None:
    problem = raise_keyed(
        session, steward, settings, ID, expected="张三", description=f"身份证 {ID} 的姓名应为“张三”，现为“{NAME}”"
    )
    item = session.get_one(WorkItem, problem.item_id)
    assert ID not in item.subject and f"公民身份号码={masked_id(ID)}（第 7 行）" in item.subject
    assert ID not in item.detail and NAME not in item.detail and masked_id(ID) in item.detail
    unchanged = CSV_TEXT + f"{resident_id(99)},王新,上城区,99\n"
    versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code=CODE,
        upload=io.BytesIO(unchanged.encode()),
        filename="2.csv",
    )
    answered = problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert not answered.verified and ID in answered.verification["reason_zh"]  # the problem keeps the facts
    for who in ("auditor", "steward"):
        headers = token_for(who)
        for url in (
            "/api/v1/work-items",
            f"/api/v1/work-items/{item.id}",
            f"/api/v1/work-items/{item.id}/steps",
            "/api/v1/audit/events?limit=1000",
        ):
            reply = client.get(url, headers=headers)
            assert reply.status_code in (200, 403), (url, reply.text)
            assert ID not in reply.text and NAME not in reply.text, (who, url)
    seen = client.get(f"/api/v1/work-items/{item.id}", headers=token_for("auditor"))
    assert seen.status_code == 200 and masked_id(ID) in seen.json()["subject"]
    login(client, "auditor")
    for url in ("/work-items", f"/work-items/{item.id}", "/audit"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert ID not in page.text and NAME not in page.text, url
    assert masked_id(ID) in client.get(f"/work-items/{item.id}").text


def test_a_rejection_reason_is_kept_masked_on_the_work_item(
    client: TestClient,
    token_for: Headers,
    session: Session,
    steward: Actor,
    settings: Settings,
    people: versions.Version,
) -> None:
    problem = raise_keyed(session, steward, settings, ID, expected="张三")
    problems.answer_rejected(session, steward, problem_id=problem.id, reason=f"登记为“{NAME}”无误，{ID} 已核实")
    assert NAME in problem.answer_reason  # the problem keeps it
    steps = client.get(f"/api/v1/work-items/{problem.item_id}/steps", headers=token_for("auditor"))
    assert steps.status_code == 200 and ID not in steps.text and NAME not in steps.text
    assert masked_id(ID) in steps.text
