"""Policy library tables: documents, their immutable revisions and clauses, links, FAQs, questions asked."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from digigov.core.db import Base, utcnow


class PolicyStatus(StrEnum):
    """有效性: whether a document is still in force."""

    in_force = "in_force"
    amended = "amended"
    repealed = "repealed"

    @property
    def label(self) -> str:
        """The Chinese name."""
        return {"in_force": "现行有效", "amended": "已修订", "repealed": "已废止"}[self.value]


class PolicyDocument(Base):
    """A policy document (政策文件) as the library knows it now; its texts are revisions.

    `key` is its identity across imports: the normalised 文号 when it has one, otherwise its
    title and issuer. Importing the same text again changes nothing; a changed text becomes the
    next revision and the metadata follows it.
    """

    __tablename__ = "policy_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    doc_number: Mapped[str | None] = mapped_column(String(100), index=True)
    issuer: Mapped[str | None] = mapped_column(String(200), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    issue_date: Mapped[date | None] = mapped_column(Date)
    effective_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    validity: Mapped[str | None] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(6), index=True)
    status: Mapped[PolicyStatus] = mapped_column(String(20), default=PolicyStatus.in_force)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("policy_document.id"))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(1000))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def year(self) -> int | None:
        """The year it was issued, if known."""
        return self.issue_date.year if self.issue_date else None


class PolicyRevision(Base):
    """One imported text of a document, never changed again."""

    __tablename__ = "policy_revision"
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_policy_revision_number"),
        UniqueConstraint("document_id", "sha256", name="uq_policy_revision_sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the cleaned text
    source: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)  # as extracted from this text
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PolicyClause(Base):
    """A clause of a revision: its path in the heading tree (二(四), 第三章 第十二条) and its text's offsets."""

    __tablename__ = "policy_clause"
    __table_args__ = (UniqueConstraint("revision_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("policy_revision.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    heading: Mapped[str] = mapped_column(String(500))
    level: Mapped[int] = mapped_column(Integer)
    parent_ordinal: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class PolicyLink(Base):
    """A document citing (or repealing) another, by title 《…》 or by 文号; `cited_id` once it is in the library."""

    __tablename__ = "policy_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("policy_document.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # cites | repeals
    cited_title: Mapped[str | None] = mapped_column(String(500))
    cited_number: Mapped[str | None] = mapped_column(String(100), index=True)
    cited_id: Mapped[int | None] = mapped_column(ForeignKey("policy_document.id"), index=True)


class PolicyFaq(Base):
    """A question/answer pair a department publishes (常见问题), cited as such in answers."""

    __tablename__ = "policy_faq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of question and answer
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PolicyQuestion(Base):
    """A question someone asked, what it was answered, and how they rated it (民意 data for the policy office)."""

    __tablename__ = "policy_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    normalised: Mapped[str] = mapped_column(String(500), index=True)
    asked_by: Mapped[str | None] = mapped_column(String(100))
    asked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    abstained: Mapped[bool] = mapped_column(Boolean, index=True)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 helpful, -1 not helpful
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)
