"""Governance API: the data-element dictionary, authoritative sources, conflicts between sources, code tables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy.orm import Session

from digigov.core.deps import ActorDep, SessionDep, SettingsDep
from digigov.governance import codetables, conflicts, elements
from digigov.governance.models import CodeTable, ConflictRun, DataElement
from digigov.governance.rows import Viewer
from digigov.governance.schemas.elements import (
    ELEMENT_ID,
    CodeTableRead,
    CodeTableSummary,
    CodeValueRead,
    ConflictRead,
    ConflictReport,
    ConflictRunRead,
    ConflictsBody,
    ElementChanges,
    ElementCreate,
    ElementList,
    ElementRead,
    SkippedRead,
    SourceBody,
    UsageRead,
)

router = APIRouter(prefix="/governance", tags=["governance"])

ElementId = Annotated[str, Path(pattern=ELEMENT_ID)]
Text = Annotated[str, Query(max_length=100, pattern=r"^[^\x00-\x1f]*$")]


def element_read(session: Session, element: DataElement) -> ElementRead:
    """An element with its authoritative resource's code."""
    source = elements.source_resource(session, element)
    read = ElementRead.model_validate(element)
    read.source_resource = source.code if source else None
    return read


@router.get("/elements", response_model=ElementList)
def list_elements(session: SessionDep, actor: ActorDep, q: Text = "") -> ElementList:
    """The data-element dictionary, narrowed by identifier, name or definition."""
    found = elements.list_elements(session, actor, q=q)
    return ElementList(count=len(found), elements=[element_read(session, e) for e in found])


@router.post("/elements", response_model=ElementRead, status_code=status.HTTP_201_CREATED)
def create_element(body: ElementCreate, session: SessionDep, actor: ActorDep) -> ElementRead:
    """Add an element (the bureau); without an identifier the next free `DEnnnn` is given."""
    return element_read(session, elements.create_element(session, actor, data=body))


@router.get("/elements/{identifier}", response_model=ElementRead)
def get_element(identifier: ElementId, session: SessionDep, actor: ActorDep) -> ElementRead:
    """One element with its standard and authoritative source."""
    return element_read(session, elements.get_element(session, actor, identifier))


@router.patch("/elements/{identifier}", response_model=ElementRead)
def update_element(identifier: ElementId, body: ElementChanges, session: SessionDep, actor: ActorDep) -> ElementRead:
    """Change an element's name, definition or standard (the bureau)."""
    return element_read(session, elements.update_element(session, actor, identifier=identifier, changes=body))


@router.put("/elements/{identifier}/source", response_model=ElementRead)
def set_source(identifier: ElementId, body: SourceBody, session: SessionDep, actor: ActorDep) -> ElementRead:
    """Name the element's authoritative source; 409 if it has another one, unless the bureau replaces it."""
    element = elements.set_authoritative_source(
        session, actor, element=identifier, resource_code=body.resource_code, field=body.field, replace=body.replace
    )
    return element_read(session, element)


@router.get("/elements/{identifier}/usage", response_model=list[UsageRead])
def usage(identifier: ElementId, session: SessionDep, actor: ActorDep) -> list[UsageRead]:
    """The resources' fields declared as the element, the authoritative one marked."""
    return [
        UsageRead(
            resource_code=u.resource.code,
            resource_title=u.resource.title,
            department_id=u.resource.department_id,
            field=u.field.name,
            field_title=u.field.title,
            is_key=u.field.is_key,
            authoritative=u.authoritative,
        )
        for u in elements.element_usage(session, actor, element=identifier)
    ]


@router.post("/elements/{identifier}/conflicts", response_model=ConflictReport)
def find_conflicts(
    identifier: ElementId,
    body: ConflictsBody,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    sample: Annotated[int, Query(ge=0, le=conflicts.SAMPLE)] = 20,
) -> ConflictReport:
    """Compare the element between its authoritative source and every other resource, joined on the key element."""
    result = conflicts.find_conflicts(
        session, actor, home=settings.home, element=identifier, key_element=body.key_element
    )
    viewer = Viewer(actor, settings)
    return ConflictReport(
        element=result.element.identifier,
        key_element=result.key_element,
        conflicts=result.conflicts,
        runs=[run_read(session, viewer, result.element, run, sample) for run in result.runs],
        skipped=[SkippedRead(resource=s.resource, reason=s.reason) for s in result.skipped],
    )


@router.get("/elements/{identifier}/conflicts", response_model=list[ConflictRunRead])
def latest_conflicts(
    identifier: ElementId,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    sample: Annotated[int, Query(ge=0, le=conflicts.SAMPLE)] = 20,
) -> list[ConflictRunRead]:
    """The newest comparison of each resource with the authoritative source that the caller may see."""
    element = elements.get_element(session, actor, identifier)
    runs = conflicts.latest_conflicts(session, actor, element=identifier)
    viewer = Viewer(actor, settings)
    return [run_read(session, viewer, element, run, sample) for run in runs]


def run_read(session: Session, viewer: Viewer, element: DataElement, run: ConflictRun, sample: int) -> ConflictRunRead:
    """A stored run with resource codes and the first `sample` conflicting keys, masked for the viewer."""
    codes = conflicts.resource_codes(session, run)
    return ConflictRunRead(
        id=run.id,
        element=element.identifier,
        key_element=run.key_element,
        source_resource=codes[0],
        source_field=run.source_field,
        source_key_field=run.source_key_field,
        source_version=run.source_version,
        other_resource=codes[1],
        other_field=run.other_field,
        other_key_field=run.other_key_field,
        other_version=run.other_version,
        compared=run.compared,
        conflicts=run.conflicts,
        found_by=run.found_by,
        found_at=run.found_at,
        sample=[ConflictRead.model_validate(c) for c in conflicts.shown_sample(session, run, viewer, limit=sample)],
    )


@router.get("/code-tables", response_model=list[CodeTableSummary])
def list_code_tables(session: SessionDep, actor: ActorDep) -> list[CodeTableSummary]:
    """The loaded code tables with their number of codes."""
    return [summary(t, n) for t, n in codetables.list_code_tables(session, actor)]


def summary(table: CodeTable, count: int) -> CodeTableSummary:
    return CodeTableSummary(
        name=table.name, slug=codetables.slug(table.name), title=table.title, source=table.source, count=count
    )


@router.get("/code-tables/{slug}", response_model=CodeTableRead)
def get_code_table(
    slug: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9.\-]{0,49}$")],
    session: SessionDep,
    actor: ActorDep,
    q: Text = "",
    parent: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CodeTableRead:
    """A code table (`gbt-2260`, `gbt-4754`, `gbt-2261.1`): counts by level and one page of its codes."""
    table = codetables.get_code_table(session, actor, slug)
    values, matched = codetables.list_code_values(
        session, actor, table=table.name, q=q, parent=parent, limit=limit, offset=offset
    )
    levels = codetables.level_counts(session, table)
    return CodeTableRead(
        **summary(table, sum(levels.values())).model_dump(),
        levels=levels,
        matched=matched,
        values=[CodeValueRead.model_validate(v) for v in values],
    )
