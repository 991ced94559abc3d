"""The fiche of an entity as the explorer shows it, and its graph neighbourhood; the search of fiches by name.

A fiche is a format of :func:`fiches.description.describe`: the French label of every property and the
source fields it comes from (``cap:champSource``), the named graphs (the sources) of every value, the source
records the entity derives from (file, sheet, line, import run), and the entities pointing to it. Only the
public store is read, so a person's contact details never appear.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from rdflib import URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS

from fiches.description import (
    KIND_LABELS,
    KIND_OF_CLASS,
    Description,
    Record,
    describe,
    kinds,
)
from fiches.description import Incoming as IncomingLinks
from fiches.description import Property as DescribedProperty
from fiches.names import NAME_PROPERTIES, check_iri, iri_values, key_of, labels, local_name, short
from kg.errors import InvalidInput
from kg.store import Store
from ontology.iri import graph, normalise_texte
from ontology.namespaces import CAP, ID, IGEO, WGS

__all__ = [
    "FIND_CLASSES",
    "KIND_LABELS",
    "Fiche",
    "Neighbourhood",
    "fiche",
    "find",
    "neighbourhood",
    "vocabulary",
]

#: French labels of the properties that do not come from our ontology.
PROPERTY_LABELS: dict[str, str] = {
    str(DCTERMS.title): "titre",
    str(DCTERMS.description): "description",
    str(DCTERMS.date): "date",
    str(DCTERMS.alternative): "autre titre",
    str(RDFS.label): "nom",
    str(RDFS.comment): "commentaire",
    str(RDFS.seeAlso): "voir aussi",
    str(OWL.sameAs): "identique à",
    str(SKOS.prefLabel): "libellé",
    str(SKOS.altLabel): "autre libellé",
    str(SKOS.notation): "notation",
    str(SKOS.broader): "concept parent",
    str(SKOS.narrower): "concept enfant",
    str(SKOS.inScheme): "schéma",
    str(SKOS.topConceptOf): "concept de tête de",
    str(SKOS.definition): "définition",
    str(SKOS.scopeNote): "note d'application",
    str(SKOS.closeMatch): "correspondance proche",
    str(SKOS.broadMatch): "correspondance plus large",
    str(SKOS.narrowMatch): "correspondance plus fine",
    str(SKOS.relatedMatch): "correspondance associée",
    str(PROV.wasDerivedFrom): "enregistrement source",
    str(PROV.startedAtTime): "début",
    str(PROV.endedAtTime): "fin",
    str(WGS.lat): "latitude",
    str(WGS.long): "longitude",
    str(IGEO.codeINSEE): "code INSEE",
    str(IGEO.nom): "nom officiel",
    str(IGEO.subdivisionDirecteDe): "subdivision de",
    str(FOAF.name): "nom",
}
#: How an incoming link reads from the object's side ("experiences whose carrier is this collectivity").
INVERSE_LABELS: dict[str, str] = {
    str(CAP.porteur): "porte les expériences",
    str(CAP.partenaire): "partenaire des expériences",
    str(CAP.prestataire): "prestataire des expériences",
    str(CAP.financeur): "financeur des expériences",
    str(CAP.contact): "contact des expériences",
    str(CAP.technologie): "utilisée par",
    str(CAP.service): "expériences classées sous ce concept",
    str(CAP.servicePrincipal): "service principal de",
    str(CAP.competence): "expériences qui demandent cette compétence",
    str(CAP.territoire): "sur ce territoire",
    str(CAP.intercommunalite): "communes membres",
    str(CAP.membreDe): "membres",
    str(CAP.parrain): "parrain de",
    str(CAP.filleul): "filleul de",
    str(SKOS.broader): "concepts plus fins",
    str(IGEO.subdivisionDirecteDe): "subdivisions",
}
#: Links left out of the neighbourhood: plumbing, not meaning.
_HIDDEN_LINKS = {
    str(RDF.type),
    str(PROV.wasDerivedFrom),
    str(CAP.importRun),
    str(SKOS.inScheme),
    str(SKOS.topConceptOf),
    str(RDFS.seeAlso),
    str(OWL.sameAs),
}
#: The long texts of an entity, shown as prose in this order (by local name of the property).
_TEXT_PROPERTIES = (
    "sousTitre",
    "resume",
    "synthese",
    "actions",
    "resultats",
    "recommandations",
    "description",
    "definition",
)
#: How many entities a fiche lists per incoming property.
INCOMING_SHOWN = 50


class Value(BaseModel):
    """One value of a property, with the sources (named graphs) that state it."""

    value: str
    label: str | None = Field(default=None, description="Nom de l'entité quand la valeur est une IRI.")
    iri: bool = False
    kind: str | None = Field(default=None, description="Type de l'entité quand la valeur est une IRI.")
    lang: str | None = None
    datatype: str | None = None
    graphs: list[str] = Field(default_factory=list, description="Sources (graphes nommés) qui l'affirment.")


class Property(BaseModel):
    iri: str
    short: str
    label: str
    champ_source: list[str] = Field(default_factory=list, description="Champs des sources qui la remplissent.")
    values: list[Value]


class Incoming(BaseModel):
    property: str
    label: str
    subjects: list[dict[str, str]]
    total: int


class Fiche(BaseModel):
    iri: str
    label: str
    kind: str
    kind_label: str
    types: list[str]
    type_labels: list[str]
    properties: list[Property]
    texts: list[Property] = Field(default_factory=list, description="Les propriétés de texte long (prose).")
    records: list[Record]
    incoming: list[Incoming]
    point: tuple[float, float] | None = Field(default=None, description="(latitude, longitude) si connue.")


class Node(BaseModel):
    iri: str
    label: str
    kind: str


class Edge(BaseModel):
    source: str
    target: str
    label: str


class Neighbourhood(BaseModel):
    center: str
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool = False


def vocabulary(store: Store) -> dict[str, dict[str, Any]]:
    """French label and source fields of every property and class the ontology describes."""
    rows = store.select(
        f"""SELECT ?t ?l ?f WHERE {{ GRAPH <{graph("ontologie")}> {{
            ?t <{RDFS.label}> ?l FILTER(LANG(?l) = "fr")
            OPTIONAL {{ ?t <{CAP.champSource}> ?f }} }} }}"""
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        item = out.setdefault(str(r["t"]), {"label": str(r["l"]), "champ_source": []})
        if "f" in r and str(r["f"]) not in item["champ_source"]:
            item["champ_source"].append(str(r["f"]))
    for item in out.values():
        item["champ_source"].sort()
    return out


def property_label(p: str, vocab: dict[str, dict[str, Any]]) -> str:
    """The French label of a property: the ontology's, ours for standard vocabularies, else its short name."""
    if p in vocab:
        return vocab[p]["label"]
    return PROPERTY_LABELS.get(p, short(p))


