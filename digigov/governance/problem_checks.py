"""The engine side of problem data: read a reported value, and verify a fix against a version's Parquet.

What a fix must show, in the version the steward names (all rows with the key, for a row problem):

- row problem (a key is given): at least one row has the key, and in every such row the field's
  value differs from the observed one (blank counts as the empty text), equals `expected` when one
  is given, and passes `validator` when one is given;
- whole-field problem (no key): with a validator, no non-blank value of the field fails it;
  otherwise with an observed value, no row holds that value any more; otherwise no row is blank.

Values are compared as trimmed text (`trim(CAST(x AS VARCHAR))`), as users see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from digigov.core import engine
from digigov.governance.validators import compact, load_check_tables, luhn_valid, resident_id_valid, uscc_valid

VALIDATORS: dict[str, Callable[[str], str]] = {
    "resident_id": resident_id_valid,
    "uscc": uscc_valid,
    "bank_card": luhn_valid,
}
CV = "__digigov_compact"  # the compacted value, named so it cannot clash with a column of the file
VALIDATOR_LABELS = {
    "resident_id": "公民身份号码校验",
    "uscc": "统一社会信用代码校验",
    "bank_card": "银行卡号 Luhn 校验",
}


@dataclass(frozen=True)
class Claim:
    """What a problem says: where, what was seen, what should be."""

    field: str
    key_field: str | None
    key_value: str | None
    observed: str | None
    expected: str | None
    validator: str | None


@dataclass(frozen=True)
class Verification:
    """The verdict on a fix: passed or not, over how many rows, and why not, in both languages."""

    passed: bool
    version: int
    checked_rows: int
    failing_rows: int
    sample: str | None
    reason: str
    reason_zh: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def quote(name: str) -> str:
    """A column name as a DuckDB identifier.

    >>> quote('统一"代码')
    '"统一""代码"'
    """
    return '"' + name.replace('"', '""') + '"'


def _text(column: str) -> str:
    return f"trim(CAST({quote(column)} AS VARCHAR))"


def values_at_key(parquet: Path, *, field: str, key_field: str, key_value: str, limit: int = 20) -> list[str | None]:
    """The field's values (trimmed text) in the rows whose key equals `key_value`, in file order."""
    sql = f"SELECT {_text(field)} FROM read_parquet(?) WHERE {_text(key_field)} = ? LIMIT {int(limit)}"
    with engine.cursor() as con:
        return [row[0] for row in con.execute(sql, [str(parquet), key_value.strip()]).fetchall()]


def row_at_key(parquet: Path, *, key_field: str, key_value: str) -> int | None:
    """The row number (`_id`, counted from 1) of the first row whose key equals `key_value`, if any."""
    sql = (
        "SELECT file_row_number + 1 FROM read_parquet(?, file_row_number = true) "
        f"WHERE {_text(key_field)} = ? ORDER BY file_row_number LIMIT 1"
    )
    with engine.cursor() as con:
        row = con.execute(sql, [str(parquet), key_value.strip()]).fetchone()
    return int(row[0]) if row else None


def passes(validator: str, value: str) -> bool:
    """Whether one value passes a validator, by the same engine SQL that checks columns."""
    with engine.cursor() as con:
        load_check_tables(con)
        row = con.execute(f"SELECT {VALIDATORS[validator]('v')} FROM (SELECT {compact('?')} AS v)", [value]).fetchone()
    return bool(row and row[0])


def verify(parquet: Path, columns: list[str], number: int, claim: Claim) -> Verification:
    """Check a claimed fix against one version's rows; the verdict explains itself."""
    for name in (claim.field, claim.key_field):
        if name is not None and name not in columns:
            return _failed(
                number, 0, 0, None, f"version {number} has no field '{name}'", f"第 {number} 版没有数据项“{name}”"
            )
    if claim.key_field is not None and claim.key_value is not None:
        return _verify_row(parquet, number, claim)
    return _verify_field(parquet, number, claim)


