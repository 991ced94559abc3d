"""Contract of the embedded store: every backend must pass these."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import XSD, Literal, URIRef
from rdflib.compare import isomorphic

import kg.store
from kg.errors import QueryError, StoreError
from kg.store import OxigraphStore, bind, ntriples_line, open_store, query_kind

G1 = "https://w3id.org/capitalis/graph/test-a"
G2 = "https://w3id.org/capitalis/graph/test-b"
EX = "https://example.org/"


def _triples(n: int, prefix: str = "s") -> list[tuple[URIRef, URIRef, Literal]]:
    return [
        (URIRef(f"{EX}{prefix}{i}"), URIRef(f"{EX}p"), Literal(i, datatype=XSD.integer)) for i in range(n)
    ] + [(URIRef(f"{EX}{prefix}0"), URIRef(f"{EX}nom"), Literal("Lille\n« ville »", lang="fr"))]


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    with open_store(tmp_path / "store") as s:
        yield s


def test_load_and_select_typed_terms(store: OxigraphStore) -> None:
    assert store.load(_triples(10), G1) == 11
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{G1}> {{ <{EX}s3> <{EX}p> ?o }} }}")
    assert rows == [{"o": Literal(3, datatype=XSD.integer)}]
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH ?g {{ ?s <{EX}nom> ?n }} }}")
    assert rows[0]["n"] == Literal("Lille\n« ville »", lang="fr")
    assert store.graphs() == [G1]


def test_ask_construct_describe(store: OxigraphStore) -> None:
    store.load(_triples(3), G1)
    assert store.ask(f"ASK {{ GRAPH ?g {{ <{EX}s1> ?p ?o }} }}")
    assert not store.ask(f"ASK {{ GRAPH ?g {{ <{EX}s9> ?p ?o }} }}")
    g = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    assert len(g) == 4
    kind, body = store.query_serialized(f"DESCRIBE <{EX}s1>", "ttl")
    assert body.strip()
    assert kind == "describe"


def test_update_and_bind_escapes_user_text(store: OxigraphStore) -> None:
    hostile = '"} ; DROP ALL ; INSERT DATA { <x> <y> "z'
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}nom> $nom }} }}", nom=hostile)
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{G1}> {{ <{EX}a> <{EX}nom> ?n }} }}")
    assert str(rows[0]["n"]) == hostile
    assert store.select("SELECT ?s WHERE { GRAPH ?g { ?s $p ?o } }", p=URIRef(f"{EX}nom"))


def test_replace_graph_is_complete_and_leaves_others(store: OxigraphStore) -> None:
    store.load(_triples(5), G1)
    store.load(_triples(2, "other"), G2)
    assert store.replace_graph(G1, _triples(3, "new")) == 4
    subjects = {
        str(r["s"]) for r in store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    }
    assert subjects == {f"{EX}new{i}" for i in range(3)}
    assert len(list(store.triples(G2))) == 3
    assert sorted(store.graphs()) == sorted([G1, G2])


def test_large_loads_go_in_parallel_chunks_once_each(store: OxigraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.store, "LOAD_CHUNK", 7)  # 101 distinct triples: 15 chunks on the loader threads
    triples = _triples(100)
    assert store.replace_graph(G1, triples + triples[:30]) == 101  # duplicates loaded once
    assert set(store.triples(G1)) == set(triples)


def test_replace_graph_from_ntriples_lines(store: OxigraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.store, "LOAD_CHUNK", 3)
    first, second = _triples(10), _triples(4, "new")
    assert store.replace_graph_ntriples(G1, map(ntriples_line, first)) == 11  # a new graph: bulk-loaded
    assert set(store.triples(G1)) == set(first)
    assert store.replace_graph_ntriples(G1, map(ntriples_line, second)) == 5  # an existing one: one diff
    assert set(store.triples(G1)) == set(second)
    assert store.graphs() == [G1]


def test_a_new_graph_that_fails_midway_leaves_nothing(store: OxigraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.store, "LOAD_CHUNK", 5)

    def broken():  # a producer whose file turns out unreadable after 20 triples
        yield from _triples(20)
        raise ValueError("fichier tronqué")

    with pytest.raises(ValueError):
        store.replace_graph(G1, broken())
    assert G1 not in store.graphs() and not list(store.triples(G1))
    with pytest.raises(StoreError):
        store.replace_graph_ntriples(G2, [*map(ntriples_line, _triples(12)), "<pas une ligne\n"])
    assert not list(store.triples(G2))


def test_dump_restore_roundtrip(store: OxigraphStore, tmp_path: Path) -> None:
    store.load(_triples(20), G1)
    store.load(_triples(5, "x"), G2)
    out = tmp_path / "dump.nq.gz"
    store.dump(out, "nq")
    with open_store(tmp_path / "other") as other:
        other.restore(out)
        for g in (G1, G2):
            assert isomorphic(store.to_graph([g]), other.to_graph([g]))
        assert other.graphs() == store.graphs()


def test_dump_only_named_graphs(store: OxigraphStore, tmp_path: Path) -> None:
    store.load(_triples(2), G1)
    store.load(_triples(2, "secret"), G2)
    out = tmp_path / "pub.nq"
    store.dump(out, "nq", graphs=[G1])
    assert "secret" not in out.read_text()


PRIVE = "https://w3id.org/capitalis/graph/prive/test"


def test_private_graph_unreachable_by_any_query(store: OxigraphStore, tmp_path: Path) -> None:
    store.load(_triples(2), G1)
    store.load([(URIRef(f"{EX}p1"), URIRef(f"{EX}courriel"), Literal("jean@mairie.example"))], PRIVE)
    assert PRIVE in store.graphs()
    for query in (
        "SELECT ?o WHERE { ?s ?p ?o }",
        "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"SELECT ?o FROM <{PRIVE}> WHERE {{ ?s ?p ?o }}",
        f"SELECT ?o FROM NAMED <{PRIVE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}",
    ):
        _, body = store.query_serialized(query, "json")
        assert b"mairie.example" not in body, query
        assert all("mairie" not in str(r.get("o")) for r in store.select(query))
    assert store.select_private(f"SELECT ?o WHERE {{ GRAPH <{PRIVE}> {{ ?s ?p ?o }} }}")
    # a full dump restores the private graph into the private store, not the public one
    dump = tmp_path / "all.nq"
    store.dump(dump)
    with open_store(tmp_path / "restored") as other:
        other.restore(dump)
        assert not other.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?o), 'mairie')) }")
        assert other.select_private("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }")


def test_close_flushes_and_reopens(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as s:
        s.load(_triples(100), G1)
    with open_store(tmp_path / "s") as s:
        assert len(list(s.triples(G1))) == 101


def test_a_store_already_open_for_writing_says_so(tmp_path: Path) -> None:
    """A second writer (an import while `capitalis serve` runs) gets a clear error, not RocksDB's."""
    import subprocess
    import sys

    with open_store(tmp_path / "s"):
        code = f"from kg.store import open_store\nopen_store(__import__('pathlib').Path({str(tmp_path / 's')!r}))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "déjà ouvert en écriture par un autre processus" in done.stderr


