"""Conflicts between sources: a real register as the authoritative source, a slice of it with names changed."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Forbidden
from digigov.core.workflow import WorkItem
from digigov.datastore.versions import ingest_file
from digigov.governance import conflicts, elements, problems
from digigov.governance.errors import FieldNotOfElement, NothingToCompare
from digigov.governance.models import ElementConflict, ProblemReport
from tests.conftest import SHARED_DATA, actor_named
from tests.governance.test_elements import audit_kinds, last_seq, make_resource

LISTED = SHARED_DATA / "real" / "opendata" / "beijing" / "市市场监督管理局-上市公司名录.csv"
needs_listed = pytest.mark.skipif(
    not LISTED.exists(), reason=f"{LISTED} is absent: the real Beijing register is not here"
)

FIELDS = [
    {"name": "企业名称", "data_element": "DE0004"},
    {"name": "性质"},
    {"name": "主键"},
    {"name": "更新时间"},
    {"name": "统一社会信用代码", "is_key": True, "data_element": "DE0001"},
]
CHANGED = {3: "（名称已变更）", 40: "有限公司", 41: "集团", 99: "北京分公司", 150: " 更正"}
CASED = (5, 6, 7)  # keys written in lower case, unchanged names
PADDED = (8, 9)  # keys padded with spaces, unchanged names


def listed_rows() -> list[dict[str, str]]:
    with LISTED.open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["统一社会信用代码"]]


def slice_csv(rows: list[dict[str, str]]) -> tuple[bytes, set[str]]:
    """The first 200 registered companies as another department publishes them, a few names changed."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["统一社会信用代码", "企业名称", "登记机关"])
    writer.writeheader()
    changed = set()
    for i, row in enumerate(rows[:200]):
        key, name = row["统一社会信用代码"], row["企业名称"]
        if i in CHANGED:
            name = name + CHANGED[i]
            changed.add(key)
        if i in CASED:
            key = key.lower()
        if i in PADDED:
            key = f"  {key} "
        writer.writerow({"统一社会信用代码": key, "企业名称": name, "登记机关": "北京市朝阳区市场监督管理局"})
    return out.getvalue().encode(), changed


def ingest(session: Session, actor: Actor, home: Path, code: str, data: bytes, name: str) -> None:
    ingest_file(session, actor, home=home, resource_code=code, upload=io.BytesIO(data), filename=name)


def two_sources(session: Session, home: Path) -> set[str]:
    """bj-ssgs (the register, authoritative for 企业名称) and hz-qy (a slice of it); returns the changed keys."""
    steward = actor_named(session, "steward")
    make_resource(session, steward, "bj-ssgs", "HZ-SJJ", FIELDS)
    ingest(session, steward, home, "bj-ssgs", LISTED.read_bytes(), LISTED.name)
    elements.set_authoritative_source(session, steward, element="DE0004", resource_code="bj-ssgs", field="企业名称")
    fields = [
        {"name": "统一社会信用代码", "is_key": True, "data_element": "DE0001"},
        {"name": "企业名称", "data_element": "DE0004"},
        {"name": "登记机关"},
    ]
    make_resource(session, steward, "hz-qy", "HZ-SJJ", fields)
    data, changed = slice_csv(listed_rows())
    ingest(session, steward, home, "hz-qy", data, "企业名录.csv")
    return changed


@needs_listed
def test_the_conflicts_are_exactly_the_changed_rows(session: Session, admin: Actor, settings: Settings) -> None:
    changed = two_sources(session, settings.home)
    since = last_seq(session)
    result = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    [run] = result.runs
    rows = listed_rows()
    assert (run.compared, run.conflicts, result.conflicts) == (200, len(CHANGED), len(CHANGED))
    sample = conflicts.conflict_sample(session, run, limit=100)
    assert {c.key_value for c in sample} == changed  # lower-case and padded keys matched, and agree
    by_key = {c.key_value: c for c in sample}
    first = rows[3]
    assert by_key[first["统一社会信用代码"]].source_value == first["企业名称"]
    assert by_key[first["统一社会信用代码"]].other_value == first["企业名称"] + "（名称已变更）"
    assert all(c.first_seen for c in sample)
    assert (run.source_version, run.other_version, run.other_field) == (1, 1, "企业名称")
    kinds = audit_kinds(session, since)
    assert kinds[0] == "governance.conflicts_found" and "governance.conflicts_found" not in kinds[1:]


