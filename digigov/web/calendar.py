"""The working-day calendar page: loaded years, one year's holidays, and loading a year's schedule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.core import workdays
from digigov.core.auth import require
from digigov.core.deps import SessionDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.identity.pages import PageDep, check_csrf

router = APIRouter(include_in_schema=False)

DEFAULT_SOURCE = "国务院办公厅通知"
YearQuery = Annotated[int | None, Query(ge=1949, le=2200)]
WEEKDAYS = "一二三四五六日"


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request, session: SessionDep, page: PageDep, year: YearQuery = None, loaded: YearQuery = None
) -> Response:
    """Loaded years, one year's holidays and make-up days, and a form to load a year (platform admin)."""
    require(page.actor, "calendar.load")
    return _calendar(request, session, year=year or workdays.china_today().year, loaded=loaded)


@router.post("/admin/calendar", response_class=HTMLResponse)
def load_year(
    request: Request,
    session: SessionDep,
    page: PageDep,
    year: Annotated[int, Form(ge=1949, le=2200)],
    text: Annotated[str, Form(max_length=20000)] = "",
    source: Annotated[str, Form(max_length=200)] = DEFAULT_SOURCE,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Load or replace a year's official schedule; a refusal is shown above the form and changes nothing."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            entries = workdays.parse_schedule(year, text)
            workdays.load_schedule(
                session, page.actor, year=year, entries=entries, source=source.strip() or DEFAULT_SOURCE
            )
    except DigigovError as error:
        form = {"year": year, "text": text, "source": source}
        return _calendar(request, session, year=year, error=error, form=form)
    return RedirectResponse(f"/admin/calendar?year={year}&loaded={year}", status_code=303)


def _calendar(
    request: Request,
    session: Session,
    *,
    year: int,
    loaded: int | None = None,
    error: DigigovError | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    years = workdays.loaded_years(session)
    known = {y.year for y in years}
    next_year = workdays.china_today().year + 1
    context = {
        "years": years,
        "year": year,
        "year_loaded": year in known,
        "days": workdays.year_days(session, year),
        "next_year": next_year,
        "next_year_missing": next_year not in known,
        "loaded": loaded if loaded in known else None,
        "error": error.message_zh if error else None,
        "form": form or {"year": next_year, "text": "", "source": DEFAULT_SOURCE},
        "weekday": lambda day: WEEKDAYS[day.weekday()],
    }
    return render(request, "calendar.html", context, status=error.status if error else 200)
