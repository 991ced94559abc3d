"""The fiche of an entity: its public properties with their source and provenance, and its neighbourhood.

What the explorer's fiche page, and any other surface showing one entity, needs in one call: labels for
every IRI it mentions, the French label of every property and the source field it comes from
(``cap:champSource``), the named graph (the source) of every value, the source records the entity derives
from (file, sheet, line, import run), the entities pointing to it, and its graph neighbourhood. Only the
public store is read, so a person's contact details never appear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field
from rdflib import RDF, Literal, URIRef

from fiches.queries import graph_name, short
from kg.errors import InvalidInput, NotFound
from kg.store import Store

CAP = "https://w3id.org/capitalis/ontology#"
IGEO = "http://rdf.insee.fr/def/geo#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
ID = "https://w3id.org/capitalis/id/"

#: Kind of an entity (what its fiche shows, the colour of its node), from its classes, most specific first.
KIND_OF_CLASS: dict[str, str] = {
    f"{CAP}Experience": "experience",
    f"{CAP}Commune": "collectivite",
    f"{CAP}Intercommunalite": "collectivite",
    f"{CAP}Departement": "collectivite",
    f"{CAP}Region": "collectivite",
    f"{CAP}Collectivite": "collectivite",
    f"{CAP}StructureMutualisation": "collectivite",
    f"{CAP}LieuMediation": "lieu",
    f"{CAP}Personne": "acteur",
    f"{CAP}Organisation": "acteur",
    f"{CAP}Technologie": "technologie",
    f"{CAP}Axe": "concept",
    f"{CAP}Enjeu": "concept",
    f"{CAP}Usage": "concept",
    f"{CAP}TypeService": "concept",
    f"{CAP}Competence": "concept",
    f"{CAP}ThematiqueOten": "concept",
    f"{CAP}StatutParrainage": "concept",
    f"{SKOS}Concept": "concept",
    f"{IGEO}Commune": "territoire",
    f"{IGEO}Intercommunalite": "territoire",
    f"{IGEO}Departement": "territoire",
    f"{IGEO}Region": "territoire",
    f"{CAP}Parrainage": "parrainage",
    f"{CAP}Evaluation": "evaluation",
    f"{CAP}Indicateur": "evaluation",
    f"{CAP}Financement": "evaluation",
    f"{CAP}LabelVillesInternet": "label",
    f"{CAP}ServicePublic": "service-public",
    f"{CAP}SourceRecord": "provenance",
    f"{CAP}ImportRun": "provenance",
    f"{CAP}DecisionResolution": "provenance",
    f"{CAP}Anomalie": "provenance",
}
#: French names of the kinds (legend of the graph, headers).
KINDS: dict[str, str] = {
    "experience": "Expérience",
    "collectivite": "Collectivité ou structure",
    "lieu": "Lieu de médiation",
    "acteur": "Acteur",
    "technologie": "Technologie",
    "concept": "Concept de la taxonomie",
    "territoire": "Territoire (INSEE)",
    "parrainage": "Parrainage",
    "evaluation": "Évaluation",
    "label": "Label Villes Internet",
    "service-public": "Service public",
    "provenance": "Provenance",
    "autre": "Autre",
}
#: French labels of the properties that do not come from our ontology.
PROPERTY_LABELS: dict[str, str] = {
    "http://purl.org/dc/terms/title": "titre",
    "http://purl.org/dc/terms/description": "description",
    "http://purl.org/dc/terms/date": "date",
    "http://purl.org/dc/terms/alternative": "autre titre",
    "http://www.w3.org/2000/01/rdf-schema#label": "nom",
    "http://www.w3.org/2000/01/rdf-schema#comment": "commentaire",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "voir aussi",
    "http://www.w3.org/2002/07/owl#sameAs": "identique à",
    f"{SKOS}prefLabel": "libellé",
    f"{SKOS}altLabel": "autre libellé",
    f"{SKOS}notation": "notation",
    f"{SKOS}broader": "concept parent",
    f"{SKOS}narrower": "concept enfant",
    f"{SKOS}inScheme": "schéma",
    f"{SKOS}topConceptOf": "concept de tête de",
    f"{SKOS}definition": "définition",
    f"{SKOS}scopeNote": "note d'application",
    f"{SKOS}closeMatch": "correspondance proche",
    f"{SKOS}broadMatch": "correspondance plus large",
    f"{SKOS}narrowMatch": "correspondance plus fine",
    f"{SKOS}relatedMatch": "correspondance associée",
    f"{PROV}wasDerivedFrom": "enregistrement source",
    f"{PROV}startedAtTime": "début",
    f"{PROV}endedAtTime": "fin",
    "http://www.w3.org/2003/01/geo/wgs84_pos#lat": "latitude",
    "http://www.w3.org/2003/01/geo/wgs84_pos#long": "longitude",
    f"{IGEO}codeINSEE": "code INSEE",
    f"{IGEO}nom": "nom officiel",
    f"{IGEO}subdivisionDirecteDe": "subdivision de",
    "http://xmlns.com/foaf/0.1/name": "nom",
}
#: How an incoming link reads from the object's side ("experiences whose carrier is this collectivity").
INVERSE_LABELS: dict[str, str] = {
    f"{CAP}porteur": "porte les expériences",
    f"{CAP}partenaire": "partenaire des expériences",
    f"{CAP}prestataire": "prestataire des expériences",
    f"{CAP}financeur": "financeur des expériences",
    f"{CAP}contact": "contact des expériences",
    f"{CAP}technologie": "utilisée par",
    f"{CAP}service": "expériences classées sous ce concept",
    f"{CAP}servicePrincipal": "service principal de",
    f"{CAP}competence": "expériences qui demandent cette compétence",
    f"{CAP}territoire": "sur ce territoire",
    f"{CAP}intercommunalite": "communes membres",
    f"{CAP}membreDe": "membres",
    f"{CAP}parrain": "parrain de",
    f"{CAP}filleul": "filleul de",
    f"{SKOS}broader": "concepts plus fins",
    f"{IGEO}subdivisionDirecteDe": "subdivisions",
}
#: Links left out of the neighbourhood: plumbing, not meaning.
_HIDDEN_LINKS = {
    str(RDF.type),
    f"{PROV}wasDerivedFrom",
    f"{CAP}importRun",
    f"{SKOS}inScheme",
    f"{SKOS}topConceptOf",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso",
    "http://www.w3.org/2002/07/owl#sameAs",
}
_LABEL_PROPERTIES = (
    "http://purl.org/dc/terms/title",
    f"{SKOS}prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://xmlns.com/foaf/0.1/name",
)
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


class Record(BaseModel):
    """A source record the entity derives from: where it was read and by which import run."""

    iri: str
    source: str
    id: str
    statut: str = "actif"
    fichier: str | None = None
    feuille: str | None = None
    ligne: int | None = None
    import_run: str | None = None
    importe_le: str | None = None


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


def _values(iris: Iterable[str]) -> str:
    out = []
    for i in iris:
        if not i.startswith(("http://", "https://")) or any(c in i for c in '<>"{}|^`\\ '):
            continue
        out.append(f"<{i}>")
    return " ".join(out)


def check_iri(iri: str) -> str:
    """An IRI typed by a user: trimmed, absolute, without characters SPARQL forbids."""
    iri = (iri or "").strip()
    if not iri:
        raise InvalidInput("iri : valeur vide")
    if not iri.startswith(("http://", "https://")):
        raise InvalidInput(f"iri : {iri!r} n'est pas une IRI absolue (https://w3id.org/capitalis/id/…)")
    if any(c in iri for c in '<>"{}|^`\\ \n\t'):
        raise InvalidInput(f"iri : {iri!r} contient un caractère interdit")
    return iri


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The best French name of each IRI (title, preferred label, label, name); IRIs without one are absent."""
    wanted = list(dict.fromkeys(iris))
    if not wanted:
        return {}
    best: dict[str, tuple[int, str]] = {}
    for chunk in range(0, len(wanted), 400):
        values = _values(wanted[chunk : chunk + 400])
        if not values:
            continue
        rows = store.select(
            f"SELECT ?s ?p ?l WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ "
            + " ".join(f"<{p}>" for p in _LABEL_PROPERTIES)
            + " } GRAPH ?g { ?s ?p ?l } }"
        )
        for r in rows:
            s, p, lit = str(r["s"]), str(r["p"]), r["l"]
            lang = getattr(lit, "language", None)
            rank = _LABEL_PROPERTIES.index(p) * 3 + (0 if lang == "fr" else 1 if lang is None else 2)
            if s not in best or rank < best[s][0]:
                best[s] = (rank, str(lit))
    return {s: label for s, (_, label) in best.items()}


