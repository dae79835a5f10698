"""Data elements (一数一源一标准): code tables, the starter dictionary, the one-source rule, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core import engine
from digigov.core.audit import AuditRecord
from digigov.core.auth import SYSTEM, Actor
from digigov.core.codes import division_spans
from digigov.core.errors import Forbidden, NotFound
from digigov.governance import codetables, elements
from digigov.governance.errors import ElementTaken, FieldNotOfElement, SourceTaken, UnknownCodeTable
from digigov.governance.schemas.elements import ElementChanges, ElementCreate
from tests.catalog.test_service import dept
from tests.conftest import SHARED_DATA, actor_named, database_state

REAL = SHARED_DATA / "real"


def make_resource(session: Session, actor: Actor, code: str, department: str, fields: list[dict[str, Any]]) -> None:
    """A draft resource of a department with fields declared as data elements."""
    body = {
        "code": code,
        "title": code,
        "department_id": dept(session, department),
        "fields": fields,
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    catalog.create_resource(session, actor, ResourceCreate.model_validate(body))


def audit_kinds(session: Session, since: int) -> list[str]:
    return list(session.scalars(select(AuditRecord.kind).where(AuditRecord.seq > since).order_by(AuditRecord.seq)))


def last_seq(session: Session) -> int:
    return session.scalar(select(func.max(AuditRecord.seq))) or 0


# --- code tables --------------------------------------------------------------------------------


def test_every_fresh_database_holds_the_three_standard_code_tables(session: Session, admin: Actor) -> None:
    tables = {t.name: n for t, n in codetables.list_code_tables(session, admin)}
    assert tables["GB/T 2260"] == len(division_spans()) == 6887
    industry = codetables.get_code_table(session, admin, "gbt-4754")
    levels = codetables.level_counts(session, industry)
    assert (levels["section"], levels["division"]) == (20, 97)
    assert codetables.code_values(session, "GB/T 2261.1") == {"0", "1", "2", "9"}


def test_region_codes_carry_names_parents_and_years(session: Session, admin: Actor) -> None:
    values, matched = codetables.list_code_values(session, admin, table="GB/T 2260", parent="330100", limit=1000)
    by_code = {v.code: v for v in values}
    assert matched == len(values) and "330106" in by_code
    assert (by_code["330113"].label, by_code["330113"].valid_from, by_code["330113"].valid_to) == ("临平区", 2021, None)
    assert by_code["330103"].valid_to is not None  # 下城区, abolished in 2021
    found, _ = codetables.list_code_values(session, admin, table="gbt-2260", q="西湖区")
    assert "330106" in {v.code for v in found}


def test_loading_again_changes_nothing(session: Session, admin: Actor) -> None:
    before = database_state(session)
    counts = codetables.load_code_tables(session, admin)
    assert counts["GB/T 4754"] == 117
    assert database_state(session) == before


@pytest.mark.skipif(
    not (REAL / codetables.INDUSTRY_CSV).is_file(),
    reason=f"{REAL / codetables.INDUSTRY_CSV} is absent: GB/T 4754 groups and classes cannot be loaded",
)
def test_the_shared_industry_table_adds_groups_and_classes(session: Session, admin: Actor) -> None:
    since = last_seq(session)
    counts = codetables.load_code_tables(session, admin, real_data=REAL)
    levels = codetables.level_counts(session, codetables.get_code_table(session, admin, "GB/T 4754"))
    # the shared table lists group 374 twice (the second under its class's name); the first stands
    assert levels == {"section": 20, "division": 97, "group": 274, "class": 1380}
    assert counts["GB/T 4754"] == 1771
    assert audit_kinds(session, since) == ["governance.code_table_loaded"]
    values, _ = codetables.list_code_values(session, admin, table="GB/T 4754", parent="011")
    assert [v.code for v in values] == ["0111", "0112", "0113", "0119"]
    assert codetables.load_code_tables(session, admin, real_data=REAL) == counts
    assert audit_kinds(session, since) == ["governance.code_table_loaded"]


def test_a_rule_joins_a_code_table_in_the_engine(session: Session) -> None:
    with engine.cursor() as con:
        name = codetables.register_code_table(con, session, "GB/T 2260")
        con.execute("CREATE TEMP TABLE t AS SELECT * FROM (VALUES ('330106'), ('330113'), ('339999'), ('110103')) v(c)")
        unknown = con.execute(f"SELECT c FROM t WHERE c NOT IN (SELECT code FROM {name}) ORDER BY c").fetchall()
    assert unknown == [("339999",)]


def test_an_unknown_code_table_is_not_found(session: Session, admin: Actor) -> None:
    with pytest.raises(NotFound):
        codetables.get_code_table(session, admin, "GB/T 9999")


# --- the dictionary -----------------------------------------------------------------------------


def test_the_starter_dictionary_is_loaded_once(session: Session, admin: Actor) -> None:
    by_name = {e.name: e for e in elements.list_elements(session, admin)}
    assert by_name["统一社会信用代码"].validator == "uscc"
    assert by_name["公民身份号码"].validator == "resident_id"
    assert by_name["行政区划代码"].code_table == "GB/T 2260"
    assert by_name["行业代码"].code_table == "GB/T 4754"
    assert by_name["性别代码"].code_table == "GB/T 2261.1"
    assert {"组织机构代码", "企业名称", "法定代表人", "出生日期", "手机号码", "注册资本", "成立日期", "地址"} <= set(
        by_name
    )
    assert by_name["注册资本"].value_type == "decimal" and by_name["出生日期"].value_type == "date"
    assert all(e.source_resource_id is None for e in by_name.values())
    assert elements.load_starter_dictionary(session, admin) == []


def test_search_finds_by_name_identifier_and_definition(session: Session, admin: Actor) -> None:
    # 组织机构代码 is defined through the credit code
    assert [e.identifier for e in elements.list_elements(session, admin, q="信用代码")] == ["DE0001", "DE0003"]
    assert [e.name for e in elements.list_elements(session, admin, q="de0006")] == ["行政区划代码"]
    assert "DE0002" in {e.identifier for e in elements.list_elements(session, admin, q="GB 11643")}


def test_the_bureau_creates_and_edits_elements(session: Session, admin: Actor) -> None:
    since = last_seq(session)
    element = elements.create_element(
        session, admin, data=ElementCreate(name="经营范围", definition="营业执照载明的经营范围。")
    )
    assert element.identifier == "DE0016" and element.value_type == "string"
    elements.update_element(
        session, admin, identifier="DE0016", changes=ElementChanges(code_table="GB/T 4754", format="^.+$")
    )
    assert (element.code_table, element.format, element.updated_by) == ("GB/T 4754", "^.+$", "admin")
    assert audit_kinds(session, since) == ["governance.element_created", "governance.element_edited"]
    with pytest.raises(ElementTaken):
        elements.create_element(session, admin, data=ElementCreate(name="经营范围"))
    with pytest.raises(ElementTaken):
        elements.create_element(session, admin, data=ElementCreate(identifier="DE0001", name="别的"))
    with pytest.raises(UnknownCodeTable):
        elements.create_element(session, admin, data=ElementCreate(name="币种", code_table="GB/T 12406"))


def test_a_consumer_reads_the_dictionary_but_cannot_edit_it(session: Session) -> None:
    consumer = actor_named(session, "consumer")
    steward = actor_named(session, "steward")
    assert elements.get_element(session, consumer, "DE0001").name == "统一社会信用代码"
    before = database_state(session)
    for actor in (consumer, steward):
        with pytest.raises(Forbidden):
            elements.create_element(session, actor, data=ElementCreate(name="经营范围"))
        with pytest.raises(Forbidden):
            elements.update_element(session, actor, identifier="DE0004", changes=ElementChanges(definition="x"))
        with pytest.raises(Forbidden):
            codetables.load_code_tables(session, actor)
    assert database_state(session) == before


# --- one element, one source --------------------------------------------------------------------

ENTERPRISE = [
    {"name": "统一社会信用代码", "is_key": True, "data_element": "DE0001"},
    {"name": "企业名称", "data_element": "DE0004"},
    {"name": "备注"},
]


def test_one_element_has_one_source_and_only_the_bureau_moves_it(session: Session, admin: Actor) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-qy", "HZ-SJJ", ENTERPRISE)
    make_resource(session, steward, "hz-qy2", "HZ-SJJ", ENTERPRISE)
    since = last_seq(session)
    element = elements.set_authoritative_source(
        session, steward, element="DE0004", resource_code="hz-qy", field="企业名称"
    )
    assert elements.source_resource(session, element).code == "hz-qy"  # type: ignore[union-attr]
    assert (
        elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy", field="企业名称")
        is element
    )  # the same source again is no change
    before = database_state(session)
    with pytest.raises(SourceTaken) as refused:
        elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy2", field="企业名称")
    assert "replace" in refused.value.message and "一数一源" in refused.value.message_zh
    with pytest.raises(Forbidden):  # a steward cannot move it, even between own resources
        elements.set_authoritative_source(
            session, steward, element="DE0004", resource_code="hz-qy2", field="企业名称", replace=True
        )
    assert database_state(session) == before
    elements.set_authoritative_source(
        session, admin, element="DE0004", resource_code="hz-qy2", field="企业名称", replace=True
    )
    assert elements.source_resource(session, element).code == "hz-qy2"  # type: ignore[union-attr]
    assert audit_kinds(session, since) == ["governance.source_set", "governance.source_replaced"]
    usage = elements.element_usage(session, admin, element="DE0004")
    assert [(u.resource.code, u.field.name, u.authoritative) for u in usage] == [
        ("hz-qy", "企业名称", False),
        ("hz-qy2", "企业名称", True),
    ]


def test_the_source_field_must_exist_and_be_declared_as_the_element(session: Session, steward: Actor) -> None:
    make_resource(session, steward, "hz-qy", "HZ-SJJ", ENTERPRISE)
    with pytest.raises(FieldNotOfElement, match="no field"):
        elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy", field="名称")
    with pytest.raises(FieldNotOfElement, match="declared as data element none"):
        elements.set_authoritative_source(session, steward, element="DE0004", resource_code="hz-qy", field="备注")
    with pytest.raises(FieldNotOfElement, match="DE0001, not DE0004"):
        elements.set_authoritative_source(
            session, steward, element="DE0004", resource_code="hz-qy", field="统一社会信用代码"
        )
    with pytest.raises(NotFound):
        elements.set_authoritative_source(session, steward, element="DE9999", resource_code="hz-qy", field="企业名称")


def test_a_steward_cannot_name_another_departments_resource(session: Session) -> None:
    other = actor_named(session, "admin")
    make_resource(session, other, "zj-rk", "ZJ-DSJ", [{"name": "公民身份号码", "data_element": "DE0002"}])
    catalog.submit_resource(session, other, code="zj-rk")
    catalog.publish_resource(session, other, code="zj-rk")  # published: the steward sees it
    steward = actor_named(session, "steward")
    consumer = actor_named(session, "consumer")
    for actor in (steward, consumer):
        with pytest.raises(Forbidden):
            elements.set_authoritative_source(
                session, actor, element="DE0002", resource_code="zj-rk", field="公民身份号码"
            )
    assert elements.get_element(session, SYSTEM, "DE0002").source_resource_id is None


# --- over HTTP ----------------------------------------------------------------------------------


def test_the_dictionary_over_http(client: TestClient, token_for: Any) -> None:
    consumer, admin = token_for("consumer"), token_for("admin")
    listed = client.get("/api/v1/governance/elements", params={"q": "代码"}, headers=consumer).json()
    assert {"DE0001", "DE0006", "DE0007", "DE0008"} <= {e["identifier"] for e in listed["elements"]}
    one = client.get("/api/v1/governance/elements/DE0008", headers=consumer).json()
    assert (one["name"], one["code_table"], one["source_resource"]) == ("性别代码", "GB/T 2261.1", None)
    assert client.get("/api/v1/governance/elements/DE9999", headers=consumer).status_code == 404
    refused = client.post("/api/v1/governance/elements", json={"name": "经营范围"}, headers=consumer)
    assert refused.status_code == 403
    made = client.post("/api/v1/governance/elements", json={"name": "经营范围", "value_type": "string"}, headers=admin)
    assert made.status_code == 201 and made.json()["identifier"] == "DE0016"
    bad = client.post("/api/v1/governance/elements", json={"name": "x", "format": "(["}, headers=admin)
    assert bad.status_code == 422
    edited = client.patch("/api/v1/governance/elements/DE0016", json={"definition": "经营范围。"}, headers=admin)
    assert edited.json()["definition"] == "经营范围。"


def test_sources_over_http(client: TestClient, session: Session, token_for: Any) -> None:
    steward = actor_named(session, "steward")
    make_resource(session, steward, "hz-qy", "HZ-SJJ", ENTERPRISE)
    make_resource(session, steward, "hz-qy2", "HZ-SJJ", ENTERPRISE)
    headers = token_for("steward")
    body = {"resource_code": "hz-qy", "field": "企业名称"}
    assert client.put("/api/v1/governance/elements/DE0004/source", json=body, headers=headers).status_code == 200
    second = client.put(
        "/api/v1/governance/elements/DE0004/source", json={**body, "resource_code": "hz-qy2"}, headers=headers
    )
    assert second.status_code == 409 and second.json()["code"] == "authoritative_source_taken"
    assert "一数一源" in second.json()["detail"]
    moved = client.put(
        "/api/v1/governance/elements/DE0004/source",
        json={**body, "resource_code": "hz-qy2", "replace": True},
        headers=token_for("admin"),
    )
    assert moved.json()["source_resource"] == "hz-qy2"
    usage = client.get("/api/v1/governance/elements/DE0004/usage", headers=headers).json()
    assert [(u["resource_code"], u["authoritative"]) for u in usage] == [("hz-qy", False), ("hz-qy2", True)]


def test_code_tables_over_http(client: TestClient, token_for: Any) -> None:
    headers = token_for("consumer")
    tables = {t["slug"]: t for t in client.get("/api/v1/governance/code-tables", headers=headers).json()}
    assert set(tables) >= {"gbt-2260", "gbt-4754", "gbt-2261.1"}
    sex = client.get("/api/v1/governance/code-tables/gbt-2261.1", headers=headers).json()
    assert [(v["code"], v["label"]) for v in sex["values"]] == [
        ("0", "未知的性别"),
        ("1", "男性"),
        ("2", "女性"),
        ("9", "未说明的性别"),
    ]
    industry = client.get("/api/v1/governance/code-tables/gbt-4754", params={"parent": "C"}, headers=headers).json()
    assert (industry["levels"]["section"], industry["matched"]) == (20, 31)
    first = client.get("/api/v1/governance/code-tables/gbt-4754", params={"limit": 3}, headers=headers).json()
    assert [v["code"] for v in first["values"]] == ["A", "01", "02"]  # the standard's order, sections first
    assert client.get("/api/v1/governance/code-tables/gbt-9999", headers=headers).status_code == 404
