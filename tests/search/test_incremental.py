"""Incremental index updates: an unchanged re-import encodes and rewrites nothing; a changed record touches only
its own experience (its passage, its lexical postings, its HNSW node, its payload row), with the same answers as a
full rebuild."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ingest.load import import_file
from ingest.samples import OTEN as OTEN_SAMPLE
from ingest.samples import WORKBOOK, import_samples
from kg.context import Context
from kg.settings import Settings
from kg.store import memory_store
from search import (
    Doc,
    Index,
    IndexMismatch,
    collect_docs,
    lexical,
    load_taxonomy,
    open_index,
    search,
    store_signature,
    update_index,
    update_index_after_import,
)
from search.dense import QueryEncoder
from search.embedders import HashEmbedder, get_embedder
from search.index import aligned, changed_positions, index_dir

OTEN = "oten_fiches.xml"
VILLES_INTERNET = "villes_internet_atlaas.xlsx"
OLD_SUMMARY = "Pour que chaque foyer de la Manche accède au haut débit"
NEW_SUMMARY = "Pour que chaque ferme de la Manche accède au très haut débit"
ROOT = Path(__file__).resolve().parents[2]


class CountingEmbedder:
    """A real embedder (``hash``) that counts the passages it is asked to encode."""

    def __init__(self) -> None:
        self.inner = HashEmbedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.passages = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.encode_passages(texts)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def ctx(home: Path, counting: CountingEmbedder) -> Iterator[Context]:
    """A context whose configured embedder is the counting one; the HNSW graph is built from 10 experiences."""
    settings = Settings(home=home, embedder="hash", search_ann_min=10)
    with Context.open(settings) as context:
        context.cached("search-embedder", lambda: QueryEncoder(counting), key=settings.embedder)
        yield context


@pytest.fixture
def exports(tmp_path: Path, samples: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in (OTEN, VILLES_INTERNET):
        shutil.copy(samples / name, folder / name)
    return folder


def _import(ctx: Context, folder: Path) -> dict:
    for name in (VILLES_INTERNET, OTEN):
        import_file(ctx.store, folder / name)
    return update_index(ctx)


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir() if p.name != "meta.json"}


def test_unchanged_reimport_encodes_and_rewrites_nothing(ctx: Context, exports: Path,
                                                         counting: CountingEmbedder) -> None:
    first = _import(ctx, exports)
    assert first["encoded"] == first["experiences"] == counting.passages > 0
    before = _mtimes(index_dir(ctx.settings))
    counting.passages = 0
    again = _import(ctx, exports)
    assert counting.passages == 0
    assert again["encoded"] == again["changed"] == again["removed"] == 0
    assert _mtimes(index_dir(ctx.settings)) == before  # lexical arrays, vectors, HNSW graph, payloads untouched
    assert open_index(ctx).signature == store_signature(ctx.store)  # the index follows the store


def test_changed_record_touches_only_its_experience(ctx: Context, exports: Path, home: Path,
                                                     counting: CountingEmbedder) -> None:
    _import(ctx, exports)
    before = open_index(ctx)
    iris, ann_size = list(before.iris), len(before.ann)
    oten = exports / OTEN
    text = oten.read_text(encoding="utf-8")
    assert OLD_SUMMARY in text
    oten.write_text(text.replace(OLD_SUMMARY, NEW_SUMMARY), encoding="utf-8")
    counting.passages = 0
    summary = _import(ctx, exports)
    assert summary["changed"] == 1 and summary["removed"] == 0
    assert counting.passages == summary["encoded"] <= 1  # the passage itself changed only if the summary is in it
    after = open_index(ctx)
    assert after.iris == iris  # every experience kept its position
    assert len(after.ann) == ann_size
    with sqlite3.connect(index_dir(ctx.settings) / "docs.sqlite") as db:
        assert db.execute("SELECT count(*) FROM docs").fetchone()[0] == len(iris)
    hit = search(ctx, "ferme très haut débit Manche", None, 3, 0)
    assert hit.results and "Manche" in hit.results[0].titre

    # the same index as one built from scratch: the same vector for each experience and, scored exactly, the same
    # answers. The HNSW graphs are compared by size only (above): a graph updated in place and one built in
    # another order, with several threads, are both approximate and may differ by a neighbour.
    rebuilt = Settings(home=home.parent / "rebuilt", embedder="hash", search_ann_min=10)
    with Context.open(rebuilt) as fresh:
        fresh.cached("search-embedder", lambda: QueryEncoder(CountingEmbedder()), key=rebuilt.embedder)
        _import(fresh, exports)
        theirs_index = open_index(fresh)
        assert theirs_index.ann is not None and len(theirs_index.ann) == ann_size
        row = {iri: i for i, iri in enumerate(theirs_index.iris)}
        assert sorted(row) == sorted(iris)
        np.testing.assert_array_equal(after.vectors, theirs_index.vectors[[row[iri] for iri in iris]])
        after.ann = theirs_index.ann = None  # exact scoring from here on
        for query in ("haut débit", "open data", "médiathèque numérique"):
            ours = [r.iri for r in search(ctx, query, None, 10, 0).results]
            theirs = [r.iri for r in search(fresh, query, None, 10, 0).results]
            assert ours == theirs, query


def test_aligned_keeps_positions_and_fills_holes() -> None:
    class D:
        def __init__(self, iri: str) -> None:
            self.iri = iri

    previous = ["a", "b", "c", "d", "e"]
    docs = [D(x) for x in ("e", "a", "f", "c")]  # b and d removed, f new
    out = [d.iri for d in aligned(docs, previous)]  # type: ignore[arg-type]
    assert out[0] == "a" and out[2] == "c"
    assert sorted(out) == ["a", "c", "e", "f"] and len(out) == 4


# --- the lexical postings, updated for the changed experiences only ----------------------------------------------

QUERIES = ("haut débit", "open data", "médiathèque numérique", "dématérialisation des actes", "wifi public",
           "espace public numérique", "mediateque scolaire", "site internet de la commune")


@pytest.fixture(scope="module")
def sample_docs() -> list[Doc]:
    """The Villes Internet and OTeN samples imported by the real pipeline, as the index's documents."""
    store = memory_store()
    import_samples(store, (WORKBOOK, OTEN_SAMPLE))
    docs = collect_docs(store)
    store.close()
    return docs


