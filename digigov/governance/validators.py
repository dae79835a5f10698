"""Check-digit validators as engine SQL: the same verdicts as `digigov.core.codes`, for a whole column.

Each function takes the SQL of a value that is already compacted (see `compact`; a plain column
name is best, since the value is read many times) and returns a boolean SQL expression, false
where the value is NULL. They are plain SQL on purpose: DuckDB runs them vectorised, tens of
millions of values a minute on one core, where a Python loop manages a few hundred thousand.

- resident ID number (GB 11643): 17 digits and a check character (ISO 7064 MOD 11-2), a real
  birth date from 1880 to today, and a birth-place prefix in the GB/T 2260 table that was not
  withdrawn before the birth year (`load_divisions` puts that table in the engine);
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
from datetime import date, timedelta
from typing import Literal

import duckdb
import pyarrow as pa

from digigov.core.codes import division_spans

DIVISIONS = "governance_divisions"
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


def load_divisions(con: duckdb.DuckDBPyConnection) -> None:
    """Create the engine table of GB/T 2260 codes with the last year each was in use, once per connection."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [DIVISIONS])
    if found.fetchall()[0][0]:
        return
    spans = division_spans()
    table = pa.table(
        {
            "code": pa.array([code for code, _ in spans], pa.string()),
            "last_year": pa.array([CURRENT if last is None else last for _, last in spans], pa.int32()),
            "code_number": pa.array([int(code) for code, _ in spans], pa.int32()),
            "check_part": pa.array([_weighted(code, RIC_WEIGHTS[:6], 11) for code, _ in spans], pa.int8()),
        }
    )
    con.register("division_spans", table)
    try:
        con.execute(f"CREATE TEMP TABLE {DIVISIONS} AS SELECT * FROM division_spans")
    finally:
        con.unregister("division_spans")


def _digit(value: str, position: int) -> str:
    return f"(ascii(substr({value}, {position}, 1)) - 48)"


def resident_id_valid(value: str) -> str:
    """SQL: is the compacted `value` a valid resident ID number? Needs `load_divisions` on the connection."""
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
FIRST_YEAR, LAST_YEAR = 1880, 2199  # birth years the year list covers; "today" bounds it first


def _weighted(digits: str, weights: tuple[int, ...], modulus: int) -> int:
    """Weighted digit sum of `digits` modulo `modulus`, the partial check sums the lists hold.

    >>> _weighted("110105", RIC_WEIGHTS[:6], 11), _weighted("19", (3, 9), 31)
    (8, 22)
    """
    return sum(int(c) * w for c, w in zip(digits, weights, strict=True)) % modulus


def _sql_list(items: list[int | None]) -> str:
    return "[" + ", ".join("NULL" if x is None else str(x) for x in items) + "]"


