"""Jinja2 templates for every domain's pages: `templates/` folders beside each package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

_ROOT = Path(__file__).resolve().parent.parent
_env = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(path)) for path in sorted(_ROOT.glob("*/templates"))]),
    autoescape=select_autoescape(["html"]),
)
templates = Jinja2Templates(env=_env)

# Stored times are UTC; people in Zhejiang read and filter in Beijing time (no daylight saving).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_time(value: datetime | None) -> str:
    """A stored UTC time as Beijing wall-clock time, to the second; every template has it as `local`.

    >>> beijing_time(datetime(2026, 3, 1, 16, 30, 5, 123))
    '2026-03-02 00:30:05'
    """
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


_env.globals["local"] = beijing_time


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """Render a page; `request.state.page` (user, CSRF token) is available to every template."""
    values: dict[str, Any] = {"page": getattr(request.state, "page", None)}
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status)


class LoginRequired(Exception):
    """A page needs a signed-in user; the app answers with a redirect to /login."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path
