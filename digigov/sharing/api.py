"""Sharing API: share requests and their decisions, grants and credentials (/api/v1/sharing), and the
data API a grant's credential opens (/api/v1/share: lookup, verify, query)."""

from __future__ import annotations

import shutil
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from digigov.catalog.models import Resource
from digigov.core import workdays
from digigov.core.db import utcnow
from digigov.core.deps import ActorDep, Id, SessionDep, SettingsDep
from digigov.sharing import data, export, service, usage
from digigov.sharing.errors import CredentialRejected
from digigov.sharing.models import Grant, ShareRequest
from digigov.sharing.schemas import (
    ChangesRead,
    CredentialRead,
    Decision,
    GrantRead,
    GrantState,
    RequestState,
    RevokeBody,
    RowsRead,
    ShareRequestCreate,
    ShareRequestRead,
    UsageBy,
    UsageRead,
    UsageStatsRead,
    Value,
    VerifyBody,
    VerifyRead,
)

router = APIRouter(prefix="/sharing", tags=["sharing"])
data_router = APIRouter(prefix="/share", tags=["sharing data"])


def request_read(session: Session, request: ShareRequest) -> ShareRequestRead:
    """A request as the API and pages show it."""
    grant = service.grant_of(session, request)
    state = RequestState(request.state)
    return ShareRequestRead(
        id=request.id,
        resource=session.get_one(Resource, request.resource_id).code,
        source_department_id=request.source_department_id,
        consumer_department_id=request.consumer_department_id,
        requested_by=request.requested_by,
        fields=request.fields,
        clear_fields=request.clear_fields,
        key_field=request.key_field,
        access=request.access,
        purpose=request.purpose,
        legal_basis=request.legal_basis,
        starts_on=request.starts_on,
        ends_on=request.ends_on,
        expected_daily_calls=request.expected_daily_calls,
        state=state.value,
        state_label=state.label,
        source_reason=request.source_reason,
        platform_reason=request.platform_reason,
        refusal=request.refusal,
        grant_id=grant.id if grant else None,
        created_at=request.created_at,
    )


def grant_read(session: Session, grant: Grant) -> GrantRead:
    """A grant as the API and pages show it, with its state as of today."""
    state: GrantState = service.effective_state(grant, workdays.china_today())
    return GrantRead(
        id=grant.id,
        request_id=grant.request_id,
        resource=session.get_one(Resource, grant.resource_id).code,
        source_department_id=grant.source_department_id,
        consumer_department_id=grant.consumer_department_id,
        fields=grant.fields,
        masks=grant.masks,
        key_field=grant.key_field,
        access=grant.access,
        purpose=grant.purpose,
        starts_on=grant.starts_on,
        ends_on=grant.ends_on,
        rate_per_minute=grant.rate_per_minute,
        daily_quota=grant.daily_quota,
        state=state.value,
        state_label=state.label,
        credential_prefix=grant.credential_prefix,
        revoke_reason=grant.revoke_reason,
    )


@router.post("/requests", response_model=ShareRequestRead, status_code=status.HTTP_201_CREATED)
def request_share(body: ShareRequestCreate, session: SessionDep, actor: ActorDep) -> ShareRequestRead:
    """Request fields of a published resource; unconditional ones are granted at once, 不予共享 refused."""
    request = service.request_share(session, actor, body, today=workdays.china_today())
    return request_read(session, request)


@router.get("/requests", response_model=list[ShareRequestRead])
def list_requests(
    session: SessionDep,
    actor: ActorDep,
    state: RequestState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ShareRequestRead]:
    """Requests the caller's department made or received (platform roles: all), newest first."""
    found = service.list_requests(session, actor, state=state, limit=limit, offset=offset)
    return [request_read(session, r) for r in found]


@router.get("/requests/{request_id}", response_model=ShareRequestRead)
def get_request(request_id: Id, session: SessionDep, actor: ActorDep) -> ShareRequestRead:
    """One request the caller may see."""
    return request_read(session, service.get_request(session, actor, request_id))


@router.post("/requests/{request_id}/source-decision", response_model=ShareRequestRead)
def decide_as_source(request_id: Id, body: Decision, session: SessionDep, actor: ActorDep) -> ShareRequestRead:
    """The source department approves (optionally denying clear text) or refuses with a reason."""
    return request_read(session, service.decide_as_source(session, actor, request_id=request_id, decision=body))


