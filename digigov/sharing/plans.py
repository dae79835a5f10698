"""What serving a grant's data API calls needs, read once and checked again by one query on every call.

A call needs the grant, its resource's code, the newest version and each field's mask on it (from
the version's classification and the stewards' overrides). Read through the ORM, that is six
queries and most of a keyed lookup's time. A `Plan` holds it all, made once and kept in the
process under the plan's *stamp*: the grant's row as it is now, the newest version's id, the
version's detected fields and the newest override's id, all read by one indexed query per call.
Anything a plan depends on changes its stamp (a revocation, a reissued credential, a new
version, a classification run again, an override), so the next call makes a new plan:
revocation and expiry still take effect on the next call, in every process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core.errors import NotFound
from digigov.datastore import Version
from digigov.governance.masking import Mask
from digigov.governance.models import FieldDetection, LevelOverride
from digigov.sharing.models import Grant
from digigov.sharing.service import field_masks

MAX_PLANS = 4096  # grants served by one process before the oldest plans are dropped


@dataclass(frozen=True)
class Plan:
    """A grant (a detached copy of its row), its resource's code, the newest version and the masks on it."""

    grant: Grant
    code: str
    version: Version | None
    masks: dict[str, Mask]  # granted fields in the version, in grant order
    types: dict[str, str]  # every field of the version and its type

    def newest(self) -> Version:
        """The version calls read; refused while the resource has none."""
        if self.version is None:
            raise NotFound("The resource has no data yet.", "该数据资源尚无数据。")
        return self.version


def _stamped(where: ColumnElement[bool]) -> Select[Any]:
    """The grant row, its resource's code and what its masks depend on: one row per detected field."""
    newest = (
        select(Version.id)
        .where(Version.resource_id == Grant.resource_id)
        .order_by(Version.number.desc())
        .limit(1)
        .correlate(Grant)
        .scalar_subquery()
    )
    overridden = (
        select(func.max(LevelOverride.id))
        .where(LevelOverride.resource_id == Grant.resource_id)
        .correlate(Grant)
        .scalar_subquery()
    )
    return (
        select(
            *(cast(c, Text).label(c.key) if isinstance(c.type, JSON) else c for c in Grant.__table__.columns),
            Resource.code.label("resource_code"),
            newest.label("newest_version_id"),
            overridden.label("newest_override_id"),
            FieldDetection.field.label("detected_field"),
            FieldDetection.kind.label("detected_kind"),
            FieldDetection.detected_level.label("detected_level"),
        )
        .join(Resource, Resource.id == Grant.resource_id)
        .outerjoin(FieldDetection, FieldDetection.version_id == newest)
        .where(where)
        .order_by(FieldDetection.position)
    )


BY_CREDENTIAL = _stamped(Grant.credential_hash == bindparam("key"))
BY_ID = _stamped(Grant.id == bindparam("key"))
GRANT_COLUMNS = [column.key for column in Grant.__table__.columns]
# read as text: the stamp compares them as stored, and they are decoded only when a plan is made
JSON_COLUMNS = {column.key for column in Grant.__table__.columns if isinstance(column.type, JSON)}

_plans: dict[tuple[Any, ...], Plan] = {}
_lock = threading.Lock()


def plan_by_credential(session: Session, credential_hash: str) -> Plan | None:
    """The plan of the grant whose credential hashes to `credential_hash`; None when there is none."""
    return _plan(session, BY_CREDENTIAL, credential_hash)


def plan_by_id(session: Session, grant_id: int) -> Plan | None:
    """The plan of grant `grant_id`; None when there is none."""
    return _plan(session, BY_ID, grant_id)


def _plan(session: Session, statement: Select[Any], key: object) -> Plan | None:
    session.flush()  # what the session changed counts (Core execution does not autoflush)
    rows = session.connection().execute(statement, {"key": key}).all()  # Core: no ORM rows to build
    if not rows:
        return None
    first = rows[0]
    grant_row = tuple(first[: len(GRANT_COLUMNS)])
    detections = tuple((r.detected_field, r.detected_kind, r.detected_level) for r in rows if r.detected_field)
    where = str(session.get_bind().engine.url)
    stamp = (where, grant_row, first.resource_code, first.newest_version_id, first.newest_override_id, detections)
    found = _plans.get(stamp)
    if found is None:
        found = _make(session, dict(zip(GRANT_COLUMNS, grant_row, strict=True)), first)
        with _lock:
            if len(_plans) >= MAX_PLANS:
                _plans.clear()
            _plans[stamp] = found
    return found


def _make(session: Session, grant_row: dict[str, Any], first: Any) -> Plan:
    decoded = {k: json.loads(v) if k in JSON_COLUMNS and v is not None else v for k, v in grant_row.items()}
    grant = Grant(**decoded)  # transient: never added to a session, read only
    version = _copy(session.get_one(Version, first.newest_version_id)) if first.newest_version_id is not None else None
    masks, types = served_fields(session, grant, version)
    return Plan(grant, first.resource_code, version, masks, types)


def served_fields(session: Session, grant: Grant, version: Version | None) -> tuple[dict[str, Mask], dict[str, str]]:
    """The granted fields `version` has with their masks on it, and every field of it with its type."""
    types = {c["name"]: c["type"] for c in version.columns} if version is not None else {}
    masks = {name: mask for name, mask in field_masks(session, grant, version).items() if name in types}
    return masks, types


def _copy(stored: Version) -> Version:
    """A transient copy of a version row (a version never changes once written), free of any session."""
    return Version(**{column.key: getattr(stored, column.key) for column in Version.__table__.columns})
