"""Jinja2 templates for every domain's pages: `templates/` folders beside each package."""

from __future__ import annotations

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
