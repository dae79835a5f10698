"""The audit log page: who may see it, filters, paging, CSV export and chain verification."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.audit import AuditEvent, AuditRecord
from digigov.core.auth import Actor
from digigov.identity import service
from digigov.identity.models import Department, User
from digigov.web.audit import CSV_HEADER, PAGE_SIZE
from tests.conftest import login

COLUMNS = ["seq", "time", "actor", "department", "kind", "target", "detail", "hash"]


class _Rows(HTMLParser):
    """The text of each cell of the events table's body."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def events_in(html: str) -> list[dict[str, str]]:
    """The events table as dicts; an empty result has no rows."""
    parser = _Rows()
    parser.feed(html[html.index('<table id="events">') :])
    return [dict(zip(COLUMNS, row, strict=True)) for row in parser.rows if len(row) == len(COLUMNS)]


def open_audit(client: TestClient, username: str = "auditor", query: str = "") -> str:
    signed_in = login(client, username)
    assert isinstance(signed_in, httpx.Response) and signed_in.status_code == 303
    response = client.get(f"/audit{query}")
    assert response.status_code == 200, response.text
    return response.text


def user_id(session: Session, username: str) -> int:
    return session.scalars(select(User.id).where(User.username == username)).one()


def department_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Department)) or 0


def add_departments(session: Session, admin: Actor, count: int) -> None:
    city = session.scalars(select(Department.id).where(Department.code == "HZ-SJZY")).one()
    for n in range(count):
        service.create_department(
            session, admin, code=f"T-{n:03d}", name=f"测试部门{n}", region_code="330100", parent_id=city
        )
    session.flush()


# ---- who may look -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit", "/audit/verify", "/audit/export.csv"])
@pytest.mark.parametrize("username", ["steward", "consumer", "citizen"])
def test_only_auditors_and_admins_may_look(client: TestClient, username: str, path: str) -> None:
    login(client, username)
    response = client.get(path)
    assert response.status_code == 403
    assert "403 · 无法完成请求" in response.text and "审计" in response.text


@pytest.mark.parametrize("username", ["auditor", "admin"])
def test_auditor_and_admin_see_their_own_sign_in(client: TestClient, session: Session, username: str) -> None:
    html = open_audit(client, username)
    newest = events_in(html)[0]
    assert (newest["actor"], newest["kind"], newest["target"]) == (
        username,
        "identity.login_succeeded",
        f"user:{user_id(session, username)}",
    )
    assert newest["department"] == "浙江省大数据发展管理局"
    seqs = [int(e["seq"]) for e in events_in(html)]
    assert seqs == sorted(seqs, reverse=True)


def test_the_kind_select_offers_every_registered_kind(client: TestClient) -> None:
    html = open_audit(client)
    for kind in AuditEvent.registry:
        assert f'<option value="{kind}"' in html


# ---- filters ------------------------------------------------------------------------------


def test_filter_by_actor(client: TestClient) -> None:
    login(client, "steward")
    html = open_audit(client, query="?actor=steward")
    found = events_in(html)
    assert found and {e["actor"] for e in found} == {"steward"}
    assert 'value="steward"' in html  # the form shows the filter in use


def test_filter_by_exact_target_and_by_target_type(client: TestClient, session: Session) -> None:
    steward = user_id(session, "steward")
    login(client, "steward")
    exact = events_in(open_audit(client, query=f"?target=user:{steward}"))
    assert exact and {e["target"] for e in exact} == {f"user:{steward}"}
    kinds = {e["kind"] for e in exact}
    assert {"identity.user_created", "identity.login_succeeded"} <= kinds

    every_user = events_in(client.get("/audit?target=user:").text)
    assert all(e["target"].startswith("user:") for e in every_user)
    assert len({e["target"] for e in every_user}) >= 7  # one per demo user at least


