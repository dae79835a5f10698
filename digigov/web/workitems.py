"""Work-item pages: the list with filters and an opening form, and one item with its history and moves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.core import workdays, workflow
from digigov.core.auth import allows
from digigov.core.deps import Id, SessionDep
from digigov.core.errors import DigigovError, Invalid
from digigov.core.templating import render
from digigov.identity import service as identity
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)

MAX_ID = 2_147_483_647
Text = Annotated[str, Query(max_length=50, pattern=r"^[^\x00-\x1f]*$")]
Csrf = Annotated[str, Form(max_length=100)]
KINDS = ["问题数据", "监测预警", "双随机检查", "督办指令", "投诉纠纷"]


@router.get("/work-items", response_class=HTMLResponse)
def work_items_page(
    request: Request, session: SessionDep, page: PageDep, state: Text = "", kind: Text = "", overdue: bool = False
) -> Response:
    """Work items the user may see, filtered by state, kind and overdue, with a form to open one."""
    filters = {"state": state, "kind": kind.strip(), "overdue": overdue}
    return _list(request, session, page, filters=filters)


@router.post("/work-items", response_class=HTMLResponse)
def open_item(
    request: Request,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[str, Form(max_length=50)] = "",
    subject: Annotated[str, Form(max_length=300)] = "",
    department_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    due_in_working_days: Annotated[int, Form(ge=0, le=3650)] = 5,
    detail: Annotated[str, Form(max_length=5000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Open an item; a refusal is shown above the form and changes nothing."""
    check_csrf(page, csrf)
    form = {"kind": kind, "subject": subject, "department_id": department_id, "due": due_in_working_days}
    try:
        if department_id is None:
            raise Invalid("Choose the department that must handle the item.", "请选择承办部门。")
        with session.begin_nested():
            item = workflow.open_item(
                session,
                page.actor,
                kind=kind,
                subject=subject,
                department_id=department_id,
                due_in_working_days=due_in_working_days,
                detail=detail,
            )
    except DigigovError as error:
        return _list(request, session, page, error=error, form=form | {"detail": detail})
    return RedirectResponse(f"/work-items/{item.id}?done=open", status_code=303)


@router.get("/work-items/{item_id}", response_class=HTMLResponse)
def work_item_page(request: Request, session: SessionDep, page: PageDep, item_id: Id, done: Text = "") -> Response:
    """One item: its facts, its history with time spent in each state, and the moves open to the user."""
    return _detail(request, session, page, item_id, done=done)


@router.post("/work-items/{item_id}/moves", response_class=HTMLResponse)
def move_item(
    request: Request,
    session: SessionDep,
    page: PageDep,
    item_id: Id,
    action: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    """Apply one transition; an illegal or refused one is shown on the item's page and changes nothing."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            workflow.move_item(session, page.actor, item_id=item_id, action=action, note=note)
    except DigigovError as error:
        return _detail(request, session, page, item_id, error=error, note=note)
    return RedirectResponse(f"/work-items/{item_id}?done={action}", status_code=303)


def _list(
    request: Request,
    session: Session,
    page: Page,
    *,
    filters: dict[str, Any] | None = None,
    error: DigigovError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    filters = filters or {"state": "", "kind": "", "overdue": False}
    today = workdays.china_today()
    items = workflow.list_items(
        session,
        page.actor,
        state=_state(filters["state"]),
        kind=filters["kind"] or None,
        overdue_on=today if filters["overdue"] else None,
    )
    departments = identity.list_departments(session, page.actor)
    context = {
        "items": items,
        "filters": filters,
        "states": list(workflow.WorkState),
        "labels": {state.value: state.label for state in workflow.WorkState},
        "kinds": KINDS,
        "kind_label": workflow.kind_label,
        "today": today,
        "departments": departments,
        "names": {d.id: d.name for d in departments},
        "may_open": allows(page.actor, "workflow.open"),
        "error": error.message_zh if error else None,
        "form": form or {"kind": "", "subject": "", "department_id": None, "due": 5, "detail": ""},
    }
    return render(request, "work_items.html", context, status=error.status if error else 200)


def _state(value: str) -> workflow.WorkState | None:
    if not value:
        return None
    try:
        return workflow.WorkState(value)
    except ValueError:
        known = "、".join(state.value for state in workflow.WorkState)
        raise Invalid(f"State is one of: {known}.", f"状态须为以下之一：{known}。") from None


def _detail(
    request: Request,
    session: Session,
    page: Page,
    item_id: int,
    *,
    done: str = "",
    error: DigigovError | None = None,
    note: str = "",
) -> Response:
    item = workflow.get_item(session, page.actor, item_id)
    context = {
        "item": item,
        "state": workflow.WorkState(item.state),
        "labels": {state.value: state.label for state in workflow.WorkState},
        "steps": workflow.item_steps(session, page.actor, item_id),
        "moves": workflow.MOVES,
        "step_labels": workflow.STEP_LABELS,
        "kind_label": workflow.kind_label,
        "available": workflow.available_moves(page.actor, item),
        "today": workdays.china_today(),
        "names": {d.id: d.name for d in identity.list_departments(session, page.actor)},
        "done": workflow.MOVES[done].label if done in workflow.MOVES else ("发起" if done == "open" else None),
        "error": error.message_zh if error else None,
        "note": note,
        "duration": _duration,
    }
    return render(request, "work_item.html", context, status=error.status if error else 200)


def _duration(seconds: int) -> str:
    """Time spent in a state, for people.

    >>> _duration(0), _duration(59), _duration(3 * 3600 + 125), _duration(2 * 86400 + 3600)
    ('—', '不足 1 分钟', '3 小时 2 分', '2 天 1 小时')
    """
    if seconds <= 0:
        return "—"
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分"
    return f"{minutes} 分钟" if minutes else "不足 1 分钟"
