"""Conflicts shown masked: each side as its resource's rows are, for a viewer outside its department.

Two person registers keyed by 公民身份号码 (DE0002) disagree on 姓名 (DE0014): the authoritative one
of 杭州市市场监督管理局 (the steward's department) and one of 杭州市人力资源和社会保障局. The steward
sees their own side in clear and the other masked; the auditor, of neither, sees both masked; the
admin (the bureau) sees both in clear. A class that is not sensitive is shown in clear to all.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.datastore.versions import ingest_file
from digigov.governance import classification, conflicts, elements
from digigov.governance.models import ConflictRun, ProblemReport
from digigov.governance.rows import Viewer
from tests.conftest import actor_named, login
from tests.governance.test_conflicts import CHANGED as CHANGED_NAMES
from tests.governance.test_conflicts import needs_listed, two_sources
from tests.governance.test_elements import make_resource
from tests.governance.test_rows_masked import masked_id, resident_id

FIELDS = [
    {"name": "公民身份号码", "is_key": True, "data_element": "DE0002"},
    {"name": "姓名", "data_element": "DE0014"},
]
PEOPLE = [(resident_id(n), name) for n, name in enumerate(["王晓明", "李建国", "张丽华", "刘志强", "陈秀英"] * 8, 1)]
OURS = {key: name for key, name in PEOPLE}  # the authoritative names, 市场监督管理局's
THEIRS = {key: name[0] + "小" + name[2] for key, name in PEOPLE[:3]} | {key: name for key, name in PEOPLE[3:]}
CHANGED = sorted(THEIRS[key] for key, _ in PEOPLE[:3])  # the other department's differing names


def csv_of(names: dict[str, str]) -> bytes:
    return ("公民身份号码,姓名\n" + "".join(f"{k},{v}\n" for k, v in names.items())).encode()


def ingest(session: Session, actor: Actor, home: Path, code: str, data: bytes) -> None:
    ingest_file(session, actor, home=home, resource_code=code, upload=io.BytesIO(data), filename=f"{code}.csv")


@pytest.fixture
def run(session: Session, admin: Actor, settings: Settings) -> ConflictRun:
    """The comparison of hz-rk (HZ-SJJ, authoritative) with rs-rk (HZ-RSJ) on 姓名 keyed by 公民身份号码."""
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-rk", "HZ-SJJ", FIELDS)
    ingest(session, steward, settings.home, "hz-rk", csv_of(OURS))
    make_resource(session, admin, "rs-rk", "HZ-RSJ", FIELDS)
    ingest(session, admin, settings.home, "rs-rk", csv_of(THEIRS))
    elements.set_authoritative_source(session, steward, element="DE0014", resource_code="hz-rk", field="姓名")
    [found] = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0014", key_element="DE0002").runs
    assert (found.compared, found.conflicts) == (len(PEOPLE), 3)
    return found


def shown(session: Session, settings: Settings, username: str, run: ConflictRun) -> list[tuple[Any, ...]]:
    viewer = Viewer(actor_named(session, username), settings)
    return [(c.key_value, c.source_value, c.other_value) for c in conflicts.shown_sample(session, run, viewer)]


def test_the_classes_call_for_masks(session: Session, run: ConflictRun) -> None:
    for code in ("hz-rk", "rs-rk"):
        version = classification.get_version(session, actor_named(session, "admin"), code)
        assert classification.field_levels(session, version)["公民身份号码"][0] == "resident_id"
        assert classification.field_levels(session, version)["姓名"][0] == "person_name"


def test_a_steward_sees_their_own_side_in_clear_and_the_other_masked(
    session: Session, settings: Settings, run: ConflictRun
) -> None:
    keys = sorted(key for key, _ in PEOPLE[:3])
    sample = shown(session, settings, "steward", run)
    assert [k for k, _, _ in sample] == keys  # the steward's own side holds the keys in clear
    assert [s for _, s, _ in sample] == [OURS[k] for k in keys]
    assert [o for _, _, o in sample] == [THEIRS[k][0] + "**" for k in keys]
    assert not set(CHANGED) & {o for _, _, o in sample}


def test_an_auditor_sees_both_sides_masked_and_the_keys_apart(
    session: Session, settings: Settings, run: ConflictRun
) -> None:
    keys = sorted(key for key, _ in PEOPLE[:3])
    viewer = Viewer(actor_named(session, "auditor"), settings)
    sample = conflicts.shown_sample(session, run, viewer)
    assert [(c.key_value, c.source_value, c.other_value) for c in sample] == [
        (masked_id(k), OURS[k][0] + "**", THEIRS[k][0] + "**") for k in keys
    ]
    assert [c.position for c in sample] == [1, 2, 3]


def test_the_bureau_sees_both_sides_in_clear(session: Session, settings: Settings, run: ConflictRun) -> None:
    keys = sorted(key for key, _ in PEOPLE[:3])
    assert shown(session, settings, "admin", run) == [(k, OURS[k], THEIRS[k]) for k in keys]
    stored = conflicts.conflict_sample(session, run)  # as stored: the checks compare clear values
    assert [(c.key_value, c.source_value, c.other_value) for c in stored] == [(k, OURS[k], THEIRS[k]) for k in keys]


def test_several_values_of_a_key_are_masked_one_by_one(session: Session, admin: Actor, settings: Settings) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-rk", "HZ-SJJ", FIELDS)
    ingest(session, steward, settings.home, "hz-rk", csv_of(OURS))
    make_resource(session, admin, "rs-rk", "HZ-RSJ", FIELDS)
    key, name = PEOPLE[0]
    extra = f"{key},赵小明\n".encode()
    ingest(session, admin, settings.home, "rs-rk", csv_of(OURS) + extra)
    elements.set_authoritative_source(session, steward, element="DE0014", resource_code="hz-rk", field="姓名")
    [found] = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0014", key_element="DE0002").runs
    assert shown(session, settings, "steward", found) == [(key, name, "王** | 赵**")]


def test_over_http_the_steward_gets_the_other_side_masked(
    client: TestClient, session: Session, settings: Settings, token_for: Any, run: ConflictRun
) -> None:
    url = "/api/v1/governance/elements/DE0014/conflicts"
    latest = client.get(url, params={"sample": 100}, headers=token_for("steward"))
    assert latest.status_code == 200
    [read] = latest.json()
    assert {s["source_value"] for s in read["sample"]} == {OURS[k] for k, _ in PEOPLE[:3]}
    assert not any(name in latest.text for name in CHANGED)
    assert all(s["other_value"].endswith("**") for s in read["sample"])
    audited = client.get(url, headers=token_for("auditor"))
    assert audited.status_code == 200 and len(audited.json()) == 1
    assert not any(name in audited.text for name in CHANGED + [OURS[k] for k, _ in PEOPLE[:3]])
    assert not any(key in audited.text for key, _ in PEOPLE)
    found = client.post(url, json={"key_element": "DE0002"}, headers=token_for("admin")).json()
    assert {s["other_value"] for s in found["runs"][0]["sample"]} == set(CHANGED)  # the bureau: in clear


def test_the_element_page_shows_the_other_side_masked(
    client: TestClient, session: Session, settings: Settings, run: ConflictRun
) -> None:
    login(client, "steward")
    page = client.get("/governance/elements/DE0014")
    assert page.status_code == 200 and "conflict-run" in page.text
    assert all(OURS[k] in page.text for k, _ in PEOPLE[:3])
    assert not any(name in page.text for name in CHANGED)


@needs_listed
def test_classes_that_are_not_sensitive_are_shown_in_clear_to_all(
    session: Session, admin: Actor, settings: Settings
) -> None:
    two_sources(session, settings.home)  # company names keyed by credit codes: public by class
    [found] = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001").runs
    stored = [(c.key_value, c.source_value, c.other_value) for c in conflicts.conflict_sample(session, found)]
    assert len(stored) == len(CHANGED_NAMES)
    assert shown(session, settings, "auditor", found) == stored


def test_the_problems_conflicts_open_name_no_value(session: Session, run: ConflictRun) -> None:
    raised = session.scalars(select(ProblemReport).where(ProblemReport.source == "conflict")).all()
    assert len(raised) == 3
    assert not any(name in p.description for p in raised for name in CHANGED + list(OURS.values()))
