"""Closed-loop work items: the transition table, who may move what, deadlines, audit, and the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core import audit, workflow
from digigov.core.audit import AuditHead, AuditRecord
from digigov.core.auth import SYSTEM, Actor, Role
from digigov.core.errors import Forbidden, IllegalTransition, Invalid, NotFound
from digigov.core.workflow import MOVES, WorkItem, WorkItemStep, WorkState
from digigov.identity import service as identity
from digigov.identity.models import Department
from tests.conftest import DEMO_PASSWORD, actor_named
from tests.helpers import last_event

S = WorkState
NOTE = "材料不全，请补正"

# The shortest legal path from a new item to each state.
PATHS: dict[WorkState, list[str]] = {
    S.open: [],
    S.accepted: ["accept"],
    S.returned: ["return"],
    S.resolved: ["accept", "resolve"],
    S.closed: ["accept", "resolve", "verify"],
    S.reopened: ["accept", "resolve", "verify", "reopen"],
}
LEGAL = [(state, action) for action, move in MOVES.items() for state in sorted(move.sources)]
ILLEGAL = [(state, action) for state in WorkState for action in MOVES if state not in MOVES[action].sources]


def dept(session: Session, code: str) -> int:
    return session.scalars(select(Department.id).where(Department.code == code)).one()


def open_for(session: Session, actor: Actor, code: str, *, kind: str = "test", **kwargs: Any) -> WorkItem:
    kwargs.setdefault("due_in_working_days", 5)
    return workflow.open_item(
        session, actor, kind=kind, subject="核查企业登记信息", department_id=dept(session, code), **kwargs
    )


def drive(session: Session, actor: Actor, item: WorkItem, state: WorkState) -> WorkItem:
    for action in PATHS[state]:
        workflow.move_item(session, actor, item_id=item.id, action=action, note=NOTE)
    assert item.state == state
    return item


def snapshot(session: Session, item: WorkItem) -> tuple[Any, ...]:
    """What a refused move must leave alone."""
    session.refresh(item)
    steps = session.scalar(select(func.count()).select_from(WorkItemStep).where(WorkItemStep.item_id == item.id))
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return item.state, item.updated_at, item.closed_at, steps, tuple(head)


@pytest.fixture
def inspector(session: Session) -> Actor:
    return actor_named(session, "inspector")


@pytest.fixture
def rsj_steward(session: Session) -> Actor:
    """A data steward of 杭州市人社局, a department unrelated to 市场监管."""
    identity.create_user(
        session,
        SYSTEM,
        username="rsj_steward",
        display_name="人社局数据管理员",
        password=DEMO_PASSWORD,
        department_id=dept(session, "HZ-RSJ"),
        roles=[Role.data_steward],
    )
    return actor_named(session, "rsj_steward")


# ---- the transition table ---------------------------------------------------------------------


def test_paths_reach_every_state_and_the_table_is_covered() -> None:
    assert set(PATHS) == set(WorkState)
    assert {action for _, action in LEGAL} == set(MOVES)
    assert len(LEGAL) + len(ILLEGAL) == len(WorkState) * len(MOVES)


@pytest.mark.parametrize(("state", "action"), LEGAL)
def test_every_legal_move(session: Session, admin: Actor, state: WorkState, action: str) -> None:
    item = drive(session, admin, open_for(session, admin, "HZ-SJJ"), state)
    events = audit.event_count(session)
    workflow.move_item(session, admin, item_id=item.id, action=action, note=NOTE)
    assert item.state == MOVES[action].target
    last = workflow.item_steps(session, admin, item.id)[-1]
    assert (last.action, last.from_state, last.to_state, last.actor_name) == (action, state, item.state, "admin")
    assert audit.event_count(session) == events + 1
    assert (item.closed_at is not None) == (item.state == S.closed)


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_move_is_refused_and_changes_nothing(
    session: Session, admin: Actor, state: WorkState, action: str
) -> None:
    item = drive(session, admin, open_for(session, admin, "HZ-SJJ"), state)
    before = snapshot(session, item)
    with pytest.raises(IllegalTransition) as caught:
        workflow.move_item(session, admin, item_id=item.id, action=action, note=NOTE)
    assert f"Cannot {action} a work item that is {state.value}" in caught.value.message
    assert state.label in caught.value.message_zh
    assert snapshot(session, item) == before


def test_the_whole_loop_with_a_rejection_and_a_reopening(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    for action in ["accept", "resolve", "reject", "resolve", "verify", "reopen", "resolve", "verify"]:
        workflow.move_item(session, admin, item_id=item.id, action=action, note=NOTE)
    assert item.state == S.closed
    states = [(s.from_state, s.to_state) for s in workflow.item_steps(session, admin, item.id)]
    assert states == [
        (None, "open"),
        ("open", "accepted"),
        ("accepted", "resolved"),
        ("resolved", "accepted"),
        ("accepted", "resolved"),
        ("resolved", "closed"),
        ("closed", "reopened"),
        ("reopened", "resolved"),
        ("resolved", "closed"),
    ]


def test_returned_item_is_reassigned_and_opens_again(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    workflow.move_item(session, admin, item_id=item.id, action="return", note="不属于本部门职责")
    workflow.move_item(session, admin, item_id=item.id, action="reassign")
    assert item.state == S.open
    workflow.move_item(session, admin, item_id=item.id, action="accept")
    assert item.state == S.accepted


def test_unknown_action_is_invalid_and_changes_nothing(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    before = snapshot(session, item)
    with pytest.raises(Invalid, match="Unknown action 'close'"):
        workflow.move_item(session, admin, item_id=item.id, action="close")
    assert snapshot(session, item) == before


@pytest.mark.parametrize(("state", "action"), [(S.open, "return"), (S.resolved, "reject")])
@pytest.mark.parametrize("note", ["", "   "])
def test_return_and_reject_need_a_reason(
    session: Session, admin: Actor, state: WorkState, action: str, note: str
) -> None:
    item = drive(session, admin, open_for(session, admin, "HZ-SJJ"), state)
    before = snapshot(session, item)
    with pytest.raises(Invalid, match="needs a reason"):
        workflow.move_item(session, admin, item_id=item.id, action=action, note=note)
    assert snapshot(session, item) == before


def test_unknown_item_is_not_found(session: Session, admin: Actor) -> None:
    with pytest.raises(NotFound):
        workflow.get_item(session, admin, 2_000_000_000)
    with pytest.raises(NotFound):
        workflow.move_item(session, admin, item_id=2_000_000_000, action="accept")


# ---- opening ------------------------------------------------------------------------------------


def test_opening_records_the_opener_side_and_an_open_step(session: Session, steward: Actor) -> None:
    item = open_for(session, steward, "HZ-RSJ", detail="详见附件")
    assert (item.state, item.opened_by, item.opener_department_id) == ("open", "steward", steward.department_id)
    (step,) = workflow.item_steps(session, steward, item.id)
    assert (step.action, step.from_state, step.to_state, step.note, step.seconds_in_state) == (
        "open",
        None,
        "open",
        "详见附件",
        0,
    )
    event = last_event(session)
    assert (event.kind, event.target) == ("workflow.opened", f"work_item:{item.id}")


@pytest.mark.parametrize(("kind", "subject"), [("", "事项"), ("  ", "事项"), ("问题数据", " ")])
def test_opening_needs_kind_and_subject(session: Session, admin: Actor, kind: str, subject: str) -> None:
    with pytest.raises(Invalid, match="needs a kind and a subject"):
        workflow.open_item(
            session, admin, kind=kind, subject=subject, department_id=dept(session, "HZ-SJJ"), due_in_working_days=1
        )


def test_opening_for_an_unknown_department_is_invalid(session: Session, admin: Actor) -> None:
    events = audit.event_count(session)
    with pytest.raises(Invalid, match="Department 999999 does not exist"):
        workflow.open_item(session, admin, kind="k", subject="s", department_id=999999, due_in_working_days=1)
    assert audit.event_count(session) == events


def test_consumer_and_citizen_cannot_open(session: Session) -> None:
    for name in ("consumer", "citizen"):
        with pytest.raises(Forbidden):
            open_for(session, actor_named(session, name), "HZ-SJJ")


# ---- due dates ----------------------------------------------------------------------------------


def test_due_date_counts_working_days_across_national_day(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ", due_in_working_days=10, today=date(2026, 9, 28))
    assert (item.due_on, item.due_provisional) == (date(2026, 10, 16), False)
    assert '"due_on":"2026-10-16"' in last_event(session).detail


def test_due_date_in_an_unloaded_year_is_provisional(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ", due_in_working_days=10, today=date(2026, 12, 28))
    assert (item.due_on, item.due_provisional) == (date(2027, 1, 11), True)


def test_due_in_out_of_range_is_invalid(session: Session, admin: Actor) -> None:
    with pytest.raises(Invalid, match="out of range"):
        open_for(session, admin, "HZ-SJJ", due_in_working_days=-1)


# ---- sides: the assignee handles, the opener verifies ------------------------------------------------


def test_assignee_handles_and_opener_verifies(session: Session, steward: Actor, rsj_steward: Actor) -> None:
    item = open_for(session, steward, "HZ-RSJ")
    with pytest.raises(Forbidden):
        workflow.move_item(session, steward, item_id=item.id, action="accept")
    workflow.move_item(session, rsj_steward, item_id=item.id, action="accept")
    with pytest.raises(Forbidden):
        workflow.move_item(session, steward, item_id=item.id, action="resolve")
    workflow.move_item(session, rsj_steward, item_id=item.id, action="resolve")
    for action in ("verify", "reject"):
        with pytest.raises(Forbidden):
            workflow.move_item(session, rsj_steward, item_id=item.id, action=action, note=NOTE)
    workflow.move_item(session, steward, item_id=item.id, action="verify")
    with pytest.raises(Forbidden):
        workflow.move_item(session, rsj_steward, item_id=item.id, action="reopen")
    workflow.move_item(session, steward, item_id=item.id, action="reopen")
    assert item.state == S.reopened


def test_only_the_opener_reassigns_a_returned_item(session: Session, steward: Actor, rsj_steward: Actor) -> None:
    item = open_for(session, steward, "HZ-RSJ")
    with pytest.raises(Forbidden):
        workflow.move_item(session, steward, item_id=item.id, action="return", note=NOTE)
    workflow.move_item(session, rsj_steward, item_id=item.id, action="return", note=NOTE)
    before = snapshot(session, item)
    with pytest.raises(Forbidden):
        workflow.move_item(session, rsj_steward, item_id=item.id, action="reassign")
    assert snapshot(session, item) == before
    workflow.move_item(session, steward, item_id=item.id, action="reassign")
    assert item.state == S.open


def test_another_department_can_neither_see_nor_move(
    session: Session, steward: Actor, rsj_steward: Actor, inspector: Actor
) -> None:
    item = open_for(session, rsj_steward, "HZ-RSJ")
    before = snapshot(session, item)
    for outsider in (steward, inspector):
        with pytest.raises(Forbidden):
            workflow.get_item(session, outsider, item.id)
        with pytest.raises(Forbidden):
            workflow.move_item(session, outsider, item_id=item.id, action="accept")
        assert item.id not in {i.id for i in workflow.list_items(session, outsider)}
    assert snapshot(session, item) == before


def test_roles_without_workflow_rights_are_refused(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-RSJ")
    consumer = actor_named(session, "consumer")  # of HZ-RSJ, but a data consumer
    with pytest.raises(Forbidden):
        workflow.get_item(session, consumer, item.id)
    with pytest.raises(Forbidden):
        workflow.list_items(session, consumer)


def test_platform_reviewer_and_auditor_see_all_but_do_not_handle(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-XH-SJJ")
    reviewer, auditor = actor_named(session, "reviewer"), actor_named(session, "auditor")
    for actor in (reviewer, auditor):
        assert workflow.get_item(session, actor, item.id) is item
        with pytest.raises(Forbidden):
            workflow.move_item(session, actor, item_id=item.id, action="accept")


def test_platform_reviewer_verifies_items_of_any_department(
    session: Session, steward: Actor, rsj_steward: Actor
) -> None:
    item = drive(session, rsj_steward, open_for(session, steward, "HZ-RSJ"), S.accepted)
    workflow.move_item(session, rsj_steward, item_id=item.id, action="resolve")
    workflow.move_item(session, actor_named(session, "reviewer"), item_id=item.id, action="verify")
    assert item.state == S.closed


# ---- the department tree: `require` allows a department and everything under it --------------------


def test_parent_department_may_handle_a_child_departments_item(
    session: Session, admin: Actor, steward: Actor, inspector: Actor
) -> None:
    # 西湖区市场监管局 is under 杭州市市场监督管理局: the steward's subtree includes it.
    item = open_for(session, admin, "HZ-XH-SJJ")
    assert item.department_id in steward.departments
    workflow.move_item(session, steward, item_id=item.id, action="accept")
    workflow.move_item(session, inspector, item_id=item.id, action="resolve")
    assert item.state == S.resolved


def test_child_department_may_not_handle_the_parents_item(
    session: Session, admin: Actor, steward: Actor, inspector: Actor
) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    assert steward.department_id not in inspector.departments
    before = snapshot(session, item)
    with pytest.raises(Forbidden):
        workflow.get_item(session, inspector, item.id)
    with pytest.raises(Forbidden):
        workflow.move_item(session, inspector, item_id=item.id, action="accept")
    assert snapshot(session, item) == before


def test_parent_department_may_verify_what_its_child_opened(
    session: Session, steward: Actor, inspector: Actor, rsj_steward: Actor
) -> None:
    item = open_for(session, inspector, "HZ-RSJ")
    workflow.move_item(session, rsj_steward, item_id=item.id, action="accept")
    workflow.move_item(session, rsj_steward, item_id=item.id, action="resolve")
    workflow.move_item(session, steward, item_id=item.id, action="verify")
    assert item.state == S.closed


def test_child_department_may_not_verify_what_its_parent_opened(
    session: Session, steward: Actor, inspector: Actor
) -> None:
    item = drive(session, steward, open_for(session, steward, "HZ-XH-SJJ"), S.resolved)
    with pytest.raises(Forbidden):
        workflow.move_item(session, inspector, item_id=item.id, action="verify")
    workflow.move_item(session, steward, item_id=item.id, action="verify")


# ---- listing ------------------------------------------------------------------------------------


def test_list_shows_each_department_its_own_and_its_subtree(
    session: Session, admin: Actor, steward: Actor, inspector: Actor, rsj_steward: Actor
) -> None:
    city = open_for(session, admin, "HZ-SJJ", kind="listing")
    district = open_for(session, admin, "HZ-XH-SJJ", kind="listing")
    opened_by_district = open_for(session, inspector, "HZ-RSJ", kind="listing")

    def ids(actor: Actor) -> set[int]:
        return {i.id for i in workflow.list_items(session, actor, kind="listing")}

    assert ids(admin) == {city.id, district.id, opened_by_district.id}
    assert ids(steward) == {city.id, district.id, opened_by_district.id}
    assert ids(inspector) == {district.id, opened_by_district.id}
    assert ids(rsj_steward) == {opened_by_district.id}


def test_list_filters_by_state_kind_and_department(session: Session, admin: Actor) -> None:
    first = open_for(session, admin, "HZ-SJJ", kind="alert")
    second = drive(session, admin, open_for(session, admin, "HZ-RSJ", kind="alert"), S.accepted)
    open_for(session, admin, "HZ-SJJ", kind="instruction")
    assert [i.id for i in workflow.list_items(session, admin, kind="alert", state=S.open)] == [first.id]
    assert [i.id for i in workflow.list_items(session, admin, kind="alert", state=S.accepted)] == [second.id]
    rsj = dept(session, "HZ-RSJ")
    assert [i.id for i in workflow.list_items(session, admin, kind="alert", department_id=rsj)] == [second.id]


def test_overdue_listing(session: Session, admin: Actor) -> None:
    # Opened Monday 2026-03-02, 5 working days: due Monday 2026-03-09.
    late = open_for(session, admin, "HZ-SJJ", kind="overdue", today=date(2026, 3, 2))
    done = drive(session, admin, open_for(session, admin, "HZ-SJJ", kind="overdue", today=date(2026, 3, 2)), S.closed)
    waiting = drive(
        session, admin, open_for(session, admin, "HZ-SJJ", kind="overdue", today=date(2026, 3, 2)), S.resolved
    )
    later = open_for(session, admin, "HZ-SJJ", kind="overdue", today=date(2026, 3, 20))
    assert late.due_on == date(2026, 3, 9)

    def overdue(on: date) -> set[int]:
        return {i.id for i in workflow.list_items(session, admin, kind="overdue", overdue_on=on)}

    assert overdue(date(2026, 3, 9)) == set()
    assert overdue(date(2026, 3, 10)) == {late.id, waiting.id}
    assert done.id not in overdue(date(2027, 1, 1))
    assert later.id in overdue(date(2027, 1, 1))


# ---- audit and timing ---------------------------------------------------------------------------


def test_every_move_is_audited_with_its_details(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    start = audit.event_count(session)
    for action in PATHS[S.reopened]:
        workflow.move_item(session, admin, item_id=item.id, action=action, note=f"{action} 备注")
    events = session.scalars(select(AuditRecord).where(AuditRecord.seq > start).order_by(AuditRecord.seq)).all()
    assert [e.kind for e in events] == ["workflow.moved"] * 4
    assert {e.target for e in events} == {f"work_item:{item.id}"}
    assert '"action":"verify"' in events[2].detail and '"to_state":"closed"' in events[2].detail
    assert '"note":"verify 备注"' in events[2].detail
    assert audit.verify_chain(session).ok


def test_each_step_records_the_time_spent_in_the_previous_state(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ")
    item.updated_at -= timedelta(hours=3)  # as if the item had waited three hours
    session.flush()
    workflow.move_item(session, admin, item_id=item.id, action="accept")
    step = workflow.item_steps(session, admin, item.id)[-1]
    assert 3 * 3600 <= step.seconds_in_state < 4 * 3600
    assert item.updated_at == step.at


# ---- the HTTP API -------------------------------------------------------------------------------


def new_item(client: TestClient, headers: dict[str, str], department_id: int, **body: Any) -> dict[str, Any]:
    payload = {"kind": "问题数据", "subject": "企业地址缺失", "department_id": department_id, "due_in_working_days": 5}
    response = client.post("/api/v1/work-items", json=payload | body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_api_open_list_move_and_steps(client: TestClient, token_for: Any, session: Session) -> None:
    admin, steward = token_for("admin"), token_for("steward")
    item = new_item(client, admin, dept(session, "HZ-XH-SJJ"), detail="见附件")
    assert (item["state"], item["opened_by"], item["detail"]) == ("open", "admin", "见附件")
    assert isinstance(item["due_provisional"], bool)
    listed = client.get("/api/v1/work-items", params={"state": "open", "kind": "问题数据"}, headers=steward)
    assert item["id"] in [i["id"] for i in listed.json()]
    moved = client.post(f"/api/v1/work-items/{item['id']}/moves", json={"action": "accept"}, headers=steward)
    assert moved.status_code == 200 and moved.json()["state"] == "accepted"
    steps = client.get(f"/api/v1/work-items/{item['id']}/steps", headers=admin).json()
    assert [(s["action"], s["to_state"], s["actor_name"]) for s in steps] == [
        ("open", "open", "admin"),
        ("accept", "accepted", "steward"),
    ]


def test_api_illegal_move_is_409_problem_and_changes_nothing(
    client: TestClient, token_for: Any, session: Session
) -> None:
    admin = token_for("admin")
    item = new_item(client, admin, dept(session, "HZ-SJJ"))
    events = audit.event_count(session)
    response = client.post(f"/api/v1/work-items/{item['id']}/moves", json={"action": "verify"}, headers=admin)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "illegal_transition"
    assert "待受理" in response.json()["detail"]
    assert client.get(f"/api/v1/work-items/{item['id']}", headers=admin).json()["state"] == "open"
    assert len(client.get(f"/api/v1/work-items/{item['id']}/steps", headers=admin).json()) == 1
    assert audit.event_count(session) == events


def test_api_out_of_department_is_403(client: TestClient, token_for: Any, session: Session) -> None:
    admin, inspector = token_for("admin"), token_for("inspector")
    item = new_item(client, admin, dept(session, "HZ-SJJ"))
    assert client.get(f"/api/v1/work-items/{item['id']}", headers=inspector).status_code == 403
    response = client.post(f"/api/v1/work-items/{item['id']}/moves", json={"action": "accept"}, headers=inspector)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert client.get(f"/api/v1/work-items/{item['id']}", headers=admin).json()["state"] == "open"


def test_api_token_scope_narrows_work_item_rights(client: TestClient, token_for: Any, session: Session) -> None:
    item = new_item(client, token_for("admin"), dept(session, "HZ-SJJ"))
    read_only = token_for("steward", scopes=["workflow.read"])
    assert client.get(f"/api/v1/work-items/{item['id']}", headers=read_only).status_code == 200
    response = client.post(f"/api/v1/work-items/{item['id']}/moves", json={"action": "accept"}, headers=read_only)
    assert response.status_code == 403


def test_api_unknown_item_is_404(client: TestClient, token_for: Any) -> None:
    admin = token_for("admin")
    assert client.get("/api/v1/work-items/999999", headers=admin).json()["code"] == "not_found"
    response = client.post("/api/v1/work-items/999999/moves", json={"action": "accept"}, headers=admin)
    assert response.status_code == 404
    assert client.get("/api/v1/work-items/999999/steps", headers=admin).status_code == 404


def test_api_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/work-items").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "缺少类型", "department_id": 1, "due_in_working_days": 5},
        {"kind": "k", "subject": "", "department_id": 1, "due_in_working_days": 5},
        {"kind": "k", "subject": "s", "department_id": 0, "due_in_working_days": 5},
        {"kind": "k", "subject": "s", "department_id": 1, "due_in_working_days": -1},
        {"kind": "k", "subject": "s", "department_id": 1, "due_in_working_days": "soon"},
        {"kind": "k\n", "subject": "s", "department_id": 1, "due_in_working_days": 5},
        {"kind": "k", "subject": "s", "department_id": 999999, "due_in_working_days": 5},
        {"kind": " ", "subject": "s", "department_id": 1, "due_in_working_days": 5},
    ],
)
def test_api_open_with_bad_body_is_422(client: TestClient, token_for: Any, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/work-items", json=body, headers=token_for("admin"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("body", [{"action": "close"}, {}, {"action": "return"}, {"action": "accept", "note": 5}])
def test_api_move_with_bad_body_is_422(
    client: TestClient, token_for: Any, session: Session, body: dict[str, Any]
) -> None:
    admin = token_for("admin")
    item = new_item(client, admin, dept(session, "HZ-SJJ"))
    response = client.post(f"/api/v1/work-items/{item['id']}/moves", json=body, headers=admin)
    assert response.status_code == 422
    assert client.get(f"/api/v1/work-items/{item['id']}", headers=admin).json()["state"] == "open"


def test_api_overdue_filter(client: TestClient, token_for: Any, session: Session, admin: Actor) -> None:
    headers = token_for("admin")
    late = open_for(session, admin, "HZ-SJJ", kind="api-overdue", today=date.today() - timedelta(days=60))
    open_for(session, admin, "HZ-SJJ", kind="api-overdue")
    session.flush()
    response = client.get("/api/v1/work-items", params={"overdue": "true", "kind": "api-overdue"}, headers=headers)
    assert [i["id"] for i in response.json()] == [late.id]


# ---- the moves a user is offered ----------------------------------------------------------------


@pytest.mark.parametrize("state", list(WorkState))
def test_available_moves_are_exactly_the_moves_that_succeed(
    session: Session, steward: Actor, inspector: Actor, rsj_steward: Actor, state: WorkState
) -> None:
    item = drive(session, steward, open_for(session, inspector, "HZ-SJJ"), state)
    actors = [steward, inspector, rsj_steward, actor_named(session, "reviewer"), actor_named(session, "auditor")]
    for actor in actors:
        offered = workflow.available_moves(actor, item)
        succeeded = []
        for action in MOVES:
            savepoint = session.begin_nested()
            try:
                workflow.move_item(session, actor, item_id=item.id, action=action, note=NOTE)
                succeeded.append(action)
            except (Forbidden, IllegalTransition):
                pass
            savepoint.rollback()
            session.refresh(item)
        assert offered == succeeded, actor.username


# ---- extension, escalation, and kinds a domain owns ------------------------------------------------------


def test_extend_due_moves_the_deadline_later_once_asked_with_a_reason(session: Session, admin: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ", today=date(2026, 3, 2))
    with pytest.raises(Invalid, match="needs a reason"):
        workflow.extend_due(session, admin, item_id=item.id, start=date(2026, 3, 2), due_in_working_days=10, reason=" ")
    with pytest.raises(Invalid, match="not later than"):
        workflow.extend_due(session, admin, item_id=item.id, start=date(2026, 3, 2), due_in_working_days=3, reason="r")
    workflow.extend_due(
        session, admin, item_id=item.id, start=date(2026, 3, 2), due_in_working_days=10, reason="需核对"
    )
    assert (item.due_on, item.state) == (date(2026, 3, 16), "open")
    step = workflow.item_steps(session, admin, item.id)[-1]
    assert (step.action, step.from_state, step.to_state, step.note) == ("extend", "open", "open", "需核对")
    assert last_event(session).kind == "workflow.extended"


def test_extend_due_is_the_assignee_sides_and_not_for_closed_items(
    session: Session, steward: Actor, rsj_steward: Actor
) -> None:
    item = open_for(session, steward, "HZ-RSJ", today=date(2026, 3, 2))
    with pytest.raises(Forbidden):
        workflow.extend_due(
            session, steward, item_id=item.id, start=date(2026, 3, 2), due_in_working_days=10, reason="r"
        )
    drive(session, rsj_steward, item, S.resolved)
    workflow.move_item(session, steward, item_id=item.id, action="verify")
    with pytest.raises(IllegalTransition, match="closed"):
        workflow.extend_due(
            session, rsj_steward, item_id=item.id, start=date(2026, 3, 2), due_in_working_days=10, reason="r"
        )


def test_escalation_is_for_overdue_items_and_the_platform(session: Session, admin: Actor, steward: Actor) -> None:
    item = open_for(session, admin, "HZ-SJJ", today=date(2026, 3, 2))  # due 2026-03-09
    with pytest.raises(IllegalTransition, match="not overdue"):
        workflow.escalate_item(session, admin, item_id=item.id, today=date(2026, 3, 9))
    with pytest.raises(Forbidden):
        workflow.escalate_item(session, steward, item_id=item.id, today=date(2026, 3, 10))
    workflow.escalate_item(session, admin, item_id=item.id, today=date(2026, 3, 10), note="超期")
    step = workflow.item_steps(session, admin, item.id)[-1]
    assert (step.action, step.to_state, item.state) == ("escalate", "open", "open")
    assert last_event(session).kind == "workflow.escalated"


def test_an_accepted_item_can_be_returned_with_a_reason(session: Session, admin: Actor) -> None:
    item = drive(session, admin, open_for(session, admin, "HZ-SJJ"), S.accepted)
    workflow.move_item(session, admin, item_id=item.id, action="return", note="经核实不属本部门")
    assert item.state == S.returned


@pytest.fixture
def owned_kind() -> Any:
    rules = workflow.OwnedKind(
        owner="tests.owner", label="测试工单", open_action="workflow.open",
        handle_action="workflow.handle", verify_action="workflow.verify", escalate_action="workflow.escalate",
    )  # fmt: skip
    workflow.own_kind("test.owned", rules)
    yield rules
    del workflow.OWNED_KINDS["test.owned"]


def test_an_owned_kind_moves_only_through_its_owner(session: Session, admin: Actor, owned_kind: Any) -> None:
    with pytest.raises(IllegalTransition, match="handled only through tests.owner"):
        open_for(session, admin, "HZ-SJJ", kind="test.owned")
    item = open_for(session, admin, "HZ-SJJ", kind="test.owned", owner="tests.owner")
    with pytest.raises(IllegalTransition, match="handled only through"):
        workflow.move_item(session, admin, item_id=item.id, action="accept")
    assert workflow.available_moves(admin, item) == []
    workflow.move_item(session, admin, item_id=item.id, action="accept", owner="tests.owner")
    assert item.state == S.accepted and workflow.kind_label("test.owned") == "测试工单"
    with pytest.raises(ValueError, match="owned twice"):
        workflow.own_kind("test.owned", owned_kind)
