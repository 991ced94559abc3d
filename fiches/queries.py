"""Read-side queries over the graph shared by the CLI, the API and the explorer: figures, lists, one entity."""

from __future__ import annotations

from typing import Any

from fiches.description import Value, describe, sources_of
from fiches.names import SPARQL_PREFIXES, graph_name, short
from kg.errors import InvalidInput
from kg.store import Store
from ontology.iri import PUBLIC_GRAPHS, graph
from search import collect_docs


def stats(store: Store, graphs: list[str] | None = None) -> dict[str, Any]:
    """Triples per named graph and instances per class (over the given graphs, default all but private)."""
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

#: What ``capitalis list KIND`` lists: the classes of each kind.
KINDS: dict[str, tuple[str, ...]] = {
    "experiences": ("cap:Experience",),
    "collectivites": (
        "cap:Commune",
        "cap:Intercommunalite",
        "cap:Departement",
        "cap:Region",
        "cap:StructureMutualisation",
    ),
    "lieux": ("cap:LieuMediation",),
    "technologies": ("cap:Technologie",),
    "acteurs": ("cap:Personne", "cap:Organisation"),
}

def list_entities(store: Store, kind: str) -> list[dict[str, Any]]:
    """The entities of one kind, each as one JSON-ready object (public properties only)."""
    if kind not in KINDS:
        raise InvalidInput(f"type inconnu : {kind!r} (attendu : {', '.join(KINDS)})", field="kind")
    if kind == "experiences":
        return list_experiences(store)
    classes = " ".join(KINDS[kind])
    rows = store.select(
        SPARQL_PREFIXES
        + f"""SELECT ?e ?c ?nom ?insee ?siren ?pop ?cp ?fonction ?org ?alt ?lat ?long WHERE {{
            VALUES ?c {{ {classes} }}
            GRAPH ?g {{ ?e a ?c }}
            OPTIONAL {{ GRAPH ?g1 {{ ?e rdfs:label|skos:prefLabel|foaf:name ?nom }} }}
            OPTIONAL {{ GRAPH ?g2 {{ ?e cap:codeInsee ?insee }} }}
            OPTIONAL {{ GRAPH ?g3 {{ ?e cap:siren ?siren }} }}
            OPTIONAL {{ GRAPH ?g4 {{ ?e cap:population ?pop }} }}
            OPTIONAL {{ GRAPH ?g5 {{ ?e cap:codePostal ?cp }} }}
            OPTIONAL {{ GRAPH ?g6 {{ ?e cap:fonction ?fonction }} }}
            OPTIONAL {{ GRAPH ?g7 {{ ?e cap:membreDe ?org }} }}
            OPTIONAL {{ GRAPH ?g8 {{ ?e skos:altLabel ?alt }} }}
            OPTIONAL {{ GRAPH ?g9 {{ ?e wgs:lat ?lat ; wgs:long ?long }} }}
        }}"""
    )
    entities: dict[str, dict[str, Any]] = {}
    for r in rows:
        e = str(r["e"])
        item = entities.setdefault(e, {"iri": e, "type": short(str(r["c"]))})
        for name in ("nom", "insee", "siren", "cp", "fonction", "org", "lat", "long"):
            if name in r and name not in item:
                item[name] = str(r[name])
        if "pop" in r and "population" not in item:
            item["population"] = int(str(r["pop"]))
        if "alt" in r:
            item.setdefault("alias", [])
            if str(r["alt"]) not in item["alias"]:
                item["alias"].append(str(r["alt"]))
    if "cp" in {k for item in entities.values() for k in item}:
        for item in entities.values():
            if "cp" in item:
                item["code_postal"] = item.pop("cp")
    sources = sources_of(store)
    for e, item in entities.items():
        item["sources"] = [{"source": s["source"], "id": s["id"]} for s in sources.get(e, [])]
    return sorted(entities.values(), key=lambda x: (x.get("nom") or "", x["iri"]))


def list_experiences(store: Store) -> list[dict[str, Any]]:
    """Every published experience, with carriers, services (notations), technologies and sources."""
    return [
        {
            "iri": doc.iri,
            "titre": doc.titre,
            "date": doc.date,
            "porteurs": doc.porteurs,
            "services": [s["notation"] for s in doc.services],
            "technologies": doc.technologies,
            "sources": doc.sources,
        }
        for doc in collect_docs(store)
    ]


def show(store: Store, iri: str) -> dict[str, Any]:
    """One entity: its types, every public property with the graph it comes from, and its sources.

    A value is ``{"value", "graph", "iri"?: true, "lang"? | "datatype"?}``, one per graph that states it.
    """
    description = describe(store, iri)
    properties: dict[str, list[dict[str, Any]]] = {}
    for prop in description.properties:
        values = [_shown(value, g) for value in prop.values for g in value.graphs]
        properties[short(prop.iri)] = sorted(values, key=lambda v: (v["graph"], v["value"]))
    sources = {(r.source, r.id, r.statut): None for r in description.records}
    return {
        "iri": description.iri,
        "types": list(dict.fromkeys(short(t) for t in description.types)),
        "properties": properties,
        "sources": [{"source": src, "id": id_, "statut": st} for src, id_, st in sources],
    }


def _shown(value: Value, graph_: str) -> dict[str, Any]:
    shown: dict[str, Any] = {"value": value.value, "graph": graph_}
    if value.iri:
        shown["iri"] = True
    elif value.lang:
        shown["lang"] = value.lang
    elif value.datatype:
        shown["datatype"] = short(value.datatype)
    return shown
