"""The working-day calendar (工作日): official holidays and make-up working days.

The database keeps each loaded year's exceptions to the Monday-Friday week: holidays
(休) and make-up working days (班). Years up to 2026 are seeded from `chinese-calendar`;
later years are loaded by an admin from the State Council's notice. For a year with no
schedule, deadlines count weekends only and are marked provisional rather than failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import Boolean, Date, DateTime, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from digigov.core import audit
from digigov.core.auth import Actor, Role, declare, require
from digigov.core.db import Base, utcnow
from digigov.core.errors import Invalid

declare(
    "calendar.load",
    "Load a year's official holiday schedule.",
    "导入节假日安排",
    {Role.platform_admin},
    department_scoped=False,
)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarYear(Base):
    """A year whose official schedule is loaded."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(100))


class CalendarDay(Base):
    """A day that departs from the Monday-Friday week: a holiday or a make-up working day."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(50))


@dataclass(frozen=True)
class CalendarLoaded(audit.AuditEvent):
    kind = "calendar.loaded"
    description = "A year's holiday schedule was loaded or replaced."
    year: int
    holidays: int
    working_days: int
    source: str

    @property
    def target(self) -> str:
        return f"calendar:{self.year}"


def china_today() -> date:
    """Today's date in China (UTC+8), whatever the server's zone: deadlines count Chinese days."""
    return datetime.now(UTC).astimezone(CHINA).date()


def china_day(moment: datetime) -> date:
    """China's date at `moment`, a naive UTC time as the metadata store keeps them."""
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()


def china_day_start(day: date) -> datetime:
    """When China's `day` began, as a naive UTC time (what the metadata store keeps): for "today's" counts."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class ScheduleEntry:
    """One line of an official schedule: a day, whether people work, and why."""

    day: date
    is_working: bool
    name: str


@dataclass(frozen=True)
class Deadline:
    """A due date in working days; provisional when a year it crosses has no schedule."""

    due: date
    provisional: bool


_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{1,2}-\d{1,2})(?:\s*[~至]\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?"
    r"\s*[,，\s]\s*(?P<kind>休|假|班|holiday|workday)\s*(?:[,，\s]\s*(?P<name>.+))?$"
)


def parse_schedule(year: int, text: str) -> list[ScheduleEntry]:
    """Parse lines like `2027-02-06~2027-02-12,休,春节` or `2027-02-14,班,春节调休`.

    >>> [e.day.isoformat() for e in parse_schedule(2027, "2027-01-01,休,元旦")]
    ['2027-01-01']
    """
    entries: dict[date, ScheduleEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise Invalid(
                f"Line {number} '{line}' is not 'YYYY-MM-DD[~YYYY-MM-DD],休|班,name'.",
                f"第 {number} 行“{line}”格式应为“YYYY-MM-DD[~YYYY-MM-DD],休|班,名称”。",
            )
        start = _parse_day(match["start"], number)
        end = _parse_day(match["end"], number) if match["end"] else start
        if start.year != year or end.year != year or end < start:
            raise Invalid(
                f"Line {number}: the days must fall within {year}, in order.",
                f"第 {number} 行：日期须在 {year} 年内且起止顺序正确。",
            )
        working = match["kind"] in {"班", "workday"}
        name = (match["name"] or ("调休上班" if working else "节假日")).strip()[:50]
        day = start
        while day <= end:
            entries[day] = ScheduleEntry(day, working, name)
            day += timedelta(days=1)
    if not entries:
        raise Invalid("The schedule is empty.", "节假日安排为空。")
    return sorted(entries.values(), key=lambda e: e.day)


def _parse_day(text: str, number: int) -> date:
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        raise Invalid(f"Line {number}: {text} is not a date.", f"第 {number} 行：{text} 不是有效日期。") from None


def load_schedule(
    session: Session, actor: Actor, *, year: int, entries: list[ScheduleEntry], source: str
) -> CalendarYear:
    """Replace a year's schedule with the official one; audited."""
    require(actor, "calendar.load")
    if not 1949 <= year <= 2200:
        raise Invalid(f"Year {year} is out of range.", f"年份 {year} 超出范围。")
    _store_year(session, actor, year, entries, source=source)
    return session.get_one(CalendarYear, year)


def _store_year(session: Session, actor: Actor, year: int, entries: list[ScheduleEntry], *, source: str) -> None:
    session.execute(
        delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    session.add_all(CalendarDay(day=e.day, is_working=e.is_working, name=e.name) for e in entries)
    loaded = session.get(CalendarYear, year)
    if loaded is None:
        session.add(CalendarYear(year=year, source=source, loaded_by=actor.username, loaded_at=utcnow()))
    else:
        loaded.source, loaded.loaded_by, loaded.loaded_at = source, actor.username, utcnow()
    session.flush()
    holidays = sum(not e.is_working for e in entries)
    audit.record(session, actor, CalendarLoaded(year, holidays, len(entries) - holidays, source))


def seed_from_chinese_calendar(session: Session, actor: Actor) -> list[int]:
    """Load every year `chinese-calendar` knows and the database lacks; returns those years."""
    from chinese_calendar import constants

    by_year: dict[int, list[ScheduleEntry]] = {}
    for day, name in constants.holidays.items():
        by_year.setdefault(day.year, []).append(ScheduleEntry(day, False, HOLIDAY_NAMES_ZH.get(name, name)))
    for day, name in constants.workdays.items():
        zh = HOLIDAY_NAMES_ZH.get(name, name) + "调休上班"
        by_year.setdefault(day.year, []).append(ScheduleEntry(day, True, zh))
    have = set(session.scalars(select(CalendarYear.year)))
    added = sorted(set(by_year) - have)
    for year in added:
        _store_year(session, actor, year, by_year[year], source="chinese-calendar")
    return added


def loaded_years(session: Session) -> list[CalendarYear]:
    """Years with an official schedule, newest first."""
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())))


def year_days(session: Session, year: int) -> list[CalendarDay]:
    """The exceptions stored for one year."""
    stmt = select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(session.scalars(stmt.order_by(CalendarDay.day)))


class _Calendar:
    """Exceptions and loaded years for a span of days, fetched in two queries."""

    def __init__(self, session: Session, first: date, last: date) -> None:
        rows = session.execute(
            select(CalendarDay.day, CalendarDay.is_working).where(CalendarDay.day.between(first, last))
        )
        self.exceptions = {day: working for day, working in rows}
        self.years = set(
            session.scalars(select(CalendarYear.year).where(CalendarYear.year.between(first.year, last.year)))
        )

    def is_working(self, day: date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def known(self, day: date) -> bool:
        return day.year in self.years


def is_working_day(session: Session, day: date) -> tuple[bool, bool]:
    """Whether people work that day, and whether the answer is provisional."""
    calendar = _Calendar(session, day, day)
    return calendar.is_working(day), not calendar.known(day)


def add_working_days(session: Session, start: date, days: int) -> Deadline:
    """The day `days` working days after `start` (start itself not counted)."""
    if not 0 <= days <= 3650:
        raise Invalid(f"{days} working days is out of range (0-3650).", f"{days} 个工作日超出范围（0-3650）。")
    # Long holidays never add more than a few weeks per year to a working-day span.
    calendar = _Calendar(session, start, start + timedelta(days=days * 2 + 30 + days // 10))
    day, counted, provisional = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        provisional |= not calendar.known(day)
        if calendar.is_working(day):
            counted += 1
    return Deadline(day, provisional)


def working_days_between(session: Session, start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -working_days_between(session, end, start)
    calendar = _Calendar(session, start, end)
    return sum(calendar.is_working(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))
