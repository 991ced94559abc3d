"""The corpus the search indexes: one :class:`Doc` per published experience, read from the graph.

A document holds what the graph knows of an experience besides its own words: the labels and alt labels of
its ATLAAS services (:class:`Taxonomy`), its technologies with their spellings, its carriers with their size
class and their commune, département and région names (from the territory service, :mod:`territoires`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from kg.store import Store
from ontology import iri as mint
from ontology.namespaces import CAP
from search.analysis import tokens
from search.models import TAILLES
from territoires.referentiel import Territoires, territoire_of_iri, territoires

PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX prov: <{PROV}>
PREFIX dct: <{DCTERMS}>
PREFIX rdfs: <{RDFS}>
PREFIX rdf: <{RDF}>
PREFIX skos: <{SKOS}>
"""


@dataclass
class Doc:
    """What the index keeps of one experience."""

    iri: str
    titre: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # lexical fields (text, repeated values)
    passage: str = ""  # the text the embedder encodes
    extrait: str = ""  # the text extracts are cut from
    date: str | None = None  # ISO date (or year) for sorting
    annee: int | None = None
    porteurs: list[dict[str, str | None]] = field(default_factory=list)
    services: list[dict[str, str]] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)  # notations of its concepts and all their ancestors
    technologies: list[str] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    departements: list[str] = field(default_factory=list)
    tailles: list[str] = field(default_factory=list)

    @property
    def passage_hash(self) -> str:
        return hashlib.sha256(self.passage.encode()).hexdigest()

    def payload(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "titre": self.titre,
            "extrait": self.extrait,
            "annee": self.annee,
            "date": self.date,
            "porteurs": self.porteurs,
            "services": self.services,
            "technologies": self.technologies,
            "sources": self.sources,
        }

    def facet_values(self) -> dict[str, list[str]]:
        return {
            "concept": self.concepts,
            "region": self.regions,
            "departement": self.departements,
            "taille": self.tailles,
            "annee": [str(self.annee)] if self.annee is not None else [],
            "technologie": self.technologies,
            "source": sorted({s["source"] for s in self.sources}),
        }


def local_key(iri: str) -> str:
    """The last path segment of an IRI (``vi-1024`` of ``…/experience/vi-1024``)."""
    return iri.rsplit("/", 1)[-1]


def _year(value: str) -> int | None:
    match = re.match(r"^(\d{4})", value.strip())
    return int(match.group(1)) if match else None


def taille_of(kind: str, population: int | None) -> str | None:
    """Size class of a carrier from its class (local name) and population."""
    if kind == "Commune":
        if population is None:
            return None
        if population < 2_000:
            return "village"
        if population < 20_000:
            return "petite-ville"
        if population <= 100_000:
            return "ville-moyenne"
        return "grande-ville"
    return {
        "Intercommunalite": "epci",
        "Departement": "departement",
        "Region": "region",
        "StructureMutualisation": "mutualisation",
    }.get(kind)


def notation_order(n: str) -> tuple[int, int, str]:
    """Sort key of ATLAAS notations: axes, enjeux and usages by text, then services by number (S2 < S10)."""
    if n.startswith("S") and n[1:].isdigit():
        return (1, int(n[1:]), "")
    return (0, 0, n)


# --- the taxonomy ------------------------------------------------------------------------------------------


@dataclass
class Taxonomy:
    """The ATLAAS scheme as the search needs it: labels, synonyms and the broader chain."""

    label: dict[str, str]  # notation -> prefLabel@fr
    alt: dict[str, list[str]]  # notation -> altLabels@fr
    broader: dict[str, str]  # notation -> parent notation
    by_iri: dict[str, str]  # concept IRI -> notation

    def ancestors(self, notation: str) -> list[str]:
        out = [notation]
        seen = {notation}
        while notation in self.broader and self.broader[notation] not in seen:
            notation = self.broader[notation]
            seen.add(notation)
            out.append(notation)
        return out

    def phrases(self) -> list[tuple[str, tuple[str, ...], float]]:
        """(notation, stems of a label, weight) for every label and alt label; alt labels weigh less."""
        out: list[tuple[str, tuple[str, ...], float]] = []
        for notation, label in self.label.items():
            for text, weight in [(label, 1.0), *((a, 0.8) for a in self.alt.get(notation, []))]:
                stems = tuple(dict.fromkeys(tokens(text)))
                if stems:
                    out.append((notation, stems, weight))
        return out


