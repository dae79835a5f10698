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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from digigov.core import audit, workdays
from digigov.core.auth import Actor, Role
from digigov.core.db import side_transaction
from digigov.core.engine import cursor, json_value, quote_name
from digigov.core.errors import NotFound
from digigov.core.groupcommit import group_commit
from digigov.datastore import RowQuery, Version, parquet_path, read_rows
from digigov.datastore.keyed import rows_by_key
from digigov.governance.masking import Mask, mask_sql, mask_value
from digigov.identity.service import secret_digest
from digigov.sharing.changes import Position, read_changes, start_of
from digigov.sharing.errors import CredentialRejected, GrantClosed, MaskedField, NotGranted, QuotaExceeded
from digigov.sharing.events import DataCalled
from digigov.sharing.models import Grant, GrantCall, GrantCounter
from digigov.sharing.plans import Plan, plan_by_credential, plan_by_id
from digigov.sharing.schemas import Access, GrantState
from digigov.sharing.service import effective_state

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
    """The grant a credential opens, if it is provisioned and within its period; refused otherwise.

    One query (`plans`); the plan it finds serves the session's next call under this grant.
    """
    plan = plan_by_credential(session, secret_digest(credential))
    if plan is None:
        raise CredentialRejected("The grant credential is not known.", "共享授权凭证无效。")
    _need_open(plan.grant, today)
    session.info[OPENED] = plan
    return plan.grant


OPENED = "digigov_share_opened_plan"


def _need_open(grant: Grant, today: date) -> None:
    state = effective_state(grant, today)
    if state is not GrantState.provisioned:
        why = f"（{grant.revoke_reason}）" if state is GrantState.revoked and grant.revoke_reason else ""
        raise GrantClosed(f"Grant {grant.id} is {state.value}.", f"共享授权 {grant.id} {state.label}{why}。")
    if today < grant.starts_on:
        raise GrantClosed(
            f"Grant {grant.id} starts on {grant.starts_on}.", f"共享授权 {grant.id} 自 {grant.starts_on} 起生效。"
        )


def lookup(session: Session, home: Path, grant: Grant, *, key: str, caller: Caller, now: datetime) -> Served:
    """The rows whose key field holds `key` (trimmed text), masked; none is an empty answer, not an error."""
    served, record = read_lookup(session, home, grant, key=key, caller=caller, now=now)
    _submit(session, record)
    return served


def read_lookup(
    session: Session, home: Path, grant: Grant, *, key: str, caller: Caller, now: datetime
) -> tuple[Served, CallRecord]:
    """`lookup`, with the call's record still to write (`record_async`): the answer must wait for it."""
    request = {"key": key}
    plan = prepare(session, grant, "lookup", now)
    grant, version, masks, types = plan.grant, plan.newest(), plan.masks, plan.types
    if grant.key_field is None:
        raise NotGranted(
            f"Grant {grant.id} names no key to look up by.", f"共享授权 {grant.id} 未指定查询键，不能按键查询。"
        )
    if grant.key_field not in types:
        raise NotFound("This grant's key field is not in the current version.", "当前版本中没有该授权的查询键。")
    _need_clear(masks, [grant.key_field])
    value, parquet = key.strip(), parquet_path(home, version)
    position = next(k for k, c in enumerate(version.columns) if c["name"] == grant.key_field)
    # the version's keyed files read a key's rows in microseconds; without them, its lookup files
    found = rows_by_key(parquet, position, value, list(masks), limit=LOOKUP_ROWS)
    if found is not None:  # a few rows: masked here, value by value, as the engine would mask them
        rows = [
            {
                name: json_value(mask_value(masks[name], v, types[name], grant.salt) if name in masks else v)
                for name, v in record.items()
            }
            for record in found
        ]
    else:
        query = RowQuery(fields=list(masks), filters={grant.key_field: value}, limit=LOOKUP_ROWS, include_total=False)
        records = read_rows(parquet, version.columns, query, rows=version.rows).records
        rows = _masked_records(records, grant, masks, types)
    served = Served(version.number, list(masks), _labels(masks), rows)
    return served, _call_record(plan, "lookup", request, served, caller, now)


def verify(
    session: Session, home: Path, grant: Grant, *, values: dict[str, str], caller: Caller, now: datetime
) -> Served:
    """核验: does one row hold all these values (trimmed text)? Only yes or no goes back."""
    plan = prepare(session, grant, "verify", now)
    grant, version, types = plan.grant, plan.newest(), plan.types
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
    return _record(session, plan, "verify", {"values": values}, served, caller, now)


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
    plan = prepare(session, grant, "query", now)
    grant, version, masks, types = plan.grant, plan.newest(), plan.masks, plan.types
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
    return _record(session, plan, "query", request, served, caller, now)


