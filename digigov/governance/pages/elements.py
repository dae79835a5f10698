"""Governance pages (Chinese): the data-element dictionary, an element's page, a code table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.catalog.vocabulary import FieldType
from digigov.core.auth import allows
from digigov.core.config import Settings
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.governance import codetables, conflicts, elements
from digigov.governance.models import DataElement
from digigov.governance.rows import Viewer
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)

VALIDATORS = {
    "resident_id": "公民身份号码校验（GB 11643）",
    "uscc": "统一社会信用代码校验（GB 32100）",
    "bank_card": "银行卡号 Luhn 校验",
}
LEVELS = {
    "province": "省级",
    "city": "地级",
    "county": "县级",
    "section": "门类",
    "division": "大类",
    "group": "中类",
    "class": "小类",
}
PAGE_SIZE = 100
Short = Annotated[str, Query(max_length=100)]


def _labels() -> dict[str, Any]:
    return {"types": {t.value: t.label for t in FieldType}, "validators": VALIDATORS, "levels": LEVELS}


@router.get("/governance/elements", response_class=HTMLResponse)
def dictionary_page(request: Request, session: SessionDep, page: PageDep, q: Short = "") -> Response:
    """The data-element dictionary with search."""
    found = elements.list_elements(session, page.actor, q=q)
    sources = {e.id: elements.source_resource(session, e) for e in found}
    tables = codetables.list_code_tables(session, page.actor)
    context = {"q": q, "elements": found, "sources": sources, "tables": tables, "slug": codetables.slug, **_labels()}
    return render(request, "governance/elements.html", context)


@router.get("/governance/elements/{identifier}", response_class=HTMLResponse)
def element_page(
    request: Request, session: SessionDep, page: PageDep, settings: SettingsDep, identifier: str, done: str = ""
) -> Response:
    """An element: definition, standard, code table, authoritative source, usage and the latest conflicts."""
    element = elements.get_element(session, page.actor, identifier)
    context = _element_context(session, page, settings, element) | {"done": done}
    return render(request, "governance/element.html", context)


def _element_context(session: Session, page: Page, settings: Settings, element: DataElement) -> dict[str, Any]:
    """The element page's context; conflicts are masked for the viewer as each side's rows are."""
    runs = conflicts.latest_conflicts(session, page.actor, element=element.identifier)
    viewer = Viewer(page.actor, settings)
    return {
        "e": element,
        "source": elements.source_resource(session, element),
        "usage": elements.element_usage(session, page.actor, element=element.identifier),
        "runs": [
            (run, conflicts.resource_codes(session, run), conflicts.shown_sample(session, run, viewer)) for run in runs
        ],
        "keys": [k for k in elements.list_elements(session, page.actor) if k.identifier != element.identifier],
        "slug": codetables.slug,
        "can_check": allows(page.actor, "governance.conflict.check"),
        "can_replace": allows(page.actor, "governance.element.edit"),
        "may_source": lambda resource: allows(page.actor, "governance.element.source", resource),
        **_labels(),
    }


@router.post("/governance/elements/{identifier}/{action}", response_class=HTMLResponse)
def element_action(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    identifier: str,
    action: str,
    resource_code: Annotated[str, Form(max_length=64)] = "",
    field: Annotated[str, Form(max_length=100)] = "",
    replace: Annotated[bool, Form()] = False,
    key_element: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Name the authoritative source or compare sources; a refusal is shown on the element's page."""
    check_csrf(page, csrf)
    steps: dict[str, Callable[[], object]] = {
        "source": lambda: elements.set_authoritative_source(
            session, page.actor, element=identifier, resource_code=resource_code, field=field, replace=replace
        ),
        "conflicts": lambda: conflicts.find_conflicts(
            session, page.actor, home=settings.home, element=identifier, key_element=key_element
        ),
    }
    if action not in steps:
        return render(request, "error.html", {"status": 404, "detail": "未知操作。"}, status=404)
    try:
        with session.begin_nested():
            steps[action]()
    except DigigovError as error:
        element = elements.get_element(session, page.actor, identifier)
        context = _element_context(session, page, settings, element) | {"error": error.message_zh, "done": ""}
        return render(request, "governance/element.html", context, status=error.status)
    return RedirectResponse(f"/governance/elements/{identifier}?done={action}", status_code=303)


def _in_order(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: list(LEVELS).index(item[0]) if item[0] in LEVELS else 99))


@router.get("/governance/code-tables/{slug}", response_class=HTMLResponse)
def code_table_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    slug: str,
    q: Short = "",
    parent: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """A code table's codes, searchable, narrowed to the children of a parent code, a page at a time."""
    table = codetables.get_code_table(session, page.actor, slug)
    values, matched = codetables.list_code_values(
        session, page.actor, table=table.name, q=q, parent=parent or None, limit=PAGE_SIZE, offset=offset
    )
    context = {
        "t": table,
        "slug": codetables.slug(table.name),
        "levels_found": _in_order(codetables.level_counts(session, table)),
        "values": values,
        "matched": matched,
        "q": q,
        "parent": parent,
        "offset": offset,
        "size": PAGE_SIZE,
        **_labels(),
    }
    return render(request, "governance/code_table.html", context)
