"""Catalog services: create and edit resources, and their review lifecycle.

draft ──submit──▶ submitted ──publish──▶ published ──withdraw──▶ withdrawn
  ▲                   │return                │ edit: a pending change, reviewed the same way
  └──── edit ──── returned ◀─────────────────┘ (publish applies it, return drops it)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import actions as _actions  # noqa: F401  (declares the actions)
from digigov.catalog.errors import MissingBasis, ResourceCodeTaken
from digigov.catalog.events import (
    ResourceChangeProposed,
    ResourceCreated,
    ResourceEdited,
    ResourcePublished,
    ResourceReturned,
    ResourceSubmitted,
    ResourceWithdrawn,
)
from digigov.catalog.models import Field, Resource
from digigov.catalog.schemas import FieldSpec, ResourceChanges, ResourceCreate
from digigov.catalog.vocabulary import Category, OpenType, ResourceState, ShareType
from digigov.core import audit
from digigov.core.auth import Actor, InDepartment, allows, require
from digigov.core.db import utcnow
from digigov.core.errors import IllegalTransition, Invalid, NotFound
from digigov.identity import get_department

S = ResourceState


def get_resource(session: Session, actor: Actor, code: str) -> Resource:
    """A resource the actor may see: published ones, or drafts of their own department."""
    resource = session.scalar(select(Resource).where(Resource.code == code))
    if resource is None or not may_see(actor, resource):
        raise NotFound(f"Resource {code} does not exist.", f"数据资源 {code} 不存在。")
    return resource


def may_see(actor: Actor, resource: Resource) -> bool:
    """Published resources are visible to all staff; the rest to their department and reviewers."""
    if resource.state == S.published:
        return allows(actor, "catalog.resource.read")
    return allows(actor, "catalog.resource.edit", resource) or allows(actor, "catalog.resource.review")


def create_resource(session: Session, actor: Actor, data: ResourceCreate) -> Resource:
    """Register a new resource as a draft of a department."""
    require(actor, "catalog.resource.edit", InDepartment(data.department_id))
    get_department(session, data.department_id)
    if session.scalar(select(Resource.id).where(Resource.code == data.code)) is not None:
        raise ResourceCodeTaken(f"Resource code {data.code} is taken.", f"数据资源代码 {data.code} 已被使用。")
    resource = Resource(
        code=data.code,
        title=data.title,
        department_id=data.department_id,
        state=S.draft,
        created_by=actor.username,
        subjects=[],
        keywords=[],
    )
    _apply(resource, data.model_dump(exclude={"code", "department_id"}, exclude_unset=False, exclude_none=True))
    _check_rules(resource)
    session.add(resource)
    session.flush()
    audit.record(session, actor, ResourceCreated(resource.id, resource.code))
    return resource


def edit_resource(session: Session, actor: Actor, *, code: str, changes: ResourceChanges) -> Resource:
    """Change a draft directly; a change to a published resource waits for review."""
    resource = get_resource(session, actor, code)
    require(actor, "catalog.resource.edit", resource)
    patch = changes.model_dump(exclude_unset=True, mode="json")
    if not patch:
        raise Invalid("Nothing to change.", "没有需要修改的内容。")
    if resource.state in {S.draft, S.returned}:
        _apply(resource, changes.model_dump(exclude_unset=True))
        _check_rules(resource)
        resource.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, ResourceEdited(resource.id, resource.code, tuple(sorted(patch))))
    elif resource.state == S.published:
        trial = _preview(resource, changes)
        _check_rules(trial)
        resource.pending_changes = {**(resource.pending_changes or {}), **patch}
        resource.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, ResourceChangeProposed(resource.id, resource.code, tuple(sorted(patch))))
    else:
        raise _illegal(resource, "edit", "修改")
    return resource


def submit_resource(session: Session, actor: Actor, *, code: str) -> Resource:
    """Send a draft or returned resource to the reviewers."""
    resource = get_resource(session, actor, code)
    require(actor, "catalog.resource.edit", resource)
    if resource.state not in {S.draft, S.returned}:
        raise _illegal(resource, "submit", "提交审核")
    _check_rules(resource, for_publication=True)
    resource.state, resource.return_reason, resource.updated_at = S.submitted, "", utcnow()
    session.flush()
    audit.record(session, actor, ResourceSubmitted(resource.id, resource.code))
    return resource


def publish_resource(session: Session, actor: Actor, *, code: str) -> Resource:
    """Publish a submitted resource, or apply a published resource's pending change."""
    require(actor, "catalog.resource.review")
    resource = get_resource(session, actor, code)
    changed: tuple[str, ...] = ()
    if resource.state == S.submitted:
        resource.state = S.published
        if resource.published_on is None:
            resource.published_on = utcnow().date()
    elif resource.state == S.published and resource.pending_changes:
        changed = tuple(sorted(resource.pending_changes))
        _apply(resource, ResourceChanges.model_validate(resource.pending_changes).model_dump(exclude_unset=True))
        _check_rules(resource, for_publication=True)
        resource.pending_changes = None
    else:
        raise _illegal(resource, "publish", "发布")
    resource.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, ResourcePublished(resource.id, resource.code, changed))
    return resource


