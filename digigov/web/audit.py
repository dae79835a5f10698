"""The audit log page: filter events, page back through them, export them as CSV, verify the chain."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.audit import AuditEvent, AuditQuery, AuditRecord
from digigov.core.deps import SessionDep
from digigov.core.errors import Invalid
from digigov.core.templating import BEIJING, render
from digigov.identity import service
from digigov.identity.pages import Page, PageDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXPORT_BATCH = 1000
EXPORT_MAX = 50_000
CSV_HEADER = ["seq", "occurred_at", "actor_id", "actor_name", "department_id", "kind", "target", "detail", "hash"]
SafeText = Annotated[str | None, Field(max_length=200, pattern=r"^[^\x00-\x1f]*$")]


def detail_pairs(detail: str) -> list[tuple[str, str]]:
    """A stored detail as key-value pairs for reading; strings bare, other values as JSON.

    >>> detail_pairs('{"code":"HZ-SJJ","parent":null,"roles":["auditor"]}')
    [('code', 'HZ-SJJ'), ('parent', 'null'), ('roles', '["auditor"]')]
    """
    try:
        values = json.loads(detail)
    except ValueError:
        return [("", detail)]
    if not isinstance(values, dict):
        return [("", detail)]
    return [(key, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for key, v in values.items()]


class AuditFilter(BaseModel):
    """The filter form; a blank field means "any". Dates are Beijing calendar days, both inclusive."""

    model_config = ConfigDict(extra="ignore")

    actor: SafeText = None
    department: int | None = Field(None, ge=1, le=2_147_483_647)
    target: SafeText = None
    kind: SafeText = None
    since: date | None = None
    until: date | None = None
    before_seq: int | None = Field(None, ge=1, le=2_147_483_647)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_any(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: (value.strip() or None) if isinstance(value, str) else value for key, value in data.items()}
        return data

    def query(self, *, limit: int, before_seq: int | None = None) -> AuditQuery:
        """The service query for this filter."""
        return AuditQuery(
            actor_name=self.actor,
            department_id=self.department,
            target=self.target,
            kind=self.kind,
            since=_utc_midnight(self.since),
            until=_utc_midnight(self.until, days_later=1),
            before_seq=before_seq if before_seq is not None else self.before_seq,
            limit=limit,
        )

    def link(self, **changes: Any) -> str:
        """The filter as a query string, with some fields changed (e.g. the next page)."""
        values = self.model_dump() | changes
        return urlencode({key: str(value) for key, value in values.items() if value is not None})


def _utc_midnight(day: date | None, days_later: int = 0) -> datetime | None:
    """The UTC instant a Beijing calendar day begins, as stored (naive)."""
    if day is None:
        return None
    try:
        start = datetime.combine(day, time(), BEIJING) + timedelta(days=days_later)
        return start.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise Invalid(f"{day} is out of range.", f"日期 {day} 超出范围。") from None


FilterDep = Annotated[AuditFilter, Query()]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, page: PageDep, filters: FilterDep) -> Response:
    """Events matching the filter, newest first; an htmx request gets only the results table."""
    found = audit.search_events(session, page.actor, filters.query(limit=PAGE_SIZE + 1))
    context = _context(session, page, filters, found)
    return _render(request, "audit.html", "audit_results.html", context)


@router.get("/audit/verify", response_class=HTMLResponse)
def verify_page(request: Request, session: SessionDep, page: PageDep, filters: FilterDep) -> Response:
    """Recompute the hash chain and show whether it is whole."""
    report = audit.verify(session, page.actor)
    if _partial(request):
        return _render(request, "audit.html", "audit_verify.html", {"report": report})
    found = audit.search_events(session, page.actor, filters.query(limit=PAGE_SIZE + 1))
    context = _context(session, page, filters, found) | {"report": report}
    return render(request, "audit.html", context)


@router.get("/audit/export.csv")
def export_csv(session: SessionDep, page: PageDep, filters: FilterDep) -> Response:
    """Every event matching the filter as CSV (UTF-8 with BOM so Excel reads the Chinese)."""
    events = _all_events(session, page, filters)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in events:
        when = e.occurred_at.replace(tzinfo=UTC).astimezone(BEIJING).isoformat(timespec="microseconds")
        writer.writerow([e.seq, when, e.actor_id, e.actor_name, e.department_id, e.kind, e.target, e.detail, e.hash])
    name = f"audit-{datetime.now(BEIJING):%Y%m%d-%H%M%S}.csv"
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _all_events(session: Session, page: Page, filters: AuditFilter) -> list[AuditRecord]:
    events: list[AuditRecord] = []
    before = filters.before_seq
    while True:
        batch = audit.search_events(session, page.actor, filters.query(limit=EXPORT_BATCH, before_seq=before))
        events.extend(batch)
        if len(events) > EXPORT_MAX:
            raise Invalid(
                f"More than {EXPORT_MAX} events match; narrow the dates and export in parts.",
                f"符合条件的事件超过 {EXPORT_MAX} 条，请缩小日期范围后分批导出。",
            )
        if len(batch) < EXPORT_BATCH:
            return events
        before = batch[-1].seq


def _context(session: Session, page: Page, filters: AuditFilter, found: list[AuditRecord]) -> dict[str, Any]:
    departments = service.list_departments(session, page.actor)
    events = found[:PAGE_SIZE]
    more = len(found) > PAGE_SIZE
    return {
        "filters": filters,
        "events": events,
        "next_link": filters.link(before_seq=events[-1].seq) if more else None,
        "export_link": filters.link(before_seq=None),
        "departments": departments,
        "names": {d.id: d.name for d in departments},
        "kinds": sorted(AuditEvent.registry),
        "pairs": detail_pairs,
    }


def _partial(request: Request) -> bool:
    # htmx restoring history it no longer caches asks for the whole page.
    return "hx-request" in request.headers and "hx-history-restore-request" not in request.headers


def _render(request: Request, full: str, fragment: str, context: dict[str, Any]) -> Response:
    response = render(request, fragment if _partial(request) else full, context)
    response.headers["Vary"] = "HX-Request"
    return response


__all__ = ["AuditFilter", "router"]
