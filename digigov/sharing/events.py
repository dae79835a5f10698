"""Audit events of sharing: each step of a request and a grant, and every call of the data API."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class RequestEvent(AuditEvent):
    request_id: int
    resource: str

    @property
    def target(self) -> str:
        return f"share_request:{self.request_id}"


@dataclass(frozen=True)
class ShareRequested(RequestEvent):
    kind = "sharing.requested"
    description = "A department requested fields of a resource."
    consumer_department_id: int
    fields: tuple[str, ...]
    access: str
    purpose: str


@dataclass(frozen=True)
class ShareDecided(RequestEvent):
    kind = "sharing.decided"
    description = "The source department or the platform approved or refused a share request."
    stage: str  # source / platform / automatic
    approved: bool
    reason: str


@dataclass(frozen=True)
class GrantEvent(AuditEvent):
    grant_id: int
    resource: str

    @property
    def target(self) -> str:
        return f"share_grant:{self.grant_id}"


@dataclass(frozen=True)
class GrantMade(GrantEvent):
    kind = "sharing.grant_made"
    description = "An approved request became a grant: fields, masks, period and limits."
    fields: tuple[str, ...]
    masks: tuple[tuple[str, str], ...]
    ends_on: str


@dataclass(frozen=True)
class GrantProvisioned(GrantEvent):
    kind = "sharing.grant_provisioned"
    description = "A grant's credential was issued (or rotated); only its prefix is recorded."
    prefix: str


@dataclass(frozen=True)
class GrantEnded(GrantEvent):
    kind = "sharing.grant_ended"
    description = "A grant was revoked, or found expired on a call."
    state: str
    reason: str


@dataclass(frozen=True)
class DataCalled(GrantEvent):
    kind = "sharing.data_called"
    description = "The data API answered a call under a grant (who, purpose, fields, rows, request/response hash)."
    call: str
    caller: str
    issue: str
    fields: tuple[str, ...]
    rows: int
    version: int
    request_hash: str
    response_hash: str


@dataclass(frozen=True)
class LicenceEvent(AuditEvent):
    licence_id: int

    @property
    def target(self) -> str:
        return f"operator_licence:{self.licence_id}"


@dataclass(frozen=True)
class LicenceGranted(LicenceEvent):
    kind = "sharing.licence_granted"
    description = "An operator was licensed for authorised operation over resources, with its k."
    operator: str
    resources: tuple[str, ...]
    k: int


@dataclass(frozen=True)
class LicenceChanged(LicenceEvent):
    kind = "sharing.licence_changed"
    description = "A licence's credential was issued (only its prefix is recorded), or the licence was revoked."
    change: str
    detail_text: str


@dataclass(frozen=True)
class AnalysisEvent(AuditEvent):
    analysis_id: int
    licence_id: int

    @property
    def target(self) -> str:
        return f"operator_analysis:{self.analysis_id}"


@dataclass(frozen=True)
class AnalysisRun(AnalysisEvent):
    kind = "sharing.analysis_run"
    description = "An operator's structured query ran; groups under k were suppressed."
    resource: str
    version: int
    spec_hash: str
    groups: int
    suppressed: int
    state: str


@dataclass(frozen=True)
class AnalysisReviewed(AnalysisEvent):
    kind = "sharing.analysis_reviewed"
    description = "A reviewer released or held an analysis's aggregates."
    state: str
    reason: str