def kinds(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The kind (``KINDS``) of each IRI, from its most specific known class; ``autre`` when none is known."""
    wanted = list(dict.fromkeys(iris))
    order = list(KIND_OF_CLASS)
    found: dict[str, tuple[int, str]] = {}
    for chunk in range(0, len(wanted), 400):
        values = _values(wanted[chunk : chunk + 400])
        if not values:
            continue
        for r in store.select(f"SELECT ?s ?c WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s a ?c }} }}"):
            c = str(r["c"])
            if c in KIND_OF_CLASS:
                rank = order.index(c)
                s = str(r["s"])
                if s not in found or rank < found[s][0]:
                    found[s] = (rank, KIND_OF_CLASS[c])
    return {i: found[i][1] if i in found else "autre" for i in wanted}


def vocabulary(store: Store) -> dict[str, dict[str, Any]]:
    """French label and source fields of every property and class the ontology describes."""
    rows = store.select(
        f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?t ?l ?f WHERE {{ GRAPH <https://w3id.org/capitalis/graph/ontologie> {{
            ?t rdfs:label ?l FILTER(LANG(?l) = "fr")
            OPTIONAL {{ ?t <{CAP}champSource> ?f }} }} }}"""
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        item = out.setdefault(str(r["t"]), {"label": str(r["l"]), "champ_source": []})
        if "f" in r and str(r["f"]) not in item["champ_source"]:
            item["champ_source"].append(str(r["f"]))
    for item in out.values():
        item["champ_source"].sort()
    return out


def _property_label(p: str, vocab: dict[str, dict[str, Any]]) -> str:
    if p in vocab:
        return vocab[p]["label"]
    return PROPERTY_LABELS.get(p, short(p))


def records(store: Store, iri: str) -> list[Record]:
    """The source records an entity derives from, with the file, sheet, line and import run."""
    rows = store.select(
        f"""SELECT ?r ?src ?id ?st ?f ?sh ?l ?run ?t WHERE {{
            GRAPH ?g {{ $e <{PROV}wasDerivedFrom> ?r }}
            GRAPH ?h {{ ?r <{CAP}source> ?src ; <{CAP}identifiantSource> ?id .
                OPTIONAL {{ ?r <{CAP}statutEnregistrement> ?st }}
                OPTIONAL {{ ?r <{CAP}fichier> ?f }}
                OPTIONAL {{ ?r <{CAP}feuille> ?sh }}
                OPTIONAL {{ ?r <{CAP}ligne> ?l }}
                OPTIONAL {{ ?r <{CAP}importRun> ?run OPTIONAL {{ ?run <{PROV}startedAtTime> ?t }} }} }} }}""",
        e=URIRef(iri),
    )
    out: dict[str, Record] = {}
    for r in rows:
        key = str(r["r"])
        if key in out:
            continue
        ligne = r.get("l")
        out[key] = Record(
            iri=key,
            source=str(r["src"]),
            id=str(r["id"]),
            statut=str(r.get("st", "actif")),
            fichier=str(r["f"]) if "f" in r else None,
            feuille=str(r["sh"]) if "sh" in r else None,
            ligne=int(str(ligne)) if ligne is not None and str(ligne).isdigit() else None,
            import_run=str(r["run"]) if "run" in r else None,
            importe_le=str(r["t"]) if "t" in r else None,
        )
    return sorted(out.values(), key=lambda x: (x.source, x.id))


def incoming(store: Store, iri: str, per_property: int = 50) -> list[Incoming]:
    """The entities that point to ``iri``, grouped by property (at most ``per_property`` each, all counted)."""
    rows = store.select(
        "SELECT DISTINCT ?p ?s WHERE { GRAPH ?g { ?s ?p $o } }",
        o=URIRef(iri),
    )
    grouped: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        p = str(r["p"])
        if p in (str(RDF.type), f"{CAP}entite", f"{CAP}candidat", f"{SKOS}inScheme", f"{SKOS}topConceptOf"):
            continue
        grouped[p].append(str(r["s"]))
    subject_kinds = kinds(store, [s for subjects in grouped.values() for s in subjects])
    grouped = {p: [s for s in subjects if subject_kinds.get(s) != "provenance"] for p, subjects in grouped.items()}
    grouped = {p: subjects for p, subjects in grouped.items() if subjects}
    shown = {p: sorted(subjects)[:per_property] for p, subjects in grouped.items()}
    names = labels(store, [s for subjects in shown.values() for s in subjects])
    vocab_labels = vocabulary(store)
    out = []
    for p, subjects in shown.items():
        label = INVERSE_LABELS.get(p) or f"{_property_label(p, vocab_labels)} de"
        items = sorted(({"iri": s, "label": names.get(s, s)} for s in subjects), key=lambda x: x["label"])
        out.append(Incoming(property=short(p), label=label, subjects=items, total=len(grouped[p])))
    return sorted(out, key=lambda x: (-x.total, x.label))


def fiche(store: Store, iri: str) -> Fiche:
    """Everything public about one entity, each value with its source; :class:`NotFound` when unknown."""
    iri = check_iri(iri)
    rows = store.select("SELECT ?g ?p ?o WHERE { GRAPH ?g { $s ?p ?o } }", s=URIRef(iri))
    if not rows:
        raise NotFound(f"aucune entité publique {iri}")
    vocab = vocabulary(store)
    types: list[str] = []
    grouped: dict[str, dict[tuple[str, str | None, str | None, bool], list[str]]] = defaultdict(dict)
    for r in rows:
        p, o, g = str(r["p"]), r["o"], graph_name(str(r["g"]))
        if p == str(RDF.type):
            if str(o) not in types:
                types.append(str(o))
            continue
        lang = o.language if isinstance(o, Literal) else None
        datatype = short(str(o.datatype)) if isinstance(o, Literal) and o.datatype else None
        key = (str(o), lang, datatype, isinstance(o, URIRef))
        graphs = grouped[p].setdefault(key, [])
        if g not in graphs:
            graphs.append(g)
    linked = [k[0] for values in grouped.values() for k in values if k[3]]
    names = labels(store, [iri, *linked])
    linked_kinds = kinds(store, linked)
    properties: list[Property] = []
    texts: list[Property] = []
    for p, values in grouped.items():
        vals = [
            Value(
                value=v,
                label=names.get(v) if is_iri else None,
                iri=is_iri,
                kind=linked_kinds.get(v) if is_iri else None,
                lang=lang,
                datatype=dt,
                graphs=sorted(gs),
            )
            for (v, lang, dt, is_iri), gs in values.items()
        ]
        vals.sort(key=lambda v: (v.label or v.value).lower())
        prop = Property(
            iri=p,
            short=short(p),
            label=_property_label(p, vocab),
            champ_source=vocab.get(p, {}).get("champ_source", []),
            values=vals,
        )
        local = p.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        (texts if local in _TEXT_PROPERTIES and not prop.values[0].iri else properties).append(prop)
    properties.sort(key=lambda x: x.label.lower())
    texts.sort(key=lambda x: _TEXT_PROPERTIES.index(x.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]))
    kind = _kind_of(types)
    return Fiche(
        iri=iri,
        label=names.get(iri, iri.rsplit("/", 1)[-1]),
        kind=kind,
        kind_label=KINDS[kind],
        types=[short(t) for t in types],
        type_labels=[vocab[t]["label"] if t in vocab else short(t) for t in types],
        properties=properties,
        texts=texts,
        records=records(store, iri),
        incoming=incoming(store, iri),
        point=_point(grouped),
    )


