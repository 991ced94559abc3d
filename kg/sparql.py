"""Public SPARQL: read-only queries over the public graphs, bounded in size and time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import Forbidden, QueryError
from kg.settings import get_settings
from kg.store import QueryKind, Store, query_kind

MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
_STRINGS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>\s]*>|#[^\n]*'
)
_UPDATE = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD)\b", re.IGNORECASE)
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)


@dataclass
class SparqlResult:
    kind: QueryKind
    body: bytes
    media_type: str


def run_public_query(store: Store, query: str, fmt: str = "json") -> SparqlResult:
    """Run a read-only query on the public graphs with the configured timeout and result cap."""
    bare = _STRINGS.sub(" ", query)
    try:
        query_kind(query)
    except QueryError:
        if _UPDATE.search(bare):
            raise Forbidden("les mises à jour SPARQL sont refusées : le point d'accès est en lecture seule") from None
        raise
    if _SERVICE.search(bare):
        raise QueryError("SERVICE n'est pas autorisé : les requêtes fédérées sont désactivées")
    settings = get_settings()
    rdf_fmt = "xml" if fmt == "rdfxml" else fmt
    kind, body = store.query_serialized(
        query,
        rdf_fmt,
        max_results=settings.sparql_max_results,
    )
    return SparqlResult(
        kind, body, MEDIA_TYPES["rdfxml" if kind in ("construct", "describe") and fmt == "xml" else fmt]
    )
