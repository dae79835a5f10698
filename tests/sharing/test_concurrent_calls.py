"""Concurrent data API calls on the embedded SQLite store: every call answered, every call recorded.

A call reads a version and then records itself; on SQLite two such transactions used to collide
("database is locked", a server error) as soon as one committed while the other had read. The
real app under uvicorn on a file database, with calls from several threads at once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from digigov.app import create_app
from digigov.core import audit, migrate, workdays
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.demo import load_demo, load_reference_data
from digigov.sharing import service
from digigov.sharing.models import GrantCall
from digigov.sharing.schemas import Decision, ShareRequestCreate
from tests.conftest import DEMO_PASSWORD, actor_named
from tests.sharing.conftest import CODE, PERSONS, publish_persons

ID = "公民身份号码"
CALLS, THREADS, QUOTA = 120, 6, 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(db_kind: str, tmp_path: Path) -> Iterator[tuple[str, str, object]]:
    """The app on a SQLite file with a provisioned lookup grant: (base URL, credential, engine)."""
    yield from _serving(db_kind, tmp_path, Decision(approve=True))


@pytest.fixture
def limited(db_kind: str, tmp_path: Path) -> Iterator[tuple[str, str, object]]:
    """`served`, with a grant of 40 calls a day."""
    yield from _serving(db_kind, tmp_path, Decision(approve=True, daily_quota=QUOTA))


def _serving(db_kind: str, tmp_path: Path, limits: Decision) -> Iterator[tuple[str, str, object]]:
    engine, secret = _home(db_kind, tmp_path, limits)
    port = _free_port()
    app = create_app(Settings(home=tmp_path, demo=True), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", secret, engine
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


def _home(db_kind: str, tmp_path: Path, limits: Decision) -> tuple[Engine, str]:
    """A data home on a SQLite file with a provisioned lookup grant: (engine, credential)."""
    if db_kind != "sqlite":
        pytest.skip("runs on its own SQLite file, once, in the SQLite half")
    engine = make_engine(Settings(home=tmp_path).resolved_database_url())
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=DEMO_PASSWORD)
    with unit_of_work(engine) as session:
        steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
        publish_persons(session, steward, reviewer, tmp_path)
    with unit_of_work(engine) as session:
        consumer = actor_named(session, "consumer")
        body = {"resource_code": CODE, "fields": [ID, "姓名"], "access": "lookup", "key_field": ID,
                "purpose": "并发核对", "legal_basis": "《社会保险法》第七十四条"}  # fmt: skip
        request = service.request_share(session, consumer, ShareRequestCreate.model_validate(body), today=_today())
        service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=True))
        service.decide_as_platform(session, reviewer, request_id=request.id, decision=limits)
        grant = service.grant_of(session, request)
        assert grant is not None
        _, secret = service.issue_credential(session, consumer, grant_id=grant.id, today=_today())
    return engine, secret


def _today() -> date:
    return workdays.china_today()


def test_concurrent_lookups_are_all_answered_and_all_recorded(served: tuple[str, str, object]) -> None:
    base, secret, engine = served
    keys = [str(k) for k in PERSONS.column(ID).to_pylist()[:CALLS]]

    def call(key: str) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            return client.get("/api/v1/share/lookup", params={"key": key}, headers={"X-Grant-Key": secret}).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(call, keys))
    assert statuses == [200] * CALLS
    with unit_of_work(engine) as session:  # type: ignore[arg-type]
        assert session.scalar(select(func.count()).select_from(GrantCall)) == CALLS


def _calls(base: str, secret: str, keys: list[str]) -> list[int]:
    def call(key: str) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            return client.get("/api/v1/share/lookup", params={"key": key}, headers={"X-Grant-Key": secret}).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(call, keys))


def test_concurrent_calls_keep_the_audit_chain_whole(served: tuple[str, str, object]) -> None:
    base, secret, engine = served
    keys = [str(k) for k in PERSONS.column(ID).to_pylist()[:CALLS]]
    assert _calls(base, secret, keys) == [200] * CALLS
    with unit_of_work(engine) as session:  # type: ignore[arg-type]
        assert audit.verify_chain(session).ok
        called = (
            select(func.count()).select_from(audit.AuditRecord).where(audit.AuditRecord.kind == "sharing.data_called")
        )
        assert session.scalar(called) == CALLS


def test_a_daily_quota_holds_exactly_under_concurrent_calls(limited: tuple[str, str, object]) -> None:
    base, secret, engine = limited
    day = workdays.china_today()
    statuses = _calls(base, secret, [str(k) for k in PERSONS.column(ID).to_pylist()[:CALLS]])
    if workdays.china_today() != day:
        pytest.skip("the run crossed midnight (China time): two days' quotas")
    assert statuses.count(200) == QUOTA and set(statuses) == {200, 429}
    with unit_of_work(engine) as session:  # type: ignore[arg-type]
        assert session.scalar(select(func.count()).select_from(GrantCall)) == QUOTA  # refused: not recorded


def test_workers_of_digigov_serve_record_every_call_through_their_writer(db_kind: str, tmp_path: Path) -> None:
    engine, secret = _home(db_kind, tmp_path, Decision(approve=True))
    port = _free_port()
    env = {**os.environ, "DIGIGOV_HOME": str(tmp_path), "DIGIGOV_SECRET_KEY": "s" * 40, "LANG": "C.UTF-8"}
    env.pop("DIGIGOV_DATABASE_URL", None)
    command = [sys.executable, "-m", "digigov", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, ready = time.monotonic() + 60, False
        while time.monotonic() < deadline and not ready:
            try:
                ready = httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.2)
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 3, "two workers and their writer"
        keys = [str(k) for k in PERSONS.column(ID).to_pylist()[:CALLS]]
        assert _calls(base, secret, keys) == [200] * CALLS
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert "Traceback" not in err
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(GrantCall)) == CALLS
        assert audit.verify_chain(session).ok
    engine.dispose()
