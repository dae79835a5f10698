"""Run compiled quality rules over one Parquet version in the engine, set-wise, in few scans.

The row-wise rules without joins share one aggregate query (a FILTER clause per rule, and
`arg_min(..., 10)` for the first failing rows in file order, so a sample never fetches all
failures); a rule that joins engine tables (check digits), unique keys, foreign keys and freshness
take a query each. A rule that cannot be evaluated (its field is gone, its
reference has no version) gets an error text; it never stops the others or refuses an ingestion.
No database session here: the service gathers what the rules need and stores what they found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from digigov.core.engine import cursor
from digigov.governance.rules import (
    ForeignKey,
    Freshness,
    RowCheck,
    Rule,
    Unique,
    date_of,
    ident,
    literal,
    present,
    row_check,
    text_of,
)
from digigov.governance.validators import load_check_tables

SAMPLE_SIZE = 10
SOURCE = "read_parquet(?, file_row_number = true)"


@dataclass
class Outcome:
    """What one rule found: rows looked at, rows failing, the first failing rows, or why it could not run."""

    rule: str
    dimension: str
    checked_rows: int = 0
    failed_rows: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def score(self) -> float | None:
        """1 - failed/checked; None when the rule could not run or looked at no row."""
        if self.error is not None or self.checked_rows == 0:
            return None
        return 1 - self.failed_rows / self.checked_rows


@dataclass(frozen=True)
class Reference:
    """Another resource's latest version, for foreign keys: its Parquet file and field types, or why not."""

    path: Path | None
    types: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class Timing:
    """What freshness compares: when the version was made, now, and the days the update cycle allows."""

    created_at: datetime
    now: datetime
    cycle_days: int | None


def evaluate(
    path: Path,
    types: dict[str, str],
    rules: list[Rule],
    *,
    references: dict[str, Reference] | None = None,
    timing: Timing | None = None,
) -> list[Outcome]:
    """Run the rules over the version at `path` (field name → type) and return one outcome per rule, in order."""
    outcomes = [Outcome(rule.rule_name(), rule.dimension) for rule in rules]
    for outcome, rule in zip(outcomes, rules, strict=True):
        missing = [f for f in rule.target_fields() if f not in types]
        if missing:
            outcome.error = f"field {', '.join(missing)} is not in this version"
    with cursor() as con:
        load_check_tables(con)
        row_wise = [(o, r) for o, r in zip(outcomes, rules, strict=True) if r.row_wise and o.error is None]
        _run_row_wise(con, path, types, row_wise)
        for outcome, rule in zip(outcomes, rules, strict=True):
            if outcome.error is not None or rule.row_wise:
                continue
            try:
                _run_single(con, path, types, rule, outcome, references or {}, timing)
            except duckdb.Error as error:
                outcome.error = _reason(error)
    return outcomes


def _run_row_wise(
    con: duckdb.DuckDBPyConnection, path: Path, types: dict[str, str], pairs: list[tuple[Outcome, Rule]]
) -> None:
    """All row-wise rules in one scan; if that fails, each alone, so one bad rule names itself."""
    compiled = [(o, r, row_check(r, types, f"__q{k}")) for k, (o, r) in enumerate(pairs)]
    # A join copies every column the scan carries, so rules that join (check digits) scan alone:
    # reading the file again costs less than carrying the other rules' columns through their joins.
    groups = [[c for c in compiled if not c[2].joins]] + [[c] for c in compiled if c[2].joins]
    for group in groups:
        if not group:
            continue
        try:
            _aggregate(con, path, types, group)
        except duckdb.Error:
            for outcome, rule, check in group:
                try:
                    _aggregate(con, path, types, [(outcome, rule, check)])
                except duckdb.Error as error:
                    outcome.error = _reason(error)


def _aggregate(
    con: duckdb.DuckDBPyConnection, path: Path, types: dict[str, str], compiled: list[tuple[Outcome, Rule, RowCheck]]
) -> None:
    layers: list[dict[str, str]] = []
    joins = ""
    flags: list[str] = []
    terms: list[str] = []
    for k, (_, rule, check) in enumerate(compiled):
        for depth, layer in enumerate(check.layers):
            if depth == len(layers):
                layers.append({})
            layers[depth].update(layer)
        joins += check.joins
        # Each predicate becomes a column once, so the aggregates below do not evaluate it again.
        flags += [f"({check.checked}) AS __c{k}", f"({check.checked}) AND ({check.failed}) AS __f{k}"]
        terms += [
            f"count(*) FILTER (WHERE __c{k})",
            f"count(*) FILTER (WHERE __f{k})",
            # the struct is built for failing rows only (CASE evaluates its branch on those alone)
            f"arg_min(CASE WHEN __f{k} THEN {_sample_struct(rule.target_fields(), types)} END,"
            f" file_row_number, {SAMPLE_SIZE}) FILTER (WHERE __f{k})",
        ]
    source = f"SELECT * FROM {SOURCE}"
    for layer in layers:
        source = f"SELECT *, {', '.join(f'{expr} AS {alias}' for alias, expr in layer.items())} FROM ({source})"
    flagged = f"SELECT __row.*, {', '.join(flags)} FROM ({source}) AS __row{joins}"
    sql = f"SELECT {', '.join(terms)} FROM ({flagged})"
    row = con.execute(sql, [str(path)]).fetchone()
    assert row is not None  # an aggregate without GROUP BY always has one row
    for k, (outcome, _, _) in enumerate(compiled):
        outcome.checked_rows, outcome.failed_rows = int(row[3 * k]), int(row[3 * k + 1])
        outcome.sample = _plain(row[3 * k + 2] or [])


