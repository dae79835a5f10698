"""The home page: who you are and what the platform holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from digigov.core import audit
from digigov.core.deps import SessionDep
from digigov.core.templating import render
from digigov.core.workflow import WorkItem
from digigov.identity.models import Department, Region, User
from digigov.identity.pages import PageDep

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, page: PageDep) -> Response:
    """The signed-in user's start page."""
    counts = {
        "departments": session.scalar(select(func.count()).select_from(Department)),
        "users": session.scalar(select(func.count()).select_from(User)),
        "regions": session.scalar(select(func.count()).select_from(Region).where(Region.valid_to.is_(None))),
        "events": audit.event_count(session),
        "open_items": session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.state != "closed")),
    }
    department = session.get(Department, page.user.department_id) if page.user.department_id else None
    return render(request, "home.html", {"counts": counts, "department": department})
