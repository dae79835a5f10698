"""`digigov share …` as an operator, a steward and a reviewer use it, on a data home of its own: list,
decide, revoke; help on every command; refusals say why, exit non-zero and change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from digigov.cli import app
from digigov.core import migrate, workdays
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.datastore import versions
from digigov.demo import load_demo, load_reference_data
from digigov.sharing import service
from digigov.sharing.schemas import ShareRequestCreate
from tests.conftest import actor_named
from tests.sharing.conftest import CODE, publish_persons

ID, NAME = "公民身份号码", "姓名"
COMMANDS = [["share"], *(["share", c] for c in ("requests", "decide", "grants", "revoke", "usage"))]


def run(home: Path, *args: str, lang: str = "C.UTF-8") -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": lang, "DIGIGOV_LANG": None, "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def as_json(home: Path, *args: str) -> Any:
    code, out, err = run(home, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated data home with the demo users and the steward's published, classified persons."""
    path = tmp_path_factory.mktemp("share-home")
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


def asked(home: Path) -> int:
    """A new request of the consumer's department (there is no `share request` command: requests are made on
    the pages or through the API)."""
    body = {"resource_code": CODE, "fields": [ID, NAME], "access": "lookup", "key_field": ID}
    body |= {
        "clear_fields": [NAME],
        "purpose": "核对社保待遇申领人的身份信息",
        "legal_basis": "《社会保险法》第七十四条",
    }
    engine = make_engine(Settings(home=home).resolved_database_url())
    with unit_of_work(engine) as session:
        made = service.request_share(
            session,
            actor_named(session, "consumer"),
            ShareRequestCreate.model_validate(body),
            today=workdays.china_today(),
        )
        request_id = made.id
    engine.dispose()
    return request_id


def state_of(home: Path, request_id: int) -> str:
    (found,) = [r for r in as_json(home, "share", "requests") if r["id"] == request_id]
    return str(found["state"])


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_share_command_has_help(home: Path, command: list[str]) -> None:
    code, out, err = run(home, *command, "--help")
    assert code == 0, err
    assert "Usage" in out


def test_decide_and_revoke_from_the_command_line(home: Path) -> None:
    request_id = asked(home)
    mine = as_json(home, "share", "requests", "--by", "consumer")
    assert [r["state"] for r in mine if r["id"] == request_id] == ["pending_source"]
    assert request_id not in [r["id"] for r in as_json(home, "share", "requests", "--by", "inspector")]
    code, out, _ = run(home, "share", "requests", "--state", "pending_source")
    assert code == 0 and f"#{request_id} {CODE} HZ-RSJ → HZ-SJJ lookup pending_source (待数源部门审核)" in out

    code, _, err = run(home, "share", "decide", str(request_id), "--as", "platform", "--approve", "--by", "reviewer")
    assert code == 6 and f"Share request {request_id} is pending_source, not pending_platform." in err
    code, out, err = run(
        home, "share", "decide", str(request_id), "--as", "source", "--approve", "--allow-clear", ID, "--by", "steward"
    )
    assert code == 0 and f"request #{request_id}: pending_platform (待平台审核)" in out, err
    code, out, err = run(
        home, "share", "decide", str(request_id), "--as", "platform", "--approve", "--rate-per-minute", "60",
        "--reason", "同意", "--by", "reviewer", "--json",
    )  # fmt: skip
    decided = json.loads(out)
    assert (code, decided["state"], decided["clear_fields"]) == (0, "approved", [ID]), err
    grant_id = decided["grant_id"]
    (grant,) = [g for g in as_json(home, "share", "grants", "--by", "consumer") if g["id"] == grant_id]
    assert (grant["state"], grant["rate_per_minute"], grant["masks"][NAME]) == ("approved", 60, "name")
    code, out, _ = run(home, "share", "grants")
    assert code == 0 and f"#{grant_id} {CODE} HZ-RSJ → HZ-SJJ lookup approved (待领取凭证)" in out

    code, _, err = run(home, "share", "revoke", str(grant_id), "--reason", "x", "--by", "consumer")
    assert code == 4 and "Your roles do not allow 'sharing.grant.revoke'" in err
    code, out, err = run(home, "share", "revoke", str(grant_id), "--reason", "项目结束", "--by", "steward")
    assert code == 0 and f"grant #{grant_id}: revoked (已撤销)" in out, err
    code, _, err = run(home, "share", "revoke", str(grant_id), "--reason", "再次撤销")
    assert code == 6 and f"Grant {grant_id} has ended already." in err


def test_refusals_say_why_and_change_nothing(home: Path) -> None:
    request_id = asked(home)
    rid = str(request_id)
    code, _, err = run(home, "share", "decide", rid, "--as", "source", "--refuse", "--by", "steward")
    assert code == 2 and "A refusal needs its reason." in err
    code, _, err = run(
        home, "share", "decide", rid, "--as", "source", "--refuse", "--by", "steward", lang="zh_CN.UTF-8"
    )
    assert code == 2 and "驳回须说明理由。" in err
    code, _, err = run(home, "share", "decide", rid, "--as", "source")
    assert code == 2 and "Say --approve or --refuse." in err
    code, _, err = run(home, "share", "decide", rid, "--as", "source", "--approve", "--daily-quota", "5")
    assert code == 2 and "set by the platform" in err
    code, _, err = run(home, "share", "decide", rid, "--as", "platform", "--approve", "--allow-clear", NAME)
    assert code == 2 and "--allow-clear is the source department's" in err
    code, _, err = run(home, "share", "decide", rid, "--as", "source", "--approve", "--allow-clear", NAME)
    assert code == 2 and "needs its key in clear text" in err  # the lookup key cannot be denied
    assert state_of(home, request_id) == "pending_source"

    code, _, err = run(
        home, "share", "decide", rid, "--as", "source", "--refuse", "--reason", "用途不符", "--by", "steward"
    )
    assert code == 0 and state_of(home, request_id) == "refused", err
    code, _, err = run(home, "share", "decide", rid, "--as", "platform", "--approve")
    assert code == 6 and "is refused, not pending_platform" in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["decide", "999999", "--as", "source", "--approve"], 3, "Share request 999999 does not exist."),
        (["revoke", "999999", "--reason", "x"], 3, "Grant 999999 does not exist."),
        (["revoke", "999999", "--reason", " "], 2, "A revocation needs its reason (--reason)."),
        (["revoke", "1"], 2, "Missing option '--reason'"),
        (["decide", "1", "--approve"], 2, "Missing option '--as'"),
        (["decide", "1", "--as", "sideways", "--approve"], 2, "'sideways' is not one of"),
        (["decide", "0", "--as", "source", "--approve"], 2, "Invalid value for 'ID'"),
        (["requests", "--state", "done"], 2, "'done' is not one of"),
        (["requests", "--by", "nobody"], 3, "No user is named nobody."),
        (["grants", "--by", "policy"], 4, "Your roles do not allow 'sharing.request.read'"),
    ],
)
def test_bad_input_is_a_specific_error(home: Path, args: list[str], code: int, message: str) -> None:
    exit_code, _, err = run(home, "share", *args)
    assert exit_code == code and message in " ".join(err.split()), err
