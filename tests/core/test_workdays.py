"""The working-day calendar: seeded years, provisional years, loading a schedule by service, API and CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from digigov.cli import app as cli
from digigov.core import audit, workdays
from digigov.core.audit import AuditHead
from digigov.core.auth import Actor
from digigov.core.errors import Forbidden, Invalid
from tests.helpers import last_event

# The State Council's 2027 notice is not out; a plausible schedule in the notice's shape.
SCHEDULE_2027 = """\
# 2027 年部分节假日安排
2027-01-01,休,元旦
2027-02-06~2027-02-12,休,春节
2027-02-13,班,春节调休
2027-02-14,班,春节调休
"""


def calendar_state(session: Session) -> tuple[Any, ...]:
    """Everything a failed load must leave alone: the years, 2027's days, the audit head."""
    years = [(y.year, y.source, y.loaded_by) for y in workdays.loaded_years(session)]
    days = [(d.day, d.is_working, d.name) for d in workdays.year_days(session, 2027)]
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    return years, days, tuple(head)


# ---- seeded years ---------------------------------------------------------------------------


def test_years_up_to_2026_are_seeded_from_chinese_calendar(session: Session) -> None:
    seeded = {y.year: y.source for y in workdays.loaded_years(session)}
    assert seeded[2026] == "chinese-calendar"
    assert 2027 not in seeded


def test_national_day_2026_counts_the_make_up_saturday(session: Session) -> None:
    # Official 2026 schedule: 10-01..10-07 off, Saturday 10-10 worked. From Monday 09-28:
    # 09-29 (1), 09-30 (2), 10-08 (3), 10-09 (4), 10-10 Sat (5), 10-12..10-16 (6..10).
    deadline = workdays.add_working_days(session, date(2026, 9, 28), 10)
    assert deadline == workdays.Deadline(date(2026, 10, 16), provisional=False)


def test_2026_holidays_and_make_up_days_are_stored(session: Session) -> None:
    assert workdays.is_working_day(session, date(2026, 10, 10)) == (True, False)  # Saturday, 班
    assert workdays.is_working_day(session, date(2026, 10, 5)) == (False, False)  # Monday, 休
    assert workdays.is_working_day(session, date(2026, 10, 8)) == (True, False)
    names = {d.day: d.name for d in workdays.year_days(session, 2026)}
    assert names[date(2026, 10, 1)] == "国庆节"
    assert names[date(2026, 10, 10)] == "国庆节调休上班"


