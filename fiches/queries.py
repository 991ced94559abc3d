"""Read-side queries over the graph shared by the CLI, the API and the explorer."""

from __future__ import annotations

from typing import Any

from rdflib import RDF, Literal, URIRef

from kg.errors import InvalidInput, NotFound
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

PREFIXES = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#>
"""

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

_SHORT = {
    "https://w3id.org/capitalis/ontology#": "cap:",
    "http://purl.org/dc/terms/": "dct:",
    "http://www.w3.org/ns/prov#": "prov:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "wgs:",
    "http://rdf.insee.fr/def/geo#": "igeo:",
    "https://schema.org/": "schema:",
    "http://www.w3.org/ns/org#": "org:",
}


def short(iri: str) -> str:
    """A prefixed name for a vocabulary IRI (``cap:porteur``), the IRI itself when no prefix fits."""
    for base, prefix in _SHORT.items():
        if iri.startswith(base):
            return prefix + iri[len(base) :]
    return iri


def sources_of(store: Store, iris: list[str] | None = None) -> dict[str, list[dict[str, str]]]:
    """The source records each entity derives from: ``{iri: [{source, id, statut}]}``."""
    values = f"VALUES ?e {{ {' '.join(f'<{i}>' for i in iris)} }}" if iris else ""
    rows = store.select(
        PREFIXES
        + f"""SELECT DISTINCT ?e ?src ?id ?st WHERE {{ {values}
            GRAPH ?g {{ ?e prov:wasDerivedFrom ?r }}
            GRAPH ?h {{ ?r cap:source ?src ; cap:identifiantSource ?id .
                        OPTIONAL {{ ?r cap:statutEnregistrement ?st }} }} }}"""
    )
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        out.setdefault(str(r["e"]), []).append(
            {"source": str(r["src"]), "id": str(r["id"]), "statut": str(r.get("st", "actif"))}
        )
    for records in out.values():
        records.sort(key=lambda x: (x["source"], x["id"]))
    return out


def list_entities(store: Store, kind: str) -> list[dict[str, Any]]:
    """The entities of one kind, each as one JSON-ready object (public properties only)."""
    if kind not in KINDS:
        raise InvalidInput(f"type inconnu : {kind!r} (attendu : {', '.join(KINDS)})")
    if kind == "experiences":
        return list_experiences(store)
    classes = " ".join(KINDS[kind])
    rows = store.select(
        PREFIXES
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
    from search.engine import collect_docs

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
    """One entity: its types, every public property with the graph it comes from, and its sources."""
    rows = store.select("SELECT ?g ?p ?o WHERE { GRAPH ?g { $s ?p ?o } }", s=URIRef(iri))
    if not rows:
        raise NotFound(f"aucune entité publique {iri}")
    properties: dict[str, list[dict[str, Any]]] = {}
    types: list[str] = []
    for r in rows:
        p, o, g = str(r["p"]), r["o"], graph_name(str(r["g"]))
        if p == str(RDF.type):
            if short(str(o)) not in types:
                types.append(short(str(o)))
            continue
        value: dict[str, Any] = {"value": str(o), "graph": g}
        if isinstance(o, URIRef):
            value["iri"] = True
        elif isinstance(o, Literal):
            if o.language:
                value["lang"] = o.language
            elif o.datatype:
                value["datatype"] = short(str(o.datatype))
        properties.setdefault(short(p), []).append(value)
    for values in properties.values():
        values.sort(key=lambda v: (v["graph"], v["value"]))
    return {"iri": iri, "types": types, "properties": properties, "sources": sources_of(store, [iri]).get(iri, [])}
