"""The audit chain: appends in the writer's transaction, detects tampering, stays linear."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import SYSTEM, Actor
from digigov.core.db import unit_of_work
from digigov.core.errors import Forbidden


@dataclass(frozen=True)
class Probe(audit.AuditEvent):
    kind = "test.probe"
    description = "An event written by the tests."
    writer: int
    number: int

    @property
    def target(self) -> str:
        return f"probe:{self.writer}"


def _append(session: Session, count: int, writer: int = 0) -> None:
    for number in range(count):
        audit.record(session, SYSTEM, Probe(writer=writer, number=number))


def _unprotect(connection: Connection) -> None:
    """Let the test edit events, inside its own rolled-back transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_record_appends_a_linked_event(session: Session, admin: Actor) -> None:
    before = audit.event_count(session)
    first = audit.record(session, admin, Probe(writer=1, number=1))
    second = audit.record(session, admin, Probe(writer=1, number=2))
    assert (first.seq, second.seq) == (before + 1, before + 2)
    assert second.prev_hash == first.hash
    assert first.actor_name == "admin" and first.department_id == admin.department_id
    assert first.target == "probe:1" and '"number":1' in first.detail
    assert audit.verify_chain(session).ok


def test_events_roll_back_with_the_change(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        before = audit.event_count(session)
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        _append(session, 3)
        raise RuntimeError("the change failed")
    with unit_of_work(engine) as session:
        assert audit.event_count(session) == before
        assert audit.verify_chain(session).ok


def test_database_refuses_update_and_delete(connection: Connection, session: Session) -> None:
    _append(session, 1)
    session.flush()
    for statement in ("UPDATE audit_event SET detail = '{}'", "DELETE FROM audit_event"):
        nested = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
        nested.rollback()


@pytest.mark.parametrize(
    ("tamper", "position", "reason"),
    [
        ("UPDATE audit_event SET detail = 'forged' WHERE seq = :mid", "mid", "edited"),
        ("DELETE FROM audit_event WHERE seq = :mid", "mid", "missing"),
        ("UPDATE audit_event SET kind = 'identity.user_created' WHERE seq = :mid", "mid", "edited"),
        ("DELETE FROM audit_event WHERE seq = :last", "last", "gone"),
    ],
    ids=["edit-detail", "delete-middle", "edit-kind", "truncate-tail"],
)
def test_verify_reports_the_first_broken_link(
    connection: Connection, session: Session, tamper: str, position: str, reason: str
) -> None:
    _append(session, 5)
    session.flush()
    last = audit.event_count(session)
    mid = last - 2
    _unprotect(connection)
    connection.execute(text(tamper), {"mid": mid, "last": last})
    report = audit.verify_chain(session)
    assert not report.ok
    assert report.broken_at == {"mid": mid, "last": last}[position]
    assert reason in report.reason


def test_verify_detects_reordered_events(connection: Connection, session: Session) -> None:
    _append(session, 4)
    session.flush()
    last = audit.event_count(session)
    _unprotect(connection)
    rows = connection.execute(
        text("SELECT seq, detail FROM audit_event WHERE seq IN (:a, :b) ORDER BY seq"), {"a": last - 1, "b": last}
    ).all()
    for (seq, _), (_, detail) in zip(rows, reversed(rows), strict=True):
        connection.execute(text("UPDATE audit_event SET detail = :d WHERE seq = :s"), {"d": detail, "s": seq})
    report = audit.verify_chain(session)
    assert (report.ok, report.broken_at) == (False, last - 1)


def test_verify_detects_an_inserted_event(connection: Connection, session: Session) -> None:
    _append(session, 2)
    session.flush()
    last = audit.event_count(session)
    connection.execute(
        text(
            "INSERT INTO audit_event (seq, occurred_at, actor_id, actor_name, department_id, kind, target, detail,"
            " prev_hash, hash) SELECT seq + 1, occurred_at, actor_id, actor_name, department_id, kind, target,"
            " detail, hash, :fake FROM audit_event WHERE seq = :last"
        ),
        {"last": last, "fake": "f" * 64},
    )
    report = audit.verify_chain(session)
    assert (report.ok, report.broken_at) == (False, last + 1)


def test_concurrent_writers_keep_one_linear_chain(engine: Engine) -> None:
    writers, per_writer = 8, 200
    with unit_of_work(engine) as session:
        before = audit.event_count(session)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for number in range(per_writer):
                with unit_of_work(engine) as session:
                    audit.record(session, SYSTEM, Probe(writer=writer, number=number))
        except BaseException as error:  # noqa: BLE001  (reported below)
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with unit_of_work(engine) as session:
        report = audit.verify_chain(session)
        assert report.ok, report.summary()
        assert report.count == before + writers * per_writer
        per_writer_seen = session.execute(
            text("SELECT target, COUNT(*) FROM audit_event WHERE kind = 'test.probe' AND seq > :b GROUP BY target"),
            {"b": before},
        ).all()
    assert sorted(per_writer_seen) == [(f"probe:{w}", per_writer) for w in range(writers)]


def test_search_needs_the_auditor_role(session: Session, steward: Actor, auditor: Actor) -> None:
    with pytest.raises(Forbidden):
        audit.search_events(session, steward, audit.AuditQuery())
    _append(session, 2, writer=42)
    found = audit.search_events(session, auditor, audit.AuditQuery(target="probe:42"))
    assert [e.seq for e in found] == sorted((e.seq for e in found), reverse=True)
    assert len(found) == 2
    assert audit.search_events(session, auditor, audit.AuditQuery(target="probe:", kind="test.probe", limit=1))


def test_audit_api_search_and_verify(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("auditor")
    _append(session, 3, writer=777)
    response = client.get("/api/v1/audit/events", params={"target": "probe:777"}, headers=headers)
    assert response.status_code == 200
    assert [e["target"] for e in response.json()] == ["probe:777"] * 3
    by_actor = client.get("/api/v1/audit/events", params={"actor_name": "system", "limit": 2}, headers=headers)
    assert len(by_actor.json()) == 2
    verify = client.get("/api/v1/audit/verify", headers=headers).json()
    assert verify["ok"] is True and verify["summary"] == f"ok, {verify['count']} events"
    refused = client.get("/api/v1/audit/events", headers=token_for("steward"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_cli_verify_finds_an_edited_row_in_a_copy(tmp_path: Path, db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("the CLI tamper test edits a copy of the embedded SQLite file; the SQLite half runs it")
    home = tmp_path / "home"
    digigov = [sys.executable, "-m", "digigov"]
    env = {"DIGIGOV_HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    subprocess.run([*digigov, "init", "--demo"], env=env, check=True, capture_output=True)
    ok = subprocess.run([*digigov, "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("ok, ")
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(home / "digigov.db", copy / "digigov.db")
    with sqlite3.connect(copy / "digigov.db") as db:
        db.execute("DROP TRIGGER audit_event_no_update")
        db.execute("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 4")
    broken = subprocess.run(
        [*digigov, "audit", "verify"], env={**env, "DIGIGOV_HOME": str(copy)}, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "broken at event 4" in broken.stderr
