"""DCAT export: the published catalog in JSON-LD and Turtle, valid against DCAT-AP shapes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from sqlalchemy.orm import Session

from tests.api.test_ckan import _publish

SHAPES = Graph().parse(Path(__file__).with_name("dcat-ap-shapes.ttl"))


def _conforms(graph: Graph) -> None:
    conforms, _, report = validate(graph, shacl_graph=SHAPES, inference="none")
    assert conforms, report


def test_published_catalog_conforms_in_both_formats(client: TestClient, session: Session) -> None:
    _publish(session, "bj-ssgs", "上市公司名录", keywords=["上市公司"], contact="010-00000000")
    _publish(session, "bj-secret", "禁止开放的资源", open_type="prohibited")
    turtle = client.get("/catalog.ttl")
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    jsonld = client.get("/catalog.jsonld")
    assert jsonld.headers["content-type"] == "application/ld+json"
    graphs = [Graph().parse(data=turtle.text, format="turtle"), Graph().parse(data=jsonld.text, format="json-ld")]
    for graph in graphs:
        _conforms(graph)
        datasets = {str(o) for o in graph.objects(None, DCAT.dataset)}
        assert datasets == {"https://testserver/catalog/bj-ssgs"}  # 禁止开放 stays out for anonymous callers
        title = graph.value(URIRef("https://testserver/catalog/bj-ssgs"), DCTERMS.title)
        assert str(title) == "上市公司名录"
    assert len(graphs[0]) == len(graphs[1])


def test_staff_see_every_published_resource_and_drafts_never(
    client: TestClient,
    session: Session,
    token_for,  # type: ignore[no-untyped-def]
) -> None:
    _publish(session, "bj-secret", "禁止开放的资源", open_type="prohibited")
    headers = token_for("consumer")
    graph = Graph().parse(data=client.get("/catalog.ttl", headers=headers).text, format="turtle")
    _conforms(graph)
    assert {str(s) for s in graph.subjects(RDF.type, DCAT.Dataset)} == {"https://testserver/catalog/bj-secret"}
    refused = client.get("/catalog.ttl", headers={"Authorization": "Bearer dg_wrong"})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"


def test_shapes_catch_a_dataset_without_a_title() -> None:
    graph = Graph()
    dataset = URIRef("urn:x")
    graph.add((dataset, RDF.type, DCAT.Dataset))
    conforms, _, _ = validate(graph, shacl_graph=SHAPES, inference="none")
    assert not conforms