def test_bad_query_is_a_query_error(store: OxigraphStore) -> None:
    with pytest.raises(QueryError):
        store.select("SELEC ?x WHERE {")
    with pytest.raises(QueryError):
        query_kind("INSERT DATA { <a> <b> <c> }")
    assert query_kind("PREFIX a: <http://x/>\n# comment\nselect * {}") == "select"


def test_bind_types_values() -> None:
    assert bind("$x", x=3) == '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'


def test_query_kind_reads_past_comments_with_apostrophes() -> None:
    query = "# combien d'expériences ?\nPREFIX a: <http://x/#y>\nSELECT ?s WHERE { ?s <http://a#b> 'l''#x' }"
    assert query_kind(query) == "select"


def test_staged_graphs_commit_at_once(store: OxigraphStore) -> None:
    """An importer builds in a staging copy; commit makes every given graph hold what the copy holds."""
    store.replace_graph(G1, _triples(10))
    staged = store.staging([G1, G2])
    assert set(staged.triples(G1)) == set(store.triples(G1))
    staged.replace_graph(G1, _triples(4))
    staged.replace_graph(G2, _triples(3, "x"))
    assert set(store.triples(G1)) == set(_triples(10))  # the copied graph: nothing written yet
    store.commit(staged, [G1, G2])
    assert set(store.triples(G1)) == set(_triples(4)) and set(store.triples(G2)) == set(_triples(3, "x"))