@router.post("/requests/{request_id}/platform-decision", response_model=ShareRequestRead)
def decide_as_platform(request_id: Id, body: Decision, session: SessionDep, actor: ActorDep) -> ShareRequestRead:
    """The platform approves (making the grant, with its limits) or refuses with a reason."""
    return request_read(session, service.decide_as_platform(session, actor, request_id=request_id, decision=body))


@router.get("/grants", response_model=list[GrantRead])
def list_grants(
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[GrantRead]:
    """Grants the caller's department holds or gave (platform roles: all), newest first."""
    return [grant_read(session, g) for g in service.list_grants(session, actor, limit=limit, offset=offset)]


@router.get("/grants/{grant_id}", response_model=GrantRead)
def get_grant(grant_id: Id, session: SessionDep, actor: ActorDep) -> GrantRead:
    """One grant the caller may see."""
    return grant_read(session, service.get_grant(session, actor, grant_id))


@router.post("/grants/{grant_id}/credential", response_model=CredentialRead, status_code=status.HTTP_201_CREATED)
def issue_credential(grant_id: Id, session: SessionDep, actor: ActorDep) -> CredentialRead:
    """Issue the grant's credential (shown once; a new one replaces the old) for the consuming department."""
    grant, secret = service.issue_credential(session, actor, grant_id=grant_id, today=workdays.china_today())
    return CredentialRead(grant=grant_read(session, grant), credential=secret)


@router.post("/grants/{grant_id}/revoke", response_model=GrantRead)
def revoke_grant(grant_id: Id, body: RevokeBody, session: SessionDep, actor: ActorDep) -> GrantRead:
    """Revoke a grant; the next call under it is refused."""
    return grant_read(session, service.revoke_grant(session, actor, grant_id=grant_id, reason=body.reason))


@router.get("/grants/{grant_id}/usage", response_model=UsageRead)
def grant_usage(grant_id: Id, session: SessionDep, actor: ActorDep) -> UsageRead:
    """Calls and rows under a grant, in all and today, by kind."""
    usage = service.grant_usage(session, actor, grant_id=grant_id, today=workdays.china_today())
    return UsageRead(**usage.__dict__)


@router.get("/usage", response_model=UsageStatsRead)
def usage_statistics(
    session: SessionDep,
    actor: ActorDep,
    by: UsageBy = UsageBy.grant,
    since: Annotated[date | None, Query(description="First China day (default: 29 days before `until`).")] = None,
    until: Annotated[date | None, Query(description="Last China day (default: today).")] = None,
) -> UsageStatsRead:
    """Calls and rows by grant, consuming department or resource, by kind and day (platform: all; else one's own)."""
    first, last = usage.period(since, until, today=workdays.china_today())
    return usage.usage_statistics(session, actor, by=by, since=first, until=last)


# ---- the data API ---------------------------------------------------------------------------------

Credential = Annotated[str | None, Header(alias="X-Grant-Key", max_length=200, description="The grant's credential.")]
CallerName = Annotated[
    str, Header(alias="X-Grant-User", max_length=100, pattern=r"^[\x20-\x7e]*$", description="The end user.")
]
Issue = Annotated[
    str, Header(alias="X-Grant-Issue", max_length=200, pattern=r"^[\x20-\x7e]*$", description="The case behind it.")
]


def _opened(
    session: SessionDep, credential: Credential = None, user: CallerName = "system", issue: Issue = ""
) -> tuple[Grant, data.Caller]:
    """The grant the call's credential opens, and who is behind the call."""
    if not credential:
        raise CredentialRejected(
            "Send the grant's credential in X-Grant-Key.", "请在 X-Grant-Key 头中提供共享授权凭证。"
        )
    data.record_in_groups(session)  # a data API request reads, then records: nothing else writes in it
    return data.open_grant(session, credential, today=workdays.china_today()), data.Caller(user, issue)


Opened = Annotated[tuple[Grant, data.Caller], Depends(_opened)]


def _rows(served: data.Served) -> RowsRead:
    return RowsRead(
        version=served.version, fields=served.fields, masks=served.masks, rows=served.rows, next=served.next
    )


@data_router.get("/lookup", response_model=RowsRead)
async def lookup(
    request: Request,
    key: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")],
    credential: Credential = None,
    user: CallerName = "system",
    issue: Issue = "",
) -> RowsRead:
    """The rows whose key field holds `key`, masked as the grant says (an empty list when none)."""
    # The data API's busiest call reads in one trip to a worker thread (the grant's plan, the
    # keyed rows, the masks), then awaits its record's group commit on the event loop, holding
    # no thread: the answer leaves only once the record is committed.
    state = request.app.state
    served, record = await run_in_threadpool(_read_lookup, state, key, credential, user, issue)
    if record is not None:
        await data.record_async(state.engine, record)
    return _rows(served)


def _read_lookup(
    state: Any, key: str, credential: str | None, user: str, issue: str
) -> tuple[data.Served, data.CallRecord | None]:
    with state.sessionmaker() as session, session.begin():
        grant, caller = _opened(session, credential, user, issue)
        served, record = data.read_lookup(session, state.settings.home, grant, key=key, caller=caller, now=utcnow())
        return served, data.defer_record(session, record)


@data_router.post("/verify", response_model=VerifyRead)
def verify(body: VerifyBody, session: SessionDep, settings: SettingsDep, opened: Opened) -> VerifyRead:
    """核验: does one row hold all these values? Only yes or no is returned."""
    grant, caller = opened
    served = data.verify(session, settings.home, grant, values=body.values, caller=caller, now=utcnow())
    return VerifyRead(version=served.version, match=bool(served.match))


@data_router.get("/changes", response_model=ChangesRead)
def changes(
    session: SessionDep,
    settings: SettingsDep,
    opened: Opened,
    cursor: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9]+:[0-9]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=data.MAX_PAGE)] = 100,
) -> ChangesRead:
    """A subscription's changed rows since `cursor` (without one: since the grant was made), masked."""
    grant, caller = opened
    served = data.changes(session, settings.home, grant, cursor_text=cursor, limit=limit, caller=caller, now=utcnow())
    return ChangesRead(
        version=served.version, fields=served.fields, masks=served.masks, rows=served.rows, cursor=str(served.cursor)
    )


