"""`digigov open …` as the platform's staff use it, on a data home of its own: data requests and their answers,
applications for 受限开放 data and their two decisions, downloads and ratings; help on every command; refusals
say why, exit non-zero and change nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from digigov.cli import app
from digigov.core import migrate, workdays
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work, utcnow
from digigov.datastore import versions
from digigov.demo import load_demo, load_reference_data
from digigov.opendata import applications, data, feedback
from digigov.opendata.schemas import ApplicationCreate, DataRequestCreate
from tests.conftest import actor_named
from tests.opendata.conftest import OPEN, PROHIBITED, RESTRICTED, publish, register

COMMANDS = [["open"], *(["open", c] for c in ("requests", "answer", "applications", "decide", "stats"))]


def run(home: Path, *args: str, lang: str = "C.UTF-8") -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": lang, "DIGIGOV_LANG": None, "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def as_json(home: Path, *args: str) -> Any:
    code, out, err = run(home, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def engine_of(home: Path) -> Engine:
    return make_engine(Settings(home=home).resolved_database_url())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated data home with the demo users, one resource of each open type and a registered enterprise
    that rated and downloaded rk-open."""
    path = tmp_path_factory.mktemp("open-home")
    engine = engine_of(path)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password="cli-test-password-2026")
    with unit_of_work(engine) as session:
        steward, reviewer = actor_named(session, "steward"), actor_named(session, "reviewer")
        for code, open_type in ((OPEN, "unconditional"), (RESTRICTED, "restricted"), (PROHIBITED, "prohibited")):
            publish(session, steward, reviewer, path, code=code, open_type=open_type)
    versions.wait_for_lookups()
    with unit_of_work(engine) as session:
        feedback.rate(session, register(session, "shuzhi"), code=OPEN, stars=4)
        register(session, "liyan", kind="researcher")
    with unit_of_work(engine) as session:  # a download records itself beside the reading transaction
        shuzhi, settings = actor_named(session, "shuzhi"), Settings(home=path, demo=True)
        made = data.download(session, shuzhi, settings, code=OPEN, fmt="csv", via="page", now=utcnow())
        shutil.rmtree(made.path.parent, ignore_errors=True)
    engine.dispose()
    return path


def asked(home: Path, title: str = "食品经营许可信息") -> int:
    """A new data request of the registered enterprise (made on the portal; there is no command for it)."""
    engine = engine_of(home)
    with unit_of_work(engine) as session:
        body = DataRequestCreate(title=title, description="希望开放全市食品经营许可证的发证信息")
        request_id = feedback.request_data(session, actor_named(session, "shuzhi"), body).id
    engine.dispose()
    return request_id


def applied(home: Path, username: str) -> int:
    """A new application of a registered user for rk-restricted (made on the portal)."""
    engine = engine_of(home)
    with unit_of_work(engine) as session:
        body = ApplicationCreate(resource_code=RESTRICTED, purpose="研究杭州市人口结构变化", commitment=True, days=30)
        made = applications.apply(session, actor_named(session, username), body, today=workdays.china_today())
        application_id = made.id
    engine.dispose()
    return application_id


def application(home: Path, application_id: int) -> dict[str, Any]:
    (found,) = [a for a in as_json(home, "open", "applications") if a["id"] == application_id]
    return dict(found)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_open_command_has_help(home: Path, command: list[str]) -> None:
    code, out, err = run(home, *command, "--help")
    assert code == 0, err
    assert "Usage" in out


def test_answer_a_data_request_from_the_command_line(home: Path) -> None:
    request_id = asked(home)
    code, out, _ = run(home, "open", "requests", "--state", "pending")
    assert code == 0 and f"#{request_id} pending (待答复) 食品经营许可信息 — 企业 · 杭州数智科技有限公司" in out
    rid = str(request_id)

    code, _, err = run(home, "open", "answer", rid, "--accept", "--text", "已开放", "--as", "steward")
    assert code == 4 and "Your roles do not allow 'opendata.feedback.moderate'" in err
    code, out, err = run(
        home, "open", "answer", rid, "--accept", "--text", "已开放", "--resource", OPEN, "--as", "reviewer"
    )
    assert code == 0 and f"data request #{request_id}: accepted (已采纳), answered by {OPEN}" in out, err
    (read,) = [r for r in as_json(home, "open", "requests", "--state", "accepted") if r["id"] == request_id]
    assert (read["answer"], read["resource_code"], read["asked_by"]) == ("已开放", OPEN, "企业 · 杭州数智科技有限公司")
    code, out, _ = run(home, "open", "requests")
    assert (
        f"#{request_id} accepted (已采纳) 食品经营许可信息 — 企业 · 杭州数智科技有限公司; answer: 已开放 ({OPEN})"
        in out
    )

    code, _, err = run(home, "open", "answer", rid, "--decline", "--reason", "再答一次")
    assert code == 6 and f"Data request {request_id} is answered already." in err
    declined = as_json(home, "open", "answer", str(asked(home, "公交站点")), "--decline", "--reason", "暂无该数据")
    assert (declined["state"], declined["state_label"], declined["answer"]) == ("declined", "暂不开放", "暂无该数据")


