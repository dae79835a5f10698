"""Check-digit validators as engine SQL: the same verdicts as `digigov.core.codes`, for a whole column.

Each function takes the SQL of a value that is already compacted (see `compact`; a plain column
name is best, since the value is read many times) and returns a boolean SQL expression, false
where the value is NULL. They are plain SQL on purpose: DuckDB runs them vectorised, tens of
millions of values a minute on one core, where a Python loop manages a few hundred thousand.

- resident ID number (GB 11643): 17 digits and a check character (ISO 7064 MOD 11-2), a real
  birth date from 1880 to today, and a birth-place prefix in the GB/T 2260 table that was not
  withdrawn before the birth year (`load_check_tables` puts that table in the engine);
- unified social credit code (GB 32100): 8 digits, then characters of its 31-letter alphabet,
  and a MOD 31 check character;
- bank card number: 13 to 19 digits passing the Luhn check.

For a whole table, `validity_query(kind, source, column)` is faster (about 2-3x: see
bench/check_digits.py) and compacts the raw value itself. It returns the SQL of the source's
columns in the source's row order plus one boolean column (false for NULL); `count_valid` counts
with it. Inside, each value is tested once against its strict pattern (values written exactly so
skip `compact`), read as integers (one BIGINT cast for the 17 digits of an ID number), and the
check sum is added from precomputed partial sums: small constant lists indexed by year, month-day
and three-digit groups, and a column of the division table (joined by code). Helper columns start
with `__dg_`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Literal

import duckdb
import pyarrow as pa

from digigov.core.codes import division_spans

DIVISIONS = "governance_divisions"
BIRTH_DATES = "governance_birth_dates"  # every day the ID check accepts, with its partial check sum
USCC_CHUNKS = "governance_uscc_chunks"  # every three characters of the credit code alphabet, by place
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"  # check character by (weighted sum mod 11)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CURRENT = 9999  # last year of a division that is still in use


# What Python's str.isspace() calls whitespace (core.codes removes it), for RE2, whose \\s is ASCII only
SPACES = (
    "\\t\\n\\x{0b}\\f\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}"
    "\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
)


def compact(value: str) -> str:
    """SQL for a code as written without whitespace (any Unicode space) or hyphens, upper case."""
    return f"upper(regexp_replace({value}, '[{SPACES}\\-]', '', 'g'))"


def load_check_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Put the tables the checks join in the engine: GB/T 2260 codes (with the last year each was in use),
    birth dates, and three-character credit-code chunks.

    They are built once per process and registered on the connection without a copy, so every
    cursor can afford to ask.
    """
    for name, table in zip((DIVISIONS, BIRTH_DATES, USCC_CHUNKS), _engine_tables(), strict=True):
        con.register(name, table)


@cache
def _engine_tables() -> tuple[pa.Table, pa.Table, pa.Table]:
    spans = division_spans()
    divisions = pa.table(
        {
            "code": pa.array([code for code, _ in spans], pa.string()),
            "last_year": pa.array([CURRENT if last is None else last for _, last in spans], pa.int32()),
            "code_number": pa.array([int(code) for code, _ in spans], pa.int32()),
            "check_part": pa.array([_weighted(code, RIC_WEIGHTS[:6], 11) for code, _ in spans], pa.int8()),
        }
    )
    first = date(FIRST_YEAR, 1, 1)
    days = [first + timedelta(k) for k in range((date(LAST_YEAR, 12, 31) - first).days + 1)]
    births = pa.table(
        {
            "date_number": pa.array([d.year * 10000 + d.month * 100 + d.day for d in days], pa.int32()),
            "year": pa.array([d.year for d in days], pa.int16()),
            "check_part": pa.array([_weighted(f"{d:%Y%m%d}", RIC_WEIGHTS[6:14], 11) for d in days], pa.int8()),
        }
    )
    weights = (*USCC_WEIGHTS, 1)  # the check character adds itself: a valid code sums to 0 mod 31
    chunks = [a + b + c for a in USCC_ALPHABET for b in USCC_ALPHABET for c in USCC_ALPHABET]
    places = {
        f"place_{j}": pa.array([_weighted_alphabet(chunk, weights[3 * j : 3 * j + 3]) for chunk in chunks], pa.int16())
        for j in range(6)
    }
    return divisions, births, pa.table({"chunk": pa.array(chunks, pa.string()), **places})


def _weighted_alphabet(chunk: str, weights: tuple[int, ...]) -> int:
    return sum(USCC_ALPHABET.index(c) * w for c, w in zip(chunk, weights, strict=True))


def _digit(value: str, position: int) -> str:
    return f"(ascii(substr({value}, {position}, 1)) - 48)"


