"""The one description of an entity, from which every surface formats what it shows.

:func:`describe` reads, from the public graphs only, what is known about one entity: its classes and kind,
its names, each public property with its values (an IRI with the name, kind and notation of what it points
to, or a literal with its language or datatype) and the named graphs that state each value, the source
records it derives from (file, sheet, line, import run), and the entities that point to it. The CLI's
``capitalis show`` (:func:`fiches.queries.show`), the API's resources (:func:`fiches.resources.entity`) and
the explorer's fiche (:func:`fiches.fiche.fiche`) are formats of this one view.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS

from fiches.names import Name, best_name, check_iri, graph_name, iri_values, names
from kg.errors import NotFound
from kg.store import Row, Store
from ontology.namespaces import CAP, IGEO

#: Kind of an entity (what its fiche shows, the colour of its node), from its classes, most specific first.
KIND_OF_CLASS: dict[str, str] = {
    str(CAP.Experience): "experience",
    str(CAP.Commune): "collectivite",
    str(CAP.Intercommunalite): "collectivite",
    str(CAP.Departement): "collectivite",
    str(CAP.Region): "collectivite",
    str(CAP.Collectivite): "collectivite",
    str(CAP.StructureMutualisation): "collectivite",
    str(CAP.LieuMediation): "lieu",
    str(CAP.Personne): "acteur",
    str(CAP.Organisation): "acteur",
    str(CAP.Technologie): "technologie",
    str(CAP.Axe): "concept",
    str(CAP.Enjeu): "concept",
    str(CAP.Usage): "concept",
    str(CAP.TypeService): "concept",
    str(CAP.Competence): "concept",
    str(CAP.ThematiqueOten): "concept",
    str(CAP.StatutParrainage): "concept",
    str(SKOS.Concept): "concept",
    str(IGEO.Commune): "territoire",
    str(IGEO.Intercommunalite): "territoire",
    str(IGEO.Departement): "territoire",
    str(IGEO.Region): "territoire",
    str(CAP.Parrainage): "parrainage",
    str(CAP.Evaluation): "evaluation",
    str(CAP.Indicateur): "evaluation",
    str(CAP.Financement): "evaluation",
    str(CAP.LabelVillesInternet): "label",
    str(CAP.ServicePublic): "service-public",
    str(CAP.SourceRecord): "provenance",
    str(CAP.ImportRun): "provenance",
    str(CAP.DecisionResolution): "provenance",
    str(CAP.Anomalie): "provenance",
}
#: French names of the kinds (legend of the graph, headers).
KIND_LABELS: dict[str, str] = {
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
#: Links that are plumbing (typing, resolution candidates, scheme membership), not meaning.
PLUMBING_LINKS: frozenset[str] = frozenset(
    {str(RDF.type), str(CAP.entite), str(CAP.candidat), str(SKOS.inScheme), str(SKOS.topConceptOf)}
)


class Value(BaseModel):
    """One value of a property, with the named graphs that state it (in the store's order)."""

    value: str
    iri: bool = False
    label: str | None = Field(default=None, description="Best name of the entity when the value is an IRI.")
    kind: str | None = Field(default=None, description="Kind of the entity when the value is an IRI.")
    notation: str | None = Field(default=None, description="skos:notation of the concept when there is one.")
    lang: str | None = None
    datatype: str | None = Field(default=None, description="Datatype IRI of a literal without language.")
    graphs: list[str] = Field(default_factory=list, description="Short names of the graphs stating it.")


class Property(BaseModel):
    """A property of the entity and its values, in the order the store gives them."""

    iri: str
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


class Referrer(BaseModel):
    """An entity pointing to the described one."""

    iri: str
    label: str | None = None


class Incoming(BaseModel):
    """The entities pointing to the described one through one property (the first ones by IRI, all counted)."""

    property: str
    subjects: list[Referrer]
    total: int


class Description(BaseModel):
    """Everything public about one entity."""

    iri: str
    types: list[str] = Field(description="Class IRIs, in the store's order.")
    kind: str
    label: str | None = Field(description="Best name of the entity (title, preferred label, label, name).")
    properties: list[Property] = Field(description="Every public property but rdf:type, in the store's order.")
    names: dict[str, list[Name]] = Field(description="Every name of the entity and of each IRI it points to.")
    records: list[Record]
    incoming: list[Incoming] = Field(default_factory=list)

    def property(self, iri: str) -> Property | None:
        """The property ``iri`` of the entity, if it has one."""
        return next((p for p in self.properties if p.iri == iri), None)


def describe(store: Store, iri: str, *, incoming: int | None = None) -> Description:
    """Everything public about ``iri``; :class:`NotFound` when no public graph mentions it as a subject.

    ``incoming`` is how many pointing entities to list per property (``None``: incoming links are not read).
    """
    iri = check_iri(iri)
    types, properties = _statements(store, iri)
    linked = [v.value for p in properties for v in p.values if v.iri]
    found = names(store, [iri, *linked])
    _name_linked_values(properties, found, kinds(store, linked), notations(store, linked))
    return Description(
        iri=iri,
        types=types,
        kind=kind_of(types),
        label=best_name(found.get(iri, [])),
        properties=properties,
        names=found,
        records=records(store, iri),
        incoming=incoming_links(store, iri, incoming) if incoming is not None else [],
    )


def _statements(store: Store, iri: str) -> tuple[list[str], list[Property]]:
    """The classes of ``iri`` and its other statements grouped by property then value, with their graphs."""
    rows = store.select("SELECT ?g ?p ?o WHERE { GRAPH ?g { $s ?p ?o } }", s=URIRef(iri))
    if not rows:
        raise NotFound(f"aucune entité publique {iri}")
    types: list[str] = []
    grouped: dict[str, dict[tuple[str, str | None, str | None, bool], Value]] = {}
    for r in rows:
        p, o, g = str(r["p"]), r["o"], graph_name(str(r["g"]))
        if p == str(RDF.type):
            if str(o) not in types:
                types.append(str(o))
            continue
        value = _value(o)
        key = (value.value, value.lang, value.datatype, value.iri)
        value = grouped.setdefault(p, {}).setdefault(key, value)
        if g not in value.graphs:
            value.graphs.append(g)
    return types, [Property(iri=p, values=list(values.values())) for p, values in grouped.items()]


def _value(term: object) -> Value:
    if isinstance(term, Literal):
        return Value(
            value=str(term),
            lang=term.language,
            datatype=str(term.datatype) if term.datatype and not term.language else None,
        )
    return Value(value=str(term), iri=isinstance(term, URIRef))


def _name_linked_values(
    properties: list[Property], found: dict[str, list[Name]], kind: dict[str, str], notation: dict[str, str]
) -> None:
    for prop in properties:
        for value in prop.values:
            if value.iri:
                value.label = best_name(found.get(value.value, []))
                value.kind = kind.get(value.value)
                value.notation = notation.get(value.value)


def kind_of(types: Iterable[str]) -> str:
    """The kind (``KIND_LABELS``) of an entity of these classes: its most specific known one, else ``autre``."""
    order = list(KIND_OF_CLASS)
    known = sorted((order.index(t), KIND_OF_CLASS[t]) for t in types if t in KIND_OF_CLASS)
    return known[0][1] if known else "autre"


def kinds(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The kind (``KIND_LABELS``) of each IRI, from its most specific known class; ``autre`` when none is."""
    wanted = list(dict.fromkeys(iris))
    order = list(KIND_OF_CLASS)
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 400):
        values = iri_values(wanted[start : start + 400])
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


def notations(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The ``skos:notation`` of each IRI that has one (taxonomy concepts)."""
    values = iri_values(dict.fromkeys(iris))
    if not values:
        return {}
    rows = store.select(f"SELECT ?s ?n WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s <{SKOS.notation}> ?n }} }}")
    return {str(r["s"]): str(r["n"]) for r in rows}


def records(store: Store, iri: str) -> list[Record]:
    """The source records an entity derives from, with the file, sheet, line and import run."""
    rows = store.select(
        f"""SELECT ?r ?src ?id ?st ?f ?sh ?l ?run ?t WHERE {{
            GRAPH ?g {{ $e <{PROV.wasDerivedFrom}> ?r }}
            GRAPH ?h {{ ?r <{CAP.source}> ?src ; <{CAP.identifiantSource}> ?id .
                OPTIONAL {{ ?r <{CAP.statutEnregistrement}> ?st }}
                OPTIONAL {{ ?r <{CAP.fichier}> ?f }}
                OPTIONAL {{ ?r <{CAP.feuille}> ?sh }}
                OPTIONAL {{ ?r <{CAP.ligne}> ?l }}
                OPTIONAL {{ ?r <{CAP.importRun}> ?run OPTIONAL {{ ?run <{PROV.startedAtTime}> ?t }} }} }} }}""",
        e=URIRef(iri),
    )
    out: dict[str, Record] = {}
    for r in rows:
        out.setdefault(str(r["r"]), _record(r))
    return sorted(out.values(), key=lambda x: (x.source, x.id))


def _record(r: Row) -> Record:
    ligne = r.get("l")
    return Record(
        iri=str(r["r"]),
        source=str(r["src"]),
        id=str(r["id"]),
        statut=str(r.get("st", "actif")),
        fichier=str(r["f"]) if "f" in r else None,
        feuille=str(r["sh"]) if "sh" in r else None,
        ligne=int(str(ligne)) if ligne is not None and str(ligne).isdigit() else None,
        import_run=str(r["run"]) if "run" in r else None,
        importe_le=str(r["t"]) if "t" in r else None,
    )


def sources_of(store: Store, iris: list[str] | None = None) -> dict[str, list[dict[str, str]]]:
    """The source records each entity derives from (every entity when ``iris`` is None): ``{iri: [{source, id,
    statut}]}``, by source and id."""
    values = f"VALUES ?e {{ {iri_values(iris)} }}" if iris else ""
    rows = store.select(
        f"""SELECT DISTINCT ?e ?src ?id ?st WHERE {{ {values}
            GRAPH ?g {{ ?e <{PROV.wasDerivedFrom}> ?r }}
            GRAPH ?h {{ ?r <{CAP.source}> ?src ; <{CAP.identifiantSource}> ?id .
                        OPTIONAL {{ ?r <{CAP.statutEnregistrement}> ?st }} }} }}"""
    )
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        out.setdefault(str(r["e"]), []).append(
            {"source": str(r["src"]), "id": str(r["id"]), "statut": str(r.get("st", "actif"))}
        )
    for found in out.values():
        found.sort(key=lambda x: (x["source"], x["id"]))
    return out


def incoming_links(store: Store, iri: str, per_property: int = 50) -> list[Incoming]:
    """The entities that point to ``iri`` (not provenance), grouped by property: the first ``per_property`` by
    IRI, all counted."""
    rows = store.select("SELECT DISTINCT ?p ?s WHERE { GRAPH ?g { ?s ?p $o } }", o=URIRef(iri))
    grouped: dict[str, list[str]] = {}
    for r in rows:
        if str(r["p"]) not in PLUMBING_LINKS:
            grouped.setdefault(str(r["p"]), []).append(str(r["s"]))
    subject_kinds = kinds(store, [s for subjects in grouped.values() for s in subjects])
    grouped = {p: [s for s in subjects if subject_kinds.get(s) != "provenance"] for p, subjects in grouped.items()}
    grouped = {p: subjects for p, subjects in grouped.items() if subjects}
    shown = {p: sorted(subjects)[:per_property] for p, subjects in grouped.items()}
    found = names(store, [s for subjects in shown.values() for s in subjects])
    return [
        Incoming(
            property=p,
            subjects=[Referrer(iri=s, label=best_name(found.get(s, []))) for s in subjects],
            total=len(grouped[p]),
        )
        for p, subjects in shown.items()
    ]
