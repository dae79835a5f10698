"""The demo catalog's synthetic population: published base resources, valid codes, loaded once.

Runs on both metadata stores through `load_demo_population`, the function `digigov up` calls
(its CLI path is in test_cli.py); small sizes keep it quick, `make run` uses the defaults.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from digigov.core import codes
from digigov.core.config import Settings
from digigov.datastore.versions import wait_for_lookups
from digigov.demo import ENTERPRISES_CODE, PERSONS_CODE, load_demo_population
from digigov.synth import write_population
from tests.conftest import database_state

ENTERPRISES, PERSONS = 300, 1500
Headers = Callable[..., dict[str, str]]


def load(session: Session, home: Path, messages: list[str] | None = None) -> int:
    report = (messages if messages is not None else []).append
    return load_demo_population(
        session, home=home, write=write_population, enterprises=ENTERPRISES, persons=PERSONS, report=report
    )


@pytest.fixture
def loaded(session: Session, settings: Settings) -> Path:
    """The population loaded into the test's data home (the app's too) and database."""
    messages: list[str] = []
    assert load(session, settings.home, messages) == 2, messages
    return settings.home


def stored_rows(client: TestClient, headers: dict[str, str], code: str) -> list[dict[str, Any]]:
    """The rows of version 1 as the stored Parquet file the API hands out."""
    response = client.get(f"/api/v1/resources/{code}/versions/1/download?format=parquet", headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(response.content)).to_pylist()
    return rows


# code: department, base type, share type, open type, rows, key field
EXPECTED = {
    ENTERPRISES_CODE: ("ZJ-SJJ", "legal_entity", "conditional", "restricted", ENTERPRISES, "统一社会信用代码"),
    PERSONS_CODE: ("ZJ-DSJ", "population", "conditional", "prohibited", PERSONS, "公民身份号码"),
}


def test_both_resources_are_published_with_full_metadata_and_one_version(
    loaded: Path, client: TestClient, token_for: Headers
) -> None:
    headers = token_for("reviewer")
    departments = {d["id"]: d["code"] for d in client.get("/api/v1/departments", headers=headers).json()}
    for code, (department, base_type, share_type, open_type, rows, key) in EXPECTED.items():
        resource = client.get(f"/api/v1/resources/{code}", headers=headers).json()
        assert resource["state"] == "published" and resource["published_on"]
        assert departments[resource["department_id"]] == department
        assert (resource["category"], resource["base_type"]) == ("base", base_type)
        assert (resource["share_type"], resource["open_type"]) == (share_type, open_type)
        assert resource["share_condition"] and resource["update_cycle"] == "daily" and resource["format"] == "CSV"
        assert "合成演示数据" in resource["abstract"] and f" {rows} " in resource["abstract"]
        assert [f["name"] for f in resource["fields"] if f["is_key"]] == [key]
        assert all(f["title"] and f["description"] for f in resource["fields"])  # every column is described
        completeness = client.get(f"/api/v1/resources/{code}/completeness", headers=headers).json()
        assert completeness == {"score": 100, "missing": []}
        versions = client.get(f"/api/v1/resources/{code}/versions", headers=headers).json()
        assert [(v["number"], v["rows"], v["rejected"]) for v in versions] == [(1, rows, 0)]


def test_stored_credit_codes_and_id_numbers_validate_and_agree_with_their_columns(
    loaded: Path, client: TestClient, token_for: Headers
) -> None:
    headers = token_for("reviewer")
    firms = stored_rows(client, headers, ENTERPRISES_CODE)
    people = stored_rows(client, headers, PERSONS_CODE)
    assert (len(firms), len(people)) == (ENTERPRISES, PERSONS)
    credit_codes = {firm["统一社会信用代码"] for firm in firms}
    assert len(credit_codes) == ENTERPRISES and all(uscc.is_valid(code) for code in credit_codes)
    assert all(firm["统一社会信用代码"][2:8] == firm["行政区划代码"] for firm in firms)
    assert len({person["公民身份号码"] for person in people}) == PERSONS
    for person in people:
        number = person["公民身份号码"]
        # Not ric.is_valid: stdnum also wants the county code to exist in the birth year, which most
        # real numbers of people born before 1983 fail, and its table lacks 2021's codes (see
        # digigov.core.codes). The platform's parser uses stdnum's check digit and table without that rule.
        facts = codes.resident_id_facts(number)
        assert ric.calc_check_digit(number) == number[17]
        assert ric.get_birth_date(number) == facts.birth_date == person["出生日期"]
        assert facts.sex == person["性别"] and int(number[16]) % 2 == (person["性别"] == "男")
        assert facts.division == number[:6] == person["户籍地行政区划代码"]
    employers = {person["就业单位统一社会信用代码"] for person in people} - {None}
    assert employers and employers <= credit_codes


def test_loading_again_changes_nothing(loaded: Path, session: Session) -> None:
    wait_for_lookups()  # the first load's lookup files are built after its commit, in a thread
    before = database_state(session)
    files = sorted(loaded.rglob("*"))
    assert load(session, loaded) == 0
    assert database_state(session) == before  # no resource, version or audit event added
    assert sorted(loaded.rglob("*")) == files  # nothing generated, no scratch folder left behind
    assert not list(loaded.glob(".demo-population-*"))