def test_answer_refusals_say_why_and_change_nothing(home: Path) -> None:
    rid = str(asked(home))
    code, _, err = run(home, "open", "answer", rid, "--reason", "已开放")
    assert code == 2 and "Say --accept or --decline." in err
    code, _, err = run(home, "open", "answer", rid, "--decline", "--reason", " ")
    assert code == 2 and "An answer needs its reason." in err
    code, _, err = run(home, "open", "answer", rid, "--decline", "--reason", " ", lang="zh_CN.UTF-8")
    assert code == 2 and "答复须说明理由。" in err
    code, _, err = run(home, "open", "answer", rid, "--accept", "--reason", "见此", "--resource", PROHIBITED)
    assert code == 3 and f"Open resource {PROHIBITED} does not exist." in err  # 禁止开放: as if none
    code, _, err = run(home, "open", "answer", rid, "--accept", "--reason", "见此", "--resource", "不是代码")
    assert code == 2 and "invalid resource_code" in err
    (read,) = [r for r in as_json(home, "open", "requests") if r["id"] == int(rid)]
    assert (read["state"], read["answer"]) == ("pending", "")


def test_an_application_goes_through_both_decisions(home: Path) -> None:
    application_id = applied(home, "shuzhi")
    aid = str(application_id)
    assert application_id not in [a["id"] for a in as_json(home, "open", "applications", "--as", "consumer")]
    code, out, _ = run(home, "open", "applications", "--state", "pending_source", "--as", "steward")
    assert code == 0
    assert (
        f"#{application_id} {RESTRICTED} pending_source (待数源部门审核) 王经理, 企业 杭州数智科技有限公司, 30 days"
        in out
    )

    code, _, err = run(home, "open", "decide", aid, "--approve", "--as", "reviewer")
    assert code == 4 and "Your roles do not allow 'opendata.application.approve_source'" in err
    code, out, err = run(home, "open", "decide", aid, "--approve", "--as", "steward")
    assert code == 0 and f"application #{application_id}: pending_platform (待平台审核)" in out, err
    code, _, err = run(home, "open", "decide", aid, "--approve", "--as", "steward")
    assert code == 4 and "Your roles do not allow 'opendata.application.approve_platform'" in err
    decided = as_json(home, "open", "decide", aid, "--approve", "--reason", "同意", "--as", "reviewer")
    today = workdays.china_today()
    assert (decided["state"], decided["starts_on"], decided["platform_reason"]) == ("approved", str(today), "同意")
    code, _, err = run(home, "open", "decide", aid, "--refuse", "--reason", "晚了")
    assert code == 6 and f"Application {application_id} is approved, not pending_platform." in err
    approved = as_json(home, "open", "applications", "--state", "approved")
    assert application_id in [a["id"] for a in approved]


def test_decision_refusals_say_why_and_change_nothing(home: Path) -> None:
    application_id = applied(home, "liyan")
    aid = str(application_id)
    code, _, err = run(home, "open", "decide", aid)
    assert code == 2 and "Say --approve or --refuse." in err
    code, _, err = run(home, "open", "decide", aid, "--refuse", "--as", "steward")
    assert code == 2 and "A refusal needs its reason." in err
    code, _, err = run(home, "open", "decide", aid, "--refuse", "--as", "steward", lang="zh_CN.UTF-8")
    assert code == 2 and "驳回须说明理由。" in err
    code, _, err = run(home, "open", "decide", aid, "--approve", "--as", "consumer")
    assert code == 3 and f"Application {application_id} does not exist." in err  # another department's
    assert application(home, application_id)["state"] == "pending_source"

    code, out, err = run(home, "open", "decide", aid, "--refuse", "--reason", "用途不明", "--as", "steward")
    assert code == 0 and f"application #{application_id}: refused (未批准)" in out, err
    assert application(home, application_id)["source_reason"] == "用途不明"


def test_stats_count_downloads_and_ratings(home: Path) -> None:
    code, out, err = run(home, "open", "stats")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "2 open resources: 1 downloads, 1 ratings"
    assert lines[1].startswith(f"{OPEN} ") and lines[1].endswith("(无条件开放): 1 downloads, rating 4.0 of 1")
    assert lines[2].startswith(f"{RESTRICTED} ") and lines[2].endswith("(受限开放): 0 downloads, no ratings")
    found = as_json(home, "open", "stats", "--limit", "1")
    assert [(r["code"], r["downloads"], r["rating"], r["ratings"]) for r in found] == [(OPEN, 1, 4.0, 1)]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["answer", "999999", "--accept", "--reason", "x"], 3, "Data request 999999 does not exist."),
        (["answer", "1", "--accept"], 2, "Missing option '--reason'"),
        (["answer", "0", "--accept", "--reason", "x"], 2, "Invalid value for 'ID'"),
        (["decide", "999999", "--approve"], 3, "Application 999999 does not exist."),
        (["decide", "1", "--approve", "--as", "nobody"], 3, "No user is named nobody."),
        (["decide", "x", "--approve"], 2, "Invalid value for 'ID'"),
        (["requests", "--state", "answered"], 2, "'answered' is not one of"),
        (["applications", "--state", "done"], 2, "'done' is not one of"),
        (["applications", "--as", "policy"], 4, "Your roles do not allow 'opendata.application.read'"),
        (["stats", "--limit", "0"], 2, "Invalid value for '--limit'"),
    ],
)
def test_bad_input_is_a_specific_error(home: Path, args: list[str], code: int, message: str) -> None:
    exit_code, _, err = run(home, "open", *args)
    assert exit_code == code and message in " ".join(err.split()), err
