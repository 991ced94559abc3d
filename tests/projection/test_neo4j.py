"""The Neo4j projection over Bolt against a real server: ArcadeDB with its Bolt plugin (the only Bolt server
installable here; see docs/neo4j.md for where its Cypher differs from Neo4j's), on the sample store."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import URIRef

from kg.errors import StoreError
from kg.store import Store, open_store
from ontology.namespaces import ID
from projection.neo4j import RESOURCE, class_label, connect, export, local_name, project, sync
from tests.utils.servers import BoltServer, free_port, start_arcadedb

DOCS = Path(__file__).resolve().parents[2] / "docs" / "neo4j.md"
CAP = "https://w3id.org/capitalis/ontology#"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The samples and the territories they name, as in the API tests (tests/api/conftest.py ``build_home``)."""
    from ingest.samples import import_samples, load_referential_subset

    with open_store(tmp_path_factory.mktemp("neo4j") / "store") as store:
        import_samples(store)
        load_referential_subset(store)
        yield store


@pytest.fixture(scope="module")
def bolt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltServer]:
    server = start_arcadedb(tmp_path_factory.mktemp("arcadedb"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def driver(bolt: BoltServer) -> Iterator[Any]:
    driver = connect(bolt.url, bolt.user, bolt.password)
    yield driver
    driver.close()


def cypher(driver: Any, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    with driver.session(database=database) as session:
        return session.execute_read(lambda tx: [r.data() for r in tx.run(query, **params)])


def count(driver: Any, database: str, pattern: str) -> int:
    return int(cypher(driver, database, f"MATCH {pattern} RETURN count(*) AS n")[0]["n"])


def sparql_counts(store: Store) -> dict[str, int]:
    """Distinct resources per class in the public graphs, by the label each class projects to."""
    rows = store.select(
        f"""SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }}
            FILTER(STRSTARTS(STR(?s), "{ID}")) }} GROUP BY ?c"""
    )
    labels = {str(r["c"]): class_label(str(r["c"])) for r in rows}
    assert len(set(labels.values())) == len(labels), "two classes project to one label"
    return {labels[str(r["c"])]: int(r["n"]) for r in rows}


def test_sync_counts_per_label_equal_sparql_counts(sample_store: Store, driver: Any, bolt: BoltServer) -> None:
    db = bolt.database
    report = sync(sample_store, driver, bolt.database)
    expected = sparql_counts(sample_store)
    assert expected["Experience"] > 100 and expected["IgeoCommune"] > 100 and expected["Commune"] > 10
    for label, n in sorted(expected.items()):
        assert count(driver, db, f"(n:`{label}`)") == n, label
    subjects = sample_store.select(
        f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), "{ID}")) }}'
    )
    assert report.created == count(driver, db, f"(n:{RESOURCE})") == int(subjects[0]["n"])
    rows = sample_store.select(
        f"""SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
            FILTER(STRSTARTS(STR(?s), "{ID}") && isIRI(?o) && STRSTARTS(STR(?o), "{ID}"))
            FILTER EXISTS {{ GRAPH ?h {{ ?o ?q ?v }} }} }}"""
    )
    edges = {(str(r["s"]), local_name(str(r["p"])), str(r["o"])) for r in rows}
    assert report.relationships == count(driver, db, "()-[r]->()") == len(edges)
    # SKOS broader as edges; literals with their language; several values as a list
    assert count(driver, db, "(:Concept)-[:broader]->(:Concept)") > 50
    usage = cypher(driver, db, "MATCH (u:Usage {notation: '4a2'}) RETURN u.prefLabel_fr AS fr, u.altLabel_fr AS alt")
    assert usage[0]["fr"] == "Accès à la formation professionnelle" and len(usage[0]["alt"]) > 1
    assert not cypher(driver, db, "MATCH (n:Resource) WHERE n.iri CONTAINS '/graph/prive' RETURN n LIMIT 1")


