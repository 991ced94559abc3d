"""The store contract: the same tests on every backend of :class:`kg.store.Store`.

``embedded``: :class:`kg.store.OxigraphStore` in a temporary directory. ``server``:
:class:`kg.sparql_server.SparqlServerStore` on two real ``oxigraph serve`` processes (public and private
datasets) started once for the session on free ports, emptied before each test, killed at the end.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import XSD, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.errors import QueryError, StoreError
from kg.sparql_server import SparqlServerStore
from kg.store import Store, ntriples_line, open_store
from tests.utils.servers import OxigraphServer, free_port, start_oxigraph

G1 = "https://w3id.org/capitalis/graph/test-a"
G2 = "https://w3id.org/capitalis/graph/test-b"
PRIVE = "https://w3id.org/capitalis/graph/prive/test"
EX = "https://example.org/"
SERVER_TIMEOUT_S = 2


def _triples(n: int, prefix: str = "s") -> list[tuple[URIRef, URIRef, Literal]]:
    return [
        (URIRef(f"{EX}{prefix}{i}"), URIRef(f"{EX}p"), Literal(i, datatype=XSD.integer)) for i in range(n)
    ] + [(URIRef(f"{EX}{prefix}0"), URIRef(f"{EX}nom"), Literal("Lille\n« ville »", lang="fr"))]


def _secret() -> list[tuple[URIRef, URIRef, Literal]]:
    return [(URIRef(f"{EX}p1"), URIRef(f"{EX}courriel"), Literal("jean@mairie.example"))]


@pytest.fixture(scope="session")
def oxigraph_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphServer, OxigraphServer]]:
    """Two ``oxigraph serve``: the public dataset (with a server-side query timeout) and the private one."""
    root = tmp_path_factory.mktemp("oxigraph")
    public = start_oxigraph(root / "public", timeout_s=SERVER_TIMEOUT_S)
    try:
        private = start_oxigraph(root / "prive")
    except BaseException:
        public.stop()
        raise
    try:
        yield public, private
    finally:
        public.stop()
        private.stop()


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """A factory of stores of the backend under test; the server's datasets are emptied first."""
    opened: list[Store] = []
    if backend == "server":
        public, private = request.getfixturevalue("oxigraph_servers")
        public.clear()
        private.clear()

    def make(**options: object) -> Store:
        if backend == "embedded":
            store: Store = open_store(tmp_path / "store")
        else:
            store = SparqlServerStore(public.url, private_url=private.url, **options)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store) -> Store:  # type: ignore[no-untyped-def]
    return make_store()  # type: ignore[no-any-return]


# --- writing -------------------------------------------------------------------------------------------------


def test_load_and_select_typed_terms(store: Store) -> None:
    assert store.load(_triples(10), G1) == 11
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{G1}> {{ <{EX}s3> <{EX}p> ?o }} }}")
    assert rows == [{"o": Literal(3, datatype=XSD.integer)}]
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH ?g {{ ?s <{EX}nom> ?n }} }}")
    assert rows[0]["n"] == Literal("Lille\n« ville »", lang="fr")
    assert store.graphs() == [G1]
    assert set(store.triples(G1)) == set(_triples(10))


def test_add_and_remove(store: Store) -> None:
    assert store.add(_triples(3), G1) == 4
    store.remove([_triples(3)[1]], G1)
    assert set(store.triples(G1)) == set(_triples(3)) - {_triples(3)[1]}
    assert store.add([], G1) == 0


def test_select_binds_values_and_escapes_user_text(store: Store) -> None:
    hostile = '"} ; DROP ALL ; INSERT DATA { <x> <y> "z'
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}nom> $nom }} }}", nom=hostile)
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{G1}> {{ <{EX}a> <{EX}nom> ?n }} }}")
    assert str(rows[0]["n"]) == hostile
    rows = store.select("SELECT ?s WHERE { GRAPH ?g { ?s $p $o } }", p=URIRef(f"{EX}nom"), o=hostile)
    assert rows == [{"s": URIRef(f"{EX}a")}]
    store.load(_triples(3), G2)
    assert store.select("SELECT ?s WHERE { GRAPH ?g { ?s ?p $v } }", v=2) == [{"s": URIRef(f"{EX}s2")}]