@needs_listed
def test_each_conflict_opens_a_problem_that_only_the_authoritative_value_closes(
    session: Session, admin: Actor, settings: Settings
) -> None:
    changed = two_sources(session, settings.home)
    conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    raised = session.scalars(select(ProblemReport).where(ProblemReport.source == "conflict")).all()
    assert {p.key_value for p in raised} == changed and all(p.field == "企业名称" for p in raised)
    names = {row["统一社会信用代码"]: row["企业名称"] for row in listed_rows()}
    assert all(p.expected == names[p.key_value] for p in raised)
    again = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    assert again.conflicts == len(CHANGED)  # still there, but seen before: no second item
    assert len(session.scalars(select(ProblemReport).where(ProblemReport.source == "conflict")).all()) == len(raised)
    steward = actor_named(session, "steward")
    fixed, _ = slice_csv([{**row, "企业名称": row["企业名称"]} for row in listed_rows()])
    out = io.StringIO()  # version 2 of hz-qy carries the register's names again, except for one company
    rows = list(csv.DictReader(io.StringIO(fixed.decode())))
    keep = sorted(changed)[0]
    for row in rows:
        if row["统一社会信用代码"].strip().upper() in changed and row["统一社会信用代码"] != keep:
            row["企业名称"] = names[row["统一社会信用代码"]]
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    ingest(session, steward, settings.home, "hz-qy", out.getvalue().encode(), "企业名录-更正.csv")
    verdicts = {}
    for problem in raised:
        answered = problems.answer_fixed(session, steward, problem_id=problem.id, version_number=2, home=settings.home)
        verdicts[problem.key_value] = session.get_one(WorkItem, answered.item_id).state
    assert verdicts.pop(keep) != "closed"
    assert set(verdicts.values()) == {"closed"}


@needs_listed
def test_a_second_run_marks_conflicts_seen_before(session: Session, admin: Actor, settings: Settings) -> None:
    two_sources(session, settings.home)
    conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    again = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    [run] = again.runs
    stored = session.scalars(select(ElementConflict).where(ElementConflict.run_id == run.id)).all()
    assert len(stored) == len(CHANGED) and not any(c.first_seen for c in stored)
    assert [r.id for r in conflicts.latest_conflicts(session, admin, element="DE0004")] == [run.id]


@needs_listed
def test_the_sample_is_capped_and_the_totals_are_exact(session: Session, admin: Actor, settings: Settings) -> None:
    two_sources(session, settings.home)
    result = conflicts.find_conflicts(
        session, admin, home=settings.home, element="DE0004", key_element="DE0001", sample=2
    )
    [run] = result.runs
    assert run.conflicts == len(CHANGED)
    assert len(conflicts.conflict_sample(session, run, limit=100)) == 2


@needs_listed
def test_who_may_check_and_read_conflicts(session: Session, admin: Actor, settings: Settings) -> None:
    two_sources(session, settings.home)
    for name in ("steward", "consumer", "auditor"):
        with pytest.raises(Forbidden):
            conflicts.find_conflicts(
                session, actor_named(session, name), home=settings.home, element="DE0004", key_element="DE0001"
            )
    conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    assert len(conflicts.latest_conflicts(session, actor_named(session, "steward"), element="DE0004")) == 1
    assert conflicts.latest_conflicts(session, actor_named(session, "consumer"), element="DE0004") == []


def test_an_element_without_a_source_has_nothing_to_compare(session: Session, admin: Actor, settings: Settings) -> None:
    with pytest.raises(NothingToCompare):
        conflicts.find_conflicts(session, admin, home=settings.home, element="DE0005", key_element="DE0001")


