"""`digigov problem …`: problem data (问题数据) from the command line; `digigov.cli` adds this group."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.auth import Actor
from digigov.core.commands import guarded as _guarded
from digigov.core.commands import ready as _session
from digigov.core.config import Settings, load_settings
from digigov.core.workflow import WorkState
from digigov.governance import problem_queries, problems
from digigov.governance.rows import Viewer
from digigov.identity import acting_as

problem_app = typer.Typer(help="Problem data (问题数据): raise, answer, extend, escalate, count.", no_args_is_help=True)
console = Console()
T = TypeVar("T")
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (default: the operator, as the system).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Today = Annotated[str | None, typer.Option(help="The day to count from, YYYY-MM-DD (default: today in China).")]


def _actor(session: Session, username: str | None) -> Actor:
    return acting_as(session, username)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise typer.BadParameter(f"{text} is not a date (YYYY-MM-DD).") from None


def _print(described: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(described, ensure_ascii=False, default=str))
        return
    where = f"{described['key_field']}={described['key_value']} " if described["key_field"] else ""
    console.print(
        f"#{described['id']} {described['resource']} {where}{described['field']}: {described['state_label']}, "
        f"due {described['due_on']}{' (overdue)' if described['overdue'] else ''}"
    )
    if described["verification"]:
        console.print(f"  verification: {described['verification']['reason']}")


def _run(as_user: str | None, body: Callable[[Session, Actor, Settings], T]) -> T:
    settings = load_settings()
    with _session(settings) as session:
        return body(session, _actor(session, as_user), settings)


@problem_app.command("raise")
def raise_(
    resource: Annotated[str, typer.Argument(help="Resource code.")],
    field: Annotated[str, typer.Option(help="The field that is wrong.")],
    description: Annotated[str, typer.Option(help="What is wrong.")],
    key_field: Annotated[str | None, typer.Option(help="Key field of the row (omit for the whole field).")] = None,
    key_value: Annotated[str | None, typer.Option(help="Key value of the row.")] = None,
    expected: Annotated[str | None, typer.Option(help="The value it should be.")] = None,
    validator: Annotated[str | None, typer.Option(help="resident_id, uscc or bank_card.")] = None,
    as_user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Raise a problem; the same open problem raised again is reused."""

    def body(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
        problem = problems.raise_problem(
            session, actor, resource_code=resource, field=field, description=description, home=settings.home,
            key_field=key_field, key_value=key_value, expected=expected, validator=validator,
        )  # fmt: skip
        return problem_queries.describe(session, problem, viewer=Viewer(actor, settings))

    _print(_guarded(lambda: _run(as_user, body)), as_json)


@problem_app.command("list")
def list_(
    resource: Annotated[str | None, typer.Option(help="Only this resource.")] = None,
    state: Annotated[WorkState | None, typer.Option(help="Only this state.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only unanswered problems past due.")] = False,
    escalated: Annotated[bool, typer.Option(help="Only escalated problems.")] = False,
    as_user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Problems, soonest deadline first."""

    def body(session: Session, actor: Actor, settings: Settings) -> list[dict[str, Any]]:
        found = problem_queries.list_problems(
            session, actor, resource_code=resource, state=state, escalated=True if escalated else None,
            overdue_on=workdays.china_today() if overdue else None, limit=1000,
        )  # fmt: skip
        viewer = Viewer(actor, settings)
        return [problem_queries.describe(session, p, viewer=viewer) for p in found]

    rows = _guarded(lambda: _run(as_user, body))
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for row in rows:
        _print(row, False)


@problem_app.command("show")
def show(problem_id: int, as_user: AsUser = None, as_json: AsJson = False) -> None:
    """One problem with its steps."""

    def body(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
        viewer = Viewer(actor, settings)
        described = problem_queries.describe(
            session, problem_queries.get_problem(session, actor, problem_id), viewer=viewer
        )
        steps = problem_queries.problem_steps(session, actor, problem_id, settings=settings)
        described["steps"] = [{"action": s.action, "by": s.actor_name, "at": s.at, "note": s.note} for s in steps]
        return described

    described = _guarded(lambda: _run(as_user, body))
    _print(described, as_json)
    if not as_json:
        for step in described["steps"]:
            console.print(f"  {step['at']:%Y-%m-%d %H:%M} {step['action']} by {step['by']} {step['note']}")


@problem_app.command("fixed")
def fixed(
    problem_id: int,
    version: Annotated[int, typer.Option(help="The version that holds the fix.")],
    as_user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Answer "fixed in version N"; exits 1 when the fix does not verify (the item stays open)."""

    def body(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
        problem = problems.answer_fixed(
            session, actor, problem_id=problem_id, version_number=version, home=settings.home
        )
        return problem_queries.describe(session, problem, viewer=Viewer(actor, settings))

    described = _guarded(lambda: _run(as_user, body))
    _print(described, as_json)
    if not described["verified"]:
        raise typer.Exit(1)


@problem_app.command("reject")
def reject(
    problem_id: int,
    reason: Annotated[str, typer.Option(help="Why the data is right.")],
    as_user: AsUser = None,
) -> None:
    """Answer that the data is right, with a reason."""

    def body(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
        problem = problems.answer_rejected(session, actor, problem_id=problem_id, reason=reason)
        return problem_queries.describe(session, problem, viewer=Viewer(actor, settings))

    _print(_guarded(lambda: _run(as_user, body)), False)


@problem_app.command("extend")
def extend(
    problem_id: int,
    reason: Annotated[str, typer.Option(help="Why more time is needed.")],
    as_user: AsUser = None,
    today: Today = None,
) -> None:
    """Extend the deadline once, to 10 working days from raising."""

    def body(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
        problem = problems.extend_deadline(session, actor, problem_id=problem_id, reason=reason, today=_day(today))
        return problem_queries.describe(session, problem, viewer=Viewer(actor, settings))

    _print(_guarded(lambda: _run(as_user, body)), False)


@problem_app.command("escalate")
def escalate(as_user: AsUser = None, today: Today = None, as_json: AsJson = False) -> None:
    """Escalate every unanswered problem past its deadline, once each (run daily)."""

    def body(session: Session, actor: Actor, settings: Settings) -> list[dict[str, Any]]:
        day = _day(today) or workdays.china_today()
        viewer = Viewer(actor, settings)
        found = problems.escalate_overdue(session, actor, today=day)
        return [problem_queries.describe(session, p, day, viewer=viewer) for p in found]

    rows = _guarded(lambda: _run(as_user, body))
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    console.print(f"escalated {len(rows)} problem(s)")
    for row in rows:
        _print(row, False)


@problem_app.command("stats")
def stats(
    department: Annotated[int | None, typer.Option(help="Department id.")] = None,
    as_user: AsUser = None,
    as_json: AsJson = False,
) -> None:
    """Per source department: raised, closed, closed on time, rejected, open, overdue, median working days."""

    def body(session: Session, actor: Actor, settings: Settings) -> list[dict[str, Any]]:
        rows = problem_queries.problem_statistics(session, actor, department_id=department)
        return [row.__dict__ for row in rows]

    rows = _guarded(lambda: _run(as_user, body))
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for row in rows:
        console.print(
            f"department {row['department_id']}: raised {row['raised']}, closed {row['closed']} "
            f"({row['closed_on_time']} on time), rejected {row['rejected']}, open {row['open']}, "
            f"overdue {row['overdue']}, median {row['median_working_days_to_close']} working days"
        )