def _edited(doc: Doc, word: str) -> Doc:
    """``doc`` with another summary (new words, another length) and a new title word."""
    fields = {**doc.fields, "synthese": [f"{word} {word} réseau {word}"], "titre": [f"{doc.titre} {word}"]}
    return replace(doc, fields=fields, titre=f"{doc.titre} {word}")


def _versions(docs: list[Doc]) -> tuple[list[Doc], list[Doc]]:
    """(before, after): between them a few experiences are edited, removed, added, and one is edited back."""
    held_out = docs[-7:]  # added by the update
    before = docs[:-7]
    before[3] = _edited(before[3], "palimpseste")  # edited back to the original by the update
    after = list(docs[:-7]) + held_out
    for i in (10, 40, 41, 90):
        after[i] = _edited(after[i], "zythologie")  # edited by the update (a word the corpus never wrote)
    del after[60:63]  # removed by the update
    del after[5]
    return before, after


def _scores_by_iri(index: Index, query: str) -> dict[str, float]:
    terms, _ = index.analyzer.query_terms(query)
    scores = index.lexical_scores(terms)
    return {index.iris[i]: float(scores[i]) for i in np.flatnonzero(scores)}


def _same_lexical(ours: Index, theirs: Index) -> None:
    """The same answers, term statistics, vocabulary and spellings (scores compared by experience)."""
    assert sorted(ours.iris) == sorted(theirs.iris)
    assert set(ours.terms) == set(theirs.terms)
    assert ours.vocabulary == theirs.vocabulary
    assert ours.surfaces == theirs.surfaces
    for query in QUERIES:
        a, b = _scores_by_iri(ours, query), _scores_by_iri(theirs, query)
        assert a.keys() == b.keys(), query
        assert all(a[iri] == pytest.approx(b[iri], rel=1e-6) for iri in a), query
        rank_a = sorted(a, key=lambda iri: (-a[iri], iri))
        rank_b = sorted(b, key=lambda iri: (-b[iri], iri))
        assert rank_a == rank_b, query
    length = dict(zip(ours.iris, ours.counts.lengths.tolist(), strict=True))
    assert length == dict(zip(theirs.iris, theirs.counts.lengths.tolist(), strict=True))