def test_unbound_variables_are_absent(store: Store) -> None:
    store.load(_triples(2), G1)
    rows = store.select(
        f"SELECT ?s ?n WHERE {{ GRAPH ?g {{ ?s <{EX}p> ?v OPTIONAL {{ ?s <{EX}nom> ?n }} }} }} ORDER BY ?s"
    )
    assert rows[0]["n"] == Literal("Lille\n« ville »", lang="fr") and "n" not in rows[1]


def test_ask_construct_describe(store: Store) -> None:
    store.load(_triples(3), G1)
    assert store.ask(f"ASK {{ GRAPH ?g {{ <{EX}s1> ?p ?o }} }}")
    assert not store.ask("ASK { GRAPH ?g { $s ?p ?o } }", s=URIRef(f"{EX}s9"))
    g = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    assert len(g) == 4 and isomorphic(g, store.to_graph([G1]))
    kind, body = store.query_serialized(f"DESCRIBE <{EX}s1>", "ttl")
    assert kind == "describe" and b"s1" in body


def test_replace_graph_is_complete_and_leaves_others(store: Store) -> None:
    store.load(_triples(5), G1)
    store.load(_triples(2, "other"), G2)
    assert store.replace_graph(G1, _triples(3, "new")) == 4
    subjects = {
        str(r["s"]) for r in store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    }
    assert subjects == {f"{EX}new{i}" for i in range(3)}
    assert len(list(store.triples(G2))) == 3
    assert store.graphs() == sorted([G1, G2])
    assert store.replace_graph(G1, _triples(3, "new")) == 4  # unchanged: nothing to do


def test_replace_graph_from_ntriples_lines(store: Store) -> None:
    first, second = _triples(10), _triples(4, "new")
    lines = [*map(ntriples_line, first), ntriples_line(first[0])]  # a duplicate line counts once
    assert store.replace_graph_ntriples(G1, lines) == 11  # a new graph: streamed in
    assert set(store.triples(G1)) == set(first)
    assert store.replace_graph_ntriples(G1, map(ntriples_line, second)) == 5  # an existing one: one diff
    assert set(store.triples(G1)) == set(second)
    assert store.graphs() == [G1]


def test_replace_graph_with_blank_nodes(store: Store) -> None:
    node = BNode("b1")
    store.replace_graph(G1, [(node, URIRef(f"{EX}p"), Literal("a")), (URIRef(f"{EX}s"), URIRef(f"{EX}q"), node)])
    assert store.replace_graph(G1, [(BNode("b2"), URIRef(f"{EX}p"), Literal("b"))]) == 1
    assert [str(o) for _, _, o in store.triples(G1)] == ["b"]


def test_a_new_graph_that_fails_midway_leaves_nothing(store: Store) -> None:
    def broken():  # a producer whose file turns out unreadable after 20 triples
        yield from _triples(20)
        raise ValueError("fichier tronqué")

    with pytest.raises(ValueError):
        store.replace_graph(G1, broken())
    assert G1 not in store.graphs() and not list(store.triples(G1))
    with pytest.raises(StoreError):
        store.replace_graph_ntriples(G2, [*map(ntriples_line, _triples(12)), "<pas une ligne\n"])
    assert not list(store.triples(G2))


def test_drop_graph(store: Store) -> None:
    store.load(_triples(2), G1)
    store.load(_triples(2), G2)
    store.drop_graph(G1)
    store.drop_graph(G1)  # absent: nothing to do
    assert store.graphs() == [G2] and not list(store.triples(G1))


# --- public queries -----------------------------------------------------------------------------------------

