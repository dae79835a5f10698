"""Problem data (问题数据): the closed loop on a real Beijing file, verification, deadlines, statistics, access."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core import audit, workflow
from digigov.core.auth import SYSTEM, Actor, Role
from digigov.core.config import Settings
from digigov.core.errors import Forbidden, IllegalTransition, Invalid, NotFound
from digigov.core.workflow import WorkItem
from digigov.datastore import versions
from digigov.governance import problem_queries, problems
from digigov.governance.models import ProblemReport
from digigov.identity import service as identity
from tests.catalog.test_service import dept
from tests.conftest import DEMO_PASSWORD, SHARED_DATA, actor_named
from tests.helpers import last_event

HAIDIAN = SHARED_DATA / "real" / "opendata" / "beijing" / "海淀区中关村高新技术企业库（截止2023年7月）.csv"
needs_haidian = pytest.mark.skipif(
    not HAIDIAN.exists(), reason=f"{HAIDIAN} is absent: the real Beijing files are not here"
)
CODE = "hd-gxqy"
USCC = "统一社会信用代码"
BAD_ROW, BAD_CODE = "5211", "91110108MA01L0TH6X"  # one of the five codes of the file failing GB 32100
MONDAY = date(2026, 3, 2)  # 5 working days: due Monday 2026-03-09; 10: Monday 2026-03-16


def fixed_code(code: str) -> str:
    return code[:17] + uscc.calc_check_digit(code[:17])


def haidian_text() -> str:
    return HAIDIAN.read_bytes().decode("gb18030")


def ingest(session: Session, actor: Actor, home: Path, text: str, name: str = "haidian.csv") -> versions.Version:
    return versions.ingest_file(
        session, actor, home=home, resource_code=CODE, upload=io.BytesIO(text.encode("gb18030")), filename=name
    )


@pytest.fixture
def haidian(session: Session, steward: Actor, reviewer: Actor, settings: Settings) -> versions.Version:
    """The real file as version 1 of a published resource of 杭州市市场监督管理局 (the steward's department)."""
    if not HAIDIAN.exists():
        pytest.skip(f"{HAIDIAN} is absent: the real Beijing files are not here")
    body = {
        "code": CODE,
        "title": "中关村高新技术企业库",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))
    version = ingest(session, steward, settings.home, haidian_text())
    catalog.submit_resource(session, steward, code=CODE)
    catalog.publish_resource(session, reviewer, code=CODE)
    return version


def raise_bad_code(session: Session, actor: Actor, home: Path, **change: object) -> ProblemReport:
    claim: dict[str, object] = {
        "resource_code": CODE,
        "field": USCC,
        "key_field": "序号",
        "key_value": BAD_ROW,
        "description": "统一社会信用代码校验位错误",
        "validator": "uscc",
        "today": MONDAY,
    }
    return problems.raise_problem(session, actor, home=home, **(claim | change))  # type: ignore[arg-type]


def state(session: Session, problem: ProblemReport) -> str:
    return session.get_one(WorkItem, problem.item_id).state


def make_user(session: Session, username: str, department: str, role: Role) -> Actor:
    identity.create_user(
        session,
        SYSTEM,
        username=username,
        display_name=username,
        password=DEMO_PASSWORD,
        department_id=dept(session, department),
        roles=[role],
    )
    return actor_named(session, username)


# ---- the whole loop ---------------------------------------------------------------------------------


