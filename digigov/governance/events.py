"""Audit events of governance: the data-element dictionary, code tables and conflicts between sources."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class CodeTableLoaded(AuditEvent):
    kind = "governance.code_table_loaded"
    description = "A code table was loaded or refreshed from its standard; counts of values added and changed."
    name: str
    added: int
    changed: int

    @property
    def target(self) -> str:
        return f"code_table:{self.name}"


@dataclass(frozen=True)
class ElementEvent(AuditEvent):
    identifier: str

    @property
    def target(self) -> str:
        return f"data_element:{self.identifier}"


@dataclass(frozen=True)
class ElementCreated(ElementEvent):
    kind = "governance.element_created"
    description = "A data element was added to the dictionary."
    name: str


@dataclass(frozen=True)
class ElementEdited(ElementEvent):
    kind = "governance.element_edited"
    description = "A data element's name, definition or standard (type, format, validator, code table) changed."
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ElementsLoaded(AuditEvent):
    kind = "governance.elements_loaded"
    description = "The shipped starter dictionary added the data elements it holds that were missing."
    identifiers: tuple[str, ...]

    @property
    def target(self) -> str:
        return "data_element:*"


@dataclass(frozen=True)
class SourceSet(ElementEvent):
    kind = "governance.source_set"
    description = "A field of a resource became the authoritative source of a data element (一数一源)."
    resource_code: str
    field: str


@dataclass(frozen=True)
class SourceReplaced(ElementEvent):
    kind = "governance.source_replaced"
    description = "The bureau moved a data element's authoritative source to another resource or field."
    resource_code: str
    field: str
    previous_resource_code: str
    previous_field: str


@dataclass(frozen=True)
class ConflictsFound(ElementEvent):
    kind = "governance.conflicts_found"
    description = "An element was compared between its authoritative source and other resources; runs and totals."
    key_element: str
    runs: tuple[int, ...]
    conflicts: int
