"""Datastore pages: a resource's versions, ingestion report, preview, downloads, and the upload form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.core.auth import allows
from digigov.core.config import Settings
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.datastore import versions
from digigov.datastore.query import RowQuery
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 20


@router.get("/catalog/{code}/data", response_class=HTMLResponse)
def data_page(
    request: Request, code: str, session: SessionDep, page: PageDep, settings: SettingsDep, done: int | None = None
) -> Response:
    """Versions with their ingestion reports, a preview of the newest, downloads, and the upload form."""
    return _render(request, session, page, settings, code, done=done)


def _render(
    request: Request,
    session: Session,
    page: Page,
    settings: Settings,
    code: str,
    *,
    done: int | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    resource = get_resource(session, page.actor, code)
    history = versions.list_versions(session, page.actor, code)
    preview, preview_error = None, None
    if history:
        try:
            _, preview = versions.query_rows(
                session,
                page.actor,
                settings,
                resource_code=code,
                number=history[0].number,
                query=RowQuery(limit=PREVIEW_ROWS),
            )
        except DigigovError as refused:
            preview_error = refused.message_zh
    context = {
        "r": resource,
        "versions": history,
        "preview": preview,
        "preview_error": preview_error,
        "done": done,
        "error": error,
        "can_upload": allows(page.actor, "catalog.resource.edit", resource),
    }
    return render(request, "datastore/data.html", context, status=status)


@router.post("/catalog/{code}/data", response_class=HTMLResponse)
def upload(
    request: Request,
    code: str,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    sheet: Annotated[str, Form(max_length=100)] = "",
    allow_schema_change: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Ingest an upload; the report shows on the page, a refusal above the form with nothing changed.

    A plain form post gets a 303 to the report. An htmx post (the page's script, showing upload
    progress) gets the report page itself and its address in HX-Push-Url, because the browser
    would follow a redirect silently and leave the address bar on the form.
    """
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            version = versions.ingest_file(
                session,
                page.actor,
                home=settings.home,
                resource_code=code,
                upload=file.file,
                filename=file.filename or "upload",
                sheet=sheet or None,
                allow_schema_change=allow_schema_change,
            )
    except DigigovError as refused:
        return _render(request, session, page, settings, code, error=refused.message_zh, status=refused.status)
    report_url = f"/catalog/{code}/data?done={version.number}"
    if "hx-request" not in request.headers:
        return RedirectResponse(report_url, status_code=303)
    response = _render(request, session, page, settings, code, done=version.number)
    response.headers["HX-Push-Url"] = report_url
    return response
