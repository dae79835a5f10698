"""Portal pages (开放数据, /open): home, search, one resource with its masked preview, downloads, ratings
and comments, and the public data requests. Anyone may read them without signing in; the header is the
portal's, not the staff's. Registration, the account, applications and review are in `account_pages`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from digigov.catalog.vocabulary import OpenType
from digigov.core import workdays
from digigov.core.auth import Actor, allows
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.deps import Id, SessionDep, SettingsDep
from digigov.core.errors import DigigovError, NotFound
from digigov.core.templating import render
from digigov.identity.pages import OptionalPageDep, Page, check_csrf
from digigov.opendata import account_pages, applications, data, feedback, service
from digigov.opendata.account_pages import actor_of, portal_context
from digigov.opendata.api import comment_read, data_request_read
from digigov.opendata.errors import BadFeedback
from digigov.opendata.models import DataRequest, OpenCall
from digigov.opendata.schemas import COMMENT_CHARS, DataRequestAnswer, DataRequestCreate, DataRequestState

router = APIRouter(include_in_schema=False)
router.include_router(account_pages.router)

Csrf = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=5000)]
Values = Annotated[list[Annotated[str, Query(max_length=50)]] | None, Query(max_length=20)]
PAGE_SIZE = 10
FACET_TITLES = {"open_type": "开放类型", "category": "资源分类", "department": "提供部门", "update_cycle": "更新周期"}
DONE = {
    "rated": "评分已保存",
    "commented": "评论已发表",
    "hidden": "评论已隐藏",
    "requested": "数据需求已提交，平台将尽快答复",
    "answered": "已答复该数据需求",
    "applied": "申请已提交，请等待数源部门和平台审核",
}


@router.get("/open", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, page: OptionalPageDep) -> Response:
    """The portal's front page: search, what is open, the newest resources and answered data requests."""
    actor = actor_of(page)
    newest = service.search_open(session, actor, limit=6)
    answered = [r for r in feedback.list_data_requests(session, actor, limit=20) if r.state != "pending"][:4]
    stats = {
        "resources": newest.count,
        "unconditional": dict(newest.facets.get("open_type", [])).get(OpenType.unconditional.value, 0),
        "downloads": session.scalar(select(func.count()).where(OpenCall.kind.in_(service.DOWNLOADS))) or 0,
        "requests": session.scalar(select(func.count()).select_from(DataRequest)) or 0,
    }
    context = portal_context(
        page,
        stats=stats,
        newest=[service.describe(session, r) for r in newest.results],
        answered=[data_request_read(session, r) for r in answered],
    )
    return render(request, "opendata/home.html", context)


