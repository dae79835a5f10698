"""Closed-loop work items (闭环处置): one model for problem data, alerts, inspections, instructions.

    open ──accept──▶ accepted ──resolve──▶ resolved ──verify──▶ closed
     │  ◀─reassign─ returned                  │                   │
     └──return──▶ returned          accepted ◀┘reject   reopened ◀┘reopen
                                             (reopened ──resolve──▶ resolved)

The assignee department accepts, returns and resolves; the opening side verifies,
rejects a resolution, reassigns a returned item, or reopens a closed one. Each step is
checked against this table, timed, and audited. Outside the table, the assignee may extend
the due date (`extend_due`) and the platform may escalate an overdue item (`escalate_item`);
both are steps that keep the state.

A domain may own a kind (`own_kind`): its items are opened and moved only through that
domain's service, under the domain's own actions, so the generic pages and API cannot skip
the domain's checks (problem data closes only on a verified fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from digigov.core import audit, workdays
from digigov.core.auth import Actor, DepartmentOwned, InDepartment, Role, allows, declare, require
from digigov.core.db import Base, utcnow
from digigov.core.errors import Forbidden, IllegalTransition, Invalid, NotFound

declare(
    "workflow.open",
    "Open a closed-loop work item for a department.",
    "发起闭环工单",
    {Role.platform_admin, Role.reviewer, Role.data_steward, Role.inspector},
)
declare(
    "workflow.handle",
    "Accept, return or resolve a work item assigned to one's department.",
    "办理本部门工单",
    {Role.platform_admin, Role.data_steward, Role.inspector},
)
declare(
    "workflow.verify",
    "Verify, reject, reassign or reopen a work item one's department opened.",
    "核验本部门发起的工单",
    {Role.platform_admin, Role.reviewer, Role.data_steward, Role.inspector},
)
declare(
    "workflow.escalate",
    "Escalate an overdue work item to the platform.",
    "超期工单升级督办",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "workflow.read",
    "See work items of one's department.",
    "查看工单",
    {Role.platform_admin, Role.reviewer, Role.auditor, Role.data_steward, Role.inspector},
)


class WorkState(StrEnum):
    """Where a work item stands."""

    open = "open"
    accepted = "accepted"
    returned = "returned"
    resolved = "resolved"
    closed = "closed"
    reopened = "reopened"

    @property
    def label(self) -> str:
        """The Chinese name."""
        return {
            "open": "待受理",
            "accepted": "处理中",
            "returned": "已退回",
            "resolved": "待核验",
            "closed": "已办结",
            "reopened": "已重启",
        }[self.value]


@dataclass(frozen=True)
class Move:
    """A legal transition: from which states, to which, and which side may make it."""

    sources: frozenset[WorkState]
    target: WorkState
    side: str  # "assignee" or "opener"
    label: str


S = WorkState
MOVES: dict[str, Move] = {
    "accept": Move(frozenset({S.open}), S.accepted, "assignee", "受理"),
    "return": Move(frozenset({S.open, S.accepted}), S.returned, "assignee", "退回"),
    "resolve": Move(frozenset({S.accepted, S.reopened}), S.resolved, "assignee", "办结"),
    "verify": Move(frozenset({S.resolved}), S.closed, "opener", "核验通过"),
    "reject": Move(frozenset({S.resolved}), S.accepted, "opener", "核验不通过"),
    "reassign": Move(frozenset({S.returned}), S.open, "opener", "重新派发"),
    "reopen": Move(frozenset({S.closed}), S.reopened, "opener", "重启"),
}

STEP_LABELS = {"open": "发起", "extend": "延期", "escalate": "升级督办"} | {name: m.label for name, m in MOVES.items()}


@dataclass(frozen=True)
class OwnedKind:
    """A kind a domain owns: who owns it, its Chinese name, and the actions that stand in for workflow.*.

    The owner decides who may see its items (`workflow.read` is not asked when it passes `owner=`).
    """

    owner: str
    label: str
    open_action: str
    handle_action: str
    verify_action: str
    escalate_action: str


OWNED_KINDS: dict[str, OwnedKind] = {}


def own_kind(kind: str, rules: OwnedKind) -> OwnedKind:
    """Reserve a kind for a domain; its items then move only when that domain passes `owner=`."""
    if kind in OWNED_KINDS:
        raise ValueError(f"work-item kind {kind} owned twice")
    OWNED_KINDS[kind] = rules
    return rules


def kind_label(kind: str) -> str:
    """The name to show for a kind: an owned kind's Chinese label, else the kind as written."""
    owned = OWNED_KINDS.get(kind)
    return owned.label if owned else kind


