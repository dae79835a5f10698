"""The usage statistics page (调用统计): calls and rows under grants by grant, consuming department or
resource, by kind and by day, as a table and two bar charts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from digigov.core import workdays
from digigov.core.auth import require
from digigov.core.deps import SessionDep
from digigov.core.errors import Invalid
from digigov.core.templating import render
from digigov.identity.pages import PageDep
from digigov.sharing import usage
from digigov.sharing.schemas import CALL_LABELS, UsageBy, UsageStatsRead

router = APIRouter(include_in_schema=False)
CHART_GROUPS = 20  # the busiest; the table lists all


def _day(text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"{text!r} is not a date (YYYY-MM-DD).", f"{label}“{text}”不是日期，格式应为 YYYY-MM-DD。"
        ) from None


def _by(text: str) -> UsageBy:
    try:
        return UsageBy(text or UsageBy.grant.value)
    except ValueError:
        known = "、".join(b.value for b in UsageBy)
        raise Invalid(f"Group by one of: {known}.", f"统计维度须为以下之一：{known}。") from None


def _label(by: UsageBy, key: int, code: str, name: str) -> str:
    return {UsageBy.grant: f"#{key} {code} · {name}", UsageBy.department: name, UsageBy.resource: name}[by]


def _chart(stats: UsageStatsRead) -> str:
    """The charts' data as JSON that is safe inside a <script> element; every day of the period is on the axis."""
    shown = stats.groups[:CHART_GROUPS]
    used = {kind for g in stats.groups for kind in g.by_kind}
    kinds = [k for k in CALL_LABELS if k in used] + sorted(used - set(CALL_LABELS))
    days = [stats.since + timedelta(days=n) for n in range((stats.until - stats.since).days + 1)]
    chart = {
        "groups": [_label(stats.by, g.key, g.code, g.name) for g in shown],
        "series": [
            {"name": CALL_LABELS.get(k, k), "data": [g.by_kind[k].calls if k in g.by_kind else 0 for g in shown]}
            for k in kinds
        ],
        "days": [[day.isoformat(), stats.by_day[day].calls if day in stats.by_day else 0] for day in days],
    }
    return json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c")


@router.get("/sharing/usage", response_class=HTMLResponse)
def usage_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    by: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Calls and rows in a period (the last 30 days by default) by grant, consuming department or resource."""
    require(page.actor, "sharing.usage.read")  # before the form is read: no right, no page
    form = {"by": by or UsageBy.grant.value, "since": since, "until": until}
    context: dict[str, Any] = {"form": form, "choices": list(UsageBy), "kinds": CALL_LABELS, "stats": None}
    try:
        group = _by(by)
        first, last = usage.period(_day(since, "起始日"), _day(until, "截止日"), today=workdays.china_today())
    except Invalid as error:
        return render(request, "sharing/usage.html", context | {"error": error.message_zh}, status=error.status)
    stats = usage.usage_statistics(session, page.actor, by=group, since=first, until=last)
    labels = {g.key: _label(group, g.key, g.code, g.name) for g in stats.groups}
    context |= {"stats": stats, "labels": labels, "chart": _chart(stats), "error": None}
    context["form"] |= {"since": first.isoformat(), "until": last.isoformat()}
    return render(request, "sharing/usage.html", context)
