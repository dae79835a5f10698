"""Code tables (代码表) of national standards, loaded from real data and usable by rules in the engine.

- GB/T 2260 administrative divisions: every code `digigov.core.codes` knows (python-stdnum's national
  table plus later divisions), with its latest name, parent and the years it was in use;
- GB/T 4754-2017 industries: the 20 sections and 97 divisions of `digigov.core.industry`, and the
  groups and classes too when the shared table (`INDUSTRY_CSV` under the real-data folder) is there,
  read at load time and never copied into the package;
- GB/T 2261.1-2003 sex: four codes shipped in the package.

Loading is idempotent: codes are added or brought up to date, never dropped (a standard withdraws a
code by its years of validity, and rules of old versions still need it).
"""

from __future__ import annotations

import csv
from dataclasses import astuple, dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.core.codes import division_names, division_spans
from digigov.core.errors import NotFound
from digigov.core.industry import INDUSTRIES
from digigov.governance import actions as _actions  # noqa: F401  (declares the actions)
from digigov.governance.events import CodeTableLoaded
from digigov.governance.models import CodeTable, CodeValue

REGIONS = "GB/T 2260"
INDUSTRY = "GB/T 4754"
SEX = "GB/T 2261.1"
INDUSTRY_CSV = Path("codes") / "industry" / "gbt4754_2017_industry_codes.csv"
TITLES = {
    REGIONS: "中华人民共和国行政区划代码",
    INDUSTRY: "国民经济行业分类（GB/T 4754-2017）",
    SEX: "人的性别代码（GB/T 2261.1-2003）",
}


@dataclass(frozen=True)
class Code:
    """One code as a source gives it."""

    code: str
    label: str
    level: str
    parent_code: str | None = None
    valid_from: int | None = None
    valid_to: int | None = None
    sort_key: str = ""  # the standard's order, where code order is not it; empty: the code


def region_codes() -> list[Code]:
    """Every GB/T 2260 code core.codes knows, with its latest name, level, parent and years in use."""
    names = division_names()
    known = {code for code, _ in division_spans()}
    rows = []
    for code, last in division_spans():
        name, first = names[code]
        rows.append(Code(code, name, _region_level(code), _region_parent(code, known), first, last))
    return rows


def _region_level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def _region_parent(code: str, known: set[str]) -> str | None:
    """A county's parent is its city, or the province for counties directly under it; a city's is the province."""
    level = _region_level(code)
    if level == "province":
        return None
    city = code[:4] + "00"
    return city if level == "county" and city in known else code[:2] + "0000"


def industry_codes(table: Path | None = None) -> list[Code]:
    """GB/T 4754-2017 sections and divisions, and groups and classes from `table` when it is given and exists."""
    # Sections are letters and their divisions digits: the section letter in front keeps A, 01, 011, 0111, B, 06 …
    rows = [
        Code(
            i.code,
            i.name,
            "section" if i.is_section else "division",
            None if i.is_section else i.section,
            sort_key=i.section + ("" if i.is_section else i.code),
        )
        for i in INDUSTRIES
    ]
    if table is None or not table.is_file():
        return rows
    with table.open(encoding="utf-8-sig", newline="") as handle:
        lines = [line for line in csv.DictReader(handle) if line["level"] in {"3", "4"}]
    groups = {line["class3_group"] for line in lines if line["level"] == "3"}
    for line in lines:
        if line["level"] == "3":
            code = line["class3_group"]
            rows.append(
                Code(code, line["name"], "group", line["class2_division"], sort_key=line["class1_section"] + code)
            )
        else:  # a group with a single class appears only as its class, so the parent may be the division
            group = line["class3_group"]
            parent = group if group in groups else line["class2_division"]
            code = line["class4_class"]
            rows.append(Code(code, line["name"], "class", parent, sort_key=line["class1_section"] + code))
    # The shared table repeats group 374 with the name of its class 3741 (飞机制造); the first one stands.
    first: dict[str, Code] = {}
    for row in rows:
        first.setdefault(row.code, row)
    return list(first.values())


def sex_codes() -> list[Code]:
    """GB/T 2261.1-2003, shipped in the package."""
    text = resources.files("digigov.governance").joinpath("shipped/gbt2261.1_sex.csv").read_text(encoding="utf-8")
    return [Code(line["code"], line["label"], "") for line in csv.DictReader(text.splitlines())]


def load_code_tables(session: Session, actor: Actor, *, real_data: Path | None = None) -> dict[str, int]:
    """Load or refresh the three standard tables; returns each table's number of codes. Safe to run again."""
    require(actor, "governance.element.edit")
    industry_csv = real_data / INDUSTRY_CSV if real_data is not None else None
    sources = {
        REGIONS: (region_codes(), "digigov.core.codes (python-stdnum cn/loc.dat and later divisions)"),
        INDUSTRY: (
            industry_codes(industry_csv),
            "digigov.core.industry"
            + (f" and {industry_csv}" if industry_csv is not None and industry_csv.is_file() else ""),
        ),
        SEX: (sex_codes(), "digigov/governance/shipped/gbt2261.1_sex.csv"),
    }
    return {name: _sync(session, actor, name, codes, source) for name, (codes, source) in sources.items()}


