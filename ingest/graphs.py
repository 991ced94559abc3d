"""The named graphs an import writes: a source's public graph, its private graph and its formats' shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rdflib import URIRef

from kg.store import Store, Triple
from ontology.iri import graph


def public_graph(name: str) -> str:
    """A public named graph (``…/graph/{name}``): a source's, ``resolution``, ``referentiel``, ``ontologie``."""
    return str(graph(name))


def private_graph(source: str) -> str:
    """The private graph of one source (contact details): never exported, never publicly queryable."""
    return f"{graph('prive')}/{source}"


def scope_graph(source: str, scope: str, *, private: bool = False) -> str:
    """Where one format's share of a source is kept, for readers with ``scoped_snapshot``.

    NetPublic comes in two formats with records of their own (national file, legacy export) that may describe
    the same lieu: an import replaces its format's share only, and the source's graphs are rebuilt as the union
    of the shares, so that importing one format never withdraws nor alters what the other one said. The
    shares are bookkeeping copies: they live under the private prefix (``{prive}/{source}/{format}/publie``
    for the published triples, ``{prive}/{source}/{format}`` for the private ones), so that no public query
    or dump counts a triple twice (the public default graph is the union of the public named graphs).
    """
    base = f"{private_graph(source)}/{scope}"
    return base if private else f"{base}/publie"


def other_shares(store: Store, source: str, scope: str, *, private: bool = False) -> list[Triple]:
    """The triples of the other formats' shares of a source (see :func:`scope_graph`)."""
    own, prefix = scope_graph(source, scope, private=private), private_graph(source) + "/"
    shares = [g for g in store.graphs() if g.startswith(prefix) and g != own and g.endswith("/publie") != private]
    return [t for g in shares for t in store.triples(g)]


def statements_of(store: Store, graph_iri: str, nodes: Sequence[URIRef], *,
                  position: Literal["s", "o"] = "s") -> list[Triple]:
    """Every triple of a (public) graph whose subject (``position="o"``: object) is one of ``nodes``, read by
    batches of 500 nodes."""
    out: list[Triple] = []
    for start in range(0, len(nodes), 500):
        values = " ".join(n.n3() for n in nodes[start : start + 500])
        rows = store.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?{position} {{ {values} }} GRAPH <{graph_iri}> "
                            "{ ?s ?p ?o } }")
        out.extend((r["s"], r["p"], r["o"]) for r in rows)
    return out
