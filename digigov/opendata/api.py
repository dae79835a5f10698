"""Open-data portal API (/api/v1/open): search and metadata for anyone; masked rows and downloads with an
API key (`X-API-Key`, charged to its daily quota); ratings, comments, data requests, registration and
applications for 受限开放 data.

The key is a portal API key (an identity token scoped to `opendata.*`); a staff bearer token is
accepted in its place. Without either, the caller is the anonymous public.
"""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import FileResponse
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from digigov.core import workdays
from digigov.core.auth import Actor
from digigov.core.db import utcnow
from digigov.core.deps import Id, PublicActorDep, SessionDep, SettingsDep
from digigov.core.errors import NotFound
from digigov.identity.models import User
from digigov.opendata import accounts, applications, data, feedback, service
from digigov.opendata.models import Application, Comment, DataRequest
from digigov.opendata.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationState,
    CommentCreate,
    CommentRead,
    DataRequestAnswer,
    DataRequestCreate,
    DataRequestRead,
    DataRequestState,
    Decision,
    FacetCount,
    HideBody,
    OpenResourceRead,
    ProfileRead,
    RatingCreate,
    RatingRead,
    RegistrationCreate,
    RowsRead,
    SearchRead,
)

router = APIRouter(prefix="/open", tags=["open data"])

