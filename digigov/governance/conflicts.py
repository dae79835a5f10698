"""Conflicts between sources: the same element, the same key, different values (一数一源).

For an element with an authoritative source, every other resource that publishes the element and
the key element is joined with the source on the key, latest version against latest version, in
one engine query per pair. Keys are compared trimmed and upper-cased (` 91110105672353933e` is
`91110105672353933E`); values trimmed. A key with several values on a side conflicts when the other
resource holds a value the source does not. Blank keys and blank values are not compared: a
missing value is a completeness problem, not a conflict.

Each pair's run is stored with exact counts and up to `SAMPLE` conflicting keys, so conflicts can be
followed up; `open_conflict_problems` is the one place that hands new ones to problem data.

Stored conflicts keep both sides' values in clear (the checks compare them and problem data needs
the authoritative value); they are masked when shown. `shown_sample` is the one reader for
display, so masking there is enough: each side's values are masked as the datastore masks that
side's rows for the viewer (`governance.rows.Viewer`: in clear for the side's department and the
bureau, by field class for everyone else). `conflict_sample` returns the stored rows as they are,
for services and tests only; no page, API or command shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Field, Resource
from digigov.core import audit, engine
from digigov.core.auth import Actor, allows, require
from digigov.core.errors import DigigovError
from digigov.datastore import Version, latest_version, parquet_path
from digigov.governance import actions as _actions  # noqa: F401  (declares the actions)
from digigov.governance.elements import get_element, source_resource
from digigov.governance.errors import FieldNotOfElement, NothingToCompare
from digigov.governance.events import ConflictsFound
from digigov.governance.masking import Mask
from digigov.governance.models import ConflictRun, DataElement, ElementConflict
from digigov.governance.problems import raise_problem
from digigov.governance.rows import Shown, Viewer, rows_salt

SAMPLE = 1000  # conflicting keys kept per run; the counts are always exact
PROBLEMS_PER_CHECK = 100  # new conflicts that open problem items per check; the rest stay recorded
EDGE = "E' \\t\\n\\r\u3000'"  # white space trimmed from keys and values, full-width too


@dataclass(frozen=True)
class Side:
    """One resource's part in a comparison: its latest version, the element's field and the key's."""

    resource: Resource
    version: Version
    field: str
    key_field: str


@dataclass(frozen=True)
class Skipped:
    resource: str
    reason: str


@dataclass(frozen=True)
class ConflictResult:
    """What `find_conflicts` found: one run per compared resource, and those it could not compare."""

    element: DataElement
    key_element: str
    runs: list[ConflictRun]
    skipped: list[Skipped]

    @property
    def conflicts(self) -> int:
        return sum(run.conflicts for run in self.runs)


def find_conflicts(
    session: Session, actor: Actor, *, home: Path, element: str, key_element: str, sample: int = SAMPLE
) -> ConflictResult:
    """Compare the element between its authoritative source and every other resource keyed by `key_element`."""
    require(actor, "governance.conflict.check")
    found = get_element(session, actor, element)
    key = get_element(session, actor, key_element)
    source = _source_side(session, found, key.identifier)
    runs: list[ConflictRun] = []
    skipped: list[Skipped] = []
    for other in _other_sides(session, found, key.identifier, source, skipped):
        runs.append(_compare(session, actor, home, found, key.identifier, source, other, min(sample, SAMPLE)))
    new = [c for run in runs for c in _conflicts_of(session, run) if c.first_seen]
    audit.record(
        session,
        actor,
        ConflictsFound(found.identifier, key.identifier, tuple(r.id for r in runs), sum(r.conflicts for r in runs)),
    )
    open_conflict_problems(session, actor, new[:PROBLEMS_PER_CHECK], home=home, element=found)
    return ConflictResult(found, key.identifier, runs, skipped)


def open_conflict_problems(
    session: Session, actor: Actor, conflicts: list[ElementConflict], *, home: Path, element: DataElement
) -> list[tuple[ElementConflict, str]]:
    """Raise a problem-data item for each conflict seen for the first time, to the non-authoritative resource.

    The item expects the authoritative value, so only a version carrying it verifies the fix; its
    description names no value, as free text is not masked where the item is shown. A
    conflict whose row the raise cannot find as written (its key matched only once trimmed and
    upper-cased) is left as a recorded conflict; those are returned with the reason.
    """
    refused = []
    for conflict in conflicts:
        run = session.get(ConflictRun, conflict.run_id)
        other = session.get(Resource, run.other_resource_id) if run else None
        if run is None or other is None:
            continue
        try:
            with session.begin_nested():
                raise_problem(
                    session,
                    actor,
                    resource_code=other.code,
                    field=run.other_field,
                    key_field=run.other_key_field,
                    key_value=conflict.key_value,
                    observed=conflict.other_value,
                    expected=conflict.source_value,
                    description=(  # no values: the item's expected and observed values are shown masked
                        f"与权威来源不一致（一数一源）：数据元 {element.identifier}（{element.name}）"
                        "的取值与权威来源不同，应为权威来源的值（见期望值）。"
                    ),
                    source="conflict",
                    home=home,
                )
        except DigigovError as error:
            refused.append((conflict, error.message))
    return refused