def fiche(store: Store, iri: str) -> Fiche:
    """Everything public about one entity, each value with its source; :class:`NotFound` when unknown."""
    description = describe(store, iri, incoming=INCOMING_SHOWN)
    vocab = vocabulary(store)
    properties, texts = _properties_and_texts(description, vocab)
    return Fiche(
        iri=description.iri,
        label=description.label or key_of(description.iri),
        kind=description.kind,
        kind_label=KIND_LABELS[description.kind],
        types=[short(t) for t in description.types],
        type_labels=[vocab[t]["label"] if t in vocab else short(t) for t in description.types],
        properties=properties,
        texts=texts,
        records=description.records,
        incoming=_incoming(description.incoming, vocab),
        point=_point(description),
    )


def _properties_and_texts(
    description: Description, vocab: dict[str, dict[str, Any]]
) -> tuple[list[Property], list[Property]]:
    """The properties as the fiche lists them (by label), and the long texts apart (in reading order)."""
    properties: list[Property] = []
    texts: list[Property] = []
    for described in description.properties:
        prop = _property(described, vocab)
        is_text = local_name(prop.iri) in _TEXT_PROPERTIES and not prop.values[0].iri
        (texts if is_text else properties).append(prop)
    properties.sort(key=lambda x: x.label.lower())
    texts.sort(key=lambda x: _TEXT_PROPERTIES.index(local_name(x.iri)))
    return properties, texts


