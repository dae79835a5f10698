"""Classification and grading (分类分级) of versions: detect, grade, override with a reason, review grade changes.

Every new version is classified inside its ingestion (`classify_new_version`, a step of
`service.check_version`): one detection row per field, the field levels (a steward's override
wins over the detected level), and the resource's grade, the highest field level. A grade that
differs from the resource's previous one is applied and flagged for a reviewer, who confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import Grade, OpenType
from digigov.core import audit
from digigov.core.auth import Actor, Role, declare, require
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.datastore import Version, get_version, latest_version, parquet_path
from digigov.governance.detection import detect_fields
from digigov.governance.grading import highest, level_of, opens_wider, proposed_open_type
from digigov.governance.models import FieldDetection, GradeReview, LevelOverride

declare(
    "governance.classify",
    "Run classification again on a version of a resource of one's department.",
    "执行分类分级",
    {Role.platform_admin, Role.data_steward, Role.reviewer},
)
declare(
    "governance.classification.override",
    "Set a field's sensitivity level by hand, with a reason (resources of one's department).",
    "调整数据项敏感级别",
    {Role.platform_admin, Role.data_steward},
)
declare(
    "governance.grade.review",
    "Confirm a resource's changed sensitivity grade (the bureau's reviewers).",
    "复核数据分级变更",
    {Role.platform_admin, Role.reviewer},
    department_scoped=False,
)


@dataclass(frozen=True)
class VersionClassified(audit.AuditEvent):
    kind = "governance.classified"
    description = "A version's fields were classified and the resource graded; a grade change waits for review."
    resource_id: int
    number: int
    grade: str
    previous_grade: str | None
    needs_review: bool
    kinds: tuple[str, ...]

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class LevelOverridden(audit.AuditEvent):
    kind = "governance.level_overridden"
    description = "A steward set a field's sensitivity level by hand, with a reason."
    resource_id: int
    field: str
    level: str
    detected_level: str
    reason: str

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class GradeConfirmed(audit.AuditEvent):
    kind = "governance.grade_confirmed"
    description = "A reviewer confirmed a resource's changed sensitivity grade."
    resource_id: int
    grade: str
    previous_grade: str | None

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


@dataclass(frozen=True)
class FieldLevel:
    """One field as classified: what was detected, the level that applies and why."""

    detection: FieldDetection
    level: Grade
    override: LevelOverride | None


@dataclass(frozen=True)
class Classification:
    """A version's classification: its fields, the grade, and what the grade means for opening."""

    resource: Resource
    version: Version
    fields: list[FieldLevel]
    grade: Grade
    review: GradeReview | None

    @property
    def proposed_open_type(self) -> OpenType:
        return proposed_open_type(self.grade)

    @property
    def opens_wider(self) -> bool:
        """Is the resource's open type wider than its grade allows?"""
        return opens_wider(OpenType(self.resource.open_type), self.grade)


def classify_new_version(session: Session, actor: Actor, home: Path, version: Version) -> None:
    """Classify a version as it is ingested (the ingesting actor needs no further permission)."""
    resource = session.get(Resource, version.resource_id)
    assert resource is not None  # the version was just written for it
    _classify(session, actor, home, resource, version)


def classify_version(
    session: Session, actor: Actor, *, home: Path, resource_code: str, number: int | None = None
) -> Classification:
    """Detect and grade a version again (the newest by default), replacing its earlier detections."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.classify", resource)
    version = get_version(session, actor, resource_code, number)
    _classify(session, actor, home, resource, version)
    return classification(session, actor, resource_code=resource_code, number=version.number)


def _classify(session: Session, actor: Actor, home: Path, resource: Resource, version: Version) -> None:
    found = detect_fields(parquet_path(home, version), version.columns, rows=version.rows)
    session.execute(delete(FieldDetection).where(FieldDetection.version_id == version.id))
    for position, detection in enumerate(found):
        level, category = level_of(detection.kind, masked_share=detection.masked_share)
        session.add(
            FieldDetection(
                version_id=version.id,
                position=position,
                field=detection.field,
                kind=detection.kind,
                confidence=detection.confidence,
                match_share=detection.match_share,
                masked_share=detection.masked_share,
                sampled=detection.sampled,
                by_name=detection.by_name,
                detected_level=level,
                category=category,
            )
        )
    session.flush()
    kinds = tuple(sorted({d.kind for d in found if d.kind}))
    _grade(session, actor, resource, version, kinds)


def _grade(session: Session, actor: Actor, resource: Resource, version: Version, kinds: tuple[str, ...]) -> None:
    """Set the resource's grade from its newest classified version; flag a change for review."""
    if _is_older(session, version):
        return  # re-classifying an old version must not change the resource's present grade
    overrides = _overrides(session, resource.id)
    levels = [overrides[d.field].level if d.field in overrides else d.detected_level for d in _rows(session, version)]
    grade, previous = highest(levels), resource.grade
    latest = _review(session, resource.id)
    needs_review = previous is not None and previous != grade
    if latest is not None and latest.grade == grade and previous == grade:
        audit.record(session, actor, VersionClassified(resource.id, version.number, grade, previous, False, kinds))
        return  # unchanged: a change still waiting for review keeps waiting
    session.add(
        GradeReview(
            resource_id=resource.id,
            version_id=version.id,
            grade=grade,
            previous_grade=previous,
            needs_review=needs_review,
        )
    )
    resource.grade = grade
    session.flush()
    audit.record(session, actor, VersionClassified(resource.id, version.number, grade, previous, needs_review, kinds))