def load_taxonomy(store: Store) -> Taxonomy:
    """The ATLAAS service scheme of the graph: French labels and alt labels, broader links."""
    rows = store.select(
        f"""PREFIX skos: <{SKOS}>
        SELECT ?c ?n ?p ?l WHERE {{ GRAPH ?g {{
            ?c skos:inScheme <{mint.SERVICE_SCHEME}> ; skos:notation ?n ; ?p ?l .
            VALUES ?p {{ skos:prefLabel skos:altLabel skos:broader }} }} }}"""
    )
    label: dict[str, str] = {}
    alt: dict[str, list[str]] = defaultdict(list)
    broader_iri: dict[str, str] = {}
    by_iri: dict[str, str] = {}
    for r in rows:
        notation = str(r["n"])
        by_iri[str(r["c"])] = notation
        p, value = str(r["p"]), r["l"]
        lang = getattr(value, "language", None)
        if p.endswith("prefLabel") and lang in (None, "fr"):
            label[notation] = str(value)
        elif p.endswith("altLabel") and lang in (None, "fr"):
            if str(value) not in alt[notation]:
                alt[notation].append(str(value))
        elif p.endswith("broader"):
            broader_iri[notation] = str(value)
    broader = {n: by_iri[b] for n, b in broader_iri.items() if b in by_iri}
    for n in alt:
        alt[n].sort()
    return Taxonomy(label, dict(alt), broader, by_iri)


def store_signature(store: Store) -> str:
    """A fingerprint of what was imported (import runs and their times), to tell a stale index."""
    rows = store.select(
        f"""SELECT (COUNT(?run) AS ?n) (MAX(STR(?t)) AS ?last) WHERE {{ GRAPH ?g {{
            ?run a <{CAP.ImportRun}> . OPTIONAL {{ ?run <{PROV.endedAtTime}> ?t }} }} }}"""
    )
    r = rows[0] if rows else {}
    return f"{r.get('n', 0)}|{r.get('last', '')}"


# --- the documents -----------------------------------------------------------------------------------------

_TEXT_FIELDS = {
    str(DCTERMS.title): "titre",
    str(DCTERMS.alternative): "alternative",
    str(CAP.sousTitre): "sousTitre",
    str(CAP.synthese): "synthese",
    str(CAP.resume): "resume",
    str(CAP.actions): "actions",
    str(CAP.resultats): "resultats",
    str(CAP.recommandations): "recommandations",
    str(DCTERMS.description): "description",
}
_VI_GRAPH = str(mint.graph("villes-internet"))
_TYPE, _EXPERIENCE = str(RDF.type), str(CAP.Experience)
_TAG = re.compile(r"<[^>]+>")

Record = tuple[str, str, str]  # (source, source id, status)
Texts = dict[str, list[tuple[bool, str]]]  # field -> (from Villes Internet?, cleaned text)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _TAG.sub(" ", text).replace("&nbsp;", " ")).strip()


@dataclass
class _Values:
    """What the graph says of the live experiences: texts, dates and links (porteur, service…) of each."""

    texts: dict[str, Texts] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    dates: dict[str, list[tuple[bool, str]]] = field(default_factory=lambda: defaultdict(list))
    links: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))


@dataclass
class _Enrichment:
    """What a document is enriched with: the taxonomy, the carriers, the technologies and the territories."""

    taxonomy: Taxonomy
    agents: dict[str, dict[str, Any]]
    techs: dict[str, dict[str, Any]]
    geo: Territoires