def resident_id_valid(value: str) -> str:
    """SQL: is the compacted `value` a valid resident ID number? Needs `load_check_tables` on the connection."""
    total = " + ".join(f"{w} * {_digit(value, k + 1)}" for k, w in enumerate(RIC_WEIGHTS))
    birth = f"try_strptime(substr({value}, 7, 8), '%Y%m%d')"
    last_year = f"(SELECT d.last_year FROM {DIVISIONS} d WHERE d.code = substr({value}, 1, 6))"
    return (
        f"coalesce(regexp_full_match({value}, '[0-9]{{17}}[0-9X]')"
        f" AND substr('{RIC_CHECK}', ({total}) % 11 + 1, 1) = substr({value}, 18, 1)"
        f" AND {birth} BETWEEN TIMESTAMP '1880-01-01' AND current_date"
        f" AND {last_year} >= year({birth}), false)"
    )


def uscc_valid(value: str) -> str:
    """SQL: is the compacted `value` a valid unified social credit code?"""
    index = [f"(instr('{USCC_ALPHABET}', substr({value}, {k + 1}, 1)) - 1)" for k in range(17)]
    total = " + ".join(f"{w} * {term}" for w, term in zip(USCC_WEIGHTS, index, strict=True))
    return (
        f"coalesce(regexp_full_match({value}, '[0-9]{{8}}[{USCC_ALPHABET}]{{10}}')"
        f" AND substr('{USCC_ALPHABET}', (31 - ({total}) % 31) % 31 + 1, 1) = substr({value}, 18, 1), false)"
    )


def luhn_valid(value: str) -> str:
    """SQL: is the compacted `value` 13 to 19 digits that pass the Luhn check (bank card numbers)?"""
    # digit k from the right (1-based): odd places count as they are, even ones doubled, less 9
    # when that makes two digits
    digit = f"(ascii(substr(reverse({value}), k, 1)) - 48)"
    term = f"CASE WHEN k % 2 = 1 THEN {digit} WHEN {digit} >= 5 THEN 2 * {digit} - 9 ELSE 2 * {digit} END"
    total = f"list_sum(list_transform(range(1, length({value}) + 1), lambda k: {term}))"
    return f"coalesce(regexp_full_match({value}, '[0-9]{{13,19}}') AND {total} % 10 = 0, false)"


Kind = Literal["resident_id", "uscc", "bank_card"]
RIC_PATTERN = "[0-9]{17}[0-9X]"
USCC_PATTERN = f"[0-9]{{8}}[{USCC_ALPHABET}]{{10}}"
CARD_PATTERN = "[0-9]{13,19}"
# (helper columns by name as SQL over the compacted value, joins, condition) of a set-wise check
Check = tuple[dict[str, str], str, str]
FIRST_YEAR, LAST_YEAR = 1880, 2199  # birth years the year list covers; "today" bounds it first


def _weighted(digits: str, weights: tuple[int, ...], modulus: int) -> int:
    """Weighted digit sum of `digits` modulo `modulus`, the partial check sums the lists hold.

    >>> _weighted("110105", RIC_WEIGHTS[:6], 11), _weighted("19", (3, 9), 31)
    (8, 22)
    """
    return sum(int(c) * w for c, w in zip(digits, weights, strict=True)) % modulus


def _sql_list(items: list[int | None]) -> str:
    return "[" + ", ".join("NULL" if x is None else str(x) for x in items) + "]"


def _resident_id_check(v: str, p: str) -> Check:
    """(helper columns, joins, condition) of the set-wise ID check over the compacted, pattern-checked `v`.

    One cast reads the 18 characters as a number (a final X is read as 0 and noted); the division
    and the birth date are joined by number, their tables holding the partial check sums, and the
    sequence digits are summed in place. With X read as 10, (weighted sum + check) % 11 = 1.
    """
    n, d, b = f"{p}n", f"{p}d", f"{p}b"
    seq = f"({n} // 10 % 1000)"
    w = RIC_WEIGHTS[14:17]
    total = (
        f"{d}.check_part + {b}.check_part + {w[0]} * ({seq} // 100) + {w[1]} * ({seq} // 10 % 10)"
        f" + {w[2]} * ({seq} % 10) + CASE WHEN {p}x THEN 10 ELSE {n} % 10 END"
    )
    today = "CAST(strftime(current_date, '%Y%m%d') AS INTEGER)"
    condition = f"{b}.date_number <= {today} AND {d}.last_year >= {b}.year AND ({total}) % 11 = 1"
    join = (
        f" LEFT JOIN {DIVISIONS} AS {d} ON {d}.code_number = {n} // 1000000000000"
        f" LEFT JOIN {BIRTH_DATES} AS {b} ON {b}.date_number = {n} // 10000 % 100000000"
    )
    cast = f"TRY_CAST(substr({v}, 1, 17) AS BIGINT) * 10"
    number = f"CASE WHEN ends_with({v}, 'X') THEN {cast} ELSE TRY_CAST({v} AS BIGINT) END"
    return {n: number, f"{p}x": f"ends_with({v}, 'X')"}, join, condition


