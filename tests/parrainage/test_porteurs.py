"""The carrier table follows the index: updated for the changed positions of a child generation (the same table
as a rebuild), kept as it is when the index keeps its generation."""

from __future__ import annotations

import numpy as np
import pytest

import parrainage.porteurs as P
from kg.context import Context
from kg.settings import Settings
from parrainage.porteurs import Porteurs, build_porteurs, porteurs, update_porteurs
from search import Doc, Index, collect_docs
from search.embedders import get_embedder
from search.index import aligned, changed_positions


@pytest.fixture(scope="module")
def generations(sample) -> tuple[Index, Index]:
    """An index of most sample experiences, and its child: some removed, the held-out ones added."""
    docs: list[Doc] = collect_docs(sample)
    none = get_embedder("none")
    first, _ = Index.build(docs[:-12], none)
    after = docs[:20] + docs[35:]  # 15 removed, 12 added
    ordered = aligned(after, first.iris)
    second, _ = Index.build(ordered, none, previous=first, changed=changed_positions(ordered, first))
    return first, second


def _assert_same(a: Porteurs, b: Porteurs) -> None:
    assert a.iris == b.iris and a.position == b.position
    assert (a.noms, a.insee, a.siren, a.deps_of, a.tncc) == (b.noms, b.insee, b.siren, b.deps_of, b.tncc)
    for name in ("kind", "dep", "reg", "epci", "pair_doc", "pair_carrier", "ptr"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("pop", "lat", "lon"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_update_equals_a_rebuild_and_reads_only_the_changed_experiences(sample, generations, monkeypatch) -> None:
    first, second = generations
    before = build_porteurs(sample, first)
    assert second.parent == first.generation and 0 < second.changes.size < second.size
    read: list[list[str] | None] = []
    real = P._experience_carriers
    monkeypatch.setattr(P, "_experience_carriers",
                        lambda store, index, only=None: read.append(only) or real(store, index, only))
    updated = update_porteurs(sample, before, second)
    assert read == [[second.iris[i] for i in second.changes.tolist()]]  # nobody else is read from the graph
    rebuilt = build_porteurs(sample, second)
    assert rebuilt.iris != before.iris  # carriers came and went
    _assert_same(updated, rebuilt)
    assert updated.generation == second.generation


def test_the_context_updates_the_table_for_a_child_generation(sample, generations, monkeypatch, tmp_path) -> None:
    first, second = generations
    ctx = Context(Settings(home=tmp_path), sample)
    table = porteurs(ctx, first)
    monkeypatch.setattr(P, "build_porteurs", lambda *a, **k: pytest.fail("rebuilt instead of updated"))
    updated = porteurs(ctx, second)
    assert updated is not table and updated.generation == second.generation
    # the same generation read again from disk (an unchanged re-import only records the store's signature):
    # the table is neither rebuilt nor updated
    second.save(tmp_path / "search")
    monkeypatch.setattr(P, "update_porteurs", lambda *a, **k: pytest.fail("updated although nothing changed"))
    assert porteurs(ctx, Index.load(tmp_path / "search")) is updated


def test_an_unrelated_index_builds_its_own_table(sample, generations, tmp_path) -> None:
    first, second = generations
    ctx = Context(Settings(home=tmp_path), sample)
    porteurs(ctx, second)
    table = porteurs(ctx, first)  # not a child of the cached table's generation: built
    _assert_same(table, build_porteurs(sample, first))