#: Experiences read from the graph per query when documents are streamed (:func:`iter_docs`): the texts of one
#: batch are held at a time, not those of the whole corpus.
DOC_BATCH = 5_000


def collect_docs(store: Store) -> list[Doc]:
    """Read every experience that is still published (one active source record at least) from the graph."""
    records = live_experiences(store)
    return [d for batch in iter_docs(store, list(records), records) for d in batch]


def live_experiences(store: Store) -> dict[str, list[Record]]:
    """The experiences still published (one active source record at least), in IRI order, with their records."""
    records = _source_records(store)
    return {e: records[e] for e in sorted(records) if any(st != "retire" for _, _, st in records[e])}


def enrichment(store: Store, taxonomy: Taxonomy | None = None) -> _Enrichment:
    """What every document is enriched with (read once, shared by all the batches of a corpus); ``taxonomy``: the
    one the caller already read."""
    return _Enrichment(
        taxonomy=taxonomy if taxonomy is not None else load_taxonomy(store),
        agents=_carriers(store), techs=_technologies(store), geo=territoires(),
    )


def iter_docs(
    store: Store, iris: Sequence[str], records: Mapping[str, list[Record]], *, batch: int | None = None,
    taxonomy: Taxonomy | None = None,
) -> Iterator[list[Doc]]:
    """The documents of the experiences ``iris`` (live ones, see :func:`live_experiences`), in that order, batch by
    batch: the texts of ``batch`` experiences are read by one query and held at a time. ``taxonomy``: the one the
    caller already read (else it is read here)."""
    if not iris:
        return
    enrich = enrichment(store, taxonomy)
    batch = batch or DOC_BATCH
    for lo in range(0, len(iris), batch):
        chunk = iris[lo : lo + batch]
        values = _experience_values(store, chunk)
        yield [_doc(e, values, records[e], enrich) for e in chunk]


def _source_records(store: Store) -> dict[str, list[Record]]:
    """The source records of every experience, with their status (``actif`` unless said otherwise)."""
    records: dict[str, list[Record]] = defaultdict(list)
    for r in store.select(
        PREFIXES
        + """SELECT DISTINCT ?e ?src ?id ?st WHERE {
            GRAPH ?g { ?e a cap:Experience ; prov:wasDerivedFrom ?r }
            GRAPH ?h { ?r cap:source ?src ; cap:identifiantSource ?id .
                       OPTIONAL { ?r cap:statutEnregistrement ?st } } }"""
    ):
        records[str(r["e"])].append((str(r["src"]), str(r["id"]), str(r.get("st", "actif"))))
    return records


def _experience_values(store: Store, experiences: Sequence[str]) -> _Values:
    """Texts (cleaned of markup), dates and links of the given experiences, each value with its graph (only the
    graphs that type them as experiences).

    The experiences are bound first (``VALUES``) and the properties filtered, types included: Oxigraph then reads
    each experience's statements by subject. (Joined with a ``VALUES ?p`` list, or with ``?e a cap:Experience``,
    it scans every experience's statements instead, for each batch: 100 s for 2,000 experiences in a store of
    100,000.)
    """
    out = _Values()
    wanted = " ".join(f"<{e}>" for e in experiences)
    rows = store.select(
        PREFIXES
        + f"""SELECT ?e ?g ?p ?o WHERE {{ VALUES ?e {{ {wanted} }} GRAPH ?g {{ ?e ?p ?o .
            FILTER(?p IN (rdf:type, dct:title, dct:alternative, cap:sousTitre, cap:synthese, cap:resume, cap:actions,
                          cap:resultats, cap:recommandations, dct:description, dct:date, cap:dateDebut, cap:porteur,
                          cap:service, cap:technologie, cap:territoire)) }} }}"""
    )
    typed = {(str(r["e"]), str(r["g"])) for r in rows if str(r["p"]) == _TYPE and str(r["o"]) == _EXPERIENCE}
    for r in rows:
        e, g, p = str(r["e"]), str(r["g"]), str(r["p"])
        if p == _TYPE or (e, g) not in typed:
            continue
        o, vi = r["o"], g == _VI_GRAPH
        if p in _TEXT_FIELDS:
            out.texts[e][_TEXT_FIELDS[p]].append((vi, _clean(str(o))))
        elif p.endswith("/date") or p.endswith("#dateDebut"):
            out.dates[e].append((vi, str(o)))
        else:
            out.links[e][p.rsplit("#", 1)[-1]].add(str(o))
    return out