def _kind_of(types: list[str]) -> str:
    order = list(KIND_OF_CLASS)
    known = sorted((order.index(t), KIND_OF_CLASS[t]) for t in types if t in KIND_OF_CLASS)
    return known[0][1] if known else "autre"


def _point(grouped: dict[str, dict[tuple[str, str | None, str | None, bool], list[str]]]) -> tuple[float, float] | None:
    lat = grouped.get("http://www.w3.org/2003/01/geo/wgs84_pos#lat")
    lon = grouped.get("http://www.w3.org/2003/01/geo/wgs84_pos#long")
    if not lat or not lon:
        return None
    try:
        return float(next(iter(lat))[0]), float(next(iter(lon))[0])
    except ValueError:
        return None


def neighbourhood(store: Store, iri: str, limit: int = 60) -> Neighbourhood:
    """The entity, the entities it links to and those linking to it, and every link between them.

    Plumbing links (types, provenance records, schemes) are left out. Past ``limit`` neighbours the most
    connected ones are kept and ``truncated`` says so.
    """
    iri = check_iri(iri)
    node = URIRef(iri)
    out_rows = store.select("SELECT DISTINCT ?p ?o WHERE { GRAPH ?g { $s ?p ?o FILTER(isIRI(?o)) } }", s=node)
    in_rows = store.select("SELECT DISTINCT ?p ?s WHERE { GRAPH ?g { ?s ?p $o } }", o=node)
    links: list[tuple[str, str, str]] = []
    for r in out_rows:
        if str(r["p"]) not in _HIDDEN_LINKS:
            links.append((iri, str(r["p"]), str(r["o"])))
    for r in in_rows:
        if str(r["p"]) not in _HIDDEN_LINKS and str(r["p"]) not in (f"{CAP}entite", f"{CAP}candidat"):
            links.append((str(r["s"]), str(r["p"]), iri))
    neighbours = list(dict.fromkeys(t if s == iri else s for s, _, t in links))
    candidate_kinds = kinds(store, neighbours)
    neighbours = [
        n
        for n in neighbours
        if n != iri and n.startswith(ID) and candidate_kinds.get(n) != "provenance"  # our entities, not web links
    ]
    truncated = len(neighbours) > limit
    if truncated:  # keep the outgoing links first (what the entity says), then the incoming ones in order
        outgoing = [t for s, _, t in links if s == iri and t != iri]
        neighbours = list(dict.fromkeys([*outgoing, *neighbours]))[:limit]
    members = {iri, *neighbours}
    values = _values(members)
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
        if s in members and o in members:
            edges[(s, p, o)] = None
    for r in between:
        p = str(r["p"])
        if p not in _HIDDEN_LINKS and str(r["s"]) != str(r["o"]):
            edges[(str(r["s"]), p, str(r["o"]))] = None
    vocab = vocabulary(store)
    names = labels(store, members)
    node_kinds = {**candidate_kinds, **kinds(store, [iri])}
    nodes = [
        Node(iri=m, label=names.get(m, m.rsplit("/", 1)[-1]), kind=node_kinds.get(m, "autre"))
        for m in [iri, *neighbours]
    ]
    return Neighbourhood(
        center=iri,
        nodes=nodes,
        edges=[Edge(source=s, target=o, label=_property_label(p, vocab)) for s, p, o in edges],
        truncated=truncated,
    )


