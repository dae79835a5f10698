"""Ingestion into immutable versions: stage, read, compare schemas, move into place, then record.

A version is staged under `<home>/staging/<random>/`, read there into Parquet, moved with one
rename to `<home>/versions/<resource id>/<number>/`, and only then recorded in the database, in
the same transaction as its audit event. A crash before the commit leaves at most an orphan
folder that no row points to; the next ingestion of that number moves it aside.

Once the transaction that records a version commits, a background thread builds its lookup
files (`build_lookups`): an index for equality filters that the version answers without, only
slower, so the ingestion does not wait for it. The thread is not a daemon: a CLI process
finishes the lookups before it exits, after it has printed its report.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import ResourceState, ShareType
from digigov.core import audit
from digigov.core.auth import Actor, allows, require
from digigov.core.config import Settings
from digigov.core.errors import Conflict, Forbidden, Invalid, NotFound
from digigov.datastore import actions as _actions  # noqa: F401  (declares the actions)
from digigov.datastore.export import Format, export_version
from digigov.datastore.masked import FieldMask, field_masks, masked_select, read_masked
from digigov.datastore.models import Version
from digigov.datastore.query import RowPage, RowQuery, read_rows
from digigov.datastore.reader import read_to_parquet, write_lookups
from digigov.datastore.report import ReadLimits

CHUNK = 1024 * 1024
log = logging.getLogger(__name__)
_building: set[threading.Thread] = set()
_building_lock = threading.Lock()

VersionHook = Callable[[Session, Actor, Path, Version], None]
_version_hooks: list[VersionHook] = []


class Readable(Protocol):
    """Anything an upload can be copied from: a file, an UploadFile's file, a progress wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


class SchemaChanged(Conflict):
    code = "schema_changed"


@dataclass(frozen=True)
class VersionCreated(audit.AuditEvent):
    kind = "datastore.version_created"
    description = "A file was ingested as a new immutable version of a resource."
    resource_id: int
    number: int
    raw_sha256: str
    rows: int
    rejected: int

    @property
    def target(self) -> str:
        return f"resource:{self.resource_id}"


def safe_name(name: str) -> str:
    """The last path component of an uploaded name, with nothing that could climb out of a folder.

    >>> safe_name("../../etc/passwd"), safe_name("C:\\\\x\\\\数据.csv"), safe_name("..")
    ('passwd', '数据.csv', 'upload')
    """
    base = re.split(r"[\\/]", name)[-1].strip().lstrip(".")
    base = re.sub(r"[\x00-\x1f]", "", base)[:200]
    return base or "upload"


