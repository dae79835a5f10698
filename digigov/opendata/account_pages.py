"""Portal account pages: registration, one's account (profile, API keys, applications, data requests),
the application form for 受限开放 data, one application with its decision forms, and the staff's queue."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.auth import PUBLIC, Actor, InDepartment, allows
from digigov.core.config import Settings
from digigov.core.deps import Id, SessionDep, SettingsDep
from digigov.core.errors import DigigovError, Forbidden, Invalid
from digigov.core.templating import render
from digigov.identity.models import User
from digigov.identity.pages import OptionalPageDep, Page, PageDep, check_csrf
from digigov.identity.sessions import csrf_matches_token
from digigov.opendata import accounts, applications, feedback, service
from digigov.opendata.api import data_request_read
from digigov.opendata.models import Application, DataRequest
from digigov.opendata.schemas import (
    MAX_DAYS,
    ApplicationCreate,
    ApplicationState,
    Decision,
    ProfileKind,
    RegistrationCreate,
)

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=100)]
Line = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=5000)]
REGISTER_COOKIE = "digigov_open_register"
LABELS = {
    "username": "用户名（字母、数字、“_”或“.”）",
    "display_name": "姓名或称呼",
    "password": "密码",
    "kind": "用户类型",
    "organisation": "企业名称或所在机构",
    "uscc": "统一社会信用代码",
    "contact": "联系方式",
    "purpose": "用途说明",
    "commitment": "数据安全承诺",
    "days": f"使用期限（1 至 {MAX_DAYS} 天）",
    "reason": "意见",
}
DONE = {
    "source-approve": "同意（数源部门），已转平台审核",
    "source-refuse": "驳回（数源部门）",
    "platform-approve": "同意（平台），申请人现在可以预览和下载",
    "platform-refuse": "驳回（平台）",
    "registered": "注册成功",
    "applied": "申请已提交，请等待数源部门和平台审核",
    "revoked": "API 密钥已吊销",
}


def _invalid(error: ValidationError) -> Invalid:
    names = list(dict.fromkeys(str(e["loc"][0]) for e in error.errors() if e["loc"]))
    return Invalid(
        f"Check these entries: {', '.join(names)}.",
        f"请检查以下填写项：{'、'.join(LABELS.get(n, n) for n in names)}。",
    )


def actor_of(page: Page | None) -> Actor:
    """The signed-in user, or the anonymous public."""
    return page.actor if page else PUBLIC


def portal_context(page: Page | None, **values: Any) -> dict[str, Any]:
    """A portal page's values and what its header and forms need: may one give feedback, is one staff."""
    actor = actor_of(page)
    return {
        "may_feedback": page is not None and allows(actor, "opendata.feedback"),
        "staff": page is not None and actor.department_id is not None,
        "may_review": page is not None
        and (
            allows(actor, "opendata.application.approve_source")
            or allows(actor, "opendata.application.approve_platform")
        ),
    } | values


# ---- registration -----------------------------------------------------------------------------------


@router.get("/open/register", response_class=HTMLResponse)
def register_page(request: Request, settings: SettingsDep, page: OptionalPageDep) -> Response:
    """The registration form for enterprises and researchers."""
    if page is not None:
        return RedirectResponse("/open/account", status_code=303)
    return _register_form(request, settings, form={"kind": "enterprise"})


def _register_form(
    request: Request, settings: Settings, *, form: dict[str, str], error: DigigovError | None = None
) -> Response:
    # Visitors have no session yet: the form's token is checked against a cookie of its own (as sign-in does).
    token = secrets.token_urlsafe(32)
    shown = error.message_zh if error else None
    context = portal_context(None, csrf=token, form=form, kinds=list(ProfileKind), error=shown)
    response = render(request, "opendata/register.html", context, status=error.status if error else 200)
    response.set_cookie(
        REGISTER_COOKIE, token, httponly=True, secure=settings.cookie_secure, samesite="strict", path="/open"
    )
    return response


@router.post("/open/register", response_class=HTMLResponse)
def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Line = "",
    display_name: Line = "",
    password: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    organisation: Line = "",
    uscc: Line = "",
    contact: Line = "",
    csrf: Csrf = "",
) -> Response:
    """Create the account and its profile, then sign in; a refusal re-shows the form (never the password)."""
    form = {"username": username, "display_name": display_name, "kind": kind}
    form |= {"organisation": organisation, "uscc": uscc, "contact": contact}
    try:
        if not csrf_matches_token(request.cookies.get(REGISTER_COOKIE, ""), csrf):
            raise Forbidden("The form expired; fill it in again.", "表单已过期，请重新填写。")
        body = _registration(form | {"password": password})
        with session.begin_nested():
            accounts.register(session, PUBLIC, body)
    except DigigovError as error:
        return _register_form(request, settings, form=form, error=error)
    response = RedirectResponse("/login?next=/open/account%3Fdone%3Dregistered", status_code=303)
    response.delete_cookie(REGISTER_COOKIE, path="/open")
    return response


