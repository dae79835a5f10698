"""Policy library API shapes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from digigov.core.types import UtcDateTime


class DocumentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    doc_number: str | None
    issuer: str | None
    issue_date: date | None
    status: str
    region: str | None
    topics: list[str]
    revision: int


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentSummary]


class ClauseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ordinal: int
    path: str
    heading: str
    level: int
    parent_ordinal: int | None
    start: int
    end: int
    text: str


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    document_id: int
    kind: str
    cited_title: str | None
    cited_number: str | None
    cited_id: int | None


class DocumentRead(DocumentSummary):
    recipients: list[str]
    effective_date: date | None
    expiry_date: date | None
    validity: str | None
    replaced_by_id: int | None
    source: str
    updated_at: UtcDateTime
    clauses: list[ClauseRead]
    cites: list[LinkRead]
    cited_by: list[LinkRead]


class ImportedRead(BaseModel):
    id: int
    source: str
    title: str
    doc_number: str | None
    issuer: str | None
    issue_date: date | None
    status: str
    revision: int
    outcome: Literal["created", "revised", "unchanged"]


class HitDocument(BaseModel):
    id: int
    source: str
    title: str
    doc_number: str | None


class HitRead(BaseModel):
    kind: Literal["document", "clause", "faq"]
    document: HitDocument | None
    faq_id: int | None
    clause: str
    text: str
    snippet: str
    status: str
    score: float


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    include_expired: bool = False


class CitationRead(BaseModel):
    kind: Literal["clause", "faq"]
    source: str
    title: str
    document_id: int | None
    doc_number: str | None
    clause: str
    text: str
    status: str
    url: str
    faq_id: int | None
    department: str | None
    start: int | None
    end: int | None


class ClosestRead(BaseModel):
    id: int
    title: str
    doc_number: str | None
    status: str
    url: str


class AnswerRead(BaseModel):
    question_id: int | None
    question: str
    answer: str
    abstained: bool
    confidence: float
    citations: list[CitationRead]
    closest: list[ClosestRead]
    written_by: Literal["extract", "model"]


class RatingBody(BaseModel):
    rating: Literal[1, -1]


class UnansweredRead(BaseModel):
    question: str
    asked: int
    last_asked: UtcDateTime
    rating: int


class FaqImportRead(BaseModel):
    added: int
    unchanged: int
    source: str


class RebuildRead(BaseModel):
    passages: int