def _property(described: DescribedProperty, vocab: dict[str, dict[str, Any]]) -> Property:
    values = [
        Value(
            value=v.value,
            label=v.label,
            iri=v.iri,
            kind=v.kind,
            lang=v.lang,
            datatype=short(v.datatype) if v.datatype else None,
            graphs=sorted(v.graphs),
        )
        for v in described.values
    ]
    values.sort(key=lambda v: (v.label or v.value).lower())
    return Property(
        iri=described.iri,
        short=short(described.iri),
        label=property_label(described.iri, vocab),
        champ_source=vocab.get(described.iri, {}).get("champ_source", []),
        values=values,
    )


def _incoming(links: list[IncomingLinks], vocab: dict[str, dict[str, Any]]) -> list[Incoming]:
    """The incoming links as the fiche reads them from the object's side, the largest groups first."""
    out = []
    for link in links:
        label = INVERSE_LABELS.get(link.property) or f"{property_label(link.property, vocab)} de"
        subjects = sorted(({"iri": s.iri, "label": s.label or s.iri} for s in link.subjects), key=lambda x: x["label"])
        out.append(Incoming(property=short(link.property), label=label, subjects=subjects, total=link.total))
    return sorted(out, key=lambda x: (-x.total, x.label))


def _point(description: Description) -> tuple[float, float] | None:
    lat, lon = description.property(str(WGS.lat)), description.property(str(WGS.long))
    if not lat or not lon:
        return None
    try:
        return float(lat.values[0].value), float(lon.values[0].value)
    except ValueError:
        return None


def neighbourhood(store: Store, iri: str, limit: int = 60) -> Neighbourhood:
    """The entity, the entities it links to and those linking to it, and every link between them.

    Plumbing links (types, provenance records, schemes) are left out. Past ``limit`` neighbours the most
    connected ones are kept and ``truncated`` says so.
    """
    iri = check_iri(iri)
    links = _direct_links(store, iri)
    neighbours, candidate_kinds, truncated = _neighbours(store, iri, links, limit)
    members = [iri, *neighbours]  # a list, not a set: the same query, hence the same edge order, at every run
    edges = _edges_between(store, members, links)
    vocab = vocabulary(store)
    names = labels(store, members)
    node_kinds = {**candidate_kinds, **kinds(store, [iri])}
    nodes = [
        Node(iri=m, label=names.get(m, key_of(m)), kind=node_kinds.get(m, "autre")) for m in members
    ]
    return Neighbourhood(
        center=iri,
        nodes=nodes,
        edges=[Edge(source=s, target=o, label=property_label(p, vocab)) for s, p, o in edges],
        truncated=truncated,
    )


def _direct_links(store: Store, iri: str) -> list[tuple[str, str, str]]:
    """The meaningful links from and to ``iri``: outgoing first, as ``(subject, property, object)``."""
    node = URIRef(iri)
    out_rows = store.select("SELECT DISTINCT ?p ?o WHERE { GRAPH ?g { $s ?p ?o FILTER(isIRI(?o)) } }", s=node)
    in_rows = store.select("SELECT DISTINCT ?p ?s WHERE { GRAPH ?g { ?s ?p $o } }", o=node)
    links = [(iri, str(r["p"]), str(r["o"])) for r in out_rows if str(r["p"]) not in _HIDDEN_LINKS]
    links += [
        (str(r["s"]), str(r["p"]), iri)
        for r in in_rows
        if str(r["p"]) not in _HIDDEN_LINKS and str(r["p"]) not in (str(CAP.entite), str(CAP.candidat))
    ]
    return links