def _check_owner(kind: str, owner: str | None) -> None:
    owned = OWNED_KINDS.get(kind)
    if owned is not None and owned.owner != owner:
        raise IllegalTransition(
            f"Items of kind '{kind}' are handled only through {owned.owner}; use its pages or API.",
            f"“{owned.label}”工单只能在其专门的页面或接口中办理。",
        )


def _action(kind: str, side: str) -> str:
    owned = OWNED_KINDS.get(kind)
    if owned is None:
        return f"workflow.{side}"
    return {
        "open": owned.open_action,
        "handle": owned.handle_action,
        "verify": owned.verify_action,
        "escalate": owned.escalate_action,
    }[side]


def _item_for(session: Session, actor: Actor, item_id: int, owner: str | None) -> WorkItem:
    """The item to change: its owner has checked who may see it; anyone else needs `workflow.read`."""
    item = session.get(WorkItem, item_id)
    if item is not None and owner is not None and item.kind in OWNED_KINDS:
        _check_owner(item.kind, owner)
        return item
    item = get_item(session, actor, item_id)
    _check_owner(item.kind, owner)
    return item


class WorkItem(Base):
    """One closed-loop item: something a department must handle by a due date."""

    __tablename__ = "work_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    opener_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    def is_overdue(self, today: date) -> bool:
        """Past its due date and not closed: what `list_items(overdue_on=today)` selects."""
        return self.due_on < today and self.state != S.closed


class WorkItemStep(Base):
    """One transition of a work item, timed."""

    __tablename__ = "work_item_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)
    seconds_in_state: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class WorkItemOpened(audit.AuditEvent):
    kind = "workflow.opened"
    description = "A closed-loop work item was opened."
    item_id: int
    item_kind: str
    department_id: int
    due_on: str

    @property
    def target(self) -> str:
        return f"work_item:{self.item_id}"


@dataclass(frozen=True)
class WorkItemExtended(audit.AuditEvent):
    kind = "workflow.extended"
    description = "A work item's due date was moved later, with a reason."
    item_id: int
    from_due: str
    to_due: str
    reason: str

    @property
    def target(self) -> str:
        return f"work_item:{self.item_id}"


@dataclass(frozen=True)
class WorkItemEscalated(audit.AuditEvent):
    kind = "workflow.escalated"
    description = "An overdue work item was escalated to the platform."
    item_id: int
    due_on: str
    note: str

    @property
    def target(self) -> str:
        return f"work_item:{self.item_id}"


@dataclass(frozen=True)
class WorkItemMoved(audit.AuditEvent):
    kind = "workflow.moved"
    description = "A work item moved from one state to another."
    item_id: int
    action: str
    from_state: str
    to_state: str
    note: str

    @property
    def target(self) -> str:
        return f"work_item:{self.item_id}"


