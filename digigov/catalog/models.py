"""Catalog tables: resources (数据资源) and their fields (数据项)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    insert,
    inspect,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from digigov.core.db import Base, utcnow


class Resource(Base):
    """One catalogued data set with the national core metadata (GB/T 21063.3)."""

    __tablename__ = "resource"
    # Covers what browsing and faceting read (visibility, order, facets), so a search without
    # text scans this index, not the rows with their long texts.
    __table_args__ = (
        Index(
            "ix_resource_browse",
            "state",
            "department_id",
            "updated_at",
            "category",
            "share_type",
            "open_type",
            "grade",
            "update_cycle",
        ),
    )

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


# The order of a search without text (newest change first, then id): walking it, a page of the
# newest matches is read without sorting every match.
Index("ix_resource_order", Resource.updated_at.desc(), Resource.id)


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


class ResourceGram(Base):
    """A character pair (bigram) of a resource's `search_text`: the index that narrows catalog search.

    A query term is a substring of `search_text` only if every pair of adjacent characters in it
    is one of the text's pairs, so search first intersects these postings, then checks the
    candidates with the exact substring match. Pairs with whitespace are left out: terms have none.
    """

    __tablename__ = "resource_gram"
    __table_args__ = {"sqlite_with_rowid": False}

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True)


def bigrams(text: str) -> set[str]:
    """The distinct pairs of adjacent characters in a text, without those holding whitespace.

    >>> sorted(bigrams("设备维修 ab"))
    ['ab', '备维', '维修', '设备']
    """
    return {text[i : i + 2] for i in range(len(text) - 1) if not (text[i].isspace() or text[i + 1].isspace())}


def _index_grams(connection: Connection, resource: Resource, *, replace: bool) -> None:
    if replace:
        connection.execute(delete(ResourceGram).where(ResourceGram.resource_id == resource.id))
    rows = [{"gram": g, "resource_id": resource.id} for g in sorted(bigrams(resource.search_text or ""))]
    if rows:
        connection.execute(insert(ResourceGram), rows)


@event.listens_for(Resource, "after_insert")
def _grams_of_new(_mapper: Mapper[Resource], connection: Connection, resource: Resource) -> None:
    _index_grams(connection, resource, replace=False)


@event.listens_for(Resource, "after_update")
def _grams_of_changed(_mapper: Mapper[Resource], connection: Connection, resource: Resource) -> None:
    if inspect(resource).attrs.search_text.history.has_changes():
        _index_grams(connection, resource, replace=True)