def _carriers(store: Store) -> dict[str, dict[str, Any]]:
    """Classes, name, population, codes and territories of every carrier of an experience."""
    agents: dict[str, dict[str, Any]] = defaultdict(lambda: {"types": set(), "territoires": set()})
    for r in store.select(
        PREFIXES
        + """SELECT DISTINCT ?a ?p ?o WHERE { GRAPH ?g { ?e a cap:Experience ; cap:porteur ?a }
            GRAPH ?h { ?a ?p ?o .
                       VALUES ?p { rdf:type rdfs:label cap:population cap:codeInsee cap:siren cap:territoire } } }"""
    ):
        a, p, o = str(r["a"]), str(r["p"]), r["o"]
        info = agents[a]
        if p.endswith("#type"):
            info["types"].add(str(o).rsplit("#", 1)[-1])
        elif p.endswith("#label"):
            info.setdefault("nom", str(o))
        elif p.endswith("population"):
            with contextlib.suppress(ValueError):
                info["population"] = int(str(o))
        elif p.endswith("codeInsee"):
            info["insee"] = str(o)
        elif p.endswith("siren"):
            info["siren"] = str(o)
        elif p.endswith("territoire"):
            info["territoires"].add(str(o))
    return agents


def _technologies(store: Store) -> dict[str, dict[str, Any]]:
    """Preferred label, alt labels (spellings) and rdfs label of every technology of an experience."""
    techs: dict[str, dict[str, Any]] = defaultdict(lambda: {"alt": set()})
    for r in store.select(
        PREFIXES
        + """SELECT DISTINCT ?t ?p ?l WHERE { GRAPH ?g { ?e a cap:Experience ; cap:technologie ?t }
            GRAPH ?h { ?t ?p ?l . VALUES ?p { skos:prefLabel skos:altLabel rdfs:label } } }"""
    ):
        t, p = str(r["t"]), str(r["p"])
        if p.endswith("prefLabel"):
            techs[t]["label"] = str(r["l"])
        elif p.endswith("altLabel"):
            techs[t]["alt"].add(str(r["l"]))
        else:
            techs[t].setdefault("rdfs", str(r["l"]))
    return techs


def _first(texts: Texts, name: str) -> str:
    """The value of a field, the Villes Internet one first (then the smallest)."""
    values = sorted(texts.get(name, []), key=lambda item: (not item[0], item[1]))
    return values[0][1] if values else ""


def _all_of(texts: Texts, name: str) -> list[str]:
    """Every distinct value of a field, the Villes Internet ones first (each part in text order: the same in
    every process, whatever order the store answers in)."""
    ordered = sorted(texts.get(name, []), key=lambda item: (not item[0], item[1]))
    return list(dict.fromkeys(text for _, text in ordered if text))


@dataclass
class _Carried:
    """What an experience's carriers and territories give it: display refs, facets and place names."""

    porteurs: list[dict[str, str | None]] = field(default_factory=list)
    tailles: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    deps: set[str] = field(default_factory=set)
    lieux: list[str] = field(default_factory=list)

    def place(self, geo: Territoires, territory: str) -> None:
        """Add the départements, régions and place names of a territory IRI (nothing for another IRI)."""
        found = territoire_of_iri(territory)
        if found is None:
            return
        d, rg, names = geo.lieux(*found)
        self.deps |= d
        self.regions |= rg
        self.lieux.extend(names)


