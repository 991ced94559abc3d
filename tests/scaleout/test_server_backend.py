"""The API on the SPARQL server backend (``CAPITALIS_STORE``): the REST and SPARQL behaviour of the embedded
store, private graphs never answered publicly, the timeout and the result cap; then two API replicas on one
store server that answer alike and share their accounts, contributions and search index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.context import Context
from kg.sparql_server import SparqlServerStore
from tests.scaleout.conftest import Home, start_serve

CAP = "https://w3id.org/capitalis/ontology#"


@pytest.fixture(scope="module")
def client(server_home: Home) -> Iterator[TestClient]:
    with TestClient(create_app(server_home.settings)) as client:
        yield client


def test_the_api_runs_on_the_server_backend(server_home: Home, client: TestClient) -> None:
    assert isinstance(client.app.state.store, SparqlServerStore)  # type: ignore[attr-defined]
    found = client.get("/experiences", params={"q": "portail famille", "limit": 5})
    assert found.status_code == 200 and found.json()["results"], found.text
    key = found.json()["results"][0]["iri"].rsplit("/", 1)[-1]
    detail = client.get(f"/experiences/{key}")
    assert detail.status_code == 200 and detail.json()["titre"]
    stats = client.get("/stats").json()
    assert stats["triples"] > 1000 and not any("prive" in g for g in stats["graphs"])
    carrier = detail.json()["porteurs"][0]["iri"].rsplit("/", 1)[-1] if detail.json().get("porteurs") else None
    if carrier:
        assert client.get(f"/collectivites/{carrier}/experiences").status_code == 200
    count = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    assert count.status_code == 200 and int(count.json()["results"]["bindings"][0]["n"]["value"]) == stats["triples"]
    construct = f"CONSTRUCT {{ ?e a <{CAP}Experience> }} WHERE {{ ?e a <{CAP}Experience> }} LIMIT 5"
    ttl = client.get("/sparql", params={"query": construct}, headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
    assert client.get("/sparql", params={"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}).status_code == 403


def test_private_graphs_are_never_answered_publicly(server_home: Home, client: TestClient) -> None:
    with Context.open(server_home.settings, read_only=True) as context:
        private = context.store.select_private(
            f"SELECT ?s ?v WHERE {{ GRAPH ?g {{ ?s ?p ?v VALUES ?p {{ <{CAP}courriel> <{CAP}telephone> }} }} }}"
        )
    secrets = {str(r["v"]) for r in private if "/id/personne/" in str(r["s"])}
    assert len(secrets) > 10
    for query in (
        f"SELECT ?s ?v WHERE {{ ?s a <{CAP}Personne> ; ?p ?v VALUES ?p {{ <{CAP}courriel> <{CAP}telephone> }} }}",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), 'prive')) } GROUP BY ?g",
        "SELECT ?v WHERE { GRAPH <https://w3id.org/capitalis/graph/prive> { ?s ?p ?v } }",
        "SELECT DISTINCT ?v WHERE { GRAPH <https://w3id.org/capitalis/graph/prive/oten> { ?s ?p ?v } }",
    ):
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 200, (query, response.text)
        assert response.json()["results"]["bindings"] == [], query
    everything = client.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?v WHERE { ?s ?p ?v FILTER(isLiteral(?v) && CONTAINS(STR(?v), '@')) }"},
    ).json()
    assert not ({b["v"]["value"] for b in everything["results"]["bindings"]} & secrets)


def test_timeout_and_result_cap(server_home: Home, client: TestClient) -> None:
    capped = client.get("/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"})
    assert capped.status_code == 400 and "plus de 500 résultats" in capped.json()["detail"]
    started = time.monotonic()
    cartesian = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    runaway = client.get("/sparql", params={"query": cartesian})
    assert runaway.status_code == 503, runaway.text
    assert runaway.json()["title"] == "Requête SPARQL trop longue"
    assert time.monotonic() - started < server_home.settings.sparql_timeout_s + 5
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200  # the server recovered


def test_two_replicas_share_the_store_the_accounts_and_the_index(server_home: Home, tmp_path: Path) -> None:
    first = start_serve(server_home, tmp_path / "api-1.log")
    second = start_serve(server_home, tmp_path / "api-2.log")
    try:
        with first.client() as one, second.client() as two:
            for path, params in (
                ("/experiences", {"q": "portail famille", "limit": 5}),
                ("/stats", {}),
                ("/sparql", {"query": f"SELECT (COUNT(?e) AS ?n) WHERE {{ ?e a <{CAP}Experience> }}"}),
            ):
                a, b = one.get(path, params=params), two.get(path, params=params)
                assert a.status_code == b.status_code == 200 and a.json() == b.json(), path
            # a contribution proposed and accepted through the first replica is seen by the second
            with first.client(server_home.keys["contributeur"]) as contributor:
                proposed = contributor.post("/contributions", json=_NEW)
                assert proposed.status_code == 201, proposed.text
            ident = proposed.json()["id"]
            with second.client(server_home.keys["moderateur"]) as moderator:
                assert ident in {c["id"] for c in moderator.get("/contributions").json()["data"]}
            with first.client(server_home.keys["moderateur"]) as moderator:
                accepted = moderator.post(f"/contributions/{ident}/acceptation")
                assert accepted.status_code == 200, accepted.text
            with second.client(server_home.keys["contributeur"]) as contributor:
                assert contributor.get(f"/contributions/{ident}").json()["statut"] == "acceptee"
            key = accepted.json()["cible"].rsplit("/", 1)[-1]
            assert two.get(f"/experiences/{key}").json()["titre"] == _NEW["titre"]
            # the first replica wrote a new index generation; the second picks it up without a restart
            hits = _search(two, "borne de prêt de livres", key)
            assert key in hits, hits
    finally:
        first.stop()
        second.stop()


def _search(client: httpx.Client, text: str, key: str) -> list[str]:
    deadline = time.monotonic() + 20
    while True:
        results = client.get("/experiences", params={"q": text, "limit": 5}).json()["results"]
        keys = [r["iri"].rsplit("/", 1)[-1] for r in results]
        if key in keys or time.monotonic() > deadline:
            return keys
        time.sleep(0.3)


_NEW = {
    "type": "experience",
    "titre": "Une borne de prêt de livres en libre-service",
    "synthese": "La médiathèque prête des livres sans guichet, par une borne de prêt en libre-service.",
    "services": ["S12"],
    "technologies": ["Wordpress"],
    "justification": "Inaugurée au printemps.",
}