def test_filter_by_kind_and_department(client: TestClient, session: Session) -> None:
    html = open_audit(client, query="?kind=identity.department_created")
    created = events_in(html)
    assert {e["kind"] for e in created} == {"identity.department_created"}
    assert len(created) == department_count(session)
    assert '<option value="identity.department_created" selected>' in html

    bureau = session.scalars(select(Department.id).where(Department.code == "ZJ-DSJ")).one()
    in_bureau = events_in(client.get(f"/audit?department={bureau}&kind=identity.login_succeeded").text)
    assert in_bureau and {e["actor"] for e in in_bureau} == {"auditor"}


def test_filter_by_dates(client: TestClient) -> None:
    open_audit(client)
    assert events_in(client.get("/audit?since=2000-01-01").text)
    long_ago = client.get("/audit?until=2000-01-01")
    assert events_in(long_ago.text) == [] and "没有符合条件的事件" in long_ago.text


def test_blank_fields_mean_any_and_bad_ones_are_refused(client: TestClient) -> None:
    html = open_audit(client, query="?actor=&department=&target=&kind=&since=&until=")
    assert len(events_in(html)) > 1
    assert client.get("/audit?since=yesterday").status_code == 422
    assert client.get("/audit?department=abc").status_code == 422


def test_htmx_gets_only_the_results(client: TestClient) -> None:
    open_audit(client)
    response = client.get("/audit?kind=identity.login_succeeded", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results">') and "<html" not in response.text
    assert "HX-Request" in response.headers["vary"]
    assert {e["kind"] for e in events_in(response.text)} == {"identity.login_succeeded"}
    restore = client.get("/audit", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_next_page_continues_where_the_first_stopped(client: TestClient, session: Session, admin: Actor) -> None:
    add_departments(session, admin, PAGE_SIZE + 5)
    total = department_count(session)
    first = open_audit(client, query="?kind=identity.department_created")
    rows = events_in(first)
    assert len(rows) == PAGE_SIZE and "下一页" in first
    last_seq = int(rows[-1]["seq"])
    assert f"before_seq={last_seq}" in first

    second = client.get(f"/audit?kind=identity.department_created&before_seq={last_seq}").text
    more = events_in(second)
    assert len(rows) + len(more) == total
    assert int(more[0]["seq"]) < last_seq and "下一页" not in second
    assert "最新一页" in second


# ---- export -------------------------------------------------------------------------------


def test_csv_export_of_the_current_filter(client: TestClient, session: Session) -> None:
    open_audit(client)
    response = client.get("/audit/export.csv?kind=identity.department_created")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    body = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    stored = session.scalars(
        select(AuditRecord).where(AuditRecord.kind == "identity.department_created").order_by(AuditRecord.seq.desc())
    ).all()
    assert [int(r["seq"]) for r in body] == [e.seq for e in stored]
    assert [r["hash"] for r in body] == [e.hash for e in stored]
    assert any("杭州市市场监督管理局" in r["detail"] for r in body)
    assert all(r["occurred_at"].endswith("+08:00") for r in body)


def test_csv_export_goes_past_one_page(client: TestClient, session: Session, admin: Actor) -> None:
    add_departments(session, admin, PAGE_SIZE + 5)
    open_audit(client)
    page = client.get("/audit?kind=identity.department_created").text
    assert 'href="/audit/export.csv?kind=identity.department_created"' in page
    rows = client.get("/audit/export.csv?kind=identity.department_created").content.decode("utf-8-sig").splitlines()
    assert len(rows) - 1 == department_count(session)


# ---- verify -------------------------------------------------------------------------------


def test_verify_shows_the_count(client: TestClient, session: Session) -> None:
    open_audit(client)
    count = audit.event_count(session)
    page = client.get("/audit/verify")
    assert f"审计链完整：共 {count} 条事件" in page.text
    assert events_in(page.text)  # the plain page keeps the results
    fragment = client.get("/audit/verify", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="verify"') and f"共 {count} 条事件" in fragment


def test_verify_shows_where_an_edited_event_breaks_the_chain(
    client: TestClient, session: Session, connection: Connection
) -> None:
    open_audit(client)
    target = audit.event_count(session) - 3
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
    connection.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = :s"), {"s": target})
    page = client.get("/audit/verify").text
    assert f"审计链在第 {target} 条事件处断开" in page
    assert f"已校验 {target - 1} 条完整事件" in page