_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A portal API key, created on the portal's 我的 page (shown once). Needed for rows and downloads.",
)
CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
FacetValues = Annotated[list[Annotated[str, Query(max_length=50)]] | None, Query(max_length=20)]
DepartmentValues = Annotated[list[Annotated[str, Query(pattern=r"^[0-9]{1,9}$")]] | None, Query(max_length=20)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def portal_actor(
    request: Request,
    session: SessionDep,
    bearer: PublicActorDep,
    key: Annotated[str | None, Depends(_api_key)] = None,
) -> Actor:
    """The actor behind the API key (or a bearer token); the anonymous public without either."""
    if key:
        actor: Actor = request.app.state.authenticate_token(session, key)
        return actor
    return bearer


PortalActor = Annotated[Actor, Depends(portal_actor)]


# ---- search and metadata ---------------------------------------------------------------------------


@router.get("/resources", response_model=SearchRead)
def search_open(
    session: SessionDep,
    actor: PortalActor,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")] = "",
    department: DepartmentValues = None,
    category: FacetValues = None,
    open_type: FacetValues = None,
    update_cycle: FacetValues = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> SearchRead:
    """Search open resources in Chinese (无条件开放 and 受限开放 only); facets count the whole match."""
    filters = {"department": department, "category": category, "open_type": open_type, "update_cycle": update_cycle}
    found = service.search_open(
        session, actor, q=q, filters={k: v for k, v in filters.items() if v}, limit=limit, offset=offset
    )
    facets = {
        name: [FacetCount(value=v, label=label, count=n) for v, label, n in rows]
        for name, rows in service.facet_labels(session, found.facets).items()
    }
    return SearchRead(count=found.count, results=[service.describe(session, r) for r in found.results], facets=facets)


@router.get("/resources/{code}", response_model=OpenResourceRead)
def get_open_resource(code: CodePath, session: SessionDep, actor: PortalActor) -> OpenResourceRead:
    """An open resource's metadata, its fields and how each is masked, downloads and rating."""
    return service.describe(session, service.get_open_resource(session, actor, code), with_fields=True)


@router.get("/resources/{code}/rows", response_model=RowsRead)
def rows(
    code: CodePath,
    session: SessionDep,
    settings: SettingsDep,
    actor: PortalActor,
    after: Annotated[int, Query(ge=0, le=2**62)] | None = None,
    limit: Annotated[int, Query(ge=1, le=data.MAX_PAGE)] = 100,
) -> RowsRead:
    """A page of the newest version's rows, masked, in file order; pass `next` back as `after`. Needs an API key."""
    served = data.rows_page(session, actor, settings, code=code, after=after, limit=limit, now=utcnow())
    return RowsRead(
        version=served.version, fields=served.fields, masks=served.masks, rows=served.rows, next=served.next
    )


@router.get(
    "/resources/{code}/download",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def download(
    code: CodePath,
    session: SessionDep,
    settings: SettingsDep,
    actor: PortalActor,
    format: Annotated[data.Format, Query(description="csv (UTF-8 with BOM) or json")] = "csv",
) -> FileResponse:
    """The newest version, masked, as a file; counted and charged to the API key. Needs an API key."""
    made = data.download(session, actor, settings, code=code, fmt=format, via="api", now=utcnow())
    cleanup = BackgroundTask(shutil.rmtree, made.path.parent, ignore_errors=True)
    return FileResponse(made.path, media_type=made.media_type, filename=made.filename, background=cleanup)


# ---- ratings and comments ---------------------------------------------------------------------------


@router.get("/resources/{code}/rating", response_model=RatingRead)
def get_rating(code: CodePath, session: SessionDep, actor: PortalActor) -> RatingRead:
    """The mean rating and how many rated; `mine` is the caller's own stars."""
    resource = service.get_open_resource(session, actor, code)
    mean, count = service.rating_of(session, resource.id)
    return RatingRead(average=mean, count=count, mine=feedback.my_rating(session, actor, resource.id))


@router.put("/resources/{code}/rating", response_model=RatingRead)
def rate(code: CodePath, body: RatingCreate, session: SessionDep, actor: PortalActor) -> RatingRead:
    """Rate the resource 1-5 (registered users); rating again changes one's rating."""
    rating = feedback.rate(session, actor, code=code, stars=body.stars)
    mean, count = service.rating_of(session, rating.resource_id)
    return RatingRead(average=mean, count=count, mine=rating.stars)


def comment_read(session: Session, comment: Comment) -> CommentRead:
    """A comment as the API and pages show it."""
    return CommentRead(
        id=comment.id,
        author=accounts.signature(session, comment.user_id),
        body=comment.body,
        created_at=comment.created_at,
        hidden=comment.hidden_by is not None,
    )


@router.get("/resources/{code}/comments", response_model=list[CommentRead])
def list_comments(code: CodePath, session: SessionDep, actor: PortalActor) -> list[CommentRead]:
    """The resource's comments, newest first."""
    return [comment_read(session, c) for c in feedback.list_comments(session, actor, code=code)]


@router.post("/resources/{code}/comments", response_model=CommentRead, status_code=status.HTTP_201_CREATED)
def add_comment(code: CodePath, body: CommentCreate, session: SessionDep, actor: PortalActor) -> CommentRead:
    """Comment on the resource in plain text (registered users, at most 500 characters)."""
    return comment_read(session, feedback.add_comment(session, actor, code=code, body=body.body))


@router.post("/comments/{comment_id}/hide", response_model=CommentRead)
def hide_comment(comment_id: Id, body: HideBody, session: SessionDep, actor: PortalActor) -> CommentRead:
    """Hide a comment from the public, with a reason (the bureau's moderators)."""
    return comment_read(session, feedback.hide_comment(session, actor, comment_id=comment_id, reason=body.reason))


# ---- data requests ----------------------------------------------------------------------------------


def data_request_read(session: Session, request: DataRequest) -> DataRequestRead:
    """A data request as the API and pages show it: who asked is named by organisation, never by person."""
    state = DataRequestState(request.state)
    department = service.department_name(session, request.department_id)
    return DataRequestRead(
        id=request.id,
        title=request.title,
        description=request.description,
        asked_by=accounts.organisation_of(session, request.user_id),
        department=department,
        state=state,
        state_label=state.label,
        answer=request.answer,
        resource_code=request.resource_code,
        created_at=request.created_at,
        answered_at=request.answered_at,
    )


@router.get("/data-requests", response_model=list[DataRequestRead])
def list_data_requests(
    session: SessionDep,
    actor: PortalActor,
    state: DataRequestState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[DataRequestRead]:
    """Data requests (数据需求) and their answers, newest first."""
    found = feedback.list_data_requests(session, actor, state=state, limit=limit, offset=offset)
    return [data_request_read(session, r) for r in found]


@router.post("/data-requests", response_model=DataRequestRead, status_code=status.HTTP_201_CREATED)
def request_data(body: DataRequestCreate, session: SessionDep, actor: PortalActor) -> DataRequestRead:
    """Ask for data that is not open yet (registered users); it is listed in public with its answer."""
    return data_request_read(session, feedback.request_data(session, actor, body))


@router.get("/data-requests/{request_id}", response_model=DataRequestRead)
def get_data_request(request_id: Id, session: SessionDep, actor: PortalActor) -> DataRequestRead:
    """One data request and its answer."""
    return data_request_read(session, feedback.get_data_request(session, actor, request_id))


@router.post("/data-requests/{request_id}/answer", response_model=DataRequestRead)
def answer_data_request(
    request_id: Id, body: DataRequestAnswer, session: SessionDep, actor: PortalActor
) -> DataRequestRead:
    """The platform accepts or declines a data request, with its reason (and the resource that answers it)."""
    answered = feedback.answer_data_request(session, actor, request_id=request_id, answer=body)
    return data_request_read(session, answered)


# ---- registration -----------------------------------------------------------------------------------


@router.post("/register", response_model=ProfileRead, status_code=status.HTTP_201_CREATED)
def register(body: RegistrationCreate, session: SessionDep, actor: PortalActor) -> ProfileRead:
    """Register as an enterprise (with its unified social credit code) or a researcher (with an institution)."""
    user, profile = accounts.register(session, actor, body)
    return accounts.profile_read(user, profile)


@router.get("/profile", response_model=ProfileRead)
def get_profile(session: SessionDep, actor: PortalActor) -> ProfileRead:
    """The caller's portal profile (with an API key); none is `not_found`."""
    profile = accounts.get_profile(session, actor.user_id)
    if profile is None or actor.user_id is None:
        raise NotFound("You have no portal profile.", "您尚未注册为开放平台用户。")
    return accounts.profile_read(session.get_one(User, actor.user_id), profile)


# ---- applications for 受限开放 data ---------------------------------------------------------------------


def _read(session: Session, application: Application) -> ApplicationRead:
    return applications.application_read(session, application, workdays.china_today())


@router.post("/applications", response_model=ApplicationRead, status_code=status.HTTP_201_CREATED)
def apply(body: ApplicationCreate, session: SessionDep, actor: PortalActor) -> ApplicationRead:
    """Apply for a 受限开放 resource (registered enterprises and researchers), with the security commitment."""
    return _read(session, applications.apply(session, actor, body, today=workdays.china_today()))


@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(
    session: SessionDep,
    actor: PortalActor,
    state: ApplicationState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ApplicationRead]:
    """Applications the caller may see: one's own; a steward its department's; platform roles all."""
    today = workdays.china_today()
    found = applications.list_applications(session, actor, today=today, state=state, limit=limit, offset=offset)
    return [_read(session, a) for a in found]


@router.get("/applications/{application_id}", response_model=ApplicationRead)
def get_application(application_id: Id, session: SessionDep, actor: PortalActor) -> ApplicationRead:
    """One application the caller may see."""
    return _read(session, applications.get_application(session, actor, application_id))


@router.post("/applications/{application_id}/source-decision", response_model=ApplicationRead)
def decide_as_source(application_id: Id, body: Decision, session: SessionDep, actor: PortalActor) -> ApplicationRead:
    """The source department's steward approves or refuses (a refusal needs its reason)."""
    decided = applications.decide_as_source(session, actor, application_id=application_id, decision=body)
    return _read(session, decided)


@router.post("/applications/{application_id}/platform-decision", response_model=ApplicationRead)
def decide_as_platform(application_id: Id, body: Decision, session: SessionDep, actor: PortalActor) -> ApplicationRead:
    """The platform approves (the period starts today) or refuses (with its reason)."""
    decided = applications.decide_as_platform(
        session, actor, application_id=application_id, decision=body, today=workdays.china_today()
    )
    return _read(session, decided)