def _verify_row(parquet: Path, number: int, claim: Claim) -> Verification:
    assert claim.key_field is not None and claim.key_value is not None
    same = "coalesce(v, '') = $observed"
    unexpected = "v IS DISTINCT FROM $expected" if claim.expected is not None else "false"
    invalid = f"NOT {VALIDATORS[claim.validator](CV)}" if claim.validator else "false"
    sql = (
        f"SELECT count(*), count(*) FILTER ({same}), count(*) FILTER ({unexpected}), count(*) FILTER ({invalid}),"
        f" any_value(v) FILTER ({same} OR {unexpected} OR {invalid})"
        f" FROM (SELECT {_text(claim.field)} AS v, {compact(_text(claim.field))} AS {CV}"
        f" FROM read_parquet($path) WHERE {_text(claim.key_field)} = $key)"
    )
    observed = (claim.observed or "").strip()
    params: dict[str, Any] = {"observed": observed, "path": str(parquet), "key": claim.key_value.strip()}
    if claim.expected is not None:
        params["expected"] = claim.expected.strip()
    with engine.cursor() as con:
        load_check_tables(con)
        checked, still, wrong, bad, sample = con.execute(sql, params).fetchone() or (0, 0, 0, 0, None)
    key = f"{claim.key_field}={claim.key_value}"
    if checked == 0:
        return _failed(
            number, 0, 0, None, f"version {number} has no row with {key}", f"第 {number} 版中没有 {key} 的记录"
        )
    if still:
        return _failed(
            number,
            checked,
            still,
            sample,
            f"in version {number} the value at {key} is still '{observed}'",
            f"第 {number} 版中 {key} 的值仍为“{observed}”",
        )
    if wrong:
        return _failed(
            number,
            checked,
            wrong,
            sample,
            f"in version {number} the value at {key} is '{sample}', not the expected '{claim.expected}'",
            f"第 {number} 版中 {key} 的值为“{sample}”，不是应有的“{claim.expected}”",
        )
    if bad:
        label = VALIDATOR_LABELS[claim.validator or ""]
        return _failed(
            number,
            checked,
            bad,
            sample,
            f"in version {number} the value at {key} ('{sample}') fails the {claim.validator} check",
            f"第 {number} 版中 {key} 的值“{sample}”未通过{label}",
        )
    return _passed(number, checked)


def _verify_field(parquet: Path, number: int, claim: Claim) -> Verification:
    value = _text(claim.field)
    params: dict[str, Any] = {"path": str(parquet)}
    if claim.validator:
        failing = f"nullif({value}, '') IS NOT NULL AND NOT {VALIDATORS[claim.validator](CV)}"
        what, what_zh = f"fail the {claim.validator} check", f"未通过{VALIDATOR_LABELS[claim.validator]}"
    elif claim.observed is not None:
        failing, params["observed"] = f"coalesce({value}, '') = $observed", claim.observed.strip()
        what, what_zh = f"still hold '{claim.observed.strip()}'", f"仍为“{claim.observed.strip()}”"
    else:
        failing = f"coalesce({value}, '') = ''"
        what, what_zh = "are blank", "为空"
    sql = (
        f"SELECT count(*), count(*) FILTER ({failing}), any_value({value}) FILTER ({failing})"
        f" FROM (SELECT *, {compact(value)} AS {CV} FROM read_parquet($path))"
    )
    with engine.cursor() as con:
        load_check_tables(con)
        checked, bad, sample = con.execute(sql, params).fetchone() or (0, 0, None)
    if bad:
        return _failed(
            number,
            checked,
            bad,
            sample,
            f"in version {number}, {bad} of {checked} values of '{claim.field}' {what}",
            f"第 {number} 版中数据项“{claim.field}”有 {bad}/{checked} 个值{what_zh}",
        )
    return _passed(number, checked)


def _passed(number: int, checked: int) -> Verification:
    return Verification(
        True, number, int(checked), 0, None, f"verified in version {number}", f"已在第 {number} 版核验通过"
    )


def _failed(number: int, checked: int, failing: int, sample: str | None, reason: str, reason_zh: str) -> Verification:
    return Verification(False, number, int(checked), int(failing), sample, reason, reason_zh)
