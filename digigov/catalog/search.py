"""Catalog search: Chinese queries, facets in one query, and a metadata completeness score."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import jieba
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from digigov.catalog.models import Resource, ResourceGram
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
_MOST_GRAMS = 4  # postings joined per search; further pairs are checked as substrings
_PAGE = "page"  # marks the rows of the page among the facet rows (no facet has this name)
_CHUNK = 500  # ids per IN list when loading a page


@dataclass(frozen=True)
class CatalogPage:
    """One page of search results with the total and the facets of the whole match."""

    count: int
    results: list[Resource]
    facets: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class Match:
    """What one search statement returns: the total, the page's resource ids in order, the facets asked for."""

    count: int
    ids: list[int]
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


def needles(query: str) -> list[str]:
    """What must all be substrings of a resource's `search_text` for it to match the query.

    A term matches as a whole substring, or when every word jieba finds in it is present:
    "设备的维修信息" finds "设备维修信息"; "维修" and "维修信息" match as substrings. The words are
    pieces of the term, so a whole term holds them all: a term matches exactly when its words
    are present, or, when jieba finds none beside it, the term itself.

    >>> needles("设备的维修信息 上市")
    ['设备', '维修', '上市']
    """
    found: list[str] = []
    for term, *words in terms(query):
        found += [n for n in words or [term] if n not in found]
    return found


def _match(query: str) -> ColumnElement[bool]:
    # A pair of characters (no whitespace: terms have none) is a substring of the text exactly
    # when it is one of the text's pairs in resource_gram, so pairs are matched on their postings
    # alone; a longer needle narrows to the postings of its first and last pair, then is checked
    # as a substring; a single character is only checked as a substring.
    grams: list[str] = []
    checked = []
    for needle in needles(query):
        exact = len(needle) == 2 and len(grams) < _MOST_GRAMS
        for gram in dict.fromkeys([needle[:2], needle[-2:]] if len(needle) >= 2 else []):
            if gram not in grams and len(grams) < _MOST_GRAMS:
                grams.append(gram)
        if not exact:
            checked.append(Resource.search_text.contains(needle, autoescape=True))
    return and_(true(), _postings(grams), *checked)


def _postings(grams: list[str]) -> ColumnElement[bool]:
    """Resources whose text has every one of the pairs: a join of their postings."""
    if not grams:
        return true()
    first = aliased(ResourceGram)
    postings = select(first.resource_id).where(first.gram == grams[0])
    for gram in grams[1:]:
        other = aliased(ResourceGram)
        postings = postings.join(other, and_(other.resource_id == first.resource_id, other.gram == gram))
    return Resource.id.in_(postings)


def _visible(actor: Actor) -> ColumnElement[bool]:
    require(actor, "catalog.resource.read")
    if allows(actor, "catalog.resource.review"):
        return true()
    mine = Resource.department_id.in_(list(actor.departments)) if actor.departments else false()
    # One CASE rather than an OR: SQLite, which keeps no statistics, would answer an OR with two
    # index searches and a row lookup each, where most rows are published and a scan of
    # ix_resource_browse (or the candidates of a text query) is what is cheap.
    return case((Resource.state == ResourceState.published, True), else_=mine) == true()


def _condition(actor: Actor, q: str, filters: dict[str, list[str]] | None) -> ColumnElement[bool]:
    where = [_visible(actor), _match(q)]
    for name, values in (filters or {}).items():
        if name not in _COLUMNS:
            continue
        column = _COLUMNS[name]
        wanted = [int(v) for v in values if v.isdigit()] if name == "department" else values
        where.append(column.in_(wanted))
    return and_(*where)


def match_resources(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    limit: int = 20,
    offset: int = 0,
    facets: Collection[str] = FACETS,
) -> Match:
    """The total, one page of ids and the named facets' counts of a search, in one statement.

    The match is a CTE computed once; the total, every facet's GROUP BY and the page read it.
    Facet names outside FACETS are ignored; the returned facets hold exactly those asked for.
    """
    condition = _condition(actor, q, filters)
    wanted = [name for name in FACETS if name in facets]
    stripped = q.strip()
    rank = case((Resource.title.contains(stripped, autoescape=True), 0), else_=1) if stripped else literal(1)
    columns = [_COLUMNS[name].label(name) for name in wanted]
    hit = select(Resource.id, rank.label("rank"), Resource.updated_at, *columns).where(condition).cte("hit")
    order = (hit.c.rank, hit.c.updated_at.desc(), hit.c.id)
    page = select(hit.c.id, hit.c.rank, hit.c.updated_at).order_by(*order).limit(limit).offset(offset).cte("page")
    position = func.row_number().over(order_by=(page.c.rank, page.c.updated_at.desc(), page.c.id))
    parts = [
        select(literal("").label("facet"), literal(None, String).label("value"), func.count().label("n")).select_from(
            hit
        ),
        select(literal(_PAGE), cast(page.c.id, String), position),
        *(select(literal(name), cast(hit.c[name], String), func.count()).group_by(hit.c[name]) for name in wanted),
    ]
    count, ranked = 0, []
    found: dict[str, list[tuple[str, int]]] = {name: [] for name in wanted}
    for facet, value, n in session.execute(union_all(*parts)):
        if facet == "":
            count = n
        elif facet == _PAGE:
            ranked.append((n, int(value)))
        elif value is not None:
            found[facet].append((value, n))
    for counts in found.values():
        counts.sort(key=lambda item: (-item[1], item[0]))
    return Match(count, [resource_id for _, resource_id in sorted(ranked)], found)


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
    found = match_resources(session, actor, q=q, filters=filters, limit=limit, offset=offset)
    return CatalogPage(found.count, load_resources(session, found.ids), found.facets)


def load_resources(session: Session, ids: list[int]) -> list[Resource]:
    """Resources by id, in the order given (a few hundred ids per statement)."""
    loaded: dict[int, Resource] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        loaded.update((r.id, r) for r in session.scalars(select(Resource).where(Resource.id.in_(chunk))))
    return [loaded[i] for i in ids]


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
