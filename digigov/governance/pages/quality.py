"""Governance pages: the quality league table, a resource's quality trend, and a version's quality report."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from digigov.catalog import get_resource
from digigov.catalog.vocabulary import UpdateCycle
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.templating import render
from digigov.governance import quality, reports
from digigov.governance.rules import DIMENSION_LABELS, DIMENSIONS
from digigov.identity.pages import PageDep

router = APIRouter(include_in_schema=False)


@router.get("/governance/quality", response_class=HTMLResponse)
def league_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """Departments ranked by quality, and every resource's latest score, lowest first."""
    context = {
        "league": reports.department_league(session, page.actor),
        "scores": reports.resource_scores(session, page.actor),
    }
    return render(request, "governance/quality_league.html", context)


@router.get("/governance/quality/{code}", response_class=HTMLResponse)
def trend_page(request: Request, session: SessionDep, page: PageDep, code: str) -> Response:
    """A resource's quality across its versions: an ECharts line per dimension and the threshold."""
    resource = get_resource(session, page.actor, code)
    trend = reports.quality_trend(session, page.actor, resource_code=code)
    points = [
        {
            "version": p.number,
            "score": p.score,
            "threshold": p.threshold,
            "flagged": p.flagged,
            **{d: p.dimensions.get(d) for d in DIMENSIONS},
        }
        for p in trend
    ]
    context = {
        "r": resource,
        "trend": trend,
        "rules": quality.list_rules(session, page.actor, resource_code=code),
        "chart": json.dumps({"points": points, "labels": DIMENSION_LABELS}, ensure_ascii=False),
        "labels": DIMENSION_LABELS,
        "cycle": UpdateCycle(resource.update_cycle).label,
    }
    return render(request, "governance/quality_trend.html", context)


@router.get("/governance/quality/{code}/{number}", response_class=HTMLResponse)
def report_page(
    request: Request, session: SessionDep, page: PageDep, settings: SettingsDep, code: str, number: int
) -> Response:
    """A version's quality report: the score by dimension, each rule's failed/checked rows and its sample."""
    report = reports.quality_report(session, page.actor, resource_code=code, number=number, settings=settings)
    return render(request, "governance/quality_report.html", {"report": report, "labels": DIMENSION_LABELS})