def _is_older(session: Session, version: Version) -> bool:
    newest = latest_version(session, version.resource_id)
    return newest is not None and version.number < newest.number


def _rows(session: Session, version: Version) -> list[FieldDetection]:
    stmt = select(FieldDetection).where(FieldDetection.version_id == version.id).order_by(FieldDetection.position)
    return list(session.scalars(stmt))


def _overrides(session: Session, resource_id: int) -> dict[str, LevelOverride]:
    """The newest override per field of a resource."""
    stmt = select(LevelOverride).where(LevelOverride.resource_id == resource_id).order_by(LevelOverride.id)
    return {row.field: row for row in session.scalars(stmt)}


def _review(session: Session, resource_id: int) -> GradeReview | None:
    stmt = select(GradeReview).where(GradeReview.resource_id == resource_id).order_by(GradeReview.id.desc()).limit(1)
    return session.scalar(stmt)


def classification(session: Session, actor: Actor, *, resource_code: str, number: int | None = None) -> Classification:
    """A version's classification (the newest version by default), for anyone who may see the resource."""
    resource = get_resource(session, actor, resource_code)
    version = get_version(session, actor, resource_code, number)
    rows = _rows(session, version)
    if not rows:
        raise NotFound(
            f"Version {version.number} of {resource_code} has not been classified; run `digigov classify`.",
            f"数据资源 {resource_code} 的第 {version.number} 版尚未分类分级。",
        )
    overrides = _overrides(session, resource.id)
    fields = [
        FieldLevel(
            row,
            Grade(overrides[row.field].level if row.field in overrides else row.detected_level),
            overrides.get(row.field),
        )
        for row in rows
    ]
    return Classification(resource, version, fields, highest([f.level for f in fields]), _review(session, resource.id))


def field_levels(session: Session, version: Version) -> dict[str, tuple[str | None, Grade]]:
    """Each classified field of a version: its detected kind and the level that applies (overrides included).

    Empty when the version is not classified. Two indexed reads and no permission check: for
    services that already decided the caller may use the version (sharing reads it on every call).
    """
    overrides = _overrides(session, version.resource_id)
    return {
        row.field: (row.kind, Grade(overrides[row.field].level if row.field in overrides else row.detected_level))
        for row in _rows(session, version)
    }


def override_level(
    session: Session, actor: Actor, *, home: Path, resource_code: str, field: str, level: Grade, reason: str
) -> Classification:
    """Set a field's level by hand with a reason; the resource is graded again from its newest version."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.classification.override", resource)
    if not reason.strip():
        raise Invalid("An override needs a reason.", "调整敏感级别须说明理由。")
    version = get_version(session, actor, resource_code)
    detected = {row.field: row for row in _rows(session, version)}
    if field not in detected:
        raise Invalid(
            f"The newest version of {resource_code} has no field '{field}'; choose one of {', '.join(detected)}.",
            f"数据资源 {resource_code} 的最新版本没有数据项“{field}”。",
        )
    session.add(
        LevelOverride(
            resource_id=resource.id, field=field, level=level, reason=reason.strip(), created_by=actor.username
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        LevelOverridden(resource.id, field, level.value, detected[field].detected_level, reason.strip()),
    )
    kinds = tuple(sorted({row.kind for row in detected.values() if row.kind}))
    _grade(session, actor, resource, version, kinds)
    return classification(session, actor, resource_code=resource_code)


def confirm_grade(session: Session, actor: Actor, *, resource_code: str) -> GradeReview:
    """A reviewer confirms a resource's changed grade, clearing the flag."""
    require(actor, "governance.grade.review")
    resource = get_resource(session, actor, resource_code)
    review = _review(session, resource.id)
    if review is None or not review.needs_review:
        raise Invalid(
            f"The grade of {resource_code} has no change waiting for review.",
            f"数据资源 {resource_code} 没有待复核的分级变更。",
        )
    review.needs_review, review.reviewed_by, review.reviewed_at = False, actor.username, utcnow()
    session.flush()
    audit.record(session, actor, GradeConfirmed(resource.id, review.grade, review.previous_grade))
    return review


def grade_reviews(session: Session, actor: Actor) -> list[tuple[Resource, GradeReview]]:
    """Resources whose grade changed and waits for a reviewer, oldest first."""
    require(actor, "governance.grade.review")
    stmt = (
        select(Resource, GradeReview)
        .join(GradeReview, GradeReview.resource_id == Resource.id)
        .where(GradeReview.needs_review.is_(True))
        .order_by(GradeReview.id)
    )
    pending = [(resource, review) for resource, review in session.execute(stmt).all()]
    return [(resource, review) for resource, review in pending if _review(session, resource.id) is review]
