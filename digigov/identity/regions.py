"""The Zhejiang region table, from python-stdnum's national table plus later divisions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy.orm import Session

from digigov.core.codes import LATER_DIVISIONS
from digigov.identity.models import Region

_PERIOD = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")


@dataclass(frozen=True)
class RegionRow:
    """One division code with its latest name and years in use."""

    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None
    former_names: str


def _periods(value: str) -> list[tuple[int | None, int | None, str]]:
    periods = []
    for part in value.split(","):
        match = _PERIOD.match(part.strip())
        if match:
            start = int(match["start"]) if match["start"] else None
            end = int(match["end"]) if match["end"] else None
            periods.append((start, end, match["name"]))
        else:
            periods.append((None, None, part.strip()))
    return periods


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def _parent(code: str) -> str | None:
    level = _level(code)
    if level == "province":
        return None
    return code[:2] + "0000" if level == "city" else code[:4] + "00"


def province_rows(province: str = "33") -> list[RegionRow]:
    """Every code of one province in stdnum's table, with later additions, parents first."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    rows: dict[str, RegionRow] = {}
    inside = False
    for line in text.splitlines():
        if not line.startswith(" "):
            inside = line.startswith(province + " ")
            continue
        if not inside:
            continue
        suffix, _, rest = line.strip().partition(" ")
        value = rest.split('="', 1)[1].rstrip('"')
        periods = _periods(value)
        code = province + suffix
        starts = [p[0] for p in periods]
        ends = [p[1] for p in periods]
        rows[code] = RegionRow(
            code=code,
            name=periods[-1][2],
            level=_level(code),
            parent_code=_parent(code),
            valid_from=None if None in starts else min(s for s in starts if s is not None),
            valid_to=None if None in ends else max(e for e in ends if e is not None),
            former_names=",".join(p[2] for p in periods[:-1]),
        )
    for code, (name, since) in LATER_DIVISIONS.items():
        if code.startswith(province):
            rows[code] = RegionRow(code, name, _level(code), _parent(code), since, None, "")
    missing_parents = {r.parent_code for r in rows.values() if r.parent_code and r.parent_code not in rows}
    for code in missing_parents:  # e.g. an abolished prefecture whose own line stdnum omits
        rows[code] = RegionRow(code, code, _level(code), _parent(code), None, None, "")
    return sorted(rows.values(), key=lambda r: (len(r.parent_code or ""), r.code))


def load_regions(session: Session, province: str = "33") -> int:
    """Insert or refresh the province's regions; returns how many codes it holds."""
    rows = province_rows(province)
    order = {"province": 0, "city": 1, "county": 2}
    for row in sorted(rows, key=lambda r: (order[r.level], r.code)):
        session.merge(Region(**row.__dict__))
    session.flush()
    return len(rows)
