"""Usage statistics across grants (调用统计): calls and rows served in a period, by kind and by day,
grouped by grant, by consuming department or by resource.

One GROUP BY over the call log does the counting: a row per group, China day and kind of call, with
window sums over those rows for the group's totals, its totals by kind and by day, and the period's
totals by day and in all; nothing is added up in Python. Platform roles see every call; a department
its own consumption and the use of its own resources.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, ColumnExpressionArgument, Date, Row, Select, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from digigov.catalog.models import Resource
from digigov.core.auth import ACTIONS, Actor, require
from digigov.core.errors import Invalid
from digigov.core.workdays import china_day_start
from digigov.identity.models import Department
from digigov.sharing import actions as _actions  # noqa: F401  (declares the permissions)
from digigov.sharing.models import Grant, GrantCall
from digigov.sharing.schemas import Tally, UsageBy, UsageGroupRead, UsageStatsRead

DEFAULT_DAYS = 30
Cells = Select[*tuple[Any, ...]]
MAX_DAYS = 366  # a day per column of a year; longer periods are several questions


class china_date(FunctionElement[date]):  # noqa: N801  (a SQL function, named as SQL names them)
    """China's calendar day (UTC+8, no daylight saving) of a naive UTC timestamp column."""

    type = Date()
    inherit_cache = True


@compiles(china_date, "sqlite")
def _china_date_sqlite(element: china_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(china_date)
def _china_date(element: china_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} + INTERVAL '8 hours' AS DATE)"


def period(since: date | None, until: date | None, *, today: date) -> tuple[date, date]:
    """The period asked for: until today and the 30 days to it by default; at most 366 days, in order."""
    until = until or today
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise Invalid(
            f"The period starts ({since}) after it ends ({until}).", f"统计起始日 {since} 晚于截止日 {until}。"
        )
    if (until - since).days >= MAX_DAYS:
        raise Invalid(
            f"A period is at most {MAX_DAYS} days; {since}..{until} is longer.",
            f"统计期间最长 {MAX_DAYS} 天，{since} 至 {until} 超出了范围，请缩短期间。",
        )
    return since, until


def usage_statistics(session: Session, actor: Actor, *, by: UsageBy, since: date, until: date) -> UsageStatsRead:
    """Calls and rows under the grants the actor may see, between two China days (both included)."""
    require(actor, "sharing.usage.read")
    cells = session.execute(_visible(actor, _statement(by, since, until))).all()
    groups: dict[int, UsageGroupRead] = {}
    by_day: dict[date, Tally] = {}
    for cell in cells:  # one per group, day and kind, each carrying the window totals it belongs to
        group = groups.setdefault(cell.key, _group(cell))
        group.by_kind[cell.kind] = Tally(calls=cell.kind_calls, rows=cell.kind_rows)
        group.by_day[cell.day] = Tally(calls=cell.day_calls, rows=cell.day_rows)
        by_day[cell.day] = Tally(calls=cell.all_day_calls, rows=cell.all_day_rows)
    calls, rows = (cells[0].all_calls, cells[0].all_rows) if cells else (0, 0)
    return UsageStatsRead(
        by=by,
        since=since,
        until=until,
        calls=calls,
        rows=rows,
        by_day=dict(sorted(by_day.items())),
        groups=list(groups.values()),
    )


def _group(cell: Row[Any]) -> UsageGroupRead:
    return UsageGroupRead(
        key=cell.key,
        code=cell.code,
        name=cell.name,
        calls=cell.group_calls,
        rows=cell.group_rows,
        by_kind={},
        by_day={},
    )


def _statement(by: UsageBy, since: date, until: date) -> Cells:
    consumer = aliased(Department)
    key, code, name = {
        UsageBy.grant: (Grant.id, Resource.code, consumer.name),
        UsageBy.department: (consumer.id, consumer.code, consumer.name),
        UsageBy.resource: (Resource.id, Resource.code, Resource.title),
    }[by]
    day = china_date(GrantCall.at)
    calls, rows = func.count(), func.coalesce(func.sum(GrantCall.rows), 0)
    windows: dict[str, list[ColumnExpressionArgument[Any]]] = {  # each cell also carries its sums over these
        "group": [key],
        "kind": [key, GrantCall.kind],
        "day": [key, day],
        "all_day": [day],
        "all": [],
    }
    totals = [
        _window(aggregate, partition, f"{label}_{what}")
        for label, partition in windows.items()
        for what, aggregate in (("calls", calls), ("rows", rows))
    ]
    return (
        select(key.label("key"), code.label("code"), name.label("name"), day.label("day"), GrantCall.kind, *totals)
        .join(Grant, Grant.id == GrantCall.grant_id)
        .join(Resource, Resource.id == Grant.resource_id)
        .join(consumer, consumer.id == Grant.consumer_department_id)
        .where(GrantCall.at >= china_day_start(since), GrantCall.at < china_day_start(until + timedelta(days=1)))
        .group_by(key, code, name, day, GrantCall.kind)
        .order_by(func.sum(calls).over(partition_by=key).desc(), key, day, GrantCall.kind)
    )


def _window(
    aggregate: ColumnElement[Any], partition: list[ColumnExpressionArgument[Any]], label: str
) -> ColumnElement[int]:
    """The sum of a cell's aggregate over a window of cells, as an integer (PostgreSQL sums counts as numeric)."""
    return cast(func.sum(aggregate).over(partition_by=partition or None), BigInteger).label(label)


def _visible(actor: Actor, stmt: Cells) -> Cells:
    """Every call for the platform's roles; else the calls of grants the actor's departments hold or gave."""
    granting = actor.roles & ACTIONS["sharing.usage.read"].roles
    if any(role.platform_wide for role in granting):
        return stmt
    mine = list(actor.departments)
    return stmt.where(or_(Grant.consumer_department_id.in_(mine), Grant.source_department_id.in_(mine)))
