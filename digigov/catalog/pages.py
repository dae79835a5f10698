"""Catalog pages: search with facets, a resource's page, and the reviewers' queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.catalog import search, service
from digigov.catalog.models import Resource
from digigov.catalog.search import FACETS
from digigov.core.auth import allows
from digigov.core.deps import SessionDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.identity.pages import Page, PageDep, check_csrf
from digigov.identity.service import list_departments

router = APIRouter(include_in_schema=False)

FACET_TITLES = {
    "department": "数源部门",
    "category": "资源属性",
    "share_type": "共享类型",
    "open_type": "开放类型",
    "grade": "分级",
    "update_cycle": "更新周期",
    "state": "状态",
}
PAGE_SIZE = 20
Values = Annotated[list[Annotated[str, Query(max_length=50)]] | None, Query(max_length=20)]


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str, Query(max_length=200)] = "",
    department: Values = None,
    category: Values = None,
    share_type: Values = None,
    open_type: Values = None,
    grade: Values = None,
    update_cycle: Values = None,
    state: Values = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Search the catalog; facet links narrow the match."""
    chosen = {
        "department": department or [],
        "category": category or [],
        "share_type": share_type or [],
        "open_type": open_type or [],
        "grade": grade or [],
        "update_cycle": update_cycle or [],
        "state": state or [],
    }
    found = search.search_resources(
        session, page.actor, q=q, filters={k: v for k, v in chosen.items() if v}, limit=PAGE_SIZE, offset=offset
    )
    names = _department_names(session, page)
    facets = {
        facet: [
            (value, names.get(value, value) if facet == "department" else search.facet_label(facet, value), n)
            for value, n in counts
        ]
        for facet, counts in found.facets.items()
    }
    context = {
        "L": search.facet_label,
        "q": q,
        "found": found,
        "facets": facets,
        "chosen": chosen,
        "titles": FACET_TITLES,
        "order": FACETS,
        "names": names,
        "offset": offset,
        "size": PAGE_SIZE,
    }
    return render(request, "catalog/search.html", context)


def _department_names(session: Session, page: Page) -> dict[str, str]:
    return {str(d.id): d.name for d in list_departments(session, page.actor)}


@router.get("/catalog/review", response_class=HTMLResponse)
def review_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """The reviewers' queue: submitted resources and proposed changes."""
    queue = service.review_queue(session, page.actor)
    return render(request, "catalog/review.html", {"queue": queue, "names": _department_names(session, page)})


@router.get("/catalog/{code}", response_class=HTMLResponse)
def resource_page(request: Request, session: SessionDep, page: PageDep, code: str, done: str = "") -> Response:
    """A resource: metadata, fields, completeness, and the review actions the user may take."""
    resource = service.get_resource(session, page.actor, code)
    context = _resource_context(session, page, resource) | {"done": done}
    return render(request, "catalog/resource.html", context)


def _resource_context(session: Session, page: Page, resource: Resource) -> dict[str, Any]:
    return {
        "L": search.facet_label,
        "r": resource,
        "score": search.completeness(resource),
        "names": _department_names(session, page),
        "can_edit": allows(page.actor, "catalog.resource.edit", resource),
        "can_review": allows(page.actor, "catalog.resource.review"),
        # the sharing domain's action (catalog only names it): another department's published resource
        "can_request_share": resource.state == "published"
        and resource.share_type != "none"
        and page.actor.department_id is not None
        and resource.department_id not in page.actor.departments
        and allows(page.actor, "sharing.request.create"),
    }


@router.post("/catalog/{code}/{action}", response_class=HTMLResponse)
def resource_action(
    request: Request,
    session: SessionDep,
    page: PageDep,
    code: str,
    action: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Submit, publish, return or withdraw; a refusal is shown on the resource page."""
    check_csrf(page, csrf)
    steps = {
        "submit": lambda: service.submit_resource(session, page.actor, code=code),
        "publish": lambda: service.publish_resource(session, page.actor, code=code),
        "return": lambda: service.return_resource(session, page.actor, code=code, reason=reason.strip()),
        "withdraw": lambda: service.withdraw_resource(session, page.actor, code=code, reason=reason.strip()),
    }
    if action not in steps:
        return render(request, "error.html", {"status": 404, "detail": "未知操作。"}, status=404)
    try:
        if action in {"return", "withdraw"} and not reason.strip():
            raise DigigovError("A reason is required.", "请填写理由。")
        with session.begin_nested():
            steps[action]()
    except DigigovError as error:
        resource = service.get_resource(session, page.actor, code)
        context = _resource_context(session, page, resource) | {"error": error.message_zh, "done": ""}
        return render(request, "catalog/resource.html", context, status=error.status)
    return RedirectResponse(f"/catalog/{code}?done={action}", status_code=303)
