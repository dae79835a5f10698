"""Reading problem data (问题数据): who may see which problems, one problem as the edges show it, and statistics.

The commands that move a problem (raise, answer, extend, escalate) are in `problems`; these reads
serve them, the API, the CLI and the pages alike. Every read goes through `visible`, the one
place that says which problems an actor may see.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import workdays
from digigov.core.auth import ACTIONS, Actor, allows, require
from digigov.core.config import Settings
from digigov.core.errors import NotFound
from digigov.core.workflow import WorkItem, WorkItemStep, WorkState
from digigov.datastore import Version
from digigov.governance.models import ProblemRaise, ProblemReport
from digigov.governance.rows import Shown, Viewer

S = WorkState
VERIFIER_NAME = "system:problem-verifier"  # the automatic verification, in steps and the audit log
QUOTED = re.compile(r"“([^”]*)”|'([^']*)'")
AWAITING = (S.open, S.accepted, S.reopened, S.resolved)  # the department still owes an answer


def existing_raises(session: Session, problem: ProblemReport) -> list[ProblemRaise]:
    """Who raised this problem, first raise first."""
    stmt = select(ProblemRaise).where(ProblemRaise.problem_id == problem.id).order_by(ProblemRaise.id)
    return list(session.scalars(stmt))


def visible(actor: Actor) -> Select[ProblemReport]:
    """Problems the actor may see: platform roles all; stewards their departments'; everyone what they raised."""
    require(actor, "governance.problem.read")
    stmt = select(ProblemReport).join(WorkItem, WorkItem.id == ProblemReport.item_id)
    if any(role.platform_wide for role in actor.roles & ACTIONS["governance.problem.read"].roles):
        return stmt
    raised = exists().where(ProblemRaise.problem_id == ProblemReport.id, ProblemRaise.username == actor.username)
    if allows(actor, "governance.problem.answer"):
        return stmt.where(or_(ProblemReport.department_id.in_(list(actor.departments)), raised))
    return stmt.where(raised)


def get_problem(session: Session, actor: Actor, problem_id: int) -> ProblemReport:
    """One problem the actor may see; the same NotFound whether it does not exist or is not theirs."""
    found = session.scalar(visible(actor).where(ProblemReport.id == problem_id))
    if found is None:
        raise NotFound(f"Problem {problem_id} does not exist.", f"问题数据 {problem_id} 不存在。")
    return found


def list_problems(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None = None,
    resource_code: str | None = None,
    state: WorkState | None = None,
    overdue_on: date | None = None,
    escalated: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ProblemReport]:
    """Problems the actor may see, soonest deadline first; `overdue_on` keeps unanswered ones past due."""
    stmt = visible(actor).order_by(WorkItem.due_on, ProblemReport.id).limit(limit).offset(offset)
    if department_id is not None:
        stmt = stmt.where(ProblemReport.department_id == department_id)
    if resource_code:
        stmt = stmt.where(ProblemReport.resource_id.in_(select(Resource.id).where(Resource.code == resource_code)))
    if state is not None:
        stmt = stmt.where(WorkItem.state == state)
    if overdue_on is not None:
        stmt = stmt.where(WorkItem.due_on < overdue_on, WorkItem.state.in_(AWAITING))
    if escalated is not None:
        stmt = stmt.where(
            ProblemReport.escalated_at.is_not(None) if escalated else ProblemReport.escalated_at.is_(None)
        )
    return list(session.scalars(stmt))


def problem_item(session: Session, problem: ProblemReport) -> WorkItem:
    """The work item behind a problem the caller has already been allowed to see."""
    return session.get_one(WorkItem, problem.item_id)


@dataclass(frozen=True)
class ProblemStep:
    """One step of a problem's history as the reader sees it (values in the note masked for them)."""

    action: str
    from_state: str | None
    to_state: str
    actor_name: str
    note: str
    at: datetime


