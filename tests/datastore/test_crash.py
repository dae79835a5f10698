"""Killing an ingestion at any point leaves the previous version intact and no half version visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from digigov.catalog.models import Resource
from digigov.core.db import make_engine
from digigov.datastore.models import Version


def _digigov(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIGIGOV_HOME": str(home), "LANG": "C.UTF-8", "DIGIGOV_DEMO_DATA": str(home / "none")}
    env.pop("DIGIGOV_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "digigov", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _versions(home: Path) -> list[tuple[int, int]]:
    engine = make_engine(f"sqlite:///{home / 'digigov.db'}")
    with engine.connect() as conn:
        stmt = select(Version.number, Version.rows).join(Resource, Resource.id == Version.resource_id)
        rows = conn.execute(stmt.where(Resource.code == "zj-kill").order_by(Version.number)).all()
    engine.dispose()
    return [(n, r) for n, r in rows]


@pytest.fixture(autouse=True)
def sqlite_only(db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("the kill test runs the CLI on the embedded SQLite default; the SQLite half runs it")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file that takes a few seconds to ingest, so a kill lands in the middle."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("编号,名称,金额\n")
        out.writelines(f"{n:07d},名称{n},{n % 997}.5\n" for n in range(3_000_000))
    return path


@pytest.mark.parametrize("kill_after", [0.0, 0.4, 1.0])
def test_kill_mid_ingest(tmp_path: Path, kill_after: float, big: Path) -> None:
    home = tmp_path / "home"
    assert _digigov(home, "init", "--demo").wait(120) == 0
    small = tmp_path / "small.csv"
    small.write_text("编号,名称\n001,甲\n002,乙\n", encoding="utf-8")
    first = _digigov(home, "ingest", str(small), "--resource", "zj-kill", "--department", "HZ-SJJ")
    assert first.wait(120) == 0, first.stderr.read() if first.stderr else ""
    victim = _digigov(home, "ingest", str(big), "--resource", "zj-kill")
    staging = home / "staging"
    deadline = time.monotonic() + 60
    while not (staging.is_dir() and any(staging.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.02)  # wait until the ingestion has begun writing
    time.sleep(kill_after)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(30) == -signal.SIGKILL  # killed while working, not after finishing
    assert _versions(home) == [(1, 2)]  # the previous version, and nothing half-made
    assert (home / "versions").is_dir()
    again = _digigov(home, "ingest", str(small), "--resource", "zj-kill")
    assert again.wait(120) == 0, again.stderr.read() if again.stderr else ""
    assert _versions(home) == [(1, 2), (2, 2)]
