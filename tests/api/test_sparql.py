"""The SPARQL 1.1 Protocol endpoint through the real server: methods, formats, clients, refusals, limits."""

from __future__ import annotations

import csv
import io
import time

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from tests.api.conftest import CAP, Api

COUNT = f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a <{CAP}Experience> }}"
CONSTRUCT = f"CONSTRUCT {{ ?e a <{CAP}Experience> }} WHERE {{ ?e a <{CAP}Experience> }} LIMIT 5"


def _count(body: dict) -> int:
    return int(body["results"]["bindings"][0]["n"]["value"])


def test_get_post_form_and_post_query_agree(http: httpx.Client) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    by_get = http.get("/sparql", params={"query": COUNT}, headers=accept)
    by_form = http.post("/sparql", data={"query": COUNT}, headers=accept)
    by_body = http.post("/sparql", content=COUNT, headers={**accept, "Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, by_body):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/sparql-results+json")
    assert _count(by_get.json()) == _count(by_form.json()) == _count(by_body.json()) > 100


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_select_formats(http: httpx.Client, accept: str, media: str) -> None:
    response = http.get("/sparql", params={"query": COUNT}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    if media == "text/csv":
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["n"] and int(rows[1][0]) > 100
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(http: httpx.Client, accept: str, rdflib_format: str) -> None:
    response = http.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert len(graph) == 5


def test_ask_and_406(http: httpx.Client) -> None:
    ask = http.get("/sparql", params={"query": f"ASK {{ ?e a <{CAP}Experience> }}"}, headers={"Accept": "*/*"})
    assert ask.json() == {"head": {}, "boolean": True}
    refused = http.get("/sparql", params={"query": COUNT}, headers={"Accept": "image/png"})
    assert refused.status_code == 406 and refused.headers["content-type"].startswith("application/problem+json")


def test_sparqlwrapper_client(api: Api) -> None:
    client = SPARQLWrapper(f"{api.url}/sparql")
    client.setQuery(COUNT)
    client.setReturnFormat(JSON)
    assert _count(client.query().convert()) > 100  # type: ignore[arg-type]
    client.setMethod("POST")
    assert _count(client.query().convert()) > 100  # type: ignore[arg-type]
    client.setQuery("SELECT ?x WHERE { ?x ?y }")
    with pytest.raises(QueryBadFormed):
        client.query()


def test_rdflib_sparqlstore_client(api: Api) -> None:
    graph = Graph(store=SPARQLStore(f"{api.url}/sparql"))
    rows = list(graph.query(f"SELECT ?e WHERE {{ ?e a <{CAP}Experience> }} LIMIT 3"))
    assert len(rows) == 3 and all(isinstance(r[0], URIRef) for r in rows)
    assert bool(graph.query(f"ASK {{ ?e a <{CAP}Experience> }}"))
    constructed = graph.query(CONSTRUCT)
    assert len(constructed.graph) == 5  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "params": {"query": "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"}},
        {"method": "POST", "data": {"update": "DROP ALL"}},
        {"method": "POST", "content": "CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
        {
            "method": "POST",
            "content": "DELETE WHERE { ?s ?p ?o }",
            "headers": {"Content-Type": "application/sparql-query"},
        },
    ],
)
def test_updates_are_refused(http: httpx.Client, request_kwargs: dict) -> None:
    response = http.request(url="/sparql", **request_kwargs)
    assert response.status_code == 403, response.text
    assert "lecture seule" in response.json()["detail"]
    assert _count(http.get("/sparql", params={"query": COUNT}).json()) > 100


def test_malformed_query_is_400_and_missing_query_describes_the_service(http: httpx.Client) -> None:
    bad = http.get("/sparql", params={"query": "SELECT WHERE"})
    assert bad.status_code == 400 and "invalide" in bad.json()["detail"]
    description = http.get("/sparql")
    assert description.status_code == 200 and "sd:Service" in description.text
    empty = http.post("/sparql", data={"query": ""})
    assert empty.status_code == 400 and "query" in empty.json()["detail"]
    wrong = http.post("/sparql", content="x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    for federated in (
        "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * { service silent ?e { ?s ?p ?o } }",
    ):
        refused = http.get("/sparql", params={"query": federated})
        assert refused.status_code == 400 and "SERVICE" in refused.json()["detail"]
    taxonomy = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?e <{CAP}service> ?s }}"  # a property named service is fine
    assert http.get("/sparql", params={"query": taxonomy}).status_code == 200


def test_runaway_query_is_cut_by_the_timeout(api: Api, http: httpx.Client) -> None:
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    started = time.monotonic()
    response = http.get("/sparql", params={"query": runaway})
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["title"] == "Requête SPARQL trop longue" and "3 s" in body["detail"] and "interrompue" in body["detail"]
    assert api.settings.sparql_timeout_s <= elapsed < api.settings.sparql_timeout_s + 5
    # the pool recovered: the next queries are answered
    for _ in range(3):
        assert http.get("/sparql", params={"query": COUNT}).status_code == 200


def test_result_cap(api: Api, http: httpx.Client) -> None:
    response = http.get("/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"})
    assert response.status_code == 400
    assert f"plus de {api.settings.sparql_max_results} résultats" in response.json()["detail"]


def test_private_data_is_unreachable(api: Api, http: httpx.Client) -> None:
    """E-mails and phone numbers of persons live in the private database: no public query finds them."""
    from kg.context import Context

    with Context.open(api.settings, read_only=True) as context:  # a reader on the server's store, either backend
        private = context.store.select_private(
            f"SELECT ?s ?v WHERE {{ GRAPH ?g {{ ?s ?p ?v VALUES ?p {{ <{CAP}courriel> <{CAP}telephone> }} }} }}"
        )
    # a place's or a collectivity's e-mail is public by design (docs/ontology.md); a person's never is
    secrets = {str(r["v"]) for r in private if "/id/personne/" in str(r["s"])}
    assert len(secrets) > 10  # the samples do have persons' contact details
    queries = [
        f"SELECT ?s ?v WHERE {{ ?s a <{CAP}Personne> ; ?p ?v VALUES ?p {{ <{CAP}courriel> <{CAP}telephone> "
        f"<{CAP}telephoneMobile> <http://xmlns.com/foaf/0.1/mbox> <https://schema.org/email> }} }}",
        f"SELECT ?s ?v WHERE {{ GRAPH ?g {{ ?s a <{CAP}Personne> ; ?p ?v }} FILTER(isLiteral(?v) && "
        "(CONTAINS(STR(?v), '@') || REGEX(STR(?v), '^[+0-9 .()-]{10,}$'))) }",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), 'prive')) } GROUP BY ?g",
        "SELECT ?v WHERE { GRAPH <https://w3id.org/capitalis/graph/prive> { ?s ?p ?v } }",
    ]
    for query in queries:
        body = http.get("/sparql", params={"query": query}, headers={"Accept": "application/json"}).json()
        assert body["results"]["bindings"] == [], query
    everything = http.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?v WHERE { ?s ?p ?v FILTER(isLiteral(?v) && CONTAINS(STR(?v), '@')) }"},
    ).json()
    found = {b["v"]["value"] for b in everything["results"]["bindings"]}
    assert not (found & secrets)
    phones = http.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?v WHERE { ?s ?p ?v FILTER(isLiteral(?v) && STRSTARTS(STR(?v), '+33')) }"},
    ).json()
    assert not ({b["v"]["value"] for b in phones["results"]["bindings"]} & secrets)