def return_resource(session: Session, actor: Actor, *, code: str, reason: str) -> Resource:
    """Send a submitted resource back to its department, or drop a pending change, with a reason."""
    require(actor, "catalog.resource.review")
    resource = get_resource(session, actor, code)
    if resource.state == S.submitted:
        resource.state = S.returned
    elif resource.state == S.published and resource.pending_changes:
        resource.pending_changes = None
    else:
        raise _illegal(resource, "return", "退回")
    resource.return_reason, resource.updated_at = reason, utcnow()
    session.flush()
    audit.record(session, actor, ResourceReturned(resource.id, resource.code, reason))
    return resource


def withdraw_resource(session: Session, actor: Actor, *, code: str, reason: str) -> Resource:
    """Take a published resource out of the catalog (its department or a reviewer)."""
    resource = get_resource(session, actor, code)
    if not allows(actor, "catalog.resource.review"):
        require(actor, "catalog.resource.edit", resource)
    if resource.state != S.published:
        raise _illegal(resource, "withdraw", "撤销")
    resource.state, resource.pending_changes, resource.updated_at = S.withdrawn, None, utcnow()
    session.flush()
    audit.record(session, actor, ResourceWithdrawn(resource.id, resource.code, reason))
    return resource


def review_queue(session: Session, actor: Actor) -> list[Resource]:
    """Submitted resources and published ones with a pending change, oldest first."""
    require(actor, "catalog.resource.review")
    waiting = (Resource.state == S.submitted) | (
        (Resource.state == S.published) & Resource.pending_changes.is_not(None)
    )
    return list(session.scalars(select(Resource).where(waiting).order_by(Resource.updated_at)))


def _illegal(resource: Resource, action: str, label: str) -> IllegalTransition:
    state = ResourceState(resource.state)
    return IllegalTransition(
        f"Cannot {action} resource {resource.code} while it is {state.value}.",
        f"数据资源 {resource.code} 当前为“{state.label}”，不能{label}。",
    )


def _apply(resource: Resource, values: dict[str, Any]) -> None:
    fields = values.pop("fields", None)
    for key, value in values.items():
        setattr(resource, key, value.value if hasattr(value, "value") else value)
    if fields is not None:
        _set_fields(resource, [FieldSpec.model_validate(f) for f in fields])
    resource.search_text = search_text(resource)


def _set_fields(resource: Resource, specs: list[FieldSpec]) -> None:
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise Invalid("Field names must be unique.", "数据项名称不能重复。")
    existing = {f.name: f for f in resource.fields}
    resource.fields = []
    for position, spec in enumerate(specs, start=1):
        field = existing.get(spec.name) or Field(name=spec.name)
        field.position, field.title, field.type = position, spec.title, spec.type.value
        field.is_key, field.data_element, field.description = spec.is_key, spec.data_element, spec.description
        resource.fields.append(field)


def _preview(resource: Resource, changes: ResourceChanges) -> Resource:
    """A detached copy with the changes applied, to validate a proposal."""
    copy = Resource(**{c.key: getattr(resource, c.key) for c in Resource.__table__.columns if c.key != "id"})
    values = changes.model_dump(exclude_unset=True)
    values.pop("fields", None)
    for key, value in values.items():
        setattr(copy, key, value.value if hasattr(value, "value") else value)
    return copy


def _check_rules(resource: Resource, *, for_publication: bool = False) -> None:
    """The catalog's own rules: legal basis where the type needs it, base type for base resources."""
    if resource.share_type == ShareType.conditional and not resource.share_condition and for_publication:
        raise MissingBasis("有条件共享 needs its sharing conditions (share_condition).", "有条件共享须填写共享条件。")
    if resource.share_type == ShareType.none and not resource.share_basis:
        raise MissingBasis(
            "不予共享 must cite a law, regulation or central policy (share_basis).",
            "不予共享须注明法律、行政法规或国家政策依据。",
        )
    if resource.open_type == OpenType.restricted and not resource.open_condition and for_publication:
        raise MissingBasis("受限开放 needs its opening conditions (open_condition).", "受限开放须填写开放条件。")
    if resource.category == Category.base and not resource.base_type and for_publication:
        raise Invalid(
            "A base resource names its base type (population, legal_entity, geospatial, credit, licence).",
            "基础库资源须注明所属基础库类型（人口、法人单位、自然资源和空间地理、社会信用、电子证照）。",
        )


def search_text(resource: Resource) -> str:
    """What catalog search matches against: title, abstract, keywords, subjects, field titles."""
    parts = [resource.title, resource.abstract, *resource.keywords, *resource.subjects, resource.code]
    parts += [f"{f.name} {f.title}" for f in resource.fields]
    text = " ".join(p for p in parts if p)
    return text.lower()
