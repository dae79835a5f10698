"""Datastore API: ingest a file as a new version, list and read versions."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from digigov.catalog import get_resource
from digigov.core.deps import ActorDep, SessionDep, SettingsDep
from digigov.core.errors import Invalid
from digigov.datastore import export, versions
from digigov.datastore.models import Version
from digigov.datastore.query import RowQuery
from digigov.datastore.schemas import RowsRead, VersionRead

router = APIRouter(prefix="/resources/{code}/versions", tags=["datastore"])


def parse_filters(text: str | None) -> dict[str, Any] | None:
    """Filters as JSON: an object of field to value, list of values, or {operator: value}."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid("filters must be a JSON object.", "filters 须为 JSON 对象。") from None
    if not isinstance(value, dict):
        raise Invalid("filters must be a JSON object.", "filters 须为 JSON 对象。")
    return value


def parse_sort(text: str | None) -> list[tuple[str, bool]] | None:
    """`field [asc|desc], …` to (field, descending) pairs.

    >>> parse_sort("成立日期 desc, 名称")
    [('成立日期', True), ('名称', False)]
    """
    if not text:
        return None
    pairs = []
    for part in text.split(","):
        words = part.strip().rsplit(" ", 1)
        if len(words) == 2 and words[1].lower() in {"asc", "desc"}:
            pairs.append((words[0].strip(), words[1].lower() == "desc"))
        elif part.strip():
            pairs.append((part.strip(), False))
    return pairs


CodePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]


@router.post("", response_model=VersionRead, status_code=status.HTTP_201_CREATED)
def ingest(
    code: CodePath,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV/TSV, XLSX, XLS, JSON or JSONL; recognised by content.")],
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    allow_schema_change: Annotated[bool, Form()] = False,
) -> Version:
    """Store an upload as the next immutable version; the reply carries the ingestion report."""
    return versions.ingest_file(
        session,
        actor,
        home=settings.home,
        resource_code=code,
        upload=file.file,
        filename=file.filename or "upload",
        sheet=sheet,
        allow_schema_change=allow_schema_change,
    )


@router.get("", response_model=list[VersionRead])
def list_versions(code: CodePath, session: SessionDep, actor: ActorDep) -> list[Version]:
    """A resource's versions, newest first."""
    return versions.list_versions(session, actor, code)


@router.get("/{number}", response_model=VersionRead)
def get_version(
    code: CodePath, number: Annotated[int, Path(ge=1, le=2_147_483_647)], session: SessionDep, actor: ActorDep
) -> Version:
    """One version with its ingestion report."""
    return versions.get_version(session, actor, code, number)


@router.get("/{number}/rows", response_model=RowsRead)
def rows(
    code: CodePath,
    number: Annotated[int, Path(ge=1, le=2_147_483_647)],
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    fields: Annotated[str | None, Query(max_length=2000, description="Comma-separated field names.")] = None,
    filters: Annotated[str | None, Query(max_length=4000, description='JSON: {"field": value | {"lt": v}}')] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, Query(max_length=500, description="e.g. `成立日期 desc, 名称`")] = None,
    limit: Annotated[int, Query(ge=0, le=32_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    after: Annotated[int | None, Query(ge=0, le=10**12, description="Keyset cursor: the last _id seen.")] = None,
) -> RowsRead:
    """Rows of a version with field selection, filters, text search, sort and keyset paging.

    Readers outside the resource's department and the bureau get every field masked by its class
    (each masked field says its `mask`); filtering or sorting on a masked field is `masked_field`
    (403), and `q` searches the fields shown in clear.
    """
    query = RowQuery(
        fields=[f.strip() for f in fields.split(",") if f.strip()] if fields else None,
        filters=parse_filters(filters),
        q=q or None,
        sort=parse_sort(sort),
        limit=limit,
        offset=offset,
        after=after,
    )
    _, page = versions.query_rows(session, actor, settings, resource_code=code, number=number, query=query)
    return RowsRead(fields=page.fields, records=page.records, total=page.total, next_after=page.next_after)


@router.get(
    "/{number}/download",
    response_class=FileResponse,
    responses={200: {"content": {media.split(";")[0]: {} for media in export.MEDIA.values()}}},
)
def download(
    code: CodePath,
    number: Annotated[int, Path(ge=1, le=2_147_483_647)],
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    format: Annotated[export.Format, Query(description="csv (UTF-8 with BOM), xlsx, json or parquet")] = "csv",
) -> FileResponse:
    """The version's rows as a file, masked as the rows are for this reader; XLSX formulas are escaped."""
    version, path = versions.export_rows(session, actor, settings, resource_code=code, number=number, fmt=format)
    own_file = path == versions.parquet_path(settings.home, version)
    cleanup = None if own_file else BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
    name = f"{code}-v{number}.{format}"
    return FileResponse(path, media_type=export.MEDIA[format], filename=name, background=cleanup)


@router.get("/{number}/datapackage.json")
def datapackage(
    code: CodePath,
    number: Annotated[int, Path(ge=1, le=2_147_483_647)],
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A Frictionless datapackage.json describing the version (as this reader downloads it)."""
    version = versions.get_version(session, actor, code, number)
    resource = get_resource(session, actor, code)
    masked = versions.masked_fields(session, actor, settings, resource, version)
    return export.datapackage(code, resource.title, version, str(request.base_url).rstrip("/"), masked)
