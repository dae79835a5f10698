"""Subscriptions (数据高铁): each new version's changed rows, by key, pulled with a cursor.

The change set between version N-1 and N of a resource (inserted, updated, deleted rows by key)
is computed once, set-wise in the engine (a full outer join of the two files on the key and a
hash of the fields both share), and kept as an immutable Parquet file beside the data:
`deltas/<resource>/<N>-<key position>.parquet`, written under a hidden name and renamed into
place, so it is whole or absent. Rows are numbered in a fixed order (deletions, then the new
file's order), so a cursor `N:M` ("version N, from change M") names one place in the stream
for ever: a consumer who keeps the last cursor it got misses nothing and gets nothing twice,
whatever restarts on either side. Masks are applied when the changes are read, per grant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.engine import cursor, quote_name, sql_literal
from digigov.core.errors import Invalid
from digigov.datastore import Version, parquet_path
from digigov.governance.masking import Mask, mask_sql
from digigov.sharing.models import Grant

OPS = ("delete", "insert", "update")


@dataclass(frozen=True)
class Position:
    """A place in a grant's change stream: the version whose changes are being read, and the next change."""

    version: int
    change: int

    def __str__(self) -> str:
        return f"{self.version}:{self.change}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """A cursor as the API hands it out, `N:M`; anything else is refused."""
        head, _, tail = text.partition(":")
        if not (head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit()) or len(text) > 40:
            raise Invalid(f"Cursor '{text[:40]}' is not of the form N:M.", "游标格式应为“版本:序号”（N:M）。")
        return cls(int(head), int(tail))


def delta_path(home: Path, new: Version, key_position: int) -> Path:
    """Where the changes from the version before `new` to `new` by the key at `key_position` are kept."""
    return home / "deltas" / str(new.resource_id) / f"{new.number}-{key_position}.parquet"


def build_delta(home: Path, old: Version, new: Version, key: str) -> Path:
    """The change file of `new` against `old` by `key`, computed now unless it exists. Safe to call again."""
    names = [c["name"] for c in new.columns]
    out = delta_path(home, new, names.index(key))
    if key not in {c["name"] for c in old.columns}:
        raise Invalid(f"Version {old.number} has no field {key}.", f"第 {old.number} 版没有数据项“{key}”。")
    if out.is_file():
        return out
    shared = [n for n in names if n in {c["name"] for c in old.columns} and n != key]
    fingerprint = f"hash({', '.join(quote_name(n) for n in shared)})" if shared else "0"
    k, new_file = quote_name(key), sql_literal(str(parquet_path(home, new)))

    def narrow(source: str) -> str:
        # key, fields' hash and row number only: the join carries no field, so it stays small and
        # fast; a repeated key pairs its occurrences in file order (`o`), so keys need not be unique;
        # a row without a key cannot be told apart from another and is left out
        return (
            f"SELECT k, h, p, row_number() OVER (PARTITION BY k ORDER BY p) AS o FROM"
            f" (SELECT {k} AS k, {fingerprint} AS h, file_row_number AS p"
            f" FROM read_parquet({source}, file_row_number = true) WHERE {k} IS NOT NULL)"
        )

    ordered = f"""
        WITH n AS ({narrow(new_file)}), o AS ({narrow(sql_literal(str(parquet_path(home, old))))}),
        d AS MATERIALIZED (
            SELECT CASE WHEN n.p IS NULL THEN 'delete' WHEN o.p IS NULL THEN 'insert' ELSE 'update' END AS op,
                   coalesce(n.k, o.k) AS key, n.p AS np,
                   CASE WHEN n.p IS NULL THEN 0 ELSE 1 END AS side_, coalesce(n.p, o.p) AS at_
            FROM n FULL OUTER JOIN o ON n.k = o.k AND n.o = o.o
            WHERE n.p IS NULL OR o.p IS NULL OR n.h <> o.h)
        SELECT row_number() OVER (ORDER BY d.side_, d.at_) - 1 AS __seq, d.op AS __op, d.key AS __key,
               r.* EXCLUDE (file_row_number)
        FROM d LEFT JOIN (
            SELECT * FROM read_parquet({new_file}, file_row_number = true)
            WHERE file_row_number IN (SELECT np FROM d WHERE np IS NOT NULL)
        ) r ON r.file_row_number = d.np
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    with cursor() as con:
        con.execute(f"COPY ({ordered} ORDER BY __seq) TO {sql_literal(str(partial))} (FORMAT parquet)")
    partial.replace(out)
    return out


def start_of(session: Session, grant: Grant) -> Position:
    """Where a grant's stream starts: the changes of the first version made after the grant."""
    stmt = select(Version.number).where(
        Version.resource_id == grant.resource_id, Version.created_at <= grant.created_at
    )
    current = session.scalar(stmt.order_by(Version.number.desc()).limit(1))
    return Position((current or 0) + 1, 0)


@dataclass(frozen=True)
class Changes:
    """A page of changes: each row with `_version`, `_change`, `_op` and the masked fields; and the next cursor."""

    rows: list[dict[str, Any]]
    cursor: str
    versions: list[int]


def read_changes(
    session: Session, home: Path, grant: Grant, masks: dict[str, Mask], at: Position, limit: int
) -> Changes:
    """Up to `limit` changes from `at` on, across versions, masked; the cursor to pass next time."""
    assert grant.key_field is not None
    versions = {
        v.number: v
        for v in session.scalars(
            select(Version).where(Version.resource_id == grant.resource_id, Version.number >= at.version - 1)
        )
    }
    rows: list[dict[str, Any]] = []
    seen: list[int] = []
    position = at
    while len(rows) < limit and position.version in versions:
        new, old = versions[position.version], versions.get(position.version - 1)
        keyed = old is not None and all(grant.key_field in {c["name"] for c in v.columns} for v in (old, new))
        if old is None or not keyed:
            position = Position(position.version + 1, 0)  # the first version, or one without the key: no changes
            continue
        want = limit - len(rows)
        page = _read(build_delta(home, old, new, grant.key_field), new, grant, masks, position.change, want)
        rows.extend(page)
        seen.append(new.number)
        exhausted = len(page) < want
        position = Position(new.number + 1, 0) if exhausted else Position(new.number, position.change + len(page))
    return Changes(rows, str(position), seen)


def _read(
    path: Path, version: Version, grant: Grant, masks: dict[str, Mask], start: int, limit: int
) -> list[dict[str, Any]]:
    types = {c["name"]: c["type"] for c in version.columns}
    present = {n: m for n, m in masks.items() if n in types}
    columns = [f"{mask_sql(m, quote_name(n), types[n], grant.salt)} AS {quote_name(n)}" for n, m in present.items()]
    key_mask = masks.get(str(grant.key_field), Mask.clear)
    sql = (
        f"SELECT {version.number} AS _version, __seq AS _change, __op AS _op,"
        f" {mask_sql(key_mask, '__key', types[str(grant.key_field)], grant.salt)} AS _key,"
        f" {', '.join(columns) or 'NULL AS _none'}"
        f" FROM read_parquet(?) WHERE __seq >= ? ORDER BY __seq LIMIT {int(limit)}"
    )
    with cursor() as con:
        result = con.execute(sql, [str(path), start])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
