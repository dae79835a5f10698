"""Audit events of the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class ResourceEvent(AuditEvent):
    resource_id: int
    code: str

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class ResourceCreated(ResourceEvent):
    kind = "catalog.resource_created"
    description = "A resource was created as a draft."


@dataclass(frozen=True)
class ResourceEdited(ResourceEvent):
    kind = "catalog.resource_edited"
    description = "A draft or returned resource's metadata or fields were changed."
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ResourceChangeProposed(ResourceEvent):
    kind = "catalog.change_proposed"
    description = "A change to a published resource was proposed; it waits for review."
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ResourceSubmitted(ResourceEvent):
    kind = "catalog.resource_submitted"
    description = "A resource was submitted for review."


@dataclass(frozen=True)
class ResourcePublished(ResourceEvent):
    kind = "catalog.resource_published"
    description = "A reviewer published a resource or approved a change to it."
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ResourceReturned(ResourceEvent):
    kind = "catalog.resource_returned"
    description = "A reviewer returned a resource or a proposed change, with a reason."
    reason: str


@dataclass(frozen=True)
class ResourceWithdrawn(ResourceEvent):
    kind = "catalog.resource_withdrawn"
    description = "A published resource was withdrawn, with a reason."
    reason: str