def problem_steps(session: Session, actor: Actor, problem_id: int, *, settings: Settings) -> list[ProblemStep]:
    """A problem's history, oldest first (for whoever may see the problem, the raiser included).

    The verifier's notes quote the values it found: masked for a reader without clear text.
    """
    problem = get_problem(session, actor, problem_id)
    shown = Viewer(actor, settings).shown(session, session.get_one(Version, problem.version_id))
    stmt = select(WorkItemStep).where(WorkItemStep.item_id == problem.item_id).order_by(WorkItemStep.id)
    return [
        ProblemStep(s.action, s.from_state, s.to_state, s.actor_name, _masked_note(shown, problem, s), s.at)
        for s in session.scalars(stmt)
    ]


def describe(session: Session, problem: ProblemReport, today: date | None = None, *, viewer: Viewer) -> dict[str, Any]:
    """A problem with its item's state and deadline, its resource and versions: what the edges show.

    Its values (key, observed, expected, the verification's sample and reasons) are masked by their
    fields' class for a viewer who may not see the resource's rows in clear.
    """
    item = problem_item(session, problem)
    raised = session.get_one(Version, problem.version_id)
    shown = viewer.shown(session, raised)
    fixed = session.get(Version, problem.fixed_version_id) if problem.fixed_version_id else None
    resource = session.get_one(Resource, problem.resource_id)
    state = WorkState(item.state)
    return {
        "id": problem.id,
        "item_id": item.id,
        "resource": resource.code,
        "resource_title": resource.title,
        "version": raised.number,
        "department_id": problem.department_id,
        "field": problem.field,
        "key_field": problem.key_field,
        "key_value": shown.value(problem.key_field, problem.key_value) if problem.key_field else problem.key_value,
        "description": problem.description,
        "observed": shown.value(problem.field, problem.observed),
        "expected": shown.value(problem.field, problem.expected),
        "validator": problem.validator,
        "source": problem.source,
        "rule_id": problem.rule_id,
        "raised_by": problem.raised_by,
        "raised_on": problem.raised_on,
        "raises": len(existing_raises(session, problem)),
        "state": state.value,
        "state_label": state.label,
        "due_on": item.due_on,
        "due_provisional": item.due_provisional,
        "overdue": is_overdue(item, today or workdays.china_today()),
        "extended": problem.extended,
        "extension_reason": problem.extension_reason,
        "escalated_at": problem.escalated_at,
        "answer": problem.answer,
        "answer_reason": problem.answer_reason,
        "answered_by": problem.answered_by,
        "answered_on": problem.answered_on,
        "fixed_version": fixed.number if fixed else None,
        "verified": problem.verified,
        "verification": _masked_verification(shown, problem),
        "closed_on": problem.closed_on,
    }


def _masked_verification(shown: Shown, problem: ProblemReport) -> dict[str, Any] | None:
    """The verdict on a fix with its sample and the values its reasons quote masked for the reader."""
    verdict = problem.verification
    if verdict is None:
        return None
    reasons: dict[str, Any] = {
        k: masked_verdict(shown, problem, str(verdict[k])) for k in ("reason", "reason_zh") if k in verdict
    }
    return {**verdict, "sample": shown.value(problem.field, verdict.get("sample")), **reasons}


def _masked_note(shown: Shown, problem: ProblemReport, step: WorkItemStep) -> str:
    """A step's note as the reader sees it: the verifier's quoted values masked, and the problem's own values."""
    note = step.note or ""
    if step.actor_name == VERIFIER_NAME:
        return masked_verdict(shown, problem, note)
    return masked_quotes(shown, problem.field, (problem.observed, problem.expected), note)


def masked_quotes(shown: Shown, field: str, values: Iterable[str | None], text: str) -> str:
    """A person's text with the field's `values`, where quoted (“…” or '…'), masked for the reader."""
    for value in values:
        if value:
            for form in ("“{}”", "'{}'"):
                text = text.replace(form.format(value), form.format(_shown_text(shown, field, value)))
    return text