def test_a_fixed_credit_code_is_verified_in_version_2_and_closes(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    item = session.get_one(WorkItem, problem.item_id)
    assert (problem.observed, problem.department_id, item.state, item.due_on) == (
        BAD_CODE,
        dept(session, "HZ-SJJ"),
        "open",
        date(2026, 3, 9),
    )
    assert item.kind == problems.KIND and item.opener_department_id == consumer.department_id
    corrected = haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE))
    assert corrected != haidian_text()
    ingest(session, steward, settings.home, corrected)
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home, today=MONDAY)
    assert (problem.verified, problem.answer, state(session, problem), problem.closed_on) == (
        True,
        "fixed",
        "closed",
        MONDAY,
    )
    assert problem.verification is not None and problem.verification["checked_rows"] == 1
    steps = [
        (s.action, s.actor_name)
        for s in problem_queries.problem_steps(session, consumer, problem.id, settings=settings)
    ]
    assert steps == [
        ("open", "consumer"),
        ("accept", "steward"),
        ("resolve", "steward"),
        ("verify", problems.VERIFIER.username),
    ]
    assert last_event(session).kind == "governance.problem_fix_answered"


def test_a_version_that_did_not_fix_it_leaves_the_item_open_with_the_reason(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    ingest(session, steward, settings.home, haidian_text())  # the same file again: version 2, nothing fixed
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert (problem.verified, state(session, problem), problem.closed_on) == (False, "accepted", None)
    assert problem.verification is not None
    assert f"仍为“{BAD_CODE}”" in problem.verification["reason_zh"]
    assert (
        problem_queries.problem_steps(session, consumer, problem.id, settings=settings)[-1].note
        == problem.verification["reason_zh"]
    )
    # a third version with a different but still invalid code fails on the check, and says so
    wrong = BAD_CODE[:17] + ("0" if fixed_code(BAD_CODE)[-1] != "0" else "1")
    ingest(session, steward, settings.home, haidian_text().replace(BAD_CODE, wrong))
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=3, home=settings.home)
    assert problem.verified is False and "未通过统一社会信用代码校验" in problem.verification["reason_zh"]
    ingest(session, steward, settings.home, haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE)))
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=4, home=settings.home)
    assert (problem.verified, state(session, problem)) == (True, "closed")


def test_the_fix_must_name_a_newer_existing_version(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    with pytest.raises(Invalid, match="newer than 1"):
        problems.answer_fixed(session, steward, problem_id=problem.id, version_number=1, home=settings.home)
    with pytest.raises(NotFound, match="no version 7"):
        problems.answer_fixed(session, steward, problem_id=problem.id, version_number=7, home=settings.home)
    assert state(session, problem) == "open" and problem.answer is None


def test_a_deleted_row_does_not_verify(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    lines = [line for line in haidian_text().splitlines() if BAD_CODE not in line]
    ingest(session, steward, settings.home, "\n".join(lines) + "\n")
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert problem.verified is False and "没有 序号=5211 的记录" in problem.verification["reason_zh"]  # type: ignore[index]


def test_an_expected_value_must_be_what_the_fix_holds(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = problems.raise_problem(
        session,
        SYSTEM,
        resource_code=CODE,
        field="所属园区",
        key_field="序号",
        key_value="1",
        description="与权威来源不一致",
        expected="昌平园",
        source="conflict",
        home=settings.home,
    )
    assert problem.observed == "海淀园"
    text = haidian_text()
    first, rest = text.split("\n", 2)[1], text.split("\n", 2)[2]
    header = text.split("\n", 1)[0]
    ingest(session, steward, settings.home, "\n".join([header, first.replace("海淀园", "丰台园"), rest]))
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert problem.verified is False and "不是应有的“昌平园”" in problem.verification["reason_zh"]  # type: ignore[index]
    ingest(session, steward, settings.home, "\n".join([header, first.replace("海淀园", "昌平园"), rest]))
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=3, home=settings.home)
    assert problem.verified is True


def test_a_whole_field_problem_verifies_when_no_value_fails(
    session: Session, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = problems.raise_problem(
        session, SYSTEM, resource_code=CODE, field=USCC, description="5 个代码校验位错误", validator="uscc",
        source="rule", rule_id=42, home=settings.home,
    )  # fmt: skip
    text = haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE))
    ingest(session, steward, settings.home, text)
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert problem.verified is False and problem.verification["failing_rows"] == 4  # type: ignore[index]
    for bad in ("9111010156743845XQ", "91110108MA006E833D", "91110111MA7E2D1L77", "121000004000147000"):
        text = text.replace(bad, fixed_code(bad))
    ingest(session, steward, settings.home, text)
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=3, home=settings.home)
    assert problem.verified is True and state(session, problem) == "closed"