def changes(
    session: Session, home: Path, grant: Grant, *, cursor_text: str | None, limit: int, caller: Caller, now: datetime
) -> Served:
    """The changed rows of each new version since the cursor (from the grant's start without one), masked."""
    plan = prepare(session, grant, "changes", now)
    grant, version, masks = plan.grant, plan.newest(), plan.masks
    at = Position.parse(cursor_text) if cursor_text else start_of(session, grant)
    page = min(max(limit, 1), MAX_PAGE)
    found = read_changes(session, home, grant, masks, at, page)
    rows = [{k: json_value(v) for k, v in row.items()} for row in found.rows]
    served = Served(version.number, list(masks), _labels(masks), rows, cursor=found.cursor)
    request = {"cursor": str(at), "limit": page}
    return _record(session, plan, "changes", request, served, caller, now)


def prepare(session: Session, grant: Grant, kind: str, now: datetime) -> Plan:
    """The plan of a call of `kind` under `grant` as the metadata stands; refused when the grant does not allow it.

    The grant is read again with it (the one `open_grant` read, when it opened this call), so the
    call goes by the grant's row as it is now.
    """
    opened = session.info.pop(OPENED, None)
    plan = opened if isinstance(opened, Plan) and opened.grant.id == grant.id else plan_by_id(session, grant.id)
    if plan is None:
        raise NotFound(f"Grant {grant.id} does not exist.", f"共享授权 {grant.id} 不存在。")
    grant = plan.grant
    if grant.access not in ALLOWED[kind]:
        access = Access(grant.access)
        raise NotGranted(
            f"Grant {grant.id} allows {access.value}, not {kind}.", f"共享授权 {grant.id} 仅允许“{access.label}”。"
        )
    if kind != "lookup":  # a scan is refused before it runs; a keyed read costs less than the check
        _charge(session, grant, now)
    return plan


def _periods(now: datetime) -> dict[str, str]:
    """The minute and the day (China time) a call at `now` counts in."""
    local = now.replace(tzinfo=UTC).astimezone(workdays.CHINA)
    return {"minute": local.strftime("%Y-%m-%dT%H:%M"), "day": local.strftime("%Y-%m-%d")}


def _charge(session: Session, grant: Grant, now: datetime) -> None:
    """Refuse the call when this minute's calls reach the rate limit or today's the quota (a read, no lock)."""
    periods = _periods(now)
    counted = session.execute(
        select(GrantCounter.span, GrantCounter.period, GrantCounter.calls).where(GrantCounter.grant_id == grant.id)
    ).all()
    calls = {span: n for span, period, n in counted if periods.get(span) == period}
    limits = _Limits(grant.id, grant.rate_per_minute, grant.daily_quota)
    refused = _past_limit(limits, calls.get("minute", 0) + 1, calls.get("day", 0) + 1)
    if refused is not None:
        raise refused


# Add calls to a grant's minute and day (a new period starts from them) and return the totals.
COUNT = text(
    "INSERT INTO share_counter (grant_id, span, period, calls) "
    "VALUES (:g, 'minute', :minute, :k), (:g, 'day', :day, :k) "
    "ON CONFLICT (grant_id, span) DO UPDATE SET "
    "calls = CASE WHEN share_counter.period = excluded.period THEN share_counter.calls + excluded.calls "
    "ELSE excluded.calls END, period = excluded.period RETURNING span, calls"
)
UNCOUNT = text("UPDATE share_counter SET calls = calls - :r WHERE grant_id = :g")


@dataclass(frozen=True)
class _Limits:
    """What a grant allows: calls a minute and a day."""

    grant_id: int
    rate_per_minute: int
    daily_quota: int


def _past_limit(grant: _Limits, minute: int, day: int) -> QuotaExceeded | None:
    """Why a call that would be this minute's call number `minute` and today's number `day` is refused, if it is."""
    if minute > grant.rate_per_minute:
        return QuotaExceeded(
            f"Grant {grant.grant_id} allows {grant.rate_per_minute} calls a minute; wait and retry.",
            f"共享授权 {grant.grant_id} 每分钟最多调用 {grant.rate_per_minute} 次，请稍后再试。",
        )
    if day > grant.daily_quota:
        return QuotaExceeded(
            f"Grant {grant.grant_id}'s daily quota of {grant.daily_quota} calls is used up.",
            f"共享授权 {grant.grant_id} 今日调用次数已达上限 {grant.daily_quota} 次。",
        )
    return None


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
    session: Session, plan: Plan, kind: str, request: dict[str, Any], served: Served, caller: Caller, now: datetime
) -> Served:
    _submit(session, _call_record(plan, kind, request, served, caller, now))
    return served


def _call_record(
    plan: Plan, kind: str, request: dict[str, Any], served: Served, caller: Caller, now: datetime
) -> CallRecord:
    grant = plan.grant
    response = {
        "version": served.version,
        "rows": served.rows,
        "match": served.match,
        "next": served.next,
        "cursor": served.cursor,
    }
    digests = request_digest(grant, kind, request), _digest(response)
    called = Called(kind, served.fields, len(served.rows), served.version, *digests)
    return call_record(grant, plan.code, called, caller, now)


@dataclass(frozen=True)
class Called:
    """What a call did, as its record keeps it: the kind, fields, rows, version read and the two hashes."""

    kind: str
    fields: list[str]
    rows: int
    version: int
    request_hash: str
    response_hash: str


