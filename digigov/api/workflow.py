"""Work-item API: open, list, read and move closed-loop items."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from digigov.core import workdays, workflow
from digigov.core.deps import ActorDep, Id, SessionDep
from digigov.core.types import UtcDateTime

router = APIRouter(prefix="/work-items", tags=["workflow"])

Action = Literal["accept", "return", "resolve", "verify", "reject", "reassign", "reopen"]


class WorkItemCreate(BaseModel):
    kind: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f]+$")]
    subject: Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f]+$")]
    department_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    due_in_working_days: Annotated[int, Field(ge=0, le=3650)]
    detail: Annotated[str, Field(max_length=5000)] = ""


class WorkItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    subject: str
    detail: str
    state: str
    department_id: int
    opener_department_id: int | None
    opened_by: str
    opened_at: UtcDateTime
    due_on: date
    due_provisional: bool
    updated_at: UtcDateTime
    closed_at: UtcDateTime | None


class WorkItemMove(BaseModel):
    action: Action
    note: Annotated[str, Field(max_length=2000)] = ""


class WorkItemStepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    from_state: str | None
    to_state: str
    actor_name: str
    note: str
    at: UtcDateTime
    seconds_in_state: int


@router.post("", response_model=WorkItemRead, status_code=status.HTTP_201_CREATED)
def open_item(body: WorkItemCreate, session: SessionDep, actor: ActorDep) -> workflow.WorkItem:
    """Open a closed-loop item for a department, due in working days."""
    return workflow.open_item(
        session,
        actor,
        kind=body.kind,
        subject=body.subject,
        department_id=body.department_id,
        due_in_working_days=body.due_in_working_days,
        detail=body.detail,
    )


@router.get("", response_model=list[WorkItemRead])
def list_items(
    session: SessionDep,
    actor: ActorDep,
    state: workflow.WorkState | None = None,
    kind: Annotated[str | None, Query(max_length=50, pattern=r"^[^\x00-\x1f]*$")] = None,
    department_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[workflow.WorkItem]:
    """Items the caller may see; `overdue=true` keeps those past their due date and not closed."""
    return workflow.list_items(
        session,
        actor,
        state=state,
        kind=kind,
        department_id=department_id,
        overdue_on=workdays.china_today() if overdue else None,
        limit=limit,
    )


@router.get("/{item_id}", response_model=WorkItemRead)
def get_item(item_id: Id, session: SessionDep, actor: ActorDep) -> workflow.WorkItem:
    """One work item."""
    return workflow.get_item(session, actor, item_id)


@router.get("/{item_id}/steps", response_model=list[WorkItemStepRead])
def steps(item_id: Id, session: SessionDep, actor: ActorDep) -> list[workflow.WorkItemStep]:
    """An item's transitions, oldest first, with time spent in each state."""
    return workflow.item_steps(session, actor, item_id)


@router.post("/{item_id}/moves", response_model=WorkItemRead)
def move(item_id: Id, body: WorkItemMove, session: SessionDep, actor: ActorDep) -> workflow.WorkItem:
    """Apply a transition; an illegal one is refused with 409 and changes nothing."""
    return workflow.move_item(session, actor, item_id=item_id, action=body.action, note=body.note)