def test_lexical_update_equals_a_full_rebuild(sample_docs: list[Doc], monkeypatch: pytest.MonkeyPatch) -> None:
    """Edited, removed, added and restored experiences: the update analyses only them, and answers as a rebuild."""
    before, after = _versions(sample_docs)
    none = get_embedder("none")
    first, _ = Index.build(before, none)
    docs = aligned(after, first.iris)
    changed = changed_positions(docs, first)
    assert 0 < len(changed) < len(docs) / 5

    analysed: list[str] = []
    real = lexical.analyse

    def counting(doc: Doc, cache: dict | None = None) -> lexical.Analysis:
        analysed.append(doc.iri)
        return real(doc, cache)

    monkeypatch.setattr(lexical, "analyse", counting)
    updated, _ = Index.build(docs, none, previous=first, changed=changed)
    assert sorted(analysed) == sorted(docs[i].iri for i in changed)  # nobody else is analysed again
    assert updated.parent == first.generation and updated.changes.tolist() == sorted(changed)
    assert "zythologie" in updated.vocabulary and "palimpseste" not in updated.vocabulary

    analysed.clear()
    rebuilt, _ = Index.build(after, none)
    assert len(analysed) == len(after)
    _same_lexical(updated, rebuilt)
    assert _scores_by_iri(updated, "zythologie").keys() == {d.iri for d in after if "zythologie" in d.titre}


def test_lexical_counts_survive_saving(sample_docs: list[Doc], tmp_path: Path) -> None:
    """Saved and loaded for an update, the counts give the same update as in memory; a search loads none."""
    before, after = _versions(sample_docs)
    none = get_embedder("none")
    first, _ = Index.build(before, none)
    first.save(tmp_path / "search")
    assert Index.load(tmp_path / "search").counts is None  # a search does not read them
    loaded = Index.load(tmp_path / "search", counts=True)
    assert loaded.generation == first.generation
    docs = aligned(after, loaded.iris)
    updated, _ = Index.build(docs, none, previous=loaded, changed=changed_positions(docs, loaded))
    updated.save(tmp_path / "search")
    again = Index.load(tmp_path / "search", counts=True)
    assert again.parent == first.generation and again.changes is not None
    rebuilt, _ = Index.build(after, none)
    _same_lexical(again, rebuilt)


