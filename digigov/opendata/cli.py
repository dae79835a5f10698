"""`digigov open …`: the platform's side of the open-data portal (开放数据) from the command line: data requests
(数据需求) and their answers, applications for 受限开放 data and their two decisions, downloads and ratings of
the open resources; `digigov.cli` adds this group.

The JSON the commands print is the portal API's (`DataRequestRead`, `ApplicationRead`, `OpenResourceRead`),
so a script can move between the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import workdays
from digigov.core.auth import Actor
from digigov.core.commands import guarded, ready
from digigov.core.config import load_settings
from digigov.core.errors import Invalid
from digigov.identity import acting_as
from digigov.opendata import applications, feedback, service
from digigov.opendata.api import data_request_read
from digigov.opendata.schemas import (
    ApplicationRead,
    ApplicationState,
    DataRequestAnswer,
    DataRequestRead,
    DataRequestState,
    Decision,
    OpenResourceRead,
)

open_app = typer.Typer(
    help="Open data (开放数据): data requests and answers, applications for 受限开放 data, downloads and ratings.",
    no_args_is_help=True,
)
console = Console()
T = TypeVar("T")
AsUser = Annotated[
    str | None,
    typer.Option("--as", metavar="USERNAME", help="Act as this user (default: the operator, as the system)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the portal API's shapes).")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")]
RowId = Annotated[int, typer.Argument(min=1, max=2_147_483_647, metavar="ID")]
PAGE = 100


def _actor(session: Session, username: str | None) -> Actor:
    return acting_as(session, username)


def _run(username: str | None, body: Callable[[Session, Actor], T]) -> T:
    with ready(load_settings()) as session:
        return body(session, _actor(session, username))


def _show(reads: list[Any], lines: list[str], as_json: bool, none: str) -> None:
    if as_json:
        console.print_json(json.dumps(reads, ensure_ascii=False, default=str))
        return
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    if not lines:
        console.print(none)


# ---- data requests (数据需求) -----------------------------------------------------------------------


def _request_line(read: DataRequestRead) -> str:
    """E.g. `#3 accepted (已采纳) 食品经营许可 — 企业 · 杭州数智科技有限公司 → 杭州市市场监督管理局; answer: 已开放`."""
    line = f"#{read.id} {read.state.value} ({read.state_label}) {read.title} — {read.asked_by}"
    line += f" → {read.department}" if read.department else ""
    if read.state is not DataRequestState.pending:
        line += f"; answer: {read.answer}" + (f" ({read.resource_code})" if read.resource_code else "")
    return line


@open_app.command("requests")
def requests_(
    state: Annotated[DataRequestState | None, typer.Option(help="Only requests in this state.")] = None,
    limit: Limit = 100,
    as_json: AsJson = False,
) -> None:
    """The public's data requests (数据需求) and the platform's answers, newest first."""

    def body(session: Session, actor: Actor) -> list[DataRequestRead]:
        found = feedback.list_data_requests(session, actor, state=state, limit=limit)
        return [data_request_read(session, r) for r in found]

    reads = guarded(lambda: _run(None, body))
    _show([r.model_dump(mode="json") for r in reads], [_request_line(r) for r in reads], as_json, "no data requests")


@open_app.command("answer")
def answer(
    request_id: RowId,
    reason: Annotated[
        str, typer.Option("--reason", "--text", help="The answer, shown in public with the request (required).")
    ],
    accept: Annotated[
        bool | None,
        typer.Option("--accept/--decline", help="Accept the request (采纳), or decline it for now (暂不开放)."),
    ] = None,
    resource: Annotated[
        str | None, typer.Option(metavar="CODE", help="The open resource that answers the request, if any.")
    ] = None,
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Answer a data request in public, as the platform (a reviewer or the admin) does on /open/requests."""

    def body(session: Session, actor: Actor) -> DataRequestRead:
        if accept is None:
            raise Invalid("Say --accept or --decline.", "请指明 --accept（采纳）或 --decline（暂不开放）。")
        given = DataRequestAnswer.model_validate({"accept": accept, "reason": reason, "resource_code": resource})
        answered = feedback.answer_data_request(session, actor, request_id=request_id, answer=given)
        return data_request_read(session, answered)

    read = guarded(lambda: _run(username, body))
    line = f"data request #{read.id}: {read.state.value} ({read.state_label})"
    line += f", answered by {read.resource_code}" if read.resource_code else ""
    _print_one(read.model_dump(mode="json"), line, as_json)