def _source_side(session: Session, element: DataElement, key: str) -> Side:
    resource = source_resource(session, element)
    if resource is None or element.source_field is None:
        raise NothingToCompare(
            f"Data element {element.identifier} has no authoritative source yet; set one first.",
            f"数据元 {element.identifier}（{element.name}）尚未登记权威来源，请先登记。",
        )
    key_field = _key_field(resource, key)
    if key_field is None:
        raise FieldNotOfElement(
            f"The authoritative source {resource.code} has no field declared as the key element {key}.",
            f"权威来源 {resource.code} 没有登记为关联数据元 {key} 的数据项，无法按该数据元比对。",
        )
    version = latest_version(session, resource.id)
    if version is None:
        raise NothingToCompare(
            f"The authoritative source {resource.code} has no data version yet; ingest one first.",
            f"权威来源 {resource.code} 还没有数据版本，请先归集数据。",
        )
    return Side(resource, version, element.source_field, key_field)


def _key_field(resource: Resource, key: str) -> str | None:
    keys = [f for f in resource.fields if f.data_element == key]
    keys.sort(key=lambda f: (not f.is_key, f.position))
    return keys[0].name if keys else None


def _other_sides(session: Session, element: DataElement, key: str, source: Side, skipped: list[Skipped]) -> list[Side]:
    """Every field declared as the element in another resource that also declares the key."""
    rows = session.execute(
        select(Resource, Field.name)
        .join(Field, Field.resource_id == Resource.id)
        .where(Field.data_element == element.identifier, Resource.id != source.resource.id)
        .order_by(Resource.code, Field.position)
    )
    sides = []
    for resource, field in rows:
        key_field = _key_field(resource, key)
        version = latest_version(session, resource.id)
        if key_field is None:
            skipped.append(Skipped(resource.code, f"no field declared as the key element {key}"))
        elif version is None:
            skipped.append(Skipped(resource.code, "no data version yet"))
        elif not {field, key_field} <= {c["name"] for c in version.columns}:
            skipped.append(Skipped(resource.code, f"version {version.number} lacks column {field} or {key_field}"))
        else:
            sides.append(Side(resource, version, field, key_field))
    return sides


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _side_sql(column: str, key: str) -> str:
    """Distinct (normalised key, trimmed value) pairs of one side, blanks left out."""
    k = f"upper(trim(CAST({_quoted(key)} AS VARCHAR), {EDGE}))"
    v = f"trim(CAST({_quoted(column)} AS VARCHAR), {EDGE})"
    return f"SELECT DISTINCT k, v FROM (SELECT {k} AS k, {v} AS v FROM read_parquet(?)) WHERE k <> '' AND v <> ''"


def compare_sql(source: Side, other: Side, sample: int) -> str:
    """One query: keys on both sides, keys with another value than the source's, and a sample of them.

    Hash joins on (key, value) pairs; the values of a key are only gathered for the sampled keys.
    """
    return f"""
        WITH s AS MATERIALIZED ({_side_sql(source.field, source.key_field)}),
             o AS MATERIALIZED ({_side_sql(other.field, other.key_field)}),
             both_keys AS MATERIALIZED (SELECT DISTINCT k FROM o SEMI JOIN s USING (k)),
             c AS MATERIALIZED (
                 SELECT DISTINCT k FROM (SELECT k, v FROM o SEMI JOIN both_keys USING (k)) ov
                 ANTI JOIN s USING (k, v)),
             picked AS (SELECT k FROM c ORDER BY k LIMIT {int(sample)}),
             sv AS (SELECT k, string_agg(v, ' | ' ORDER BY v) AS v FROM s SEMI JOIN picked USING (k) GROUP BY k),
             ov AS (SELECT k, string_agg(v, ' | ' ORDER BY v) AS v FROM o SEMI JOIN picked USING (k) GROUP BY k)
        SELECT (SELECT count(*) FROM both_keys),
               (SELECT count(*) FROM c),
               (SELECT list([k, sv.v, ov.v] ORDER BY k) FROM sv JOIN ov USING (k))
    """


def _compare(
    session: Session, actor: Actor, home: Path, element: DataElement, key: str, source: Side, other: Side, sample: int
) -> ConflictRun:
    with engine.cursor() as con:
        paths = [str(parquet_path(home, source.version)), str(parquet_path(home, other.version))]
        compared, conflicts, rows = con.execute(compare_sql(source, other, sample), paths).fetchone() or (0, 0, None)
    run = ConflictRun(
        element_id=element.id,
        key_element=key,
        source_resource_id=source.resource.id,
        source_field=source.field,
        source_key_field=source.key_field,
        source_version=source.version.number,
        other_resource_id=other.resource.id,
        other_field=other.field,
        other_key_field=other.key_field,
        other_version=other.version.number,
        compared=compared,
        conflicts=conflicts,
        found_by=actor.username,
    )
    previous = _previous_run(session, run)
    session.add(run)
    session.flush()
    seen = _seen(session, previous)
    session.add_all(
        ElementConflict(
            run_id=run.id, key_value=k[:200], source_value=s, other_value=o, first_seen=(k[:200], o) not in seen
        )
        for k, s, o in rows or []
    )
    session.flush()
    return run


