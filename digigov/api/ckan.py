"""A CKAN-compatible action API over the catalog, for existing CKAN clients (ckanapi and others).

Mounted at `/api/3/action/<name>` and `/api/action/<name>`, GET or POST, with CKAN's envelope
(`help`, `success`, `result` | `error` with `__type`). Unknown keys are ignored, as CKAN does.
There is deliberately no `datastore_search_sql`: CKAN's own had two injection CVEs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from digigov import __version__
from digigov.catalog import search, service
from digigov.catalog.models import Resource
from digigov.catalog.schemas import ResourceChanges, ResourceCreate
from digigov.catalog.vocabulary import ResourceState
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.deps import SessionDep
from digigov.core.errors import Conflict, DigigovError, Forbidden, Invalid, NotAuthenticated, NotFound
from digigov.datastore import versions
from digigov.datastore.api import parse_sort
from digigov.datastore.models import Version
from digigov.datastore.query import MAX_LIMIT, RowQuery
from digigov.identity.models import Department

router = APIRouter(include_in_schema=False)

ROWS_MAX = 1000
EXTRAS = (
    "category",
    "base_type",
    "update_cycle",
    "share_type",
    "share_condition",
    "share_basis",
    "open_type",
    "open_condition",
    "format",
    "contact",
    "grade",
)
FQ_FIELDS = {
    "organization": "department",
    "category": "category",
    "share_type": "share_type",
    "open_type": "open_type",
    "grade": "grade",
    "update_cycle": "update_cycle",
    "state": "state",
}


class CkanReply(Exception):
    """A failed action's reply; raised so the request's transaction rolls back, then sent as is."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def reply(request: Request, error: Exception) -> JSONResponse:
    """The exception handler the app installs for `CkanReply`."""
    assert isinstance(error, CkanReply)
    return error.response


class CkanError(Exception):
    """An error in CKAN's own vocabulary."""

    def __init__(self, status: int, kind: str, body: dict[str, Any]) -> None:
        super().__init__(kind)
        self.status, self.kind, self.body = status, kind, body


Action = Callable[[Session, Actor | None, dict[str, Any], Settings], Any]
ACTIONS: dict[str, Action] = {}
# Actions whose results are already plain JSON values, encoded by orjson with no jsonable_encoder
# pass: str keys, str, int, bool, None, lists, dicts and orjson.Fragment only (no floats, which
# orjson writes unlike the json module).
PLAIN: set[str] = set()


def action(name: str, *, plain: bool = False) -> Callable[[Action], Action]:
    """Register a function as a CKAN action; `plain` when its result holds only what PLAIN allows."""

    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        if plain:
            PLAIN.add(name)
        return fn

    return register


def _actor(request: Request, session: Session) -> Actor | None:
    raw = request.headers.get("x-ckan-api-key") or request.headers.get("authorization") or ""
    token = raw.removeprefix("Bearer ").strip()
    if not token:
        return None
    actor: Actor = request.app.state.authenticate_token(session, token)
    return actor


def _run(fn: Action, request: Request, session: Session, data: dict[str, Any]) -> Any:
    return fn(session, _actor(request, session), data, request.app.state.settings)