def test_a_source_without_the_key_or_a_version_is_refused(session: Session, admin: Actor, settings: Settings) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-fr", "HZ-SJJ", [{"name": "法定代表人", "data_element": "DE0005"}])
    elements.set_authoritative_source(session, steward, element="DE0005", resource_code="hz-fr", field="法定代表人")
    with pytest.raises(FieldNotOfElement):
        conflicts.find_conflicts(session, admin, home=settings.home, element="DE0005", key_element="DE0001")
    make_resource(session, steward, "hz-qy", "HZ-SJJ", FIELDS)
    elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy", field="企业名称")
    with pytest.raises(NothingToCompare, match="no data version"):
        conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")


@needs_listed
def test_resources_that_cannot_be_compared_are_reported(session: Session, admin: Actor, settings: Settings) -> None:
    two_sources(session, settings.home)
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-nokey", "HZ-SJJ", [{"name": "企业名称", "data_element": "DE0004"}])
    make_resource(session, steward, "hz-empty", "HZ-SJJ", FIELDS)
    result = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001")
    assert [(s.resource, s.reason) for s in result.skipped] == [
        ("hz-empty", "no data version yet"),
        ("hz-nokey", "no field declared as the key element DE0001"),
    ]
    assert len(result.runs) == 1


@needs_listed
def test_conflicts_over_http(client: TestClient, session: Session, settings: Settings, token_for: Any) -> None:
    changed = two_sources(session, settings.home)
    url = "/api/v1/governance/elements/DE0004/conflicts"
    refused = client.post(url, json={"key_element": "DE0001"}, headers=token_for("steward"))
    assert refused.status_code == 403
    found = client.post(url, params={"sample": 3}, json={"key_element": "DE0001"}, headers=token_for("admin"))
    report = found.json()
    assert (report["conflicts"], len(report["runs"])) == (len(CHANGED), 1)
    run = report["runs"][0]
    assert (run["source_resource"], run["other_resource"], run["compared"]) == ("bj-ssgs", "hz-qy", 200)
    assert len(run["sample"]) == 3 and {s["key_value"] for s in run["sample"]} <= changed
    latest = client.get(url, params={"sample": 100}, headers=token_for("steward")).json()
    assert {s["key_value"] for s in latest[0]["sample"]} == changed
    nothing = client.post(
        "/api/v1/governance/elements/DE0005/conflicts", json={"key_element": "DE0001"}, headers=token_for("admin")
    )
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_compare"


def test_keys_with_several_values_and_blanks(session: Session, admin: Actor, settings: Settings) -> None:
    steward = actor_named(session, "steward")
    fields = [{"name": "代码", "is_key": True, "data_element": "DE0001"}, {"name": "名称", "data_element": "DE0004"}]
    make_resource(session, steward, "hz-a", "HZ-SJJ", fields)
    make_resource(session, steward, "hz-b", "HZ-SJJ", fields)
    source = "代码,名称\nK1,甲\nK1,乙\nK2,丙\nK3,丁\n,戊\nK4,\n"
    other = "代码,名称\nk1 ,乙\nK2,丙 \nK2,己\nK3,庚\nK4,辛\n,戊\nK5,壬\n"
    ingest(session, steward, settings.home, "hz-a", source.encode(), "a.csv")
    ingest(session, steward, settings.home, "hz-b", other.encode(), "b.csv")
    elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-a", field="名称")
    [run] = conflicts.find_conflicts(session, admin, home=settings.home, element="DE0004", key_element="DE0001").runs
    # K1: 乙 is one of the source's values; K4 has no value at the source; K5 is not there; blank keys are left out
    assert (run.compared, run.conflicts) == (3, 2)
    sample = [(c.key_value, c.source_value, c.other_value) for c in conflicts.conflict_sample(session, run)]
    assert sample == [("K2", "丙", "丙 | 己"), ("K3", "丁", "庚")]
