"""Column types: a sample proposes a type, casting every row of the file in DuckDB decides.

A column becomes integer, decimal, date, timestamp or boolean only if every value that is
not null casts to that type exactly. The reader first types a column from the first rows
(`infer_types` over a sample) and writes the file with `checked_expression`, which raises
instead of losing a value; if anything raises, it types the whole file (`infer_types` over
all of it), checks after writing that `expected` values survived, and keeps a failing column
as text, reporting it as a text fallback. The
casts are strict: `12.5`, `1e3`, `1_000` or `+5` are not integers, a date with a time is not a
date, and a decimal keeps every digit it was written with. Codes never become numbers:

* a header naming a code (代码, 编号, 号码, 证号, 电话, 手机, 身份证, 注册号, 邮编, 账号; code, phone…),
* a leading zero (`09`), more than 14 digits (registration numbers, ID numbers),
* every value with the same number of digits, six or more (region codes, phone numbers, and
  20220301 in a column whose name says nothing about dates).

Null tokens count as null in typed columns only (text columns keep them verbatim): empty or
whitespace-only cells, `/`, `-`, `—`, `NULL`, `null`, `无`. Decimals are stored exactly as
DECIMAL(18 or 38, scale) with the largest scale seen, never as floating point. Dates and
timestamps: 2022-03-01, 2022/3/1, 2022.3.1, 2022年3月1日, 1/3/2022 and 1-3-2022 (day-first when
any first part exceeds 12 or neither does; month-first when only second parts do), an optional
time 10:31[:50[.123456]], and 20220301 when the column name says 日期/时间/date/time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import duckdb

from digigov.datastore.report import ColumnType
from digigov.datastore.staging import quote_name, sql_literal

NULL_TOKENS = ("/", "-", "—", "NULL", "null", "无")
TRIM_CHARS = " \t\n\r\x0b\x0c\u00a0\u3000\ufeff"
CODE_WORDS = ("代码", "编号", "号码", "证号", "电话", "手机", "身份证", "注册号", "邮编", "账号")
CODE_TOKENS = frozenset({"code", "phone", "mobile", "telephone", "tel", "zip", "zipcode", "postcode"})
DATE_WORDS = re.compile(r"日期|时间|date|time", re.IGNORECASE)
SAMPLE_ROWS = 1000
LOOKS_TYPED = 0.9  # share of sampled values that must fit a type for it to be proposed
FIXED_WIDTH_CODE = 6
DAY_FIRST_NOTE = "day and month are both 12 or less in every value; read as day-first"

INTEGER = r"[+-]?(?:0|[1-9][0-9]{0,13})"
DECIMAL = r"[+-]?(?:0|[1-9][0-9]{0,13})\.[0-9]+"
BOOLEAN = r"是|否|(?i:true|false)"
_Y = r"(?:19|20)[0-9]{2}"
_M = r"(?:0?[1-9]|1[0-2])"
_D = r"(?:0?[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[ T](?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)?"
_TIME_FORMATS = (" %H:%M:%S", " %H:%M", " %H:%M:%S.%f", "T%H:%M:%S", "T%H:%M", "T%H:%M:%S.%f", "")

# shape -> (date pattern, strptime format); the time part is optional for every shape
SHAPES: dict[str, tuple[str, str]] = {
    "y-m-d": (rf"{_Y}-{_M}-{_D}", "%Y-%m-%d"),
    "y/m/d": (rf"{_Y}/{_M}/{_D}", "%Y/%m/%d"),
    "y.m.d": (rf"{_Y}\.{_M}\.{_D}", "%Y.%m.%d"),
    "y年m月d日": (rf"{_Y}年{_M}月{_D}日", "%Y年%m月%d日"),
    "d/m/y": (rf"{_D}/{_M}/{_Y}", "%d/%m/%Y"),
    "m/d/y": (rf"{_M}/{_D}/{_Y}", "%m/%d/%Y"),
    "d-m-y": (rf"{_D}-{_M}-{_Y}", "%d-%m-%Y"),
    "m-d-y": (rf"{_M}-{_D}-{_Y}", "%m-%d-%Y"),
    "ymd": (rf"{_Y}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])", "%Y%m%d"),
}
_YEAR_LAST = {"d/m/y": ("m/d/y", "/"), "d-m-y": ("m-d-y", "-")}  # day-first shape -> month-first
_DAY_FIRST = {month: day for day, (month, _) in _YEAR_LAST.items()}
_BLANK_STARTS = (("\u00a0", "\u00a1"), ("\u3000", "\u3001"), ("\ufeff", "\uff00"))
_VALUE = re.compile("|".join([INTEGER, DECIMAL] + [pattern + _TIME for pattern, _ in SHAPES.values()]) + r"|[0-9]{15,}")

Kind = Literal["boolean", "integer", "decimal", "temporal"]


@dataclass(frozen=True)
class Typing:
    """The type chosen for one column and how its text is cast; `expected` values must survive."""

    type: ColumnType
    sql: str = "VARCHAR"
    formats: tuple[str, ...] = ()
    expected: int = 0
    trim_all: bool = False  # also trim tabs, no-break, ideographic and BOM spaces, not only spaces
    note: str | None = None
    scale: int = 0  # decimals: digits after the point, the most any value has
    width: int = 0  # text kept because every value has this many digits: what a sample showed
    day_first_unproven: bool = False  # no value seen with a first or second part above 12


STRING = Typing("string")
CODE = Typing("string", note="kept as text: the column name marks a code")


@dataclass(frozen=True)
class Proposal:
    """A type the sample suggests; temporal shapes are kept in their day-first form."""

    kind: Kind
    shapes: tuple[str, ...] = ()

    def ordered(self, *, month_first: bool) -> tuple[str, ...]:
        return tuple(_YEAR_LAST[shape][0] if month_first and shape in _YEAR_LAST else shape for shape in self.shapes)


def looks_like_value(text: str) -> bool:
    """True for text that reads as a number, a date or a long code, not as a label.

    >>> looks_like_value("2022年3月1日"), looks_like_value("91110108MA009HJB3M"), looks_like_value("名称")
    (True, False, False)
    """
    return _VALUE.fullmatch(text.strip()) is not None


def is_code_name(name: str) -> bool:
    """True when a column's name says it holds codes or numbers that are not quantities.

    >>> is_code_name("统一社会信用代码"), is_code_name("zip_code"), is_code_name("注册资本（万元）")
    (True, True, False)
    """
    tokens = set(re.split(r"[^a-z]+", name.lower()))
    return any(word in name for word in CODE_WORDS) or bool(tokens & CODE_TOKENS)


def infer_types(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str], names: Sequence[str], relation: str = "raw"
) -> list[Typing]:
    """Propose a type for each text column of `relation` (a table or a scan) and size it over all its rows."""
    counts = _count(con, columns, relation)
    samples = _samples(con, columns, [nn for nn, _ in counts], relation)
    proposals = [
        _propose(name, sample, nn=nn, digitish=digitish)
        for name, sample, (nn, digitish) in zip(names, samples, counts, strict=True)
    ]
    codes = [is_code_name(name) for name in names]
    proposed = [None if code else proposal for code, proposal in zip(codes, proposals, strict=True)]
    stats = _stats(con, columns, proposed, relation)
    return [
        (CODE if proposal else STRING) if code else _decide(proposal, nn, stat)
        for code, proposal, (nn, _), stat in zip(codes, proposals, counts, stats, strict=True)
    ]


def _count(con: duckdb.DuckDBPyConnection, columns: Sequence[str], relation: str) -> list[tuple[int, int]]:
    # Comparisons against DuckDB's inlined string prefix are nearly free: no regex, no copy.
    parts = [f"count({c}), count_if({c} >= '+' AND {c} < ':')" for c in map(quote_name, columns)]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone() or ()
    return [(int(row[2 * i] or 0), int(row[2 * i + 1] or 0)) for i in range(len(columns))]


def _samples(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str], non_null: list[int], relation: str
) -> list[list[str]]:
    head = con.execute(f"SELECT {', '.join(map(quote_name, columns))} FROM {relation} LIMIT {SAMPLE_ROWS}").fetchall()
    samples = [[row[i] for row in head if row[i] is not None] for i in range(len(columns))]
    for i, column in enumerate(columns):
        if len(samples[i]) < min(non_null[i], 100):  # sparse at the top: look further down
            query = f"SELECT {quote_name(column)} AS v FROM {relation} WHERE v IS NOT NULL LIMIT {SAMPLE_ROWS}"
            samples[i] = [value for (value,) in con.execute(query).fetchall()]
    return [[value.strip() for value in sample if value.strip() not in ("", *NULL_TOKENS)] for sample in samples]


def _propose(name: str, sample: list[str], *, nn: int, digitish: int) -> Proposal | None:
    if not sample:
        return None
    if _share(sample, BOOLEAN) == 1.0:
        return Proposal("boolean")
    if digitish < nn / 2:
        return None
    if DATE_WORDS.search(name) and _share(sample, SHAPES["ymd"][0]) == 1.0:
        return Proposal("temporal", ("ymd",))
    if _share(sample, INTEGER) >= LOOKS_TYPED:
        return Proposal("integer")
    if _share(sample, f"{INTEGER}|{DECIMAL}") >= LOOKS_TYPED and _share(sample, DECIMAL) > 0:
        return Proposal("decimal")
    found = [shape for shape, (pattern, _) in SHAPES.items() if shape != "ymd" and _share(sample, pattern + _TIME)]
    either = "|".join(SHAPES[shape][0] + _TIME for shape in found)
    if found and _share(sample, either) >= LOOKS_TYPED:
        return Proposal("temporal", tuple(dict.fromkeys(_DAY_FIRST.get(shape, shape) for shape in found)))
    return None


def _share(sample: list[str], pattern: str) -> float:
    compiled = re.compile(pattern)
    return sum(1 for value in sample if compiled.fullmatch(value)) / len(sample)


def _stats(
    con: duckdb.DuckDBPyConnection, columns: Sequence[str], proposals: list[Proposal | None], relation: str
) -> list[dict[str, int]]:
    """One cheap pass over the proposed columns: nulls, odd spaces, lengths, scale, times, day/month order."""
    parts: list[str] = []
    keys: list[tuple[int, str]] = []
    for index, (column, proposal) in enumerate(zip(map(quote_name, columns), proposals, strict=True)):
        for key, expression in _stat_expressions(column, proposal).items():
            parts.append(expression)
            keys.append((index, key))
    stats: list[dict[str, int]] = [{} for _ in columns]
    if parts:
        row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone() or ()
        for (index, key), value in zip(keys, row, strict=True):
            stats[index][key] = int(value or 0)
    return stats


def _stat_expressions(column: str, proposal: Proposal | None) -> dict[str, str]:
    if proposal is None:
        return {}
    expressions = {"nulls": null_count(column)}
    digits = f"FILTER (WHERE {column} >= '0' AND {column} < ':')"
    if proposal.kind == "integer":
        expressions["min_len"] = f"min(strlen({column})) {digits}"
        expressions["max_len"] = f"max(strlen({column})) {digits}"
    elif proposal.kind == "decimal":
        fraction = f"strlen(rtrim({column})) - strpos({column}, '.')"
        expressions["scale"] = f"max({fraction}) FILTER (WHERE contains({column}, '.'))"
    elif proposal.kind == "temporal":
        expressions["times"] = f"count_if(contains({column}, ':'))"
        for shape in proposal.shapes:
            if shape in _YEAR_LAST:
                separator = sql_literal(_YEAR_LAST[shape][1])
                part = f"TRY_CAST(split_part(trim({column}), {separator}, {{}}) AS INTEGER) > 12"
                expressions["first_over_12"] = f"count_if({part.format(1)})"
                expressions["second_over_12"] = f"count_if({part.format(2)})"
    return expressions


def _decide(proposal: Proposal | None, nn: int, stat: dict[str, int]) -> Typing:
    if proposal is None:
        return STRING
    expected, trim_all = nn - stat["nulls"], False
    if proposal.kind == "integer":
        if expected > 1 and stat["min_len"] == stat["max_len"] >= FIXED_WIDTH_CODE:
            note = f"kept as text: every value has {stat['max_len']} digits, like a code"
            return Typing("string", note=note, width=stat["max_len"])
        return Typing("integer", "BIGINT", expected=expected, trim_all=trim_all)
    if proposal.kind == "decimal":
        scale = max(stat["scale"], 1)
        if scale > 24:
            return Typing("string", note=f"kept as text: {scale} decimal places cannot be stored exactly")
        sql = f"DECIMAL({18 if scale <= 4 else 38},{scale})"
        return Typing("decimal", sql, expected=expected, trim_all=trim_all, scale=scale)
    if proposal.kind == "boolean":
        return Typing("boolean", "BOOLEAN", expected=expected, trim_all=trim_all)
    return _temporal(proposal, stat, expected, trim_all)


def _temporal(proposal: Proposal, stat: dict[str, int], expected: int, trim_all: bool) -> Typing:
    month_first = stat.get("second_over_12", 0) > 0 and not stat.get("first_over_12", 0)
    note, unproven = None, False
    if "first_over_12" in stat and not (stat["first_over_12"] or stat["second_over_12"]):
        note, unproven = DAY_FIRST_NOTE, True
    elif month_first:
        note = "read as month-first: only second parts exceed 12"
    dates = [SHAPES[shape][1] for shape in proposal.ordered(month_first=month_first)]
    if stat["times"]:
        formats = tuple(date + time for time in _TIME_FORMATS for date in dates)
        return Typing("timestamp", "TIMESTAMP", formats, expected, trim_all, note, day_first_unproven=unproven)
    return Typing("date", "DATE", tuple(dates), expected, trim_all, note, day_first_unproven=unproven)


def cast_expression(column: str, typing: Typing) -> str:
    """SQL turning text column `column` into `typing` exactly; anything else (null tokens too) gives NULL."""
    name = quote_name(column)
    if typing.type == "string":
        return f"CASE WHEN {blank_cell(name)} THEN NULL ELSE {name} END"
    value = f"trim({name}, {sql_literal(TRIM_CHARS)})" if typing.trim_all else f"trim({name})"
    if typing.type == "integer":
        number = f"TRY_CAST({value} AS BIGINT)"
        return f"CASE WHEN strlen({value}) <= 15 AND CAST({number} AS VARCHAR) = {value} THEN {number} END"
    if typing.type == "decimal":
        fraction = f"[0-9]{{1,{typing.scale}}}" if typing.scale else "[0-9]+"
        exact = sql_literal(f"{INTEGER}|{INTEGER}\\.{fraction}")
        return f"CASE WHEN regexp_full_match({value}, {exact}) THEN TRY_CAST({value} AS {typing.sql}) END"
    if typing.type == "boolean":
        return (
            f"CASE lower({value}) WHEN '是' THEN true WHEN 'true' THEN true "
            "WHEN '否' THEN false WHEN 'false' THEN false END"
        )
    formats = "[" + ", ".join(map(sql_literal, typing.formats)) + "]"
    parsed = f"CAST(try_strptime({value}, {formats}) AS {typing.sql})"
    return f"CASE WHEN strlen({value}) = 8 THEN {parsed} END" if typing.formats == ("%Y%m%d",) else parsed


def null_count(name: str, *, padded: bool = False) -> str:
    """SQL counting the cells that are blank or a null token (`padded`: also tokens in any spaces)."""
    value = f"trim({name}, {sql_literal(TRIM_CHARS)})" if padded else name
    tokens = ", ".join(map(sql_literal, NULL_TOKENS))
    return f"count_if({name} IS NOT NULL AND ({blank_cell(name)} OR {value} IN ({tokens})))"


def blank_cell(name: str) -> str:
    """SQL: the cell is NULL or only whitespace (a prefix test spares most cells the trim)."""
    starts = " OR ".join(f"{name} >= '{low}' AND {name} < '{high}'" for low, high in _BLANK_STARTS)
    return f"({name} IS NULL OR ({name} < '!' OR {starts}) AND trim({name}, {sql_literal(TRIM_CHARS)}) = '')"


def number_cast(column: str, typing: Typing) -> str | None:
    """For a number column, the cast of its untrimmed text that `checked_expression` reads more than once.

    The copy computes it once in an inner query and passes its name back as `number`.
    """
    if typing.type == "integer":
        return f"TRY_CAST({quote_name(column)} AS BIGINT)"
    if typing.type == "decimal":
        return f"TRY_CAST({quote_name(column)} AS {typing.sql})"
    return None


def checked_expression(column: str, typing: Typing, failure: str, number: str | None = None) -> str:
    """SQL like `cast_expression` that raises DuckDB error `failure` where a value does not fit `typing`.

    A cheap cast of the untrimmed text answers for almost every value; only the cells it
    leaves NULL pay for trimming, null tokens and the exact cast. A text column kept for the
    width of its digits raises on a value of another width. Nothing fails silently: a file
    this raises on is typed again over all its rows. `number` names a column that already
    holds `number_cast` of this one.
    """
    name = quote_name(column)
    if typing.type == "string":
        kept = cast_expression(column, typing)
        if not typing.width:
            return kept
        other = f"{name} >= '0' AND {name} < ':' AND strlen({name}) <> {typing.width}"
        return f"CASE WHEN {other} THEN error({sql_literal(failure)}) ELSE {kept} END"
    exact = cast_expression(column, replace(typing, trim_all=True))
    tokens = ", ".join(map(sql_literal, ("", *NULL_TOKENS)))
    null = f"{name} IS NULL OR trim({name}, {sql_literal(TRIM_CHARS)}) IN ({tokens})"
    slow = f"CASE WHEN {null} THEN NULL ELSE coalesce({exact}, error({sql_literal(failure)})) END"
    return f"coalesce({_fast_cast(name, typing, number)}, {slow})"


def _fast_cast(name: str, typing: Typing, number: str | None) -> str:
    """The untrimmed text cast only where it is written exactly as the type writes it back (else NULL)."""
    if typing.type == "integer":
        number = number or f"TRY_CAST({name} AS BIGINT)"
        return f"CASE WHEN strlen({name}) <= 15 AND CAST({number} AS VARCHAR) = {name} THEN {number} END"
    if typing.type == "decimal":  # 1.5 reads back as 1.50: the text must start what the number writes
        number = number or f"TRY_CAST({name} AS {typing.sql})"
        written = f"starts_with(CAST({number} AS VARCHAR), {name}) AND NOT suffix({name}, '.')"
        return f"CASE WHEN {written} AND abs({number}) < 100000000000000 THEN {number} END"
    if typing.type == "boolean":
        return f"CASE {name} WHEN '是' THEN true WHEN '否' THEN false END"
    formats = "[" + ", ".join(map(sql_literal, typing.formats)) + "]"
    parsed = f"CAST(try_strptime({name}, {formats}) AS {typing.sql})"
    return f"CASE WHEN strlen({name}) = 8 THEN {parsed} END" if typing.formats == ("%Y%m%d",) else parsed