async def _data(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        params = request.query_params
        return {k: (params.getlist(k) if len(params.getlist(k)) > 1 else params[k]) for k in params}
    body = await request.body()
    if not body:
        return {}
    if request.headers.get("content-type", "").startswith(("multipart/", "application/x-www-form-urlencoded")):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise CkanError(400, "", {}) from None
    if not isinstance(parsed, dict):
        raise CkanError(400, "", {})
    return parsed


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def call(name: str, request: Request, session: SessionDep) -> Response:
    """Run one CKAN action and wrap its result in CKAN's envelope."""
    help_url = f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"
    fn = ACTIONS.get(name)
    if fn is None:
        return JSONResponse(f"Bad request - Action name not known: {name}", status_code=400)
    try:
        data = await _data(request)
        # the action reads the database and DuckDB: off the event loop, so one slow search does not stall the rest
        result = await run_in_threadpool(_run, fn, request, session, data)
    except CkanError as error:
        if not error.kind:
            return JSONResponse("Bad request - JSON Error: the body is not a JSON object", status_code=400)
        session.rollback()
        return JSONResponse(
            {"help": help_url, "success": False, "error": {**error.body, "__type": error.kind}},
            status_code=error.status,
        )
    except DigigovError as error:
        session.rollback()
        status, kind, body = _translate(error)
        return JSONResponse({"help": help_url, "success": False, "error": {**body, "__type": kind}}, status_code=status)
    if name in PLAIN:
        # The same bytes JSONResponse writes for these values (compact, UTF-8), several times faster.
        encoded = orjson.dumps({"help": help_url, "success": True, "result": result})
        return Response(encoded, media_type="application/json")
    return JSONResponse({"help": help_url, "success": True, "result": jsonable_encoder(result)})


def _translate(error: DigigovError) -> tuple[int, str, dict[str, Any]]:
    message = error.message_zh
    if isinstance(error, NotFound):
        return 404, "Not Found Error", {"message": f"Not found: {message}"}
    if isinstance(error, NotAuthenticated | Forbidden):
        return 403, "Authorization Error", {"message": f"Access denied: {message}", "code": error.code}
    if isinstance(error, Invalid | Conflict):
        return 409, "Validation Error", {"message": [message]}
    return 400, "Integrity Error", {"message": message}


def _need(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated("An API token is required.", "需要 API 令牌（Authorization 请求头）。")
    return actor


def _int(data: dict[str, Any], key: str, default: int, top: int) -> int:
    value = data.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CkanError(409, "Validation Error", {key: ["Invalid integer"]}) from None
    if not 0 <= number <= top:
        raise CkanError(409, "Validation Error", {key: [f"Must be between 0 and {top}"]})
    return number


def package_dict(session: Session, resource: Resource, versions_of: list[Version] | None = None) -> dict[str, Any]:
    """A resource in CKAN's package shape; our own metadata rides along in `extras`."""
    dept = session.get(Department, resource.department_id)
    values = {c.key: getattr(resource, c.key) for c in _PACKAGE_COLUMNS}
    return _package(values, (dept.code, dept.name) if dept else None, _resources(session, resource, versions_of))


def _package(
    resource: Mapping[Any, Any], department: tuple[str, str] | None, resources: list[dict[str, Any]]
) -> dict[str, Any]:
    """The package shape of a resource's _PACKAGE_COLUMNS, given its department (code, name)."""
    code = department[0] if department else None
    organization = {"id": code, "name": code, "title": department[1], "type": "organization"} if department else None
    return {
        "id": resource["code"],
        "name": resource["code"],
        "title": resource["title"],
        "notes": resource["abstract"],
        "type": "dataset",
        "state": "active" if resource["state"] == ResourceState.published else "draft",
        "private": resource["state"] != ResourceState.published,
        "owner_org": code,
        "organization": organization,
        "tags": [{"name": k, "display_name": k} for k in resource["keywords"]],
        "groups": [{"name": s, "title": s, "display_name": s} for s in resource["subjects"]],
        "extras": [{"key": k, "value": str(resource[k])} for k in EXTRAS if resource[k]],
        "metadata_created": resource["created_at"].isoformat(),
        "metadata_modified": resource["updated_at"].isoformat(),
        "num_resources": len(resources),
        "num_tags": len(resource["keywords"]),
        "resources": resources,
        "digigov_state": resource["state"],
    }


@action("status_show")
def status_show(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {
        "ckan_version": "2.11.0",
        "site_title": "digigov 数字政府平台",
        "site_description": "",
        "locale_default": "zh_Hans_CN",
        "extensions": ["digigov"],
        "digigov_version": __version__,
    }


@action("package_list")
def package_list(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> list[str]:
    limit, offset = _int(data, "limit", ROWS_MAX, ROWS_MAX), _int(data, "offset", 0, 10**7)
    found = search.search_resources(session, _need(actor), filters={"state": ["published"]}, limit=limit, offset=offset)
    return sorted(r.code for r in found.results)


@action("package_show")
def package_show(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return package_dict(session, service.get_resource(session, _need(actor), str(data.get("id", ""))))


def _fq(session: Session, fq: str) -> tuple[dict[str, list[str]], list[str]]:
    filters: dict[str, list[str]] = {}
    extra_terms: list[str] = []
    for part in fq.replace("+", " ").split():
        key, sep, value = part.partition(":")
        value = value.strip('"')
        if not sep or not value:
            raise CkanError(400, "Search Query Error", {"message": f"Search error: cannot parse fq '{part}'"})
        if key == "tags":
            extra_terms.append(value)
        elif key == "organization":
            dept = session.scalar(select(Department.id).where(Department.code == value))
            filters.setdefault("department", []).append(str(dept or 0))
        elif key in FQ_FIELDS:
            filters.setdefault(FQ_FIELDS[key], []).append(value)
        else:
            raise CkanError(400, "Search Query Error", {"message": f"Search error: unknown field '{key}'"})
    return filters, extra_terms


@action("package_search", plain=True)
def package_search(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    rows, start = _int(data, "rows", 10, ROWS_MAX), _int(data, "start", 0, 10**7)
    filters, terms = _fq(session, str(data.get("fq", "")))
    q = " ".join([str(data.get("q", "")).replace("*:*", ""), *terms]).strip()
    try:
        fields, bad_fields = _facet_fields(data), None
    except CkanError as error:  # reported after the search, so a missing token still comes first
        fields, bad_fields = [], error
    wanted = [FQ_FIELDS[f] for f in fields if f in FQ_FIELDS]
    found = search.match_resources(
        session, _need(actor), q=q, filters=filters, limit=rows, offset=start, facets=wanted, columns=_ROW_COLUMNS
    )
    if bad_fields is not None:
        raise bad_fields
    named = session.execute(select(Department.id, Department.code, Department.name))
    departments = {dept_id: (code, name) for dept_id, code, name in named}
    results = list(_encoded_packages(session, found.rows, departments))
    facets, search_facets = _ckan_facets(departments, found.facets, fields)
    return {
        "count": found.count,
        "results": results,
        "facets": facets,
        "search_facets": search_facets,
        "sort": "score desc, metadata_modified desc",
    }


def _facet_fields(data: dict[str, Any]) -> list[str]:
    wanted = data.get("facet.field", "[]")
    try:
        fields = json.loads(wanted) if isinstance(wanted, str) else wanted
    except ValueError:
        raise CkanError(409, "Validation Error", {"facet.field": ["Not a JSON list"]}) from None
    if not isinstance(fields, list):
        raise CkanError(409, "Validation Error", {"facet.field": ["Not a JSON list"]})
    return [str(f) for f in fields]


_PACKAGE_COLUMNS = [
    Resource.id,
    Resource.code,
    Resource.title,
    Resource.abstract,
    Resource.state,
    Resource.department_id,
    Resource.keywords,
    Resource.subjects,
    Resource.created_at,
    Resource.updated_at,
    *(getattr(Resource, k) for k in EXTRAS),
]


_RESOURCE = Resource.__table__.c
_VERSION = Version.__table__.c
_JSON_LISTS = ("keywords", "subjects")
_ROW_KEYS = [c.key for c in _PACKAGE_COLUMNS]
# Table columns, not mapped attributes, so the search reads plain rows without the ORM's row
# loading; the JSON lists come as their text for orjson, which parses them several times faster
# than the json module.
_ROW_COLUMNS = [cast(_RESOURCE[k], Text) if k in _JSON_LISTS else _RESOURCE[k] for k in _ROW_KEYS]


class _VersionRow(NamedTuple):
    """What a package's resource entry reads of a version."""

    resource_id: int
    number: int
    raw_bytes: int
    raw_sha256: str
    created_at: datetime


_VERSION_KEYS = _VersionRow._fields
_DEPARTMENT = _ROW_KEYS.index("department_id")
_VERSIONS = (
    select(*(_VERSION[k] for k in _VERSION_KEYS))
    .where(_VERSION.resource_id.in_(bindparam("ids", expanding=True)))
    .order_by(_VERSION.number.desc())
)
_CHUNK = 250  # resources per versions statement: few enough that a chunk's packages die young


def _encoded_packages(
    session: Session, rows: list[tuple[Any, ...]], departments: dict[int, tuple[str, str]]
) -> Iterator[orjson.Fragment]:
    """The encoded packages of resources from their _ROW_COLUMNS rows, in order; versions read a chunk at a time."""
    for i in range(0, len(rows), _CHUNK):
        chunk = rows[i : i + _CHUNK]
        chunk_versions: dict[int, list[tuple[Any, ...]]] = {}
        for version in session.execute(_VERSIONS, {"ids": [row[0] for row in chunk]}):
            chunk_versions.setdefault(version.resource_id, []).append(tuple(version))
        for row in chunk:
            versions_of = tuple(chunk_versions.get(row[0], ()))
            yield _encoded_package(tuple(row), departments.get(row[_DEPARTMENT]), versions_of)


@lru_cache(maxsize=20_000)
def _encoded_package(
    row: tuple[Any, ...], department: tuple[str, str] | None, versions_of: tuple[tuple[Any, ...], ...]
) -> orjson.Fragment:
    """A package encoded once for everything it is made of, so a page of 1,000 costs a lookup per package.

    The key holds every input (the resource's columns, its department's code and name, its versions'
    columns), so a changed resource is a new key and an entry is never stale; old entries age out.
    Encoded at once, the package's dicts die young (1,000 live packages set off full collections).
    """
    values = dict(zip(_ROW_KEYS, row, strict=True))
    values.update((k, orjson.loads(values[k])) for k in _JSON_LISTS)
    code, title = values["code"], values["title"]
    resources = [_resource_dict(code, title, _VersionRow(*v)) for v in versions_of]
    return orjson.Fragment(orjson.dumps(_package(values, department, resources)))


def _ckan_facets(
    departments: dict[int, tuple[str, str]], ours: dict[str, list[tuple[str, int]]], fields: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    facets: dict[str, Any] = {}
    search_facets: dict[str, Any] = {}
    for field in fields:
        name = FQ_FIELDS.get(field)
        if name is None:
            continue
        items = []
        for value, n in ours[name]:
            shown = departments.get(int(value), (value, ""))[0] if name == "department" else value
            items.append(
                {
                    "name": shown,
                    "display_name": search.facet_label(name, value) if name != "department" else shown,
                    "count": n,
                }
            )
        facets[field] = {i["name"]: i["count"] for i in items}
        search_facets[field] = {"title": field, "items": items}
    return facets, search_facets


@action("organization_list")
def organization_list(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> list[Any]:
    _need(actor)
    departments = session.scalars(select(Department).order_by(Department.code)).all()
    if str(data.get("all_fields", "")).lower() in {"true", "1"}:
        return [{"id": d.code, "name": d.code, "title": d.name, "type": "organization"} for d in departments]
    return [d.code for d in departments]


@action("organization_show")
def organization_show(
    session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    found = search.search_resources(session, _need(actor), limit=1)
    department = session.scalar(select(Department).where(Department.code == str(data.get("id", ""))))
    if department is None:
        raise NotFound("No such organization.", "没有该组织（部门）。")
    count = dict(found.facets["department"]).get(str(department.id), 0)
    return {
        "id": department.code,
        "name": department.code,
        "title": department.name,
        "type": "organization",
        "package_count": count,
        "is_organization": True,
    }


def _published(session: Session, actor: Actor | None) -> list[Resource]:
    return search.search_resources(session, _need(actor), filters={"state": ["published"]}, limit=100_000).results


@action("group_list")
def group_list(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> list[str]:
    return sorted({s for r in _published(session, actor) for s in r.subjects})


@action("tag_list")
def tag_list(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> list[str]:
    return sorted({k for r in _published(session, actor) for k in r.keywords})


def _native(data: dict[str, Any]) -> dict[str, Any]:
    """CKAN keys to ours: name→code, notes→abstract, tags→keywords, groups→subjects, extras flattened."""
    values: dict[str, Any] = {k: v for k, v in data.items() if k in ResourceCreate.model_fields}
    renames = {"name": "code", "notes": "abstract"}
    values.update({ours: data[theirs] for theirs, ours in renames.items() if theirs in data})
    if isinstance(data.get("tags"), list):
        values["keywords"] = [t.get("name") if isinstance(t, dict) else t for t in data["tags"]]
    if isinstance(data.get("groups"), list):
        values["subjects"] = [g.get("name") if isinstance(g, dict) else g for g in data["groups"]]
    if isinstance(data.get("extras"), list):
        for extra in data["extras"]:
            if isinstance(extra, dict) and extra.get("key") in EXTRAS:
                values[str(extra["key"])] = extra.get("value")
    return values


def _validated(model: type[ResourceCreate] | type[ResourceChanges], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        body: dict[str, Any] = {}
        for e in error.errors():
            body.setdefault(str(e["loc"][0]) if e["loc"] else "data", []).append(e["msg"])
        raise CkanError(409, "Validation Error", body) from None


@action("package_create")
def package_create(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    acting = _need(actor)
    values = _native(data)
    org = data.get("owner_org")
    dept = session.scalar(select(Department.id).where(Department.code == str(org))) if org else acting.department_id
    values["department_id"] = dept
    resource = service.create_resource(session, acting, _validated(ResourceCreate, values))
    return package_dict(session, resource)


@action("package_patch")
def package_patch(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    changes = _native({k: v for k, v in data.items() if k not in {"id", "name"}})
    changes.pop("code", None)
    resource = service.edit_resource(
        session,
        _need(actor),
        code=str(data.get("id", data.get("name", ""))),
        changes=_validated(ResourceChanges, changes),
    )
    return package_dict(session, resource)


@action("package_revise")
def package_revise(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    match = _json_field(data, "match")
    update = _json_field(data, "update")
    code = str(match.get("id", match.get("name", "")))
    acting = _need(actor)
    current = package_dict(session, service.get_resource(session, acting, code))
    for key, value in match.items():
        if key not in {"id", "name"} and current.get(key) != value:
            raise CkanError(409, "Validation Error", {"match": [f"{key} does not match the current value"]})
    changes = _native(update)
    changes.pop("code", None)
    resource = service.edit_resource(session, acting, code=code, changes=_validated(ResourceChanges, changes))
    return {"package": package_dict(session, resource)}


def _json_field(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise CkanError(409, "Validation Error", {key: ["Not a JSON object"]}) from None
    if not isinstance(value, dict):
        raise CkanError(409, "Validation Error", {key: ["Not a JSON object"]})
    return value


CKAN_TYPES = {
    "string": "text",
    "integer": "int",
    "decimal": "numeric",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "bool",
}


def _versions_by_resource(session: Session, resource_ids: list[int]) -> dict[int, list[Version]]:
    """Every version of a page of resources in one query, newest first."""
    found: dict[int, list[Version]] = {}
    stmt = select(Version).where(Version.resource_id.in_(resource_ids)).order_by(Version.number.desc())
    for version in session.scalars(stmt):
        found.setdefault(version.resource_id, []).append(version)
    return found


def _resources(session: Session, resource: Resource, versions_of: list[Version] | None) -> list[dict[str, Any]]:
    if versions_of is None:
        versions_of = _versions_by_resource(session, [resource.id]).get(resource.id, [])
    return [_resource_dict(resource.code, resource.title, v) for v in versions_of]


def _resource_dict(code: str, title: str, version: Version | _VersionRow) -> dict[str, Any]:
    return {
        "id": f"{code}-v{version.number}",
        "package_id": code,
        "name": f"{title}（第 {version.number} 版）",
        "format": "Parquet",
        "url": f"/api/v1/resources/{code}/versions/{version.number}",
        "url_type": "upload",
        "size": version.raw_bytes,
        "hash": f"sha256:{version.raw_sha256}",
        "created": version.created_at.isoformat(),
        "datastore_active": True,
    }


def _version_of(session: Session, actor: Actor, resource_id: str) -> tuple[str, int | None]:
    code, sep, number = resource_id.rpartition("-v")
    if sep and number.isdigit():
        return code, int(number)
    return resource_id, None  # a package code: its newest version


@action("resource_show")
def resource_show(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    acting = _need(actor)
    code, number = _version_of(session, acting, str(data.get("id", "")))
    version = versions.get_version(session, acting, code, number)
    resource = service.get_resource(session, acting, code)
    return _resource_dict(resource.code, resource.title, version)


def _ckan_field(field: dict[str, str]) -> dict[str, str]:
    """A field as CKAN describes it; a field masked for the caller also names its `mask` (and Chinese label)."""
    extra: dict[str, str] = {k: field[k] for k in ("mask", "mask_label") if k in field}
    return {"id": field["id"], "type": CKAN_TYPES.get(field["type"], "int"), **extra}


@action("datastore_search")
def datastore_search(session: Session, actor: Actor | None, data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    acting = _need(actor)
    resource_id = str(data.get("resource_id", data.get("id", "")))
    code, number = _version_of(session, acting, resource_id)
    limit, offset = _int(data, "limit", 100, MAX_LIMIT), _int(data, "offset", 0, 10**9)
    fields = data.get("fields")
    query = RowQuery(
        fields=[f.strip() for f in fields.split(",")] if isinstance(fields, str) else fields,
        filters=_json_field(data, "filters") if data.get("filters") else None,
        q=str(data["q"]) if data.get("q") else None,
        sort=parse_sort(str(data["sort"])) if data.get("sort") else None,
        limit=limit,
        offset=offset,
        include_total=str(data.get("include_total", "true")).lower() not in {"false", "0"},
    )
    _, page = versions.query_rows(session, acting, settings, resource_code=code, number=number, query=query)
    return {
        "resource_id": resource_id,
        "fields": [_ckan_field(f) for f in page.fields],
        "records": page.records,
        "total": page.total,
        "total_was_estimated": False,
        "limit": limit,
        "offset": offset,
        "filters": query.filters or {},
        "_links": {
            "start": f"/api/action/datastore_search?resource_id={resource_id}",
            "next": f"/api/action/datastore_search?resource_id={resource_id}&offset={offset + limit}",
        },
    }