# ---- raising: what is refused, and the reuse of an open problem -------------------------------------


def test_a_repeated_raise_reuses_the_open_problem(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    first = raise_bad_code(session, consumer, settings.home)
    other = make_user(session, "sjzy_consumer", "HZ-SJZY", Role.data_consumer)
    again = raise_bad_code(session, other, settings.home)
    assert again.id == first.id and last_event(session).kind == "governance.problem_repeated"
    assert [r.username for r in problem_queries.existing_raises(session, first)] == ["consumer", "sjzy_consumer"]
    assert problem_queries.get_problem(session, other, first.id) is first  # the second raiser sees it too
    assert session.scalar(select(ProblemReport.id).where(ProblemReport.id > first.id)) is None
    rule = raise_bad_code(session, SYSTEM, settings.home, source="rule", rule_id=7)
    assert rule.id != first.id  # another source is another problem
    problems.answer_rejected(session, steward, problem_id=first.id, reason="已核实，原始登记即为此代码")
    assert raise_bad_code(session, consumer, settings.home).id != first.id  # answered: a new raise is new


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key_value": "999999"}, "no row with 序号=999999"),
        ({"field": "注册资本"}, "no field '注册资本'"),
        ({"observed": "91110108MA01L0TH6Y"}, "is '91110108MA01L0TH6X', not"),
        ({"key_value": "1"}, "passes the uscc check"),
        ({"validator": "vin"}, "Unknown validator"),
        ({"source": "rumour"}, "Source is one of"),
        ({"rule_id": 3}, "goes with source 'rule'"),
        ({"key_field": None}, "both the key field and the key value"),
        ({"description": "  "}, "needs a field and a description"),
    ],
)
def test_a_claim_the_data_does_not_bear_out_is_refused_and_changes_nothing(
    session: Session,
    consumer: Actor,
    settings: Settings,
    haidian: versions.Version,
    change: dict[str, object],
    message: str,
) -> None:
    events = audit.event_count(session)
    with pytest.raises(Invalid, match=message):
        raise_bad_code(session, consumer, settings.home, **change)
    assert audit.event_count(session) == events


def test_only_those_who_see_the_resource_may_raise(
    session: Session, settings: Settings, haidian: versions.Version
) -> None:
    with pytest.raises(Forbidden):
        raise_bad_code(session, actor_named(session, "citizen"), settings.home)
    with pytest.raises(NotFound):
        problems.raise_problem(
            session, actor_named(session, "consumer"), resource_code="no-such", field=USCC, description="x",
            home=settings.home,
        )  # fmt: skip


# ---- answers: rejection, extension, escalation -------------------------------------------------------


def test_rejection_needs_a_reason_and_returns_the_item(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    with pytest.raises(Invalid, match="needs a reason"):
        problems.answer_rejected(session, steward, problem_id=problem.id, reason=" ")
    assert state(session, problem) == "open"
    problems.answer_rejected(session, steward, problem_id=problem.id, reason="代码以登记机关为准", today=MONDAY)
    assert (state(session, problem), problem.answer, problem.answer_reason) == (
        "returned",
        "rejected",
        "代码以登记机关为准",
    )
    with pytest.raises(IllegalTransition):
        problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)


