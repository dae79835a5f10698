"""The portal's view of the catalog: search, one open resource, its fields' masks, and who may read its rows.

Only published resources whose open type is 无条件开放 or 受限开放 exist here. A 禁止开放 resource is
answered exactly like a code that does not exist, so the portal never tells the two apart.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.catalog.search import facet_label, load_resources, match_resources
from digigov.catalog.vocabulary import Category, OpenType, ResourceState, UpdateCycle
from digigov.core.auth import Actor, Role, require
from digigov.core.errors import NotFound
from digigov.datastore import Version, latest_version
from digigov.governance.classification import field_levels
from digigov.governance.masking import Mask, masks_for
from digigov.identity import get_department
from digigov.opendata import actions as _actions  # noqa: F401  (declares the permissions)
from digigov.opendata.errors import AccessNeeded
from digigov.opendata.models import Application, OpenCall, Rating
from digigov.opendata.schemas import ApplicationState, FieldRead, OpenResourceRead

OPEN_TYPES = [OpenType.unconditional.value, OpenType.restricted.value]
FACETS = ("department", "category", "open_type", "update_cycle")
DOWNLOADS = ("csv", "json")
# The portal reads the catalog as itself: a reader of published metadata with no department, so
# the catalog's own visibility rule leaves it published resources only; the filters do the rest.
PORTAL = Actor(user_id=None, username="opendata:portal", department_id=None, roles=frozenset({Role.data_consumer}))


@dataclass(frozen=True)
class OpenPage:
    """One page of portal search results, the total, and the facets of the whole match."""

    count: int
    results: list[Resource]
    facets: dict[str, list[tuple[str, int]]]


def search_open(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> OpenPage:
    """Open resources matching a Chinese query and facet filters (the catalog's search, open ones only)."""
    require(actor, "opendata.portal.read")
    chosen = {name: values for name, values in (filters or {}).items() if name in FACETS and values}
    asked = chosen.get("open_type")
    chosen["open_type"] = [t for t in asked if t in OPEN_TYPES] if asked else list(OPEN_TYPES)
    chosen["state"] = [ResourceState.published.value]
    found = match_resources(session, PORTAL, q=q, filters=chosen, limit=limit, offset=offset, facets=FACETS)
    return OpenPage(found.count, load_resources(session, found.ids), found.facets)


def get_open_resource(session: Session, actor: Actor, code: str) -> Resource:
    """A published resource open to the public (无条件 or 受限开放); any other code is the same NotFound."""
    require(actor, "opendata.portal.read")
    resource = session.scalar(
        select(Resource).where(
            Resource.code == code,
            Resource.state == ResourceState.published.value,
            Resource.open_type.in_(OPEN_TYPES),
        )
    )
    if resource is None:
        raise NotFound(f"Open resource {code} does not exist.", f"开放数据资源 {code} 不存在。")
    return resource


def field_masks(session: Session, version: Version) -> dict[str, Mask]:
    """Each column's mask on `version`, as a sharing grant without clear text would mask it.

    Read from the version's classification every time; open data never carries personal data in
    clear, and a field that was never classified is hashed.
    """
    return masks_for(field_levels(session, version), [str(c["name"]) for c in version.columns])


def mask_salt(secret: str, resource: Resource) -> str:
    """The salt of `hash` masks: keyed with the platform's secret, so hashes are stable per resource,
    differ between resources, and cannot be recomputed from guessed values."""
    return hmac.new(secret.encode(), f"opendata:{resource.id}".encode(), hashlib.sha256).hexdigest()


def may_read_rows(session: Session, actor: Actor, resource: Resource, today: date) -> bool:
    """Whether the actor may preview and download: anyone for 无条件开放, a running applicant for 受限开放."""
    if resource.open_type == OpenType.unconditional.value:
        return True
    return actor.user_id is not None and current_application(session, actor.user_id, resource.id, today) is not None


def require_rows(session: Session, actor: Actor, resource: Resource, today: date) -> None:
    """Refuse the rows of a 受限开放 resource without a running approved application."""
    require(actor, "opendata.data.read")
    if not may_read_rows(session, actor, resource, today):
        raise AccessNeeded(
            f"Resource {resource.code} is open on application; apply, and read it once the application is approved.",
            f"数据资源 {resource.code} 为受限开放，请先提交申请，审核通过后方可预览和下载。",
        )


def current_application(session: Session, user_id: int, resource_id: int, today: date) -> Application | None:
    """The user's approved application for the resource whose period holds `today`, if any."""
    stmt = select(Application).where(
        Application.user_id == user_id,
        Application.resource_id == resource_id,
        Application.state == ApplicationState.approved.value,
        Application.starts_on <= today,
        Application.ends_on >= today,
    )
    return session.scalars(stmt.order_by(Application.ends_on.desc()).limit(1)).first()


def download_count(session: Session, resource_id: int) -> int:
    """How many times the resource was downloaded (pages and API)."""
    stmt = select(func.count()).where(OpenCall.resource_id == resource_id, OpenCall.kind.in_(DOWNLOADS))
    return int(session.scalar(stmt) or 0)


def rating_of(session: Session, resource_id: int) -> tuple[float | None, int]:
    """The mean rating (one decimal) and how many users rated."""
    mean, count = session.execute(
        select(func.avg(Rating.stars), func.count()).where(Rating.resource_id == resource_id)
    ).one()
    return (round(float(mean), 1) if mean is not None else None), int(count)


def describe(session: Session, resource: Resource, *, with_fields: bool = False) -> OpenResourceRead:
    """An open resource as the portal shows it; `with_fields` adds each field and its mask."""
    version = latest_version(session, resource.id)
    mean, count = rating_of(session, resource.id)
    return OpenResourceRead(
        code=resource.code,
        title=resource.title,
        abstract=resource.abstract,
        department=get_department(session, resource.department_id).name,
        category=resource.category,
        category_label=Category(resource.category).label,
        open_type=resource.open_type,
        open_type_label=OpenType(resource.open_type).label,
        open_condition=resource.open_condition,
        subjects=list(resource.subjects),
        keywords=list(resource.keywords),
        update_cycle=resource.update_cycle,
        update_cycle_label=UpdateCycle(resource.update_cycle).label,
        format=resource.format,
        contact=resource.contact,
        published_on=resource.published_on,
        updated_at=resource.updated_at,
        version=version.number if version else None,
        rows=version.rows if version else None,
        downloads=download_count(session, resource.id),
        rating=mean,
        ratings=count,
        fields=_fields(session, resource, version) if with_fields else [],
    )


def _fields(session: Session, resource: Resource, version: Version | None) -> list[FieldRead]:
    """The newest version's columns (titles from the catalog where it has them) and their masks."""
    titles = {f.name: f.title for f in resource.fields}
    if version is None:
        return [
            FieldRead(
                name=f.name, title=f.title, type=f.type, type_label=facet_label("type", f.type), mask="", mask_label=""
            )
            for f in resource.fields
        ]
    masks = field_masks(session, version)
    return [
        FieldRead(
            name=str(c["name"]),
            title=titles.get(c["name"], ""),
            type=str(c["type"]),
            type_label=facet_label("type", str(c["type"])),
            mask=masks[c["name"]].value,
            mask_label=masks[c["name"]].label,
        )
        for c in version.columns
    ]


def facet_labels(session: Session, facets: dict[str, list[tuple[str, int]]]) -> dict[str, list[tuple[str, str, int]]]:
    """Facet counts with their Chinese labels (departments by name)."""
    labelled: dict[str, list[tuple[str, str, int]]] = {}
    for name, counts in facets.items():
        rows = []
        for value, n in counts:
            label = get_department(session, int(value)).name if name == "department" else facet_label(name, value)
            rows.append((value, label, n))
        labelled[name] = rows
    return labelled


def department_name(session: Session, department_id: int | None) -> str | None:
    """A department's name, or None when none is given."""
    return get_department(session, department_id).name if department_id is not None else None
