"""Governance API shapes: quality rules, reports, trends and the league table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from digigov.core.types import UtcDateTime
from digigov.governance.reports import QualityReport


class QualityRuleRead(BaseModel):
    """A stored quality rule."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    dimension: str
    kind: str
    fields: list[str]
    params: dict[str, Any]
    origin: str
    enabled: bool
    created_by: str
    created_at: UtcDateTime


class ThresholdBody(BaseModel):
    """A quality threshold: versions scoring below it are flagged."""

    threshold: float = Field(ge=0, le=1)


class ThresholdRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    resource_id: int
    threshold: float
    set_by: str
    set_at: UtcDateTime


class RuleResultRead(BaseModel):
    """One rule's result; `sample` is empty for callers who may not read the resource's rows, masked for
    those who may read them only masked."""

    rule: str
    dimension: str
    checked_rows: int
    failed_rows: int
    score: float | None
    error: str | None
    sample: list[dict[str, Any]]


class QualityReportRead(BaseModel):
    """A version's quality: the keys of `digigov quality run --json`, and more."""

    resource: str
    version: int
    rows: int
    score: float | None
    dimensions: dict[str, float]
    threshold: float
    flagged: bool
    checked_at: UtcDateTime
    samples_shown: bool
    samples_masked: bool
    rules: list[RuleResultRead]

    @classmethod
    def of(cls, report: QualityReport) -> QualityReportRead:
        """The report as the API and the CLI give it."""
        return cls(
            resource=report.resource.code,
            version=report.version.number,
            rows=report.run.rows,
            score=report.run.score,
            dimensions=report.run.dimensions,
            threshold=report.run.threshold,
            flagged=report.run.flagged,
            checked_at=report.run.created_at,
            samples_shown=report.samples_shown,
            samples_masked=report.samples_masked,
            rules=[
                RuleResultRead(
                    rule=r.rule,
                    dimension=r.dimension,
                    checked_rows=r.checked_rows,
                    failed_rows=r.failed_rows,
                    score=None if r.error or not r.checked_rows else 1 - r.failed_rows / r.checked_rows,
                    error=r.error,
                    sample=report.samples[r.id],
                )
                for r in report.results
            ],
        )


class TrendPointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    created_at: UtcDateTime
    rows: int
    score: float | None
    dimensions: dict[str, float]
    threshold: float
    flagged: bool


class LeagueRowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    department_id: int
    department: str
    resources: int
    score: float
    flagged: int