def _registration(values: dict[str, str]) -> RegistrationCreate:
    body: dict[str, Any] = dict(values)
    body["uscc"] = values["uscc"].strip() or None if values["kind"] == ProfileKind.enterprise.value else None
    try:
        return RegistrationCreate.model_validate(body)
    except ValidationError as error:
        raise _invalid(error) from None


# ---- one's account ----------------------------------------------------------------------------------


@router.get("/open/account", response_class=HTMLResponse)
def account_page(
    request: Request, session: SessionDep, page: PageDep, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """The signed-in user's profile, API keys, applications and data requests."""
    return _account(request, session, page, done=done)


def _account(
    request: Request,
    session: Session,
    page: Page,
    *,
    done: str = "",
    secret: str | None = None,
    error: DigigovError | None = None,
) -> Response:
    actor = page.actor
    profile = accounts.get_profile(session, actor.user_id)
    today = workdays.china_today()
    mine = [a for a in applications.list_applications(session, actor, today=today) if a.user_id == actor.user_id]
    asked = session.scalars(
        select(DataRequest).where(DataRequest.user_id == actor.user_id).order_by(DataRequest.id.desc())
    )
    user = session.get_one(User, actor.user_id)
    context = portal_context(
        page,
        profile=accounts.profile_read(user, profile) if profile else None,
        keys=accounts.list_api_keys(session, actor),
        quota=request.app.state.settings.open_daily_quota,
        applications=[applications.application_read(session, a, today) for a in mine],
        requests=[data_request_read(session, r) for r in asked],
        secret=secret,
        done=DONE.get(done),
        error=error.message_zh if error else None,
    )
    response = render(request, "opendata/account.html", context, status=error.status if error else 200)
    if secret:
        response.headers["Cache-Control"] = "no-store"  # the key is shown once; keep it out of caches
    return response


@router.post("/open/account/keys", response_class=HTMLResponse)
def create_key(
    request: Request, session: SessionDep, settings: SettingsDep, page: PageDep, csrf: Csrf = ""
) -> Response:
    """Create a portal API key and show it this once."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            _, secret = accounts.create_api_key(session, page.actor, settings)
    except DigigovError as error:
        return _account(request, session, page, error=error)
    return _account(request, session, page, secret=secret)


@router.post("/open/account/keys/{token_id}/revoke", response_class=HTMLResponse)
def revoke_key(session: SessionDep, page: PageDep, token_id: Id, csrf: Csrf = "") -> Response:
    """Revoke one of one's API keys."""
    check_csrf(page, csrf)
    accounts.revoke_api_key(session, page.actor, token_id=token_id)
    return RedirectResponse("/open/account?done=revoked", status_code=303)


# ---- applications for 受限开放 data -------------------------------------------------------------------


@router.get("/open/datasets/{code}/apply", response_class=HTMLResponse)
def apply_page(request: Request, session: SessionDep, page: PageDep, code: str) -> Response:
    """The application form for a 受限开放 resource."""
    return _apply_form(request, session, page, code, form={"days": "90"})


def _apply_form(
    request: Request,
    session: Session,
    page: Page,
    code: str,
    *,
    form: dict[str, Any],
    error: DigigovError | None = None,
) -> Response:
    resource = service.get_open_resource(session, page.actor, code)
    user_id = page.actor.user_id
    context = portal_context(
        page,
        r=service.describe(session, resource),
        existing=applications.open_application(session, user_id, resource.id, workdays.china_today())
        if user_id
        else None,
        profile=accounts.get_profile(session, page.actor.user_id),
        form=form,
        max_days=MAX_DAYS,
        error=error.message_zh if error else None,
    )
    return render(request, "opendata/apply.html", context, status=error.status if error else 200)


@router.post("/open/datasets/{code}/apply", response_class=HTMLResponse)
def apply(
    request: Request,
    session: SessionDep,
    page: PageDep,
    code: str,
    purpose: Text = "",
    commitment: Annotated[str, Form(max_length=5)] = "",
    days: Annotated[str, Form(max_length=10)] = "",
    csrf: Csrf = "",
) -> Response:
    """Submit the application; a refusal re-shows the form with what was filled in."""
    check_csrf(page, csrf)
    form = {"purpose": purpose, "commitment": commitment == "true", "days": days}
    try:
        try:
            body = ApplicationCreate.model_validate({"resource_code": code, **form})
        except ValidationError as error:
            raise _invalid(error) from None
        with session.begin_nested():
            made = applications.apply(session, page.actor, body, today=workdays.china_today())
    except DigigovError as error:
        return _apply_form(request, session, page, code, form=form, error=error)
    return RedirectResponse(f"/open/applications/{made.id}?done=applied", status_code=303)


@router.get("/open/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    application_id: Id,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One application: what is asked and why, both decisions, and the form the viewer may use."""
    return _application(request, session, page, application_id, done=done)


def _application(
    request: Request,
    session: Session,
    page: Page,
    application_id: int,
    *,
    done: str = "",
    error: DigigovError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    application = applications.get_application(session, page.actor, application_id)
    state = ApplicationState(application.state)
    source = InDepartment(application.source_department_id)
    context = portal_context(
        page,
        a=applications.application_read(session, application, workdays.china_today()),
        source=service.department_name(session, application.source_department_id),
        decisions=_decisions(application),
        may_source=state is ApplicationState.pending_source
        and allows(page.actor, "opendata.application.approve_source", source),
        may_platform=state is ApplicationState.pending_platform
        and allows(page.actor, "opendata.application.approve_platform"),
        # the applicant sees it in the portal's frame; staff in their own
        layout="opendata/layout.html" if page.actor.department_id is None else "base.html",
        done=DONE.get(done),
        error=error.message_zh if error else None,
        form=form or {},
    )
    return render(request, "opendata/application.html", context, status=error.status if error else 200)


def _decisions(application: Application) -> list[dict[str, str]]:
    """Both stages as rows (环节, 结论, 审核人, 意见)."""
    state = ApplicationState(application.state)
    refused_at_source = state is ApplicationState.refused and application.platform_decided_by is None
    source = "待审核" if application.source_decided_by is None else "驳回" if refused_at_source else "同意"
    if application.platform_decided_by is not None:
        platform = "驳回" if state is ApplicationState.refused else "同意"
    else:
        platform = "待审核" if state is ApplicationState.pending_platform else "—"
    return [
        {
            "stage": "数源部门审核",
            "outcome": source,
            "by": application.source_decided_by or "",
            "reason": application.source_reason,
        },
        {
            "stage": "平台审核",
            "outcome": platform,
            "by": application.platform_decided_by or "",
            "reason": application.platform_reason,
        },
    ]


@router.post("/open/applications/{application_id}/{stage}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: SessionDep,
    page: PageDep,
    application_id: Id,
    stage: str,
    approve: Annotated[str, Form(max_length=5)] = "",
    reason: Text = "",
    csrf: Csrf = "",
) -> Response:
    """同意 or 驳回 as the source department (`source`) or the platform (`platform`)."""
    check_csrf(page, csrf)
    approving = approve == "true"
    try:
        try:
            decision = Decision.model_validate({"approve": approving, "reason": reason})
        except ValidationError as error:
            raise _invalid(error) from None
        with session.begin_nested():
            if stage == "source":
                applications.decide_as_source(session, page.actor, application_id=application_id, decision=decision)
            elif stage == "platform":
                applications.decide_as_platform(
                    session, page.actor, application_id=application_id, decision=decision, today=workdays.china_today()
                )
            else:
                raise Invalid(f"Unknown stage '{stage}'.", f"未知的审核环节“{stage}”。")
    except DigigovError as error:
        return _application(request, session, page, application_id, error=error, form={"reason": reason})
    outcome = "approve" if approving else "refuse"
    return RedirectResponse(f"/open/applications/{application_id}?done={stage}-{outcome}", status_code=303)


# ---- the staff's queue ------------------------------------------------------------------------------


@router.get("/open/review", response_class=HTMLResponse)
def review_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """Applications waiting for the viewer's decision, the others they may see, and unanswered data requests."""
    actor = page.actor
    today = workdays.china_today()
    seen = applications.list_applications(session, actor, today=today, limit=500)
    waiting = [a for a in seen if _awaits(actor, a)]
    pending = feedback.list_data_requests(session, actor, state=None, limit=200)
    context = {
        "waiting": [applications.application_read(session, a, today) for a in waiting],
        "others": [applications.application_read(session, a, today) for a in seen if a not in waiting][:100],
        "requests": [data_request_read(session, r) for r in pending if r.state == "pending"],
        "may_answer": allows(actor, "opendata.feedback.moderate"),
    }
    return render(request, "opendata/review.html", context)


def _awaits(actor: Actor, application: Application) -> bool:
    if application.state == ApplicationState.pending_source.value:
        return allows(actor, "opendata.application.approve_source", InDepartment(application.source_department_id))
    if application.state == ApplicationState.pending_platform.value:
        return allows(actor, "opendata.application.approve_platform")
    return False
