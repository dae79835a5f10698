"""Catalog tables: resources (数据资源) and their fields (数据项)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from digigov.core.db import Base, utcnow


class Resource(Base):
    """One catalogued data set with the national core metadata (GB/T 21063.3)."""

    __tablename__ = "resource"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    base_type: Mapped[str | None] = mapped_column(String(20))
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    update_cycle: Mapped[str] = mapped_column(String(20), index=True)
    share_type: Mapped[str] = mapped_column(String(20), index=True)
    share_condition: Mapped[str] = mapped_column(Text, default="")
    share_basis: Mapped[str] = mapped_column(Text, default="")
    open_type: Mapped[str] = mapped_column(String(20), index=True)
    open_condition: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(50), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str] = mapped_column(String(200), default="")
    grade: Mapped[str | None] = mapped_column(String(4), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    pending_changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    fields: Mapped[list[Field]] = relationship(cascade="all, delete-orphan", lazy="selectin", order_by="Field.position")


class Field(Base):
    """One column of a resource, optionally conforming to a data element (数据元)."""

    __tablename__ = "resource_field"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(20))
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    data_element: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
