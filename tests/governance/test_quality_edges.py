"""Quality rules at the edges: the `digigov quality` CLI contract, the API and its permissions, the pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from digigov.cli import app
from digigov.core.auth import Actor
from digigov.core.config import Settings
from tests.conftest import database_state
from tests.governance.test_quality import ingest, make_resource
from tests.helpers import signed_in

RULES = """
resource: hz-cli
threshold: 0.95
rules:
  - check: not_null
    field: 编号
  - check: unique
    fields: [编号, 年份]
  - check: range
    field: 金额
    min: 0
"""


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": "C.UTF-8", "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run(home, "init", "--demo")[0] == 0
    return home


def test_the_cli_runs_rules_from_yaml_and_prints_the_json_contract(home: Path, tmp_path: Path) -> None:
    code, _, err = run(home, "quality", "run", "hz-none", "--json")
    assert code == 3 and "hz-none" in err
    create = ["resource", "create", "hz-cli", "--title", "质量测试", "--department", "HZ-SJJ"]
    assert run(home, *create)[0] == 0, run(home, *create)
    code, _, err = run(home, "quality", "run", "hz-cli", "--json")
    assert code == 3 and "no version" in err
    data = tmp_path / "data.csv"
    data.write_text("编号,年份,金额\n1,2024,5\n1,2024,-1\n,2025,3\n2,2025,4\n")
    assert run(home, "ingest", str(data), "--resource", "hz-cli")[0] == 0
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("min: 0", "min: zero"))
    code, _, err = run(home, "quality", "rules", "load", str(rules))
    assert code == 2 and "min" in err
    rules.write_text(RULES)
    assert run(home, "quality", "rules", "load", str(rules))[0] == 0
    code, out, _ = run(home, "quality", "run", "hz-cli", "--json")
    report = json.loads(out)
    assert code == 0 and {"resource", "version", "score", "dimensions", "rules"} <= set(report)
    assert (report["resource"], report["version"]) == ("hz-cli", 1)
    got = {r["rule"]: (r["failed_rows"], r["checked_rows"]) for r in report["rules"]}
    assert got == {"not_null:编号": (1, 4), "unique:编号+年份": (1, 4), "range:金额": (1, 4)}
    assert report["dimensions"] == {"completeness": 0.75, "uniqueness": 0.75, "validity": 0.75}
    assert report["score"] == 0.75 and report["flagged"] is True and report["threshold"] == 0.95
    code, out, _ = run(home, "quality", "rules", "list", "hz-cli", "--json")
    assert code == 0 and [r["kind"] for r in json.loads(out)] == ["not_null", "unique", "range"]


def test_rules_through_the_api_with_permissions(
    client: TestClient, token_for, session: Session, steward: Actor, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    make_resource(session, steward, "t-api")
    ingest(session, steward, settings.home, "t-api", "编号,手机\n1,13800000000\n2,1380000\n".encode())
    url = "/api/v1/governance/resources/t-api/quality"
    body = {"rules": [{"check": "pattern", "field": "手机", "regex": "1[3-9][0-9]{9}"}]}
    consumer, steward_token, admin = token_for("consumer"), token_for("steward"), token_for("admin")
    before = database_state(session)
    assert client.post(url + "/rules", json=body, headers=consumer).status_code in {403, 404}
    bad = {"rules": [{"check": "pattern", "field": "手机", "regex": "(?<=1)3"}]}
    refused = client.post(url + "/rules", json=bad, headers=steward_token)
    assert refused.status_code == 422 and "RE2" in refused.json()["detail"]
    unknown = client.post(url + "/rules", json={"rules": [{"check": "nice"}]}, headers=steward_token)
    assert unknown.status_code == 422
    assert database_state(session) == before
    loaded = client.post(url + "/rules", json=body, headers=steward_token)
    assert loaded.status_code == 200 and loaded.json()[0]["origin"] == "declared"
    ran = client.post(url + "/run", headers=steward_token).json()
    assert (ran["score"], ran["rules"][0]["failed_rows"], ran["rules"][0]["sample"]) == (
        0.5,
        1,
        [{"_id": 2, "手机": "1380000"}],
    )
    assert client.get(url, headers=steward_token).json()["flagged"] is True
    trend = client.get(url + "/trend", headers=steward_token).json()
    assert [p["score"] for p in trend] == [0.5]
    threshold = client.put(url + "/threshold", json={"threshold": 0.4}, headers=steward_token)
    assert threshold.status_code == 200 and threshold.json()["threshold"] == 0.4
    league = client.get("/api/v1/governance/quality/league", headers=admin).json()
    assert any(row["department"] == "杭州市市场监督管理局" for row in league)


def test_the_report_trend_and_league_pages(
    client: TestClient, session: Session, steward: Actor, settings: Settings
) -> None:
    make_resource(session, steward, "t-page")
    ingest(session, steward, settings.home, "t-page", "编号\n1\n1\n".encode())
    from digigov.governance import quality
    from digigov.governance.rules import RuleSet

    rule_set = RuleSet.model_validate({"rules": [{"check": "unique", "field": "编号"}]})
    quality.load_rules(session, steward, resource_code="t-page", rule_set=rule_set)
    quality.run_quality(session, steward, home=settings.home, resource_code="t-page")
    signed_in(client, "steward", "/")
    report = client.get("/governance/quality/t-page/1")
    assert report.status_code == 200 and "唯一性" in report.text and "低于阈值" in report.text
    trend = client.get("/governance/quality/t-page")
    assert trend.status_code == 200 and "echarts.min.js" in trend.text and '"score": 0.5' in trend.text
    league = client.get("/governance/quality")
    assert league.status_code == 200 and "杭州市市场监督管理局" in league.text