def test_working_days_between_counts_holidays_out(session: Session) -> None:
    assert workdays.working_days_between(session, date(2026, 9, 28), date(2026, 10, 16)) == 10
    assert workdays.working_days_between(session, date(2026, 10, 16), date(2026, 9, 28)) == -10
    assert workdays.working_days_between(session, date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_zero_working_days_is_the_start_and_out_of_range_is_invalid(session: Session) -> None:
    assert workdays.add_working_days(session, date(2026, 10, 3), 0).due == date(2026, 10, 3)
    with pytest.raises(Invalid, match="out of range"):
        workdays.add_working_days(session, date(2026, 1, 5), -1)


# ---- a year with no schedule ------------------------------------------------------------------


def test_deadline_into_an_unloaded_year_is_provisional_and_counts_weekends_only(session: Session) -> None:
    # 12-29, 12-30, 12-31, then 2027-01-01 (a Friday, counted: nothing says it is off), 01-04..01-08, 01-11.
    deadline = workdays.add_working_days(session, date(2026, 12, 28), 10)
    assert deadline == workdays.Deadline(date(2027, 1, 11), provisional=True)
    assert workdays.is_working_day(session, date(2027, 1, 1)) == (True, True)
    assert workdays.is_working_day(session, date(2027, 1, 2)) == (False, True)


def test_deadline_within_a_loaded_year_stays_firm_up_to_its_last_day(session: Session) -> None:
    assert not workdays.add_working_days(session, date(2026, 12, 24), 5).provisional  # due 12-31


# ---- loading a schedule: service ---------------------------------------------------------------


def test_parse_schedule_expands_ranges_and_reads_kinds() -> None:
    entries = workdays.parse_schedule(2027, SCHEDULE_2027)
    assert len(entries) == 10
    assert entries[0] == workdays.ScheduleEntry(date(2027, 1, 1), False, "元旦")
    assert [e.day for e in entries if e.is_working] == [date(2027, 2, 13), date(2027, 2, 14)]
    assert workdays.parse_schedule(2027, "2027-5-1 至 2027-5-3 假")[2].name == "节假日"


def test_loading_2027_makes_it_firm_and_is_audited(session: Session, admin: Actor) -> None:
    before = audit.event_count(session)
    entries = workdays.parse_schedule(2027, SCHEDULE_2027)
    loaded = workdays.load_schedule(session, admin, year=2027, entries=entries, source="国办发明电〔2026〕X号")
    assert (loaded.year, loaded.loaded_by, loaded.source) == (2027, "admin", "国办发明电〔2026〕X号")
    assert workdays.add_working_days(session, date(2026, 12, 28), 10) == workdays.Deadline(date(2027, 1, 12), False)
    assert audit.event_count(session) == before + 1
    event = last_event(session)
    assert (event.kind, event.target, event.actor_name) == ("calendar.loaded", "calendar:2027", "admin")
    assert '"holidays":8' in event.detail and '"working_days":2' in event.detail
    assert audit.verify_chain(session).ok


def test_loading_a_year_again_replaces_it(session: Session, admin: Actor) -> None:
    workdays.load_schedule(session, admin, year=2027, entries=workdays.parse_schedule(2027, SCHEDULE_2027), source="a")
    replacement = workdays.parse_schedule(2027, "2027-10-01~2027-10-07,休,国庆节")
    workdays.load_schedule(session, admin, year=2027, entries=replacement, source="b")
    days = workdays.year_days(session, 2027)
    assert [d.day for d in days][0] == date(2027, 10, 1) and len(days) == 7
    assert [y.source for y in workdays.loaded_years(session) if y.year == 2027] == ["b"]


def test_only_a_platform_admin_loads_a_schedule(session: Session, steward: Actor, auditor: Actor) -> None:
    before = calendar_state(session)
    entries = workdays.parse_schedule(2027, SCHEDULE_2027)
    for actor in (steward, auditor):
        with pytest.raises(Forbidden):
            workdays.load_schedule(session, actor, year=2027, entries=entries, source="x")
    assert calendar_state(session) == before


def test_year_out_of_range_is_invalid_and_changes_nothing(session: Session, admin: Actor) -> None:
    before = calendar_state(session)
    with pytest.raises(Invalid, match="out of range"):
        workdays.load_schedule(session, admin, year=2201, entries=[], source="x")
    assert calendar_state(session) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-01-01 元旦 放假", "Line 1 '2027-01-01 元旦 放假' is not"),
        ("2027-01-01,休,元旦\n2027/02/06,休,春节", "Line 2"),
        ("2026-10-01,休,国庆节", "Line 1: the days must fall within 2027"),
        ("2027-02-12~2027-02-06,休,春节", "in order"),
        ("", "The schedule is empty."),
        ("# only a comment\n\n", "The schedule is empty."),
        ("2027-02-30,休,春节", "Line 1: 2027-02-30 is not a date."),
        ("2027-01-01,上,元旦", "Line 1"),
    ],
)
def test_malformed_schedules_are_refused_with_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        workdays.parse_schedule(2027, text)
    assert message in caught.value.message
    assert caught.value.message_zh != caught.value.message


# ---- loading a schedule: API -------------------------------------------------------------------


def test_api_put_year_as_admin(client: TestClient, token_for: Any, session: Session) -> None:
    admin, auditor, steward = token_for("admin"), token_for("auditor"), token_for("steward")
    before = audit.event_count(session)
    response = client.put("/api/v1/calendar/years/2027", json={"text": SCHEDULE_2027, "source": "通知"}, headers=admin)
    assert response.status_code == 200
    assert response.json()["year"] == 2027 and response.json()["loaded_by"] == "admin"
    assert audit.event_count(session) == before + 1
    assert last_event(session).kind == "calendar.loaded"
    days = client.get("/api/v1/calendar/years/2027", headers=auditor).json()
    assert days[0] == {"day": "2027-01-01", "is_working": False, "name": "元旦"}
    deadline = client.get(
        "/api/v1/calendar/deadline", params={"start": "2026-12-28", "working_days": 10}, headers=steward
    ).json()
    assert deadline == {"start": "2026-12-28", "working_days": 10, "due": "2027-01-12", "provisional": False}


