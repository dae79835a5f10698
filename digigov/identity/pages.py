"""Identity pages: sign-in and sign-out, the session that every page relies on, tokens, admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from digigov.core.auth import Actor, Role, allows
from digigov.core.config import Settings
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.errors import DigigovError, Forbidden
from digigov.core.templating import LoginRequired, render
from digigov.identity import service, sessions, tokens

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "digigov_session"
LOGIN_CSRF_COOKIE = "digigov_login_csrf"


@dataclass(frozen=True)
class PageUser:
    """What pages show of the signed-in user: a plain copy, usable after the request's session closed."""

    id: int
    username: str
    display_name: str
    department_id: int | None


@dataclass(frozen=True)
class Page:
    """The signed-in user behind a page request, with the session's CSRF token."""

    actor: Actor
    user: PageUser
    csrf_token: str

    def has(self, role: str) -> bool:
        """Whether the user holds a role (for showing menu entries)."""
        return Role(role) in self.actor.roles

    def may(self, action: str) -> bool:
        """Whether the user's roles allow a declared action anywhere (for showing menu entries)."""
        return allows(self.actor, action)


def current_page(request: Request, session: SessionDep, settings: SettingsDep) -> Page:
    """The signed-in user, or a redirect to the sign-in page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    web = sessions.session_for_cookie(session, settings, cookie) if cookie else None
    if web is None:
        raise LoginRequired(quote(request.url.path))
    user = service.get_user(session, web.user_id)
    shown = PageUser(user.id, user.username, user.display_name, user.department_id)
    page = Page(actor=service.actor_for_user(session, user), user=shown, csrf_token=web.csrf_token)
    request.state.page = page
    return page


PageDep = Annotated[Page, Depends(current_page)]


def optional_page(request: Request, session: SessionDep, settings: SettingsDep) -> Page | None:
    """The signed-in user if there is one; public pages also serve visitors who are not signed in."""
    try:
        return current_page(request, session, settings)
    except LoginRequired:
        return None


OptionalPageDep = Annotated[Page | None, Depends(optional_page)]


def check_csrf(page: Page, token: str | None) -> None:
    """Refuse a form post whose CSRF token is not the session's."""
    if not sessions.csrf_matches_token(page.csrf_token, token):
        raise Forbidden(
            "The form's security token is missing or stale; reload the page.",
            "表单安全令牌缺失或已过期，请刷新页面后重试。",
        )


def _set_cookie(response: Response, settings: Settings, name: str, value: str, *, strict: bool = False) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict" if strict else "lax",
        path="/",
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    """The sign-in form."""
    token = secrets.token_urlsafe(32)
    response = render(request, "identity/login.html", {"csrf": token, "next": _safe_next(next)})
    _set_cookie(response, settings, LOGIN_CSRF_COOKIE, token, strict=True)
    return response


def _safe_next(path: str) -> str:
    # Only same-site paths: never redirect to another host after sign-in.
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the password; on success set the session cookie and go on."""
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie_token or not sessions.csrf_matches_token(cookie_token, csrf):
        return render(
            request,
            "identity/login.html",
            {"csrf": _fresh(), "next": _safe_next(next), "error": "表单已过期，请重新登录。"},
            status=403,
        )
    outcome = sessions.log_in(session, settings, username=username, password=password)
    if outcome.error is not None or outcome.cookie is None:
        # Commit the failure count and its audit event, then show the error.
        session.commit()
        token = _fresh()
        status = outcome.error.status if outcome.error else 401
        message = outcome.error.message_zh if outcome.error else "登录失败。"
        failed = render(
            request,
            "identity/login.html",
            {"csrf": token, "next": _safe_next(next), "error": message, "username": username},
            status=status,
        )
        _set_cookie(failed, settings, LOGIN_CSRF_COOKIE, token, strict=True)
        return failed
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(response, settings, SESSION_COOKIE, outcome.cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _fresh() -> str:
    return secrets.token_urlsafe(32)


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, page: PageDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the session."""
    check_csrf(page, csrf)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    sessions.log_out(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """The user's API tokens, with a form to create one."""
    return render(request, "identity/tokens.html", {"tokens": tokens.list_tokens(session, page.actor)})


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[str, Form(max_length=1000)] = "*",
    days: Annotated[int, Form(ge=1, le=3660)] = 90,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Create a token and show its secret once."""
    check_csrf(page, csrf)
    try:
        token, secret = tokens.create_token(session, page.actor, settings, name=name, scopes=scopes.split(), days=days)
    except DigigovError as error:
        return render(
            request,
            "identity/tokens.html",
            {"tokens": tokens.list_tokens(session, page.actor), "error": error.message_zh},
            status=error.status,
        )
    return render(
        request,
        "identity/tokens.html",
        {"tokens": tokens.list_tokens(session, page.actor), "new_token": token, "secret": secret},
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, session: SessionDep, page: PageDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """Revoke one of the user's tokens."""
    check_csrf(page, csrf)
    tokens.revoke_token(session, page.actor, token_id=token_id)
    return RedirectResponse("/tokens", status_code=303)


__all__ = ["OptionalPageDep", "Page", "PageDep", "check_csrf", "current_page", "optional_page", "router"]
