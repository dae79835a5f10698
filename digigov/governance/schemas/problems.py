"""Governance API shapes: problem data (问题数据)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field

from digigov.core.types import UtcDateTime

Line = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f]*$")]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]


class ProblemCreate(BaseModel):
    """A problem a user raises (source `consumer`); omit the key for a whole-field problem."""

    resource_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
    field: Name
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    key_field: Name | None = None
    key_value: Line | None = None
    observed: Line | None = None
    expected: Line | None = None
    validator: Annotated[str, Field(pattern=r"^(resident_id|uscc|bank_card)$")] | None = None
    version_number: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


class FixedBody(BaseModel):
    version_number: Annotated[int, Field(ge=1, le=2_147_483_647, description="The version that holds the fix.")]


class ReasonBody(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class VerificationRead(BaseModel):
    passed: bool
    version: int
    checked_rows: int
    failing_rows: int
    sample: str | None
    reason: str
    reason_zh: str


class ProblemRead(BaseModel):
    id: int
    item_id: int
    resource: str
    resource_title: str
    version: int
    department_id: int
    field: str
    key_field: str | None
    key_value: str | None
    description: str
    observed: str | None
    expected: str | None
    validator: str | None
    source: str
    rule_id: int | None
    raised_by: str
    raised_on: date
    raises: int
    state: str
    state_label: str
    due_on: date
    due_provisional: bool
    overdue: bool
    extended: bool
    extension_reason: str
    escalated_at: UtcDateTime | None
    answer: str | None
    answer_reason: str
    answered_by: str | None
    answered_on: date | None
    fixed_version: int | None
    verified: bool | None
    verification: VerificationRead | None
    closed_on: date | None

    @classmethod
    def of(cls, described: dict[str, Any]) -> ProblemRead:
        return cls.model_validate(described)


class ProblemStepRead(BaseModel):
    action: str
    label: str
    from_state: str | None
    to_state: str
    actor_name: str
    note: str
    at: UtcDateTime


class ProblemStatsRead(BaseModel):
    department_id: int
    department: str
    raised: int
    closed: int
    closed_on_time: int
    rejected: int
    open: int
    overdue: int
    escalated: int
    median_working_days_to_close: float | None