def _previous_run(session: Session, run: ConflictRun) -> ConflictRun | None:
    same_pair = (
        (ConflictRun.element_id == run.element_id)
        & (ConflictRun.key_element == run.key_element)
        & (ConflictRun.other_resource_id == run.other_resource_id)
        & (ConflictRun.other_field == run.other_field)
    )
    return session.scalar(select(ConflictRun).where(same_pair).order_by(ConflictRun.id.desc()).limit(1))


def _seen(session: Session, run: ConflictRun | None) -> set[tuple[str, str]]:
    if run is None:
        return set()
    rows = session.execute(
        select(ElementConflict.key_value, ElementConflict.other_value).where(ElementConflict.run_id == run.id)
    )
    return set(rows)


def _conflicts_of(session: Session, run: ConflictRun, limit: int = SAMPLE) -> list[ElementConflict]:
    query = select(ElementConflict).where(ElementConflict.run_id == run.id).order_by(ElementConflict.id).limit(limit)
    return list(session.scalars(query))


def conflict_sample(session: Session, run: ConflictRun, *, limit: int = 20) -> list[ElementConflict]:
    """The first conflicting keys a run kept, in key order, values in clear: not for display (see `shown_sample`)."""
    return _conflicts_of(session, run, limit)


@dataclass(frozen=True)
class ShownConflict:
    """A stored conflict as one viewer sees it; `position` (1-based, key order) tells masked keys apart."""

    position: int
    key_value: str | None
    source_value: str | None
    other_value: str | None
    first_seen: bool


def shown_sample(session: Session, run: ConflictRun, viewer: Viewer, *, limit: int = 20) -> list[ShownConflict]:
    """The first conflicting keys a run kept, each side masked as that side's rows are for the viewer.

    The key is on both sides: it is in clear if the viewer sees either side's key field in clear
    (they hold the same key), else masked by the authoritative side's key field.
    """
    source = _shown(session, viewer, run.source_resource_id, run.source_version)
    other = _shown(session, viewer, run.other_resource_id, run.other_version)
    clear_key = Mask.clear in (source.mask_of(run.source_key_field), other.mask_of(run.other_key_field))
    return [
        ShownConflict(
            position=n,
            key_value=c.key_value if clear_key else source.value(run.source_key_field, c.key_value),
            source_value=_values(source, run.source_field, c.source_value),
            other_value=_values(other, run.other_field, c.other_value),
            first_seen=c.first_seen,
        )
        for n, c in enumerate(_conflicts_of(session, run, limit), start=1)
    ]


def _shown(session: Session, viewer: Viewer, resource_id: int, number: int) -> Shown:
    """The masks of one side's compared version for the viewer; a version no longer there is hashed throughout."""
    version = session.scalar(select(Version).where(Version.resource_id == resource_id, Version.number == number))
    if version is not None:
        return viewer.shown(session, version)
    return Shown({}, {}, lambda: rows_salt(viewer.settings.secret(), resource_id))


def _values(shown: Shown, field: str, joined: str) -> str | None:
    """A side's values (several joined by ' | ') masked one by one, as the rows show each of them."""
    if shown.mask_of(field) is Mask.clear:
        return joined
    masked = [shown.value(field, value) for value in joined.split(" | ")]
    if all(value is None for value in masked):
        return None
    return " | ".join("" if value is None else str(value) for value in masked)


def latest_conflicts(session: Session, actor: Actor, *, element: str) -> list[ConflictRun]:
    """The newest run of each compared pair of the element that the actor may see (their department's resources)."""
    found = get_element(session, actor, element)
    newest = (
        select(func.max(ConflictRun.id))
        .where(ConflictRun.element_id == found.id)
        .group_by(ConflictRun.key_element, ConflictRun.other_resource_id, ConflictRun.other_field)
    )
    runs = session.scalars(select(ConflictRun).where(ConflictRun.id.in_(newest)).order_by(ConflictRun.id.desc()))
    return [run for run in runs if _may_read(session, actor, run)]


def _may_read(session: Session, actor: Actor, run: ConflictRun) -> bool:
    resources = (session.get(Resource, run.source_resource_id), session.get(Resource, run.other_resource_id))
    return any(r is not None and allows(actor, "governance.conflict.read", r) for r in resources)


def resource_codes(session: Session, run: ConflictRun) -> tuple[str, str]:
    """The codes of a run's authoritative and other resource."""
    source = session.get_one(Resource, run.source_resource_id)
    other = session.get_one(Resource, run.other_resource_id)
    return source.code, other.code
