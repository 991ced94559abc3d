"""The one description of an entity (``fiches.description.describe``) and the three surfaces formatted from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contributions.proposals import experience_iri as contribution_target
from fiches import fiche, queries, resources
from fiches.description import describe
from fiches.names import short
from kg.errors import InvalidInput, NotFound
from kg.store import OxigraphStore, open_store

EXP = "https://w3id.org/capitalis/id/experience/vi-1002"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphStore]:
    from ingest.samples import import_samples, load_referential_subset

    path: Path = tmp_path_factory.mktemp("fiches") / "store"
    with open_store(path) as s:
        import_samples(s)
        load_referential_subset(s)
        yield s


def test_description_of_an_experience(store: OxigraphStore) -> None:
    d = describe(store, EXP, incoming=10)
    assert d.kind == "experience" and d.label and d.label.startswith("Portail famille")
    porteur = d.property("https://w3id.org/capitalis/ontology#porteur")
    assert porteur is not None
    value = porteur.values[0]
    assert value.iri and value.kind == "collectivite" and value.label and value.graphs == ["villes-internet"]
    assert any(r.source == "villes-internet" and r.fichier for r in d.records)


def test_the_three_surfaces_state_the_same_values(store: OxigraphStore) -> None:
    d = describe(store, EXP)
    described = {(short(p.iri), v.value) for p in d.properties for v in p.values}
    shown = queries.show(store, EXP)
    assert {(p, v["value"]) for p, vs in shown["properties"].items() for v in vs} == described
    api = resources.entity(store, EXP)
    assert {(p, v["value"]) for p, vs in api["values"].items() for v in vs} == described
    f = fiche.fiche(store, EXP)
    assert {(p.short, v.value) for p in [*f.properties, *f.texts] for v in p.values} == described
    assert [s["source"] for s in shown["sources"]] == [r.source for r in d.records]


def test_unknown_and_malformed_iris(store: OxigraphStore) -> None:
    with pytest.raises(NotFound):
        describe(store, "https://w3id.org/capitalis/id/experience/absente")
    with pytest.raises(InvalidInput) as bad:
        queries.show(store, "pas une iri")
    assert bad.value.field == "iri"


def test_one_experience_key_for_the_read_model_and_the_contributions(store: OxigraphStore) -> None:
    assert resources.experience_iri("vi-1002") == contribution_target(store, "vi-1002") == EXP
    assert resources.experience_iri(EXP) == contribution_target(store, EXP) == EXP
    with pytest.raises(InvalidInput) as read:
        resources.experience_iri("a b")
    with pytest.raises(InvalidInput) as contributed:
        contribution_target(store, "a b")
    assert (read.value.field, contributed.value.field) == ("id", "cible")
