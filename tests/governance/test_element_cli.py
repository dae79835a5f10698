"""`digigov element`: list, show, create, source, conflicts, load-codes, on a data home of its own (SQLite)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.cli import app
from digigov.core.auth import SYSTEM
from digigov.core.db import make_engine, unit_of_work
from digigov.datastore.versions import ingest_file, wait_for_lookups
from digigov.identity import service as identity
from digigov.identity.models import Department
from tests.conftest import SHARED_DATA
from tests.governance.test_conflicts import CHANGED, FIELDS, LISTED, listed_rows, needs_listed, slice_csv


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "DIGIGOV_HOME": str(home),
        "LANG": "C.UTF-8",
        "DIGIGOV_DATABASE_URL": None,
        "DIGIGOV_DEMO_DATA": str(SHARED_DATA / "real"),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("element-home")
    code, out, err = run(path, "init")
    assert code == 0, err
    assert "standard codes:" in out
    return path


def test_list_and_show(home: Path) -> None:
    code, out, _ = run(home, "element", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 15 and listed[0]["identifier"] == "DE0001"
    code, out, _ = run(home, "element", "show", "DE0006", "--json")
    shown = json.loads(out)
    assert (shown["name"], shown["code_table"], shown["usage"]) == ("行政区划代码", "GB/T 2260", [])
    code, out, _ = run(home, "element", "list", "--q", "性别")
    assert code == 0 and "DE0008" in out and "DE0001" not in out


def test_create_and_its_refusals(home: Path) -> None:
    code, out, _ = run(home, "element", "create", "经营范围", "--definition", "营业执照载明的经营范围。")
    assert code == 0 and "DE0016" in out
    code, _, err = run(home, "element", "create", "经营范围")
    assert code == 6 and "经营范围" in err
    code, _, err = run(home, "element", "create", "币种", "--code-table", "GB/T 12406")
    assert code == 2 and "GB/T 2260" in err
    code, _, err = run(home, "element", "show", "DE9999")
    assert code == 3 and "DE9999" in err


def test_load_codes_again_adds_nothing(home: Path) -> None:
    code, out, _ = run(home, "element", "load-codes")
    assert code == 0 and "GB/T 2260: 6887 codes" in out and "starter dictionary: 0 elements added" in out


def test_conflicts_without_a_source(home: Path) -> None:
    code, _, err = run(home, "element", "conflicts", "DE0005", "--key", "DE0001")
    assert code == 6 and "authoritative source" in err


@needs_listed
def test_source_and_conflicts(home: Path) -> None:
    engine = make_engine(f"sqlite:///{home / 'digigov.db'}")
    with unit_of_work(engine) as session:
        department = session.query(Department).filter_by(code="HZ-SJJ").one_or_none()
        if department is None:  # init without the demo has no departments
            department = identity.create_department(
                session, SYSTEM, code="HZ-SJJ", name="杭州市市场监督管理局", region_code="330100"
            )
        data, changed = slice_csv(listed_rows())
        for code, fields, raw, name in (
            ("bj-ssgs", FIELDS, LISTED.read_bytes(), LISTED.name),
            ("hz-qy", [FIELDS[4], FIELDS[0]], data, "企业名录.csv"),
        ):
            body = {
                "code": code,
                "title": code,
                "department_id": department.id,
                "fields": fields,
                "share_type": "unconditional",
                "open_type": "unconditional",
            }
            catalog.create_resource(session, SYSTEM, ResourceCreate.model_validate(body))
            ingest_file(session, SYSTEM, home=home, resource_code=code, upload=io.BytesIO(raw), filename=name)
    wait_for_lookups()
    engine.dispose()
    code, out, err = run(home, "element", "source", "DE0004", "bj-ssgs", "企业名称")
    assert code == 0, err
    code, _, err = run(home, "element", "source", "DE0004", "hz-qy", "企业名称")
    assert code == 6 and "--replace" in err
    code, out, err = run(home, "element", "conflicts", "DE0004", "--key", "DE0001", "--json", "--sample", "100")
    assert code == 0, err
    report = json.loads(out)
    assert report["conflicts"] == len(CHANGED)
    assert {c["key_value"] for c in report["runs"][0]["sample"]} == changed
    code, out, _ = run(home, "element", "conflicts", "DE0004", "--key", "DE0001")
    assert code == 0 and f"{len(CHANGED)} of 200 keys differ" in out