@router.get("/open/datasets", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    q: Annotated[str, Query(max_length=200)] = "",
    department: Values = None,
    category: Values = None,
    open_type: Values = None,
    update_cycle: Values = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """Search open data in Chinese with facets (无条件开放 and 受限开放 resources only)."""
    asked = {"department": department, "category": category, "open_type": open_type, "update_cycle": update_cycle}
    chosen = {k: [v for v in values if k != "department" or _is_id(v)] for k, values in asked.items() if values}
    query = q.strip() if q.isprintable() else ""
    found = service.search_open(session, actor_of(page), q=query, filters=chosen, limit=PAGE_SIZE, offset=offset)
    context = portal_context(
        page,
        q=query,
        chosen=chosen,
        offset=offset,
        size=PAGE_SIZE,
        count=found.count,
        results=[service.describe(session, r) for r in found.results],
        facets=service.facet_labels(session, found.facets),
        facet_titles=FACET_TITLES,
    )
    return render(request, "opendata/search.html", context)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 9


# ---- one resource -----------------------------------------------------------------------------------


@router.get("/open/datasets/{code}", response_class=HTMLResponse)
def resource_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: OptionalPageDep,
    code: str,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One open resource: metadata, fields and their masks, the masked preview and downloads (or the 申请
    button of a 受限开放 resource), the rating and comments."""
    return resource_detail(request, session, settings, page, code, done=done)


def resource_detail(
    request: Request,
    session: Session,
    settings: Settings,
    page: Page | None,
    code: str,
    *,
    done: str = "",
    error: DigigovError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    actor = actor_of(page)
    try:
        resource = service.get_open_resource(session, actor, code)
    except NotFound as missing:  # a prohibited resource lands here too, exactly like a mistyped code
        context = portal_context(page, code=code, detail=missing.message_zh)
        return render(request, "opendata/missing.html", context, status=404)
    today = workdays.china_today()
    described = service.describe(session, resource, with_fields=True)
    readable = service.may_read_rows(session, actor, resource, today) and described.version is not None
    running = service.current_application(session, actor.user_id, resource.id, today) if actor.user_id else None
    pending = applications.open_application(session, actor.user_id, resource.id, today) if actor.user_id else None
    context = portal_context(
        page,
        r=described,
        restricted=resource.open_type == OpenType.restricted.value,
        preview=data.preview(session, actor, settings, code=code, today=today) if readable else None,
        readable=readable,
        running=running,
        pending=pending if pending is not None and pending is not running else None,
        mine=feedback.my_rating(session, actor, resource.id),
        comments=[comment_read(session, c) for c in feedback.list_comments(session, actor, code=code)],
        may_moderate=allows(actor, "opendata.feedback.moderate"),
        may_apply=allows(actor, "opendata.application.create"),
        comment_chars=COMMENT_CHARS,
        done=DONE.get(done),
        error=error.message_zh if error else None,
        form=form or {},
    )
    return render(request, "opendata/resource.html", context, status=error.status if error else 200)


@router.get("/open/datasets/{code}/download")
def download_page(
    session: SessionDep,
    settings: SettingsDep,
    page: OptionalPageDep,
    code: str,
    format: Annotated[data.Format, Query()] = "csv",
) -> Response:
    """The newest version, masked, as CSV or JSON (counted); 受限开放 data for approved applicants only."""
    made = data.download(session, actor_of(page), settings, code=code, fmt=format, via="page", now=utcnow())
    cleanup = BackgroundTask(_remove, made.path)
    return FileResponse(made.path, media_type=made.media_type, filename=made.filename, background=cleanup)


def _remove(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


@router.post("/open/datasets/{code}/rating", response_class=HTMLResponse)
def rate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: OptionalPageDep,
    code: str,
    stars: Annotated[str, Form(max_length=2)] = "",
    csrf: Csrf = "",
) -> Response:
    """Give (or change) one's 1-5 star rating."""
    return _posted(
        request,
        session,
        settings,
        page,
        code,
        csrf,
        "rated",
        lambda a: feedback.rate(session, a, code=code, stars=int(stars) if stars.isdigit() else 0),
    )


@router.post("/open/datasets/{code}/comments", response_class=HTMLResponse)
def comment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: OptionalPageDep,
    code: str,
    body: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Post a plain-text comment; a refusal shows above the form with what was written."""
    return _posted(
        request,
        session,
        settings,
        page,
        code,
        csrf,
        "commented",
        lambda a: feedback.add_comment(session, a, code=code, body=body),
        form={"body": body},
    )


@router.post("/open/comments/{comment_id}/hide", response_class=HTMLResponse)
def hide_comment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: OptionalPageDep,
    comment_id: Id,
    code: Annotated[str, Form(max_length=64)] = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Hide a comment, with a reason (moderators)."""
    return _posted(
        request,
        session,
        settings,
        page,
        code,
        csrf,
        "hidden",
        lambda a: feedback.hide_comment(session, a, comment_id=comment_id, reason=reason),
    )


def _posted(
    request: Request,
    session: Session,
    settings: Settings,
    page: Page | None,
    code: str,
    csrf: str,
    done: str,
    act: Callable[[Actor], object],
    form: dict[str, str] | None = None,
) -> Response:
    """Run one feedback action for the signed-in user, then show the resource page (with the refusal, if any)."""
    if page is None:
        return RedirectResponse(f"/login?next=/open/datasets/{code}", status_code=303)
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            act(page.actor)
    except DigigovError as error:
        return resource_detail(request, session, settings, page, code, error=error, form=form)
    return RedirectResponse(f"/open/datasets/{code}?done={done}#feedback", status_code=303)


@router.get("/open/developers", response_class=HTMLResponse)
def developers_page(request: Request, settings: SettingsDep, page: OptionalPageDep) -> Response:
    """How to call the portal's API: which calls need a key, the daily quota, an example."""
    context = portal_context(page, quota=settings.open_daily_quota, base=str(request.base_url).rstrip("/"))
    return render(request, "opendata/developers.html", context)


# ---- data requests (数据需求) -----------------------------------------------------------------------


@router.get("/open/requests", response_class=HTMLResponse)
def requests_page(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    state: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Data requests and the platform's answers, newest first; the form for signed-in users."""
    return _requests(request, session, page, state=state, done=done)


def _requests(
    request: Request,
    session: Session,
    page: Page | None,
    *,
    state: str = "",
    done: str = "",
    error: DigigovError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    actor = actor_of(page)
    chosen = DataRequestState(state) if state in {s.value for s in DataRequestState} else None
    found = feedback.list_data_requests(session, actor, state=chosen, limit=100)
    context = portal_context(
        page,
        requests=[data_request_read(session, r) for r in found],
        state=chosen.value if chosen else "",
        states=list(DataRequestState),
        may_answer=allows(actor, "opendata.feedback.moderate"),
        done=DONE.get(done),
        error=error.message_zh if error else None,
        form=form or {},
    )
    return render(request, "opendata/requests.html", context, status=error.status if error else 200)


@router.post("/open/requests", response_class=HTMLResponse)
def request_data(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    title: Annotated[str, Form(max_length=500)] = "",
    description: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Submit a data request; a refusal shows above the form, nothing changes."""
    if page is None:
        return RedirectResponse("/login?next=/open/requests", status_code=303)
    check_csrf(page, csrf)
    form = {"title": title, "description": description}
    try:
        body = _validated(DataRequestCreate, form)
        with session.begin_nested():
            feedback.request_data(session, page.actor, body)
    except DigigovError as error:
        return _requests(request, session, page, error=error, form=form)
    return RedirectResponse("/open/requests?done=requested", status_code=303)


@router.post("/open/requests/{request_id}/answer", response_class=HTMLResponse)
def answer_request(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    request_id: Id,
    accept: Annotated[str, Form(max_length=5)] = "",
    reason: Text = "",
    resource_code: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    """The platform accepts or declines a data request, with its reason."""
    if page is None:
        return RedirectResponse("/login?next=/open/requests", status_code=303)
    check_csrf(page, csrf)
    values = {"accept": accept == "true", "reason": reason, "resource_code": resource_code.strip() or None}
    try:
        answer = _validated(DataRequestAnswer, values)
        with session.begin_nested():
            feedback.answer_data_request(session, page.actor, request_id=request_id, answer=answer)
    except DigigovError as error:
        return _requests(request, session, page, error=error)
    return RedirectResponse("/open/requests?done=answered", status_code=303)


def _validated(model: Any, values: dict[str, Any]) -> Any:
    """A form's values through the API's schema; a refusal names what to fix, in Chinese."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        names = "、".join(
            dict.fromkeys(LABELS.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors() if e["loc"])
        )
        raise BadFeedback(f"Check these entries: {names}.", f"请检查以下填写项：{names}。") from None


LABELS = {"title": "需求名称", "description": "需求说明", "reason": "答复理由", "resource_code": "数据资源代码"}