def test_api_deadline_before_loading_is_provisional(client: TestClient, token_for: Any) -> None:
    response = client.get(
        "/api/v1/calendar/deadline", params={"start": "2026-12-28", "working_days": 10}, headers=token_for("steward")
    )
    assert response.json()["due"] == "2027-01-11" and response.json()["provisional"] is True


def test_api_put_year_as_steward_is_forbidden(client: TestClient, token_for: Any, session: Session) -> None:
    headers = token_for("steward")
    before = calendar_state(session)
    response = client.put("/api/v1/calendar/years/2027", json={"text": SCHEDULE_2027}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert calendar_state(session) == before


@pytest.mark.parametrize(
    ("year", "body", "detail"),
    [
        (2027, {"text": "2027-01-01,休,元旦\n元旦 放假"}, "Line 2 '元旦 放假' is not"),
        (2027, {"text": "2026-01-01,休,元旦"}, "must fall within 2027"),
        (2027, {"text": "2027-02-30,休,春节"}, "2027-02-30 is not a date"),
        (2027, {"text": "#\n"}, "The schedule is empty."),
        (2027, {"text": ""}, "Invalid input: text."),
        (1900, {"text": "1900-01-01,休,元旦"}, "Invalid input: year."),
    ],
)
def test_api_put_malformed_schedule_is_422_and_changes_nothing(
    client: TestClient, token_for: Any, session: Session, year: int, body: dict[str, str], detail: str
) -> None:
    headers = {**token_for("admin"), "Accept-Language": "en"}
    before = calendar_state(session)
    response = client.put(f"/api/v1/calendar/years/{year}", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    assert calendar_state(session) == before


def test_api_error_is_chinese_by_default(client: TestClient, token_for: Any) -> None:
    response = client.put("/api/v1/calendar/years/2027", json={"text": "2027-02-30,休"}, headers=token_for("admin"))
    assert response.json()["detail"] == "第 1 行：2027-02-30 不是有效日期。"


# ---- loading a schedule: CLI -------------------------------------------------------------------


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data home with its own SQLite database, initialised by `digigov init`."""
    home = tmp_path / "home"
    monkeypatch.setenv("DIGIGOV_HOME", str(home))
    monkeypatch.setenv("DIGIGOV_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DIGIGOV_LANG", "en")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("DIGIGOV_DATABASE_URL", raising=False)
    monkeypatch.delenv("DIGIGOV_DEMO", raising=False)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    return home


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_cli_load_makes_2027_firm(cli_home: Path, tmp_path: Path) -> None:
    assert run("calendar", "deadline", "10", "--start", "2026-12-28") == (
        0,
        "2027-01-11 (provisional: no official schedule for that year)",
    )
    schedule = tmp_path / "2027.txt"
    schedule.write_text(SCHEDULE_2027, encoding="utf-8")
    code, output = run("calendar", "load", "2027", str(schedule), "--source", "国办通知")
    assert code == 0, output
    assert "2027: 8 holidays and 2 make-up working days loaded" in output
    assert run("calendar", "deadline", "10", "--start", "2026-12-28") == (0, "2027-01-12")
    code, output = run("audit", "verify")
    assert code == 0 and output.startswith("ok, ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-02-30,休,春节\n", "Line 1: 2027-02-30 is not a date."),
        ("2026-10-01,休,国庆节\n", "the days must fall within 2027"),
        ("", "The schedule is empty."),
        ("2027-01-01,休,元旦\nnot a line\n", "Line 2 'not a line' is not"),
    ],
)
def test_cli_load_malformed_schedule_exits_2_and_changes_nothing(
    cli_home: Path, tmp_path: Path, text: str, message: str
) -> None:
    _, audit_before = run("audit", "verify")
    schedule = tmp_path / "bad.txt"
    schedule.write_text(text, encoding="utf-8")
    code, output = run("calendar", "load", "2027", str(schedule))
    assert code == 2
    assert message in output
    assert run("audit", "verify") == (0, audit_before)
    assert run("calendar", "deadline", "10", "--start", "2026-12-28")[1].endswith(
        "(provisional: no official schedule for that year)"
    )


def test_cli_load_missing_or_undecodable_file(cli_home: Path, tmp_path: Path) -> None:
    code, output = run("calendar", "load", "2027", str(tmp_path / "nope.txt"))
    assert code == 2 and "Cannot read" in output
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("2027-01-01,休,元旦".encode("gbk"))
    code, output = run("calendar", "load", "2027", str(gbk))
    assert code == 2 and "Cannot read" in output