def _carried(linked: dict[str, set[str]], enrich: _Enrichment) -> _Carried:
    out = _Carried()
    for a in sorted(linked.get("porteur", ())):
        info = enrich.agents.get(a, {"types": set(), "territoires": set()})
        nom = info.get("nom") or local_key(a)
        out.porteurs.append({"iri": a, "nom": nom, "insee": info.get("insee"), "siren": info.get("siren")})
        out.lieux.append(nom)
        for kind in info["types"]:
            taille = taille_of(kind, info.get("population"))
            if taille:
                out.tailles.add(taille)
        for terr in sorted(info["territoires"]):  # sorted: the place names in the same order in every process
            out.place(enrich.geo, terr)
    for terr in sorted(linked.get("territoire", ())):
        out.place(enrich.geo, terr)
    return out


def _technology_words(linked: dict[str, set[str]], techs: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(labels, labels each followed by its alt labels) of an experience's technologies."""
    labels, spellings = [], []
    for tnode in sorted(linked.get("technologie", ())):
        info = techs.get(tnode, {"alt": set()})
        label = info.get("label") or info.get("rdfs") or local_key(tnode)
        labels.append(label)
        spellings.extend([label, *sorted(info["alt"])])
    return labels, spellings


def _service_words(notations: Iterable[str], taxonomy: Taxonomy) -> list[str]:
    """Labels and alt labels of each service (or usage) and of its parent: not the broad axes."""
    out = []
    for n in notations:
        for a in taxonomy.ancestors(n)[:2]:
            out.append(taxonomy.label.get(a, ""))
            out.extend(taxonomy.alt.get(a, []))
    return [w for w in out if w]


def _date(dates: list[tuple[bool, str]]) -> str | None:
    """The earliest Villes Internet date when there is one, else the earliest of the others."""
    vi_dates = [v for vi, v in dates if vi] or [v for _, v in dates]
    return min(vi_dates) if vi_dates else None


def _doc(e: str, values: _Values, records: list[Record], enrich: _Enrichment) -> Doc:
    """One experience's document: its title and texts, what its links add, its facet values."""
    t = values.texts[e]
    linked = values.links[e]
    taxonomy = enrich.taxonomy
    titre = _first(t, "titre") or _first(t, "alternative") or local_key(e)
    alternatives = [x for x in _all_of(t, "titre") + _all_of(t, "alternative") if x != titre]
    notations = sorted({taxonomy.by_iri[c] for c in linked.get("service", ()) if c in taxonomy.by_iri},
                       key=notation_order)
    closure = sorted({a for n in notations for a in taxonomy.ancestors(n)}, key=notation_order)
    carried = _carried(linked, enrich)
    tech_labels, tech_words = _technology_words(linked, enrich.techs)
    date = _date(values.dates.get(e, []))
    resume = _first(t, "synthese") or _first(t, "resume") or _first(t, "description")
    passage = ". ".join(x for x in (titre, _first(t, "sousTitre"), resume) if x)[:1200]
    extrait = " ".join(x for x in (resume, _first(t, "actions"), _first(t, "resultats")) if x)
    fields = {
        "titre": [titre],
        "alternative": alternatives,
        **{name: _all_of(t, name) for name in (
            "sousTitre", "synthese", "resume", "actions", "resultats", "recommandations", "description")},
        "services": _service_words(notations, taxonomy),
        "technologies": tech_words,
        "lieux": list(dict.fromkeys(carried.lieux)),
    }
    return Doc(
        iri=e,
        titre=titre,
        fields=fields,
        passage=passage,
        extrait=extrait,
        date=date,
        annee=_year(date) if date else None,
        porteurs=carried.porteurs,
        services=[{"notation": n, "label": taxonomy.label.get(n, n)} for n in notations],
        concepts=closure,
        technologies=sorted(set(tech_labels)),
        sources=[{"source": s, "id": i} for s, i, st in sorted(records) if st != "retire"],
        regions=sorted(carried.regions),
        departements=sorted(carried.deps),
        tailles=sorted(carried.tailles, key=list(TAILLES).index),
    )
