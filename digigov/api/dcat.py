"""DCAT export of the published catalog (DCAT-AP classes and properties) as JSON-LD and Turtle.

Anonymous callers see published resources that may be opened (not 禁止开放); a staff token sees
every published resource, as the catalog itself does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import OpenType, ResourceState, UpdateCycle
from digigov.core.deps import SessionDep
from digigov.identity.models import Department

router = APIRouter(include_in_schema=False)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FREQ = Namespace("http://publications.europa.eu/resource/authority/frequency/")
DIGIGOV = Namespace("urn:digigov:")
FREQUENCIES = {
    UpdateCycle.realtime: FREQ.UPDATE_CONT,
    UpdateCycle.daily: FREQ.DAILY,
    UpdateCycle.weekly: FREQ.WEEKLY,
    UpdateCycle.monthly: FREQ.MONTHLY,
    UpdateCycle.quarterly: FREQ.QUARTERLY,
    UpdateCycle.half_yearly: FREQ.ANNUAL_2,
    UpdateCycle.yearly: FREQ.ANNUAL,
    UpdateCycle.irregular: FREQ.IRREG,
}


def catalog_graph(session: Session, base: str, *, staff: bool) -> Graph:
    """The published catalog as an RDF graph of dcat:Catalog, dcat:Dataset and foaf:Agent."""
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD)):
        graph.bind(prefix, namespace)
    catalog = URIRef(f"{base}/catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("公共数据目录", lang="zh")))
    graph.add((catalog, DCTERMS.description, Literal("digigov 数字政府平台已发布的公共数据资源目录。", lang="zh")))
    graph.add((catalog, DCTERMS.publisher, _agent(graph, base, "platform", "数字政府平台")))
    stmt = select(Resource).where(Resource.state == ResourceState.published).order_by(Resource.code)
    if not staff:
        stmt = stmt.where(Resource.open_type != OpenType.prohibited)
    names = {d.id: (d.code, d.name) for d in session.scalars(select(Department))}
    for resource in session.scalars(stmt):
        dataset = URIRef(f"{base}/catalog/{resource.code}")
        graph.add((catalog, DCAT.dataset, dataset))
        _describe(graph, base, dataset, resource, names.get(resource.department_id, ("unknown", "")))
    return graph


def _agent(graph: Graph, base: str, code: str, name: str) -> URIRef:
    agent = URIRef(f"{base}/organization/{code}")
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(name, lang="zh")))
    return agent


def _describe(graph: Graph, base: str, dataset: URIRef, resource: Resource, department: tuple[str, str]) -> None:
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, Literal(resource.code)))
    graph.add((dataset, DCTERMS.title, Literal(resource.title, lang="zh")))
    graph.add((dataset, DCTERMS.description, Literal(resource.abstract or resource.title, lang="zh")))
    graph.add((dataset, DCTERMS.publisher, _agent(graph, base, *department)))
    graph.add((dataset, DCTERMS.accrualPeriodicity, FREQUENCIES[UpdateCycle(resource.update_cycle)]))
    graph.add((dataset, DCTERMS.modified, Literal(resource.updated_at.date().isoformat(), datatype=XSD.date)))
    if resource.published_on:
        graph.add((dataset, DCTERMS.issued, Literal(resource.published_on.isoformat(), datatype=XSD.date)))
    for word in [*resource.keywords, *resource.subjects]:
        graph.add((dataset, DCAT.keyword, Literal(word, lang="zh")))
    if resource.contact:
        point = BNode()
        graph.add((dataset, DCAT.contactPoint, point))
        graph.add((point, RDF.type, VCARD.Kind))
        graph.add((point, VCARD.fn, Literal(resource.contact)))
    graph.add((dataset, DIGIGOV.shareType, Literal(resource.share_type)))
    graph.add((dataset, DIGIGOV.openType, Literal(resource.open_type)))


def _graph(request: Request, session: Session) -> Graph:
    header = request.headers.get("authorization", "")
    staff = False
    if header.lower().startswith("bearer "):
        request.app.state.authenticate_token(session, header[7:].strip())  # raises if not valid
        staff = True
    return catalog_graph(session, str(request.base_url).rstrip("/"), staff=staff)


@router.get("/catalog.jsonld")
def catalog_jsonld(request: Request, session: SessionDep) -> Response:
    """The published catalog as DCAT in JSON-LD."""
    body = _graph(request, session).serialize(format="json-ld", auto_compact=True)
    return Response(body, media_type="application/ld+json")


@router.get("/catalog.ttl")
def catalog_turtle(request: Request, session: SessionDep) -> Response:
    """The published catalog as DCAT in Turtle."""
    return Response(_graph(request, session).serialize(format="turtle"), media_type="text/turtle; charset=utf-8")
