"""Sharing pages (数据共享): the requests and grants one may see, the request form, one request with its
two decision forms, and one grant with its masks, usage, credential and revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import ShareType
from digigov.core import workdays
from digigov.core.auth import InDepartment, allows
from digigov.core.deps import Id, SessionDep
from digigov.core.errors import DigigovError, Invalid, NotFound
from digigov.core.templating import render
from digigov.datastore import Version, latest_version
from digigov.governance.masking import Mask
from digigov.identity import get_department
from digigov.identity.pages import Page, PageDep, check_csrf
from digigov.sharing import service
from digigov.sharing.api import grant_read, request_read
from digigov.sharing.models import Grant, ShareRequest
from digigov.sharing.schemas import (
    CALL_LABELS,
    MAX_DAYS,
    Access,
    Decision,
    GrantState,
    RequestState,
    ShareRequestCreate,
)

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=2000)]
Names = Annotated[list[str] | None, Form()]  # checkboxes; the schema bounds each name and the count
Number = Annotated[str, Form(max_length=20)]  # parsed by the schema, so a bad number is a message on the form
FORM_LABELS = {
    "resource_code": "数据资源",
    "fields": "申请的数据项（至少一项）",
    "clear_fields": "申请明文的数据项",
    "key_field": "查询键",
    "access": "访问方式",
    "purpose": "共享用途",
    "legal_basis": "法律依据",
    "days": f"共享期限（1 至 {MAX_DAYS} 天）",
    "expected_daily_calls": "预计日调用量",
    "reason": "意见",
    "rate_per_minute": "每分钟调用上限",
    "daily_quota": "每日调用上限",
}
BLANK_FORM: dict[str, Any] = {
    "fields": [],
    "clear_fields": [],
    "access": Access.lookup.value,
    "key_field": "",
    "purpose": "",
    "legal_basis": "",
    "days": "365",
    "expected_daily_calls": "1000",
}
DONE = {
    "request": "提交共享申请",
    "source-approve": "同意（数源部门）",
    "source-refuse": "驳回（数源部门）",
    "platform-approve": "同意（平台），共享授权已生成",
    "platform-refuse": "驳回（平台）",
    "revoke": "撤销共享授权",
}


def _invalid(error: ValidationError) -> Invalid:
    """A schema refusal of what a form sent, naming the entries in the form's own words."""
    names = list(dict.fromkeys(str(e["loc"][0]) for e in error.errors() if e["loc"]))
    return Invalid(
        f"Check these entries: {', '.join(names)}.",
        f"请检查以下填写项：{'、'.join(FORM_LABELS.get(n, n) for n in names)}。",
    )


def _state(value: str) -> RequestState | None:
    if not value:
        return None
    try:
        return RequestState(value)
    except ValueError:
        known = "、".join(s.value for s in RequestState)
        raise Invalid(f"State is one of: {known}.", f"状态须为以下之一：{known}。") from None


def _names(session: Session, owned: ShareRequest | Grant) -> dict[str, str]:
    resource = session.get_one(Resource, owned.resource_id)
    return {
        "title": resource.title,
        "consumer": get_department(session, owned.consumer_department_id).name,
        "source": get_department(session, owned.source_department_id).name,
        "access_label": Access(owned.access).label,
    }


def _described_request(session: Session, share: ShareRequest) -> dict[str, Any]:
    """A request as the API reads it, with the names a page shows."""
    return request_read(session, share).model_dump() | _names(session, share)


def _described_grant(session: Session, grant: Grant) -> dict[str, Any]:
    """A grant as the API reads it (its state as of today), with the names a page shows."""
    return grant_read(session, grant).model_dump() | _names(session, grant)


