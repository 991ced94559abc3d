"""Read models of the public resources (experience, collectivité, acteur, lieu, technologie, taxonomy,
territory): one function each, shared by the API, the CLI and the explorer.

Every function reads the public graphs only, binds user values through ``Store.select(..., name=value)``
(never pasted into the query), and returns JSON-ready dicts; unknown keys raise :class:`NotFound`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rdflib import URIRef
from rdflib.namespace import RDFS

from fiches.description import describe, sources_of
from fiches.names import SPARQL_PREFIXES, Name, check_key, invalid_key, key_of, short, text
from fiches.queries import list_entities
from ingest.resolve import Resolver, collectivite_du_referentiel
from kg.context import Context
from kg.errors import InvalidInput, NotFound
from kg.store import Store, memory_store
from ontology.iri import NIVEAUX, experience_from_key, graph, normalise_code, normalise_texte
from ontology.namespaces import ID
from search import Filters, MissingIndex, load_taxonomy, notation_order, search

__all__ = [
    "acteur",
    "check_key",
    "collectivite",
    "collectivite_iri",
    "entity",
    "experience",
    "experience_iri",
    "experiences_of",
    "lieux",
    "services",
    "technologie",
    "technologies",
    "territoire",
]


def _exists(store: Store, iri: str) -> bool:
    return store.ask("ASK { GRAPH ?g { $s ?p ?o } }", s=URIRef(iri))


def _first_existing(store: Store, candidates: list[str]) -> str | None:
    for iri in candidates:
        if _exists(store, iri):
            return iri
    return None


def entity(store: Store, iri: str) -> dict[str, Any]:
    """Every public statement about ``iri``: ``{types, values: {prop: [value]}}``, values with their label.

    A value is ``{"value", "iri": bool, "graph", "lang"? | "datatype"?, "notation"?, "label"?}``: one per
    distinct text and language, with the first graph that states it.
    """
    description = describe(store, iri)
    return {
        "iri": description.iri,
        "types": list(dict.fromkeys(short(t) for t in description.types)),
        "values": {short(p.iri): _merged_values(p.values, description.names) for p in description.properties},
    }


def _merged_values(values: list[Any], names: dict[str, list[Name]]) -> list[dict[str, Any]]:
    """The values of one property as the API gives them: merged by text and language, by graph then text."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for v in values:
        item = merged.setdefault((v.value, v.lang or ""), {"value": v.value, "iri": v.iri, "graph": v.graphs[0]})
        if v.lang:
            item["lang"] = v.lang
        elif v.datatype:
            item["datatype"] = short(v.datatype)
        if v.notation:
            item["notation"] = v.notation
    for item in merged.values():
        label = _api_label(names.get(item["value"], [])) if item["iri"] else None
        if label:
            item["label"] = label
    return sorted(merged.values(), key=lambda v: (v["graph"], v["value"]))


def _api_label(candidates: list[Name]) -> str | None:
    """A French or untagged name first, then by text (the API's choice, whatever the naming property)."""
    ranked = sorted(candidates, key=lambda n: (n.lang not in (None, "fr"), n.text))
    return ranked[0].text if ranked else None


def _texts(values: dict[str, list[dict[str, Any]]], prop: str) -> list[str]:
    return [v["value"] for v in values.get(prop, [])]


def _first(values: dict[str, list[dict[str, Any]]], prop: str) -> str | None:
    texts = _texts(values, prop)
    return texts[0] if texts else None


def _refs(values: dict[str, list[dict[str, Any]]], prop: str) -> list[dict[str, Any]]:
    return [{"iri": v["value"], "nom": v.get("label") or key_of(v["value"])} for v in values.get(prop, []) if v["iri"]]


# --- experiences -----------------------------------------------------------------------------------------------


def experience_iri(key_or_iri: str) -> str:
    """The IRI of an experience from its key (``vi-1024``) or its IRI."""
    try:
        return str(experience_from_key(key_or_iri))
    except ValueError:
        raise invalid_key(key_or_iri, "id") from None


