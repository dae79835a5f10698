"""The tamper-evident audit log: every write appends an event in the same transaction.

Events form a hash chain: hash_n = SHA-256(hash_{n-1} + canonical(event_n)). A one-row head
(`audit_head`) holds the last sequence number and hash; taking its row lock serialises
writers so the chain stays linear under concurrency, and comparing it with the last event
reveals a truncated tail. Both tables refuse UPDATE/DELETE of events through triggers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import DateTime, Integer, String, Table, Text, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from digigov.core.auth import Actor, Role, declare, require
from digigov.core.db import Base, utcnow

GENESIS = "0" * 64

declare(
    "audit.read",
    "Search and export audit events.",
    "查询审计日志",
    {Role.auditor, Role.platform_admin},
    department_scoped=False,
)
declare(
    "audit.verify",
    "Verify the audit hash chain.",
    "校验审计链",
    {Role.auditor, Role.platform_admin},
    department_scoped=False,
)


class AuditRecord(Base):
    """One stored audit event, a link in the hash chain."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(100), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's head: one row, the last sequence number and hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditEvent:
    """Base of every audit event; subclasses are frozen dataclasses with a stable `kind`."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[AuditEvent]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            if cls.kind in AuditEvent.registry:
                raise ValueError(f"audit event kind {cls.kind} declared twice")
            AuditEvent.registry[cls.kind] = cls

    @property
    def target(self) -> str:
        """What the event is about, as `type:id`."""
        raise NotImplementedError

    def detail(self) -> dict[str, Any]:
        """The event's fields, as stored."""
        return dataclasses.asdict(self)


def canonical(value: Any) -> str:
    """A stable JSON encoding: sorted keys, no spaces, UTF-8 text.

    >>> canonical({"b": 1, "a": ["中", None]})
    '{"a":["中",null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, record: Any) -> str:
    """The hash of one link: the previous hash and the record's canonical content."""
    body = canonical(
        [
            record.seq,
            record.occurred_at.isoformat(timespec="microseconds"),
            record.actor_id,
            record.actor_name,
            record.department_id,
            record.kind,
            record.target,
            record.detail,
        ]
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(session: Session, actor: Actor, event: AuditEvent) -> AuditRecord:
    """Append an event to the chain in the caller's transaction."""
    return record_many(session, [(actor, event)])[0]


def record_many(session: Session | Connection, events: Sequence[tuple[Actor, AuditEvent]]) -> list[AuditRecord]:
    """Append events to the chain, in order, in the caller's transaction: one head update for them all."""
    if not events:
        return []
    # The UPDATE takes the head's row lock (PostgreSQL) or the write lock (SQLite) first,
    # so concurrent writers queue here and each sees the hash its predecessor committed.
    last, prev_hash = session.execute(TAKE_HEAD, {"n": len(events)}).one()
    rows = []
    for seq, (actor, event) in enumerate(events, start=last - len(events) + 1):
        row = AuditRecord(
            seq=seq,
            occurred_at=utcnow(),
            actor_id=actor.user_id,
            actor_name=actor.username,
            department_id=actor.department_id,
            kind=event.kind,
            target=event.target,
            detail=canonical(event.detail()),
            prev_hash=prev_hash,
        )
        row.hash = prev_hash = chain_hash(prev_hash, row)
        rows.append(row)
    # one INSERT for them all, past the unit of work: the records are written once and never change
    columns = [column.key for column in AuditRecord.__table__.columns]
    session.execute(
        insert(cast(Table, AuditRecord.__table__)), [{key: getattr(row, key) for key in columns} for row in rows]
    )
    session.execute(MOVE_HEAD, {"h": prev_hash})
    return rows


TAKE_HEAD = text("UPDATE audit_head SET seq = seq + :n WHERE id = 1 RETURNING seq, hash")
MOVE_HEAD = text("UPDATE audit_head SET hash = :h WHERE id = 1")


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain."""

    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""
    reason_zh: str = ""

    def summary(self) -> str:
        """One line for people: 'ok, N events' or where the chain breaks."""
        if self.ok:
            return f"ok, {self.count} events"
        return f"broken at event {self.broken_at}: {self.reason}"


def _records(session: Session, batch: int = 5000) -> Iterator[Any]:
    # Plain rows, not ORM objects: faster, and nothing lands in the caller's identity map.
    table = AuditRecord.__table__
    last = 0
    while True:
        rows = session.execute(select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_chain(session: Session) -> ChainReport:
    """Recompute every link; report the first event that was edited, removed, added or moved."""
    prev_hash, expected, count = GENESIS, 1, 0
    for row in _records(session):
        if row.seq != expected:
            return ChainReport(
                False,
                count,
                expected,
                f"event {expected} is missing (next is {row.seq})",
                f"第 {expected} 条事件缺失（下一条为第 {row.seq} 条），疑被删除",
            )
        if row.prev_hash != prev_hash:
            return ChainReport(
                False,
                count,
                row.seq,
                "its link to the previous event does not match",
                "与前一条事件的链接不符，疑被插入或调换",
            )
        if chain_hash(prev_hash, row) != row.hash:
            return ChainReport(
                False,
                count,
                row.seq,
                "its content does not match its hash (edited)",
                "内容与哈希不符，疑被篡改",
            )
        prev_hash, expected, count = row.hash, expected + 1, count + 1
    head = _head(session)
    if head is None or head.seq != count or head.hash != prev_hash:
        head_seq = head.seq if head else 0
        return ChainReport(False, count, count + 1, f"the head says {head_seq} events; events after {count} are gone")
    return ChainReport(True, count)


def verify(session: Session, actor: Actor) -> ChainReport:
    """Verify the chain on behalf of an auditor."""
    require(actor, "audit.verify")
    return verify_chain(session)


@dataclass(frozen=True)
class AuditQuery:
    """Filters for searching events; all optional."""

    actor_name: str | None = None
    department_id: int | None = None
    target: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    limit: int = 50


def search_events(session: Session, actor: Actor, query: AuditQuery) -> list[AuditRecord]:
    """Events matching the filters, newest first; `before_seq` pages backwards."""
    require(actor, "audit.read")
    stmt = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(query.limit)
    if query.actor_name:
        stmt = stmt.where(AuditRecord.actor_name == query.actor_name)
    if query.department_id is not None:
        stmt = stmt.where(AuditRecord.department_id == query.department_id)
    if query.target:
        # `user:` finds every user; `user:3` finds exactly user 3.
        if query.target.endswith(":"):
            stmt = stmt.where(AuditRecord.target.startswith(query.target, autoescape=True))
        else:
            stmt = stmt.where(AuditRecord.target == query.target)
    if query.kind:
        stmt = stmt.where(AuditRecord.kind == query.kind)
    if query.since:
        stmt = stmt.where(AuditRecord.occurred_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditRecord.occurred_at < query.until)
    if query.before_seq is not None:
        stmt = stmt.where(AuditRecord.seq < query.before_seq)
    return list(session.scalars(stmt))


def event_count(session: Session) -> int:
    """How many events the chain holds, from its head."""
    head = _head(session)
    return head.seq if head else 0


def _head(session: Session) -> Any:
    return session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one_or_none()