def request_digest(grant: Grant, kind: str, request: dict[str, Any]) -> str:
    """The SHA-256 of a call's request as its record keeps it."""
    return _digest({"grant": grant.id, "call": kind, **request})


GROUPED = "digigov_share_calls_grouped"


def record_in_groups(session: Session) -> None:
    """Let this session's calls be recorded by the process's group commit: for a request that only reads.

    The data API's routes say so. A session that has written must not (the group's writer would
    wait for its write lock while it waits for the writer), so scripts and jobs record inline.
    """
    session.info[GROUPED] = True


def record_call(session: Session, grant: Grant, code: str, called: Called, caller: Caller, now: datetime) -> None:
    """Count the call against the grant's limits and record it (usage row and audit event); refused past a limit.

    The rows were read beside other calls; the record takes turns, so the limits are counted inside
    it, exactly: a call that lost the race for the last of the quota is refused and not recorded.
    """
    _submit(session, call_record(grant, code, called, caller, now))


@dataclass(frozen=True)
class CallRecord:
    """One call to record: its grant's limits, the periods it counts in, its usage row and audit event."""

    limits: _Limits
    periods: dict[str, str]
    call: dict[str, Any]  # the usage row (share_call)
    actor: Actor
    event: DataCalled


def call_record(grant: Grant, code: str, called: Called, caller: Caller, now: datetime) -> CallRecord:
    """What recording a call under `grant` of resource `code` writes."""
    call = {
        "grant_id": grant.id,
        "at": now,
        "kind": called.kind,
        "caller": caller.user,
        "issue": caller.issue,
        "fields": called.fields,
        "rows": called.rows,
        "version_number": called.version,
        "request_hash": called.request_hash,
        "response_hash": called.response_hash,
    }
    event = DataCalled(
        grant.id,
        code,
        called.kind,
        caller.user,
        caller.issue,
        tuple(called.fields),
        called.rows,
        called.version,
        called.request_hash,
        called.response_hash,
    )
    limits = _Limits(grant.id, grant.rate_per_minute, grant.daily_quota)
    return CallRecord(limits, _periods(now), call, _consumer(grant, caller), event)


def defer_record(session: Session, record: CallRecord) -> CallRecord | None:
    """The record itself, to write with `record_async` once the session ends, if its calls go to group commits.

    Otherwise (a session inside an outer transaction: a test's, a script's) it is written now,
    beside the session's own writes, and None comes back.
    """
    if _grouped(session) is not None:
        return record
    _submit(session, record)
    return None


def _grouped(session: Session) -> Engine | None:
    """The engine whose group commit records the session's calls; None when they are recorded inline."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) and session.info.get(GROUPED) else None


def _submit(session: Session, record: CallRecord) -> None:
    engine = _grouped(session)
    if engine is not None:  # calls of the whole process share commits
        group_commit(engine, GROUP, _write_calls).submit(record)
    else:  # a script's or a test's session, which may have written: recorded beside it, in its turn
        with side_transaction(session) as writer:
            (refused,) = _write_calls(writer.connection(), [record])
        if refused is not None:
            raise refused


async def record_async(engine: Engine, record: CallRecord) -> None:
    """Write a call's record in the process's next group commit, awaiting it; refused past a limit."""
    await group_commit(engine, GROUP, _write_calls).submit_async(record)


GROUP = "share-calls"


def _write_calls(writer: Connection, entries: Sequence[CallRecord]) -> list[BaseException | None]:
    """Count, then record, calls in one transaction; a call past its grant's limit is refused, not recorded.

    The calls of one grant in one minute are counted with one statement that adds them all and
    returns the totals; those past a limit are taken off again before the transaction commits.
    """
    outcomes: list[BaseException | None] = [None] * len(entries)
    groups: dict[tuple[int, str, str], list[int]] = {}
    for k, entry in enumerate(entries):
        groups.setdefault((entry.limits.grant_id, entry.periods["minute"], entry.periods["day"]), []).append(k)
    for (grant_id, minute, day), members in sorted(groups.items(), key=lambda g: g[0][1]):
        added = len(members)
        totals = {
            span: int(n) for span, n in writer.execute(COUNT, {"g": grant_id, "minute": minute, "day": day, "k": added})
        }
        first = entries[members[0]].limits
        before_minute, before_day = totals["minute"] - added, totals["day"] - added
        for j, k in enumerate(members):
            outcomes[k] = _past_limit(first, before_minute + j + 1, before_day + j + 1)
        refused = sum(outcome is not None for outcome in (outcomes[k] for k in members))
        if refused:
            writer.execute(UNCOUNT, {"g": grant_id, "r": refused})
    recorded = [entry for entry, outcome in zip(entries, outcomes, strict=True) if outcome is None]
    if recorded:  # one INSERT for them all: usage rows are written once and never change
        writer.execute(insert(cast(Table, GrantCall.__table__)), [entry.call for entry in recorded])
    audit.record_many(writer, [(entry.actor, entry.event) for entry in recorded])
    return outcomes


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
