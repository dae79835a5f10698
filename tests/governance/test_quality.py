"""Quality rules on real and synthetic versions: each check, scores, flags, suggestions, trends, league."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core.audit import AuditRecord
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Forbidden, Invalid, NotFound
from digigov.datastore import versions
from digigov.governance import quality, reports, suggest
from digigov.governance.models import FieldDetection, QualityRun
from digigov.governance.rules import RuleSet
from tests.catalog.test_service import dept
from tests.conftest import SHARED_DATA, actor_named, database_state

BEIJING = SHARED_DATA / "real" / "opendata" / "beijing"
needs_shared = pytest.mark.skipif(
    not BEIJING.exists(), reason=f"{BEIJING} is absent: the real Beijing files are not here"
)
HIGH_TECH = "海淀区中关村高新技术企业库（截止2023年7月）.csv"
LISTED = "市市场监督管理局-上市公司名录.csv"
CRANES = "市住房城乡建设委-北京市建筑起重机械登记编号信息.csv"


def make_resource(session: Session, steward: Actor, code: str, *, cycle: str = "monthly", **extra: Any) -> None:
    body = {
        "code": code,
        "title": f"测试资源 {code}",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
        "update_cycle": cycle,
        **extra,
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))


def ingest(session: Session, actor: Actor, home: Path, code: str, data: bytes, name: str = "data.csv") -> Any:
    return versions.ingest_file(session, actor, home=home, resource_code=code, upload=io.BytesIO(data), filename=name)


def declare(session: Session, actor: Actor, code: str, rules: list[dict[str, Any]], **extra: Any) -> Any:
    rule_set = RuleSet.model_validate({"rules": rules, **extra})
    return quality.load_rules(session, actor, resource_code=code, rule_set=rule_set)


def results(session: Session, actor: Actor, settings: Settings, code: str) -> dict[str, Any]:
    run = quality.run_quality(session, actor, home=settings.home, resource_code=code)
    return {r.rule: r for r in quality.run_results(session, run.id)}


@needs_shared
def test_five_credit_codes_of_the_high_tech_register_fail_gb_32100(
    session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "bj-gxjs")
    ingest(session, steward, settings.home, "bj-gxjs", (BEIJING / HIGH_TECH).read_bytes(), HIGH_TECH)
    declare(session, steward, "bj-gxjs", [{"check": "check_digit", "field": "统一社会信用代码", "validator": "uscc"}])
    found = results(session, steward, settings, "bj-gxjs")["check_digit:统一社会信用代码"]
    assert (found.checked_rows, found.failed_rows, found.error) == (9461, 5, None)
    assert len(found.sample) == 5 and "121000004000147000" in {s["统一社会信用代码"] for s in found.sample}
    assert all(isinstance(s["_id"], int) and s["_id"] >= 1 for s in found.sample)


@needs_shared
def test_ten_listed_companies_lack_a_credit_code(session: Session, steward: Actor, settings: Settings) -> None:
    make_resource(session, steward, "bj-ssgs")
    ingest(session, steward, settings.home, "bj-ssgs", (BEIJING / LISTED).read_bytes(), LISTED)
    declare(
        session,
        steward,
        "bj-ssgs",
        [
            {"check": "not_null", "field": "统一社会信用代码"},
            {"check": "not_blank", "field": "统一社会信用代码"},
            {"check": "unique", "field": "主键"},
            {"check": "pattern", "field": "主键", "regex": "[0-9A-F]{32}", "name": "主键大写"},
            {"check": "pattern", "field": "主键", "regex": "[0-9a-fA-F]{32}", "name": "主键十六进制"},
        ],
    )
    found = results(session, steward, settings, "bj-ssgs")
    assert (found["not_null:统一社会信用代码"].checked_rows, found["not_null:统一社会信用代码"].failed_rows) == (
        6024,
        10,
    )
    assert found["not_blank:统一社会信用代码"].failed_rows == 10
    assert [s["统一社会信用代码"] for s in found["not_null:统一社会信用代码"].sample] == [None] * 10
    assert (found["unique:主键"].failed_rows, found["主键十六进制"].failed_rows) == (0, 0)
    assert found["主键大写"].failed_rows == 3144  # the file writes about half its keys in lower case
    assert found["主键大写"].sample[0]["主键"] == "11b6689c772f432ea376b70dab04eda7"


@needs_shared
def test_the_crane_register_repeats_228_rows(session: Session, steward: Actor, settings: Settings) -> None:
    make_resource(session, steward, "bj-qzjx")
    version = ingest(session, steward, settings.home, "bj-qzjx", (BEIJING / CRANES).read_bytes(), CRANES)
    every = [c["name"] for c in version.columns]
    declare(session, steward, "bj-qzjx", [{"check": "unique", "fields": every, "name": "整行不重复"}])
    found = results(session, steward, settings, "bj-qzjx")["整行不重复"]
    assert (found.checked_rows, found.failed_rows) == (19152, 228)
    assert len(found.sample) == 10 and all(s["first_id"] < s["_id"] for s in found.sample)
    run = quality.latest_run(session, version.id)
    # classification found the owner's credit codes, so a suggested check-digit rule runs too: all valid
    assert run is not None
    assert run.dimensions == {"uniqueness": pytest.approx(1 - 228 / 19152), "validity": 1.0}
    assert run.flagged is False and run.threshold == quality.DEFAULT_THRESHOLD


PEOPLE = """身份证号,出生日期,性别,行政区划,行业,金额,登记日期,单位代码
11010519491231002X,1949-12-31,女,110105,C,100.5,2024-01-01,A1
110105194912310021,1949-12-31,男,110105,13,20,2024-02-30,A2
11010519491231002X,1950-01-01,2,999999,Z9,-5,2999-01-01,A3
110105194912310037,1949-12-31,1,330113,I,abc,2023-12-31,B9
, ,9,330100,,1000001,,A1
"""
UNITS = "单位代码,名称\nA1,甲\nA2,乙\nA3,丙\n"


def test_synthetic_checks_of_every_row_wise_kind_and_foreign_keys(
    session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-units")
    ingest(session, steward, settings.home, "t-units", UNITS.encode())
    make_resource(session, steward, "t-people")
    ingest(session, steward, settings.home, "t-people", PEOPLE.encode())
    declare(
        session,
        steward,
        "t-people",
        [
            {"check": "check_digit", "field": "身份证号", "validator": "resident_id"},
            {"check": "id_consistency", "field": "身份证号", "birth_date": "出生日期", "sex": "性别"},
            {"check": "code_table", "field": "行政区划", "table": "gb2260_division"},
            {"check": "code_table", "field": "行业", "table": "gb4754_industry"},
            {"check": "code_table", "field": "性别", "values": ["男", "女", "1", "2", "9"], "name": "性别取值"},
            {"check": "range", "field": "金额", "min": 0, "max": 1_000_000},
            {"check": "date_bounds", "field": "登记日期", "not_before": "2000-01-01", "not_in_future": True},
            {"check": "foreign_key", "field": "单位代码", "resource": "t-units"},
        ],
    )
    found = results(session, steward, settings, "t-people")
    counts = {name: (r.checked_rows, r.failed_rows) for name, r in found.items()}
    assert counts == {
        "check_digit:身份证号": (4, 2),  # …0021 and …0037 carry wrong check characters
        "id_consistency:身份证号+出生日期+性别": (4, 2),  # row 2: 男 with an even digit 17; row 3: born 1950-01-01
        "code_table:行政区划": (5, 1),  # 999999 (330100, a prefecture, is in the table)
        "code_table:行业": (4, 1),  # Z9
        "性别取值": (5, 0),
        "range:金额": (5, 3),  # -5, abc, 1000001
        "date_bounds:登记日期": (4, 2),  # 2024-02-30 is no date, 2999-01-01 is in the future
        "foreign_key:单位代码": (5, 1),  # B9
        "date_bounds:出生日期": (4, 0),  # suggested: classification found the birth dates
    }


def test_a_field_gone_from_a_later_version_is_an_error_not_a_refusal(
    session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-gone")
    ingest(session, steward, settings.home, "t-gone", "编号,备注\n1,a\n2,\n".encode())
    declare(session, steward, "t-gone", [{"check": "not_null", "field": "备注"}, {"check": "unique", "field": "编号"}])
    second = versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code="t-gone",
        upload=io.BytesIO("编号\n1\n1\n".encode()),
        filename="b.csv",
        allow_schema_change=True,
    )
    run = quality.latest_run(session, second.id)
    assert run is not None
    by_rule = {r.rule: r for r in quality.run_results(session, run.id)}
    assert by_rule["not_null:备注"].error == "field 备注 is not in this version"
    assert (by_rule["unique:编号"].failed_rows, run.dimensions) == (1, {"uniqueness": 0.5})
    assert run.score == 0.5 and run.flagged


def test_a_version_below_the_threshold_is_flagged_and_audited(
    session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-flag")
    ingest(session, steward, settings.home, "t-flag", "编号\n1\n2\n3\n4\n".encode())
    declare(session, steward, "t-flag", [{"check": "range", "field": "编号", "max": 3}], threshold=0.8)
    second = ingest(session, steward, settings.home, "t-flag", "编号\n1\n2\n3\n".encode())
    report = reports.quality_report(session, steward, resource_code="t-flag", settings=settings)
    assert report.version.id == second.id and report.run.score == 1.0 and not report.run.flagged
    run = quality.run_quality(session, steward, home=settings.home, resource_code="t-flag", number=1)
    assert (run.score, run.threshold, run.flagged) == (0.75, 0.8, True)
    kinds = list(session.scalars(select(AuditRecord.kind).order_by(AuditRecord.seq.desc()).limit(2)))
    assert kinds == ["governance.quality_flagged", "governance.quality_checked"]
    trend = reports.quality_trend(session, steward, resource_code="t-flag")
    assert [(p.number, p.score, p.flagged) for p in trend] == [(1, 0.75, True), (2, 1.0, False)]


def test_freshness_against_the_update_cycle_and_a_date_field(
    session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-fresh", cycle="monthly")
    version = ingest(session, steward, settings.home, "t-fresh", "更新日期\n2020-01-01\n2020-03-01\n".encode())
    declare(
        session,
        steward,
        "t-fresh",
        [{"check": "freshness"}, {"check": "freshness", "field": "更新日期", "name": "数据日期"}],
    )
    found = results(session, steward, settings, "t-fresh")
    assert (found["freshness"].failed_rows, found["数据日期"].failed_rows) == (0, 1)
    assert found["数据日期"].sample[0]["newest"] == "2020-03-01T00:00:00"
    version.created_at = version.created_at - timedelta(days=40)
    session.flush()
    later = results(session, steward, settings, "t-fresh")["freshness"]
    assert (later.checked_rows, later.failed_rows, later.sample[0]["allowed_days"]) == (1, 1, 31)


def test_bad_declarations_are_refused_and_change_nothing(session: Session, steward: Actor, settings: Settings) -> None:
    make_resource(session, steward, "t-bad")
    ingest(session, steward, settings.home, "t-bad", "编号,手机\n1,13800000000\n".encode())
    before = database_state(session)
    with pytest.raises(Invalid, match="no field 电话"):
        declare(session, steward, "t-bad", [{"check": "not_null", "field": "电话"}])
    with pytest.raises(Invalid, match="not valid RE2"):
        declare(session, steward, "t-bad", [{"check": "pattern", "field": "手机", "regex": "(?<=1)3"}])
    with pytest.raises(Invalid, match="t-none does not exist"):
        declare(session, steward, "t-bad", [{"check": "foreign_key", "field": "编号", "resource": "t-none"}])
    with pytest.raises(Invalid, match="repeat"):
        declare(session, steward, "t-bad", [{"check": "not_null", "field": "编号"}] * 2)
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        RuleSet.model_validate({"rules": [{"check": "is_nice", "field": "编号"}]})
    assert database_state(session) == before


def test_a_consumer_may_not_declare_rules_nor_run_them(session: Session, steward: Actor, settings: Settings) -> None:
    make_resource(session, steward, "t-perm")
    ingest(session, steward, settings.home, "t-perm", "编号\n1\n".encode())
    consumer = actor_named(session, "consumer")
    with pytest.raises((Forbidden, NotFound)):
        declare(session, consumer, "t-perm", [{"check": "not_null", "field": "编号"}])
    with pytest.raises((Forbidden, NotFound)):
        quality.run_quality(session, consumer, home=settings.home, resource_code="t-perm")


def test_rules_are_suggested_from_detections_and_keys_once(
    session: Session, steward: Actor, settings: Settings
) -> None:
    fields = [
        {"name": "身份证号", "type": "string"},
        {"name": "出生日期", "type": "date"},
        {"name": "性别", "type": "string"},
        {"name": "手机", "type": "string"},
        {"name": "统一社会信用代码", "type": "string", "is_key": True},
    ]
    make_resource(session, steward, "t-suggest", fields=fields)
    header = "身份证号,出生日期,性别,手机,统一社会信用代码\n"
    data = header + "11010519491231002X,1949-12-31,女,13800000000,91110105672353933E\n"
    version = ingest(session, steward, settings.home, "t-suggest", data.encode())
    # classification runs first on the version, so its detections and the key give the suggestions
    added = quality.list_rules(session, steward, resource_code="t-suggest")
    assert {r.kind for r in session.scalars(select(FieldDetection).where(FieldDetection.version_id == version.id))} >= {
        "resident_id",
        "uscc",
        "mobile",
        "birth_date",
    }
    names = {r.name for r in added}
    assert {
        "not_null:统一社会信用代码",
        "unique:统一社会信用代码",
        "check_digit:身份证号",
        "id_consistency:身份证号+出生日期+性别",
        "date_bounds:出生日期",
        "pattern:手机",
        "check_digit:统一社会信用代码",
    } == names
    assert all(r.origin == "suggested" and r.enabled for r in added)
    assert suggest.suggest_rules(session, steward, resource_code="t-suggest") == []
    run = quality.run_quality(session, steward, home=settings.home, resource_code="t-suggest")
    assert run.score == 1.0 and set(run.dimensions) == {"completeness", "uniqueness", "validity", "consistency"}


def test_rules_are_suggested_from_the_data_elements_fields_conform_to(
    session: Session, steward: Actor, settings: Settings
) -> None:
    fields = [
        {"name": "代码", "type": "string", "data_element": "DE0001"},  # credit code: its check digit
        {"name": "区划", "type": "string", "data_element": "DE0006"},  # region: format and GB/T 2260
        {"name": "性别", "type": "string", "data_element": "DE0008"},  # sex: format and GB/T 2261.1
        {"name": "电话", "type": "string", "data_element": "DE0010"},  # mobile: format
        {"name": "名称", "type": "string", "data_element": "DE0004"},  # a name: no standard to check
    ]
    make_resource(session, steward, "t-elements", fields=fields)
    data = "代码,区划,性别,电话,名称\n91110105672353933E,330106,1,13800000000,甲\n"
    data += "91110105672353933F,33010A,3,1380000,乙\n"
    ingest(session, steward, settings.home, "t-elements", data.encode())
    rules = {r.name: r for r in quality.list_rules(session, steward, resource_code="t-elements")}
    assert set(rules) == {
        "check_digit:代码",
        "pattern:区划",
        "code_table:区划",
        "code_table:性别",  # the version holds 1 and 3 as integers: a format is for text, the table still holds
        "pattern:电话",
    }  # the element's check digit stands in for its format; classification proposes nothing more here
    assert rules["code_table:区划"].params == {"table": "gb2260_division"}
    assert rules["pattern:电话"].params["regex"] == "^1[3-9][0-9]{9}$"
    failed = {name: r.failed_rows for name, r in results(session, steward, settings, "t-elements").items()}
    assert failed == {name: 1 for name in rules}, "the second row breaks every standard"


def test_the_league_ranks_departments_by_their_latest_scores(
    session: Session, steward: Actor, admin: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-league")
    ingest(session, steward, settings.home, "t-league", "编号\n1\n1\n".encode())
    declare(session, steward, "t-league", [{"check": "unique", "field": "编号"}])
    quality.run_quality(session, steward, home=settings.home, resource_code="t-league")
    league = {row.department: row for row in reports.department_league(session, admin)}
    ours = league["杭州市市场监督管理局"]
    assert ours.resources >= 1 and ours.flagged >= 1 and 0 <= ours.score < 1
    assert session.scalar(select(QualityRun.score).order_by(QualityRun.id.desc()).limit(1)) == 0.5
