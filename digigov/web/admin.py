"""Administration pages: departments and users (platform administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.core.auth import Role, require
from digigov.core.deps import SessionDep
from digigov.core.errors import DigigovError, Invalid
from digigov.core.templating import render
from digigov.identity import service
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)

MAX_ID = 2_147_483_647
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
FormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
Csrf = Annotated[str, Form(max_length=100)]


# ---- departments ------------------------------------------------------------------------


@router.get("/admin/departments", response_class=HTMLResponse)
def departments_page(request: Request, session: SessionDep, page: PageDep, created: OptionalId = None) -> Response:
    """Every department, and a form to create one."""
    require(page.actor, "identity.department.create")
    return _departments(request, session, page, created=created)


@router.post("/admin/departments", response_class=HTMLResponse)
def create_department(
    request: Request,
    session: SessionDep,
    page: PageDep,
    code: Annotated[str, Form(max_length=50)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    parent_id: FormId = None,
    csrf: Csrf = "",
) -> Response:
    """Create a department; a refusal is shown above the form and changes nothing."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            department = service.create_department(
                session, page.actor, code=code, name=name, region_code=region_code, parent_id=parent_id
            )
    except DigigovError as error:
        form = {"code": code, "name": name, "region_code": region_code, "parent_id": parent_id}
        return _departments(request, session, page, error=error, form=form)
    return RedirectResponse(f"/admin/departments?created={department.id}", status_code=303)


def _departments(
    request: Request,
    session: Session,
    page: Page,
    *,
    created: int | None = None,
    error: DigigovError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    departments = service.list_departments(session, page.actor)
    regions = service.list_regions(session, page.actor)
    context = {
        "departments": departments,
        "names": {d.id: d.name for d in departments},
        "region_names": {r.code: r.name for r in regions},
        "regions": [r for r in regions if r.current],
        "created": next((d for d in departments if d.id == created), None),
        "error": error.message_zh if error else None,
        "form": form or {},
    }
    return render(request, "admin_departments.html", context, status=error.status if error else 200)


# ---- users ------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, page: PageDep, created: OptionalId = None) -> Response:
    """Every user, a form to create one, and buttons to disable or enable."""
    require(page.actor, "identity.user.create")
    return _users(request, session, page, created=created)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: SessionDep,
    page: PageDep,
    username: Annotated[str, Form(max_length=50)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    department_id: FormId = None,
    roles: Annotated[list[str] | None, Form(max_length=20)] = None,
    csrf: Csrf = "",
) -> Response:
    """Create a user with roles; a refusal is shown above the form and changes nothing."""
    check_csrf(page, csrf)
    form = {"username": username, "display_name": display_name, "department_id": department_id, "roles": roles or []}
    try:
        with session.begin_nested():
            user = service.create_user(
                session,
                page.actor,
                username=username,
                display_name=display_name,
                password=password,
                department_id=department_id,
                roles=_parse_roles(roles or []),
            )
    except DigigovError as error:
        return _users(request, session, page, error=error, form=form)
    return RedirectResponse(f"/admin/users?created={user.id}", status_code=303)


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
def set_user_active(
    request: Request,
    session: SessionDep,
    page: PageDep,
    user_id: int,
    active: Annotated[bool, Form()],
    csrf: Csrf = "",
) -> Response:
    """Disable or enable a user."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            service.set_user_active(session, page.actor, user_id=user_id, active=active)
    except DigigovError as error:
        return _users(request, session, page, error=error)
    return RedirectResponse("/admin/users", status_code=303)


def _parse_roles(values: list[str]) -> list[Role]:
    try:
        return [Role(value) for value in values]
    except ValueError:
        known = "、".join(role.value for role in Role)
        raise Invalid(f"Roles are among: {known}.", f"角色须为以下之一：{known}。") from None


def _users(
    request: Request,
    session: Session,
    page: Page,
    *,
    created: int | None = None,
    error: DigigovError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    users = service.list_users(session, page.actor)
    departments = service.list_departments(session, page.actor)
    context = {
        "users": users,
        "departments": departments,
        "names": {d.id: d.name for d in departments},
        "roles": list(Role),
        "Role": Role,
        "created": next((u for u in users if u.id == created), None),
        "error": error.message_zh if error else None,
        "form": form or {"roles": []},
    }
    return render(request, "admin_users.html", context, status=error.status if error else 200)
