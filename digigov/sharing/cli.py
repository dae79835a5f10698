"""`digigov share …`: share requests and grants (数据共享) from the command line; `digigov.cli` adds this group.

The JSON the list and decision commands print is the API's (`ShareRequestRead`, `GrantRead`), so a script
can move between the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.auth import Actor
from digigov.core.commands import guarded, ready
from digigov.core.config import load_settings
from digigov.core.errors import Invalid
from digigov.identity import acting_as, get_department
from digigov.sharing import service, usage
from digigov.sharing.api import grant_read, request_read
from digigov.sharing.schemas import Decision, RequestState, UsageBy, UsageGroupRead, UsageStatsRead

share_app = typer.Typer(
    help="Data sharing (数据共享): list requests and grants, decide on requests, revoke grants, usage statistics.",
    no_args_is_help=True,
)
console = Console()
T = TypeVar("T")
By = Annotated[
    str | None,
    typer.Option("--by", metavar="USERNAME", help="Act as this user (default: the operator, as the system)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the API's shapes).")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")]
RowId = Annotated[int, typer.Argument(min=1, max=2_147_483_647, metavar="ID")]


class Stage(StrEnum):
    """Who decides: the source department (数源部门) first, then the platform (平台)."""

    source = "source"
    platform = "platform"


def _actor(session: Session, username: str | None) -> Actor:
    return acting_as(session, username)


def _run(by: str | None, body: Callable[[Session, Actor], T]) -> T:
    with ready(load_settings()) as session:
        return body(session, _actor(session, by))


def _json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))


def _head(session: Session, read: dict[str, Any]) -> str:
    """What a request and its grant have in common: id, resource, consumer → source, access, state, period."""
    consumer = get_department(session, read["consumer_department_id"]).code
    source = get_department(session, read["source_department_id"]).code
    return (
        f"#{read['id']} {read['resource']} {consumer} → {source} {read['access']} "
        f"{read['state']} ({read['state_label']}) {read['starts_on']}..{read['ends_on']}"
    )


def _request_line(session: Session, read: dict[str, Any]) -> str:
    return _head(session, read) + (f", grant #{read['grant_id']}" if read["grant_id"] else "")


def _grant_line(session: Session, read: dict[str, Any]) -> str:
    return _head(session, read) + f", {read['rate_per_minute']}/min, {read['daily_quota']}/day"


def _print(rows: list[tuple[dict[str, Any], str]], as_json: bool, none: str) -> None:
    if as_json:
        _json([read for read, _ in rows])
        return
    for _, line in rows:
        console.print(line, highlight=False, soft_wrap=True)
    if not rows:
        console.print(none)


@share_app.command("requests")
def requests_(
    state: Annotated[RequestState | None, typer.Option(help="Only requests in this state.")] = None,
    limit: Limit = 100,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Share requests the user may see, newest first."""

    def body(session: Session, actor: Actor) -> list[tuple[dict[str, Any], str]]:
        found = service.list_requests(session, actor, state=state, limit=limit)
        reads = [request_read(session, r).model_dump(mode="json") for r in found]
        return [(read, _request_line(session, read)) for read in reads]

    _print(guarded(lambda: _run(by, body)), as_json, "no share requests")


@share_app.command("decide")
def decide(
    request_id: RowId,
    stage: Annotated[Stage, typer.Option("--as", help="Decide as the source department, or as the platform after it.")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--refuse", help="Approve, or refuse (a refusal needs --reason).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; required with --refuse, recorded and audited.")] = "",
    allow_clear: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-clear", metavar="FIELD", help="Source only: of the fields asked for in clear, allow only these."
        ),
    ] = None,
    rate_per_minute: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Platform only: calls per minute (default 600).")
    ] = None,
    daily_quota: Annotated[
        int | None, typer.Option(min=1, max=10_000_000, help="Platform only: calls per day (default: as expected).")
    ] = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Approve or refuse a share request; the platform's approval makes the grant."""

    def body(session: Session, actor: Actor) -> tuple[dict[str, Any], str]:
        decision = _decision(stage, approve, reason, allow_clear, rate_per_minute, daily_quota)
        if stage is Stage.source:
            decided = service.decide_as_source(session, actor, request_id=request_id, decision=decision)
        else:
            decided = service.decide_as_platform(session, actor, request_id=request_id, decision=decision)
        read = request_read(session, decided).model_dump(mode="json")
        line = f"request #{read['id']}: {read['state']} ({read['state_label']})"
        grant = service.grant_of(session, decided)
        if grant is not None:
            line += f"; grant #{grant.id} made, {grant.rate_per_minute}/min, {grant.daily_quota}/day"
        return read, line

    read, line = guarded(lambda: _run(by, body))
    if as_json:
        _json(read)
    else:
        console.print(line, highlight=False, soft_wrap=True)