def masked_verdict(shown: Shown, problem: ProblemReport, text: str) -> str:
    """A verdict's text with every value it quotes (“…”, '…', and the key after `key_field=`) masked.

    The verifier quotes only the field's values, the key and field names (`problem_checks`).
    """
    if problem.key_field and problem.key_value:
        masked_key = _shown_text(shown, problem.key_field, problem.key_value)
        text = text.replace(f"{problem.key_field}={problem.key_value}", f"{problem.key_field}={masked_key}")
    names = {problem.field, problem.key_field}

    def masked(match: re.Match[str]) -> str:
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if value in names:
            return match.group(0)
        return match.group(0)[0] + _shown_text(shown, problem.field, value) + match.group(0)[-1]

    return QUOTED.sub(masked, text)


def _shown_text(shown: Shown, name: str, value: str) -> str:
    masked = shown.value(name, value)
    return "" if masked is None else str(masked)


def is_overdue(item: WorkItem, today: date) -> bool:
    """Past due and still owed an answer (a rejected problem has its answer)."""
    return item.due_on < today and WorkState(item.state) in AWAITING


# ---- statistics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentProblemStats:
    """One department's record as a source department."""

    department_id: int
    raised: int
    closed: int
    closed_on_time: int
    rejected: int
    open: int
    overdue: int
    escalated: int
    median_working_days_to_close: float | None


def problem_statistics(
    session: Session, actor: Actor, *, department_id: int | None = None, today: date | None = None
) -> list[DepartmentProblemStats]:
    """Per source department: raised, closed, closed on time, rejected, open, overdue, escalated, median days.

    Time to close counts working days from the day raised to the day closed. Stewards see their own
    departments; platform roles all.
    """
    today = today or workdays.china_today()
    stmt = visible(actor)
    if department_id is not None:
        stmt = stmt.where(ProblemReport.department_id == department_id)
    rows = session.execute(
        stmt.with_only_columns(
            ProblemReport.department_id,
            WorkItem.state,
            WorkItem.due_on,
            ProblemReport.raised_on,
            ProblemReport.closed_on,
            ProblemReport.escalated_at,
        ).order_by(ProblemReport.department_id)
    ).all()
    by_department: dict[int, list[tuple[str, date, date, date | None, object]]] = {}
    for dept, state, due_on, raised_on, closed_on, escalated_at in rows:
        by_department.setdefault(dept, []).append((state, due_on, raised_on, closed_on, escalated_at))
    return [_department_stats(session, dept, entries, today) for dept, entries in by_department.items()]


def _department_stats(
    session: Session, dept: int, entries: list[tuple[str, date, date, date | None, object]], today: date
) -> DepartmentProblemStats:
    closed = [(due, raised, done) for state, due, raised, done, _ in entries if state == S.closed and done]
    days = [workdays.working_days_between(session, raised, done) for _, raised, done in closed]
    return DepartmentProblemStats(
        department_id=dept,
        raised=len(entries),
        closed=len(closed),
        closed_on_time=sum(done <= due for due, _, done in closed),
        rejected=sum(state == S.returned for state, *_ in entries),
        open=sum(WorkState(state) in AWAITING for state, *_ in entries),
        overdue=sum(WorkState(state) in AWAITING and due < today for state, due, *_ in entries),
        escalated=sum(escalated is not None for *_, escalated in entries),
        median_working_days_to_close=float(statistics.median(days)) if days else None,
    )


__all__ = [
    "AWAITING",
    "DepartmentProblemStats",
    "ProblemStep",
    "describe",
    "existing_raises",
    "get_problem",
    "is_overdue",
    "list_problems",
    "masked_quotes",
    "masked_verdict",
    "problem_item",
    "problem_statistics",
    "problem_steps",
    "visible",
]