def open_item(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    subject: str,
    department_id: int,
    due_in_working_days: int,
    detail: str = "",
    today: date | None = None,
    owner: str | None = None,
) -> WorkItem:
    """Open an item for a department, due a number of working days from today."""
    _check_owner(kind.strip(), owner)
    require(actor, _action(kind.strip(), "open"))
    if not kind.strip() or not subject.strip():
        raise Invalid("A work item needs a kind and a subject.", "工单须填写类型和事项。")
    _require_department(session, department_id)
    deadline = workdays.add_working_days(session, today or workdays.china_today(), due_in_working_days)
    now = utcnow()
    item = WorkItem(
        kind=kind.strip(),
        subject=subject.strip(),
        detail=detail,
        state=S.open,
        department_id=department_id,
        opener_department_id=actor.department_id,
        opened_by=actor.username,
        opened_at=now,
        due_on=deadline.due,
        due_provisional=deadline.provisional,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    session.add(
        WorkItemStep(
            item_id=item.id,
            action="open",
            from_state=None,
            to_state=S.open,
            actor_name=actor.username,
            note=detail,
            at=now,
        )
    )
    audit.record(session, actor, WorkItemOpened(item.id, item.kind, department_id, deadline.due.isoformat()))
    return item


def _require_department(session: Session, department_id: int) -> None:
    # The department table belongs to identity; core reaches it only through the foreign key.
    (key,) = WorkItem.__table__.c.department_id.foreign_keys
    if session.scalar(select(key.column).where(key.column == department_id)) is None:
        raise Invalid(
            f"Department {department_id} does not exist; choose one from the department list.",
            f"部门 {department_id} 不存在，请从部门列表中选择。",
        )


def get_item(session: Session, actor: Actor, item_id: int) -> WorkItem:
    """One work item the actor may see."""
    item = session.get(WorkItem, item_id)
    if item is None:
        raise NotFound(f"Work item {item_id} does not exist.", f"工单 {item_id} 不存在。")
    _require_either_side(actor, item)
    return item


def _require_either_side(actor: Actor, item: WorkItem) -> None:
    try:
        require(actor, "workflow.read", item)
    except Forbidden:
        require(actor, "workflow.read", InDepartment(item.opener_department_id))


def move_item(
    session: Session, actor: Actor, *, item_id: int, action: str, note: str = "", owner: str | None = None
) -> WorkItem:
    """Apply one transition if the table allows it from the item's state and for the actor's side."""
    item = _item_for(session, actor, item_id, owner)
    move = MOVES.get(action)
    if move is None:
        raise Invalid(
            f"Unknown action '{action}'; use one of {', '.join(MOVES)}.",
            f"未知操作“{action}”，可用：{'、'.join(MOVES)}。",
        )
    state = WorkState(item.state)
    if state not in move.sources:
        raise IllegalTransition(
            f"Cannot {action} a work item that is {state.value}.",
            f"工单当前状态为“{state.label}”，不能执行“{move.label}”。",
        )
    require(actor, *_side(move, item))
    if action in {"return", "reject"} and not note.strip():
        raise Invalid(f"'{action}' needs a reason.", f"“{move.label}”须说明理由。")
    now = utcnow()
    session.add(
        WorkItemStep(
            item_id=item.id,
            action=action,
            from_state=state,
            to_state=move.target,
            actor_name=actor.username,
            note=note,
            at=now,
            seconds_in_state=int((now - item.updated_at).total_seconds()),
        )
    )
    item.state, item.updated_at = move.target, now
    item.closed_at = now if move.target == S.closed else None
    session.flush()
    audit.record(session, actor, WorkItemMoved(item.id, action, state.value, move.target.value, note))
    return item


def _side(move: Move, item: WorkItem) -> tuple[str, DepartmentOwned]:
    """The permission a move needs, and the department it is checked against."""
    if move.side == "assignee":
        return _action(item.kind, "handle"), item
    return _action(item.kind, "verify"), InDepartment(item.opener_department_id)


def available_moves(actor: Actor, item: WorkItem) -> list[str]:
    """The actions the actor may take on the item in its current state, in table order (none for owned kinds)."""
    if item.kind in OWNED_KINDS:
        return []
    state = WorkState(item.state)
    return [name for name, move in MOVES.items() if state in move.sources and allows(actor, *_side(move, item))]


def extend_due(
    session: Session,
    actor: Actor,
    *,
    item_id: int,
    start: date,
    due_in_working_days: int,
    reason: str,
    owner: str | None = None,
) -> WorkItem:
    """Move a not-closed item's due date to `due_in_working_days` after `start` (the assignee side, with a reason)."""
    item = _item_for(session, actor, item_id, owner)
    require(actor, _action(item.kind, "handle"), item)
    if item.state == S.closed:
        raise IllegalTransition("A closed work item has no deadline to extend.", "工单已办结，无需延期。")
    if not reason.strip():
        raise Invalid("An extension needs a reason.", "延期须说明理由。")
    deadline = workdays.add_working_days(session, start, due_in_working_days)
    if deadline.due <= item.due_on:
        raise Invalid(
            f"The new due date {deadline.due} is not later than {item.due_on}.",
            f"新的办理期限 {deadline.due} 不晚于原期限 {item.due_on}。",
        )
    before = item.due_on
    item.due_on, item.due_provisional = deadline.due, deadline.provisional
    _add_side_step(session, actor, item, "extend", reason)
    audit.record(session, actor, WorkItemExtended(item.id, before.isoformat(), deadline.due.isoformat(), reason))
    return item


def escalate_item(
    session: Session, actor: Actor, *, item_id: int, today: date, note: str = "", owner: str | None = None
) -> WorkItem:
    """Record that an overdue item was escalated to the platform; refused for an item that is not overdue."""
    item = _item_for(session, actor, item_id, owner)
    require(actor, _action(item.kind, "escalate"))
    if not item.is_overdue(today):
        raise IllegalTransition(
            f"Work item {item.id} is not overdue on {today}; only overdue items escalate.",
            f"工单 {item.id} 在 {today} 未超期，只有超期工单才升级督办。",
        )
    _add_side_step(session, actor, item, "escalate", note)
    audit.record(session, actor, WorkItemEscalated(item.id, item.due_on.isoformat(), note))
    return item


def _add_side_step(session: Session, actor: Actor, item: WorkItem, action: str, note: str) -> None:
    """A step that keeps the state (extension, escalation)."""
    now = utcnow()
    session.add(
        WorkItemStep(
            item_id=item.id,
            action=action,
            from_state=item.state,
            to_state=item.state,
            actor_name=actor.username,
            note=note,
            at=now,
        )
    )
    session.flush()  # updated_at keeps the last change of state: the next move's time in state counts from it


def item_steps(session: Session, actor: Actor, item_id: int) -> list[WorkItemStep]:
    """An item's history, oldest first."""
    get_item(session, actor, item_id)
    return list(session.scalars(select(WorkItemStep).where(WorkItemStep.item_id == item_id).order_by(WorkItemStep.id)))


def list_items(
    session: Session,
    actor: Actor,
    *,
    state: WorkState | None = None,
    kind: str | None = None,
    department_id: int | None = None,
    overdue_on: date | None = None,
    limit: int = 100,
) -> list[WorkItem]:
    """Items the actor may see; `overdue_on` keeps those still open past their due date."""
    require(actor, "workflow.read")
    stmt = select(WorkItem).order_by(WorkItem.due_on, WorkItem.id).limit(limit)
    if not any(role.platform_wide for role in actor.roles):
        mine = list(actor.departments)
        stmt = stmt.where(WorkItem.department_id.in_(mine) | WorkItem.opener_department_id.in_(mine))
    if state is not None:
        stmt = stmt.where(WorkItem.state == state)
    if kind:
        stmt = stmt.where(WorkItem.kind == kind)
    if department_id is not None:
        stmt = stmt.where(WorkItem.department_id == department_id)
    if overdue_on is not None:
        stmt = stmt.where(WorkItem.due_on < overdue_on, WorkItem.state != S.closed)
    return list(session.scalars(stmt))
