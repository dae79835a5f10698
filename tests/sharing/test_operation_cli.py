"""`digigov operate …` as the platform's admin and reviewers use it, on a data home of its own: licences and
their credentials, and releasing or holding operators' analyses; help on every command; refusals say why,
exit non-zero and change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import uscc
from typer.testing import CliRunner

from digigov.cli import app
from digigov.core import migrate, workdays
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.datastore import versions
from digigov.demo import load_demo, load_reference_data
from digigov.sharing import operation
from digigov.sharing.errors import CredentialRejected
from digigov.sharing.schemas import AnalysisSpec
from tests.conftest import actor_named
from tests.sharing.conftest import CODE, publish_persons

COMMANDS = [
    ["operate"],
    *(["operate", c] for c in ("licences", "grant-licence", "credential", "revoke-licence", "analyses")),
    *(["operate", c] for c in ("release", "hold")),
]
USCC = "91330100MA2B0QJX4" + uscc.calc_check_digit("91330100MA2B0QJX4")
OPERATOR = "浙江某数据科技有限公司"
SPEC = {"resource_code": CODE, "group_by": ["就业状态"], "aggregates": [{"fn": "count"}]}


def run(home: Path, *args: str, lang: str = "C.UTF-8") -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": lang, "DIGIGOV_LANG": None, "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def as_json(home: Path, *args: str) -> Any:
    code, out, err = run(home, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def granting(*extra: str) -> list[str]:
    return [
        "operate", "grant-licence", "--operator", OPERATOR, "--uscc", USCC, "--resource", CODE,
        "--purpose", "就业状态的区县分布分析", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated data home with the demo users and the steward's published, classified persons."""
    path = tmp_path_factory.mktemp("operate-home")
    engine = make_engine(Settings(home=path).resolved_database_url())
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password="cli-test-password-2026")
    with unit_of_work(engine) as session:
        publish_persons(session, actor_named(session, "steward"), actor_named(session, "reviewer"), path)
    versions.wait_for_lookups()
    engine.dispose()
    return path


def submitted(home: Path, credential: str, **change: object) -> int:
    """The operator's structured query, sent with the licence's credential (through the API; no command)."""
    engine = make_engine(Settings(home=home).resolved_database_url())
    with unit_of_work(engine) as session:
        licence = operation.open_licence(session, credential, today=workdays.china_today())
        analysis_id = operation.submit_analysis(session, home, licence, AnalysisSpec.model_validate(SPEC | change)).id
    engine.dispose()
    return analysis_id


def analysis(home: Path, analysis_id: int, state: str) -> dict[str, Any]:
    (found,) = [a for a in as_json(home, "operate", "analyses", "--state", state) if a["id"] == analysis_id]
    return dict(found)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_operate_command_has_help(home: Path, command: list[str]) -> None:
    code, out, err = run(home, *command, "--help")
    assert code == 0, err
    assert "Usage" in out


def test_grant_a_licence_and_hand_over_its_credential(home: Path) -> None:
    code, out, err = run(home, *granting("--k", "5", "--as", "admin"))
    assert code == 0, err
    credential = out.strip()
    assert credential.startswith("dgo_") and "shown only now" in err
    (licence,) = [lic for lic in as_json(home, "operate", "licences") if lic["credential_prefix"] == credential[:12]]
    assert (licence["operator"], licence["operator_uscc"], licence["k"]) == (OPERATOR, USCC, 5)
    assert licence["resources"] == [CODE] and licence["review_releases"] is True
    code, out, _ = run(home, "operate", "licences", "--as", "admin")
    assert f"#{licence['id']} {OPERATOR} {USCC} active k=5 {CODE} {licence['starts_on']}..{licence['ends_on']}" in out
    assert submitted(home, credential) > 0  # the credential opens the operator's API

    again = as_json(home, "operate", "credential", str(licence["id"]))
    assert again["credential"] != credential and again["licence"]["id"] == licence["id"]
    with pytest.raises(CredentialRejected):
        submitted(home, credential)  # issuing again killed the old one

    code, _, err = run(home, "operate", "revoke-licence", str(licence["id"]), "--reason", "合同终止")
    assert code == 0, err
    code, _, err = run(home, "operate", "revoke-licence", str(licence["id"]), "--reason", "再次")
    assert code == 6 and f"Licence {licence['id']} is revoked already." in err
    code, _, err = run(home, "operate", "credential", str(licence["id"]))
    assert code == 4 and f"Licence {licence['id']} is revoked." in err


