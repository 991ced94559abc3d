"""Incremental index updates: an unchanged re-import encodes and rewrites nothing; a changed record touches only
its own experience (its passage, its HNSW node, its payload row), with the same answers as a full rebuild."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest.load import import_file
from kg.context import Context
from kg.settings import Settings
from search import open_index, search, store_signature, update_index
from search.dense import QueryEncoder
from search.embedders import HashEmbedder
from search.index import aligned, index_dir

OTEN = "oten_fiches.xml"
VILLES_INTERNET = "villes_internet_atlaas.xlsx"
OLD_SUMMARY = "Pour que chaque foyer de la Manche accède au haut débit"
NEW_SUMMARY = "Pour que chaque ferme de la Manche accède au très haut débit"


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

    # the same answers as an index built from scratch
    rebuilt = Settings(home=home.parent / "rebuilt", embedder="hash", search_ann_min=10)
    with Context.open(rebuilt) as fresh:
        fresh.cached("search-embedder", lambda: QueryEncoder(CountingEmbedder()), key=rebuilt.embedder)
        _import(fresh, exports)
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
