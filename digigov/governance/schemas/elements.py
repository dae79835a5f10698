"""Pydantic shapes of governance data in and out of the API."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from digigov.catalog.schemas import plain_text, single_line
from digigov.catalog.vocabulary import FieldType
from digigov.core.types import UtcDateTime


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as error:
        raise ValueError(f"is not a regular expression: {error}") from None
    return value


ELEMENT_ID = r"^[A-Z][A-Z0-9.\-]{2,31}$"
Identifier = Annotated[str, Field(pattern=ELEMENT_ID)]
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(single_line)]
Definition = Annotated[str, Field(max_length=5000), AfterValidator(plain_text)]
Format = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(single_line), AfterValidator(_regex)]
Validator = Literal["resident_id", "uscc", "bank_card"]
TableName = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(single_line)]


class ElementChanges(BaseModel):
    """What an editor may change about an element; every key optional (a patch). The identifier never changes."""

    name: Name | None = None
    definition: Definition | None = None
    value_type: FieldType | None = None
    format: Format | None = None
    validator: Validator | None = None
    code_table: TableName | None = None


class ElementCreate(ElementChanges):
    """A new element: a name is required; without an identifier the next free `DEnnnn` is given."""

    identifier: Identifier | None = None
    name: Name
    value_type: FieldType = FieldType.string


class ElementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    identifier: str
    name: str
    definition: str
    value_type: FieldType
    format: str | None
    validator: str | None
    code_table: str | None
    source_resource: str | None = None  # the authoritative resource's code
    source_field: str | None
    created_by: str
    created_at: UtcDateTime
    updated_by: str
    updated_at: UtcDateTime


class ElementList(BaseModel):
    count: int
    elements: list[ElementRead]


class SourceBody(BaseModel):
    """The authoritative source to name: a resource's code and one of its fields declared as the element."""

    resource_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
    field: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(single_line)]
    replace: bool = False  # move a source that is already set (the bureau only; audited)


class UsageRead(BaseModel):
    resource_code: str
    resource_title: str
    department_id: int
    field: str
    field_title: str
    is_key: bool
    authoritative: bool


class CodeValueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    label: str
    level: str
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None


class CodeTableSummary(BaseModel):
    name: str
    slug: str
    title: str
    source: str
    count: int


class CodeTableRead(CodeTableSummary):
    levels: dict[str, int]
    matched: int  # codes matching the query and parent, of which `values` is one page
    values: list[CodeValueRead]


class ConflictRead(BaseModel):
    """One conflicting key, each side masked for the caller as its resource's rows are (None: masked to nothing)."""

    model_config = ConfigDict(from_attributes=True)
    position: int  # 1-based in key order: tells keys apart when they are masked
    key_value: str | None
    source_value: str | None
    other_value: str | None
    first_seen: bool


class ConflictRunRead(BaseModel):
    id: int
    element: str
    key_element: str
    source_resource: str
    source_field: str
    source_key_field: str
    source_version: int
    other_resource: str
    other_field: str
    other_key_field: str
    other_version: int
    compared: int
    conflicts: int
    found_by: str
    found_at: UtcDateTime
    sample: list[ConflictRead]


class SkippedRead(BaseModel):
    resource: str
    reason: str


class ConflictReport(BaseModel):
    element: str
    key_element: str
    conflicts: int  # exact total over every pair
    runs: list[ConflictRunRead]
    skipped: list[SkippedRead]


class ConflictsBody(BaseModel):
    key_element: Identifier
