"""Open data rows: the preview, pages of the rows API, and CSV/JSON downloads, all masked in the engine.

Every mask runs in the SELECT that reads the newest version (`digigov.governance.masking`), chosen per
field from that version's classification, exactly as a sharing grant without clear text would. The
API needs an API key (an identity token) and charges its daily quota; every download and every
rows page is recorded (`open_call`, which download counts and quotas read) and audited.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import audit, workdays
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.db import side_transaction
from digigov.core.engine import cursor, json_value, quote_name, sql_literal
from digigov.core.errors import NotFound
from digigov.datastore import Version, latest_version, parquet_path
from digigov.governance.masking import Mask, mask_sql
from digigov.opendata.errors import ApiKeyNeeded, DailyQuotaUsed
from digigov.opendata.events import OpenDataRead
from digigov.opendata.models import OpenCall
from digigov.opendata.service import field_masks, get_open_resource, mask_salt, require_rows

Format = Literal["csv", "json"]
Via = Literal["page", "api"]
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
PREVIEW_ROWS = 10
MAX_PAGE = 1000


@dataclass(frozen=True)
class Served:
    """Rows that left the portal: the version, the fields and their masks, the rows, the next cursor."""

    version: int
    fields: list[str]
    masks: dict[str, str]
    rows: list[dict[str, Any]]
    next: int | None = None


@dataclass(frozen=True)
class Export:
    """A masked download written to a temporary file, and the name it is offered under."""

    path: Path
    filename: str
    media_type: str


def preview(session: Session, actor: Actor, settings: Settings, *, code: str, today: date) -> Served:
    """The first rows of the newest version, masked: what the resource page shows (not counted)."""
    resource, version = _readable(session, actor, code, today)
    return _page(session, settings, resource, version, after=None, limit=PREVIEW_ROWS)


def rows_page(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    code: str,
    after: int | None,
    limit: int,
    now: datetime,
) -> Served:
    """The rows API: a page of masked rows after the cursor `after`, charged to the caller's API key."""
    _charge(session, actor, settings, now)
    resource, version = _readable(session, actor, code, workdays.china_day(now))
    served = _page(session, settings, resource, version, after=after, limit=min(max(limit, 1), MAX_PAGE))
    _record(session, actor, settings, resource, version, "rows", len(served.rows), "api", now)
    return served


def download(
    session: Session, actor: Actor, settings: Settings, *, code: str, fmt: Format, via: Via, now: datetime
) -> Export:
    """The newest version, masked, as CSV (UTF-8 with BOM, for Excel) or a JSON array; counted and audited.

    Through the API (`via="api"`) it needs an API key and is charged to its quota.
    """
    if via == "api":
        _charge(session, actor, settings, now)
    resource, version = _readable(session, actor, code, workdays.china_day(now))
    path = _write(session, settings, resource, version, fmt)
    _record(session, actor, settings, resource, version, fmt, version.rows, via, now)
    return Export(path, f"{resource.code}-v{version.number}.{fmt}", MEDIA[fmt])


def calls_today(session: Session, token_id: int, now: datetime) -> int:
    """How many data API calls an API key made today (China's day)."""
    since = workdays.china_day_start(workdays.china_day(now))
    stmt = select(func.count()).where(OpenCall.token_id == token_id, OpenCall.at >= since)
    return int(session.scalar(stmt) or 0)


def _charge(session: Session, actor: Actor, settings: Settings, now: datetime) -> None:
    """Refuse an API call without an API key, or when the key's calls today reach the daily quota."""
    if actor.token_id is None:
        raise ApiKeyNeeded(
            "The portal's data API needs an API key: send it in X-API-Key (create one on your portal account page).",
            "开放数据接口需要 API 密钥：请在请求头 X-API-Key 中携带（可在“我的”页面生成）。",
        )
    quota = settings.open_daily_quota
    if calls_today(session, actor.token_id, now) >= quota:
        raise DailyQuotaUsed(
            f"This API key's daily quota of {quota} calls is used up; it renews at midnight (Beijing time).",
            f"该 API 密钥今日调用次数已达上限 {quota} 次，北京时间零点后恢复。",
        )