def _published(store: OxigraphStore) -> dict[str, int]:
    """The graphs a reader in another process sees (the latest snapshot), with their sizes."""
    with open_store(store.path, read_only=True) as reader:  # type: ignore[arg-type]
        return {g: len(list(reader.triples(g))) for g in reader.graphs()}


def test_a_new_graph_is_written_in_place_and_published_at_the_commit(store: OxigraphStore) -> None:
    """A graph the store does not hold is written there in place, not copied in memory; the staging store reads
    it there. No snapshot shows it before the commit, even asked for; the commit closes its note and publishes."""
    store.replace_graph(G1, _triples(10))
    store.checkpoint()
    before = _published(store)
    staged = store.staging([G1, G2])
    staged.replace_graph(G2, _triples(3, "x"))
    assert staged._in_place == {G2} and not staged._store.contains_named_graph(kg.store.ox.NamedNode(G2))
    assert set(staged.triples(G2)) == set(_triples(3, "x"))
    assert staged.ask(f"ASK {{ GRAPH <{G2}> {{ ?s ?p ?o }} }}")  # a query naming it runs where it is
    staged.update(f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}y> <{EX}p> 2 }} }}")
    with pytest.raises(StoreError, match="à la fois"):  # one query, one database
        staged.select(f"SELECT * WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} GRAPH <{G2}> {{ ?s ?p ?o }} }}")
    assert G2 in staged.graphs()
    store.checkpoint(force=True)
    assert _published(store) == before  # held until the commit
    assert store.commit(staged, [G1, G2]) == len(_triples(3, "x")) + 1
    assert kg.store._CREATION not in store.graphs()
    store.checkpoint()
    assert _published(store) == {G1: len(_triples(10)), G2: len(_triples(3, "x")) + 1}


def test_a_staging_closed_without_commit_drops_what_it_wrote_in_place(store: OxigraphStore) -> None:
    """An import that fails closes its staging store: the graphs it wrote in place go, and so does their note."""
    store.replace_graph(G1, _triples(2))
    with store.staging([G1, G2]) as staged:
        staged.replace_graph(G2, _triples(3, "x"))
    assert store.graphs() == [G1]
    store.add(_triples(1, "z"), G1)  # the writer lock was given back
    store.checkpoint()
    assert _published(store) == {G1: len(set(_triples(2) + _triples(1, "z")))}


def test_a_writer_killed_before_the_commit_leaves_no_graph_written_in_place(tmp_path: Path) -> None:
    """The note made before writing in place is what the next writer reads: it drops the graph."""
    import subprocess
    import sys

    code = (
        "import os, signal, sys; from pathlib import Path; from kg.store import open_store\n"
        "from tests.kg.test_store import G1, G2, _triples\n"
        "s = open_store(Path(sys.argv[1])); s.replace_graph(G1, _triples(2)); s.checkpoint()\n"
        "staged = s.staging([G1, G2]); staged.replace_graph(G2, _triples(3, 'x'))\n"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], cwd=root, capture_output=True,
                          timeout=60)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    with open_store(tmp_path / "s") as s:
        assert s.graphs() == [G1]


