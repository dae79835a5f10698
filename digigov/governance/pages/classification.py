"""Governance pages: a resource's classification with overrides, and the reviewer's grade-change queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.vocabulary import Grade, OpenType
from digigov.core.auth import allows
from digigov.core.config import Settings
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.governance import classification
from digigov.governance.detection import PRIORITY
from digigov.identity.pages import Page, PageDep, check_csrf

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "resident_id": "公民身份号码",
    "uscc": "统一社会信用代码",
    "org_code": "组织机构代码",
    "mobile": "手机号码",
    "landline": "固定电话",
    "email": "电子邮箱",
    "bank_card": "银行卡号",
    "person_name": "姓名",
    "address": "地址",
    "plate": "车牌号码",
    "passport": "护照号码",
    "ip": "IP 地址",
    "coordinate": "经纬度坐标",
    "birth_date": "出生日期",
}
assert set(KIND_LABELS) == set(PRIORITY)


@router.get("/catalog/{code}/classification", response_class=HTMLResponse)
def classification_page(
    request: Request, code: str, session: SessionDep, page: PageDep, settings: SettingsDep, done: str = ""
) -> Response:
    """Each field's detected kind, evidence and level, the grade, and (for stewards) the override form."""
    return _render(request, session, page, settings, code, done=done)


def _render(
    request: Request,
    session: Session,
    page: Page,
    settings: Settings,
    code: str,
    *,
    done: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    resource = get_resource(session, page.actor, code)
    found, missing = None, None
    try:
        found = classification.classification(session, page.actor, resource_code=code)
    except DigigovError as absent:
        missing = absent.message_zh
    context = {
        "r": resource,
        "c": found,
        "missing": missing,
        "kinds": KIND_LABELS,
        "grades": list(Grade),
        "open_label": OpenType(resource.open_type).label,
        "done": done,
        "error": error,
        "can_override": allows(page.actor, "governance.classification.override", resource),
        "can_run": allows(page.actor, "governance.classify", resource),
        "can_review": allows(page.actor, "governance.grade.review"),
    }
    return render(request, "governance/classification.html", context, status=status)


@router.post("/catalog/{code}/classification", response_class=HTMLResponse)
def classification_action(
    request: Request,
    code: str,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=20)],
    field: Annotated[str, Form(max_length=100)] = "",
    level: Annotated[str, Form(max_length=4)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Override a level, run classification again, or confirm a changed grade; a refusal shows above the table."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            if action == "override":
                if level not in {g.value for g in Grade}:
                    raise DigigovError(f"Unknown level '{level}'.", f"未知的敏感级别“{level}”。")
                classification.override_level(
                    session,
                    page.actor,
                    home=settings.home,
                    resource_code=code,
                    field=field,
                    level=Grade(level),
                    reason=reason,
                )
            elif action == "run":
                classification.classify_version(session, page.actor, home=settings.home, resource_code=code)
            elif action == "confirm":
                classification.confirm_grade(session, page.actor, resource_code=code)
            else:
                raise DigigovError(f"Unknown action '{action}'.", f"未知操作“{action}”。")
    except DigigovError as refused:
        return _render(request, session, page, settings, code, error=refused.message_zh, status=refused.status)
    return RedirectResponse(f"/catalog/{code}/classification?done={action}", status_code=303)


@router.get("/governance/grade-reviews", response_class=HTMLResponse)
def grade_review_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """The reviewer's queue of resources whose grade changed."""
    pending = classification.grade_reviews(session, page.actor)
    return render(request, "governance/grade_reviews.html", {"pending": pending})
