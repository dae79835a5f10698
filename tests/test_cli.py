"""The `digigov` command as an operator uses it: help everywhere, specific errors, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from digigov.cli import app

COMMANDS = [
    [],
    ["init"],
    ["serve"],
    ["up"],
    ["user"],
    ["user", "create"],
    ["token"],
    ["token", "create"],
    ["audit"],
    ["audit", "verify"],
    ["calendar"],
    ["calendar", "load"],
    ["calendar", "deadline"],
    ["resource"],
    ["resource", "create"],
    ["resource", "list"],
    ["resource", "show"],
    ["synth"],
    ["ingest"],
    ["classify"],
    ["open"],
    *(["open", c] for c in ("requests", "answer", "applications", "decide", "stats")),
    ["operate"],
    *(["operate", c] for c in ("licences", "grant-licence", "credential", "revoke-licence", "analyses")),
    *(["operate", c] for c in ("release", "hold")),
]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def _run(home: Path, *args: str, extra: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process (the console entry point itself is tested once, below); a small demo population."""
    env = {
        "DIGIGOV_HOME": str(home),
        "LANG": "C.UTF-8",
        "DIGIGOV_DATABASE_URL": None,
        "DIGIGOV_DEMO_ENTERPRISES": "40",
        "DIGIGOV_DEMO_PERSONS": "200",
        **(extra or {}),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return Result(result.exit_code, result.stdout, result.stderr)


def test_the_installed_command_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "digigov", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "digigov" in result.stdout and "audit" in result.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home")
    assert _run(path, "init").returncode == 0
    assert (
        _run(path, "user", "create", "citizen1", "--role", "public", "--password", "a long enough secret").returncode
        == 0
    )
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = _run(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_init_is_idempotent_and_says_what_it_did(home: Path) -> None:
    again = _run(home, "init")
    assert again.returncode == 0
    assert "regions: 258; calendar years added: 0" in again.stdout


def test_user_and_token_creation(home: Path) -> None:
    created = _run(
        home,
        "user",
        "create",
        "lin.auditor",
        "--role",
        "auditor",
        "--department",
        "ZJ-DSJ",
        "--name",
        "林审计",
        extra={"DIGIGOV_NEW_PASSWORD": "a long enough secret"},
    )
    assert created.returncode == 3, created.stderr  # no demo departments in a plain init
    assert "No department has code ZJ-DSJ" in created.stderr
    citizen = _run(home, "user", "create", "citizen2", "--role", "public", "--password", "a long enough secret")
    assert citizen.returncode == 0 and "user citizen2 created" in citizen.stdout
    token = _run(home, "token", "create", "--user", "citizen1", "--name", "脚本", "--scope", "identity.region.read")
    assert token.returncode == 0 and token.stdout.strip().startswith("dg_")
    assert "shown only now" in token.stderr
    verify = _run(home, "audit", "verify")
    assert verify.returncode == 0 and verify.stdout.startswith("ok, ")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["user", "create", "weak", "--role", "public", "--password", "short"], 2, "10 to 128 characters"),
        (["user", "create", "x", "--role", "auditor", "--password", "a long enough secret"], 2, "need a department"),
        (["user", "create", "y", "--role", "nosuchrole", "--password", "a long enough secret"], 2, "nosuchrole"),
        (["token", "create", "--user", "nobody", "--name", "t"], 3, "No user is called nobody"),
        (["token", "create", "--user", "citizen1", "--name", "t", "--scope", "bogus.*"], 2, "matches no action"),
        (["calendar", "deadline", "5", "--start", "2026-13-01"], 2, "not a YYYY-MM-DD date"),
        (["calendar", "load", "2027", "/nonexistent/schedule.txt"], 2, "Cannot read"),
    ],
)
def test_bad_input_is_a_specific_error(home: Path, args: list[str], code: int, message: str) -> None:
    before = _run(home, "audit", "verify").stdout
    result = _run(home, *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _run(home, "audit", "verify").stdout == before  # nothing was written


def test_commands_refuse_an_uninitialised_home(tmp_path: Path) -> None:
    result = _run(tmp_path, "audit", "verify")
    assert result.returncode == 7 and "digigov init" in result.stderr


def test_serve_refuses_without_a_secret_outside_demo(home: Path) -> None:
    result = _run(home, "serve", "--port", "1")
    assert result.returncode == 7 and "DIGIGOV_SECRET_KEY" in result.stderr


def test_resource_commands(home: Path) -> None:
    _run(home, "init", "--demo")
    created = _run(
        home,
        "resource",
        "create",
        "hz-sbwx",
        "--title",
        "设备维修信息",
        "--department",
        "HZ-SJJ",
        "--share-type",
        "unconditional",
    )
    assert created.returncode == 0 and "hz-sbwx created as a draft" in created.stdout
    listed = _run(home, "resource", "list", "--q", "维修")
    assert "hz-sbwx" in listed.stdout and "草稿" in listed.stdout
    shown = _run(home, "resource", "show", "hz-sbwx", "--json")
    assert '"code": "hz-sbwx"' in shown.stdout and '"share_type": "unconditional"' in shown.stdout
    assert _run(home, "resource", "show", "nope").returncode == 3
    taken = _run(home, "resource", "create", "hz-sbwx", "--title", "重复", "--department", "HZ-SJJ")
    assert taken.returncode == 6 and "is taken" in taken.stderr
    bad = _run(home, "resource", "create", "bad/code", "--title", "x", "--department", "HZ-SJJ")
    assert bad.returncode == 2 and "invalid code" in bad.stderr


def test_init_demo_publishes_the_synthetic_population_once_without_the_shared_data(tmp_path: Path) -> None:
    home, absent = tmp_path / "home", {"DIGIGOV_DEMO_DATA": str(tmp_path / "absent")}
    first = _run(home, "init", "--demo", extra=absent)
    said = " ".join(first.stdout.split())  # the console wraps long lines
    assert first.returncode == 0, first.stderr
    assert "skipping the real open-data files" in said
    assert "synthetic population of 40 enterprises and 200 persons (seed 1): 2 resources generated" in said
    for code, open_type in [("zj-qyfrjcxx", "restricted"), ("zj-rkjcxx", "prohibited")]:
        shown = json.loads(_run(home, "resource", "show", code, "--json").stdout)
        assert (shown["state"], shown["category"], shown["open_type"]) == ("published", "base", open_type)
    events = _run(home, "audit", "verify").stdout
    stored = sorted(home.rglob("*"))
    again = _run(home, "init", "--demo", extra=absent)
    assert again.returncode == 0 and "synthetic population already loaded" in " ".join(again.stdout.split())
    assert _run(home, "audit", "verify").stdout == events  # no new event, so no new resource or version
    assert sorted(home.rglob("*")) == stored
    assert len(list((home / "versions").glob("*/*"))) == 2 and not list(home.glob(".demo-population-*"))


def test_synth_writes_a_population(tmp_path: Path) -> None:
    result = _run(
        tmp_path, "synth", "--enterprises", "50", "--persons", "200", "--seed", "7", "--out", str(tmp_path / "s")
    )
    assert result.returncode == 0, result.stderr
    assert "50 enterprises and 200 persons (seed 7)" in result.stdout
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "enterprises.csv",
        "enterprises.parquet",
        "persons.csv",
        "persons.parquet",
    ]
    refused = _run(tmp_path, "synth", "--persons", "-1", "--out", str(tmp_path / "t"))
    assert refused.returncode == 2