def test_licence_refusals_say_why_and_grant_nothing(home: Path) -> None:
    before = len(as_json(home, "operate", "licences"))
    code, _, err = run(home, *granting("--as", "reviewer"))
    assert code == 4 and "Your roles do not allow 'sharing.licence.manage'" in err
    code, _, err = run(home, *granting("--resource", "rk-none"))
    assert code == 2 and "No published resource rk-none." in err
    code, _, err = run(home, *granting("--resource", "rk-none"), lang="zh_CN.UTF-8")
    assert code == 2 and "没有已发布的数据资源：rk-none。" in err
    code, _, err = run(home, "operate", "grant-licence", "--operator", OPERATOR, "--uscc", USCC[:-1] + "0",
                       "--resource", CODE, "--purpose", "分析")  # fmt: skip
    assert code == 2 and "wrong check character" in err
    code, _, err = run(home, *granting("--k", "1"))
    assert code == 2 and "Invalid value for '--k'" in err
    code, _, err = run(home, *granting("--starts-on", "2026-02-30"))
    assert code == 2 and "Invalid value for '--starts-on'" in err
    code, _, err = run(home, "operate", "grant-licence", "--operator", OPERATOR, "--uscc", USCC, "--purpose", "x")
    assert code == 2 and "Missing option '--resource'" in err
    assert len(as_json(home, "operate", "licences")) == before


def test_a_reviewer_releases_or_holds_each_analysis(home: Path) -> None:
    credential = as_json(home, *granting())["credential"]
    released = submitted(home, credential)
    held = submitted(
        home, credential, filters=[{"field": "户籍地行政区划代码", "op": "in", "value": ["330102", "330106"]}]
    )
    pending = analysis(home, released, "pending")
    assert pending["result"] is None and pending["k"] == 10
    code, out, _ = run(home, "operate", "analyses", "--as", "reviewer")
    assert f"#{held} licence #{pending['licence_id']} {CODE} v1 pending: " in out
    assert "group by 就业状态; count; where 户籍地行政区划代码 in 330102,330106" in out

    code, _, err = run(home, "operate", "release", str(released), "--as", "consumer")
    assert code == 4 and "Your roles do not allow 'sharing.release.review'" in err
    code, out, err = run(home, "operate", "release", str(released), "--as", "reviewer")
    assert code == 0 and f"analysis #{released}: released (" in out and "now shown to the operator)" in out, err
    assert analysis(home, released, "released")["result"]
    code, _, err = run(home, "operate", "release", str(released), "--as", "reviewer")
    assert code == 6 and f"Analysis {released} is released." in err

    code, _, err = run(home, "operate", "hold", str(held), "--reason", " ", "--as", "reviewer")
    assert code == 2 and "Holding a release needs its reason." in err
    code, _, err = run(home, "operate", "hold", str(held), "--reason", " ", lang="zh_CN.UTF-8")
    assert code == 2 and "暂缓发布须说明理由。" in err
    assert analysis(home, held, "pending")["state"] == "pending"
    code, out, err = run(home, "operate", "hold", str(held), "--reason", "两区合计可能逆推个体", "--as", "reviewer")
    assert code == 0 and f"analysis #{held}: held (两区合计可能逆推个体)" in out, err
    on_hold = analysis(home, held, "held")
    assert (on_hold["result"], on_hold["hold_reason"]) == (None, "两区合计可能逆推个体")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["release", "999999"], 3, "Analysis 999999 does not exist."),
        (["hold", "999999", "--reason", "x"], 3, "Analysis 999999 does not exist."),
        (["hold", "1"], 2, "Missing option '--reason'"),
        (["release", "0"], 2, "Invalid value for 'ID'"),
        (["credential", "999999"], 3, "Licence 999999 does not exist."),
        (["revoke-licence", "999999", "--reason", "x"], 3, "Licence 999999 does not exist."),
        (["revoke-licence", "999999", "--reason", " "], 2, "A revocation needs its reason (--reason)."),
        (["analyses", "--state", "done"], 2, "'done' is not one of"),
        (["analyses", "--as", "nobody"], 3, "No user is named nobody."),
        (["licences", "--as", "reviewer"], 4, "Your roles do not allow 'sharing.licence.manage'"),
    ],
)
def test_bad_input_is_a_specific_error(home: Path, args: list[str], code: int, message: str) -> None:
    exit_code, _, err = run(home, "operate", *args)
    assert exit_code == code and message in " ".join(err.split()), err