def experience(store: Store, key_or_iri: str) -> dict[str, Any]:
    """One experience: texts, dates, carriers and partners, taxonomy, technologies, links, sources."""
    iri = experience_iri(key_or_iri)
    try:
        data = entity(store, iri)
    except NotFound:
        raise NotFound(f"aucune expérience {key_of(iri)}") from None
    if "cap:Experience" not in data["types"]:
        raise NotFound(f"aucune expérience {key_of(iri)}")
    v = data["values"]
    budget = _first(v, "cap:budget")
    return {
        "iri": iri,
        "id": key_of(iri),
        "titre": _first(v, "dct:title") or key_of(iri),
        "sous_titre": _first(v, "cap:sousTitre"),
        "date_debut": _first(v, "cap:dateDebut"),
        "date_fin": _first(v, "cap:dateFin"),
        "synthese": _first(v, "cap:synthese") or _first(v, "cap:resume"),
        "actions": _first(v, "cap:actions"),
        "resultats": _first(v, "cap:resultats"),
        "recommandations": _first(v, "cap:recommandations"),
        "description": _first(v, "dct:description"),
        "porteurs": _refs(v, "cap:porteur"),
        "partenaires": _refs(v, "cap:partenaire"),
        "prestataires": _refs(v, "cap:prestataire"),
        "financeurs": _refs(v, "cap:financeur"),
        "contacts": _refs(v, "cap:contact"),
        "services": [
            {"iri": x["value"], "notation": x.get("notation") or key_of(x["value"]), "label": x.get("label") or ""}
            for x in v.get("cap:service", [])
        ],
        "technologies": _refs(v, "cap:technologie"),
        "thematiques": _refs(v, "cap:thematiqueOten"),
        "competences": _refs(v, "cap:competence"),
        "liens": _texts(v, "cap:lien"),
        "budget": float(budget) if budget else None,
        "evaluation": _first(v, "cap:evaluation"),
        "sources": sources_of(store, [iri]).get(iri, []),
        "proprietes": v,
    }


