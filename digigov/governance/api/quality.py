"""Governance API: quality rules, runs, reports, trends and the department league table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from digigov.core.deps import ActorDep, SessionDep, SettingsDep
from digigov.governance import quality, reports, suggest
from digigov.governance.models import QualityRule, QualityThreshold
from digigov.governance.rules import RuleSet
from digigov.governance.schemas.quality import (
    LeagueRowRead,
    QualityReportRead,
    QualityRuleRead,
    ThresholdBody,
    ThresholdRead,
    TrendPointRead,
)

router = APIRouter(prefix="/governance", tags=["governance"])

CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
Number = Annotated[int | None, Query(ge=1, le=2_147_483_647)]


@router.get("/resources/{code}/quality", response_model=QualityReportRead)
def quality_report(
    code: CodePath, session: SessionDep, actor: ActorDep, settings: SettingsDep, number: Number = None
) -> QualityReportRead:
    """The quality report of a version (the newest by default): scores, each rule's counts and sample."""
    report = reports.quality_report(session, actor, resource_code=code, number=number, settings=settings)
    return QualityReportRead.of(report)


@router.post("/resources/{code}/quality/run", response_model=QualityReportRead)
def run_quality(
    code: CodePath, session: SessionDep, actor: ActorDep, settings: SettingsDep, number: Number = None
) -> QualityReportRead:
    """Run the resource's enabled rules on a version now (the newest by default)."""
    run = quality.run_quality(session, actor, home=settings.home, resource_code=code, number=number)
    return QualityReportRead.of(reports.report_of_run(session, actor, run, settings=settings))


@router.get("/resources/{code}/quality/rules", response_model=list[QualityRuleRead])
def list_rules(code: CodePath, session: SessionDep, actor: ActorDep) -> list[QualityRule]:
    """The resource's quality rules, enabled or not."""
    return quality.list_rules(session, actor, resource_code=code)


@router.post("/resources/{code}/quality/rules", response_model=list[QualityRuleRead])
def load_rules(code: CodePath, body: RuleSet, session: SessionDep, actor: ActorDep) -> list[QualityRule]:
    """Declare rules (the JSON of a rules YAML file): added or replaced by name; declared ones left out are disabled."""
    return quality.load_rules(session, actor, resource_code=code, rule_set=body)


@router.post("/resources/{code}/quality/rules/suggest", response_model=list[QualityRuleRead])
def suggest_rules(code: CodePath, session: SessionDep, actor: ActorDep) -> list[QualityRule]:
    """Add the rules suggested from the latest version's detections and the key fields; returns those added."""
    return suggest.suggest_rules(session, actor, resource_code=code)


@router.put("/resources/{code}/quality/threshold", response_model=ThresholdRead)
def set_threshold(code: CodePath, body: ThresholdBody, session: SessionDep, actor: ActorDep) -> QualityThreshold:
    """Set the score below which the resource's versions are flagged."""
    return quality.set_threshold(session, actor, resource_code=code, threshold=body.threshold)


@router.get("/resources/{code}/quality/trend", response_model=list[TrendPointRead])
def quality_trend(code: CodePath, session: SessionDep, actor: ActorDep) -> list[reports.TrendPoint]:
    """Each checked version's newest scores, oldest first."""
    return reports.quality_trend(session, actor, resource_code=code)


@router.get("/quality/league", response_model=list[LeagueRowRead])
def department_league(session: SessionDep, actor: ActorDep) -> list[reports.LeagueRow]:
    """Departments ranked by the mean quality score of their resources' latest versions."""
    return reports.department_league(session, actor)
