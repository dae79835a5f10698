"""Permissions and audit events of quality rules (质量规则)."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent
from digigov.core.auth import Role, declare

declare(
    "governance.quality.read",
    "See quality scores, rules, trends and the department league table of resources one may see.",
    "查看数据质量",
    {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector},
    department_scoped=False,
)
declare(
    "governance.quality.manage",
    "Declare, suggest and disable quality rules, set the quality threshold and run the rules "
    "on resources of one's department.",
    "管理数据质量规则",
    {Role.platform_admin, Role.data_steward},
)


@dataclass(frozen=True)
class QualityEvent(AuditEvent):
    resource_id: int
    code: str

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class QualityRulesLoaded(QualityEvent):
    kind = "governance.quality_rules_loaded"
    description = "Quality rules were declared for a resource; declared rules left out were disabled."
    rules: tuple[str, ...]
    disabled: tuple[str, ...]


@dataclass(frozen=True)
class QualityRulesSuggested(QualityEvent):
    kind = "governance.quality_rules_suggested"
    description = "Quality rules were suggested from field detections and key fields and added to a resource."
    rules: tuple[str, ...]


@dataclass(frozen=True)
class QualityThresholdSet(QualityEvent):
    kind = "governance.quality_threshold_set"
    description = "The quality score below which a resource's versions are flagged was changed."
    threshold: float


@dataclass(frozen=True)
class QualityChecked(QualityEvent):
    kind = "governance.quality_checked"
    description = "A version's quality rules were run and its scores stored."
    number: int
    score: float | None
    flagged: bool


@dataclass(frozen=True)
class QualityFlagged(QualityEvent):
    kind = "governance.quality_flagged"
    description = "A version's quality score fell below its resource's threshold; the version is flagged."
    number: int
    score: float
    threshold: float
