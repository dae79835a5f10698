"""Sharing tables: share requests, the grants they become, every call made under a grant, and the
licences and analyses of authorised operation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from digigov.core.db import Base, utcnow


class ShareRequest(Base):
    """A consuming department's request (共享申请) for fields of a resource, and the two decisions on it.

    A conditional resource needs the source department's approval, then the platform's; an
    unconditional one is approved at once (still recorded); a 不予共享 one is refused with its basis.
    """

    __tablename__ = "share_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    source_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSON)
    clear_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # asked for in clear text
    key_field: Mapped[str | None] = mapped_column(String(100))
    access: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    expected_daily_calls: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    source_decided_by: Mapped[str | None] = mapped_column(String(100))
    source_reason: Mapped[str] = mapped_column(Text, default="")
    platform_decided_by: Mapped[str | None] = mapped_column(String(100))
    platform_reason: Mapped[str] = mapped_column(Text, default="")
    refusal: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class Grant(Base):
    """What an approved request allows (共享授权): fields, access, a mask per field, period, limits, credential.

    Only a hash of the credential is kept. Revocation and expiry are read on every call.
    """

    __tablename__ = "share_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("share_request.id"), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    source_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    masks: Mapped[dict[str, str]] = mapped_column(JSON)  # field -> Mask value, as approved
    clear_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # approved in clear text
    key_field: Mapped[str | None] = mapped_column(String(100))
    access: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    daily_quota: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    credential_prefix: Mapped[str | None] = mapped_column(String(16))
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(64))  # for hash masks: stable within a grant, not across
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    provisioned_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def department_id(self) -> int:
        """The source department: it owns what is shared (for department-scoped permissions)."""
        return self.source_department_id


class GrantCall(Base):
    """One call of the data API under a grant: what was asked, how many rows went out, and the hashes."""

    __tablename__ = "share_call"
    __table_args__ = (Index("ix_share_call_grant_at", "grant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("share_grant.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # lookup / verify / query
    caller: Mapped[str] = mapped_column(String(100))  # the end user the consumer names, or its system
    issue: Mapped[str] = mapped_column(String(200), default="")  # the case behind the call (X-Road's Issue)
    fields: Mapped[list[str]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(Integer)
    version_number: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_hash: Mapped[str] = mapped_column(String(64))


class GrantCounter(Base):
    """How many calls a grant has made in its current minute and its current day (China time).

    The limits are checked against these, not by counting calls: one row per grant and span, its
    period rolled forward by the first call of a new one, so a check costs the same however many
    calls a day holds. Minutes are fixed windows (12:00-12:01), as API gateways count them.
    """

    __tablename__ = "share_counter"

    grant_id: Mapped[int] = mapped_column(ForeignKey("share_grant.id"), primary_key=True)
    span: Mapped[str] = mapped_column(String(10), primary_key=True)  # minute / day
    period: Mapped[str] = mapped_column(String(20))  # 2026-12-03T14:05 / 2026-12-03
    calls: Mapped[int] = mapped_column(Integer)


class OperatorLicence(Base):
    """A licence for authorised operation (授权运营): an operator may compute aggregates over resources.

    The operator sees no row: every group it gets has at least `k` records. Only a hash of the
    licence's credential is kept.
    """

    __tablename__ = "operator_licence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator: Mapped[str] = mapped_column(String(200))
    operator_uscc: Mapped[str] = mapped_column(String(18))
    resources: Mapped[list[str]] = mapped_column(JSON)  # resource codes
    purpose: Mapped[str] = mapped_column(Text)
    k: Mapped[int] = mapped_column(Integer)
    review_releases: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), index=True)  # active / revoked
    credential_prefix: Mapped[str | None] = mapped_column(String(16))
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    granted_by: Mapped[str] = mapped_column(String(100))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Analysis(Base):
    """One structured query an operator submitted, what it found, and whether it was released."""

    __tablename__ = "operator_analysis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("operator_licence.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    version_number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the groups with at least k records
    groups: Mapped[int] = mapped_column(Integer)
    suppressed: Mapped[int] = mapped_column(Integer)  # groups under k, never shown
    state: Mapped[str] = mapped_column(String(20), index=True)  # pending / released / held
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime)
