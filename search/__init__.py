"""Semantic search over experiences: hybrid (dense + lexical) ranking lifted by the graph, facets, similar.

The modules, by concept: :mod:`~search.models` (filters and answers), :mod:`~search.corpus` (the documents read
from the graph, the taxonomy; places come from :mod:`territoires`), :mod:`~search.analysis` (French text analysis),
:mod:`~search.lexical` (BM25), :mod:`~search.dense` (vectors; the embedders are in :mod:`~search.embedders`),
:mod:`~search.facets`, :mod:`~search.index` (build, save, open) and :mod:`~search.ranking` (fusion, feedback,
``search``, ``similar``). Callers import from this package.

Every entry point takes the :class:`~kg.context.Context`: the opened index and the query vectors are cached
in it. Reads (:func:`search`, :func:`similar`, :func:`relevance`) never build the index; a missing one raises
:class:`MissingIndex`. Only the commands that build call :func:`update_index` (or :func:`rebuild_index`).
"""

from search.corpus import Doc, Taxonomy, collect_docs, load_taxonomy, notation_order, store_signature, taille_of
from search.dense import query_vector
from search.index import (
    Index,
    IndexMismatch,
    MissingIndex,
    index_status,
    open_index,
    rebuild_index,
    update_index,
    update_index_after_import,
)
from search.models import (
    FACETS,
    SOURCES,
    TAILLES,
    FacetValue,
    Filters,
    Hit,
    Porteur,
    SearchResult,
    SourceRef,
    Why,
)
from search.ranking import Scored, dense_query, rank, relevance, search, similar

__all__ = [
    "FACETS",
    "SOURCES",
    "TAILLES",
    "Doc",
    "FacetValue",
    "Filters",
    "Hit",
    "Index",
    "IndexMismatch",
    "MissingIndex",
    "Porteur",
    "Scored",
    "SearchResult",
    "SourceRef",
    "Taxonomy",
    "Why",
    "collect_docs",
    "dense_query",
    "index_status",
    "load_taxonomy",
    "notation_order",
    "open_index",
    "query_vector",
    "rank",
    "rebuild_index",
    "relevance",
    "search",
    "similar",
    "store_signature",
    "taille_of",
    "update_index",
    "update_index_after_import",
]