def _decision(
    stage: Stage,
    approve: bool | None,
    reason: str,
    allow_clear: list[str] | None,
    rate_per_minute: int | None,
    daily_quota: int | None,
) -> Decision:
    if approve is None:
        raise Invalid("Say --approve or --refuse.", "请指明 --approve（同意）或 --refuse（驳回）。")
    if stage is Stage.source and (rate_per_minute or daily_quota):
        raise Invalid(
            "--rate-per-minute and --daily-quota are set by the platform (--as platform).",
            "--rate-per-minute 与 --daily-quota 由平台审核时设定（--as platform）。",
        )
    if stage is Stage.platform and allow_clear is not None:
        raise Invalid(
            "--allow-clear is the source department's (--as source).",
            "--allow-clear 由数源部门审核时设定（--as source）。",
        )
    values = {"approve": approve, "reason": reason, "allow_clear": allow_clear}
    return Decision.model_validate(values | {"rate_per_minute": rate_per_minute, "daily_quota": daily_quota})


@share_app.command("grants")
def grants(limit: Limit = 100, by: By = None, as_json: AsJson = False) -> None:
    """Grants the user may see, newest first, with their state as of today."""

    def body(session: Session, actor: Actor) -> list[tuple[dict[str, Any], str]]:
        reads = [
            grant_read(session, g).model_dump(mode="json") for g in service.list_grants(session, actor, limit=limit)
        ]
        return [(read, _grant_line(session, read)) for read in reads]

    _print(guarded(lambda: _run(by, body)), as_json, "no grants")


@share_app.command("revoke")
def revoke(
    grant_id: RowId,
    reason: Annotated[str, typer.Option(help="Why (required; recorded and audited).")],
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Revoke a grant (the source department or the platform); the next call under it is refused."""

    def body(session: Session, actor: Actor) -> tuple[dict[str, Any], str]:
        if not reason.strip():
            raise Invalid("A revocation needs its reason (--reason).", "撤销须说明理由（--reason）。")
        read = grant_read(session, service.revoke_grant(session, actor, grant_id=grant_id, reason=reason))
        return read.model_dump(mode="json"), f"grant #{read.id}: {read.state} ({read.state_label})"

    read, line = guarded(lambda: _run(by, body))
    if as_json:
        _json(read)
    else:
        console.print(line, highlight=False, soft_wrap=True)


DAY = ["%Y-%m-%d"]


@share_app.command("usage")
def usage_(
    by: Annotated[UsageBy, typer.Option(help="Group by grant, consuming department or resource.")] = UsageBy.grant,
    since: Annotated[
        datetime | None,
        typer.Option(formats=DAY, metavar="YYYY-MM-DD", help="First China day (default: 29 days before --until)."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=DAY, metavar="YYYY-MM-DD", help="Last China day (default: today).")
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--as", metavar="USERNAME", help="Act as this user (default: the operator, as the system)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Calls and rows served under grants in a period, by kind; platform roles see all, a department its own."""

    def body(session: Session, actor: Actor) -> UsageStatsRead:
        first, last = usage.period(
            since.date() if since else None, until.date() if until else None, today=workdays.china_today()
        )
        return usage.usage_statistics(session, actor, by=by, since=first, until=last)

    stats = guarded(lambda: _run(username, body))
    if as_json:
        _json(stats.model_dump(mode="json"))
        return
    console.print(
        f"{stats.since}..{stats.until} by {stats.by.value}: {stats.calls} calls, {stats.rows} rows",
        highlight=False,
        soft_wrap=True,
    )
    for group_read in stats.groups:
        console.print(_usage_line(stats.by, group_read), highlight=False, soft_wrap=True)


def _usage_line(by: UsageBy, group: UsageGroupRead) -> str:
    """E.g. `#2 rk-jcxx 杭州市人力资源和社会保障局: 3 calls, 5 rows (lookup 2, export 1)`."""
    head = f"#{group.key} {group.code} {group.name}" if by is UsageBy.grant else f"{group.code} {group.name}"
    kinds = ", ".join(f"{kind} {tally.calls}" for kind, tally in sorted(group.by_kind.items()))
    return f"{head}: {group.calls} calls, {group.rows} rows ({kinds})"
