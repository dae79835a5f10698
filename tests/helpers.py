"""Plain helpers shared by the tests: reading pages and the audit log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from tests.conftest import login


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def flash_error(html: str) -> str:
    """The text of a page's error box."""
    match = re.search(r'<div class="flash error"[^>]*>(.*?)</div>', html, re.S)
    assert match, "the page shows no error"
    return match.group(1)


def signed_in(client: TestClient, username: str, page: str) -> str:
    """Sign in through the form, open a page, and return its CSRF token."""
    assert login(client, username).status_code == 303  # type: ignore[attr-defined]
    response = client.get(page)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def last_event(session: Session) -> AuditRecord:
    """The newest audit event."""
    return session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()
