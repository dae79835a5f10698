"""Governance tables: field classification per version, level overrides, grade reviews, quality rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from digigov.core.db import Base, utcnow


class FieldDetection(Base):
    """What one field of one version holds, as detected from its name and values, and its level.

    Rows are written for every field of every version (a field with no sensitive kind has
    `kind` NULL and level L1), so a version's classification is complete or absent.
    """

    __tablename__ = "field_detection"
    __table_args__ = (UniqueConstraint("version_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(20), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    match_share: Mapped[float] = mapped_column(Float)
    sampled: Mapped[int] = mapped_column(Integer)  # non-empty values the shares were computed over
    by_name: Mapped[bool] = mapped_column(Boolean)  # the field's name pointed at the kind
    detected_level: Mapped[str] = mapped_column(String(4))
    category: Mapped[str] = mapped_column(String(50))


class LevelOverride(Base):
    """A steward's level for a field of a resource, with the reason; the newest one per field applies."""

    __tablename__ = "level_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    field: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(4))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GradeReview(Base):
    """The grade a version gave its resource; a change from the previous grade waits for a reviewer."""

    __tablename__ = "grade_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id"), index=True)
    grade: Mapped[str] = mapped_column(String(4))
    previous_grade: Mapped[str | None] = mapped_column(String(4))
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QualityRule(Base):
    """One quality rule (质量规则) of a resource: a check of a kind on one or more fields, with parameters.

    Rules are data: declared from YAML or JSON, or suggested from detections and key fields.
    A rule left out of a newer declaration is disabled, not deleted, so past results keep their rule.
    """

    __tablename__ = "quality_rule"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))  # not_null, unique, pattern, … (see rules.py)
    fields: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(20))  # declared | suggested
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QualityThreshold(Base):
    """The score below which a resource's version is flagged; resources without a row use the default."""

    __tablename__ = "quality_threshold"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), primary_key=True)
    threshold: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QualityRun(Base):
    """The quality of one version: overall and per-dimension scores, and whether it fell below the threshold.

    A version checked again (after its rules changed) gets another run; the newest one is its report.
    """

    __tablename__ = "quality_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id"), index=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float | None] = mapped_column(Float)  # None: no rule could be scored
    dimensions: Mapped[dict[str, float]] = mapped_column(JSON)
    threshold: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QualityResult(Base):
    """What one rule found in one run: rows checked and failed, a capped sample, or why it could not run."""

    __tablename__ = "quality_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_run.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("quality_rule.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(20))
    checked_rows: Mapped[int] = mapped_column(BigInteger)
    failed_rows: Mapped[int] = mapped_column(BigInteger)
    sample: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # failing rows: `_id` and the offending values
    error: Mapped[str | None] = mapped_column(Text)