def _print_one(read: dict[str, Any], line: str, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(read, ensure_ascii=False, default=str))
    else:
        console.print(line, highlight=False, soft_wrap=True)


# ---- applications for 受限开放 data (开放申请) -----------------------------------------------------------


def _application_line(read: ApplicationRead) -> str:
    """E.g. `#2 rk-xydm approved (已批准) 王经理, 企业 杭州数智科技有限公司, 30 days, 2026-03-02..2026-03-31`."""
    who = ", ".join(part for part in (read.applicant, f"{read.profile} {read.organisation}".strip()) if part)
    line = f"#{read.id} {read.resource} {read.state.value} ({read.state_label}) {who}, {read.days} days"
    return line + (f", {read.starts_on}..{read.ends_on}" if read.starts_on else "")


@open_app.command("applications")
def applications_(
    state: Annotated[ApplicationState | None, typer.Option(help="Only those in this state (as of today).")] = None,
    limit: Limit = 100,
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Applications for 受限开放 data the user may see, newest first.

    A steward sees those for its department's resources, the platform's roles all of them.
    """

    def body(session: Session, actor: Actor) -> list[ApplicationRead]:
        today = workdays.china_today()
        found = applications.list_applications(session, actor, today=today, state=state, limit=limit)
        return [applications.application_read(session, a, today) for a in found]

    reads = guarded(lambda: _run(username, body))
    _show([r.model_dump(mode="json") for r in reads], [_application_line(r) for r in reads], as_json, "no applications")


@open_app.command("decide")
def decide(
    application_id: RowId,
    approve: Annotated[
        bool | None, typer.Option("--approve/--refuse", help="Approve, or refuse (a refusal needs --reason).")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; required with --refuse, shown to the applicant and audited.")] = "",
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Decide an application at its stage: the source department's steward first, then the platform.

    An application waiting for the source department is decided as the source department; one waiting for
    the platform as the platform, whose approval starts its period today.
    """

    def body(session: Session, actor: Actor) -> ApplicationRead:
        if approve is None:
            raise Invalid("Say --approve or --refuse.", "请指明 --approve（同意）或 --refuse（驳回）。")
        decision = Decision.model_validate({"approve": approve, "reason": reason})
        today = workdays.china_today()
        found = applications.get_application(session, actor, application_id)
        if found.state == ApplicationState.pending_source.value:
            decided = applications.decide_as_source(session, actor, application_id=found.id, decision=decision)
        else:
            decided = applications.decide_as_platform(
                session, actor, application_id=found.id, decision=decision, today=today
            )
        return applications.application_read(session, decided, today)

    read = guarded(lambda: _run(username, body))
    line = f"application #{read.id}: {read.state.value} ({read.state_label})"
    line += f" {read.starts_on}..{read.ends_on}" if read.starts_on else ""
    _print_one(read.model_dump(mode="json"), line, as_json)


# ---- downloads and ratings --------------------------------------------------------------------------


def _open_resources(session: Session, actor: Actor) -> list[Resource]:
    """Every resource the portal shows, read a page of the portal's own search at a time."""
    found: list[Resource] = []
    while True:
        page = service.search_open(session, actor, limit=PAGE, offset=len(found))
        found.extend(page.results)
        if not page.results or len(found) >= page.count:
            return found


def _stats_line(read: OpenResourceRead) -> str:
    """E.g. `rk-open 人口基础信息 (无条件开放): 12 downloads, rating 4.5 of 2`."""
    rated = f"rating {read.rating} of {read.ratings}" if read.rating is not None else "no ratings"
    return f"{read.code} {read.title} ({read.open_type_label}): {read.downloads} downloads, {rated}"


@open_app.command("stats")
def stats(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many, most downloaded first.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Downloads (pages and API) and ratings of each open resource, most downloaded first, as the portal counts them."""

    def body(session: Session, actor: Actor) -> list[OpenResourceRead]:
        return [service.describe(session, r) for r in _open_resources(session, actor)]

    reads = guarded(lambda: _run(None, body))
    reads.sort(key=lambda r: (-r.downloads, -(r.rating or 0), r.code))
    if not as_json:
        downloads, ratings = sum(r.downloads for r in reads), sum(r.ratings for r in reads)
        console.print(f"{len(reads)} open resources: {downloads} downloads, {ratings} ratings", highlight=False)
    shown = reads[:limit]
    _show([r.model_dump(mode="json") for r in shown], [_stats_line(r) for r in shown], as_json, "no open resources")