class QueryBody(BaseModel):
    """Equality filters on clear fields, the cursor (`next` of the page before) and the page size."""

    filters: Annotated[dict[str, Value], Field(max_length=20)] = Field(default_factory=dict)
    after: Annotated[int, Field(ge=1, le=2**62)] | None = None
    limit: Annotated[int, Field(ge=1, le=data.MAX_PAGE)] = 100


@data_router.post("/query", response_model=RowsRead)
def query(body: QueryBody, session: SessionDep, settings: SettingsDep, opened: Opened) -> RowsRead:
    """A page of rows in file order, masked; pass `next` back as `after` for the following page."""
    grant, caller = opened
    served = data.query(
        session,
        settings.home,
        grant,
        filters=body.filters,
        after=body.after,
        limit=body.limit,
        caller=caller,
        now=utcnow(),
    )
    return _rows(served)


@data_router.get(
    "/export",
    response_class=FileResponse,
    responses={200: {"content": {media.split(";")[0]: {} for media in export.MEDIA.values()}}},
)
def export_version(
    session: SessionDep,
    settings: SettingsDep,
    opened: Opened,
    format: Annotated[export.Format, Query(description="csv (UTF-8 with BOM) or parquet")] = "csv",
    version: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Default: the newest.")] = None,
) -> FileResponse:
    """The granted fields of a version, masked, as one file (query grants only), with its SHA-256 in the headers."""
    grant, caller = opened
    done = export.export(session, settings.home, grant, fmt=format, number=version, caller=caller, now=utcnow())
    headers = {
        "Repr-Digest": f"sha-256=:{export.base64_digest(done.sha256)}:",  # RFC 9530
        "X-Export-SHA256": done.sha256,  # as the grant's usage and the audit log record it
        "X-Export-Rows": str(done.rows),
    }
    return FileResponse(
        done.path,
        media_type=done.media_type,
        filename=done.filename,
        headers=headers,
        background=BackgroundTask(shutil.rmtree, done.folder, ignore_errors=True),
    )
