"""The data API a provisioned grant opens: lookup by key, verification (核验), and paged queries.

Every call goes the same way: the credential names the grant; the grant must be open today, allow
this kind of call and have quota left; the newest version is read in the engine with each field's
mask applied in the SELECT; and the call is recorded (who, which grant, purpose, fields, rows, and
SHA-256 hashes of the request and the response, after X-Road) in the grant's usage and the audit chain.

A field may be matched on (a lookup key, a filter) only when the grant gives it in clear text:
otherwise a consumer could learn a masked value by asking whether rows hold it. Verification is
the one exception, by design: it answers only yes or no.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import audit, workdays
from digigov.core.auth import Actor, Role
from digigov.core.db import side_transaction
from digigov.core.engine import cursor, json_value, quote_name
from digigov.core.errors import NotFound
from digigov.datastore import RowQuery, Version, latest_version, parquet_path, read_rows
from digigov.governance.masking import Mask, mask_sql
from digigov.identity.service import secret_digest
from digigov.sharing.changes import Position, read_changes, start_of
from digigov.sharing.errors import CredentialRejected, GrantClosed, MaskedField, NotGranted, QuotaExceeded
from digigov.sharing.events import DataCalled
from digigov.sharing.models import Grant, GrantCall
from digigov.sharing.schemas import Access, GrantState
from digigov.sharing.service import effective_state, field_masks

ARROW_TYPES = {"integer": pa.int64(), "date": pa.date32(), "timestamp": pa.timestamp("us"), "boolean": pa.bool_()}
LOOKUP_ROWS = 100  # a key names a few rows; more than this is a query
MAX_PAGE = 1000
# which kinds of call each access kind allows: verification tells less than a lookup
ALLOWED = {
    "lookup": {Access.lookup.value, Access.query.value},
    "verify": {Access.verify.value, Access.lookup.value, Access.query.value},
    "query": {Access.query.value},
    "changes": {Access.subscribe.value},
}


@dataclass(frozen=True)
class Caller:
    """Who is behind a call: the end user the consumer's system names, and the case (X-Road's Issue)."""

    user: str
    issue: str = ""


@dataclass(frozen=True)
class Served:
    """What a call returned: the version read, the fields and their masks, rows or a verdict."""

    version: int
    fields: list[str]
    masks: dict[str, str]
    rows: list[dict[str, Any]]
    next: int | None = None
    match: bool | None = None
    cursor: str | None = None  # subscriptions: where the next pull starts


def open_grant(session: Session, credential: str, *, today: date) -> Grant:
    """The grant a credential opens, if it is provisioned and within its period; refused otherwise."""
    grant = session.scalar(select(Grant).where(Grant.credential_hash == secret_digest(credential)))
    if grant is None:
        raise CredentialRejected("The grant credential is not known.", "共享授权凭证无效。")
    state = effective_state(grant, today)
    if state is not GrantState.provisioned:
        why = f"（{grant.revoke_reason}）" if state is GrantState.revoked and grant.revoke_reason else ""
        raise GrantClosed(f"Grant {grant.id} is {state.value}.", f"共享授权 {grant.id} {state.label}{why}。")
    if today < grant.starts_on:
        raise GrantClosed(
            f"Grant {grant.id} starts on {grant.starts_on}.", f"共享授权 {grant.id} 自 {grant.starts_on} 起生效。"
        )
    return grant


def lookup(session: Session, home: Path, grant: Grant, *, key: str, caller: Caller, now: datetime) -> Served:
    """The rows whose key field holds `key` (trimmed text), masked; none is an empty answer, not an error."""
    request = {"key": key}
    version, masks, types = _prepare(session, grant, "lookup", now)
    if grant.key_field is None:
        raise NotGranted(
            f"Grant {grant.id} names no key to look up by.", f"共享授权 {grant.id} 未指定查询键，不能按键查询。"
        )
    if grant.key_field not in types:
        raise NotFound("This grant's key field is not in the current version.", "当前版本中没有该授权的查询键。")
    _need_clear(masks, [grant.key_field])
    # the datastore's lookup files find the rows of a key without scanning the version
    query = RowQuery(fields=list(masks), filters={grant.key_field: key.strip()}, limit=LOOKUP_ROWS, include_total=False)
    found = read_rows(parquet_path(home, version), version.columns, query, rows=version.rows).records
    rows = _masked_records(found, grant, masks, types)
    served = Served(version.number, list(masks), _labels(masks), rows)
    return _record(session, grant, "lookup", request, served, caller, now)


def verify(
    session: Session, home: Path, grant: Grant, *, values: dict[str, str], caller: Caller, now: datetime
) -> Served:
    """核验: does one row hold all these values (trimmed text)? Only yes or no goes back."""
    version, masks, types = _prepare(session, grant, "verify", now)
    _need_granted(grant, list(values))
    missing = [f for f in values if f not in types]
    if missing:
        raise NotFound(f"Field {', '.join(missing)} is not in the current version.", "当前版本中没有该数据项。")
    where = " AND ".join(f"trim(CAST({quote_name(f)} AS VARCHAR)) = ?" for f in values)
    params = [v.strip() for v in values.values()]
    with cursor() as con:
        sql = f"SELECT EXISTS (SELECT 1 FROM read_parquet(?) WHERE {where})"
        found = con.execute(sql, [str(parquet_path(home, version)), *params]).fetchall()
    served = Served(version.number, list(values), {}, [], match=bool(found[0][0]))
    return _record(session, grant, "verify", {"values": values}, served, caller, now)


def query(
    session: Session,
    home: Path,
    grant: Grant,
    *,
    filters: dict[str, str],
    after: int | None,
    limit: int,
    caller: Caller,
    now: datetime,
) -> Served:
    """A page of rows in file order after the cursor `after`, filtered by equality on clear fields, masked."""
    version, masks, types = _prepare(session, grant, "query", now)
    _need_granted(grant, list(filters))
    _need_clear(masks, list(filters))
    where = [f"trim(CAST({quote_name(f)} AS VARCHAR)) = ?" for f in filters]
    params: list[Any] = [v.strip() for v in filters.values()]
    if after is not None:
        where.append("file_row_number >= ?")  # `_id` is the row number plus one
        params.append(after)
    page = min(max(limit, 1), MAX_PAGE)
    rows = _select(home, version, grant, masks, types, " AND ".join(where) or "TRUE", params, page + 1)
    more = len(rows) > page
    rows = rows[:page]
    served = Served(version.number, list(masks), _labels(masks), rows, rows[-1]["_id"] if more and rows else None)
    request = {"filters": filters, "after": after, "limit": page}
    return _record(session, grant, "query", request, served, caller, now)


def changes(
    session: Session, home: Path, grant: Grant, *, cursor_text: str | None, limit: int, caller: Caller, now: datetime
) -> Served:
    """The changed rows of each new version since the cursor (from the grant's start without one), masked."""
    version, masks, _ = _prepare(session, grant, "changes", now)
    at = Position.parse(cursor_text) if cursor_text else start_of(session, grant)
    page = min(max(limit, 1), MAX_PAGE)
    found = read_changes(session, home, grant, masks, at, page)
    rows = [{k: json_value(v) for k, v in row.items()} for row in found.rows]
    served = Served(version.number, list(masks), _labels(masks), rows, cursor=found.cursor)
    request = {"cursor": str(at), "limit": page}
    return _record(session, grant, "changes", request, served, caller, now)


def _prepare(
    session: Session, grant: Grant, kind: str, now: datetime
) -> tuple[Version, dict[str, Mask], dict[str, str]]:
    if grant.access not in ALLOWED[kind]:
        access = Access(grant.access)
        raise NotGranted(
            f"Grant {grant.id} allows {access.value}, not {kind}.", f"共享授权 {grant.id} 仅允许“{access.label}”。"
        )
    _charge(session, grant, now)
    version = latest_version(session, grant.resource_id)
    if version is None:
        raise NotFound("The resource has no data yet.", "该数据资源尚无数据。")
    types = {c["name"]: c["type"] for c in version.columns}
    masks = {name: mask for name, mask in field_masks(session, grant, version).items() if name in types}
    return version, masks, types


def _charge(session: Session, grant: Grant, now: datetime) -> None:
    """Refuse the call when the last minute's calls reach the rate limit or today's the quota."""
    of_grant = GrantCall.grant_id == grant.id
    last_minute = session.scalar(select(func.count()).where(of_grant, GrantCall.at > now - timedelta(minutes=1)))
    if (last_minute or 0) >= grant.rate_per_minute:
        raise QuotaExceeded(
            f"Grant {grant.id} allows {grant.rate_per_minute} calls a minute; wait and retry.",
            f"共享授权 {grant.id} 每分钟最多调用 {grant.rate_per_minute} 次，请稍后再试。",
        )
    since = workdays.china_day_start(workdays.china_day(now))
    today = session.scalar(select(func.count()).where(of_grant, GrantCall.at >= since))
    if (today or 0) >= grant.daily_quota:
        raise QuotaExceeded(
            f"Grant {grant.id}'s daily quota of {grant.daily_quota} calls is used up.",
            f"共享授权 {grant.id} 今日调用次数已达上限 {grant.daily_quota} 次。",
        )


def _need_granted(grant: Grant, names: list[str]) -> None:
    outside = [n for n in names if n not in grant.fields]
    if outside:
        raise NotGranted(f"Field {', '.join(outside)} is not granted.", f"数据项 {'、'.join(outside)} 不在授权范围内。")


def _need_clear(masks: dict[str, Mask], names: list[str]) -> None:
    hidden = [n for n in names if masks.get(n) is not Mask.clear]
    if hidden:
        raise MaskedField(
            f"Field {', '.join(hidden)} is masked under this grant; it cannot be matched on.",
            f"数据项 {'、'.join(hidden)} 在本授权下为脱敏数据，不能作为查询条件。",
        )


def _select(
    home: Path,
    version: Version,
    grant: Grant,
    masks: dict[str, Mask],
    types: dict[str, str],
    where: str,
    params: list[Any],
    limit: int,
) -> list[dict[str, Any]]:
    columns = [f"{mask_sql(m, quote_name(n), types[n], grant.salt)} AS {quote_name(n)}" for n, m in masks.items()]
    sql = (
        f"SELECT file_row_number + 1 AS _id, {', '.join(columns) or 'NULL AS _none'}"
        f" FROM read_parquet(?, file_row_number = true) WHERE {where} ORDER BY file_row_number LIMIT {int(limit)}"
    )
    with cursor() as con:
        result = con.execute(sql, [str(parquet_path(home, version)), *params])
        names = [d[0] for d in result.description]
        return [{k: json_value(v) for k, v in zip(names, row, strict=True)} for row in result.fetchall()]


def _masked_records(
    records: list[dict[str, Any]], grant: Grant, masks: dict[str, Mask], types: dict[str, str]
) -> list[dict[str, Any]]:
    """The masks applied in the engine to a few records already read (a lookup's rows)."""
    if not records:
        return []
    columns = [f"{mask_sql(m, quote_name(n), types[n], grant.salt)} AS {quote_name(n)}" for n, m in masks.items()]
    # typed as stored, so a column that is NULL in every record found still masks as its type
    schema = pa.schema(
        [("_id", pa.int64())] + [(n, ARROW_TYPES.get(types[n], pa.string())) for n in masks if types[n] != "decimal"]
    )
    decimals = [n for n in masks if types[n] == "decimal"]
    table = pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in records], schema=schema)
    for name in decimals:  # their precision is the file's: let Arrow read it from the values
        table = table.append_column(name, pa.array([r.get(name) for r in records]))
    with cursor() as con:
        con.register("__found", table)
        result = con.execute(f"SELECT _id, {', '.join(columns) or 'NULL AS _none'} FROM __found ORDER BY _id")
        names = [d[0] for d in result.description]
        return [{k: json_value(v) for k, v in zip(names, row, strict=True)} for row in result.fetchall()]


