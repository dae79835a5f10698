"""Governance tables: classification, grade reviews, problem reports, data elements, quality rules and runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
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


class CodeTable(Base):
    """A code table (代码表) of a standard, e.g. GB/T 2260 regions; its values are `CodeValue` rows."""

    __tablename__ = "code_table"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)  # the standard's number, e.g. "GB/T 2260"
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")  # where the values were loaded from
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CodeValue(Base):
    """One code of a code table with its label, parent code and the years it was in use (None: open)."""

    __tablename__ = "code_value"
    __table_args__ = (UniqueConstraint("table_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("code_table.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), default="")  # e.g. section/division, province/city/county
    parent_code: Mapped[str | None] = mapped_column(String(20))
    valid_from: Mapped[int | None] = mapped_column(Integer)
    valid_to: Mapped[int | None] = mapped_column(Integer)
    sort_key: Mapped[str] = mapped_column(String(30))  # the standard's order (GB/T 4754: section letter first)


class DataElement(Base):
    """A data element (数据元): one definition and standard, and its one authoritative source (一数一源一标准).

    Catalog fields name the element they conform to by `identifier` (`resource_field.data_element`).
    """

    __tablename__ = "data_element"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[str] = mapped_column(Text, default="")
    value_type: Mapped[str] = mapped_column(String(20))
    format: Mapped[str | None] = mapped_column(String(200))  # a regular expression the values match
    validator: Mapped[str | None] = mapped_column(String(20))  # resident_id / uscc / bank_card
    code_table: Mapped[str | None] = mapped_column(String(50))  # CodeTable.name
    source_resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id"), index=True)
    source_field: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ConflictRun(Base):
    """One comparison of an element between its authoritative source and one other resource, on a key element.

    `compared` keys were found on both sides; `conflicts` of them (an exact count) hold a different
    value; at most `elements.SAMPLE` of those are kept as `ElementConflict` rows.
    """

    __tablename__ = "element_conflict_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("data_element.id"), index=True)
    key_element: Mapped[str] = mapped_column(String(32))
    source_resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    source_field: Mapped[str] = mapped_column(String(100))
    source_key_field: Mapped[str] = mapped_column(String(100))
    source_version: Mapped[int] = mapped_column(Integer)
    other_resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    other_field: Mapped[str] = mapped_column(String(100))
    other_key_field: Mapped[str] = mapped_column(String(100))
    other_version: Mapped[int] = mapped_column(Integer)
    compared: Mapped[int] = mapped_column(Integer)
    conflicts: Mapped[int] = mapped_column(Integer)
    found_by: Mapped[str] = mapped_column(String(100))
    found_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ElementConflict(Base):
    """One key whose value in another resource differs from the authoritative source's, as a run found it."""

    __tablename__ = "element_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("element_conflict_run.id"), index=True)
    key_value: Mapped[str] = mapped_column(String(200))
    source_value: Mapped[str] = mapped_column(Text)
    other_value: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[bool] = mapped_column(Boolean)  # not in the previous run of the same pair


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