def _uscc_check(v: str, p: str) -> Check:
    """(helper columns, joins, condition) of the set-wise credit code check over the compacted, pattern-checked `v`.

    The 18 characters are six chunks of three, each joined to the table of every three-character
    chunk, which holds each chunk's weighted sum at each place (the last place counting the check
    character with weight 1). The code is valid where the six sums add up to a multiple of 31.
    """
    chunks = {f"{p}k{j}": f"substr({v}, {3 * j + 1}, 3)" for j in range(6)}
    joins = "".join(f" LEFT JOIN {USCC_CHUNKS} AS {p}u{j} ON {p}u{j}.chunk = {p}k{j}" for j in range(6))
    total = " + ".join(f"{p}u{j}.place_{j}" for j in range(6))
    return chunks, joins, f"({total}) % 31 = 0"


def _bank_card_check(v: str, p: str) -> Check:
    """(helper columns, joins, condition) of the set-wise Luhn check over the compacted, pattern-checked `v`."""
    n = f"{p}n"
    # Luhn sum of a pair of digits, the right one counted as is and the left one doubled
    pairs = _sql_list([k % 10 + (2 * (k // 10) if k < 50 else 2 * (k // 10) - 9) for k in range(100)])
    total = " + ".join(f"{pairs}[CAST({n} // {100**j} % 100 AS INTEGER) + 1]" for j in range(10))
    return {n: f"CAST({v} AS UBIGINT)"}, "", f"({total}) % 10 = 0"


CHECKS: dict[str, tuple[str, Callable[[str, str], Check]]] = {
    "resident_id": (RIC_PATTERN, _resident_id_check),
    "uscc": (USCC_PATTERN, _uscc_check),
    "bank_card": (CARD_PATTERN, _bank_card_check),
}


@dataclass(frozen=True)
class Validity:
    """A set-wise check of one column as pieces of a query: `validity_parts` says how they fit."""

    layers: list[dict[str, str]]
    joins: str
    valid: str


def validity_parts(kind: str, column: str, prefix: str = "__dg_") -> Validity:
    """The pieces of a set-wise `kind` check of the raw text `column`, helper names starting with `prefix`.

    Select `layers` in order, each as `SELECT *, <expression> AS <name>, ... FROM (the layer before)`
    over the source; then, in the SELECT that reads the last layer, add `joins` after its FROM and
    read `valid` (boolean, false for NULL). The credit code and ID checks need `load_check_tables`.
    """
    if kind not in CHECKS:
        raise ValueError(f"Unknown code kind {kind!r}; use one of {', '.join(CHECKS)}.")
    pattern, check = CHECKS[kind]
    fast, v, ok = f"{prefix}fast", f"{prefix}v", f"{prefix}ok"
    numbers, joins, condition = check(v, prefix)
    layers = [
        # values written exactly as the pattern wants skip compact(), the costliest step
        {fast: f"regexp_full_match({column}, '{pattern}')"},
        {v: f"CASE WHEN {fast} THEN {column} ELSE {compact(column)} END"},
        {ok: f"CASE WHEN {fast} THEN true ELSE coalesce(regexp_full_match({v}, '{pattern}'), false) END"},
        # the numbers are read before the joins, so that no long string has to cross them
        {name: f"CASE WHEN {ok} THEN {expression} END" for name, expression in numbers.items()},
    ]
    return Validity(layers, joins, f"coalesce({ok} AND {condition}, false)")


def _checked(kind: str, source: str, column: str, flag: str, *, ordered: bool, checked: str = "") -> str:
    parts = validity_parts(kind, column)
    query = f"SELECT *, row_number() OVER () AS __dg_pos FROM {source}" if ordered else f"SELECT * FROM {source}"
    for layer in parts.layers:
        query = f"SELECT *, {', '.join(f'{e} AS {name}' for name, e in layer.items())} FROM ({query})"
    helpers = ", ".join(name for layer in parts.layers for name in layer)
    helpers += ", __dg_pos" if ordered else ""
    # count_valid asks for a "not NULL" column too, so that it need not carry the raw value along
    extra = f", __dg_c.__dg_fast IS NOT NULL AS {checked}" if checked else ""
    return (
        f"SELECT __dg_c.* EXCLUDE ({helpers}), {parts.valid} AS {flag}{extra}"
        f" FROM ({query}) AS __dg_c{parts.joins}" + (" ORDER BY __dg_c.__dg_pos" if ordered else "")
    )


def validity_query(kind: Kind, source: str, column: str, *, flag: str = "valid") -> str:
    """SQL: the rows of `source` (anything usable in FROM) in order, plus a boolean `flag`: is `column` a valid `kind`?

    The raw `column` is compacted here; NULL is false. The credit code and ID checks need `load_check_tables`.
    """
    return _checked(kind, source, column, flag, ordered=True)


def count_valid(con: duckdb.DuckDBPyConnection, kind: Kind, source: str, column: str) -> tuple[int, int]:
    """(non-null values checked, valid ones) of `column` in `source`; loads the check tables."""
    load_check_tables(con)
    rows = con.execute(
        f"SELECT count(*) FILTER (WHERE __dg_checked), count(*) FILTER (WHERE __dg_flag)"
        f" FROM ({_checked(kind, source, column, '__dg_flag', ordered=False, checked='__dg_checked')})"
    ).fetchall()
    return int(rows[0][0]), int(rows[0][1])
