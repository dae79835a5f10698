"""Authorised operation pages (授权运营) for platform staff: the licences with their grant, credential and
revocation forms (the admin), and the operators' analyses with the release review (reviewers, the admin)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import workdays
from digigov.core.deps import Id, SessionDep
from digigov.core.errors import DigigovError, Invalid
from digigov.core.templating import render
from digigov.identity.pages import Page, PageDep, check_csrf
from digigov.sharing import operation
from digigov.sharing.models import Analysis, OperatorLicence
from digigov.sharing.operation_api import analysis_read, licence_read
from digigov.sharing.schemas import MAX_DAYS, AnalysisState, LicenceCreate

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=200)]
FORM_LABELS = {
    "operator": "运营单位名称",
    "operator_uscc": "统一社会信用代码",
    "resources": "数据资源代码（至少一个）",
    "purpose": "运营用途",
    "k": "最小分组记录数 k（2 至 10000）",
    "starts_on": "起始日",
    "days": f"许可期限（1 至 {MAX_DAYS} 天）",
}
BLANK_LICENCE: dict[str, Any] = {
    "operator": "",
    "operator_uscc": "",
    "resources": "",
    "purpose": "",
    "k": "10",
    "review_releases": True,
    "starts_on": "",
    "days": "365",
}
DONE = {
    "revoke": "撤销授权运营许可",
    "release": "发布分析结果，运营单位现可获取",
    "hold": "暂缓发布分析结果",
}
FN_LABELS = {"count": "计数", "sum": "合计", "avg": "平均值", "min": "最小值", "max": "最大值"}
OP_LABELS = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "属于"}


def _invalid(error: ValidationError) -> Invalid:
    """A schema refusal of what a form sent, naming the entries in the form's own words."""
    names = list(dict.fromkeys(str(e["loc"][0]) for e in error.errors() if e["loc"]))
    return Invalid(
        f"Check these entries: {', '.join(names)}.",
        f"请检查以下填写项：{'、'.join(FORM_LABELS.get(n, n) for n in names)}。",
    )


def _codes(text: str) -> list[str]:
    """Resource codes as typed, separated by commas, spaces or 、.

    >>> _codes("rk-jcxx, fr-jbxx、 sb-cbxx")
    ['rk-jcxx', 'fr-jbxx', 'sb-cbxx']
    """
    return [code for code in re.split(r"[\s,，、;；]+", text) if code]


# ---- licences ---------------------------------------------------------------------------------------


def _standing(licence: OperatorLicence, today: date) -> tuple[str, str]:
    """The licence's state as staff read it, with its tag's colour: revoked, not yet in force, expired, or in force."""
    if licence.state != "active":
        return "已撤销", "bad"
    if today < licence.starts_on:
        return "未生效", "warn"
    if today > licence.ends_on:
        return "已到期", "bad"
    return "有效", "ok"


def _described_licence(licence: OperatorLicence, today: date) -> dict[str, Any]:
    """A licence as the API reads it, with what the page adds: who granted it, why revoked, its standing."""
    label, tone = _standing(licence, today)
    extra = {"granted_by": licence.granted_by, "revoke_reason": licence.revoke_reason, "created_at": licence.created_at}
    return licence_read(licence).model_dump() | extra | {"standing": label, "tone": tone}


