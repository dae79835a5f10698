"""JSON (an array of records, or an object holding one) and JSON Lines into table `raw`.

Nesting is measured in a streaming pass before DuckDB parses anything. Each record's keys
become columns in first-seen order; nested values are kept as JSON text. An element or line
that is not an object goes to the rejects with its number (element number for arrays).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from digigov.datastore.errors import EmptyFile, JsonTooDeep, MalformedJson, TooManyColumns
from digigov.datastore.report import MB, Format, ReadLimits
from digigov.datastore.staging import Reject, Staged, csv_options, sql_literal
from digigov.datastore.textfile import CHUNK, TextFile

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
MAX_SINGLE_OBJECT = 256 * MB


def stage_json(con: duckdb.DuckDBPyConnection, text: TextFile, fmt: Format, limits: ReadLimits) -> Staged:
    """Load the records of a JSON or JSON Lines file into `raw`."""
    check_depth(text.path, limits.max_json_depth, limits.max_field_bytes)
    try:
        if fmt == "jsonl":
            rejects, blank, member = _jsonl_objects(con, text, limits), _blank_lines(con), None
        else:
            member = _array_objects(con, text.path, limits)
            rejects, blank = _non_objects(con), 0
        keys = _keys(con)
        if len(keys) > limits.max_columns:
            raise TooManyColumns(len(keys), limits.max_columns)
        if not keys:
            raise EmptyFile(text.path.name)
        _extract(con, keys)
    except duckdb.Error as error:
        raise MalformedJson(str(error).splitlines()[0]) from error
    return Staged(fmt, text.encoding, None, member, None, tuple(keys), tuple(keys), tuple(rejects), blank, text.notes)


def check_depth(path: Path, limit: int, max_string_bytes: int) -> None:
    """Refuse JSON nested deeper than `limit`, reading it in chunks with strings cut out."""
    depth, carry = 0, b""
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            data = _STRING.sub(b"", carry + chunk)
            quote = data.find(b'"')  # an unfinished string waits for the next chunk
            data, carry = (data[:quote], data[quote:]) if quote != -1 else (data, b"")
            if len(carry) > max_string_bytes:
                raise MalformedJson(f"a string longer than {max_string_bytes // MB} MB, or a quote never closed")
            for bracket in data.translate(None, _NOT_BRACKETS):
                depth += 1 if bracket in b"[{" else -1
                if depth > limit:
                    raise JsonTooDeep(limit)


def _jsonl_objects(con: duckdb.DuckDBPyConnection, text: TextFile, limits: ReadLimits) -> list[Reject]:
    # One line per row: 0x1F cannot occur unescaped in valid JSON, so nothing is split.
    con.execute(
        "CREATE TABLE lines AS SELECT n, j, CASE WHEN json_valid(j) THEN json_type(j) END AS kind FROM "
        f"(SELECT row_number() OVER () AS n, j FROM read_csv({sql_literal(str(text.path))}, "
        f"columns = {{'j': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '', "
        f"new_line = {sql_literal(text.newline_option)}, {csv_options(limits)}))"
    )
    con.execute("CREATE TABLE objects AS SELECT n, j::JSON AS j FROM lines WHERE kind = 'OBJECT'")
    rows = con.execute(
        "SELECT n, CASE WHEN kind IS NULL THEN 'not valid JSON' ELSE 'not a JSON object' END, j FROM lines "
        "WHERE trim(j) <> '' AND kind IS DISTINCT FROM 'OBJECT' ORDER BY n"
    ).fetchall()
    return [Reject(int(n), str(reason), str(raw)) for n, reason, raw in rows]


def _blank_lines(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM lines WHERE j IS NULL OR trim(j) = ''").fetchone()
    return int(row[0]) if row else 0


def _array_objects(con: duckdb.DuckDBPyConnection, path: Path, limits: ReadLimits) -> str | None:
    """Records from a top-level array, or from the one array member of a top-level object."""
    source = sql_literal(str(path))
    if _first_char(path) == "[":
        con.execute(
            f"CREATE TABLE objects AS SELECT row_number() OVER () AS n, json AS j FROM read_json_objects({source}, "
            f"format = 'array', maximum_object_size = {max(16 * MB, 2 * limits.max_field_bytes)})"
        )
        return None
    if path.stat().st_size > MAX_SINGLE_OBJECT:
        raise MalformedJson(f"a single JSON object over {MAX_SINGLE_OBJECT // MB} MB; send JSON Lines or an array")
    con.execute(
        f"CREATE TABLE whole AS SELECT json AS j FROM read_json_objects({source}, format = 'unstructured', "
        f"maximum_object_size = {path.stat().st_size + 1})"
    )
    arrays = [
        key
        for (key,) in con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(j)) AS k, j FROM whole) "
            "WHERE json_type(j, '$.\"' || replace(k, '\"', '\\\"') || '\"') = 'ARRAY'"
        ).fetchall()
    ]
    if len(arrays) != 1:
        con.execute("CREATE TABLE objects AS SELECT 1 AS n, j FROM whole")
        return None
    path_sql = sql_literal(json_path(str(arrays[0])) + "[*]")
    con.execute(
        f"CREATE TABLE objects AS SELECT row_number() OVER () AS n, j FROM "
        f"(SELECT unnest(json_extract(j, {path_sql})) AS j FROM whole)"
    )
    return str(arrays[0])


def _first_char(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(4096).decode("utf-8", errors="replace")
    return head.lstrip("\ufeff \t\r\n")[:1]


def _non_objects(con: duckdb.DuckDBPyConnection) -> list[Reject]:
    rows = con.execute(
        "SELECT n, json_type(j), j::VARCHAR FROM objects WHERE json_type(j) <> 'OBJECT' ORDER BY n"
    ).fetchall()
    con.execute("DELETE FROM objects WHERE json_type(j) <> 'OBJECT'")
    return [
        Reject(int(n), f"element {n} is not a JSON object but {str(kind).lower()}", str(raw)) for n, kind, raw in rows
    ]


def _keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT k FROM (SELECT n, unnest(json_keys(j)) AS k, generate_subscripts(json_keys(j), 1) AS p FROM objects) "
        "GROUP BY k ORDER BY min(struct_pack(n := n, p := p))"
    ).fetchall()
    return [str(key) for (key,) in rows]


def json_path(key: str) -> str:
    """A JSONPath naming one top-level key, whatever characters it holds.

    >>> json_path('a"b')
    '$."a\\\\"b"'
    """
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _extract(con: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    paths = "[" + ", ".join(sql_literal(json_path(key)) for key in keys) + "]"
    columns = ", ".join(f"v[{i + 1}] AS c{i}" for i in range(len(keys)))
    values = f"SELECT json_extract_string(j, {paths}) AS v FROM objects ORDER BY n"
    con.execute(f"CREATE TABLE raw AS SELECT {columns} FROM ({values})")