#: What a fiche search may look for, by kind (the classes of each).
FIND_CLASSES: dict[str, tuple[str, ...]] = {
    "experience": (f"{CAP}Experience",),
    "collectivite": (
        f"{CAP}Commune",
        f"{CAP}Intercommunalite",
        f"{CAP}Departement",
        f"{CAP}Region",
        f"{CAP}StructureMutualisation",
    ),
    "lieu": (f"{CAP}LieuMediation",),
    "acteur": (f"{CAP}Personne", f"{CAP}Organisation"),
    "technologie": (f"{CAP}Technologie",),
    "concept": (
        f"{CAP}Axe",
        f"{CAP}Enjeu",
        f"{CAP}Usage",
        f"{CAP}TypeService",
        f"{CAP}Competence",
        f"{CAP}ThematiqueOten",
    ),
}


def find(store: Store, text: str, kind: str | None = None, limit: int = 20) -> list[dict[str, str]]:
    """Entities whose name contains ``text`` (case and accents ignored), optionally of one kind."""
    from ontology.iri import normalise_texte

    if kind is not None and kind not in FIND_CLASSES:
        raise InvalidInput(f"type : {kind!r} inconnu (attendu : {', '.join(FIND_CLASSES)})")
    wanted = normalise_texte(text)
    if len(wanted) < 2:
        raise InvalidInput("nom : au moins deux lettres")
    classes = FIND_CLASSES[kind] if kind else tuple(c for cs in FIND_CLASSES.values() for c in cs)
    rows = store.select(
        "SELECT DISTINCT ?e ?c ?l WHERE { VALUES ?c { "
        + " ".join(f"<{c}>" for c in classes)
        + " } GRAPH ?g { ?e a ?c } VALUES ?p { "
        + " ".join(f"<{p}>" for p in _LABEL_PROPERTIES)
        + f" <{SKOS}altLabel> <{SKOS}notation> }} GRAPH ?h {{ ?e ?p ?l }} }}"
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
