"""`digigov problem …` as an operator and a steward use it, on a data home of its own."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.cli import app
from digigov.core import migrate
from digigov.core.auth import SYSTEM
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.datastore import versions
from digigov.demo import load_demo, load_reference_data
from digigov.identity.models import Department
from tests.governance.test_problems import BAD_CODE, BAD_ROW, CODE, HAIDIAN, USCC, fixed_code, haidian_text


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": "C.UTF-8", "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def ingest(home: Path, text: str) -> None:
    engine = make_engine(Settings(home=home).resolved_database_url())
    with unit_of_work(engine) as session:
        versions.ingest_file(
            session,
            SYSTEM,
            home=home,
            resource_code=CODE,
            upload=io.BytesIO(text.encode("gb18030")),
            filename="haidian.csv",
        )
    versions.wait_for_lookups()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    if not HAIDIAN.exists():
        pytest.skip(f"{HAIDIAN} is absent: the real Beijing files are not here")
    engine = make_engine(Settings(home=tmp_path).resolved_database_url())
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password="cli-test-password-2026")
        sjj = session.query(Department).filter_by(code="HZ-SJJ").one().id
        body = {"code": CODE, "title": "中关村高新技术企业库", "department_id": sjj}
        catalog.create_resource(
            session,
            SYSTEM,
            ResourceCreate.model_validate(body | {"share_type": "unconditional", "open_type": "unconditional"}),
        )
        catalog.submit_resource(session, SYSTEM, code=CODE)
        catalog.publish_resource(session, SYSTEM, code=CODE)
    ingest(tmp_path, haidian_text())
    return tmp_path


def test_raise_answer_and_count_from_the_command_line(home: Path) -> None:
    code, out, err = run(
        home, "problem", "raise", CODE, "--field", USCC, "--key-field", "序号", "--key-value", BAD_ROW,
        "--validator", "uscc", "--description", "校验位错误", "--as", "consumer", "--json",
    )  # fmt: skip
    assert code == 0, err
    problem = json.loads(out)
    assert (problem["observed"], problem["state"], problem["raised_by"]) == (BAD_CODE, "open", "consumer")
    pid = str(problem["id"])
    code, out, err = run(home, "problem", "list", "--as", "inspector", "--json")
    assert (code, json.loads(out)) == (0, [])  # another department's inspector sees none of it
    code, _, err = run(home, "problem", "show", pid, "--as", "inspector")
    assert code == 3 and f"Problem {pid} does not exist" in err
    ingest(home, haidian_text())
    code, out, _ = run(home, "problem", "fixed", pid, "--version", "2", "--as", "steward", "--json")
    assert code == 1 and json.loads(out)["verification"]["passed"] is False
    ingest(home, haidian_text().replace(BAD_CODE, fixed_code(BAD_CODE)))
    code, out, err = run(home, "problem", "fixed", pid, "--version", "3", "--as", "steward")
    assert code == 0 and "已办结" in out, err
    code, out, _ = run(home, "problem", "show", pid, "--as", "consumer", "--json")
    assert [s["action"] for s in json.loads(out)["steps"]] == [
        "open",
        "accept",
        "resolve",
        "reject",
        "resolve",
        "verify",
    ]
    code, out, _ = run(home, "problem", "stats", "--json")
    (row,) = json.loads(out)
    assert (code, row["raised"], row["closed"], row["closed_on_time"]) == (0, 1, 1, 1)


def test_refusals_exit_non_zero_with_the_reason(home: Path) -> None:
    code, _, err = run(home, "problem", "raise", CODE, "--field", "注册资本", "--description", "x", "--as", "consumer")
    assert code == 2 and "no field '注册资本'" in err
    code, out, _ = run(
        home, "problem", "raise", CODE, "--field", USCC, "--key-field", "序号", "--key-value", "2",
        "--description", "名称不符", "--as", "consumer", "--json",
    )  # fmt: skip
    pid = str(json.loads(out)["id"])
    code, _, err = run(home, "problem", "reject", pid, "--reason", "无误", "--as", "consumer")
    assert code == 4
    code, _, err = run(home, "problem", "escalate", "--as", "steward")
    assert code == 4
    code, out, _ = run(home, "problem", "escalate", "--today", "2099-01-01", "--json")
    assert code == 0 and [p["id"] for p in json.loads(out)] == [int(pid)]
    code, out, _ = run(home, "problem", "escalate", "--today", "2099-01-02", "--json")
    assert (code, json.loads(out)) == (0, [])