def test_many_added_quads_are_bulk_loaded_and_the_rest_applied(store: OxigraphStore,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Above BULK_ADD_FROM the additions to an existing graph go through the bulk loader (journaled), the removals
    through the commit's transaction: the graph ends as staged, and neither the note nor the journal stays."""
    store.replace_graph(G1, _triples(10))
    monkeypatch.setattr(kg.store, "BULK_ADD_FROM", 5)
    loaded: list[int] = []
    real = OxigraphStore._bulk_load_noted
    monkeypatch.setattr(OxigraphStore, "_bulk_load_noted",
                        lambda self, db, staged, created, added: loaded.append(len(added)) or real(
                            self, db, staged, created, added))
    staged = store.staging([G1])
    staged.replace_graph(G1, _triples(4) + _triples(30, "y"))
    assert store.commit(staged, [G1]) == 6 + 31  # six removed, thirty-one added
    assert loaded == [31]
    assert set(store.triples(G1)) == set(_triples(4) + _triples(30, "y"))
    assert store.graphs() == [G1]  # the note of the loads is gone with the transaction
    assert not any((store.path / kg.store.JOURNAL).glob("*.nq"))


def test_a_graph_staged_in_part_commits_only_its_part(store: OxigraphStore) -> None:
    """With ``parts``, only the statements of the subjects the pattern selects are staged; the commit rewrites
    them (one removed, one changed) and adds the staged subjects that are new, and leaves every other subject's
    statements as they are, though they were never staged (a shared graph rewritten by one source)."""
    mine = [(URIRef(f"{EX}d{i}"), URIRef(f"{EX}source"), Literal("nous")) for i in range(3)]
    values = [(URIRef(f"{EX}d{i}"), URIRef(f"{EX}score"), Literal(i)) for i in range(3)]
    theirs = _triples(6, "autre")
    store.replace_graph(G1, mine + values + theirs)
    staged = store.staging([G1], {G1: f'?s <{EX}source> "nous"'})
    assert set(staged.triples(G1)) == set(mine + values)  # the other subjects are not copied
    staged.update(f"DELETE WHERE {{ GRAPH <{G1}> {{ <{EX}d0> ?p ?o }} }}")
    staged.update(f"DELETE DATA {{ GRAPH <{G1}> {{ <{EX}d1> <{EX}score> 1 }} }} ; "
                  f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}d1> <{EX}score> 10 . <{EX}d9> <{EX}source> \"nous\" }} }}")
    assert store.commit(staged, [G1]) == 2 + 2 + 1  # d0's two statements, d1's score changed, d9 added
    expected = {*mine[1:], values[2], (URIRef(f"{EX}d1"), URIRef(f"{EX}score"), Literal(10)),
                (URIRef(f"{EX}d9"), URIRef(f"{EX}source"), Literal("nous")), *theirs}
    assert set(store.triples(G1)) == expected


def test_a_graph_staged_in_part_refuses_blank_nodes(store: OxigraphStore) -> None:
    """A blank node in the part would make the commit clear the whole graph, the other subjects' statements with
    it (``DELETE DATA`` cannot name one): the commit refuses, and the graph stays as it was."""
    store.replace_graph(G1, _triples(4))
    staged = store.staging([G1], {G1: f"?s <{EX}p> 1"})
    staged.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}s1> <{EX}lien> [] }} }}")
    with pytest.raises(StoreError, match="en partie"):
        store.commit(staged, [G1])
    assert set(store.triples(G1)) == set(_triples(4))


@pytest.mark.parametrize(
    ("update", "compared"),
    [
        (f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}b> 1 }} }}", False),  # names G1 only
        (f"INSERT DATA {{\n  GRAPH\n    <{G1}> {{ <{EX}a> <{EX}b> 1 }} }}", False),  # however laid out
        (f"DELETE {{ GRAPH ?g {{ <{EX}a> ?p ?o }} }} WHERE {{ GRAPH ?g {{ <{EX}a> ?p ?o }} }}", True),  # any graph
        (f"PREFIX g: <{G1[:-6]}> INSERT DATA {{ GRAPH g:test-a {{ <{EX}a> <{EX}b> 1 }} }}", True),  # prefixed
        (f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}a> <{EX}b> 1 }} }}", True),  # names G2
    ],
)
def test_commit_leaves_graphs_only_read_in_staging(store: OxigraphStore, update: str, compared: bool) -> None:
    """A graph staged to be read and never written there is not compared by commit: a write made to it since
    (here behind the staging's back) stays. A graph an update may have written, named or not, is compared."""
    store.replace_graph(G1, _triples(5))
    store.replace_graph(G2, _triples(5, "x"))
    staged = store.staging([G1, G2])
    staged.update(update)
    since = (URIRef(f"{EX}since"), URIRef(f"{EX}p"), Literal("meanwhile"))
    store.add([since], G2)
    store.commit(staged, [G1, G2])
    assert set(store.triples(G2)) == set(staged.triples(G2)) | (set() if compared else {since})
    assert set(store.triples(G1)) == set(staged.triples(G1))