@router.get("/operate/licences", response_class=HTMLResponse)
def licences_page(
    request: Request, session: SessionDep, page: PageDep, done: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """Every licence, newest first, and the form to grant one (the platform's admin)."""
    return _licences(request, session, page, done=done)


def _licences(
    request: Request,
    session: Session,
    page: Page,
    *,
    done: str = "",
    form: dict[str, Any] | None = None,
    made: tuple[OperatorLicence, str] | None = None,
    error: DigigovError | None = None,
) -> Response:
    today = workdays.china_today()
    found = operation.list_licences(session, page.actor)
    context = {
        "licences": [_described_licence(licence, today) for licence in found],
        "form": form or BLANK_LICENCE | {"starts_on": today.isoformat()},
        "max_days": MAX_DAYS,
        "made": (made[0].id, made[0].operator, made[0].credential_prefix) if made else None,
        "secret": made[1] if made else None,
        "done": DONE.get(done),
        "error": error.message_zh if error else None,
    }
    response = render(request, "sharing/operation_licences.html", context, status=error.status if error else 200)
    if made:
        response.headers["Cache-Control"] = "no-store"  # the credential is shown once; keep it out of caches
    return response


@router.post("/operate/licences", response_class=HTMLResponse)
def grant_licence(
    request: Request,
    session: SessionDep,
    page: PageDep,
    operator: Short = "",
    operator_uscc: Annotated[str, Form(max_length=40)] = "",
    resources: Annotated[str, Form(max_length=2000)] = "",
    purpose: Reason = "",
    k: Annotated[str, Form(max_length=20)] = "",
    review_releases: Annotated[str, Form(max_length=5)] = "",
    starts_on: Annotated[str, Form(max_length=20)] = "",
    days: Annotated[str, Form(max_length=20)] = "",
    csrf: Csrf = "",
) -> Response:
    """Grant a licence and issue its credential, shown this once; a refusal comes back on the form."""
    check_csrf(page, csrf)
    form: dict[str, Any] = {
        "operator": operator,
        "operator_uscc": operator_uscc,
        "resources": resources,
        "purpose": purpose,
    }
    form |= {"k": k, "review_releases": review_releases == "true", "starts_on": starts_on, "days": days}
    try:
        data = _licence_data(form)
        with session.begin_nested():
            granted = operation.grant_licence(session, page.actor, data, today=workdays.china_today())
            made = operation.issue_licence_credential(session, page.actor, licence_id=granted.id)
    except DigigovError as error:
        return _licences(request, session, page, form=form, error=error)
    return _licences(request, session, page, made=made)


def _licence_data(form: dict[str, Any]) -> LicenceCreate:
    body = form | {"operator_uscc": form["operator_uscc"].strip().upper(), "resources": _codes(form["resources"])}
    body |= {"starts_on": form["starts_on"] or None, "purpose": form["purpose"].strip()}
    try:
        return LicenceCreate.model_validate(body)
    except ValidationError as error:
        raise _invalid(error) from None


@router.post("/operate/licences/{licence_id}/credential", response_class=HTMLResponse)
def issue_credential(request: Request, session: SessionDep, page: PageDep, licence_id: Id, csrf: Csrf = "") -> Response:
    """Issue the licence's credential again and show it this once; the old one stops working."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            made = operation.issue_licence_credential(session, page.actor, licence_id=licence_id)
    except DigigovError as error:
        return _licences(request, session, page, error=error)
    return _licences(request, session, page, made=made)


@router.post("/operate/licences/{licence_id}/revoke", response_class=HTMLResponse)
def revoke_licence(
    request: Request, session: SessionDep, page: PageDep, licence_id: Id, reason: Reason = "", csrf: Csrf = ""
) -> Response:
    """Revoke the licence, with a reason; the operator's next query is refused."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            operation.revoke_licence(session, page.actor, licence_id=licence_id, reason=reason)
    except DigigovError as error:
        return _licences(request, session, page, error=error)
    return RedirectResponse("/operate/licences?done=revoke", status_code=303)


# ---- analyses and their release -----------------------------------------------------------------------


def _state(value: str) -> AnalysisState:
    try:
        return AnalysisState(value or AnalysisState.pending.value)
    except ValueError:
        known = "、".join(s.value for s in AnalysisState)
        raise Invalid(f"State is one of: {known}.", f"状态须为以下之一：{known}。") from None


def _heading(key: str) -> str:
    """A result column's heading: a group field or 记录数 as it is, an aggregate in words.

    >>> _heading("avg(月缴社保月数)"), _heading("就业状态")
    ('月缴社保月数（平均值）', '就业状态')
    """
    fn, _, rest = key.partition("(")
    return f"{rest[:-1]}（{FN_LABELS[fn]}）" if fn in FN_LABELS and rest.endswith(")") else key


def _query(spec: dict[str, Any]) -> dict[str, str]:
    """The structured query in words: its grouping, aggregates and filters."""
    aggregates = [f"{a['field']}（{FN_LABELS[a['fn']]}）" if a.get("field") else "记录数" for a in spec["aggregates"]]
    filters = [
        f"{c['field']} {OP_LABELS[c['op']]} {'、'.join(c['value']) if isinstance(c['value'], list) else c['value']}"
        for c in spec.get("filters", [])
    ]
    return {
        "group_by": "、".join(spec.get("group_by", [])) or "不分组",
        "aggregates": "、".join(dict.fromkeys(["记录数", *aggregates])),
        "filters": "；".join(filters) or "无",
    }


def _described_analysis(session: Session, analysis: Analysis) -> dict[str, Any]:
    """An analysis as the API reads it, with the operator, the resource's title and the query in words."""
    licence = session.get_one(OperatorLicence, analysis.licence_id)
    resource = session.get_one(Resource, analysis.resource_id)
    extra: dict[str, Any] = {"operator": licence.operator, "title": resource.title, "query": _query(analysis.spec)}
    extra |= {"state_label": AnalysisState(analysis.state).label, "reviewed_by": analysis.reviewed_by}
    extra |= {"released_at": analysis.released_at}
    return analysis_read(session, analysis).model_dump() | extra


@router.get("/operate/analyses", response_class=HTMLResponse)
def analyses_page(
    request: Request, session: SessionDep, page: PageDep, state: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """Operators' analyses in a state (pending by default), oldest first (reviewers and the admin)."""
    chosen = _state(state)
    found = operation.pending_analyses(session, page.actor, state=chosen.value)
    context = {
        "analyses": [_described_analysis(session, a) for a in found],
        "state": chosen,
        "states": list(AnalysisState),
    }
    return render(request, "sharing/operation_analyses.html", context)


@router.get("/operate/analyses/{analysis_id}", response_class=HTMLResponse)
def analysis_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    analysis_id: Id,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One analysis: its query, and the groups it would release (those under k are only counted)."""
    return _analysis_detail(request, session, page, analysis_id, done=done)


def _analysis_detail(
    request: Request,
    session: Session,
    page: Page,
    analysis_id: int,
    *,
    done: str = "",
    reason: str = "",
    error: DigigovError | None = None,
) -> Response:
    analysis = operation.get_analysis(session, page.actor, analysis_id)
    rows = analysis.result  # only the groups of at least k records were ever kept
    columns = list(rows[0]) if rows else []
    context = {
        "a": _described_analysis(session, analysis),
        "columns": [(key, _heading(key)) for key in columns],
        "rows": rows,
        "pending": analysis.state == AnalysisState.pending.value,
        "reason": reason,
        "done": DONE.get(done),
        "error": error.message_zh if error else None,
    }
    return render(request, "sharing/operation_analysis.html", context, status=error.status if error else 200)


@router.post("/operate/analyses/{analysis_id}/{decision}", response_class=HTMLResponse)
def review_analysis(
    request: Request,
    session: SessionDep,
    page: PageDep,
    analysis_id: Id,
    decision: str,
    reason: Reason = "",
    csrf: Csrf = "",
) -> Response:
    """发布 (`release`) or 暂缓发布 (`hold`, with a reason); a refusal is shown on the page."""
    check_csrf(page, csrf)
    try:
        if decision not in {"release", "hold"}:
            raise Invalid(f"Unknown decision '{decision}'.", f"未知的审核操作“{decision}”。")
        with session.begin_nested():
            release = decision == "release"  # a release has no reason; only a hold records one
            operation.review_analysis(
                session, page.actor, analysis_id=analysis_id, release=release, reason="" if release else reason
            )
    except DigigovError as error:
        return _analysis_detail(request, session, page, analysis_id, reason=reason, error=error)
    return RedirectResponse(f"/operate/analyses/{analysis_id}?done={decision}", status_code=303)