def _readable(session: Session, actor: Actor, code: str, today: date) -> tuple[Resource, Version]:
    resource = get_open_resource(session, actor, code)
    require_rows(session, actor, resource, today)
    version = latest_version(session, resource.id)
    if version is None:
        raise NotFound(f"Resource {code} has no data yet.", f"数据资源 {code} 尚无数据。")
    return resource, version


def _columns(
    session: Session, settings: Settings, resource: Resource, version: Version
) -> tuple[list[str], dict[str, Mask]]:
    """The masked SELECT list of a version, and each field's mask."""
    types = {str(c["name"]): str(c["type"]) for c in version.columns}
    masks = field_masks(session, version)
    salt = mask_salt(settings.secret(), resource)
    return [f"{mask_sql(m, quote_name(n), types[n], salt)} AS {quote_name(n)}" for n, m in masks.items()], masks


def _page(
    session: Session, settings: Settings, resource: Resource, version: Version, *, after: int | None, limit: int
) -> Served:
    columns, masks = _columns(session, settings, resource, version)
    where = "TRUE"
    params: list[Any] = [str(parquet_path(settings.home, version))]

    if after is not None:
        where = "file_row_number >= ?"  # `_id` is the row number plus one
        params.append(after)
    sql = (
        f"SELECT file_row_number + 1 AS _id, {', '.join(columns) or 'NULL AS _none'}"
        f" FROM read_parquet(?, file_row_number = true) WHERE {where} ORDER BY file_row_number LIMIT {int(limit) + 1}"
    )
    with cursor() as con:
        result = con.execute(sql, params)
        names = [d[0] for d in result.description]
        rows = [{k: json_value(v) for k, v in zip(names, row, strict=True)} for row in result.fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    labels = {name: mask.value for name, mask in masks.items()}
    return Served(version.number, list(masks), labels, rows, rows[-1]["_id"] if more and rows else None)


def _write(session: Session, settings: Settings, resource: Resource, version: Version, fmt: Format) -> Path:
    """COPY the masked SELECT into a temporary file (the engine streams it; nothing is held in memory)."""
    columns, _ = _columns(session, settings, resource, version)
    select_sql = f"SELECT {', '.join(columns) or 'NULL AS _none'} FROM read_parquet(?)"
    out = Path(tempfile.mkdtemp(prefix="digigov-open-")) / f"data.{fmt}"
    source = str(parquet_path(settings.home, version))
    with cursor() as con:
        if fmt == "json":
            con.execute(f"COPY ({select_sql}) TO {sql_literal(str(out))} (FORMAT json, ARRAY true)", [source])
            return out
        body = out.with_suffix(".body")
        con.execute(f"COPY ({select_sql}) TO {sql_literal(str(body))} (FORMAT csv, HEADER true)", [source])
    with out.open("wb") as target, body.open("rb") as copied:
        target.write("\ufeff".encode())  # Excel reads Chinese correctly only with a BOM
        while chunk := copied.read(1024 * 1024):
            target.write(chunk)
    body.unlink()
    return out


def _record(
    session: Session,
    actor: Actor,
    settings: Settings,
    resource: Resource,
    version: Version,
    kind: str,
    rows: int,
    via: Via,
    now: datetime,
) -> None:
    call = OpenCall(
        resource_id=resource.id,
        user_id=actor.user_id,
        token_id=actor.token_id if via == "api" else None,
        kind=kind,
        version_number=version.number,
        at=now,
    )
    event = OpenDataRead(resource.id, resource.code, kind, version.number, rows, via, actor.token_id)
    # The data was read beside other calls; the record takes turns (on SQLite it holds the write
    # lock only for itself), and the quota is checked again inside it, exactly.
    with side_transaction(session) as writer:
        if via == "api":
            _charge(writer, actor, settings, now)
        writer.add(call)
        audit.record(writer, actor, event)
