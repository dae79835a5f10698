"""Pydantic shapes of governance data in and out of the API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from digigov.catalog.vocabulary import Grade, OpenType
from digigov.governance.classification import Classification


def _reason(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class FieldClassificationRead(BaseModel):
    """One field as classified: the detected kind with its evidence, and the level that applies."""

    name: str
    kind: str | None
    confidence: float
    match_share: float
    masked_share: float
    sampled: int
    by_name: bool
    category: str
    detected_level: Grade
    level: Grade
    override_reason: str | None
    overridden_by: str | None


class ClassificationRead(BaseModel):
    """A version's classification and the resource's grade (the shape `digigov classify --json` prints)."""

    resource: str
    version: int
    grade: Grade
    grade_label: str
    previous_grade: Grade | None
    needs_review: bool
    open_type: OpenType
    proposed_open_type: OpenType
    opens_wider: bool
    fields: list[FieldClassificationRead]

    @classmethod
    def of(cls, found: Classification) -> ClassificationRead:
        """The API shape of a classification."""
        review = found.review
        return cls(
            resource=found.resource.code,
            version=found.version.number,
            grade=found.grade,
            grade_label=found.grade.label,
            previous_grade=Grade(review.previous_grade) if review and review.previous_grade else None,
            needs_review=bool(review and review.needs_review),
            open_type=OpenType(found.resource.open_type),
            proposed_open_type=found.proposed_open_type,
            opens_wider=found.opens_wider,
            fields=[
                FieldClassificationRead(
                    name=f.detection.field,
                    kind=f.detection.kind,
                    confidence=f.detection.confidence,
                    match_share=f.detection.match_share,
                    masked_share=f.detection.masked_share,
                    sampled=f.detection.sampled,
                    by_name=f.detection.by_name,
                    category=f.detection.category,
                    detected_level=Grade(f.detection.detected_level),
                    level=f.level,
                    override_reason=f.override.reason if f.override else None,
                    overridden_by=f.override.created_by if f.override else None,
                )
                for f in found.fields
            ],
        )


class LevelOverrideCreate(BaseModel):
    """A steward's level for one field, with the reason."""

    field: Annotated[str, Field(min_length=1, max_length=100)]
    level: Grade
    reason: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_reason)]


class GradeReviewRead(BaseModel):
    """A resource whose grade changed and waits for a reviewer."""

    resource: str
    title: str
    version_id: int
    grade: Grade
    previous_grade: Grade | None
