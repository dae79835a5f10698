"""Audit events of the open-data portal: registrations, every read of rows, feedback, applications."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class PortalRegistered(AuditEvent):
    kind = "opendata.registered"
    description = "A visitor registered as a portal user: an enterprise (with its credit code) or a researcher."
    user_id: int
    profile: str
    organisation: str

    @property
    def target(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True)
class ResourceEvent(AuditEvent):
    resource_id: int
    resource: str

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class OpenDataRead(ResourceEvent):
    kind = "opendata.data_read"
    description = "Open data left the portal, masked: a download (csv, json) or a page of the rows API."
    call: str
    version: int
    rows: int
    via: str  # page / api
    token_id: int | None


@dataclass(frozen=True)
class ResourceRated(ResourceEvent):
    kind = "opendata.rated"
    description = "A registered user rated an open resource (1-5) or changed the rating."
    stars: int


@dataclass(frozen=True)
class CommentEvent(AuditEvent):
    comment_id: int
    resource: str

    @property
    def target(self) -> str:
        return f"open_comment:{self.comment_id}"


@dataclass(frozen=True)
class Commented(CommentEvent):
    kind = "opendata.commented"
    description = "A registered user commented on an open resource (the text stays in the comment table)."
    length: int


@dataclass(frozen=True)
class CommentHidden(CommentEvent):
    kind = "opendata.comment_hidden"
    description = "A moderator hid a comment, with a reason."
    reason: str


@dataclass(frozen=True)
class DataRequestEvent(AuditEvent):
    request_id: int

    @property
    def target(self) -> str:
        return f"open_data_request:{self.request_id}"


@dataclass(frozen=True)
class DataRequested(DataRequestEvent):
    kind = "opendata.data_requested"
    description = "A registered user asked for data not yet open (数据需求)."
    department_id: int | None


@dataclass(frozen=True)
class DataRequestAnswered(DataRequestEvent):
    kind = "opendata.data_request_answered"
    description = "The platform accepted or declined a data request, with its reason."
    accepted: bool
    reason: str
    resource: str | None


@dataclass(frozen=True)
class ApplicationEvent(AuditEvent):
    application_id: int
    resource: str

    @property
    def target(self) -> str:
        return f"open_application:{self.application_id}"


@dataclass(frozen=True)
class Applied(ApplicationEvent):
    kind = "opendata.applied"
    description = "A registered enterprise or researcher applied for a 受限开放 resource (purpose, commitment, days)."
    purpose: str
    days: int


@dataclass(frozen=True)
class ApplicationDecided(ApplicationEvent):
    kind = "opendata.application_decided"
    description = "The source department or the platform approved or refused an open-data application."
    stage: str  # source / platform
    approved: bool
    reason: str
    ends_on: str | None
