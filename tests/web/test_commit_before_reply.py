"""A request's transaction commits before its reply leaves: a client that follows a redirect finds the change.

Regression: with the default dependency scope the commit ran after the response was sent, and a
browser that followed the post-login redirect fast enough was sent back to the sign-in page.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from digigov.app import create_app
from digigov.core import migrate
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.demo import load_demo, load_reference_data
from digigov.identity.models import WebSession
from tests.conftest import DEMO_PASSWORD


def test_login_is_committed_when_the_redirect_starts(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'commit.db'}")
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=DEMO_PASSWORD)
    app = create_app(Settings(home=tmp_path, demo=True), engine=engine)
    csrf = "x" * 43
    body = urlencode({"username": "admin", "password": DEMO_PASSWORD, "csrf": csrf, "next": "/"}).encode()
    seen: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            with engine.connect() as other:  # another connection sees only committed rows
                seen["sessions"] = other.scalar(select(func.count()).select_from(WebSession))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"host", b"127.0.0.1"),
            (b"cookie", f"digigov_login_csrf={csrf}".encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert seen == {"status": 303, "sessions": 1}
