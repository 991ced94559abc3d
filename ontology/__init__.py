"""The Capitalis model: OWL ontology, SKOS taxonomies and SHACL shapes, with their Python helpers.

The ``.ttl`` files are the source of truth; ``ontology.namespaces`` is generated from ``capitalis.ttl`` and
``ontology.iri`` mints data IRIs. ``validate`` checks a graph against the contract (``shapes.ttl``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rdflib import Graph

__all__ = [
    "BASE",
    "ONTOLOGY_DIR",
    "ONTOLOGY_FILE",
    "ONTOLOGY_FILES",
    "ONTOLOGY_IRI",
    "SHAPES_FILE",
    "TAXONOMY_FILE",
    "ontology_graph",
    "shapes_graph",
    "validate",
]

ONTOLOGY_DIR = Path(__file__).resolve().parent
ONTOLOGY_FILE = ONTOLOGY_DIR / "capitalis.ttl"
TAXONOMY_FILE = ONTOLOGY_DIR / "taxonomy.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
#: The files loaded into the ``ontologie`` named graph.
ONTOLOGY_FILES: tuple[Path, ...] = (ONTOLOGY_FILE, TAXONOMY_FILE)

BASE = "https://w3id.org/capitalis/ontology#"
ONTOLOGY_IRI = "https://w3id.org/capitalis/ontology"


@cache
def ontology_graph() -> Graph:
    """The ontology and the taxonomies in one graph, parsed once per process.

    Shared: do not add to it; copy it first (``Graph() + ontology_graph()``) if you need to.
    """
    graph = Graph()
    for path in ONTOLOGY_FILES:
        graph.parse(path, format="turtle")
    return graph


@cache
def shapes_graph() -> Graph:
    """The SHACL shapes, parsed once per process (shared: do not modify)."""
    return Graph().parse(SHAPES_FILE, format="turtle")


def validate(data: Graph, *, inference: str = "none") -> tuple[bool, Graph, str]:
    """Check ``data`` against ``shapes.ttl``; returns pyshacl's ``(conforms, results_graph, text)``.

    The ontology and taxonomies are merged into a copy of ``data`` rather than passed as pyshacl's
    ``ont_graph``: pyshacl only copies class and property axioms from an ``ont_graph``, and the shapes need
    the taxonomy concepts themselves (a service must be a known skos:Concept). ``inference="none"`` is
    enough (SHACL follows rdfs:subClassOf on its own) and fastest; ``"rdfs"`` also applies the ontology's
    domains and ranges. Messages are in French.
    """
    from pyshacl import validate as shacl_validate  # heavy import, only when validating

    merged = Graph()
    merged += data
    merged += ontology_graph()
    conforms, results_graph, results_text = shacl_validate(
        merged,
        shacl_graph=shapes_graph(),
        inference=inference,
        allow_warnings=False,
        inplace=True,
    )
    return bool(conforms), results_graph, str(results_text)
