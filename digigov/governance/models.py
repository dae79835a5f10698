"""Governance tables: field classification per version, level overrides, grade reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
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
    masked_share: Mapped[float] = mapped_column(Float)  # of the matching values, those masked by the publisher
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