def _month_days() -> list[int | None]:
    """Partial check sum of digits 11-14 of an ID number by MMDD + 1; NULL where no such day (0229 kept)."""
    days = {(d.month, d.day) for d in (date(2000, 1, 1) + timedelta(k) for k in range(366))}
    return [_weighted(f"{k:04d}", RIC_WEIGHTS[10:14], 11) if (k // 100, k % 100) in days else None for k in range(1232)]


def _resident_id_check(v: str) -> tuple[str, str, str]:
    """(projection, join, condition) of the set-wise ID check over the compacted, pattern-checked `v`."""
    n = "__dg_n"
    ymd, year, mmdd = f"({n} // 1000 % 100000000)", f"({n} // 10000000 % 10000)", f"({n} // 1000 % 10000)"
    years = _sql_list([_weighted(f"{y}", RIC_WEIGHTS[6:10], 11) for y in range(FIRST_YEAR, LAST_YEAR + 1)])
    groups = _sql_list([_weighted(f"{k:03d}", RIC_WEIGHTS[14:17], 11) for k in range(1000)])
    total = (
        f"__dg_d.check_part + {years}[{year} - {FIRST_YEAR - 1}] + {_sql_list(_month_days())}[{mmdd} + 1]"
        f" + {groups}[{n} % 1000 + 1]"
    )
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    today = "CAST(strftime(current_date, '%Y%m%d') AS INTEGER)"
    condition = (
        f"{ymd} BETWEEN {FIRST_YEAR}0101 AND {today} AND ({mmdd} <> 229 OR {leap})"
        f" AND __dg_d.last_year >= {year}"
        f" AND substr('{RIC_CHECK}', ({total}) % 11 + 1, 1) = __dg_c.__dg_last"
    )
    join = f"LEFT JOIN {DIVISIONS} AS __dg_d ON __dg_d.code_number = __dg_c.{n} // 100000000000"
    return f"TRY_CAST(left({v}, 17) AS BIGINT) AS {n}", join, condition


def _uscc_check(v: str) -> tuple[str, str, str]:
    """(projection, join, condition) of the set-wise credit code check over the compacted, pattern-checked `v`."""
    n = "__dg_n"
    groups = _sql_list([_weighted(f"{k:03d}", USCC_WEIGHTS[:3], 31) for k in range(1000)])
    # alphabet index by ascii code - 47; the pattern already refused every other character
    index = _sql_list([USCC_ALPHABET.find(chr(c)) for c in range(48, 90)])
    letters = " + ".join(
        f"{w} * {index}[ascii(substr({v}, {k + 1}, 1)) - 47]" for k, w in enumerate(USCC_WEIGHTS) if k >= 8
    )
    total = (
        f"{groups}[{n} // 100000 + 1] + 27 * {groups}[{n} // 100 % 1000 + 1]"
        f" + 16 * ({n} // 10 % 10) + 17 * ({n} % 10) + {letters}"
    )
    condition = f"(31 - ({total}) % 31) % 31 = {index}[ascii(right({v}, 1)) - 47]"
    return f"TRY_CAST(left({v}, 8) AS INTEGER) AS {n}", "", condition


def _bank_card_check(v: str) -> tuple[str, str, str]:
    """(projection, join, condition) of the set-wise Luhn check over the compacted, pattern-checked `v`."""
    n = "__dg_n"
    # Luhn sum of a pair of digits, the right one counted as is and the left one doubled
    pairs = _sql_list([k % 10 + (2 * (k // 10) if k < 50 else 2 * (k // 10) - 9) for k in range(100)])
    total = " + ".join(f"{pairs}[CAST({n} // {100**j} % 100 AS INTEGER) + 1]" for j in range(10))
    return f"CAST({v} AS UBIGINT) AS {n}", "", f"({total}) % 10 = 0"


CHECKS: dict[str, tuple[str, Callable[[str], tuple[str, str, str]]]] = {
    "resident_id": (RIC_PATTERN, _resident_id_check),
    "uscc": (USCC_PATTERN, _uscc_check),
    "bank_card": (CARD_PATTERN, _bank_card_check),
}


def _checked(kind: str, source: str, column: str, flag: str, *, ordered: bool, checked: str = "") -> str:
    if kind not in CHECKS:
        raise ValueError(f"Unknown code kind {kind!r}; use one of {', '.join(CHECKS)}.")
    pattern, check = CHECKS[kind]
    projection, join, condition = check("__dg_v")
    # values written exactly as the pattern wants skip compact(), the costliest step
    fast = f"regexp_full_match({column}, '{pattern}')"
    compacted = f"CASE WHEN __dg_fast THEN {column} ELSE {compact(column)} END"
    ok = f"CASE WHEN __dg_fast THEN true ELSE coalesce(regexp_full_match(__dg_v, '{pattern}'), false) END"
    position = ", row_number() OVER () AS __dg_pos" if ordered else ""
    inner = (
        # the check character is cut before the join so that no long string has to cross it
        f"SELECT *, CASE WHEN __dg_ok THEN {projection.replace(' AS __dg_n', '')} END AS __dg_n,"
        f" right(__dg_v, 1) AS __dg_last FROM ("
        f"SELECT *, {ok} AS __dg_ok FROM ("
        f"SELECT *, {compacted} AS __dg_v FROM ("
        f"SELECT *, {fast} AS __dg_fast{position} FROM {source})))"
    )
    helpers = "__dg_fast, __dg_v, __dg_ok, __dg_n, __dg_last" + (", __dg_pos" if ordered else "")
    # count_valid asks for a "not NULL" column too, so that it need not carry the raw value along
    extra = f", __dg_c.__dg_fast IS NOT NULL AS {checked}" if checked else ""
    return (
        f"SELECT __dg_c.* EXCLUDE ({helpers}), coalesce(__dg_c.__dg_ok AND {condition}, false) AS {flag}{extra}"
        f" FROM ({inner}) AS __dg_c {join}" + (" ORDER BY __dg_c.__dg_pos" if ordered else "")
    )


def validity_query(kind: Kind, source: str, column: str, *, flag: str = "valid") -> str:
    """SQL: the rows of `source` (anything usable in FROM) in order, plus a boolean `flag`: is `column` a valid `kind`?

    The raw `column` is compacted here; NULL is false. Kind "resident_id" needs `load_divisions`.
    """
    return _checked(kind, source, column, flag, ordered=True)


def count_valid(con: duckdb.DuckDBPyConnection, kind: Kind, source: str, column: str) -> tuple[int, int]:
    """(non-null values checked, valid ones) of `column` in `source`; loads the division table if needed."""
    if kind == "resident_id":
        load_divisions(con)
    rows = con.execute(
        f"SELECT count(*) FILTER (WHERE __dg_checked), count(*) FILTER (WHERE __dg_flag)"
        f" FROM ({_checked(kind, source, column, '__dg_flag', ordered=False, checked='__dg_checked')})"
    ).fetchall()
    return int(rows[0][0]), int(rows[0][1])