@router.get("/sharing", response_class=HTMLResponse)
def sharing_page(
    request: Request, session: SessionDep, page: PageDep, state: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """Share requests the user may see (newest first, by state), and the grants they became."""
    found = service.list_requests(session, page.actor, state=_state(state), limit=500)
    grants = service.list_grants(session, page.actor, limit=500)
    context = {
        "requests": [_described_request(session, r) for r in found],
        "grants": [_described_grant(session, g) for g in grants],
        "state": state,
        "states": list(RequestState),
        "may_request": page.actor.department_id is not None and page.may("sharing.request.create"),
        "may_usage": page.may("sharing.usage.read"),
    }
    return render(request, "sharing/requests.html", context)


# ---- the request form -----------------------------------------------------------------------------


def _columns(resource: Resource, version: Version | None) -> list[str]:
    """The fields one may ask for: the newest version's columns, else the catalog's fields."""
    if version is not None:
        return [str(c["name"]) for c in version.columns]
    return [f.name for f in resource.fields]


@router.get("/sharing/new", response_class=HTMLResponse)
def new_request_page(
    request: Request, session: SessionDep, page: PageDep, resource: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The request form for a resource (`?resource=CODE`); without one, where to find a resource."""
    return _new(request, session, page, resource.strip(), form=BLANK_FORM)


def _new(
    request: Request,
    session: Session,
    page: Page,
    code: str,
    *,
    form: dict[str, Any],
    error: DigigovError | None = None,
) -> Response:
    resource = None
    try:
        resource = get_resource(session, page.actor, code) if code else None
    except NotFound as missing:  # a mistyped code: show it on the picker
        error = error or missing
    context = {"r": resource, "code": code, "form": form, "error": error.message_zh if error else None}
    if resource is not None:
        context |= _form_context(session, page, resource)
    return render(request, "sharing/new.html", context, status=error.status if error else 200)


def _form_context(session: Session, page: Page, resource: Resource) -> dict[str, Any]:
    version = latest_version(session, resource.id)
    columns = _columns(resource, version)
    # what each field would be served as if asked for masked (a transient request, never added)
    masks = service.field_masks(
        session, ShareRequest(resource_id=resource.id, fields=columns, clear_fields=[]), version
    )
    return {
        "version": version,
        "columns": columns,
        "masks": masks,
        "share_type": ShareType(resource.share_type),
        "own": resource.department_id in page.actor.departments,
        "may_request": page.actor.department_id is not None
        and allows(page.actor, "sharing.request.create", InDepartment(page.actor.department_id)),
        "source": get_department(session, resource.department_id).name,
        "accesses": list(Access),
        "max_days": MAX_DAYS,
    }


@router.post("/sharing/new", response_class=HTMLResponse)
def create_request(
    request: Request,
    session: SessionDep,
    page: PageDep,
    resource: Annotated[str, Form(max_length=64)] = "",
    fields: Names = None,
    clear_fields: Names = None,
    access: Annotated[str, Form(max_length=20)] = "",
    key_field: Annotated[str, Form(max_length=100)] = "",
    purpose: Reason = "",
    legal_basis: Reason = "",
    days: Number = "",
    expected_daily_calls: Number = "",
    csrf: Csrf = "",
) -> Response:
    """Submit the request; a refusal is shown above the form with what was filled in, and nothing changes."""
    check_csrf(page, csrf)
    form = {"fields": fields or [], "clear_fields": clear_fields or [], "access": access, "key_field": key_field}
    form |= {"purpose": purpose, "legal_basis": legal_basis, "days": days, "expected_daily_calls": expected_daily_calls}
    try:
        data = _request_data(resource.strip(), form)
        with session.begin_nested():
            made = service.request_share(session, page.actor, data, today=workdays.china_today())
    except DigigovError as error:
        return _new(request, session, page, resource.strip(), form=form, error=error)
    return RedirectResponse(f"/sharing/requests/{made.id}?done=request", status_code=303)


def _request_data(code: str, form: dict[str, Any]) -> ShareRequestCreate:
    body = {"resource_code": code, **form, "key_field": form["key_field"] or None}
    try:
        return ShareRequestCreate.model_validate(body)
    except ValidationError as error:
        raise _invalid(error) from None


# ---- one request and its decisions ----------------------------------------------------------------


@router.get("/sharing/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    request_id: Id,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One request: what is asked and why, both decisions, and the decision form the user may use."""
    return _request_detail(request, session, page, request_id, done=done)


def _request_detail(
    request: Request,
    session: Session,
    page: Page,
    request_id: int,
    *,
    done: str = "",
    form: dict[str, Any] | None = None,
    error: DigigovError | None = None,
) -> Response:
    share = service.get_request(session, page.actor, request_id)
    state = RequestState(share.state)
    source = InDepartment(share.source_department_id)
    context = {
        "r": _described_request(session, share),
        "decisions": _decisions(share),
        "keyed": Access(share.access) in service.KEYED,  # its key stays clear: the source may not deny it
        "may_source": state is RequestState.pending_source
        and allows(page.actor, "sharing.request.approve_source", source),
        "may_platform": state is RequestState.pending_platform
        and allows(page.actor, "sharing.request.approve_platform"),
        "default_rate": service.RATE_PER_MINUTE,
        "form": form or {},
        "done": DONE.get(done),
        "error": error.message_zh if error else None,
    }
    return render(request, "sharing/request.html", context, status=error.status if error else 200)


def _decisions(share: ShareRequest) -> list[dict[str, str]]:
    """Both stages as rows (环节, 结论, 审核人, 意见); resources shared or not at once were decided automatically."""
    state = RequestState(share.state)
    if share.source_decided_by is None and state in {RequestState.approved, RequestState.refused}:
        outcome, why = ("同意", "无条件共享，自动批准") if state is RequestState.approved else ("驳回", share.refusal)
        return [{"stage": "自动审核", "outcome": outcome, "by": "系统", "reason": why}]
    refused_by_source = state is RequestState.refused and share.platform_decided_by is None
    rows = [
        {
            "stage": "数源部门审核",
            "outcome": "待审核" if share.source_decided_by is None else "驳回" if refused_by_source else "同意",
            "by": share.source_decided_by or "",
            "reason": share.source_reason,
        }
    ]
    if share.platform_decided_by is not None:
        outcome = "驳回" if state is RequestState.refused else "同意"
    else:
        outcome = "待审核" if state is RequestState.pending_platform else "—"
    rows.append(
        {
            "stage": "平台审核",
            "outcome": outcome,
            "by": share.platform_decided_by or "",
            "reason": share.platform_reason,
        }
    )
    return rows


@router.post("/sharing/requests/{request_id}/{stage}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: SessionDep,
    page: PageDep,
    request_id: Id,
    stage: str,
    approve: Annotated[str, Form(max_length=5)] = "",
    reason: Reason = "",
    allow_clear: Names = None,
    rate_per_minute: Number = "",
    daily_quota: Number = "",
    csrf: Csrf = "",
) -> Response:
    """同意 or 驳回 as the source department (`source`) or the platform (`platform`); a refusal is shown on the page."""
    check_csrf(page, csrf)
    approving = approve == "true"
    form = {"stage": stage, "reason": reason, "allow_clear": allow_clear or []}
    form |= {"rate_per_minute": rate_per_minute, "daily_quota": daily_quota}
    try:
        if approve not in {"true", "false"}:  # a decision is never inferred from a missing button
            raise Invalid("Choose approve or refuse.", "请选择同意或驳回。")
        with session.begin_nested():
            if stage == "source":
                decision = _decision(approve=approving, reason=reason, allow_clear=allow_clear or [])
                _decide_as_source(session, page, request_id, decision)
            elif stage == "platform":
                limits = {"rate_per_minute": rate_per_minute or None, "daily_quota": daily_quota or None}
                decision = _decision(approve=approving, reason=reason, **limits)
                service.decide_as_platform(session, page.actor, request_id=request_id, decision=decision)
            else:
                raise Invalid(f"Unknown stage '{stage}'.", f"未知的审核环节“{stage}”。")
    except DigigovError as error:
        return _request_detail(request, session, page, request_id, form=form, error=error)
    outcome = "approve" if approving else "refuse"
    return RedirectResponse(f"/sharing/requests/{request_id}?done={stage}-{outcome}", status_code=303)


def _decision(**values: Any) -> Decision:
    try:
        return Decision.model_validate(values)
    except ValidationError as error:
        raise _invalid(error) from None


def _decide_as_source(session: Session, page: Page, request_id: int, decision: Decision) -> None:
    # The form lists the clear fields asked for as checkboxes: what is unticked is denied. A refusal
    # and a request without clear fields leave them as they are.
    share = service.get_request(session, page.actor, request_id)
    if not decision.approve or not share.clear_fields:
        decision = decision.model_copy(update={"allow_clear": None})
    service.decide_as_source(session, page.actor, request_id=request_id, decision=decision)


# ---- one grant ------------------------------------------------------------------------------------


@router.get("/sharing/grants/{grant_id}", response_class=HTMLResponse)
def grant_page(
    request: Request,
    session: SessionDep,
    page: PageDep,
    grant_id: Id,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One grant: fields and their masks, period, limits, state, usage; the credential and revocation forms."""
    return _grant_detail(request, session, page, grant_id, done=done)


def _grant_detail(
    request: Request,
    session: Session,
    page: Page,
    grant_id: int,
    *,
    done: str = "",
    secret: str | None = None,
    error: DigigovError | None = None,
) -> Response:
    grant = service.get_grant(session, page.actor, grant_id)
    described = _described_grant(session, grant)
    is_open = GrantState(described["state"]) in {GrantState.approved, GrantState.provisioned}
    consumer = InDepartment(grant.consumer_department_id)
    context = {
        "g": described,
        "fields": _granted_fields(session, grant),
        "usage": service.grant_usage(session, page.actor, grant_id=grant.id, today=workdays.china_today()),
        "call_labels": CALL_LABELS,
        "may_usage": allows(page.actor, "sharing.usage.read"),
        "may_credential": is_open and allows(page.actor, "sharing.grant.credential", consumer),
        "may_revoke": is_open and allows(page.actor, "sharing.grant.revoke", grant),
        "revoked_by": grant.revoked_by,
        "secret": secret,
        "done": DONE.get(done),
        "error": error.message_zh if error else None,
    }
    response = render(request, "sharing/grant.html", context, status=error.status if error else 200)
    if secret:
        response.headers["Cache-Control"] = "no-store"  # the credential is shown once; keep it out of caches
    return response


def _granted_fields(session: Session, grant: Grant) -> list[dict[str, Any]]:
    """Each granted field with its mask now (read from the newest version's classification) and as approved."""
    now = service.field_masks(session, grant, latest_version(session, grant.resource_id))
    return [
        {"name": name, "mask": now[name], "approved": Mask(grant.masks.get(name, Mask.hash.value))}
        | {"key": name == grant.key_field}
        for name in grant.fields
    ]


@router.post("/sharing/grants/{grant_id}/credential", response_class=HTMLResponse)
def issue_credential(request: Request, session: SessionDep, page: PageDep, grant_id: Id, csrf: Csrf = "") -> Response:
    """Issue (or replace) the grant's credential and show it this once."""
    check_csrf(page, csrf)
    try:
        with session.begin_nested():
            _, secret = service.issue_credential(session, page.actor, grant_id=grant_id, today=workdays.china_today())
    except DigigovError as error:
        return _grant_detail(request, session, page, grant_id, error=error)
    return _grant_detail(request, session, page, grant_id, secret=secret)


@router.post("/sharing/grants/{grant_id}/revoke", response_class=HTMLResponse)
def revoke_grant(
    request: Request, session: SessionDep, page: PageDep, grant_id: Id, reason: Reason = "", csrf: Csrf = ""
) -> Response:
    """Revoke the grant, with a reason; the next call under it is refused."""
    check_csrf(page, csrf)
    try:
        if not reason.strip():
            raise Invalid("A revocation needs its reason.", "撤销须说明理由。")
        with session.begin_nested():
            service.revoke_grant(session, page.actor, grant_id=grant_id, reason=reason)
    except DigigovError as error:
        return _grant_detail(request, session, page, grant_id, error=error)
    return RedirectResponse(f"/sharing/grants/{grant_id}?done=revoke", status_code=303)