def schema_change(before: list[dict[str, Any]] | None, after: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns added, removed and retyped between two versions; `compatible` if only added.

    >>> change = schema_change([{"name": "a", "type": "integer"}], [{"name": "a", "type": "string"}])
    >>> change["retyped"], change["compatible"]
    ([{'name': 'a', 'from': 'integer', 'to': 'string'}], False)
    """
    if before is None:
        return {"added": [c["name"] for c in after], "removed": [], "retyped": [], "compatible": True}
    old = {c["name"]: c["type"] for c in before}
    new = {c["name"]: c["type"] for c in after}
    retyped = [{"name": n, "from": old[n], "to": new[n]} for n in new if n in old and old[n] != new[n]]
    removed = [n for n in old if n not in new]
    added = [n for n in new if n not in old]
    return {"added": added, "removed": removed, "retyped": retyped, "compatible": not removed and not retyped}


def ingest_file(
    session: Session,
    actor: Actor,
    *,
    home: Path,
    resource_code: str,
    upload: Readable,
    filename: str,
    sheet: str | None = None,
    allow_schema_change: bool = False,
    limits: ReadLimits = ReadLimits(),
) -> Version:
    """Store an upload as the next immutable version of a resource; refused files leave nothing."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "catalog.resource.edit", resource)
    staging = home / "staging" / uuid.uuid4().hex
    try:
        raw = staging / "raw" / safe_name(filename)
        raw.parent.mkdir(parents=True)
        digest, size = _copy(upload, raw)
        report = read_to_parquet(raw, staging / "out", sheet=sheet, limits=limits)
        previous = latest_version(session, resource.id)
        columns = [{"name": c.name, "type": c.type} for c in report.columns]
        change = schema_change(previous.columns if previous else None, columns)
        if not change["compatible"] and not allow_schema_change:
            raise SchemaChanged(
                f"The file changes the schema (removed {change['removed']}, retyped {change['retyped']}); "
                "pass allow_schema_change to accept it.",
                f"文件改变了数据结构（删除 {change['removed']}，类型变化 {change['retyped']}），"
                "确认后请允许结构变更再导入。",
            )
        number = (previous.number if previous else 0) + 1
        final = _move_into_place(home, staging, resource.id, number)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (final / "report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    version = Version(
        resource_id=resource.id,
        number=number,
        path=str(final.relative_to(home)),
        raw_name=raw.name,
        raw_sha256=digest,
        raw_bytes=size,
        rows=report.rows,
        rejected=report.rejected,
        blank_rows=report.blank_rows,
        columns=columns,
        report=json.loads(json.dumps(report.to_dict(), default=str)),
        schema_change=change,
        created_by=actor.username,
    )
    session.add(version)
    session.flush()
    audit.record(session, actor, VersionCreated(resource.id, number, digest, report.rows, report.rejected))
    for hook in _version_hooks:
        hook(session, actor, home, version)
    _build_lookups_after_commit(session, version, final)
    return version


def on_new_version(hook: VersionHook) -> VersionHook:
    """Run `hook(session, actor, home, version)` on every new version, inside the ingesting transaction.

    This is how a higher layer (governance: classification, quality rules) checks each version
    without the datastore knowing it; a hook that raises refuses the ingestion.
    """
    if hook not in _version_hooks:
        _version_hooks.append(hook)
    return hook


def parquet_path(home: Path, version: Version) -> Path:
    """Where a version's rows are, as one Parquet file."""
    return home / version.path / "data.parquet"


def build_lookups(home: Path, version: Version) -> list[Path]:
    """Build the lookup files `version` lacks, now; return those written. Safe to call again."""
    return write_lookups(home / version.path)


def wait_for_lookups() -> None:
    """Wait until the lookup files of every version committed so far by this process are built."""
    with _building_lock:
        threads = list(_building)
    for thread in threads:
        thread.join()


def _build_lookups_after_commit(session: Session, version: Version, folder: Path) -> None:
    """Once the version is committed (not if its transaction rolls back), build its lookups in a thread."""

    def start(_: Session) -> None:
        if not inspect(version).persistent:  # its savepoint or transaction was rolled back
            return
        thread = threading.Thread(target=_build_quietly, args=(folder,), name=f"lookups {folder}")
        with _building_lock:
            _building.add(thread)
        thread.start()

    event.listen(session, "after_commit", start, once=True)


def _build_quietly(folder: Path) -> None:
    try:
        write_lookups(folder)
    except Exception:  # an index that could not be built leaves the version slower, not wrong
        log.exception("lookup files for %s were not built", folder)
    finally:
        with _building_lock:
            _building.discard(threading.current_thread())


def _copy(upload: Readable, target: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        while chunk := upload.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size == 0:
        raise Invalid("The file is empty (0 bytes).", "文件为空（0 字节）。")
    return sha.hexdigest(), size


def _move_into_place(home: Path, staging: Path, resource_id: int, number: int) -> Path:
    final = home / "versions" / str(resource_id) / str(number)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # left by a crash before its row was committed: nobody can see it
        orphans = home / "orphans"
        orphans.mkdir(exist_ok=True)
        final.rename(orphans / f"{resource_id}-{number}-{uuid.uuid4().hex[:8]}")
    (staging / "raw").rename(staging / "out" / "raw")
    (staging / "out").rename(final)
    return final


def latest_version(session: Session, resource_id: int) -> Version | None:
    """The newest version of a resource, if any."""
    stmt = select(Version).where(Version.resource_id == resource_id).order_by(Version.number.desc()).limit(1)
    return session.scalar(stmt)


def list_versions(session: Session, actor: Actor, resource_code: str) -> list[Version]:
    """A resource's versions, newest first."""
    resource = get_resource(session, actor, resource_code)
    stmt = select(Version).where(Version.resource_id == resource.id).order_by(Version.number.desc())
    return list(session.scalars(stmt))


def get_version(session: Session, actor: Actor, resource_code: str, number: int | None = None) -> Version:
    """One version of a resource (the newest when no number is given)."""
    resource = get_resource(session, actor, resource_code)
    if number is None:
        found = latest_version(session, resource.id)
    else:
        found = session.scalar(select(Version).where(Version.resource_id == resource.id, Version.number == number))
    if found is None:
        raise NotFound(
            f"Resource {resource_code} has no version {number or ''}.", f"数据资源 {resource_code} 没有该版本。"
        )
    return found


def reads_clear(actor: Actor, resource: Resource) -> bool:
    """Whether the actor sees the resource's rows as stored: its department and the bureau (`datastore.read`)."""
    return allows(actor, "datastore.read", resource)


def require_rows(actor: Actor, resource: Resource) -> None:
    """Rows of a published 无条件共享 resource are for all staff; others for its department and reviewers.

    Only `reads_clear` readers see them as stored; every other reader sees them masked
    (`row_masks`). Conditional sharing to other departments goes through share grants (the sharing domain).
    """
    if reads_clear(actor, resource):
        return
    if resource.state == ResourceState.published and resource.share_type == ShareType.unconditional:
        require(actor, "catalog.resource.read")
    else:
        require(actor, "datastore.read", resource)


def row_masks(
    session: Session, actor: Actor, settings: Settings, resource: Resource, version: Version
) -> dict[str, FieldMask] | None:
    """None when the actor reads the version's rows in clear; else each field's mask. Forbidden if no rows at all."""
    require_rows(actor, resource)
    if reads_clear(actor, resource):
        return None
    return field_masks(session, version, settings.secret())


def masked_fields(
    session: Session, actor: Actor, settings: Settings, resource: Resource, version: Version
) -> frozenset[str]:
    """The fields the actor would read masked (none if they read in clear or may not read the rows)."""
    if reads_clear(actor, resource) or not allows_rows(actor, resource):
        return frozenset()
    return frozenset(n for n, m in field_masks(session, version, settings.secret()).items() if not m.clear)


def allows_rows(actor: Actor, resource: Resource) -> bool:
    """True if `require_rows` would let the actor read the resource's rows (masked or not)."""
    try:
        require_rows(actor, resource)
    except Forbidden:
        return False
    return True


def query_rows(
    session: Session, actor: Actor, settings: Settings, *, resource_code: str, number: int | None, query: RowQuery
) -> tuple[Version, RowPage]:
    """Rows of a version (the newest by default) for someone allowed to read them: in clear or masked.

    This is the one way a user reads rows. A filter or sort on a field masked for the actor is
    `MaskedField` (403); text search looks at the fields they see in clear.
    """
    version = get_version(session, actor, resource_code, number)
    masks = row_masks(session, actor, settings, get_resource(session, actor, resource_code), version)
    parquet = parquet_path(settings.home, version)
    if masks is None:
        return version, read_rows(parquet, version.columns, query, rows=version.rows)
    return version, read_masked(parquet, version.columns, query, masks, rows=version.rows)


def export_rows(
    session: Session, actor: Actor, settings: Settings, *, resource_code: str, number: int | None, fmt: Format
) -> tuple[Version, Path]:
    """A version's rows as a download file, masked as `query_rows` masks them; the path of the file."""
    version = get_version(session, actor, resource_code, number)
    masks = row_masks(session, actor, settings, get_resource(session, actor, resource_code), version)
    select = masked_select(version.columns, masks) if masks is not None else None
    return version, export_version(settings.home, version, fmt, select=select)


def version_count(session: Session) -> int:
    """How many versions the datastore holds."""
    return int(session.scalar(select(func.count()).select_from(Version)) or 0)
