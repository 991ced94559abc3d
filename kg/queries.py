"""Read-side queries over the graph shared by the CLI, the API and the explorer."""

from __future__ import annotations

from typing import Any

from kg.store import Store

GRAPH_BASE = "https://w3id.org/capitalis/graph/"


def graph_name(iri: str) -> str:
    """Short name of a named graph IRI (``…/graph/referentiel`` → ``referentiel``)."""
    return iri.removeprefix(GRAPH_BASE)


def stats(store: Store, graphs: list[str] | None = None) -> dict[str, Any]:
    """Triples per named graph and instances per class (over the given graphs, default all but private)."""
    from ontology.iri import PUBLIC_GRAPHS, graph

    wanted = graphs if graphs is not None else [str(graph(g)) for g in PUBLIC_GRAPHS]
    present = set(store.graphs())
    wanted = [g for g in wanted if g in present]
    values = " ".join(f"<{g}>" for g in wanted)
    per_graph = (
        {
            graph_name(str(r["g"])): int(r["n"])
            for r in store.select(
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
            )
        }
        if wanted
        else {}
    )
    per_class = (
        {
            str(r["c"]): int(r["n"])
            for r in store.select(
                "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { VALUES ?g { "
                + values
                + " } GRAPH ?g { ?s a ?c } } GROUP BY ?c ORDER BY DESC(?n)"
            )
        }
        if wanted
        else {}
    )
    return {
        "graphs": per_graph,
        "triples": sum(per_graph.values()),
        "classes": per_class,
    }


# --- listing and showing entities --------------------------------------------------------------------------

CAP = "https://w3id.org/capitalis/ontology#"
PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
"""

KINDS: dict[str, str] = {
    "experiences": "cap:Experience",
    "collectivites": "cap:Collectivite",
    "lieux": "cap:LieuMediation",
    "technologies": "cap:Technologie",
    "acteurs": "cap:Personne",
}
CLASS_OF_KIND: dict[str, list[str]] = {
    "experiences": ["cap:Experience"],
    "collectivites": [
        "cap:Commune",
        "cap:Intercommunalite",
        "cap:Departement",
        "cap:Region",
        "cap:StructureMutualisation",
        "cap:Collectivite",
    ],
    "lieux": ["cap:LieuMediation"],
    "technologies": ["cap:Technologie"],
    "acteurs": ["cap:Personne", "cap:Organisation"],
}
