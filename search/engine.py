"""Deprecated: the search now lives in modules by concept; import its public names from :mod:`search`.

This shim only keeps the callers that have not moved yet working (with the signatures they had: a store and
the process settings instead of a :class:`~kg.context.Context`); it is to be removed once none imports it.
``open_or_build_index`` keeps the old behaviour for them alone: a read that builds an index is exactly what
the new entry points refuse, so nothing new may use this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import search as _search
from kg.context import Context
from kg.settings import Settings, get_settings
from kg.store import Store
from search import *  # noqa: F403
from search import Filters, Index, MissingIndex, SearchResult
from search.dense import query_vector
from search.index import index_dir as _index_dir
from search.ranking import Scored


def _context(store: Store | None, settings: Settings | None = None) -> Context:
    return Context(settings or get_settings(), store)  # type: ignore[arg-type]


def open_index(settings: Settings | None = None, *, check_embedder: bool = True) -> Index:
    """Deprecated: :func:`search.open_index` on the process settings."""
    return _search.open_index(_context(None, settings), check_embedder=check_embedder)


def open_or_build_index(store: Store | None, index: Index | None = None) -> Index:
    """Deprecated: ``index`` when given, else the process home's index, built when missing."""
    if index is not None:
        return index
    ctx = _context(store)
    try:
        return _search.open_index(ctx)
    except MissingIndex:
        if store is None:
            raise
        _search.update_index(ctx)
        return _search.open_index(ctx)


def search(store: Store | None, query: str, filters: Filters | None = None, limit: int = 10, offset: int = 0, *,
           index: Index | None = None, qvec: np.ndarray | None = None) -> SearchResult:
    """Deprecated: :func:`search.search` on a store and the process settings."""
    idx = open_or_build_index(store, index)
    return _search.search(_context(store), query, filters, limit, offset, index=idx, qvec=qvec)


def similar(store: Store | None, iri: str, limit: int = 10, *, index: Index | None = None) -> SearchResult:
    """Deprecated: :func:`search.similar` on a store and the process settings."""
    return _search.similar(_context(store), iri, limit, index=open_or_build_index(store, index))


def relevance(store: Store | None, text: str, experience_iris: Iterable[str] | None = None, *,
              index: Index | None = None) -> dict[str, float]:
    """Deprecated: :func:`search.relevance` on a store and the process settings."""
    return _search.relevance(_context(store), text, experience_iris, index=open_or_build_index(store, index))


def rank(index: Index, query: str, allowed: np.ndarray | None, *, qvec: np.ndarray | None = None,
         **options: Any) -> Scored:
    """Deprecated: :func:`search.rank`, encoding the query with the process settings' embedder when needed."""
    settings = get_settings()
    if qvec is None and index.vectors.shape[1] and options.get("mode", "hybrid") in ("hybrid", "dense", "dense+graph"):
        qvec = query_vector(_context(None, settings), query)
    options.setdefault("dense_k", settings.search_dense_k)
    return _search.rank(index, query, allowed, qvec=qvec, **options)


def update_index(store: Store, progress: bool = False, *, settings: Settings | None = None,
                 rebuild: bool = False) -> dict[str, Any]:
    """Deprecated: :func:`search.update_index` on a store and the process settings."""
    return _search.update_index(_context(store, settings), progress, rebuild=rebuild)


def rebuild_index(store: Store, progress: bool = False, *, settings: Settings | None = None) -> dict[str, Any]:
    """Deprecated: :func:`search.rebuild_index` on a store and the process settings."""
    return _search.rebuild_index(_context(store, settings), progress)


def index_status(store: Store | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Deprecated: :func:`search.index_status` on a store and the process settings."""
    return _search.index_status(_context(store, settings), with_store=store is not None)


def index_dir(settings: Settings | None = None) -> Path:
    """Deprecated: :func:`search.index.index_dir` of the process settings."""
    return _index_dir(settings or get_settings())


def reset_cache() -> None:
    """Deprecated: nothing to forget here, the opened index lives in the caller's :class:`~kg.context.Context`."""
