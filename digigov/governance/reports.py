"""Quality reports: one version's scores and results, a resource's trend, and the department league table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource, may_see
from digigov.catalog.models import Resource
from digigov.core.auth import Actor, require
from digigov.core.config import Settings
from digigov.core.errors import NotFound
from digigov.datastore import Version, allows_rows, get_version
from digigov.governance.models import QualityResult, QualityRun
from digigov.governance.quality import latest_run, run_results
from digigov.governance.rows import Shown, Viewer
from digigov.identity.models import Department

SAMPLE_ROW_NUMBERS = {"_id", "first_id"}  # a sample's own keys (the row and, for `unique`, the row it repeats)


@dataclass(frozen=True)
class QualityReport:
    """A version's newest run with its results and their samples as this reader may see them.

    Samples are rows: left out (`samples_shown` false) for those who may not read the resource's
    rows, and masked by each field's class for those who may read them only masked (`samples_masked`).
    """

    resource: Resource
    version: Version
    run: QualityRun
    results: list[QualityResult]
    samples_shown: bool
    samples: dict[int, list[dict[str, Any]]]  # by result id
    samples_masked: bool = False


@dataclass(frozen=True)
class TrendPoint:
    """One version's newest scores, for a resource's trend."""

    number: int
    created_at: datetime
    rows: int
    score: float | None
    dimensions: dict[str, float]
    threshold: float
    flagged: bool


@dataclass(frozen=True)
class LeagueRow:
    """A department's standing: the mean score of its resources' latest checked versions."""

    department_id: int
    department: str
    resources: int
    score: float
    flagged: int


def quality_report(
    session: Session, actor: Actor, *, resource_code: str, number: int | None = None, settings: Settings
) -> QualityReport:
    """The quality report of a version (the newest by default); NotFound if it was never checked.

    `settings` holds the platform's secret, which keys the hash masks of samples shown masked.
    """
    require(actor, "governance.quality.read")
    resource = get_resource(session, actor, resource_code)
    version = get_version(session, actor, resource_code, number)
    run = latest_run(session, version.id)
    if run is None:
        raise NotFound(
            f"Version {version.number} of {resource_code} has not been checked; run `digigov quality run`.",
            f"数据资源 {resource_code} 的第 {version.number} 版尚未进行质量检查。",
        )
    return _report(session, Viewer(actor, settings), resource, version, run)


def report_of_run(session: Session, actor: Actor, run: QualityRun, *, settings: Settings) -> QualityReport:
    """The report of one run (such as the one just made)."""
    resource, version = session.get(Resource, run.resource_id), session.get(Version, run.version_id)
    assert resource is not None and version is not None  # a run points at both
    return _report(session, Viewer(actor, settings), resource, version, run)


def _report(session: Session, viewer: Viewer, resource: Resource, version: Version, run: QualityRun) -> QualityReport:
    results = run_results(session, run.id)
    if not allows_rows(viewer.actor, resource):  # samples are rows, masked as the rows are
        return QualityReport(resource, version, run, results, False, {r.id: [] for r in results})
    shown = viewer.shown(session, version)
    samples = {r.id: [_masked_sample(shown, row) for row in r.sample or []] for r in results}
    return QualityReport(resource, version, run, results, True, samples, shown.masked)


def _masked_sample(shown: Shown, row: dict[str, Any]) -> dict[str, Any]:
    """One failing row as this reader sees it: its row numbers as they are, its field values masked."""
    return {k: v if k in SAMPLE_ROW_NUMBERS else shown.value(k, v) for k, v in row.items()}


def quality_trend(session: Session, actor: Actor, *, resource_code: str) -> list[TrendPoint]:
    """Each checked version's newest scores, oldest version first."""
    require(actor, "governance.quality.read")
    resource = get_resource(session, actor, resource_code)
    newest = (
        select(func.max(QualityRun.id)).where(QualityRun.resource_id == resource.id).group_by(QualityRun.version_id)
    )
    stmt = (
        select(QualityRun, Version)
        .join(Version, Version.id == QualityRun.version_id)
        .where(QualityRun.id.in_(newest))
        .order_by(Version.number)
    )
    return [
        TrendPoint(v.number, v.created_at, run.rows, run.score, run.dimensions, run.threshold, run.flagged)
        for run, v in session.execute(stmt).all()
    ]


@dataclass(frozen=True)
class ResourceScore:
    """A resource's latest checked version and its newest scores."""

    resource: Resource
    department: str
    number: int
    score: float | None
    flagged: bool


def resource_scores(session: Session, actor: Actor) -> list[ResourceScore]:
    """The latest checked version of every resource the actor may see, with its newest run, lowest score first."""
    require(actor, "governance.quality.read")
    newest_version = (
        select(func.max(Version.id)).join(QualityRun, QualityRun.version_id == Version.id).group_by(Version.resource_id)
    )
    newest_run = (
        select(func.max(QualityRun.id)).where(QualityRun.version_id.in_(newest_version)).group_by(QualityRun.version_id)
    )
    stmt = (
        select(QualityRun, Resource, Department.name, Version.number)
        .join(Resource, Resource.id == QualityRun.resource_id)
        .join(Department, Department.id == Resource.department_id)
        .join(Version, Version.id == QualityRun.version_id)
        .where(QualityRun.id.in_(newest_run))
    )
    found = [
        ResourceScore(resource, department, number, run.score, run.flagged)
        for run, resource, department, number in session.execute(stmt).all()
        if may_see(actor, resource)
    ]
    return sorted(found, key=lambda s: (s.score is None, s.score or 0, s.resource.code))


def department_league(session: Session, actor: Actor) -> list[LeagueRow]:
    """Departments ranked by the mean score of their visible resources' latest checked versions, best first."""
    scores: dict[int, tuple[str, list[float], int]] = {}
    for row in resource_scores(session, actor):
        if row.score is None:
            continue
        name, values, flagged = scores.get(row.resource.department_id, (row.department, [], 0))
        values.append(row.score)
        scores[row.resource.department_id] = (name, values, flagged + int(row.flagged))
    rows = [LeagueRow(d, name, len(v), sum(v) / len(v), f) for d, (name, v, f) in scores.items()]
    return sorted(rows, key=lambda row: (-row.score, row.department))
