"""Catalog search: Chinese queries, facets in one query, and a metadata completeness score."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import jieba
from sqlalchemy import ColumnElement, String, and_, case, cast, false, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import (
    BaseType,
    Category,
    FieldType,
    Grade,
    Labelled,
    OpenType,
    ResourceState,
    ShareType,
    UpdateCycle,
)
from digigov.core.auth import Actor, allows, require

jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter would land in CLI output

FACETS = ("department", "category", "share_type", "open_type", "grade", "update_cycle", "state")
_COLUMNS = {
    "department": Resource.department_id,
    "category": Resource.category,
    "share_type": Resource.share_type,
    "open_type": Resource.open_type,
    "grade": Resource.grade,
    "update_cycle": Resource.update_cycle,
    "state": Resource.state,
}
_STOP = {"的", "和", "与", "及", "或", "了", "在", "是", "有", "信息", "数据"}


@dataclass(frozen=True)
class CatalogPage:
    """One page of search results with the total and the facets of the whole match."""

    count: int
    results: list[Resource]
    facets: dict[str, list[tuple[str, int]]]


def terms(query: str) -> list[list[str]]:
    """Each whitespace-separated term, with the words jieba finds in it as a fallback.

    >>> terms("设备维修 上市")
    [['设备维修', '设备', '维修'], ['上市']]
    """
    found = []
    for term in query.lower().split():
        words = [w for w in jieba.lcut(term) if w.strip() and w not in _STOP and w != term]
        found.append([term, *words])
    return found


def _match(query: str) -> ColumnElement[bool]:
    # A term matches as a whole substring, or when every word jieba finds in it is present:
    # "设备的维修信息" finds "设备维修信息"; "维修" and "维修信息" match as substrings.
    conditions = []
    for term, *words in terms(query):
        whole = Resource.search_text.contains(term, autoescape=True)
        if words:
            parts = and_(*(Resource.search_text.contains(w, autoescape=True) for w in words))
            conditions.append(or_(whole, parts))
        else:
            conditions.append(whole)
    return and_(true(), *conditions)


def _visible(actor: Actor) -> ColumnElement[bool]:
    require(actor, "catalog.resource.read")
    if allows(actor, "catalog.resource.review"):
        return true()
    mine = Resource.department_id.in_(list(actor.departments)) if actor.departments else false()
    return or_(Resource.state == ResourceState.published, mine)


def search_resources(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> CatalogPage:
    """Resources matching a Chinese query and facet filters; facets count the whole match."""
    where = [_visible(actor), _match(q)]
    for name, values in (filters or {}).items():
        if name not in _COLUMNS:
            continue
        column = _COLUMNS[name]
        wanted = [int(v) for v in values if v.isdigit()] if name == "department" else values
        where.append(column.in_(wanted))
    condition = and_(*where)
    facets = _facets(session, condition)
    count = sum(n for _, n in facets["state"])
    rank = case((Resource.title.contains(q.strip(), autoescape=True), 0), else_=1) if q.strip() else literal(1)
    stmt = select(Resource).where(condition).order_by(rank, Resource.updated_at.desc(), Resource.id)
    results = list(session.scalars(stmt.limit(limit).offset(offset)))
    return CatalogPage(count, results, facets)


def _facets(session: Session, condition: ColumnElement[bool]) -> dict[str, list[tuple[str, int]]]:
    """Every facet's counts in one statement: a UNION ALL of GROUP BYs over the same match."""
    parts = [
        select(literal(name).label("facet"), cast(column, String).label("value"), func.count().label("n"))
        .where(condition)
        .group_by(column)
        for name, column in _COLUMNS.items()
    ]
    facets: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
    for facet, value, n in session.execute(union_all(*parts)):
        if value is not None:
            facets[facet].append((value, n))
    for counts in facets.values():
        counts.sort(key=lambda item: (-item[1], item[0]))
    return facets


_VOCABULARY: dict[str, type[Labelled]] = {
    "category": Category,
    "base_type": BaseType,
    "share_type": ShareType,
    "open_type": OpenType,
    "grade": Grade,
    "update_cycle": UpdateCycle,
    "state": ResourceState,
    "type": FieldType,
}


def facet_label(facet: str, value: str | None) -> str:
    """The Chinese label of a coded value (departments are named by the caller).

    >>> facet_label("open_type", "unconditional"), facet_label("share_type", "unconditional")
    ('无条件开放', '无条件共享')
    """
    vocabulary = _VOCABULARY.get(facet)
    if value is None or vocabulary is None:
        return value or ""
    try:
        return vocabulary(value).label
    except ValueError:
        return value


@dataclass(frozen=True)
class Completeness:
    """How complete a resource's metadata is, 0-100, and what is missing (in Chinese)."""

    score: int
    missing: list[str]


def completeness(resource: Resource) -> Completeness:
    """Score the core metadata a consumer needs to find and trust a resource."""
    checks = [
        (len(resource.abstract) >= 20, "摘要（至少 20 字）"),
        (bool(resource.subjects or resource.keywords), "主题或关键词"),
        (resource.category != Category.base or bool(resource.base_type), "基础库类型"),
        (resource.share_type != ShareType.conditional or bool(resource.share_condition), "共享条件"),
        (resource.share_type != ShareType.none or bool(resource.share_basis), "不予共享依据"),
        (resource.open_type != OpenType.restricted or bool(resource.open_condition), "开放条件"),
        (bool(resource.format), "资源格式"),
        (resource.published_on is not None, "发布日期"),
        (bool(resource.contact), "联系方式"),
        (bool(resource.fields), "数据项"),
        (bool(resource.fields) and all(f.title for f in resource.fields), "数据项中文名称"),
        (any(f.is_key for f in resource.fields), "主键数据项"),
    ]
    missing = [label for ok, label in checks if not ok]
    return Completeness(round(100 * (len(checks) - len(missing)) / len(checks)), missing)
