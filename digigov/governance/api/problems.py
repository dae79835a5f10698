"""Governance API: problem data (问题数据) raised, listed, answered, extended, escalated and counted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from digigov.core import workdays, workflow
from digigov.core.deps import ActorDep, Id, SessionDep, SettingsDep
from digigov.core.workflow import WorkState
from digigov.governance import problem_queries, problems
from digigov.governance.models import ProblemReport
from digigov.governance.rows import Viewer
from digigov.governance.schemas.problems import (
    FixedBody,
    ProblemCreate,
    ProblemRead,
    ProblemStatsRead,
    ProblemStepRead,
    ReasonBody,
)
from digigov.identity import get_department

router = APIRouter(prefix="/governance", tags=["governance"])


def _read(session: Session, viewer: Viewer, problem: ProblemReport) -> ProblemRead:
    return ProblemRead.of(problem_queries.describe(session, problem, viewer=viewer))


@router.post("/problems", response_model=ProblemRead, status_code=status.HTTP_201_CREATED)
def raise_problem(body: ProblemCreate, session: SessionDep, actor: ActorDep, settings: SettingsDep) -> ProblemRead:
    """Raise a problem against a resource's field (and a key's row); the same open problem is reused."""
    problem = problems.raise_problem(session, actor, home=settings.home, **body.model_dump())
    return _read(session, Viewer(actor, settings), problem)


@router.get("/problems", response_model=list[ProblemRead])
def list_problems(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    department_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    resource: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.\-]*$")] = None,
    state: WorkState | None = None,
    overdue: bool = False,
    escalated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ProblemRead]:
    """Problems the caller may see, soonest deadline first; `overdue=true` keeps unanswered ones past due."""
    found = problem_queries.list_problems(
        session,
        actor,
        department_id=department_id,
        resource_code=resource or None,
        state=state,
        overdue_on=workdays.china_today() if overdue else None,
        escalated=escalated,
        limit=limit,
        offset=offset,
    )
    viewer = Viewer(actor, settings)
    return [_read(session, viewer, p) for p in found]


@router.get("/problems/statistics", response_model=list[ProblemStatsRead])
def statistics(
    session: SessionDep,
    actor: ActorDep,
    department_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[ProblemStatsRead]:
    """Per source department: raised, closed, closed on time, rejected, open, overdue, median working days."""
    rows = problem_queries.problem_statistics(session, actor, department_id=department_id)
    return [
        ProblemStatsRead(department=get_department(session, row.department_id).name, **row.__dict__) for row in rows
    ]


@router.post("/problems/escalate", response_model=list[ProblemRead])
def escalate(session: SessionDep, actor: ActorDep, settings: SettingsDep) -> list[ProblemRead]:
    """Escalate every unanswered problem past its deadline, once each (the platform's daily job)."""
    found = problems.escalate_overdue(session, actor, today=workdays.china_today())
    viewer = Viewer(actor, settings)
    return [_read(session, viewer, p) for p in found]


@router.get("/problems/{problem_id}", response_model=ProblemRead)
def get_problem(problem_id: Id, session: SessionDep, actor: ActorDep, settings: SettingsDep) -> ProblemRead:
    """One problem with its state, deadline, answer and verification."""
    return _read(session, Viewer(actor, settings), problem_queries.get_problem(session, actor, problem_id))


@router.get("/problems/{problem_id}/steps", response_model=list[ProblemStepRead])
def steps(problem_id: Id, session: SessionDep, actor: ActorDep, settings: SettingsDep) -> list[ProblemStepRead]:
    """The problem's history, oldest first."""
    return [
        ProblemStepRead(
            action=s.action,
            label=workflow.STEP_LABELS.get(s.action, s.action),
            from_state=s.from_state,
            to_state=s.to_state,
            actor_name=s.actor_name,
            note=s.note,
            at=s.at,
        )
        for s in problem_queries.problem_steps(session, actor, problem_id, settings=settings)
    ]


@router.post("/problems/{problem_id}/fixed", response_model=ProblemRead)
def answer_fixed(
    problem_id: Id, body: FixedBody, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> ProblemRead:
    """Answer "fixed in version N"; verified at once against that version; only a verified fix closes."""
    problem = problems.answer_fixed(
        session, actor, problem_id=problem_id, version_number=body.version_number, home=settings.home
    )
    return _read(session, Viewer(actor, settings), problem)


@router.post("/problems/{problem_id}/rejected", response_model=ProblemRead)
def answer_rejected(
    problem_id: Id, body: ReasonBody, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> ProblemRead:
    """Answer that the data is right, with a reason."""
    problem = problems.answer_rejected(session, actor, problem_id=problem_id, reason=body.reason)
    return _read(session, Viewer(actor, settings), problem)


@router.post("/problems/{problem_id}/extend", response_model=ProblemRead)
def extend(
    problem_id: Id, body: ReasonBody, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> ProblemRead:
    """Extend the deadline once, to 10 working days from raising, with a reason."""
    problem = problems.extend_deadline(session, actor, problem_id=problem_id, reason=body.reason)
    return _read(session, Viewer(actor, settings), problem)
