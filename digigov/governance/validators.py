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
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from digigov.core.codes import division_spans

DIVISIONS = "governance_divisions"
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"  # check character by (weighted sum mod 11)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CURRENT = 9999  # last year of a division that is still in use


def compact(value: str) -> str:
    """SQL for a code as written without spaces or hyphens, upper case (how check digits are read)."""
    return f"upper(regexp_replace({value}, '[\\s\\-]', '', 'g'))"


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
        }
    )
    con.register("division_spans", table)
    try:
        con.execute(f"CREATE TEMP TABLE {DIVISIONS} AS SELECT code, last_year FROM division_spans")
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