def test_a_second_sync_writes_nothing(sample_store: Store, driver: Any, bolt: BoltServer) -> None:
    db = bolt.database
    before = count(driver, db, "(n)"), count(driver, db, "()-[r]->()")
    report = sync(sample_store, driver, db)
    assert (report.created, report.updated, report.deleted, report.relationships) == (0, 0, 0, 0)
    assert report.unchanged == before[0]
    assert (count(driver, db, "(n)"), count(driver, db, "()-[r]->()")) == before


def _experience(store: Store) -> tuple[URIRef, str]:
    rows = store.select(
        f"""SELECT ?e ?g WHERE {{ GRAPH ?g {{ ?e a <{CAP}Experience> ; <{CAP}technologie> ?t }} }}
            ORDER BY ?e LIMIT 1"""
    )
    return rows[0]["e"], str(rows[0]["g"])  # type: ignore[return-value]


def test_a_changed_record_updates_its_node_only(sample_store: Store, driver: Any, bolt: BoltServer) -> None:
    db = bolt.database
    iri, graph = _experience(sample_store)
    title = URIRef("http://purl.org/dc/terms/title")
    sample_store.update(
        f"""DELETE {{ GRAPH <{graph}> {{ $e <{title}> ?t }} }}
            INSERT {{ GRAPH <{graph}> {{ $e <{title}> "Titre révisé"@fr }} }}
            WHERE {{ GRAPH <{graph}> {{ $e <{title}> ?t }} }}""",
        e=iri,
    )
    technologies = count(driver, db, f"(:Experience {{iri: '{iri}'}})-[:technologie]->()")
    report = sync(sample_store, driver, db)
    assert (report.created, report.updated, report.deleted) == (0, 1, 0)
    node = cypher(driver, db, "MATCH (e:Experience {iri: $iri}) RETURN e.title_fr AS t, e.hash AS h", iri=str(iri))
    assert node[0]["t"] == "Titre révisé"
    assert count(driver, db, f"(:Experience {{iri: '{iri}'}})-[:technologie]->()") == technologies > 0


def test_a_withdrawn_resource_is_gone(sample_store: Store, driver: Any, bolt: BoltServer) -> None:
    db = bolt.database
    iri, graph = _experience(sample_store)
    sample_store.update(f"DELETE WHERE {{ GRAPH <{graph}> {{ $e ?p ?o }} }}", e=iri)
    assert count(driver, db, f"(:Resource {{iri: '{iri}'}})") == 1
    report = sync(sample_store, driver, db)
    assert report.deleted == 1 and report.created == 0
    assert count(driver, db, f"(:Resource {{iri: '{iri}'}})") == 0
    assert count(driver, db, "(n:Experience)") == sparql_counts(sample_store)["Experience"]


def test_export_for_neo4j_admin_import(sample_store: Store, tmp_path: Path) -> None:
    counts = export(sample_store, tmp_path)
    with (tmp_path / "nodes.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:2] == ["iri:ID", ":LABEL"] and "population:long" in header and "altLabel_fr:string[]" in header
    assert len(rows) - 1 == counts["nodes"] == len(project(sample_store))
    labels = Counter(label for row in rows[1:] for label in row[1].split(";"))
    assert labels[RESOURCE] == counts["nodes"]
    assert labels["Experience"] == sparql_counts(sample_store)["Experience"]
    with (tmp_path / "relationships.csv").open(encoding="utf-8") as f:
        edges = list(csv.reader(f))
    assert edges[0] == [":START_ID", ":END_ID", ":TYPE"] and len(edges) - 1 == counts["relationships"]
    ids = {row[0] for row in rows[1:]}
    assert all(start in ids and end in ids for start, end, _ in edges[1:])


def test_documented_queries_run(sample_store: Store, driver: Any, bolt: BoltServer) -> None:
    """The Cypher queries of docs/neo4j.md, with the parameters given there, return rows."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```cypher\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 3
    params = {"code": "29019", "rayon_km": 100.0}
    sync(sample_store, driver, bolt.database)
    for block in blocks[:3]:
        assert cypher(driver, bolt.database, block, **params), block


def test_a_server_down_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="injoignable"):
        connect(f"bolt://127.0.0.1:{free_port()}", "neo4j", "x")