SELECT_ALL = f"PREFIX ex: <{EX}>\nSELECT ?s ?v WHERE {{ ?s ex:p ?v }} ORDER BY ?v"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_query_serialized_select_in_each_format_with_cap(store: Store, fmt: str) -> None:
    store.load(_triples(5), G1)
    store.load(_triples(5, "t"), G2)  # the union of the public graphs is the default graph
    kind, body = store.query_serialized(SELECT_ALL, fmt, max_results=10)
    assert kind == "select" and body.count(b"example.org/") == 10
    if fmt in ("csv", "tsv"):
        assert body.decode().splitlines()[0].replace("?", "").split("," if fmt == "csv" else "\t") == ["s", "v"]
    with pytest.raises(QueryError, match="plus de 9 résultats"):
        store.query_serialized(SELECT_ALL, fmt, max_results=9)
    kind, body = store.query_serialized(f"ASK {{ <{EX}t3> ?p ?o }}", fmt)
    assert kind == "ask" and b"true" in body.lower()


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld", "xml"])
def test_query_serialized_construct_in_each_format_with_cap(store: Store, fmt: str) -> None:
    store.load(_triples(5), G1)
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    kind, body = store.query_serialized(query, fmt, max_results=6)
    rdflib_format = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml"}[fmt]
    assert kind == "construct" and len(Graph().parse(data=body, format=rdflib_format)) == 6
    with pytest.raises(QueryError, match="plus de 5 triplets"):
        store.query_serialized(query, fmt, max_results=5)
    with pytest.raises(QueryError):
        store.query_serialized(query, "nq")


def test_query_serialized_aggregates_keep_their_columns(store: Store) -> None:
    store.load(_triples(5), G1)
    query = "SELECT (COUNT(?s) AS ?n) ?p WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?n"
    _, body = store.query_serialized(query, "json", max_results=100)
    result = json.loads(body)
    assert result["head"]["vars"] == ["n", "p"]
    assert [b["n"]["value"] for b in result["results"]["bindings"]] == ["1", "5"]
    _, body = store.query_serialized(f"SELECT * WHERE {{ <{EX}s1> ?p ?o }}", "csv", max_results=100)
    assert sorted(body.decode().splitlines()[0].split(",")) == ["o", "p"]


# --- dump / restore -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dump.nq", "dump.nq.gz"])
def test_dump_restore_roundtrip(store: Store, tmp_path: Path, name: str) -> None:
    store.load(_triples(20), G1)
    store.load(_triples(5, "x"), G2)
    store.load(_secret(), PRIVE)
    before = {g: store.to_graph([g]) for g in (G1, G2, PRIVE)}
    out = tmp_path / name
    store.dump(out, "nq")
    for g in (G1, G2, PRIVE):
        store.drop_graph(g)
    assert store.graphs() == []
    store.restore(out)
    assert store.graphs() == sorted([G1, G2, PRIVE])
    for g, graph in before.items():
        assert isomorphic(graph, store.to_graph([g])), g
    # the private graph went back to the private side, out of every public query
    assert not store.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?o), 'mairie')) }")
    assert store.select_private(f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")


@pytest.mark.parametrize("fmt", ["ttl", "nt", "trig", "jsonld"])
def test_dump_named_graphs_in_each_format(store: Store, fmt: str) -> None:
    store.load(_triples(2), G1)
    store.load(_triples(2, "secret"), G2)
    out = io.BytesIO()
    store.dump(out, fmt, graphs=[G1])
    assert b"example.org/s1" in out.getvalue() and b"secret" not in out.getvalue()


# --- personal data ------------------------------------------------------------------------------------------


def test_private_graph_unreachable_by_any_query(store: Store) -> None:
    store.load(_triples(2), G1)
    store.load(_secret(), PRIVE)
    assert PRIVE in store.graphs()
    for query in (
        "SELECT ?o WHERE { ?s ?p ?o }",
        "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"SELECT ?o FROM <{PRIVE}> WHERE {{ ?s ?p ?o }}",
        f"SELECT ?o FROM NAMED <{PRIVE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}",
    ):
        for fmt in ("json", "csv"):
            _, body = store.query_serialized(query, fmt)
            assert b"mairie.example" not in body, query
        assert all("mairie" not in str(r.get("o")) for r in store.select(query))
    assert not store.ask(f"ASK {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")
    assert not store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")
    assert store.select_private(f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")
    store.remove(_secret(), PRIVE)
    assert not store.select_private(f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")


def test_private_graphs_never_reach_the_public_server(make_store, oxigraph_servers, backend: str) -> None:  # type: ignore[no-untyped-def]
    """On the server backend, the public dataset itself holds no personal data: read it directly over HTTP."""
    if backend != "server":
        pytest.skip("the server backend's own datasets")
    public, private = oxigraph_servers
    store = make_store()
    store.replace_graph(PRIVE, _secret())
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}b> 'public' }} }}")
    dump = httpx.get(f"{public.url}/store", headers={"Accept": "application/n-quads"}, timeout=10).text
    assert "mairie" not in dump and "public" in dump
    assert "mairie" in httpx.get(f"{private.url}/store", headers={"Accept": "application/n-quads"}, timeout=10).text
    # without a private dataset, personal data is refused rather than written to the public one
    with SparqlServerStore(public.url) as alone, pytest.raises(StoreError, match="aucun entrepôt privé"):
        alone.load(_secret(), PRIVE)