def experiences_of(
    store: Store, predicate: str, node: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The experiences linked to ``node`` by ``predicate`` (a ``cap:`` name), newest first."""
    if predicate not in ("porteur", "technologie", "partenaire", "prestataire", "financeur", "contact", "service"):
        raise InvalidInput(f"relation inconnue : {predicate}", field="relation")
    rows = store.select(
        SPARQL_PREFIXES
        + f"""SELECT ?e (SAMPLE(?t) AS ?titre) (MIN(STR(?d)) AS ?date) WHERE {{
            GRAPH ?g {{ ?e cap:{predicate} $n ; a cap:Experience }}
            OPTIONAL {{ GRAPH ?h {{ ?e dct:title ?t }} }}
            OPTIONAL {{ GRAPH ?k {{ ?e cap:dateDebut ?d }} }} }} GROUP BY ?e""",
        n=URIRef(node),
    )
    items = [
        {
            "iri": str(r["e"]),
            "id": key_of(str(r["e"])),
            "titre": text(r, "titre") or key_of(str(r["e"])),
            "date": text(r, "date"),
        }
        for r in rows
    ]
    items.sort(key=lambda x: (-(int((x["date"] or "0")[:4]) if (x["date"] or "")[:4].isdigit() else 0), x["iri"]))
    return items[offset : offset + limit], len(items)


# --- collectivités, acteurs ---------------------------------------------------------------------------------------


def collectivite_iri(store: Store, code: str) -> str:
    """The collectivité (or structure de mutualisation) of a code: INSEE, SIREN, dep-XX, reg-XX or slug.

    A collectivité of the referential that carries no experience has no node in the graph; its IRI still
    answers (see :func:`collectivite_du_referentiel_store`).
    """
    code = check_key(code.strip(), "code")
    found = _first_existing(store, [f"{ID}collectivite/{code}", f"{ID}structure/{code}"])
    if found is None and collectivite_du_referentiel(code) is not None:
        found = f"{ID}collectivite/{code}"
    if found is None:
        raise NotFound(f"aucune collectivité de code {code!r} (code INSEE, SIREN, dep-XX, reg-XX ou nom de structure)")
    return found


def collectivite_du_referentiel_store(store: Store, iri: str) -> Store | None:
    """For a collectivité IRI the graph says nothing of (ask only then) but the referential knows: a small
    in-memory store holding the facts an import would write for it (graph ``referentiel``) and its territory's
    names, so that every surface describes it as it describes the others. None when the IRI names no
    collectivité of the referential."""
    prefix = f"{ID}collectivite/"
    if not iri.startswith(prefix):
        return None
    found = collectivite_du_referentiel(iri[len(prefix) :])
    if found is None:
        return None
    triples = list(Resolver(None, "referentiel").collectivite_triples(found))
    for row in store.select(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?l WHERE { GRAPH ?g { $t rdfs:label ?l } }",
        t=found.territoire,
    ):
        triples.append((found.territoire, RDFS.label, row["l"]))
    virtual = memory_store()
    virtual.add(triples, str(graph("referentiel")))
    return virtual


def collectivite(store: Store, code: str) -> dict[str, Any]:
    """One collectivité: names, codes, population, territory, and how many experiences it carries."""
    iri = collectivite_iri(store, code)
    try:
        data = entity(store, iri)
    except NotFound:  # a collectivité of the referential that carries no experience
        virtual = collectivite_du_referentiel_store(store, iri)
        if virtual is None:
            raise
        data = entity(virtual, iri)
    v = data["values"]
    population = _first(v, "cap:population")
    territoire = _first(v, "cap:territoire")
    _, count = experiences_of(store, "porteur", iri, 0, 0)
    kind = next((t for t in data["types"] if t.startswith("cap:")), data["types"][0] if data["types"] else "")
    return {
        "iri": iri,
        "code": key_of(iri),
        "nom": _first(v, "rdfs:label") or key_of(iri),
        "type": kind,
        "types": data["types"],
        "insee": _first(v, "cap:codeInsee"),
        "siren": _first(v, "cap:siren"),
        "population": int(population) if population else None,
        "territoire": territoire,
        "experiences": count,
        "proprietes": v,
    }


def acteur(store: Store, key: str) -> dict[str, Any]:
    """A person (public facts only: name, function, organisation) or an organisation, and its experiences."""
    key = check_key(key)
    iri = _first_existing(store, [f"{ID}personne/{key}", f"{ID}organisation/{key}", f"{ID}structure/{key}"])
    if iri is None:
        raise NotFound(f"aucun acteur {key!r}")
    data = entity(store, iri)
    v = data["values"]
    roles: list[dict[str, Any]] = []
    for rel in ("contact", "partenaire", "prestataire", "financeur", "porteur"):
        items, _ = experiences_of(store, rel, iri, 10_000, 0)
        roles += [{**item, "role": rel} for item in items]
    organisme = _refs(v, "cap:organisme") or _refs(v, "cap:membreDe")
    elu = _first(v, "cap:elu")
    return {
        "iri": iri,
        "id": key,
        "type": next((t for t in data["types"] if t.startswith("cap:")), ""),
        "nom": _first(v, "rdfs:label") or _first(v, "foaf:name") or key,
        "fonction": _first(v, "cap:fonction"),
        "elu": elu == "true" if elu is not None else None,
        "organisme": organisme[0] if organisme else None,
        "experiences": roles,
        "proprietes": v,
    }


# --- lieux, technologies ------------------------------------------------------------------------------------------


def lieux(
    store: Store, q: str | None = None, code_postal: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Digital mediation places, filtered by name words and postcode prefix, by name."""
    items = list_entities(store, "lieux")
    if q:
        words = normalise_texte(q).split()
        items = [i for i in items if all(w in normalise_texte(i.get("nom", "")) for w in words)]
    if code_postal:
        items = [i for i in items if str(i.get("code_postal", "")).startswith(code_postal)]
    out = [
        {
            "iri": i["iri"],
            "id": key_of(i["iri"]),
            "nom": i.get("nom") or key_of(i["iri"]),
            "code_postal": i.get("code_postal"),
            "lat": float(i["lat"]) if i.get("lat") else None,
            "long": float(i["long"]) if i.get("long") else None,
            "sources": i.get("sources", []),
        }
        for i in items
    ]
    return out[offset : offset + limit], len(out)


def technologies(
    store: Store, q: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Technologies with their spellings and how many experiences use each, most used first."""
    rows = store.select(
        SPARQL_PREFIXES
        + """SELECT ?t (SAMPLE(?l) AS ?nom) (GROUP_CONCAT(DISTINCT ?a; SEPARATOR="|") AS ?alias)
                    (COUNT(DISTINCT ?e) AS ?n) WHERE {
            GRAPH ?g { ?t a cap:Technologie }
            OPTIONAL { GRAPH ?h { ?t skos:prefLabel ?l } }
            OPTIONAL { GRAPH ?i { ?t skos:altLabel ?a } }
            OPTIONAL { GRAPH ?k { ?e cap:technologie ?t } } } GROUP BY ?t"""
    )
    items = [
        {
            "iri": str(r["t"]),
            "id": key_of(str(r["t"])),
            "nom": text(r, "nom") or key_of(str(r["t"])),
            "alias": sorted(a for a in (text(r, "alias") or "").split("|") if a),
            "experiences": int(str(r["n"])),
        }
        for r in rows
    ]
    if q:
        words = normalise_texte(q).split()
        items = [i for i in items if all(w in normalise_texte(" ".join([i["nom"], *i["alias"]])) for w in words)]
    items.sort(key=lambda i: (-i["experiences"], normalise_texte(i["nom"]), i["iri"]))
    return items[offset : offset + limit], len(items)


def technologie(store: Store, key: str) -> dict[str, Any]:
    """One technology, its spellings and the experiences that use it."""
    iri = f"{ID}technologie/{check_key(key)}"
    try:
        data = entity(store, iri)
    except NotFound:
        raise NotFound(f"aucune technologie {key!r}") from None
    v = data["values"]
    items, count = experiences_of(store, "technologie", iri, 10_000, 0)
    return {
        "iri": iri,
        "id": key,
        "nom": _first(v, "skos:prefLabel") or _first(v, "rdfs:label") or key,
        "alias": sorted(set(_texts(v, "skos:altLabel"))),
        "experiences": items,
        "count": count,
        "proprietes": v,
    }


# --- taxonomy, territories -------------------------------------------------------------------------------------------


def services(store: Store) -> list[dict[str, Any]]:
    """The ATLAAS tree (axes > enjeux > usages > services) with the experiences classified under each node."""
    taxonomy = load_taxonomy(store)
    per_experience: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        SPARQL_PREFIXES + "SELECT DISTINCT ?e ?c WHERE { GRAPH ?g { ?e a cap:Experience ; cap:service ?c } }"
    ):
        notation = taxonomy.by_iri.get(str(r["c"]))
        if notation:
            per_experience[str(r["e"])].update(taxonomy.ancestors(notation))
    counts: dict[str, int] = defaultdict(int)
    for notations in per_experience.values():
        for n in notations:
            counts[n] += 1
    iri_of = {n: i for i, n in taxonomy.by_iri.items()}
    children: dict[str | None, list[str]] = defaultdict(list)
    for n in taxonomy.label:
        children[taxonomy.broader.get(n)].append(n)

    def node(n: str) -> dict[str, Any]:
        kids = sorted(children.get(n, []), key=notation_order)
        return {
            "notation": n,
            "iri": iri_of.get(n, ""),
            "label": taxonomy.label.get(n, n),
            "alias": taxonomy.alt.get(n, []),
            "experiences": counts.get(n, 0),
            "enfants": [node(k) for k in kids],
        }

    return [node(n) for n in sorted(children.get(None, []), key=notation_order)]


def territoire(ctx: Context, niveau: str, code: str) -> dict[str, Any]:
    """A territory of the COG: name, code, population, position, parents, and the collectivités it has; for a
    région or a département, how many experiences its collectivités carry (``None`` without a search index)."""
    store = ctx.store
    if niveau not in NIVEAUX:
        raise InvalidInput(f"niveau : {niveau!r} inconnu (attendu : {', '.join(NIVEAUX)})", field="niveau")
    try:
        code = normalise_code(niveau, code)
    except ValueError:
        raise InvalidInput(f"code : {code!r} n'est pas un code {niveau} valide", field="code") from None
    iri = f"{ID}{niveau}/{code}"
    try:
        data = entity(store, iri)
    except NotFound:
        raise NotFound(f"aucun territoire {niveau} {code}") from None
    v = data["values"]
    population = _first(v, "cap:population")
    lat, lon = _first(v, "wgs:lat"), _first(v, "wgs:long")
    collectivites = store.select(
        SPARQL_PREFIXES + "SELECT DISTINCT ?c ?nom WHERE { GRAPH ?g { ?c cap:territoire $t } "
        "OPTIONAL { GRAPH ?h { ?c rdfs:label ?nom } } } ORDER BY ?c",
        t=URIRef(iri),
    )
    experiences = None
    if niveau in ("region", "departement"):
        try:
            filters = Filters(region=[code]) if niveau == "region" else Filters(departement=[code])
            experiences = search(ctx, "", filters, limit=0).total
        except (NotFound, MissingIndex):
            experiences = None
    parents = _refs(v, "igeo:subdivisionDirecteDe")
    return {
        "iri": iri,
        "niveau": niveau,
        "code": code,
        "nom": _first(v, "rdfs:label") or code,
        "population": int(population) if population else None,
        "lat": float(lat) if lat else None,
        "long": float(lon) if lon else None,
        "parents": parents,
        "intercommunalite": _first(v, "cap:intercommunalite"),
        "collectivites": [{"iri": str(r["c"]), "nom": text(r, "nom") or key_of(str(r["c"]))} for r in collectivites],
        "experiences": experiences,
        "proprietes": v,
    }
