"""Sharing tables: share requests, the grants they become, and every call made under a grant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text
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
