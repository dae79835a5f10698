"""`digigov operate …`: authorised operation (授权运营) from the command line, for the platform: licences for
operators and their credentials, and the review of analyses' releases; `digigov.cli` adds this group.

The JSON the commands print is the API's (`LicenceRead`, `LicenceCredentialRead`, `AnalysisRead`), so a script
can move between the two. Operators themselves use the API (`/api/v1/operate`, with `X-Licence-Key`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.auth import Actor
from digigov.core.commands import errors, guarded
from digigov.core.errors import Invalid
from digigov.sharing import operation
from digigov.sharing.cli import DAY, AsJson, RowId, _run
from digigov.sharing.operation_api import analysis_read, licence_read
from digigov.sharing.schemas import (
    MAX_DAYS,
    AnalysisRead,
    AnalysisState,
    HoldBody,
    LicenceCreate,
    LicenceCredentialRead,
    LicenceRead,
    RevokeBody,
)

operate_app = typer.Typer(
    help="Authorised operation (授权运营): licences for operators, their credentials, and releasing analyses.",
    no_args_is_help=True,
)
console = Console()
AsUser = Annotated[
    str | None,
    typer.Option("--as", metavar="USERNAME", help="Act as this user (default: the operator, as the system)."),
]


def _print(read: dict[str, Any] | list[dict[str, Any]], lines: list[str], as_json: bool, none: str = "") -> None:
    if as_json:
        console.print_json(json.dumps(read, ensure_ascii=False, default=str))
        return
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    if not lines and none:
        console.print(none)


# ---- licences ---------------------------------------------------------------------------------------


def _licence_line(read: LicenceRead) -> str:
    """E.g. `#1 浙江某数据科技有限公司 91330100MA2B0QJX4X active k=10 rk-jcxx 2026-03-02..2027-03-01, reviewed`."""
    review = "reviewed" if read.review_releases else "released at once"
    credential = f"{read.credential_prefix}…" if read.credential_prefix else "no credential"
    return (
        f"#{read.id} {read.operator} {read.operator_uscc} {read.state} k={read.k} {','.join(read.resources)} "
        f"{read.starts_on}..{read.ends_on}, {review}, {credential}"
    )


@operate_app.command("licences")
def licences(username: AsUser = None, as_json: AsJson = False) -> None:
    """Every licence, newest first (the platform's admin)."""

    def body(session: Session, actor: Actor) -> list[LicenceRead]:
        return [licence_read(licence) for licence in operation.list_licences(session, actor)]

    reads = guarded(lambda: _run(username, body))
    _print([r.model_dump(mode="json") for r in reads], [_licence_line(r) for r in reads], as_json, "no licences")


def _handed_over(made: LicenceCredentialRead, as_json: bool) -> None:
    """The credential goes to stdout alone (or in the JSON), what it is to stderr: shown only now."""
    if as_json:
        _print(made.model_dump(mode="json"), [], as_json=True)
        return
    errors.print(f"licence {_licence_line(made.licence)}", highlight=False, soft_wrap=True)
    errors.print("its credential, shown only now; the operator sends it as X-Licence-Key:")
    console.print(made.credential, highlight=False, soft_wrap=True)


@operate_app.command("grant-licence")
def grant_licence(
    operator: Annotated[str, typer.Option(help="The operator's registered name (an enterprise).")],
    uscc: Annotated[str, typer.Option(help="Its unified social credit code (统一社会信用代码, GB 32100).")],
    resources: Annotated[
        list[str], typer.Option("--resource", metavar="CODE", help="A published resource it may analyse; repeat.")
    ],
    purpose: Annotated[str, typer.Option(help="What the operator may analyse the data for.")],
    k: Annotated[int, typer.Option(min=2, max=10_000, help="Groups of fewer records are suppressed.")] = 10,
    review: Annotated[
        bool, typer.Option("--review/--no-review", help="A reviewer releases each result (default), or none.")
    ] = True,
    starts_on: Annotated[
        datetime | None, typer.Option(formats=DAY, metavar="YYYY-MM-DD", help="First day (default: today).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="How many days it runs.")] = 365,
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """License an operator over published resources and print its credential once (the platform's admin)."""

    def body(session: Session, actor: Actor) -> LicenceCredentialRead:
        values = {"operator": operator, "operator_uscc": uscc, "resources": resources, "purpose": purpose, "k": k}
        values |= {"review_releases": review, "starts_on": starts_on.date() if starts_on else None, "days": days}
        data = LicenceCreate.model_validate(values)
        granted = operation.grant_licence(session, actor, data, today=workdays.china_today())
        licence, secret = operation.issue_licence_credential(session, actor, licence_id=granted.id)
        return LicenceCredentialRead(licence=licence_read(licence), credential=secret)

    _handed_over(guarded(lambda: _run(username, body)), as_json)


@operate_app.command("credential")
def credential(licence_id: RowId, username: AsUser = None, as_json: AsJson = False) -> None:
    """Issue a licence's credential again and print it once; the old one stops working (the platform's admin)."""

    def body(session: Session, actor: Actor) -> LicenceCredentialRead:
        licence, secret = operation.issue_licence_credential(session, actor, licence_id=licence_id)
        return LicenceCredentialRead(licence=licence_read(licence), credential=secret)

    _handed_over(guarded(lambda: _run(username, body)), as_json)


@operate_app.command("revoke-licence")
def revoke_licence(
    licence_id: RowId,
    reason: Annotated[str, typer.Option(help="Why (required; recorded and audited).")],
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Revoke a licence; the operator's next query is refused (the platform's admin)."""

    def body(session: Session, actor: Actor) -> LicenceRead:
        if not reason.strip():
            raise Invalid("A revocation needs its reason (--reason).", "撤销须说明理由（--reason）。")
        given = RevokeBody.model_validate({"reason": reason})
        return licence_read(operation.revoke_licence(session, actor, licence_id=licence_id, reason=given.reason))

    read = guarded(lambda: _run(username, body))
    _print(read.model_dump(mode="json"), [f"licence #{read.id}: {read.state}"], as_json)


# ---- analyses and their release ---------------------------------------------------------------------


def _analysis_line(read: AnalysisRead) -> str:
    """E.g. `#4 licence #1 rk-jcxx v1 pending: 6 groups, 2 suppressed under k=10; group by 就业状态; count`."""
    spec = read.spec
    grouped = f"group by {', '.join(spec['group_by'])}" if spec.get("group_by") else "no grouping"
    aggregates = ", ".join(f"{a['fn']}({a['field']})" if a.get("field") else a["fn"] for a in spec["aggregates"])
    filters = "; where " + " and ".join(f"{c['field']} {c['op']} {_values(c['value'])}" for c in spec["filters"])
    line = (
        f"#{read.id} licence #{read.licence_id} {read.resource} v{read.version} {read.state}: "
        f"{_groups(read.groups)}, {read.suppressed} suppressed under k={read.k}; {grouped}; {aggregates}"
    )
    line += filters if spec.get("filters") else ""
    return line + (f"; held: {read.hold_reason}" if read.hold_reason else "")


def _values(value: str | list[str]) -> str:
    """A filter's value as typed: `330102` or `330102,330106`."""
    return ",".join(value) if isinstance(value, list) else value


def _groups(n: int) -> str:
    return f"{n} group" if n == 1 else f"{n} groups"


@operate_app.command("analyses")
def analyses(
    state: Annotated[
        AnalysisState, typer.Option(help="Analyses in this state (pending: waiting for a reviewer).")
    ] = AnalysisState.pending,
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Operators' analyses in a state, oldest first (reviewers and the admin)."""

    def body(session: Session, actor: Actor) -> list[AnalysisRead]:
        return [analysis_read(session, a) for a in operation.pending_analyses(session, actor, state=state.value)]

    reads = guarded(lambda: _run(username, body))
    lines = [_analysis_line(r) for r in reads]
    _print([r.model_dump(mode="json") for r in reads], lines, as_json, f"no {state.value} analyses")


def _review(analysis_id: int, username: str | None, as_json: bool, *, release: bool, reason: str = "") -> None:
    def body(session: Session, actor: Actor) -> AnalysisRead:
        reviewed = operation.review_analysis(session, actor, analysis_id=analysis_id, release=release, reason=reason)
        return analysis_read(session, reviewed)

    read = guarded(lambda: _run(username, body))
    shown = f"{_groups(len(read.result))} now shown to the operator" if read.result is not None else read.hold_reason
    _print(read.model_dump(mode="json"), [f"analysis #{read.id}: {read.state} ({shown})"], as_json)


@operate_app.command("release")
def release(analysis_id: RowId, username: AsUser = None, as_json: AsJson = False) -> None:
    """Release a pending analysis's groups (those of at least k records) to its operator (a reviewer)."""
    _review(analysis_id, username, as_json, release=True)


@operate_app.command("hold")
def hold(
    analysis_id: RowId,
    reason: Annotated[str, typer.Option(help="Why (required; the operator sees it).")],
    username: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Hold a pending analysis's groups back from its operator, with the reason (a reviewer)."""
    given = guarded(lambda: HoldBody.model_validate({"reason": reason}))
    _review(analysis_id, username, as_json, release=False, reason=given.reason)