def test_the_deadline_extends_once_to_ten_working_days(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    with pytest.raises(Invalid, match="needs a reason"):
        problems.extend_deadline(session, steward, problem_id=problem.id, reason="", today=MONDAY)
    problems.extend_deadline(session, steward, problem_id=problem.id, reason="需与登记机关核对", today=MONDAY)
    item = session.get_one(WorkItem, problem.item_id)
    assert (problem.extended, item.due_on) == (True, date(2026, 3, 16))
    with pytest.raises(IllegalTransition, match="only once"):
        problems.extend_deadline(session, steward, problem_id=problem.id, reason="再延", today=MONDAY)
    assert item.due_on == date(2026, 3, 16)
    assert problem_queries.problem_steps(session, steward, problem.id, settings=settings)[-1].action == "extend"


def test_no_extension_after_the_deadline(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    with pytest.raises(IllegalTransition, match="has passed"):
        problems.extend_deadline(session, steward, problem_id=problem.id, reason="来不及", today=date(2026, 3, 10))


def test_overdue_problems_escalate_once(
    session: Session, admin: Actor, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    late = raise_bad_code(session, consumer, settings.home)
    answered = problems.raise_problem(
        session, consumer, resource_code=CODE, field="所属园区", key_field="序号", key_value="2",
        description="园区有误", home=settings.home, today=MONDAY,
    )  # fmt: skip
    problems.answer_rejected(session, steward, problem_id=answered.id, reason="园区正确")
    later = problems.raise_problem(
        session, consumer, resource_code=CODE, field="所属园区", key_field="序号", key_value="3",
        description="园区有误", home=settings.home, today=date(2026, 3, 9),
    )  # fmt: skip
    assert problems.escalate_overdue(session, admin, today=date(2026, 3, 9)) == []  # due that day: not late yet
    assert problems.escalate_overdue(session, admin, today=date(2026, 3, 10)) == [late]
    assert late.escalated_at is not None and last_event(session).kind == "governance.problem_escalated"
    assert problems.escalate_overdue(session, admin, today=date(2026, 3, 11)) == []  # once only
    assert problems.escalate_overdue(session, admin, today=date(2026, 3, 30)) == [later]
    escalated = problem_queries.list_problems(
        session, actor_named(session, "reviewer"), escalated=True, resource_code=CODE
    )
    assert {p.id for p in escalated} == {late.id, later.id}
    with pytest.raises(Forbidden):
        problems.escalate_overdue(session, steward, today=date(2026, 3, 30))


# ---- statistics ---------------------------------------------------------------------------------------


def test_statistics_per_department(
    session: Session, admin: Actor, consumer: Actor, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    on_time = raise_bad_code(session, consumer, settings.home)
    ingest(session, steward, settings.home, haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE)))
    problems.answer_fixed(
        session, steward, problem_id=on_time.id, version_number=2, home=settings.home, today=date(2026, 3, 4)
    )
    late = problems.raise_problem(
        session, consumer, resource_code=CODE, field=USCC, key_field="序号", key_value="5171", validator="uscc",
        description="校验位错误", home=settings.home, today=MONDAY, version_number=1,
    )  # fmt: skip
    problems.answer_fixed(session, steward, problem_id=late.id, version_number=2, home=settings.home, today=MONDAY)
    assert late.verified is False  # version 2 fixed only row 5211
    ingest(
        session,
        steward,
        settings.home,
        haidian_text()
        .replace(BAD_CODE, fixed_code(BAD_CODE))
        .replace("9111010156743845XQ", fixed_code("9111010156743845XQ")),
    )
    problems.answer_fixed(
        session, steward, problem_id=late.id, version_number=3, home=settings.home, today=date(2026, 3, 12)
    )
    rejected = problems.raise_problem(
        session, consumer, resource_code=CODE, field="所属园区", key_field="序号", key_value="2",
        description="园区有误", home=settings.home, today=MONDAY,
    )  # fmt: skip
    problems.answer_rejected(session, steward, problem_id=rejected.id, reason="园区正确")
    problems.raise_problem(
        session, consumer, resource_code=CODE, field="所属园区", key_field="序号", key_value="3",
        description="园区有误", home=settings.home, today=MONDAY,
    )  # fmt: skip
    sjj = dept(session, "HZ-SJJ")
    (stats,) = problem_queries.problem_statistics(session, admin, department_id=sjj, today=date(2026, 3, 20))
    assert stats == problem_queries.DepartmentProblemStats(
        department_id=sjj,
        raised=4,
        closed=2,
        closed_on_time=1,
        rejected=1,
        open=1,
        overdue=1,
        escalated=0,
        median_working_days_to_close=5.0,  # 2 (Mon 2 → Wed 4 March) and 8 (Mon 2 → Thu 12 March) working days
    )
    assert problem_queries.problem_statistics(session, steward, today=date(2026, 3, 20)) == [stats]
    assert problem_queries.problem_statistics(session, consumer, today=date(2026, 3, 20)) == [
        stats
    ]  # all four are theirs
    other = make_user(session, "rsj_steward", "HZ-RSJ", Role.data_steward)
    assert problem_queries.problem_statistics(session, other) == []


# ---- who sees and who answers ---------------------------------------------------------------------------


def test_permission_matrix(
    session: Session, admin: Actor, auditor: Actor, consumer: Actor, steward: Actor, settings: Settings,
    haidian: versions.Version,
) -> None:  # fmt: skip
    problem = raise_bad_code(session, consumer, settings.home)
    other_consumer = make_user(session, "rsj_consumer2", "HZ-RSJ", Role.data_consumer)
    other_steward = make_user(session, "rsj_steward", "HZ-RSJ", Role.data_steward)
    district_steward = make_user(session, "xh_steward", "HZ-XH-SJJ", Role.data_steward)
    # who sees it
    for actor in (admin, auditor, actor_named(session, "reviewer"), consumer, steward):
        assert problem_queries.get_problem(session, actor, problem.id) is problem
        assert problem.id in {p.id for p in problem_queries.list_problems(session, actor)}
    for actor in (other_consumer, other_steward, district_steward):  # a colleague of the raiser included
        with pytest.raises(NotFound, match=f"Problem {problem.id} does not exist"):
            problem_queries.get_problem(session, actor, problem.id)
        assert problem.id not in {p.id for p in problem_queries.list_problems(session, actor)}
    with pytest.raises(Forbidden):
        problem_queries.list_problems(session, actor_named(session, "citizen"))
    # who answers
    for actor in (consumer, auditor):
        with pytest.raises(Forbidden):
            problems.answer_rejected(session, actor, problem_id=problem.id, reason="不是问题")
    for actor in (other_steward, district_steward):
        with pytest.raises(NotFound):
            problems.extend_deadline(session, actor, problem_id=problem.id, reason="延期", today=MONDAY)
    assert state(session, problem) == "open" and problem.answer is None


def test_the_generic_work_item_moves_cannot_close_a_problem(
    session: Session, admin: Actor, consumer: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = raise_bad_code(session, consumer, settings.home)
    for action in ("accept", "return"):
        with pytest.raises(IllegalTransition, match="handled only through"):
            workflow.move_item(session, admin, item_id=problem.item_id, action=action, note="x")
    with pytest.raises(IllegalTransition, match="handled only through"):
        workflow.open_item(
            session,
            admin,
            kind=problems.KIND,
            subject="s",
            department_id=dept(session, "HZ-SJJ"),
            due_in_working_days=5,
        )
    assert workflow.available_moves(admin, session.get_one(WorkItem, problem.item_id)) == []
    assert state(session, problem) == "open"


@needs_haidian
def test_haidian_file_has_the_five_failing_codes_the_sources_note_says(
    session: Session, steward: Actor, settings: Settings, haidian: versions.Version
) -> None:
    problem = problems.raise_problem(
        session, SYSTEM, resource_code=CODE, field=USCC, description="校验", validator="uscc", source="rule",
        home=settings.home,
    )  # fmt: skip
    ingest(session, steward, settings.home, haidian_text())
    problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
    assert problem.verification is not None
    assert (problem.verification["failing_rows"], problem.verification["checked_rows"]) == (5, 9461)
