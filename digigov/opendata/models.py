"""Open-data tables: portal profiles, reads of open data, ratings, comments, data requests, applications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digigov.core.db import Base, utcnow


class PortalProfile(Base):
    """What a registered portal user is: an enterprise (with its credit code) or a researcher (with an institution)."""

    __tablename__ = "open_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # enterprise / researcher
    organisation: Mapped[str] = mapped_column(String(200))  # the enterprise's name, or the institution
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    contact: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OpenCall(Base):
    """One read of open data rows: a download (from a page or the API) or a page of the rows API.

    Download counts and each API key's daily quota are counted from these rows.
    """

    __tablename__ = "open_call"
    __table_args__ = (
        Index("ix_open_call_token_at", "token_id", "at"),
        Index("ix_open_call_resource_kind", "resource_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: an anonymous visitor
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))  # the API key, for API calls
    kind: Mapped[str] = mapped_column(String(10))  # csv / json / rows
    version_number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Rating(Base):
    """A registered user's rating of an open resource, 1 to 5; one per user and resource, changeable."""

    __tablename__ = "open_rating"
    __table_args__ = (UniqueConstraint("resource_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Comment(Base):
    """A registered user's plain-text comment on an open resource; moderators may hide it, with a reason."""

    __tablename__ = "open_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    hidden_by: Mapped[str | None] = mapped_column(String(100))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")


class DataRequest(Base):
    """A public data request (数据需求): someone registered asks for data not yet open; the platform answers."""

    __tablename__ = "open_data_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # who might hold it, if known
    state: Mapped[str] = mapped_column(String(20), index=True)  # pending / accepted / declined
    answer: Mapped[str] = mapped_column(Text, default="")
    resource_code: Mapped[str | None] = mapped_column(String(64))  # the resource that answers it, if any
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Application(Base):
    """An application (开放申请) for a 受限开放 resource by a registered enterprise or researcher.

    The source department's steward decides first, then the platform; an approved application lets
    its applicant preview and download the resource, masked, from `starts_on` to `ends_on`.
    """

    __tablename__ = "open_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    source_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    commitment: Mapped[bool] = mapped_column(Boolean)  # the security commitment (安全承诺) was given
    days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    source_decided_by: Mapped[str | None] = mapped_column(String(100))
    source_reason: Mapped[str] = mapped_column(Text, default="")
    platform_decided_by: Mapped[str | None] = mapped_column(String(100))
    platform_reason: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)  # set when the platform approves
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def department_id(self) -> int:
        """The source department: it answers for the data (for department-scoped permissions)."""
        return self.source_department_id
