"""Catalog API: search, read, create, edit and review resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy.orm import Session

from digigov.catalog import search, service
from digigov.catalog.models import Resource
from digigov.catalog.schemas import (
    Completeness,
    FacetCount,
    ReasonBody,
    ResourceChanges,
    ResourceCreate,
    ResourceRead,
    SearchResult,
)
from digigov.core.auth import Actor
from digigov.core.deps import ActorDep, SessionDep
from digigov.identity.service import list_departments

router = APIRouter(prefix="/resources", tags=["catalog"])

CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
FacetValues = Annotated[list[Annotated[str, Query(max_length=50)]] | None, Query(max_length=20)]


@router.get("", response_model=SearchResult)
def search_resources(
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00-\x1f]*$")] = "",
    department: FacetValues = None,
    category: FacetValues = None,
    share_type: FacetValues = None,
    open_type: FacetValues = None,
    grade: FacetValues = None,
    update_cycle: FacetValues = None,
    state: FacetValues = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SearchResult:
    """Search the catalog in Chinese; facets count the whole match by department, type, grade, cycle."""
    filters = {
        "department": department,
        "category": category,
        "share_type": share_type,
        "open_type": open_type,
        "grade": grade,
        "update_cycle": update_cycle,
        "state": state,
    }
    found = search.search_resources(
        session, actor, q=q, filters={k: v for k, v in filters.items() if v}, limit=limit, offset=offset
    )
    return SearchResult(
        count=found.count,
        results=[ResourceRead.model_validate(r) for r in found.results],
        facets=_labelled(session, actor, found.facets),
    )


def _labelled(session: Session, actor: Actor, facets: dict[str, list[tuple[str, int]]]) -> dict[str, list[FacetCount]]:
    names = {str(d.id): d.name for d in list_departments(session, actor)} if facets["department"] else {}
    return {
        facet: [
            FacetCount(
                value=value,
                label=names.get(value, value) if facet == "department" else search.facet_label(facet, value),
                count=n,
            )
            for value, n in counts
        ]
        for facet, counts in facets.items()
    }


@router.post("", response_model=ResourceRead, status_code=status.HTTP_201_CREATED)
def create_resource(body: ResourceCreate, session: SessionDep, actor: ActorDep) -> Resource:
    """Register a resource as a draft of a department (its data steward)."""
    return service.create_resource(session, actor, body)


@router.get("/review-queue", response_model=list[ResourceRead])
def review_queue(session: SessionDep, actor: ActorDep) -> list[Resource]:
    """What waits for the reviewers: submitted resources and proposed changes."""
    return service.review_queue(session, actor)


@router.get("/{code}", response_model=ResourceRead)
def get_resource(code: CodePath, session: SessionDep, actor: ActorDep) -> Resource:
    """One resource with its fields."""
    return service.get_resource(session, actor, code)


@router.get("/{code}/completeness", response_model=Completeness)
def completeness(code: CodePath, session: SessionDep, actor: ActorDep) -> Completeness:
    """The resource's metadata completeness score and what is missing."""
    score = search.completeness(service.get_resource(session, actor, code))
    return Completeness(score=score.score, missing=score.missing)


@router.patch("/{code}", response_model=ResourceRead)
def edit_resource(code: CodePath, body: ResourceChanges, session: SessionDep, actor: ActorDep) -> Resource:
    """Edit a draft; for a published resource the change waits for review (`pending_changes`)."""
    return service.edit_resource(session, actor, code=code, changes=body)


@router.post("/{code}/submit", response_model=ResourceRead)
def submit(code: CodePath, session: SessionDep, actor: ActorDep) -> Resource:
    """Send a draft or returned resource for review."""
    return service.submit_resource(session, actor, code=code)


@router.post("/{code}/publish", response_model=ResourceRead)
def publish(code: CodePath, session: SessionDep, actor: ActorDep) -> Resource:
    """Publish a submitted resource or apply its pending change (reviewers)."""
    return service.publish_resource(session, actor, code=code)


@router.post("/{code}/return", response_model=ResourceRead)
def return_(code: CodePath, body: ReasonBody, session: SessionDep, actor: ActorDep) -> Resource:
    """Return a submitted resource or drop a pending change, with a reason (reviewers)."""
    return service.return_resource(session, actor, code=code, reason=body.reason)


@router.post("/{code}/withdraw", response_model=ResourceRead)
def withdraw(code: CodePath, body: ReasonBody, session: SessionDep, actor: ActorDep) -> Resource:
    """Withdraw a published resource, with a reason."""
    return service.withdraw_resource(session, actor, code=code, reason=body.reason)