def _neighbours(
    store: Store, iri: str, links: list[tuple[str, str, str]], limit: int
) -> tuple[list[str], dict[str, str], bool]:
    """Our entities at one link from ``iri`` (not provenance), at most ``limit``; their kinds; truncated?"""
    neighbours = list(dict.fromkeys(t if s == iri else s for s, _, t in links))
    candidate_kinds = kinds(store, neighbours)
    neighbours = [
        n
        for n in neighbours
        if n != iri and n.startswith(str(ID)) and candidate_kinds.get(n) != "provenance"  # not web links
    ]
    truncated = len(neighbours) > limit
    if truncated:  # keep the outgoing links first (what the entity says), then the incoming ones in order
        outgoing = [t for s, _, t in links if s == iri and t != iri]
        neighbours = list(dict.fromkeys([*outgoing, *neighbours]))[:limit]
    return neighbours, candidate_kinds, truncated


def _edges_between(
    store: Store, members: list[str], links: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], None]:
    """The direct links among ``members`` and every other meaningful link between two of them."""
    values = iri_values(members)
    member = set(members)
    between = (
        store.select(
            f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"VALUES ?o {{ {values} }} }}"
        )
        if len(members) > 1
        else []
    )
    edges: dict[tuple[str, str, str], None] = {}
    for s, p, o in links:
        if s in member and o in member:
            edges[(s, p, o)] = None
    for r in between:
        p = str(r["p"])
        if p not in _HIDDEN_LINKS and str(r["s"]) != str(r["o"]):
            edges[(str(r["s"]), p, str(r["o"]))] = None
    return edges


#: What a fiche search may look for, by kind (the classes of each).
FIND_CLASSES: dict[str, tuple[str, ...]] = {
    "experience": (str(CAP.Experience),),
    "collectivite": (
        str(CAP.Commune),
        str(CAP.Intercommunalite),
        str(CAP.Departement),
        str(CAP.Region),
        str(CAP.StructureMutualisation),
    ),
    "lieu": (str(CAP.LieuMediation),),
    "acteur": (str(CAP.Personne), str(CAP.Organisation)),
    "technologie": (str(CAP.Technologie),),
    "concept": (
        str(CAP.Axe),
        str(CAP.Enjeu),
        str(CAP.Usage),
        str(CAP.TypeService),
        str(CAP.Competence),
        str(CAP.ThematiqueOten),
    ),
}


def find(store: Store, text: str, kind: str | None = None, limit: int = 20) -> list[dict[str, str]]:
    """Entities whose name contains ``text`` (case and accents ignored), optionally of one kind."""
    if kind is not None and kind not in FIND_CLASSES:
        raise InvalidInput(f"type : {kind!r} inconnu (attendu : {', '.join(FIND_CLASSES)})", field="type")
    wanted = normalise_texte(text)
    if len(wanted) < 2:
        raise InvalidInput("nom : au moins deux lettres", field="nom")
    classes = FIND_CLASSES[kind] if kind else tuple(c for cs in FIND_CLASSES.values() for c in cs)
    rows = store.select(
        "SELECT DISTINCT ?e ?c ?l WHERE { VALUES ?c { "
        + " ".join(f"<{c}>" for c in classes)
        + " } GRAPH ?g { ?e a ?c } VALUES ?p { "
        + " ".join(f"<{p}>" for p in NAME_PROPERTIES)
        + f" <{SKOS.altLabel}> <{SKOS.notation}> }} GRAPH ?h {{ ?e ?p ?l }} }}"
    )
    best: dict[str, tuple[int, str, str]] = {}
    for r in rows:
        label = str(r["l"])
        folded = normalise_texte(label)
        if wanted not in folded:
            continue
        rank = 0 if folded == wanted else 1 if folded.startswith(wanted) else 2
        e = str(r["e"])
        if e not in best or rank < best[e][0]:
            best[e] = (rank, label, KIND_OF_CLASS.get(str(r["c"]), "autre"))
    names = labels(store, best)
    found = sorted(best.items(), key=lambda kv: (kv[1][0], names.get(kv[0], kv[1][1]).lower()))[:limit]
    return [{"iri": e, "label": names.get(e, lab), "kind": k} for e, (_, lab, k) in found]
