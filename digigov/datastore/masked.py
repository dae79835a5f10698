"""Masked reads of a version: its rows as a reader without clear-text access sees them.

The datastore knows neither classification nor masks. One higher layer (governance) registers a
`MaskSource` with `mask_rows_with`: given a version and the platform's secret, it gives each field's
mask as a DuckDB expression over the column. `versions.query_rows` and `versions.export_rows` apply
it to everyone who may read a version's rows but not in clear text; with no source registered such
a reader is refused, never served clear text.

A masked page is read in two engine steps. `read_rows` picks the page's row numbers with the
filters, sort and text search, which name clear fields only, so every fast path still applies;
then one SELECT computes the masked values of just those rows, set-wise. A filter or sort on a
masked field is refused (`MaskedField`): its answer would tell whether rows hold a value. Text
search (`q`) looks at the clear text fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from digigov.core import engine
from digigov.core.errors import Forbidden, Invalid
from digigov.datastore.errors import MaskedField
from digigov.datastore.models import Version
from digigov.datastore.query import ROW_ID, RowPage, RowQuery, quote, read_rows

CLEAR = "clear"
NOT_SEARCHED = "masked"  # the type a masked field is given for `read_rows`, whose `q` searches "string" fields


@dataclass(frozen=True)
class FieldMask:
    """How one field is shown: the mask's name (`clear`: as stored) and Chinese label, and its SQL over the column."""

    mask: str
    label: str
    sql: str

    @property
    def clear(self) -> bool:
        """True if the field is shown as stored."""
        return self.mask == CLEAR


MaskSource = Callable[[Session, Version, str], dict[str, FieldMask]]
_sources: list[MaskSource] = []


def mask_rows_with(source: MaskSource) -> MaskSource:
    """Make `source(session, version, secret)` the masks of every read without clear-text access (one source)."""
    _sources[:] = [source]
    return source


def field_masks(session: Session, version: Version, secret: str) -> dict[str, FieldMask]:
    """Each column's mask on `version` for a reader without clear-text access; a column the source skips is NULL."""
    if not _sources:
        raise Forbidden(
            "Rows of this resource are served masked to you, and no masking is installed; ask its department.",
            "该数据资源对您须脱敏提供，但平台未启用脱敏，暂不能读取；请联系数源部门。",
        )
    masks = _sources[0](session, version, secret)
    hidden = FieldMask("null", "置空", "CAST(NULL AS VARCHAR)")
    return {str(c["name"]): masks.get(str(c["name"]), hidden) for c in version.columns}


def refuse_masked(masks: dict[str, FieldMask], names: list[str]) -> None:
    """Raise `MaskedField` if any of `names` is masked: it cannot be filtered or sorted on."""
    hidden = list(dict.fromkeys(n for n in names if n in masks and not masks[n].clear))
    if hidden:
        raise MaskedField(
            f"Field {', '.join(hidden)} is masked for you; it cannot be filtered or sorted on. "
            "Filter on fields shown in clear, or ask the owning department.",
            f"数据项 {'、'.join(hidden)} 对您为脱敏数据，不能作为筛选或排序条件；请改用明文数据项，或向数源部门申请。",
        )


def read_masked(
    parquet: Path, columns: list[dict[str, str]], query: RowQuery, masks: dict[str, FieldMask], *, rows: int
) -> RowPage:
    """`read_rows` with every field shown through its mask; fields gain `mask` and `mask_label` where masked."""
    refuse_masked(masks, [*(query.filters or {}), *(f for f, _ in query.sort or [])])
    types = {c["name"]: c["type"] for c in columns}
    chosen = [f for f in (query.fields or list(types)) if f != "_id"]
    for name in chosen:
        if name not in types:
            raise Invalid(f"Unknown field '{name}'.", f"没有数据项“{name}”。")
    searched = [{"name": n, "type": t if masks[n].clear else NOT_SEARCHED} for n, t in types.items()]
    picked = read_rows(parquet, searched, replace(query, fields=["_id"]), rows=rows)
    ids = [int(r["_id"]) for r in picked.records]
    fields = [{"id": "_id", "type": "integer"}] + [_field(n, types[n], masks[n]) for n in chosen]
    return RowPage(fields, _masked_records(parquet, ids, chosen, masks), picked.total, picked.next_after)


def _field(name: str, field_type: str, mask: FieldMask) -> dict[str, str]:
    if mask.clear:
        return {"id": name, "type": field_type}
    return {"id": name, "type": "string", "mask": mask.mask, "mask_label": mask.label}  # masks give text


def _masked_records(
    parquet: Path, ids: list[int], names: list[str], masks: dict[str, FieldMask]
) -> list[dict[str, Any]]:
    """The masked records of the rows `ids` (`_id` values), in that order: one SELECT over just those rows."""
    if not ids:
        return []
    select = ", ".join([f"{ROW_ID} AS _id", *(f"{masks[n].sql} AS {quote(n)}" for n in names)])
    inlined = ", ".join(str(i - 1) for i in ids)  # our own integers: DuckDB prunes row groups by them
    sql = f"SELECT {select} FROM read_parquet(?, file_row_number = true) WHERE file_row_number IN ({inlined})"
    with engine.cursor() as con:
        result = con.execute(sql, [str(parquet)])
        keys = [d[0] for d in result.description]
        by_id = {row[0]: dict(zip(keys, row, strict=True)) for row in result.fetchall()}
    return [by_id[i] for i in ids]


def masked_select(columns: list[dict[str, str]], masks: dict[str, FieldMask]) -> str:
    """The SELECT list of a whole version through its masks, in column order (for exports)."""
    return ", ".join(f"{masks[c['name']].sql} AS {quote(c['name'])}" for c in columns)
