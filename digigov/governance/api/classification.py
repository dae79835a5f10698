"""Governance API: classification and grading of resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from digigov.core.deps import ActorDep, SessionDep, SettingsDep
from digigov.governance import classification
from digigov.governance.schemas.classification import ClassificationRead, GradeReviewRead, LevelOverrideCreate

router = APIRouter(prefix="/governance", tags=["governance"])

CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
VersionQuery = Annotated[int | None, Query(ge=1, le=2_000_000_000)]


@router.get("/resources/{code}/classification", response_model=ClassificationRead)
def read_classification(
    code: CodePath, session: SessionDep, actor: ActorDep, version: VersionQuery = None
) -> ClassificationRead:
    """Each field's detected kind, level and category, and the resource's grade, for a version (newest by default)."""
    return ClassificationRead.of(classification.classification(session, actor, resource_code=code, number=version))


@router.post("/resources/{code}/classification", response_model=ClassificationRead)
def run_classification(
    code: CodePath, session: SessionDep, actor: ActorDep, settings: SettingsDep, version: VersionQuery = None
) -> ClassificationRead:
    """Detect and grade a version again, replacing its earlier detections."""
    return ClassificationRead.of(
        classification.classify_version(session, actor, home=settings.home, resource_code=code, number=version)
    )


@router.post("/resources/{code}/classification/overrides", response_model=ClassificationRead)
def override_level(
    code: CodePath, body: LevelOverrideCreate, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> ClassificationRead:
    """Set a field's sensitivity level by hand, with a reason; the resource is graded again."""
    found = classification.override_level(
        session,
        actor,
        home=settings.home,
        resource_code=code,
        field=body.field,
        level=body.level,
        reason=body.reason,
    )
    return ClassificationRead.of(found)


@router.post("/resources/{code}/classification/confirm", response_model=ClassificationRead)
def confirm_grade(code: CodePath, session: SessionDep, actor: ActorDep) -> ClassificationRead:
    """A reviewer confirms the resource's changed grade."""
    classification.confirm_grade(session, actor, resource_code=code)
    return ClassificationRead.of(classification.classification(session, actor, resource_code=code))


@router.get("/grade-reviews", response_model=list[GradeReviewRead])
def grade_reviews(session: SessionDep, actor: ActorDep) -> list[GradeReviewRead]:
    """Resources whose grade changed and waits for a reviewer, oldest first."""
    return [
        GradeReviewRead(
            resource=resource.code,
            title=resource.title,
            version_id=review.version_id,
            grade=review.grade,
            previous_grade=review.previous_grade,
        )
        for resource, review in classification.grade_reviews(session, actor)
    ]
