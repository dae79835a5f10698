"""Audit events of the policy library (questions are recorded by id only: they may hold personal data)."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class DocumentImported(AuditEvent):
    kind = "policy.document_imported"
    description = "A policy document was imported, or a changed text of it became a new revision."
    document_id: int
    revision: int
    doc_number: str | None
    sha256: str

    @property
    def target(self) -> str:
        return f"policy_document:{self.document_id}"


@dataclass(frozen=True)
class DocumentRepealed(AuditEvent):
    kind = "policy.document_repealed"
    description = "A document in the library was marked repealed because a newer one repeals it."
    document_id: int
    repealed_by: int

    @property
    def target(self) -> str:
        return f"policy_document:{self.document_id}"


@dataclass(frozen=True)
class FaqsImported(AuditEvent):
    kind = "policy.faqs_imported"
    description = "Question/answer pairs were imported as FAQ knowledge."
    added: int
    unchanged: int
    source: str

    @property
    def target(self) -> str:
        return "policy_faq"


@dataclass(frozen=True)
class IndexRebuilt(AuditEvent):
    kind = "policy.index_rebuilt"
    description = "The policy search index was rebuilt from the library."
    passages: int

    @property
    def target(self) -> str:
        return "policy_index"


@dataclass(frozen=True)
class QuestionAsked(AuditEvent):
    kind = "policy.question_asked"
    description = "A policy question was asked and answered or declined (the text stays in the question table)."
    question_id: int
    abstained: bool

    @property
    def target(self) -> str:
        return f"policy_question:{self.question_id}"


@dataclass(frozen=True)
class AnswerRated(AuditEvent):
    kind = "policy.answer_rated"
    description = "Someone rated the answer to a policy question."
    question_id: int
    rating: int

    @property
    def target(self) -> str:
        return f"policy_question:{self.question_id}"