def test_ingest_creates_a_draft_and_prints_a_stable_report(home: Path, tmp_path: Path) -> None:
    _run(home, "init", "--demo")
    data = tmp_path / "名录.csv"
    data.write_text(
        "截止日期：2023年7月\n统一社会信用代码,企业名称,成立日期\n91110000600037341L,甲公司,2022年3月1日\n\n",
        encoding="gb18030",
    )
    result = _run(home, "ingest", str(data), "--resource", "hz-ml", "--department", "HZ-SJJ", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("resource", "version", "rows", "rejected", "blank_rows", "encoding")} == {
        "resource": "hz-ml",
        "version": 1,
        "rows": 1,
        "rejected": 0,
        "blank_rows": 1,
        "encoding": "gb18030",
    }
    assert [(c["name"], c["type"]) for c in report["columns"]] == [
        ("统一社会信用代码", "string"),
        ("企业名称", "string"),
        ("成立日期", "date"),
    ]
    again = _run(home, "ingest", str(data), "--resource", "hz-ml")
    assert again.returncode == 0 and "hz-ml version 2: 1 rows stored" in again.stdout
    new_without_department = _run(home, "ingest", str(data), "--resource", "hz-new")
    assert new_without_department.returncode == 2 and "--department" in new_without_department.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = _run(home, "ingest", str(empty), "--resource", "hz-ml", "--json")
    assert refused.returncode == 2 and "empty" in refused.stderr and refused.stdout == ""


def test_serve_with_workers_answers_from_several_processes(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DIGIGOV_HOME": str(home), "DIGIGOV_SECRET_KEY": "s" * 40, "LANG": "C.UTF-8"}
    env.pop("DIGIGOV_DATABASE_URL", None)
    command = [sys.executable, "-m", "digigov", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200 and answer.json()["status"] == "ok"
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) >= 2, "a supervisor and its worker processes"
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out and "Traceback" not in err


def test_serve_refuses_a_port_in_use_with_a_clear_error(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for workers in ("1", "2"):
            refused = _run(home, "serve", "--demo", "--port", str(port), "--workers", workers)
            assert refused.returncode == 6 and "choose --port" in refused.stderr and "Traceback" not in refused.stderr
