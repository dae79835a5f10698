"""Problem-data pages (问题数据): raise from a resource, the list, one item with its answer form, statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.core import workdays, workflow
from digigov.core.auth import allows
from digigov.core.config import Settings
from digigov.core.deps import Id, SessionDep, SettingsDep
from digigov.core.errors import DigigovError, Invalid
from digigov.core.templating import render
from digigov.core.workflow import WorkState
from digigov.datastore import latest_version
from digigov.governance import problem_checks, problem_queries, problems
from digigov.governance.rows import Viewer
from digigov.identity import get_department
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=100)]
Short = Annotated[str, Form(max_length=200)]
SOURCE_LABELS = {"consumer": "使用方反馈", "rule": "质量规则", "conflict": "一数一源比对"}


def _optional(text: str) -> str | None:
    return text.strip() or None


@router.get("/catalog/{code}/problems/new", response_class=HTMLResponse)
def new_problem_page(request: Request, session: SessionDep, page: PageDep, code: str) -> Response:
    """The form to raise a problem against this resource."""
    return _new(request, session, page, code, form={})


def _new(
    request: Request,
    session: Session,
    page: Page,
    code: str,
    *,
    form: dict[str, str],
    error: DigigovError | None = None,
) -> Response:
    resource = get_resource(session, page.actor, code)
    version = latest_version(session, resource.id)
    context = {
        "r": resource,
        "version": version,
        "columns": [c["name"] for c in version.columns] if version else [],
        "validators": problem_checks.VALIDATOR_LABELS,
        "form": form,
        "may_raise": allows(page.actor, "governance.problem.raise"),
        "error": error.message_zh if error else None,
    }
    return render(request, "governance/problem_new.html", context, status=error.status if error else 200)


@router.post("/catalog/{code}/problems/new", response_class=HTMLResponse)
def raise_problem(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    code: str,
    field: Annotated[str, Form(max_length=100)] = "",
    key_field: Annotated[str, Form(max_length=100)] = "",
    key_value: Short = "",
    expected: Short = "",
    validator: Annotated[str, Form(max_length=20)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Raise the problem; a refusal is shown above the form with what was typed."""
    check_csrf(page, csrf)
    form = {"field": field, "key_field": key_field, "key_value": key_value, "expected": expected}
    form |= {"validator": validator, "description": description}
    try:
        with session.begin_nested():
            problem = problems.raise_problem(
                session, page.actor, resource_code=code, field=field, description=description, home=settings.home,
                key_field=_optional(key_field), key_value=_optional(key_value), expected=_optional(expected),
                validator=_optional(validator),
            )  # fmt: skip
    except DigigovError as error:
        return _new(request, session, page, code, form=form, error=error)
    return RedirectResponse(f"/governance/problems/{problem.id}?done=raise", status_code=303)


@router.get("/governance/problems", response_class=HTMLResponse)
def problems_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=20)] = "",
    overdue: bool = False,
    escalated: bool = False,
) -> Response:
    """Problems the user may see, soonest deadline first; overdue ones marked."""
    today = workdays.china_today()
    found = problem_queries.list_problems(
        session,
        page.actor,
        state=_state(state),
        overdue_on=today if overdue else None,
        escalated=True if escalated else None,
        limit=500,
    )
    viewer = Viewer(page.actor, settings)
    context = {
        "rows": [problem_queries.describe(session, p, today, viewer=viewer) for p in found],
        "filters": {"state": state, "overdue": overdue, "escalated": escalated},
        "states": list(WorkState),
        "names": _names(session, {p.department_id for p in found}),
        "sources": SOURCE_LABELS,
    }
    return render(request, "governance/problems.html", context)


def _state(value: str) -> WorkState | None:
    if not value:
        return None
    try:
        return WorkState(value)
    except ValueError:
        known = "、".join(s.value for s in WorkState)
        raise Invalid(f"State is one of: {known}.", f"状态须为以下之一：{known}。") from None


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    return {i: get_department(session, i).name for i in ids}


@router.get("/governance/problems/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """Per source department: raised, closed, on time, rejected, open, overdue, median working days."""
    rows = problem_queries.problem_statistics(session, page.actor)
    context = {"rows": rows, "names": _names(session, {r.department_id for r in rows})}
    return render(request, "governance/problem_stats.html", context)


@router.get("/governance/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    problem_id: Id,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One problem: what, where, deadline, steps, the answer and its verification, and the answer form."""
    return _detail(request, session, page, settings, problem_id, done=done)


def _detail(
    request: Request,
    session: Session,
    page: Page,
    settings: Settings,
    problem_id: int,
    *,
    done: str = "",
    error: DigigovError | None = None,
) -> Response:
    problem = problem_queries.get_problem(session, page.actor, problem_id)
    item = problem_queries.problem_item(session, problem)
    described = problem_queries.describe(session, problem, viewer=Viewer(page.actor, settings))
    context: dict[str, Any] = {
        "p": described,
        "department": get_department(session, problem.department_id).name,
        "steps": problem_queries.problem_steps(session, page.actor, problem_id, settings=settings),
        "step_labels": workflow.STEP_LABELS,
        "state_labels": {s.value: s.label for s in WorkState},
        "sources": SOURCE_LABELS,
        "validators": problem_checks.VALIDATOR_LABELS,
        "may_answer": described["state"] in problem_queries.AWAITING
        and allows(page.actor, "governance.problem.answer", item),
        "done": {"raise": "提出", "fixed": "提交整改", "rejected": "答复不予整改", "extend": "延期"}.get(done),
        "error": error.message_zh if error else None,
    }
    return render(request, "governance/problem.html", context, status=error.status if error else 200)


@router.post("/governance/problems/{problem_id}/{answer}", response_class=HTMLResponse)
def answer_problem(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    problem_id: Id,
    answer: str,
    version_number: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Fixed in a version, rejected, or extended; a refusal is shown on the problem's page."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            _answer(session, page, settings.home, problem_id, answer, version_number, reason)
    except DigigovError as error:
        return _detail(request, session, page, settings, problem_id, error=error)
    return RedirectResponse(f"/governance/problems/{problem_id}?done={answer}", status_code=303)


def _answer(
    session: Session, page: Page, home: Any, problem_id: int, answer: str, version: int | None, reason: str
) -> None:
    if answer == "fixed":
        if version is None:
            raise Invalid("Name the version that holds the fix.", "请填写体现整改的数据版本号。")
        problems.answer_fixed(session, page.actor, problem_id=problem_id, version_number=version, home=home)
    elif answer == "rejected":
        problems.answer_rejected(session, page.actor, problem_id=problem_id, reason=reason)
    elif answer == "extend":
        problems.extend_deadline(session, page.actor, problem_id=problem_id, reason=reason)
    else:
        raise Invalid(f"Unknown answer '{answer}'.", f"未知的答复“{answer}”。")
