"""Deprecated: the search now lives in modules by concept; import its public names from :mod:`search`.

This shim only keeps the callers that have not moved yet importing (parrainage, fiches, the match benches);
it is to be removed once none imports it. ``open_or_build_index`` and a ``rank`` that encodes its own query keep
the old behaviour on the process settings for them alone: a read that builds an index is exactly what the new
entry points refuse, so nothing new may use them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kg.context import Context
from kg.settings import get_settings
from kg.store import Store
from search import *  # noqa: F403
from search import Index, MissingIndex, open_index, update_index
from search import rank as _rank
from search.dense import query_vector
from search.ranking import Scored


def open_or_build_index(store: Store | None, index: Index | None = None) -> Index:
    """Deprecated: ``index`` when given, else the process home's index, built when missing."""
    if index is not None:
        return index
    ctx = Context(get_settings(), store)  # type: ignore[arg-type]
    try:
        return open_index(ctx)
    except MissingIndex:
        if store is None:
            raise
        update_index(ctx)
        return open_index(ctx)


def rank(index: Index, query: str, allowed: np.ndarray | None, *, qvec: np.ndarray | None = None,
         **options: Any) -> Scored:
    """Deprecated: :func:`search.rank`, encoding the query with the process settings' embedder when needed."""
    settings = get_settings()
    if qvec is None and index.vectors.shape[1] and options.get("mode", "hybrid") in ("hybrid", "dense", "dense+graph"):
        qvec = query_vector(Context(settings, None), query)  # type: ignore[arg-type]
    options.setdefault("dense_k", settings.search_dense_k)
    return _rank(index, query, allowed, qvec=qvec, **options)


def reset_cache() -> None:
    """Deprecated: nothing to forget here, the opened index lives in the caller's :class:`~kg.context.Context`."""
