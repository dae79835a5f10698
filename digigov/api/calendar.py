"""Working-day calendar API: loaded years, a year's schedule, deadlines."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from digigov.core import workdays
from digigov.core.deps import ActorDep, SessionDep
from digigov.core.types import UtcDateTime

router = APIRouter(prefix="/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=1949, le=2200)]


class CalendarYearRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    year: int
    source: str
    loaded_at: UtcDateTime
    loaded_by: str


class CalendarDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    day: date
    is_working: bool
    name: str


class ScheduleLoad(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=20000)] = Field(
        description="One line per day or range: `2027-02-06~2027-02-12,休,春节` or `2027-02-14,班,春节调休`."
    )
    source: Annotated[str, Field(min_length=1, max_length=200)] = "国务院办公厅通知"


class DeadlineRead(BaseModel):
    start: date
    working_days: int
    due: date
    provisional: bool


@router.get("/years", response_model=list[CalendarYearRead])
def years(session: SessionDep, actor: ActorDep) -> list[workdays.CalendarYear]:
    """Years whose official schedule is loaded."""
    return workdays.loaded_years(session)


@router.get("/years/{year}", response_model=list[CalendarDayRead])
def year_days(year: Year, session: SessionDep, actor: ActorDep) -> list[workdays.CalendarDay]:
    """A year's holidays and make-up working days."""
    return workdays.year_days(session, year)


@router.put("/years/{year}", response_model=CalendarYearRead)
def load_year(year: Year, body: ScheduleLoad, session: SessionDep, actor: ActorDep) -> workdays.CalendarYear:
    """Load or replace a year's official schedule (platform admin)."""
    entries = workdays.parse_schedule(year, body.text)
    return workdays.load_schedule(session, actor, year=year, entries=entries, source=body.source)


@router.get("/deadline", response_model=DeadlineRead)
def deadline(
    session: SessionDep,
    actor: ActorDep,
    start: Annotated[date, Query(ge=date(1949, 1, 1), le=date(2190, 12, 31))],
    working_days: Annotated[int, Query(ge=0, le=3650)],
) -> DeadlineRead:
    """The due date `working_days` working days after `start`; provisional if a year is not loaded."""
    result = workdays.add_working_days(session, start, working_days)
    return DeadlineRead(start=start, working_days=working_days, due=result.due, provisional=result.provisional)