def test_update_index_analyses_only_the_changed_record(ctx: Context, exports: Path, home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the store: one record edited, one experience analysed; the lexical answers equal a rebuild's."""
    _import(ctx, exports)
    oten = exports / OTEN
    oten.write_text(oten.read_text(encoding="utf-8").replace(OLD_SUMMARY, NEW_SUMMARY), encoding="utf-8")
    analysed: list[str] = []
    real = lexical.analyse
    monkeypatch.setattr(lexical, "analyse", lambda doc, cache=None: analysed.append(doc.iri) or real(doc, cache))
    summary = _import(ctx, exports)
    assert summary["changed"] == 1 and len(analysed) == 1
    updated = Index.load(index_dir(ctx.settings), counts=True)
    rebuilt = Index.build(collect_docs(ctx.store), get_embedder("none"))[0]
    _same_lexical(updated, rebuilt)


FINGERPRINTS = """
import sys
from pathlib import Path
from kg.store import open_store
from search import collect_docs
from search.index import fingerprint
with open_store(Path(sys.argv[1]), read_only=True) as store:
    for doc in sorted(collect_docs(store), key=lambda d: d.iri):
        print(doc.iri, fingerprint(doc).hex())
"""


def test_documents_are_the_same_in_every_process(home: Path, samples: Path) -> None:
    """Reading the same graph in two processes gives the same documents (place names in one order whatever the
    string hashing of the process): else an update finds experiences changed that did not."""
    with Context.open(Settings(home=home, embedder="hash")) as context:
        import_samples(context.store)  # carriers and territories over several départements and régions
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", FINGERPRINTS, str(home / "store")], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1 and len(next(iter(outputs)).splitlines()) > 300


def test_index_update_after_imports_that_read_nothing(ctx: Context, exports: Path, counting: CountingEmbedder,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports that read nothing (confirmed) leave the index nothing to do: it is not even read back, unless it
    does not follow the store's last import (an import without the index update, or no index yet)."""
    for name in (VILLES_INTERNET, OTEN):
        import_file(ctx.store, exports / name)
    assert update_index_after_import(ctx, anything_read=False) is not None  # no index yet: built
    reports = [import_file(ctx.store, exports / name) for name in (VILLES_INTERNET, OTEN)]
    assert all(r.confirms for r in reports)
    counting.passages = 0
    read_back: list[int] = []
    monkeypatch.setattr("search.index.live_experiences", lambda *a: read_back.append(1) or {})
    assert update_index_after_import(ctx, anything_read=False) is None
    assert read_back == [] and counting.passages == 0
    monkeypatch.undo()

    oten = exports / OTEN
    oten.write_text(oten.read_text(encoding="utf-8").replace(OLD_SUMMARY, NEW_SUMMARY), encoding="utf-8")
    import_file(ctx.store, oten)  # read, but the index not updated (`--no-index`)
    reports = [import_file(ctx.store, exports / name) for name in (VILLES_INTERNET, OTEN)]
    assert all(r.confirms for r in reports)
    counting.passages = 0
    summary = update_index_after_import(ctx, anything_read=False)
    assert summary is not None and summary["changed"] == 1  # the index caught up with the earlier import


def test_index_update_after_imports_says_when_the_embedder_changed(ctx: Context, exports: Path, home: Path) -> None:
    """Nothing read, but another embedder configured since the index was built: not "up to date", the update
    says what to do (`capitalis index --rebuild`)."""
    _import(ctx, exports)
    other = Context(Settings(home=home, embedder="none"), ctx.store)  # the same home and store, another embedder
    with pytest.raises(IndexMismatch, match="rebuild"):
        update_index_after_import(other, anything_read=False)


# --- the corpus read batch by batch -------------------------------------------------------------------------------


def _same_index(ours: Index, theirs: Index) -> None:
    """Position by position: the same experiences, vectors, facets, dates, payloads and lexical answers."""
    assert ours.iris == theirs.iris and ours.hashes == theirs.hashes
    assert np.array_equal(ours.vectors, theirs.vectors)
    assert np.array_equal(ours.fingerprints, theirs.fingerprints)
    assert np.array_equal(ours.sort_key, theirs.sort_key)
    assert ours.facets.keys() == theirs.facets.keys()
    for name, facet in ours.facets.items():
        other = theirs.facets[name]
        assert facet.values == other.values, name
        assert np.array_equal(facet.docs, other.docs) and np.array_equal(facet.vals, other.vals), name
    assert ours.technology_names == theirs.technology_names
    assert ours.labels == theirs.labels
    assert [ours.payload(i) for i in range(ours.size)] == [theirs.payload(i) for i in range(theirs.size)]
    _same_lexical(ours, theirs)


def test_the_index_is_built_from_the_graph_batch_by_batch(ctx: Context, exports: Path, home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``update_index`` reads the experiences a few at a time and spools their payload rows: the index it saves,
    built then updated, is the one built from every document held in memory."""
    import search.corpus as corpus

    monkeypatch.setattr(corpus, "DOC_BATCH", 7)
    read: list[int] = []
    real = corpus._experience_values
    monkeypatch.setattr(corpus, "_experience_values", lambda store, iris: read.append(len(iris)) or real(store, iris))
    directory = index_dir(ctx.settings)
    directory.parent.mkdir(parents=True, exist_ok=True)
    stale = directory.with_name(f".{directory.name}.4194305.1.docs.sqlite")  # a spool of a process gone (> pid_max)
    stale.write_bytes(b"")
    summary = _import(ctx, exports)
    assert not stale.exists()
    assert max(read) == 7 and sum(read) == summary["experiences"] > 300  # never more than one batch at a time
    hashed = get_embedder("hash")
    taxonomy = load_taxonomy(ctx.store)

    def in_memory() -> Index:
        return Index.build(aligned(collect_docs(ctx.store), open_index(ctx).iris), hashed, taxonomy=taxonomy)[0]

    _same_index(Index.load(index_dir(ctx.settings), counts=True), in_memory())

    oten = exports / OTEN
    oten.write_text(oten.read_text(encoding="utf-8").replace(OLD_SUMMARY, NEW_SUMMARY), encoding="utf-8")
    summary = _import(ctx, exports)
    assert summary["changed"] == 1
    _same_index(Index.load(index_dir(ctx.settings), counts=True), in_memory())
    assert not list(directory.parent.glob("*.docs.sqlite*"))  # the spools are gone
