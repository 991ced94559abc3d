"""Linked data through the real server: /id/... and /ontology negotiation, /dumps with VoID + DCAT."""

from __future__ import annotations

import gzip
import io
from urllib.parse import quote

import httpx
import pytest
from rdflib import Dataset, Graph, Namespace, URIRef

from tests.api.conftest import CAP, ID, Api

VOID = Namespace("http://rdfs.org/ns/void#")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
        (None, "turtle"),
    ],
)
def test_data_iri_negotiation(api: Api, http: httpx.Client, accept: str | None, rdflib_format: str) -> None:
    iri = api.collectivite
    headers = {"Accept": accept} if accept else {}
    response = http.get(iri.removeprefix("https://w3id.org/capitalis"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept or "text/turtle")
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert (URIRef(iri), None, None) in graph
    assert (URIRef(iri), URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(f"{CAP}Commune")) in graph


def test_browser_goes_to_the_explorer(api: Api, http: httpx.Client) -> None:
    path = api.collectivite.removeprefix("https://w3id.org/capitalis")
    response = http.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 303
    assert response.headers["location"] == f"http://explorateur.example/fiche?iri={quote(api.collectivite, safe='')}"
    ontology = http.get("/ontology", headers={"Accept": BROWSER})
    assert ontology.status_code == 303 and "fiche?iri=" in ontology.headers["location"]


def test_person_iri_has_no_contact_details(http: httpx.Client) -> None:
    person = http.get("/sparql", params={"query": f"SELECT ?p WHERE {{ ?p a <{CAP}Personne> }} LIMIT 1"}).json()[
        "results"
    ]["bindings"][0]["p"]["value"]
    graph = Graph().parse(data=http.get(person.removeprefix("https://w3id.org/capitalis")).content, format="turtle")
    assert len(graph) > 0
    assert not list(graph.triples((URIRef(person), URIRef(f"{CAP}courriel"), None)))
    assert not list(graph.triples((URIRef(person), URIRef(f"{CAP}telephone"), None)))


def test_unknown_iri_and_unacceptable_format(http: httpx.Client) -> None:
    missing = http.get("/id/experience/vi-00000000")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    refused = http.get("/id/service/1", headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_ontology(http: httpx.Client) -> None:
    turtle = http.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and "owl:Ontology" in turtle.text
    jsonld = http.get("/ontology", headers={"Accept": "application/ld+json"})
    graph = Graph().parse(data=jsonld.content, format="json-ld")
    assert (URIRef(f"{CAP}Experience"), None, None) in graph


def test_dumps_listing_void_and_files(api: Api, http: httpx.Client) -> None:
    listing = http.get("/dumps").json()
    names = {d["nom"] for d in listing["data"]}
    assert {"capitalis.nq.gz", "villes-internet.nq.gz", "referentiel.nq.gz"} <= names
    assert not any("prive" in n for n in names)
    void = Graph().parse(data=http.get("/dumps", headers={"Accept": "text/turtle"}).content, format="turtle")
    dataset = URIRef(f"{ID}dataset/capitalis")
    assert (dataset, VOID.sparqlEndpoint, URIRef(f"{api.url}/sparql")) in void
    assert len(list(void.objects(dataset, VOID.subset))) == len(names) - 1
    assert len(list(void.objects(None, URIRef("http://www.w3.org/ns/dcat#downloadURL")))) == len(names)
    response = http.get("/dumps/villes-internet.nq.gz")
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    data = Dataset()
    data.parse(io.BytesIO(gzip.decompress(response.content)), format="nquads")
    graphs = {str(g.identifier) for g in data.graphs() if len(g)}
    assert graphs == {"https://w3id.org/capitalis/graph/villes-internet"}
    whole = gzip.decompress(http.get("/dumps/capitalis.nq.gz").content).decode()
    assert "/graph/prive" not in whole
    assert not [line for line in whole.splitlines() if "/id/personne/" in line.split(" ")[0] and "#courriel" in line]
    assert http.get("/dumps/prive.nq.gz").status_code == 404
    assert http.get("/dumps/..%2Fsecret").status_code in (404, 422)


def test_every_collectivite_iri_resolves_even_without_experiences(http: httpx.Client) -> None:
    """Arçais (79010) carries no experience, yet match names it by its collectivité IRI: that IRI answers."""
    turtle = http.get("/id/collectivite/79010", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200, turtle.text
    graph = Graph().parse(data=turtle.content, format="turtle")
    node = URIRef(f"{ID}collectivite/79010")
    assert (node, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(f"{CAP}Commune")) in graph
    assert (node, URIRef(f"{CAP}territoire"), URIRef(f"{ID}commune/79010")) in graph
    rest = http.get("/collectivites/79010")
    assert rest.status_code == 200, rest.text
    body = rest.json()
    assert body["nom"] == "Arçais" and body["experiences"] == 0 and body["insee"] == "79010"
    assert body["iri"] == str(node)
    for unknown in ("/id/collectivite/79999", "/collectivites/79999", "/id/collectivite/dep-00"):
        assert http.get(unknown, headers={"Accept": "text/turtle"}).status_code == 404