def test_shacl_sees_public_and_private_graphs(store: Store) -> None:
    shapes = Graph().parse(
        data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <{EX}shape> a sh:NodeShape ; sh:targetSubjectsOf <{EX}courriel> ;
            sh:property [ sh:path <{EX}courriel> ; sh:pattern "^[^@]+@[^@]+$" ; sh:maxCount 1 ] .""",
        format="turtle",
    )
    store.load(_triples(2), G1)
    store.load(_secret(), PRIVE)
    assert store.shacl(shapes)[0]
    store.add([(URIRef(f"{EX}p1"), URIRef(f"{EX}courriel"), Literal("pas-une-adresse"))], PRIVE)
    assert not store.shacl(shapes)[0]


# --- errors and limits --------------------------------------------------------------------------------------


def test_bad_queries_are_query_errors(store: Store) -> None:
    with pytest.raises(QueryError):
        store.select("SELECT ?s WHERE { ?s ?p ")
    with pytest.raises(QueryError):
        store.query_serialized("SELECT ?s WHERE { ?s ?p ", "json")
    with pytest.raises(QueryError):
        store.query_serialized("ASK {}", "ttl")
    with pytest.raises(QueryError):
        store.update("INSERT DATA { GRAPH <x:g> { <a> }")
    with pytest.raises(QueryError):
        store.ask("SELECT * WHERE { ?s ?p ?o }")


def test_server_down_is_a_store_error_in_french(backend: str) -> None:
    if backend != "server":
        pytest.skip("only a server can be down")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with SparqlServerStore(url, private_url=url) as down:
        with pytest.raises(StoreError, match="injoignable"):
            down.graphs()
        with pytest.raises(StoreError, match="injoignable"):
            down.query_serialized("SELECT * WHERE { ?s ?p ?o }", "json", max_results=10)
        with pytest.raises(StoreError, match="injoignable"):
            down.load(_triples(1), G1)
    with pytest.raises(StoreError, match="adresse d'entrepôt SPARQL invalide"):
        SparqlServerStore("localhost:7878")


def test_read_only_server_store_refuses_writes(make_store, backend: str) -> None:  # type: ignore[no-untyped-def]
    if backend != "server":
        pytest.skip("the embedded read-only mode is tested in test_store.py")
    with pytest.raises(StoreError, match="lecture seule"):
        make_store(read_only=True).load(_triples(1), G1)


# 8 billion solutions; Oxigraph's --timeout-s stops this plan (not every plan: a four-way product ran on)
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


def test_public_queries_are_bounded_in_time(make_store, backend: str) -> None:  # type: ignore[no-untyped-def]
    """The server's own timeout (``--timeout-s``) and the client's HTTP timeout both stop a runaway query."""
    if backend != "server":
        pytest.skip("the embedded backend is bounded by kg.sparql's worker processes (tests/api/test_sparql.py)")
    from kg.errors import QueryTimeout

    store = make_store(query_timeout_s=30)
    store.load(_triples(2000), G1)
    # the server stops it mid-answer, long before the client's deadline (its check is not instant on a busy host)
    with pytest.raises(QueryTimeout, match="interrompue par l'entrepôt"):
        store.query_serialized(SLOW, "json", max_results=10)
    with pytest.raises(QueryTimeout, match="interrompue par l'entrepôt"):
        store.query_serialized(f"CONSTRUCT {{ <{EX}x> <{EX}n> ?n }} WHERE {{ {{ {SLOW} }} }}", "nt")
    quick = make_store(query_timeout_s=0.2)  # the client gives up before the server
    start = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"durée maximale de 0\.2 s"):  # the limit configured, as embedded says
        quick.query_serialized(SLOW, "json")
    assert time.monotonic() - start < SERVER_TIMEOUT_S
