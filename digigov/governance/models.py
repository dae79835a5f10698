"""Governance tables: field classification per version, level overrides, grade reviews, problem reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
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


class ProblemReport(Base):
    """A problem-data report (问题数据): what is wrong where, and the closed-loop work item that handles it.

    The work item carries the state, the assignee department and the deadline; this row carries the
    data: the resource, the version it was raised against, the key and field, what was seen and
    what is expected, and the source department's answer with its verification.
    """

    __tablename__ = "problem_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    field: Mapped[str] = mapped_column(String(100))
    key_field: Mapped[str | None] = mapped_column(String(100))
    key_value: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    observed: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    validator: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), index=True)  # consumer / rule / conflict
    rule_id: Mapped[int | None] = mapped_column(Integer)  # no FK: quality rules live elsewhere
    raised_by: Mapped[str] = mapped_column(String(100), index=True)
    raised_on: Mapped[date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(String(20))  # fixed / rejected
    answer_reason: Mapped[str] = mapped_column(Text, default="")
    fixed_version_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_version.id"))
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_on: Mapped[date | None] = mapped_column(Date)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    closed_on: Mapped[date | None] = mapped_column(Date)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProblemRaise(Base):
    """One raise of a problem: who and when. Raising an open problem again adds a row, not a report."""

    __tablename__ = "problem_raise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem_report.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    raised_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
