"""Real SPARQL clients and browsers' rules against the live server: SPARQLWrapper with its defaults and every
return format, rdflib's SPARQLStore, format names as curl users write them, CORS for a YASGUI page on another
site, the service description in every RDF format; the search in CSV and GeoJSON; pagination links."""

from __future__ import annotations

import csv
import io
import json
import warnings

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.api.conftest import CAP, Api

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
QUERIES = {
    "select": f"SELECT ?e WHERE {{ ?e a <{CAP}Experience> }} ORDER BY ?e LIMIT 3",
    "ask": f"ASK {{ ?e a <{CAP}Experience> }}",
    "construct": f"CONSTRUCT {{ ?e a <{CAP}Experience> }} WHERE {{ ?e a <{CAP}Experience> }} LIMIT 5",
    "describe": "DESCRIBE <https://w3id.org/capitalis/id/experience/vi-1024>",
}
RESULTS = {
    None: "application/sparql-results+xml",  # SPARQLWrapper's default, XML
    XML: "application/sparql-results+xml",
    JSON: "application/sparql-results+json",
    CSV: "text/csv",
    TSV: "text/tab-separated-values",
    JSONLD: "application/sparql-results+json",
    RDFXML: "application/sparql-results+xml",
    RDF: "application/sparql-results+xml",
    TURTLE: "application/sparql-results+json",
    N3: "application/sparql-results+json",
}
GRAPHS = {
    None: "application/rdf+xml",
    XML: "application/rdf+xml",
    RDFXML: "application/rdf+xml",
    RDF: "application/rdf+xml",
    JSON: "application/ld+json",
    JSONLD: "application/ld+json",
    TURTLE: "text/turtle",
    N3: "text/turtle",
    CSV: "text/turtle",
    TSV: "text/turtle",
}
RDFLIB_FORMAT = {"application/rdf+xml": "xml", "application/ld+json": "json-ld", "text/turtle": "turtle"}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("fmt", list(RESULTS), ids=lambda f: f or "default")
def test_sparqlwrapper_every_return_format(api: Api, form: str, fmt: str | None, method: str) -> None:
    client = SPARQLWrapper(f"{api.url}/sparql")
    client.setQuery(QUERIES[form])
    client.setMethod(method)
    if fmt is not None:
        client.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns that it sends */* for odd pairs
        answer = client.query()
    media = answer.info()["content-type"].split(";")[0]
    expected = (RESULTS if form in ("select", "ask") else GRAPHS)[fmt]
    assert media == expected
    converted = answer.convert()
    if form in ("construct", "describe"):
        graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
        assert len(graph) >= 3
    elif media == "application/sparql-results+json" and form == "select":
        assert len(converted["results"]["bindings"]) == 3  # type: ignore[index]


def test_rdflib_sparqlstore_every_form(api: Api) -> None:
    for fmt in ("xml", "json"):
        graph = Graph(store=SPARQLStore(f"{api.url}/sparql", returnFormat=fmt))
        assert len(list(graph.query(QUERIES["select"]))) == 3
        assert bool(graph.query(QUERIES["ask"]))
        assert len(graph.query(QUERIES["construct"]).graph) == 5  # type: ignore[arg-type]
        described = graph.query(QUERIES["describe"]).graph
        assert (URIRef("https://w3id.org/capitalis/id/experience/vi-1024"), None, None) in described  # type: ignore[operator]


@pytest.mark.parametrize(
    ("params", "media"),
    [
        ({"format": "text/turtle"}, "text/turtle"),
        ({"format": "application/rdf+xml"}, "application/rdf+xml"),
        ({"output": "json"}, "application/ld+json"),
        ({"format": "n-triples"}, "application/n-triples"),
        ({"format": "TURTLE"}, "text/turtle"),
    ],
)
def test_curl_format_names_for_a_graph(http: httpx.Client, params: dict[str, str], media: str) -> None:
    response = http.get("/sparql", params={"query": QUERIES["construct"], **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)


def test_unknown_format_name_is_a_400_naming_the_known_ones(http: httpx.Client) -> None:
    response = http.get("/sparql", params={"query": QUERIES["select"], "format": "pdf"})
    assert response.status_code == 400 and "turtle" in response.json()["detail"]
    tsv = http.get("/sparql", params={"query": QUERIES["select"], "format": "text/tab-separated-values"})
    assert tsv.status_code == 200 and tsv.text.startswith("?e")


def test_cors_preflight_and_query_from_another_origin(http: httpx.Client) -> None:
    origin = {"Origin": "https://yasgui.example"}
    preflight = http.options(
        "/sparql",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers
    for response in (
        http.get("/sparql", params={"query": QUERIES["ask"]}, headers=origin),
        http.post("/sparql", data={"query": QUERIES["ask"]}, headers=origin),
    ):
        assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    # the rest of the API keeps the configured origins, writes included
    refused = http.options("/contributions", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert refused.headers.get("access-control-allow-origin") != "*" and refused.status_code == 400
    assert "access-control-allow-origin" not in http.get("/stats", headers=origin).headers
    allowed = http.options(
        "/contributions", headers={"Origin": "http://localhost:8501", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:8501"


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
        ("text/html,*/*;q=0.8", "turtle"),
    ],
)
def test_service_description_in_every_rdf_format(http: httpx.Client, accept: str, rdflib_format: str) -> None:
    response = http.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format)
    service = next(graph.subjects(predicate=SD.endpoint))
    dataset = graph.value(service, SD.defaultDataset)
    assert dataset is not None and graph.value(dataset, SD.defaultGraph) is not None
    names = {str(graph.value(n, SD.name)) for n in graph.objects(dataset, SD.namedGraph)}
    assert "https://w3id.org/capitalis/graph/villes-internet" in names
    assert not any("/prive" in n for n in names)
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph


def _links(response: httpx.Response) -> dict[str, httpx.URL]:
    return {rel: httpx.URL(link["url"]) for rel, link in response.links.items()}


def test_search_pages_link_to_each_other(http: httpx.Client) -> None:
    first = http.get("/experiences", params={"limit": 5, "q": ""})
    total = first.json()["total"]
    links = _links(first)
    assert set(links) == {"next", "first", "last"}
    assert links["next"].params["offset"] == "5" and links["last"].params["offset"] == str((total - 1) // 5 * 5)
    second = http.get(str(links["next"]))
    assert set(_links(second)) == {"next", "prev", "first", "last"}
    assert second.json()["results"][0]["iri"] != first.json()["results"][0]["iri"]
    for path in ("/lieux", "/technologies"):
        listed = http.get(path, params={"limit": 2})
        assert _links(listed)["next"].params["offset"] == "2", path


def test_search_in_csv_and_geojson(http: httpx.Client) -> None:
    by_accept = http.get("/experiences", params={"limit": 7}, headers={"Accept": "text/csv"})
    assert by_accept.status_code == 200 and by_accept.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(by_accept.text)))
    assert rows[0] == ["iri", "titre", "annee", "porteurs", "services", "technologies", "sources", "score"]
    assert len(rows) == 8 and 'rel="next"' in by_accept.headers["link"]
    by_name = http.get("/experiences", params={"limit": 7, "format": "csv"})
    assert by_name.text == by_accept.text
    geo = http.get("/experiences", params={"limit": 20}, headers={"Accept": "application/geo+json"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = json.loads(geo.text)
    assert collection["type"] == "FeatureCollection" and collection["features"]
    point = collection["features"][0]
    assert point["geometry"]["type"] == "Point" and {"porteur", "experience", "titre"} <= set(point["properties"])
    assert http.get("/experiences", params={"limit": 20, "format": "geojson"}).json() == collection
    assert "results" in http.get("/experiences", headers={"Accept": "text/html,*/*;q=0.8"}).json()
