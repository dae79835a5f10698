"""Audit API: search events and verify the chain (auditors)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from digigov.core import audit
from digigov.core.deps import ActorDep, SessionDep, language
from digigov.core.errors import Invalid
from digigov.core.types import UtcDateTime

router = APIRouter(prefix="/audit", tags=["audit"])

SafeText = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")]


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: UtcDateTime
    actor_id: int | None
    actor_name: str
    department_id: int | None
    kind: str
    target: str
    detail: str
    hash: str


class ChainRead(BaseModel):
    ok: bool
    count: int
    broken_at: int | None
    reason: str
    summary: str


@router.get("/events", response_model=list[AuditEventRead])
def events(
    session: SessionDep,
    actor: ActorDep,
    actor_name: SafeText = None,
    department_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    target: SafeText = None,
    kind: SafeText = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[audit.AuditRecord]:
    """Events newest first; filter by actor, department, target (`user:` for a type), kind, time."""
    query = audit.AuditQuery(
        actor_name=actor_name,
        department_id=department_id,
        target=target,
        kind=kind,
        since=_naive(since),
        until=_naive(until),
        before_seq=before_seq,
        limit=limit,
    )
    return audit.search_events(session, actor, query)


def _naive(value: datetime | None) -> datetime | None:
    """Stored times are UTC without a zone; convert an aware filter to match."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise Invalid(f"{value} is out of range.", f"{value} 超出范围。") from None


@router.get("/verify", response_model=ChainRead)
def verify(request: Request, session: SessionDep, actor: ActorDep) -> ChainRead:
    """Recompute the hash chain and report the first broken link (reason in the caller's language)."""
    report = audit.verify(session, actor)
    reason = report.reason if language(request) == "en" else report.reason_zh
    return ChainRead(
        ok=report.ok, count=report.count, broken_at=report.broken_at, reason=reason, summary=report.summary()
    )
