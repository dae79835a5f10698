"""Catalog search: Chinese queries, facets in one query, and a metadata completeness score."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jieba
from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

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
# Table columns, not mapped attributes: a statement made of them alone returns plain rows without
# the ORM's row loading (the SQL is the same).
_RESOURCE = Resource.__table__.c
_COLUMNS = {
    "department": _RESOURCE.department_id,
    "category": _RESOURCE.category,
    "share_type": _RESOURCE.share_type,
    "open_type": _RESOURCE.open_type,
    "grade": _RESOURCE.grade,
    "update_cycle": _RESOURCE.update_cycle,
    "state": _RESOURCE.state,
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
    """What a search returns: the total, the page's resource ids in order, the facets asked for.

    `rows` holds the page's values of the columns the caller asked for, in the same order as `ids`.
    """

    count: int
    ids: list[int]
    facets: dict[str, list[tuple[str, int]]]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


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
            checked.append(_RESOURCE.search_text.contains(needle, autoescape=True))
    return and_(true(), _postings(grams), *checked)


def _postings(grams: list[str]) -> ColumnElement[bool]:
    """Resources whose text has every one of the pairs: a join of their postings."""
    if not grams:
        return true()
    first = ResourceGram.__table__.alias()
    postings = select(first.c.resource_id).where(first.c.gram == grams[0])
    for gram in grams[1:]:
        other = ResourceGram.__table__.alias()
        postings = postings.join(other, and_(other.c.resource_id == first.c.resource_id, other.c.gram == gram))
    return _RESOURCE.id.in_(postings)


def _visible(actor: Actor) -> ColumnElement[bool]:
    require(actor, "catalog.resource.read")
    if allows(actor, "catalog.resource.review"):
        return true()
    mine = _RESOURCE.department_id.in_(list(actor.departments)) if actor.departments else false()
    # One CASE rather than an OR: SQLite, which keeps no statistics, would answer an OR with two
    # index searches and a row lookup each, where most rows are published and a scan of
    # ix_resource_browse, ix_resource_order (or the candidates of a text query) is what is cheap.
    return case((_RESOURCE.state == ResourceState.published, True), else_=mine) == true()


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
    columns: Sequence[ColumnElement[Any]] = (),
) -> Match:
    """The total, one page of ids (and `columns` of those rows) and the named facets' counts of a search.

    Facet names outside FACETS are ignored; the returned facets hold exactly those asked for.
    Results are ordered by the title holding the whole query first, then newest change first, then id.
    """
    condition = _condition(actor, q, filters)
    wanted = [name for name in FACETS if name in facets]
    stripped = q.strip()
    # A filter narrows the match through its column's index, and sorting what is left is cheap;
    # walking ix_resource_order instead would read past every row the filter drops.
    if not stripped and not any(name in _COLUMNS for name in filters or {}):
        return _browse(session, condition, wanted, limit, offset, columns)
    count, ids, found = _ranked(session, condition, wanted, stripped, limit, offset)
    return Match(count, ids, found, _rows(session, ids, columns) if columns else [])


def _browse(
    session: Session,
    condition: ColumnElement[bool],
    wanted: list[str],
    limit: int,
    offset: int,
    columns: Sequence[ColumnElement[Any]],
) -> Match:
    """A search without text or filters: every match ranks alike, so the page is the newest matches.

    The page walks ix_resource_order (updated_at desc, id) and stops after its last row, reading
    the rows' columns as it goes, where sorting every match to find the newest few would cost more
    than all the rest of the search. The total and facets scan the covering ix_resource_browse.
    """
    hit = select(_RESOURCE.id, *(_COLUMNS[name].label(name) for name in wanted)).where(condition).cte("hit")
    count, found = _tally(session.execute(_totals(hit, wanted)), wanted)
    order = (_RESOURCE.updated_at.desc(), _RESOURCE.id)
    page = select(_RESOURCE.id, *columns).where(condition).order_by(*order).limit(limit).offset(offset)
    rows = [tuple(row) for row in session.execute(page)]
    return Match(count, [row[0] for row in rows], found, [row[1:] for row in rows] if columns else [])


def _ranked(
    session: Session, condition: ColumnElement[bool], wanted: list[str], query: str, limit: int, offset: int
) -> tuple[int, list[int], dict[str, list[tuple[str, int]]]]:
    """A search in one statement: the match is a CTE computed once, as a text match is costly to
    evaluate twice; the total, every facet's GROUP BY and the page read it."""
    rank = case((_RESOURCE.title.contains(query, autoescape=True), 0), else_=1) if query else literal(1)
    columns = [_COLUMNS[name].label(name) for name in wanted]
    hit = select(_RESOURCE.id, rank.label("rank"), _RESOURCE.updated_at, *columns).where(condition).cte("hit")
    order = (hit.c.rank, hit.c.updated_at.desc(), hit.c.id)
    page = select(hit.c.id, hit.c.rank, hit.c.updated_at).order_by(*order).limit(limit).offset(offset).cte("page")
    position = func.row_number().over(order_by=(page.c.rank, page.c.updated_at.desc(), page.c.id))
    statement = _totals(hit, wanted, select(literal(_PAGE), cast(page.c.id, String), position))
    ranked: list[tuple[int, int]] = []
    count, found = _tally(session.execute(statement), wanted, ranked)
    return count, [resource_id for _, resource_id in sorted(ranked)], found


def _totals(hit: CTE, wanted: list[str], *more: Select[Any]) -> Select[Any] | CompoundSelect[Any]:
    """One statement of (facet, value, n) rows: the total (facet ""), `more`, each wanted facet's counts."""
    parts = [
        select(literal("").label("facet"), literal(None, String).label("value"), func.count().label("n")).select_from(
            hit
        ),
        *more,
        *(select(literal(name), cast(hit.c[name], String), func.count()).group_by(hit.c[name]) for name in wanted),
    ]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _tally(
    rows: Iterable[Sequence[Any]], wanted: list[str], ranked: list[tuple[int, int]] | None = None
) -> tuple[int, dict[str, list[tuple[str, int]]]]:
    """The total and the facets' counts (most first, then by value) of the rows of `_totals`;
    the page's rows, when it has them, go to `ranked` as (position, id)."""
    count = 0
    found: dict[str, list[tuple[str, int]]] = {name: [] for name in wanted}
    for facet, value, n in rows:
        if facet == "":
            count = n
        elif facet == _PAGE and ranked is not None:
            ranked.append((n, int(value)))
        elif value is not None:
            found[facet].append((value, n))
    for counts in found.values():
        counts.sort(key=lambda item: (-item[1], item[0]))
    return count, found


def _rows(session: Session, ids: list[int], columns: Sequence[ColumnElement[Any]]) -> list[tuple[Any, ...]]:
    """The `columns` of resources by id, in the order given (a few hundred ids per statement)."""
    read = select(_RESOURCE.id, *columns).where(_RESOURCE.id.in_(bindparam("ids", expanding=True)))
    loaded: dict[int, tuple[Any, ...]] = {}
    for i in range(0, len(ids), _CHUNK):
        loaded.update((row[0], tuple(row[1:])) for row in session.execute(read, {"ids": ids[i : i + _CHUNK]}))
    return [loaded[i] for i in ids]


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