def _sample_struct(fields: list[str], types: dict[str, str], row: str = "file_row_number") -> str:
    values = [f"{literal(f)}: {text_of(f, types)}" for f in dict.fromkeys(fields)]
    return "{" + ", ".join([f"'_id': {row} + 1", *values]) + "}"


def _plain(sample: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()} for row in sample]


def _run_single(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    types: dict[str, str],
    rule: Rule,
    outcome: Outcome,
    references: dict[str, Reference],
    timing: Timing | None,
) -> None:
    if isinstance(rule, Unique):
        _unique(con, path, types, rule, outcome)
    elif isinstance(rule, ForeignKey):
        _foreign_key(con, path, types, rule, outcome, references.get(rule.resource))
    elif isinstance(rule, Freshness):
        _freshness(con, path, types, rule, outcome, timing)


def _unique(con: duckdb.DuckDBPyConnection, path: Path, types: dict[str, str], rule: Unique, outcome: Outcome) -> None:
    """Rows repeating an earlier row's key fail; rows whose key fields are all empty are not looked at."""
    keys = ", ".join(ident(f) for f in rule.fields)
    some_value = " OR ".join(f"{ident(f)} IS NOT NULL" for f in rule.fields)
    values = [f"{literal(f)}: {text_of(f, types)}" for f in rule.fields]
    sample = "{" + ", ".join(["'_id': last + 1", "'first_id': first + 1", *values]) + "}"
    sql = (
        f"SELECT coalesce(sum(n), 0), coalesce(sum(n) - count(*), 0),"
        f" arg_min({sample}, first, {SAMPLE_SIZE}) FILTER (WHERE n > 1)"
        f" FROM (SELECT {keys}, count(*) AS n, min(file_row_number) AS first, max(file_row_number) AS last"
        f" FROM {SOURCE} WHERE {some_value} GROUP BY {keys})"
    )
    row = con.execute(sql, [str(path)]).fetchone()
    assert row is not None
    outcome.checked_rows, outcome.failed_rows, outcome.sample = int(row[0]), int(row[1]), _plain(row[2] or [])


def _foreign_key(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    types: dict[str, str],
    rule: ForeignKey,
    outcome: Outcome,
    reference: Reference | None,
) -> None:
    """Values not found among the referenced field's values fail (compared as trimmed text)."""
    target = rule.reference_field()
    if reference is None or reference.path is None:
        outcome.error = reference.error if reference else f"resource {rule.resource} is not available"
        return
    if target not in reference.types:
        outcome.error = f"field {target} is not in the latest version of {rule.resource}"
        return
    value, known = f"trim({text_of(rule.field, types)})", f"trim({text_of(target, reference.types)})"
    sample = "{" + f"'_id': t.file_row_number + 1, {literal(rule.field)}: t.v" + "}"
    sql = (
        f"SELECT count(*), count(*) FILTER (WHERE r.k IS NULL),"
        f" arg_min({sample}, t.file_row_number, {SAMPLE_SIZE}) FILTER (WHERE r.k IS NULL)"
        f" FROM (SELECT file_row_number, {value} AS v FROM {SOURCE} WHERE {present(rule.field, types)}) t"
        f" LEFT JOIN (SELECT DISTINCT {known} AS k FROM read_parquet(?)) r ON t.v = r.k"
    )
    row = con.execute(sql, [str(path), str(reference.path)]).fetchone()
    assert row is not None
    outcome.checked_rows, outcome.failed_rows, outcome.sample = int(row[0]), int(row[1]), _plain(row[2] or [])


def _freshness(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    types: dict[str, str],
    rule: Freshness,
    outcome: Outcome,
    timing: Timing | None,
) -> None:
    """One check per version: the data's age (from the version's time, or the field's newest value) vs the cycle."""
    if timing is None:
        outcome.error = "no version time to compare with"
        return
    allowed = rule.max_days or timing.cycle_days
    if allowed is None:
        outcome.error = "the resource's update cycle is irregular; give max_days"
        return
    newest: datetime | None = timing.created_at
    if rule.field is not None:
        row = con.execute(f"SELECT CAST(max({date_of(rule.field, types)}) AS TIMESTAMP) FROM {SOURCE}", [str(path)])
        newest = (row.fetchone() or [None])[0]
    if newest is None:
        outcome.checked_rows, outcome.failed_rows = 1, 1
        outcome.sample = [{"newest": None, "age_days": None, "allowed_days": allowed}]
        return
    age = (timing.now - newest).total_seconds() / 86400
    outcome.checked_rows, outcome.failed_rows = 1, int(age > allowed)
    outcome.sample = [{"newest": newest.isoformat(), "age_days": round(age, 1), "allowed_days": allowed}]


def _reason(error: duckdb.Error) -> str:
    """The first line of an engine error, without the engine's class prefix."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:500]
