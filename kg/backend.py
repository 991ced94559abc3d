"""What the store's backends share: result and RDF formats, terms read back, graph diffs, dumps, SHACL.

Both backends (:mod:`kg.store`, embedded; :mod:`kg.sparql_server`, over HTTP) hold Oxigraph terms at their
edge; what they do with them alike lives here once, so that the two cannot drift apart.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RLiteral
from rdflib.term import Node

from kg.errors import QueryError

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "nq": ox.RdfFormat.N_QUADS,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ttl": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@lru_cache(maxsize=100_000)
def _uriref(iri: str) -> URIRef:
    """rdflib checks an IRI character by character when it makes a ``URIRef``; results repeat the same IRIs."""
    return URIRef(iri)


def from_ox(term: Any) -> Node:
    """An Oxigraph term as the rdflib term the rest of the code speaks (``xsd:string`` literals left plain)."""
    if isinstance(term, ox.NamedNode):
        return _uriref(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return RLiteral(term.value, lang=term.language)
        dt = term.datatype.value
        return RLiteral(term.value, datatype=None if dt == _XSD_STRING else _uriref(dt))
    raise TypeError(f"terme Oxigraph non pris en charge : {term!r}")


def count_rows(payload: bytes, fmt: str) -> int:
    """Solutions in a serialised SELECT result (CSV cannot be parsed back by Oxigraph: it is lossy)."""
    if fmt == "csv":
        return max(sum(1 for _ in csv.reader(io.StringIO(payload.decode("utf-8")))) - 1, 0)
    return sum(1 for _ in ox.parse_query_results(payload, RESULT_FORMATS[fmt]))


def _ntriples(statements: Iterable[ox.Triple | ox.Quad]) -> str:
    """Triples or quads written as N-Triples statements (the body of a SPARQL ``GRAPH`` block)."""
    return "\n".join(f"{s.subject} {s.predicate} {s.object} ." for s in statements)


def has_blank_node(statement: ox.Triple | ox.Quad) -> bool:
    """Whether a triple or quad holds a blank node, which ``DELETE DATA`` cannot name nor N-Triples text keep."""
    return isinstance(statement.subject, ox.BlankNode) or isinstance(statement.object, ox.BlankNode)


def replacement(graph: str, old: set[Any], new: set[Any]) -> str:
    """The SPARQL update that turns a graph holding ``old`` into one holding ``new`` ("" when they are equal);
    ``old`` and ``new`` are sets of Oxigraph triples, or of quads of that graph.

    ``DELETE DATA`` + ``INSERT DATA`` of the difference: Oxigraph deletes slowly through ``DROP``/``MOVE`` (tens
    of µs a quad). Blank nodes, which ``DELETE DATA`` cannot name, make it ``CLEAR`` the graph and insert anew.
    """
    removed, added = old - new, new - old
    if not removed and not added:
        return ""
    if any(has_blank_node(q) for q in (*removed, *added)):
        body = f" ;\nINSERT DATA {{ GRAPH <{graph}> {{ {_ntriples(new)} }} }}" if new else ""
        return f"CLEAR SILENT GRAPH <{graph}>{body}"
    parts = []
    if removed:
        parts.append(f"DELETE DATA {{ GRAPH <{graph}> {{ {_ntriples(removed)} }} }}")
    if added:
        parts.append(f"INSERT DATA {{ GRAPH <{graph}> {{ {_ntriples(added)} }} }}")
    return " ;\n".join(parts)


class _open_out:
    """Open a path (gzip when it ends in .gz) or pass a binary stream through."""

    def __init__(self, out: Path | IO[bytes]) -> None:
        self._out = out
        self._owned: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if isinstance(self._out, Path):
            self._out.parent.mkdir(parents=True, exist_ok=True)
            self._owned = gzip.open(self._out, "wb") if self._out.suffix == ".gz" else open(self._out, "wb")
            return self._owned
        return self._out

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()


def write_dump(out: Path | IO[bytes], fmt: str, quads: Iterable[ox.Quad], prefixes: Mapping[str, str]) -> None:
    """Write ``quads`` as N-Quads/TriG, or their graphs merged as Turtle/JSON-LD/N-Triples/RDF-XML (``prefixes``
    declared); a ``.gz`` path is gzip-compressed. ``quads`` is consumed only once the format is known."""
    if fmt not in RDF_FORMATS:
        raise QueryError(f"format d'export inconnu : {fmt}")
    rdf_format = RDF_FORMATS[fmt]
    with _open_out(out) as stream:
        if rdf_format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            ox.serialize(quads, stream, rdf_format)
        else:
            triples = (ox.Triple(q.subject, q.predicate, q.object) for q in quads)
            ox.serialize(triples, stream, rdf_format, prefixes=dict(prefixes))


def shacl_snapshot(statements: Iterable[ox.Triple | ox.Quad], shapes: Graph) -> tuple[bool, Graph]:
    """Validate ``statements``, copied into one in-memory default graph, against SHACL ``shapes``.

    pyshacl-turbo (a Rust engine with pySHACL's API) validates an Oxigraph store natively: an order of magnitude
    faster than going through an rdflib graph and pyshacl on the 400,000 triples of the referential.
    """
    import pyshacl_turbo  # lazily: its Rust engine loads only when a validation runs

    snapshot = ox.Store()
    snapshot.bulk_extend(ox.Quad(s.subject, s.predicate, s.object, ox.DefaultGraph()) for s in statements)
    conforms, results, _ = pyshacl_turbo.validate(
        snapshot, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
    )
    return bool(conforms), results
