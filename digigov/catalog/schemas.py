"""Pydantic shapes of catalog data in and out of the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from digigov.catalog.vocabulary import (
    BaseType,
    Category,
    FieldType,
    Grade,
    OpenType,
    ResourceState,
    ShareType,
    UpdateCycle,
)
from digigov.core.types import UtcDateTime


def single_line(value: str) -> str:
    """A one-line text: no control characters, trimmed."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value.strip()


def plain_text(value: str) -> str:
    """A text that may hold line breaks and tabs but no other control characters, trimmed."""
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value.strip()


Line = Annotated[str, Field(max_length=200), AfterValidator(single_line)]
Prose = Annotated[str, Field(max_length=5000), AfterValidator(plain_text)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
Words = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=50), AfterValidator(single_line)]], Field(max_length=30)
]


class FieldSpec(BaseModel):
    """A field as a steward declares it."""

    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(single_line)]
    title: Line = ""
    type: FieldType = FieldType.string
    is_key: bool = False
    data_element: Annotated[str, Field(max_length=100), AfterValidator(single_line)] | None = None
    description: Prose = ""


class FieldRead(FieldSpec):
    model_config = ConfigDict(from_attributes=True)
    position: int


class ResourceChanges(BaseModel):
    """Metadata a steward may set or change; every key optional (a patch)."""

    title: Annotated[Line, Field(min_length=1)] | None = None
    abstract: Prose | None = None
    category: Category | None = None
    base_type: BaseType | None = None
    subjects: Words | None = None
    keywords: Words | None = None
    update_cycle: UpdateCycle | None = None
    share_type: ShareType | None = None
    share_condition: Prose | None = None
    share_basis: Prose | None = None
    open_type: OpenType | None = None
    open_condition: Prose | None = None
    format: Annotated[str, Field(max_length=50), AfterValidator(single_line)] | None = None
    published_on: date | None = None
    contact: Line | None = None
    fields: Annotated[list[FieldSpec], Field(max_length=2000)] | None = None


class ResourceCreate(ResourceChanges):
    """A new resource: code, title and department are required; the rest can come later."""

    code: Code
    title: Annotated[Line, Field(min_length=1)]
    department_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    category: Category = Category.department
    update_cycle: UpdateCycle = UpdateCycle.irregular
    share_type: ShareType = ShareType.conditional
    open_type: OpenType = OpenType.restricted


class Completeness(BaseModel):
    score: int
    missing: list[str]


class ResourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    title: str
    abstract: str
    department_id: int
    category: Category
    base_type: BaseType | None
    subjects: list[str]
    keywords: list[str]
    update_cycle: UpdateCycle
    share_type: ShareType
    share_condition: str
    share_basis: str
    open_type: OpenType
    open_condition: str
    format: str
    published_on: date | None
    contact: str
    grade: Grade | None
    state: ResourceState
    return_reason: str
    pending_changes: dict[str, Any] | None
    created_by: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    fields: list[FieldRead]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def labels(self) -> dict[str, str | None]:
        """Chinese labels of the coded values."""
        return {
            "category": self.category.label,
            "base_type": self.base_type.label if self.base_type else None,
            "update_cycle": self.update_cycle.label,
            "share_type": self.share_type.label,
            "open_type": self.open_type.label,
            "grade": self.grade.label if self.grade else None,
            "state": self.state.label,
        }


class ReasonBody(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(plain_text)]


class FacetCount(BaseModel):
    value: str
    label: str
    count: int


class SearchResult(BaseModel):
    count: int
    results: list[ResourceRead]
    facets: dict[str, list[FacetCount]]