def _labels(masks: dict[str, Mask]) -> dict[str, str]:
    return {name: mask.value for name, mask in masks.items()}


def _record(
    session: Session, grant: Grant, kind: str, request: dict[str, Any], served: Served, caller: Caller, now: datetime
) -> Served:
    request_hash = _digest({"grant": grant.id, "call": kind, **request})
    response = {
        "version": served.version,
        "rows": served.rows,
        "match": served.match,
        "next": served.next,
        "cursor": served.cursor,
    }
    response_hash = _digest(response)
    rows = len(served.rows)
    code = session.get_one(Resource, grant.resource_id).code
    call = GrantCall(
        grant_id=grant.id,
        at=now,
        kind=kind,
        caller=caller.user,
        issue=caller.issue,
        fields=served.fields,
        rows=rows,
        version_number=served.version,
        request_hash=request_hash,
        response_hash=response_hash,
    )
    event = DataCalled(
        grant.id,
        code,
        kind,
        caller.user,
        caller.issue,
        tuple(served.fields),
        rows,
        served.version,
        request_hash,
        response_hash,
    )
    # The rows were read beside other calls; the record takes turns, so the limits are checked
    # again inside it, exactly: a call that lost the race for the last of the quota is refused.
    with side_transaction(session) as writer:
        _charge(writer, grant, now)
        writer.add(call)
        audit.record(writer, _consumer(grant, caller), event)
    return served


def _digest(value: Any) -> str:
    return hashlib.sha256(audit.canonical(value).encode()).hexdigest()


def _consumer(grant: Grant, caller: Caller) -> Actor:
    """The consuming system as the audit log's actor: the grant's department, the user it names."""
    return Actor(
        user_id=None,
        username=f"grant:{grant.id}:{caller.user}"[:100],
        department_id=grant.consumer_department_id,
        roles=frozenset({Role.data_consumer}),
    )
