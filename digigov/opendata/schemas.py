"""Open-data shapes: the vocabularies (profile kinds, states) and the portal API's bodies and replies."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from digigov.core.types import UtcDateTime

MAX_DAYS = 366  # an application runs at most a year; renewing is a new application
COMMENT_CHARS = 500


def _plain(value: str) -> str:
    """Plain text: line breaks and tabs, no other control characters; trimmed."""
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value.strip()


def _line(value: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value.strip()


Line = Annotated[str, Field(max_length=200), AfterValidator(_line)]
Prose = Annotated[str, Field(max_length=2000), AfterValidator(_plain)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]


class ProfileKind(StrEnum):
    enterprise = "enterprise"
    researcher = "researcher"

    @property
    def label(self) -> str:
        return {"enterprise": "企业", "researcher": "科研人员"}[self.value]


class ApplicationState(StrEnum):
    pending_source = "pending_source"
    pending_platform = "pending_platform"
    approved = "approved"
    refused = "refused"
    expired = "expired"  # approved, and past its end date (computed, never stored)

    @property
    def label(self) -> str:
        return {
            "pending_source": "待数源部门审核",
            "pending_platform": "待平台审核",
            "approved": "已批准",
            "refused": "未批准",
            "expired": "已到期",
        }[self.value]


class DataRequestState(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"

    @property
    def label(self) -> str:
        return {"pending": "待答复", "accepted": "已采纳", "declined": "暂不开放"}[self.value]


class RegistrationCreate(BaseModel):
    """A visitor's registration: an account, and what it is (an enterprise with its credit code, or a researcher)."""

    username: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.]+$")]
    display_name: Line = ""
    password: Annotated[str, Field(min_length=1, max_length=128)]
    kind: ProfileKind
    organisation: Annotated[Line, Field(description="The enterprise's registered name, or the institution.")]
    uscc: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="统一社会信用代码 (GB 32100), for enterprises."
    )
    contact: Annotated[Line, Field(max_length=100)] = ""


class ProfileRead(BaseModel):
    user_id: int
    username: str
    display_name: str
    kind: ProfileKind
    kind_label: str
    organisation: str
    uscc: str | None
    contact: str
    created_at: UtcDateTime


class FieldRead(BaseModel):
    """A field of an open resource and how the portal serves it (its mask follows its classification)."""

    name: str
    title: str
    type: str
    type_label: str
    mask: str
    mask_label: str


class OpenResourceRead(BaseModel):
    """An open resource as the portal shows it: metadata, the newest version, downloads and ratings."""

    code: str
    title: str
    abstract: str
    department: str
    category: str
    category_label: str
    open_type: str
    open_type_label: str
    open_condition: str
    subjects: list[str]
    keywords: list[str]
    update_cycle: str
    update_cycle_label: str
    format: str
    contact: str
    published_on: date | None
    updated_at: UtcDateTime
    version: int | None
    rows: int | None
    downloads: int
    rating: float | None
    ratings: int
    fields: list[FieldRead] = Field(default_factory=list)


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class SearchRead(BaseModel):
    count: int
    results: list[OpenResourceRead]
    facets: dict[str, list[FacetCount]]


class RowsRead(BaseModel):
    """A page of masked rows in file order; pass `next` back as `after`."""

    version: int
    fields: list[str]
    masks: dict[str, str]
    rows: list[dict[str, Any]]
    next: int | None = None


class RatingCreate(BaseModel):
    stars: Annotated[int, Field(ge=1, le=5)]


class RatingRead(BaseModel):
    average: float | None
    count: int
    mine: int | None = None


class CommentCreate(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=COMMENT_CHARS), AfterValidator(_plain)]


class CommentRead(BaseModel):
    id: int
    author: str
    body: str
    created_at: UtcDateTime
    hidden: bool


class HideBody(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_plain)]


class DataRequestCreate(BaseModel):
    """数据需求: what data is wanted, why, and (if known) which department holds it."""

    title: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_line)]
    description: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_plain)]
    department_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None


class DataRequestAnswer(BaseModel):
    accept: bool
    reason: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_plain)]
    resource_code: Code | None = Field(None, description="The open resource that answers the request, if any.")


class DataRequestRead(BaseModel):
    id: int
    title: str
    description: str
    asked_by: str  # the kind and organisation, never a person's name
    department: str | None
    state: DataRequestState
    state_label: str
    answer: str
    resource_code: str | None
    created_at: UtcDateTime
    answered_at: UtcDateTime | None


class ApplicationCreate(BaseModel):
    """An application for a 受限开放 resource: why, the security commitment, and for how many days."""

    resource_code: Code
    purpose: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_plain)]
    commitment: bool = Field(description="The security commitment (安全承诺): data kept safe, used only as stated.")
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 90


class Decision(BaseModel):
    approve: bool
    reason: Prose = ""


class ApplicationRead(BaseModel):
    id: int
    resource: str
    title: str
    applicant: str
    organisation: str
    profile: str
    purpose: str
    commitment: bool
    days: int
    state: ApplicationState
    state_label: str
    source_reason: str
    platform_reason: str
    starts_on: date | None
    ends_on: date | None
    created_at: UtcDateTime