def _sync(session: Session, actor: Actor, name: str, codes: list[Code], source: str) -> int:
    table = session.scalar(select(CodeTable).where(CodeTable.name == name))
    if table is None:
        table = CodeTable(name=name, title=TITLES[name], source=source)
        session.add(table)
        session.flush()
    stored = {
        row.code: (row.id, {key: getattr(row, key) for key in _KEYS})
        for row in session.execute(select(CodeValue).where(CodeValue.table_id == table.id)).scalars()
    }
    new = [code for code in codes if code.code not in stored]
    changed = [(stored[c.code][0], c) for c in codes if c.code in stored and stored[c.code][1] != _values(c)]
    if new:
        session.execute(insert(CodeValue), [{"table_id": table.id, **_values(c)} for c in new])
    for row_id, code in changed:
        session.execute(update(CodeValue).where(CodeValue.id == row_id).values(**_values(code)))
    if new or changed:
        table.source = source
        audit.record(session, actor, CodeTableLoaded(name, len(new), len(changed)))
    session.flush()
    return len(stored) + len(new)


_KEYS = ("code", "label", "level", "parent_code", "valid_from", "valid_to", "sort_key")


def _values(code: Code) -> dict[str, object]:
    values = dict(zip(_KEYS, astuple(code), strict=True))
    values["sort_key"] = code.sort_key or code.code
    return values


def get_code_table(session: Session, actor: Actor, name: str) -> CodeTable:
    """A code table by its name (`GB/T 2260`) or its slug (`gbt-2260`)."""
    require(actor, "governance.element.read")
    return _find_table(session, name)


def _find_table(session: Session, name: str) -> CodeTable:
    for table in session.scalars(select(CodeTable)):
        if name in (table.name, slug(table.name)):
            return table
    known = "、".join(session.scalars(select(CodeTable.name).order_by(CodeTable.name)))
    raise NotFound(
        f"No code table is named '{name}'; the loaded ones are: {known or 'none'} (run `digigov element load-codes`).",
        f"没有名为“{name}”的代码表；已载入：{known or '无'}（可运行 digigov element load-codes）。",
    )


def list_code_tables(session: Session, actor: Actor) -> list[tuple[CodeTable, int]]:
    """Every code table with its number of codes."""
    require(actor, "governance.element.read")
    counts = {k: v for k, v in session.execute(select(CodeValue.table_id, func.count()).group_by(CodeValue.table_id))}
    return [(t, counts.get(t.id, 0)) for t in session.scalars(select(CodeTable).order_by(CodeTable.name))]


def list_code_values(
    session: Session,
    actor: Actor,
    *,
    table: str,
    q: str = "",
    parent: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[CodeValue], int]:
    """A page of a table's codes in the standard's order, matching `q` (code or label) under `parent`; and the count."""
    found = get_code_table(session, actor, table)
    where = [CodeValue.table_id == found.id]
    if q:
        plain = q.replace("\\", "").replace("%", "").replace("_", "")
        pattern = f"%{plain}%"
        where.append(CodeValue.code.like(pattern) | CodeValue.label.like(pattern))
    if parent is not None:
        where.append(CodeValue.parent_code == parent)
    count = session.scalar(select(func.count()).select_from(CodeValue).where(*where)) or 0
    page = select(CodeValue).where(*where).order_by(CodeValue.sort_key).limit(limit).offset(offset)
    return list(session.scalars(page)), count


def code_values(session: Session, table: str) -> set[str]:
    """Every code of a table (by name or slug), for rules that check values against it."""
    found = _find_table(session, table)
    return set(session.scalars(select(CodeValue.code).where(CodeValue.table_id == found.id)))


def register_code_table(con: duckdb.DuckDBPyConnection, session: Session, table: str) -> str:
    """Put a table's codes on an engine cursor as a relation with one column `code`; returns its name.

    A rule joins or anti-joins a column against it set-wise, e.g. `WHERE v NOT IN (SELECT code FROM …)`.
    """
    name = "code_table_" + "".join(ch if ch.isalnum() else "_" for ch in slug(table))
    codes = sorted(code_values(session, table))
    con.register(name, pa.table({"code": pa.array(codes, pa.string())}))
    return name


def slug(name: str) -> str:
    """The table's name as a path segment.

    >>> slug("GB/T 2260"), slug("GB/T 2261.1")
    ('gbt-2260', 'gbt-2261.1')
    """
    return name.lower().replace("/", "").replace(" ", "-")


def level_counts(session: Session, table: CodeTable) -> dict[str, int]:
    """How many codes of each level a table holds, e.g. {'section': 20, 'division': 97}."""
    rows = session.execute(
        select(CodeValue.level, func.count()).where(CodeValue.table_id == table.id).group_by(CodeValue.level)
    )
    return {k: v for k, v in rows}
