"""Parrainage: which experienced collectivities could sponsor a given one on a given need, and grappes.

Recommendation #7 of the 2015 report: larger collectivities with the engineering and the achievements
sponsor smaller ones, case by case or in clusters (*grappes*). How :func:`match` answers:

1. **the filleul** is resolved from an INSEE code, a SIREN or an IRI against the COG referential (its
   population, EPCI, département, région and town-hall point);
2. **relevance**: every experience gets a similarity in [0, 1] to the need — the hybrid search ranking
   (:func:`search.engine.rank`: dense + lexical + taxonomy feedback, normalised by the best match) for a text,
   or the taxonomy for service notations (1.0 for the concept and its descendants, 0.5 / 0.3 for an
   experience classified only at the parent / grand-parent level); both given: the larger of the two;
3. **carriers** (``cap:porteur``) of relevant experiences are aggregated: best similarity, soft count;
4. **roles**: *parrain* (at least ``match_ratio`` times as populous), *structure* (a structure de
   mutualisation whose départements cover the filleul's), *parrain naturel* (the EPCI the commune belongs
   to, whatever its size), *pair* (comparable size, only from other régions when nothing larger exists);
   the filleul itself is never proposed;
5. **scope**: the filleul's région (its EPCI and département score higher); beyond it only when nothing fits
   inside, or when the filleul is the most populous collectivity of its région — the answer says so;
6. **score**: a weighted sum of six components (settings ``match_poids_*``), each kept in the answer with
   French sentences naming the experiences, the size ratio and the distance.

Per-carrier data (population, territory, EPCI, départements, point, the experience→carrier pairs) is built
once per process and store content (cache keyed on the store signature and the search index), so that a
match costs a few vector operations, even at 100,000 experiences.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from kg.errors import InvalidInput, NotFound
from kg.store import Store

__all__ = [
    "Composantes",
    "Couverture",
    "ExperienceRef",
    "Filleul",
    "Grappe",
    "GrappesResult",
    "MatchResult",
    "MembreGrappe",
    "Sponsor",
    "grappes",
    "match",
    "prepare",
    "reset_cache",
    "resolve_collectivite",
]

CAP = "https://w3id.org/capitalis/ontology#"
ID = "https://w3id.org/capitalis/id/"

#: Kinds of carriers, as class local names (the ``type`` of the answers).
KINDS: tuple[str, ...] = ("Commune", "Intercommunalite", "Departement", "Region", "StructureMutualisation")
_COMMUNE, _EPCI, _DEP, _REG, _STRUCT = range(5)
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_NIVEAU_KIND = {"commune": "Commune", "epci": "Intercommunalite", "departement": "Departement", "region": "Region"}

#: Proximity levels, nearest first (``niveau`` of a sponsor).
NIVEAUX: tuple[str, ...] = ("intercommunalite", "departement", "region", "hors-region")
_TIER_SCORE = np.asarray([1.0, 0.75, 0.5, 0.0])
#: Size score of a structure de mutualisation (no population): the score of a 10× larger collectivity.
STRUCTURE_TAILLE = 0.5
#: Ratio at which the size score saturates (log scale: 3× → 0.24, 10× → 0.5, 100× → 1).
TAILLE_SATURATION = 100.0
#: Similarity of an experience classified only at the parent / grand-parent level of a requested concept.
ANCESTOR_SIMILARITY = (0.5, 0.3)
#: Experiences named in each answer.
EXPERIENCES_SHOWN = 3

# --- models ---------------------------------------------------------------------------------------------


class ExperienceRef(BaseModel):
    iri: str
    titre: str
    similarite: float = Field(description="Similarité de l'expérience au besoin, de 0 à 1.")
    annee: int | None = None


class Composantes(BaseModel):
    """Each part of the score, in [0, 1]; ``charge`` is a penalty (0 = no sponsorship under way)."""

    pertinence: float
    experience: float
    taille: float
    proximite: float
    technologies: float
    charge: float


class Filleul(BaseModel):
    iri: str
    nom: str
    type: str
    population: int | None
    insee: str | None = None
    siren: str | None = None
    departement: str | None = None
    region: str | None = None
    epci: str | None = None


class Sponsor(BaseModel):
    iri: str
    nom: str
    type: str
    insee: str | None
    siren: str | None
    population: int | None
    score: float
    composantes: Composantes
    experiences: list[ExperienceRef]
    distance_km: float | None
    explication: list[str]
    role: str = Field(description="parrain, parrain-naturel, structure ou pair.")
    niveau: str = Field(description="intercommunalite, departement, region ou hors-region.")
    ratio: float | None = Field(default=None, description="Population du parrain / population du filleul.")


class MatchResult(BaseModel):
    filleul: Filleul
    besoin: str
    services: list[dict[str, str]] = Field(default_factory=list)
    sponsors: list[Sponsor]
    total: int = Field(description="Nombre de parrains possibles avant --limit.")
    experiences_pertinentes: int = 0
    perimetre: str = Field(description="region, hors-region, region+hors-region ou aucun.")
    message: str | None = None


class MembreGrappe(BaseModel):
    iri: str
    nom: str
    insee: str
    population: int | None
    distance_km: float | None = Field(description="Distance au parrain de la grappe.")
    couvert: bool = Field(description="Le parrain de la grappe peut parrainer cette commune.")


class Couverture(BaseModel):
    membres: int
    total: int
    part: float


class Grappe(BaseModel):
    nom: str
    epci: dict[str, str] | None
    membres: list[MembreGrappe]
    parrain: Sponsor | None
    couverture: Couverture
    explication: list[str]


class GrappesResult(BaseModel):
    departement: dict[str, str]
    besoin: str
    services: list[dict[str, str]] = Field(default_factory=list)
    grappes: list[Grappe]
    communes: int = Field(description="Petites communes du département sans expérience sur le besoin.")
    message: str | None = None


# --- geography (COG referential) ------------------------------------------------------------------------


@dataclass
class _Geo:
    """What the matching needs of the referential, indexed once per process."""

    ref: Any
    dep_codes: list[str]
    dep_pos: dict[str, int]
    reg_codes: list[str]
    reg_pos: dict[str, int]
    epci_pos: dict[str, int]
    epci_deps: dict[str, set[str]]
    region_deps: dict[str, set[str]]
    #: (niveau, code) -> (latitude, longitude) of the most populous commune (the town hall for a commune)
    points: dict[tuple[str, str], tuple[float, float]]
    #: département -> population of its most populous commune (to pick a structure's seat)
    seat_population: dict[str, int]
    _territories: dict[tuple[str, str], tuple[set[str], set[str], str | None]] = field(default_factory=dict)

    def territory(self, niveau: str, code: str) -> tuple[set[str], set[str], str | None]:
        """Départements, régions and EPCI of a territory (fresh sets: callers may change them)."""
        key = (niveau, code)
        found = self._territories.get(key)
        if found is None:
            found = self._territory(niveau, code)
            self._territories[key] = found
        return set(found[0]), set(found[1]), found[2]

    def _territory(self, niveau: str, code: str) -> tuple[set[str], set[str], str | None]:
        ref = self.ref
        if niveau == "commune" and code in ref.communes:
            c = ref.communes[code]
            return {c.departement}, {c.region}, c.epci_siren
        if niveau == "epci":
            deps = set(self.epci_deps.get(code, set()))
            return deps, self.regions_of(deps), code
        if niveau == "departement" and code in ref.departements:
            return {code}, {ref.departements[code].region}, None
        if niveau == "region" and code in ref.regions:
            return set(self.region_deps.get(code, set())), {code}, None
        return set(), set(), None

    def regions_of(self, deps: Iterable[str]) -> set[str]:
        return {self.ref.departements[d].region for d in deps if d in self.ref.departements}

    def point_of_deps(self, deps: Iterable[str]) -> tuple[float, float] | None:
        """The most populous commune of a set of départements (a structure's seat, approximately)."""
        seats = [(self.seat_population[d], d) for d in deps if d in self.seat_population]
        return self.points[("departement", max(seats)[1])] if seats else None


@lru_cache(maxsize=1)
def _geo() -> _Geo:
    from ingest.territories import load_referentiel

    ref = load_referentiel()
    dep_codes = sorted(ref.departements)
    reg_codes = sorted(ref.regions)
    epci_deps: dict[str, set[str]] = defaultdict(set)
    region_deps: dict[str, set[str]] = defaultdict(set)
    for d in ref.departements.values():
        region_deps[d.region].add(d.code)
    best: dict[tuple[str, str], tuple[int, float, float]] = {}
    points: dict[tuple[str, str], tuple[float, float]] = {}
    for c in ref.communes.values():
        if c.epci_siren:
            epci_deps[c.epci_siren].add(c.departement)
        if c.latitude is None or c.longitude is None:
            continue
        points[("commune", c.code_insee)] = (c.latitude, c.longitude)
        pop = c.population or 0
        for key in (("epci", c.epci_siren), ("departement", c.departement), ("region", c.region)):
            if key[1] and (key not in best or pop > best[key][0]):
                best[key] = (pop, c.latitude, c.longitude)  # type: ignore[index]
    for key, (_, lat, lon) in best.items():
        points[key] = (lat, lon)
    return _Geo(
        ref=ref,
        dep_codes=dep_codes,
        dep_pos={c: i for i, c in enumerate(dep_codes)},
        reg_codes=reg_codes,
        reg_pos={c: i for i, c in enumerate(reg_codes)},
        epci_pos={s: i for i, s in enumerate(sorted(ref.epci))},
        epci_deps=dict(epci_deps),
        region_deps=dict(region_deps),
        points=points,
        seat_population={code: pop for (niveau, code), (pop, _, _) in best.items() if niveau == "departement"},
    )


_TERRITORY = re.compile(r"/id/(commune|epci|departement|region)/([^/]+)$")


def _territory_of(iri: str) -> tuple[str, str] | None:
    m = _TERRITORY.search(iri)
    return (m.group(1), m.group(2)) if m else None


def haversine(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) from one point to many (NaN where a point is unknown)."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - math.radians(lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# --- the parties ----------------------------------------------------------------------------------------


@dataclass
class _Party:
    """A collectivity as the matching sees it (the filleul, a grappe member)."""

    iri: str
    nom: str
    kind: str
    population: int | None
    deps: set[str]
    regions: set[str]
    epci: str | None
    lat: float | None
    lon: float | None
    insee: str | None = None
    siren: str | None = None

    def filleul(self) -> Filleul:
        return Filleul(
            iri=self.iri, nom=self.nom, type=self.kind, population=self.population, insee=self.insee,
            siren=self.siren, departement=next(iter(sorted(self.deps)), None) if len(self.deps) == 1 else None,
            region=next(iter(sorted(self.regions)), None) if len(self.regions) == 1 else None, epci=self.epci,
        )


def _party(niveau: str, code: str, field_name: str = "--collectivite") -> _Party:
    """A collectivity of the referential by level and code (NotFound when the referential lacks it)."""
    from ontology import iri as mint

    geo = _geo()
    ref = geo.ref
    table = {"commune": ref.communes, "epci": ref.epci, "departement": ref.departements, "region": ref.regions}
    what = {"commune": "commune de code INSEE", "epci": "intercommunalité de SIREN",
            "departement": "département de code", "region": "région de code"}
    record = table[niveau].get(code)
    if record is None:
        raise NotFound(f"{field_name} : aucune {what[niveau]} {code} dans le référentiel territorial (COG 2025)")
    deps, regions, epci = geo.territory(niveau, code)
    point = geo.points.get((niveau, code))
    return _Party(
        iri=str(mint.collectivite(niveau, code)),
        nom=record.nom,
        kind=_NIVEAU_KIND[niveau],
        population=record.population,
        deps=deps,
        regions=regions,
        epci=epci,
        lat=point[0] if point else None,
        lon=point[1] if point else None,
        insee=code if niveau != "epci" else None,
        siren=code if niveau == "epci" else None,
    )


_COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_DEP_CODE = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")


def resolve_collectivite(code: str, *, field_name: str = "--collectivite") -> tuple[str, str]:
    """(niveau, code) of a collectivity named by an INSEE code, a SIREN, ``dep-XX``/``reg-XX`` or an IRI.

    A 5-character code is a commune, 2 or 3 characters a département (use ``reg-XX`` or the IRI for a
    région: their codes overlap), 9 digits an EPCI. Raises InvalidInput on a malformed value, NotFound when
    the referential has no such collectivity.
    """
    value = (code or "").strip()
    if not value:
        raise InvalidInput(f"{field_name} : indiquez un code INSEE, un SIREN ou une IRI de collectivité")
    if value.startswith(("http://", "https://")):
        if "/id/structure/" in value:
            raise InvalidInput(
                f"{field_name} : {value} est une structure de mutualisation ; un filleul est une collectivité"
            )
        m = re.search(r"/id/collectivite/([^/]+)$", value)
        if m:
            value = m.group(1)
        else:
            terr = _territory_of(value)
            if terr is None:
                raise InvalidInput(f"{field_name} : {value} n'est pas l'IRI d'une collectivité (…/id/collectivite/…)")
            niveau, key = terr
            _party(niveau, key, field_name)
            return niveau, key
    upper = value.upper()
    if upper.startswith(("DEP-", "REG-")):
        niveau = "departement" if upper.startswith("DEP-") else "region"
        key = upper[4:]
        if (niveau == "departement" and not _DEP_CODE.match(key)) or (niveau == "region" and not key.isdigit()):
            raise InvalidInput(f"{field_name} : code invalide {value!r}")
        key = key.zfill(2)
    elif re.fullmatch(r"\d{9}", upper):
        niveau, key = "epci", upper
    elif _COMMUNE_CODE.match(upper):
        niveau, key = "commune", upper
    elif _DEP_CODE.match(upper):
        niveau, key = "departement", upper
    elif re.fullmatch(r"\d{4}", upper):  # a commune code whose leading zero a spreadsheet dropped
        niveau, key = "commune", upper.zfill(5)
    else:
        raise InvalidInput(
            f"{field_name} : {value!r} n'est ni un code INSEE (commune : 5 caractères, département : 2 ou 3), "
            "ni un SIREN (9 chiffres), ni dep-XX / reg-XX, ni une IRI de collectivité"
        )
    _party(niveau, key, field_name)
    return niveau, key


# --- per-carrier data, built once per store content -------------------------------------------------------


@dataclass
class _Table:
    """Every carrier of an indexed experience, as arrays (one row per carrier)."""

    iris: list[str]
    noms: list[str]
    insee: list[str | None]
    siren: list[str | None]
    kind: np.ndarray  # int8, index in KINDS
    pop: np.ndarray  # float64, NaN when unknown
    lat: np.ndarray
    lon: np.ndarray
    dep: np.ndarray  # bool (carriers × départements)
    reg: np.ndarray  # bool (carriers × régions)
    epci: np.ndarray  # int32 EPCI id (own for an EPCI, its EPCI for a commune), -1 otherwise
    pair_doc: np.ndarray  # int32, sorted by carrier
    pair_carrier: np.ndarray  # int32
    ptr: np.ndarray  # int64, pairs of carrier k are pair_doc[ptr[k]:ptr[k+1]]
    position: dict[str, int]
    taxonomy: Any
    children: dict[str, list[str]]
    deps_of: list[frozenset[str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.iris)

    def docs_of(self, k: int) -> np.ndarray:
        return self.pair_doc[self.ptr[k] : self.ptr[k + 1]]


_PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def _build_table(store: Store, index: Any) -> _Table:
    from search.engine import load_taxonomy

    geo = _geo()
    ref = geo.ref
    position = index.position
    pairs: list[tuple[int, str]] = []
    query = "SELECT DISTINCT ?e ?a WHERE { GRAPH ?g { ?e a cap:Experience ; cap:porteur ?a } }"
    for e, a, _ in _solutions(store, query):
        i = position.get(e)
        if i is not None:
            pairs.append((i, a))
    info: dict[str, dict[str, Any]] = defaultdict(lambda: {"types": set(), "territoires": set(), "labels": []})
    carriers = {a for _, a in pairs}
    # Every collectivity and structure of the graph, then only the carriers are kept: joining on the
    # experiences in SPARQL costs five times more at 100k experiences.
    for r in _solutions(
        store,
        """SELECT ?a ?p ?o WHERE {
            VALUES ?t { cap:Commune cap:Intercommunalite cap:Departement cap:Region cap:StructureMutualisation }
            GRAPH ?g { ?a a ?t }
            GRAPH ?h { ?a ?p ?o . VALUES ?p { rdf:type rdfs:label cap:population cap:codeInsee cap:siren
                                              cap:territoire } } }""",
    ):
        a, p = r[0], r[1]
        if a not in carriers:
            continue
        d = info[a]
        value, lang = _term(r[2])
        if p.endswith("#type"):
            d["types"].add(value.rsplit("#", 1)[-1])
        elif p.endswith("#label"):
            d["labels"].append((lang != "fr", value))
        elif p.endswith("#population"):
            with contextlib.suppress(ValueError):
                d["population"] = int(value)
        elif p.endswith("#codeInsee"):
            d["insee"] = value
        elif p.endswith("#siren"):
            d["siren"] = value
        elif p.endswith("#territoire"):
            d["territoires"].add(value)

    iris: list[str] = []
    rows: list[dict[str, Any]] = []
    for a in sorted(info):
        d = info[a]
        kind = next((k for k in KINDS if k in d["types"]), None)
        if kind is None:  # an organisation or an unresolved carrier: not a possible sponsor
            continue
        deps: set[str] = set()
        regions: set[str] = set()
        epci: str | None = None
        point: tuple[float, float] | None = None
        code: str | None = None
        for t in sorted(d["territoires"]):
            terr = _territory_of(t)
            if terr is None:
                continue
            niveau, c = terr
            tdeps, tregs, tepci = geo.territory(niveau, c)
            deps |= tdeps
            regions |= tregs
            if kind != "StructureMutualisation":
                epci = epci or tepci
                code = code or c
                point = point or geo.points.get((niveau, c))
        if kind == "StructureMutualisation":
            point = geo.point_of_deps(deps)
        elif code is None:  # no territory link: fall back on the codes the node carries
            niveau = "commune" if kind == "Commune" else "epci" if kind == "Intercommunalite" else None
            c = d.get("insee") if niveau == "commune" else d.get("siren")
            if niveau and c:
                deps, regions, epci = geo.territory(niveau, c)
                point = geo.points.get((niveau, c))
                code = c
        population = d.get("population")
        if population is None and code is not None and kind != "StructureMutualisation":
            niveau = {v: k for k, v in _NIVEAU_KIND.items()}[kind]
            record = {"commune": ref.communes, "epci": ref.epci, "departement": ref.departements,
                      "region": ref.regions}[niveau].get(code)
            population = getattr(record, "population", None)
        nom = sorted(d["labels"])[0][1] if d["labels"] else a.rsplit("/", 1)[-1]
        insee = d.get("insee") or (code if kind in ("Departement", "Region") else None)
        iris.append(a)
        rows.append({"nom": nom, "kind": kind, "pop": population, "deps": deps, "regions": regions,
                     "epci": epci, "point": point, "insee": insee, "siren": d.get("siren")})

    n = len(iris)
    pos = {a: k for k, a in enumerate(iris)}
    dep = np.zeros((n, len(geo.dep_codes)), bool)
    reg = np.zeros((n, len(geo.reg_codes)), bool)
    for k, row in enumerate(rows):
        for d_ in row["deps"]:
            if d_ in geo.dep_pos:
                dep[k, geo.dep_pos[d_]] = True
        for r_ in row["regions"]:
            if r_ in geo.reg_pos:
                reg[k, geo.reg_pos[r_]] = True
    kept = sorted((pos[a], i) for i, a in pairs if a in pos)
    pair_carrier = np.asarray([k for k, _ in kept], np.int32)
    pair_doc = np.asarray([i for _, i in kept], np.int32)
    ptr = np.zeros(n + 1, np.int64)
    if n:
        np.cumsum(np.bincount(pair_carrier, minlength=n), out=ptr[1:])
    taxonomy = load_taxonomy(store)
    children: dict[str, list[str]] = defaultdict(list)
    for child, parent in taxonomy.broader.items():
        children[parent].append(child)
    return _Table(
        iris=iris,
        noms=[r["nom"] for r in rows],
        insee=[r["insee"] for r in rows],
        siren=[r["siren"] for r in rows],
        kind=np.asarray([_KIND_CODE[r["kind"]] for r in rows], np.int8),
        pop=np.asarray([np.nan if r["pop"] is None else float(r["pop"]) for r in rows], np.float64),
        lat=np.asarray([r["point"][0] if r["point"] else np.nan for r in rows], np.float64),
        lon=np.asarray([r["point"][1] if r["point"] else np.nan for r in rows], np.float64),
        dep=dep,
        reg=reg,
        epci=np.asarray([geo.epci_pos.get(r["epci"], -1) if r["epci"] else -1 for r in rows], np.int32),
        pair_doc=pair_doc,
        pair_carrier=pair_carrier,
        ptr=ptr,
        position=pos,
        taxonomy=taxonomy,
        children=dict(children),
        deps_of=[frozenset(r["deps"]) for r in rows],
    )


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if (m.group(1) or m.group(2))
                       else _SIMPLE_ESCAPES.get(m.group(3), m.group(3)), text)


def _term(cell: str) -> tuple[str, str | None]:
    """(value, language) of one cell of SPARQL TSV results (an IRI ``<…>`` or a literal ``"…"@fr``/``^^<…>``)."""
    if cell.startswith("<"):
        return cell[1:-1], None
    if cell.startswith('"'):
        end = cell.rindex('"')
        rest = cell[end + 1 :]
        return _unescape(cell[1:end]), rest[1:] if rest.startswith("@") else None
    return cell, None  # a bare number or boolean


_IRI_ROW = re.compile(r"^<([^>]*)>\t<([^>]*)>(?:\t(.*))?$", re.MULTILINE)


def _solutions(store: Store, query: str) -> list[tuple[str, str, str]]:
    """The rows of a SELECT of two IRIs (and an optional third term) as SPARQL TSV cells, parsed by one regular
    expression: a fraction of the cost of rdflib terms or JSON objects for the hundreds of thousands of
    solutions of a 100k-experience graph."""
    _, payload = store.query_serialized(_PREFIXES + query, "tsv")
    return _IRI_ROW.findall(payload.decode("utf-8"))


_cache: dict[int, tuple[Any, tuple[Any, ...], _Table]] = {}
_cache_lock = threading.Lock()


def _table(store: Store, index: Any) -> _Table:
    """The carrier table of this store and index, rebuilt when either changes."""
    from search.engine import store_signature

    key = (id(index), index.built_at, index.signature, index.size, store_signature(store))
    with _cache_lock:
        hit = _cache.get(id(store))
        if hit is not None and hit[0]() is store and hit[1] == key:
            return hit[2]
    table = _build_table(store, index)
    with _cache_lock:
        ref = weakref.ref(store)
        if len(_cache) >= 8:
            _cache.clear()
        _cache[id(store)] = (ref, key, table)
    return table


def prepare(store: Store, *, index: Any = None) -> dict[str, int]:
    """Build the carrier table now (at API start-up), so that the first match costs what the next ones do."""
    from search.engine import open_or_build_index

    idx = open_or_build_index(store, index)
    table = _table(store, idx)
    return {"experiences": int(idx.size), "porteurs": table.size, "liens": int(table.pair_doc.size)}


def reset_cache() -> None:
    """Forget the per-store tables (tests that reload a store)."""
    with _cache_lock:
        _cache.clear()



# --- the need ---------------------------------------------------------------------------------------------


@dataclass
class _Need:
    text: str | None
    notations: list[str]
    sim: np.ndarray  # similarity of every indexed experience, 0 when not relevant
    label: str
    services: list[dict[str, str]]


def _check_notations(table: _Table, index: Any, services: Sequence[str]) -> list[str]:
    known = set(table.taxonomy.label) | set(index.facets["concept"].values)
    out: list[str] = []
    for raw in services:
        v = raw.strip()
        v = v.upper() if v[:1] in ("s", "S") else v.lower()
        if not re.fullmatch(r"S\d+|\d(?:[a-z]\d?)?", v):
            raise InvalidInput(f"--service : notation ATLAAS invalide {raw!r} (attendu : S1…S92, 1a3, 2b…)")
        if v not in known:
            raise InvalidInput(f"--service : notation {v!r} inconnue de la taxonomie ATLAAS")
        if v not in out:
            out.append(v)
    return out


def _need(table: _Table, index: Any, besoin: str | None, services: Sequence[str] | None,
          qvec: np.ndarray | None, min_similarity: float = 0.0) -> _Need:
    """Similarity of every experience to the need (text through the search ranking, services by taxonomy)."""
    from search.engine import rank

    text = (besoin or "").strip() or None
    notations = _check_notations(table, index, services or [])
    if text is None and not notations:
        raise InvalidInput("--besoin ou --service : décrivez le besoin en quelques mots ou donnez un service ATLAAS")
    if text is not None and len(text) > 2000:
        raise InvalidInput("--besoin : 2 000 caractères au plus")
    n = index.size
    sim = np.zeros(n, np.float32)
    if text is not None and n:
        scored = rank(index, text, None, qvec=qvec)
        if len(scored.order):
            top = float(scored.score[scored.order].max())
            if top > 0:
                sim[scored.order] = np.clip(scored.score[scored.order] / top, 0, 1)
                sim[sim < min_similarity] = 0.0
    if notations and n:
        concept = index.facets["concept"]
        tax = table.taxonomy
        for notation in notations:
            sim = np.maximum(sim, concept.mask([notation], n).astype(np.float32))
            for depth, ancestor in enumerate(tax.ancestors(notation)[1 : 1 + len(ANCESTOR_SIMILARITY)]):
                if not re.fullmatch(r"\d[a-z]\d?", ancestor):  # never a whole axe
                    continue
                only = concept.mask([ancestor], n) & ~concept.mask(table.children.get(ancestor, []), n)
                sim = np.maximum(sim, only.astype(np.float32) * ANCESTOR_SIMILARITY[depth])
    labels = [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in notations]
    parts = [text] if text else []
    parts += [f"{s['notation']} — {s['label']}" for s in labels]
    return _Need(text, notations, sim, " ; ".join(parts), labels)


@dataclass
class _Aggregate:
    """Per-carrier relevance of one need: the carriers of at least one relevant experience."""

    cand: np.ndarray  # carrier ids
    best: np.ndarray  # best similarity per candidate
    soft: np.ndarray  # sum of similarities
    count: np.ndarray  # relevant experiences
    relevant: int  # relevant experiences overall
    rel_pairs: np.ndarray  # pair positions of relevant experiences


def _aggregate(table: _Table, need: _Need) -> _Aggregate:
    sims = need.sim[table.pair_doc] if table.pair_doc.size else np.zeros(0, np.float32)
    rel = np.flatnonzero(sims > 0)
    carriers = table.pair_carrier[rel]
    values = sims[rel]
    n = table.size
    best = np.zeros(n, np.float32)
    np.maximum.at(best, carriers, values)
    soft = np.bincount(carriers, weights=values, minlength=n)
    count = np.bincount(carriers, minlength=n)
    cand = np.flatnonzero(best > 0)
    return _Aggregate(cand, best[cand], soft[cand], count[cand], int((need.sim > 0).sum()), rel)


# --- evaluation of the carriers for one filleul -------------------------------------------------------------


@dataclass
class _Weights:
    pertinence: float
    experience: float
    taille: float
    proximite: float
    technologies: float
    charge: float
    ratio: float
    distance_km: float

    @classmethod
    def of(cls, settings: Any) -> _Weights:
        return cls(settings.match_poids_pertinence, settings.match_poids_experience, settings.match_poids_taille,
                   settings.match_poids_proximite, settings.match_poids_technologies, settings.match_poids_charge,
                   settings.match_ratio, settings.match_distance_km)


@dataclass
class _Eval:
    """The candidates of one filleul: roles, levels, components, scores and the selection."""

    cand: np.ndarray
    role: np.ndarray  # object: parrain, parrain-naturel, structure, pair, ""
    tier: np.ndarray
    dist: np.ndarray
    ratio: np.ndarray
    comps: dict[str, np.ndarray]
    score: np.ndarray
    selected: np.ndarray  # bool
    extended: bool
    peers: bool
    largest: bool

    def order(self, table: _Table) -> np.ndarray:
        ids = np.flatnonzero(self.selected)
        dist = np.where(np.isnan(self.dist[ids]), np.inf, self.dist[ids])
        names = np.asarray([table.iris[int(self.cand[i])] for i in ids], dtype=object)
        keys = np.lexsort((names, dist, -self.score[ids]))
        return ids[keys]


def _filleul_techs(table: _Table, index: Any, party: _Party) -> set[int]:
    """Technology ids (index facet values) of the experiences the filleul carried itself."""
    k = table.position.get(party.iri)
    if k is None:
        return set()
    tech = index.facets["technologie"]
    return {int(v) for i in table.docs_of(k) for v in tech.of_doc(int(i))}


def _evaluate(table: _Table, index: Any, agg: _Aggregate, party: _Party, w: _Weights, load: np.ndarray,
              rayon: float | None, techs: set[int]) -> _Eval:
    geo = _geo()
    c = agg.cand
    kinds = table.kind[c]
    pop = table.pop[c]
    dep_idx = [geo.dep_pos[d] for d in party.deps if d in geo.dep_pos]
    reg_idx = [geo.reg_pos[r] for r in party.regions if r in geo.reg_pos]
    dep_m = table.dep[c][:, dep_idx].any(axis=1) if dep_idx else np.zeros(len(c), bool)
    reg_m = table.reg[c][:, reg_idx].any(axis=1) if reg_idx else np.zeros(len(c), bool)
    f_epci = geo.epci_pos.get(party.epci, -1) if party.epci else -1
    epci_m = (f_epci >= 0) & (table.epci[c] == f_epci) & ((kinds == _COMMUNE) | (kinds == _EPCI))
    tier = np.where(epci_m, 0, np.where(dep_m, 1, np.where(reg_m, 2, 3))).astype(np.int8)
    if party.kind == "Region":  # what shares a département with a région lies in the région
        tier = np.where(tier < 3, 2, 3).astype(np.int8)
    tier = np.where((kinds == _REG) & (tier < 2), 2, tier).astype(np.int8)  # a région is never "your département"
    if party.lat is not None and party.lon is not None:
        dist = haversine(party.lat, party.lon, table.lat[c], table.lon[c])
    else:
        dist = np.full(len(c), np.nan)
    is_struct = kinds == _STRUCT
    covers = is_struct & dep_m
    natural = (party.kind == "Commune") & (kinds == _EPCI) & epci_m
    if party.population:
        ratio = pop / float(party.population)
        parrain = ~is_struct & ~natural & (ratio >= w.ratio)
        pair = ~is_struct & ~natural & ~parrain & (ratio >= 1.0 / w.ratio)
    else:  # population unknown (Mayotte): any collectivity of known population may sponsor
        ratio = np.full(len(c), np.nan)
        parrain = ~is_struct & ~natural & ~np.isnan(pop)
        pair = np.zeros(len(c), bool)
    self_m = c == table.position.get(party.iri, -1)
    role = np.full(len(c), "", dtype=object)
    role[pair] = "pair"
    role[parrain] = "parrain"
    role[covers] = "structure"
    role[natural] = "parrain-naturel"
    role[self_m] = ""
    valid = role != ""
    within = np.ones(len(c), bool)
    if rayon is not None:
        within = (dist <= rayon) | covers | natural
    in_region = tier <= 2
    fits = valid & within & in_region & (role != "pair")
    region_pop = None
    if len(party.regions) == 1:
        rcode = next(iter(party.regions))
        region_pop = getattr(geo.ref.regions.get(rcode), "population", None)
    largest = bool(party.population and region_pop and region_pop < w.ratio * party.population)
    selected = fits.copy()
    extended = peers = False
    if not fits.any() or largest:
        beyond = valid & within & (tier == 3) & (role == "parrain")
        if not beyond.any():
            beyond = valid & within & (tier == 3) & (role == "pair")
            peers = bool(beyond.any())
        extended = bool(beyond.any())
        selected |= beyond

    # components
    pert = agg.best.astype(np.float64)
    exp = 1.0 - np.power(0.5, agg.soft)
    with np.errstate(divide="ignore", invalid="ignore"):
        taille = np.clip(np.log(ratio) / math.log(TAILLE_SATURATION), 0.0, 1.0)
    taille = np.where(np.isnan(taille), 0.5, taille)
    taille = np.where(is_struct, STRUCTURE_TAILLE, taille)
    decay = np.where(np.isnan(dist), 0.0, np.exp(-np.nan_to_num(dist, nan=0.0) / w.distance_km))
    prox = 0.5 * _TIER_SCORE[tier] + 0.5 * decay
    tech = np.zeros(len(c))
    if techs and len(c):
        facet = index.facets["technologie"]
        wanted = np.zeros(len(facet.values), bool)
        wanted[list(techs)] = True
        doc_has = np.bincount(facet.docs, weights=wanted[facet.vals], minlength=index.size) > 0
        rel = agg.rel_pairs
        hits = np.bincount(table.pair_carrier[rel], weights=doc_has[table.pair_doc[rel]], minlength=table.size)
        tech = hits[c] / np.maximum(agg.count, 1)
    n_load = load[c] if len(load) else np.zeros(len(c))
    charge = n_load / (n_load + 2.0)
    positive = w.pertinence + w.experience + w.taille + w.proximite + w.technologies
    total = (w.pertinence * pert + w.experience * exp + w.taille * taille + w.proximite * prox
             + w.technologies * tech) / (positive or 1.0)
    score = np.clip(total - w.charge * charge, 0.0, 1.0)
    comps = {"pertinence": pert, "experience": exp, "taille": taille, "proximite": prox, "technologies": tech,
             "charge": charge}
    return _Eval(c, role, tier, dist, ratio, comps, score, selected, extended, peers, largest)


# --- sentences ------------------------------------------------------------------------------------------------


def _n(value: float | int) -> str:
    """A French number: thousands separated by a space, a decimal comma."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", " ").replace(".", ",")
    return f"{int(value):,}".replace(",", " ")


def _fois(ratio: float) -> str:
    if ratio >= 10:
        return f"{round(ratio):,}".replace(",", " ")
    return f"{ratio:.1f}".replace(".", ",").removesuffix(",0")


def _km(d: float) -> str:
    return f"{d:.0f}" if d >= 10 else f"{d:.1f}".replace(".", ",")


def _titles(exps: Sequence[ExperienceRef]) -> str:
    parts = [f"« {e.titre} »" + (f" ({e.annee})" if e.annee else "") for e in exps]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def _geo_names(deps: Iterable[str]) -> str:
    ref = _geo().ref
    names = [ref.departements[d].nom for d in sorted(deps) if d in ref.departements]
    return ", ".join(names)


def _sentences(table: _Table, k: int, ev: _Eval, j: int, party: _Party, exps: list[ExperienceRef],
               count: int, shared: list[str], n_load: int, w: _Weights, ratio_min: float) -> list[str]:
    geo = _geo()
    nom = table.noms[k]
    role, tier = ev.role[j], int(ev.tier[j])
    dist = ev.dist[j]
    out: list[str] = []
    more = count - len(exps)
    what = "expérience pertinente" if count == 1 else "expériences pertinentes"
    tail = f" (et {more} autre{'s' if more > 1 else ''})" if more > 0 else ""
    out.append(f"{nom} a mené {count} {what} pour ce besoin : {_titles(exps)}{tail}.")
    pop = table.pop[k]
    ratio = ev.ratio[j]
    if role == "structure":
        covered = sorted(set(table.deps_of[k]) & party.deps)
        out.append(f"Structure de mutualisation dont le territoire couvre celui de {party.nom} "
                   f"({_geo_names(covered)}) : c'est sa mission d'accompagner les collectivités qu'elle couvre.")
    elif role == "parrain-naturel":
        sizes = ""
        if not np.isnan(ratio):
            sizes = f" ({_n(int(pop))} habitants contre {_n(party.population or 0)})"
        out.append(f"{party.nom} est membre de cette intercommunalité : c'est un parrain naturel, "
                   f"quelle que soit sa taille{sizes}.")
    elif role == "pair":
        out.append(f"Collectivité de taille comparable ({_fois(float(ratio))} fois la population de "
                   f"{party.nom}) : un échange entre pairs plutôt qu'un parrainage, faute de collectivité "
                   f"au moins {_fois(ratio_min)} fois plus peuplée ayant mené une telle expérience.")
    elif not np.isnan(ratio):
        out.append(f"Collectivité {_fois(float(ratio))} fois plus peuplée que {party.nom} "
                   f"({_n(int(pop))} habitants contre {_n(party.population or 0)}).")
    else:
        out.append(f"Collectivité de {_n(int(pop))} habitants (population de {party.nom} inconnue).")
    where = {
        0: "dans votre intercommunalité",
        1: "dans votre département" if len(party.deps) == 1 else "dans l'un de vos départements",
        2: "dans votre région",
        3: "hors de votre région",
    }[tier]
    if len(party.regions) == 1 and tier in (2, 3):
        rname = geo.ref.regions[next(iter(party.regions))].nom
        where += f" ({rname})"
    elif tier == 1 and len(party.deps) == 1:
        where += f" ({_geo_names(party.deps)})"
    if np.isnan(dist):
        sentence = f"{where[0].upper()}{where[1:]}."
    elif dist < 1:
        sentence = f"{where[0].upper()}{where[1:]}, à moins d'1 km."
    else:
        sentence = f"{where[0].upper()}{where[1:]}, à {_km(float(dist))} km."
    if tier == 3:
        sentence = sentence[:-1] + (" : aucune collectivité de votre région ne convient." if not ev.largest
                                    else " : votre région ne compte pas de collectivité plus grande.")
    out.append(sentence)
    if shared:
        out.append(f"Outils que {party.nom} utilise déjà : {', '.join(shared)}.")
    if n_load:
        out.append(f"A déjà {n_load} parrainage{'s' if n_load > 1 else ''} proposé{'s' if n_load > 1 else ''}, "
                   f"accepté{'s' if n_load > 1 else ''} ou en cours, ce qui abaisse son score.")
    return out


def _experiences(table: _Table, index: Any, sim: np.ndarray, k: int) -> tuple[list[ExperienceRef], int]:
    docs = table.docs_of(k)
    docs = docs[sim[docs] > 0]
    order = docs[np.lexsort((docs, -sim[docs]))]
    refs = []
    for i in order[:EXPERIENCES_SHOWN]:
        p = index.payload(int(i))
        refs.append(ExperienceRef(iri=p["iri"], titre=p["titre"], similarite=round(float(sim[i]), 4),
                                  annee=p.get("annee")))
    return refs, len(docs)


def _shared_techs(table: _Table, index: Any, sim: np.ndarray, k: int, techs: set[int]) -> list[str]:
    if not techs:
        return []
    facet = index.facets["technologie"]
    docs = table.docs_of(k)
    found = {int(v) for i in docs[sim[docs] > 0] for v in facet.of_doc(int(i))} & techs
    return sorted(facet.values[v] for v in found)


def _sponsor(table: _Table, index: Any, need: _Need, ev: _Eval, j: int, party: _Party, techs: set[int],
             load: np.ndarray, w: _Weights) -> Sponsor:
    k = int(ev.cand[j])
    exps, count = _experiences(table, index, need.sim, k)
    shared = _shared_techs(table, index, need.sim, k, techs)
    n_load = int(load[k]) if len(load) else 0
    pop = table.pop[k]
    ratio = ev.ratio[j]
    dist = ev.dist[j]
    return Sponsor(
        iri=table.iris[k],
        nom=table.noms[k],
        type=KINDS[int(table.kind[k])],
        insee=table.insee[k],
        siren=table.siren[k],
        population=None if np.isnan(pop) else int(pop),
        score=round(float(ev.score[j]), 4),
        composantes=Composantes(**{name: round(float(v[j]), 4) for name, v in ev.comps.items()}),
        experiences=exps,
        distance_km=None if np.isnan(dist) else round(float(dist), 1),
        explication=_sentences(table, k, ev, j, party, exps, count, shared, n_load, w, w.ratio),
        role=str(ev.role[j]),
        niveau=NIVEAUX[int(ev.tier[j])],
        ratio=None if np.isnan(ratio) or ev.role[j] == "structure" else round(float(ratio), 2),
    )


def _load(store: Store, table: _Table) -> np.ndarray:
    from parrainage.lifecycle import charge

    load = np.zeros(table.size, np.float64)
    for iri, n in charge(store).items():
        k = table.position.get(iri)
        if k is not None:
            load[k] = n
    return load


# --- match ----------------------------------------------------------------------------------------------------


def _check_common(limit: int, rayon_km: float | None) -> None:
    if limit < 1 or limit > 1000:
        raise InvalidInput("--limit : un nombre entre 1 et 1 000")
    if rayon_km is not None and (math.isnan(rayon_km) or rayon_km <= 0):
        raise InvalidInput("--rayon-km : une distance positive, en kilomètres")


def match(
    store: Store,
    collectivite: str,
    besoin: str | None = None,
    services: list[str] | None = None,
    limit: int = 10,
    rayon_km: float | None = None,
    *,
    index: Any = None,
    qvec: np.ndarray | None = None,
    settings: Any = None,
) -> MatchResult:
    """Rank the possible sponsors of ``collectivite`` for a need (text ``besoin`` and/or ATLAAS ``services``).

    ``index`` skips the on-disk search index (tests, benches); ``qvec`` gives the need's query vector (benches
    measure the ranking without encoding). Raises InvalidInput on a malformed code, need or option, NotFound
    on an unknown collectivity.
    """
    from kg.settings import get_settings

    s = settings or get_settings()
    _check_common(limit, rayon_km)
    rayon = rayon_km if rayon_km is not None else s.match_rayon_km
    niveau, code = resolve_collectivite(collectivite)
    party = _party(niveau, code)
    from search.engine import open_or_build_index

    idx = open_or_build_index(store, index)
    table = _table(store, idx)
    need = _need(table, idx, besoin, services, qvec, s.match_similarite_min)
    w = _Weights.of(s)
    agg = _aggregate(table, need)
    load = _load(store, table)
    techs = _filleul_techs(table, idx, party)
    ev = _evaluate(table, idx, agg, party, w, load, rayon, techs)
    order = ev.order(table)
    sponsors = [_sponsor(table, idx, need, ev, int(j), party, techs, load, w) for j in order[:limit]]
    in_region = bool((ev.selected & (ev.tier <= 2)).any())
    perimetre = ("region+hors-region" if in_region and ev.extended else "hors-region" if ev.extended
                 else "region" if in_region else "aucun")
    message = _match_message(party, need, agg, ev, in_region, rayon, w)
    return MatchResult(filleul=party.filleul(), besoin=need.label, services=need.services, sponsors=sponsors,
                       total=len(order), experiences_pertinentes=agg.relevant, perimetre=perimetre,
                       message=message)


def _match_message(party: _Party, need: _Need, agg: _Aggregate, ev: _Eval, in_region: bool, rayon: float | None,
                   w: _Weights) -> str | None:
    region = ""
    if len(party.regions) == 1:
        region = _geo().ref.regions[next(iter(party.regions))].nom
    if agg.relevant == 0:
        hint = " : essayez d'autres mots ou un service de la taxonomie (--service)" if need.text else ""
        return f"Aucune expérience ne correspond au besoin « {need.label} »{hint}."
    if not ev.selected.any():
        where = f" dans un rayon de {_km(rayon)} km" if rayon is not None else ""
        if ev.largest:
            return (f"Aucune collectivité de {region} n'est {_fois(w.ratio)} fois plus peuplée que {party.nom}, "
                    "et aucune structure de mutualisation qui la couvre ni aucune collectivité d'une autre région, "
                    f"plus grande ou de taille comparable, n'a mené d'expérience sur ce besoin{where} "
                    f"({agg.relevant} expérience(s) pertinente(s) ailleurs).")
        return (f"{agg.relevant} expérience(s) correspondent au besoin, mais aucune n'a été menée{where} par une "
                f"collectivité au moins {_fois(w.ratio)} fois plus peuplée que {party.nom}, par son "
                "intercommunalité ou par une structure de mutualisation qui la couvre.")
    if ev.largest:
        head = f"Aucune collectivité de {region} n'est {_fois(w.ratio)} fois plus peuplée que {party.nom}"
        if not ev.extended:
            return (f"{head}. Seules les structures de mutualisation qui la couvrent sont proposées : aucune "
                    "collectivité d'une autre région, plus grande ou de taille comparable, n'a mené d'expérience "
                    "sur ce besoin.")
        what = "des pairs de taille comparable d'autres régions" if ev.peers else "des collectivités d'autres régions"
        structures = "les structures de mutualisation qui la couvrent, puis " if in_region else ""
        return f"{head} : voici {structures}{what}."
    if ev.extended:
        what = ("des pairs de taille comparable d'autres régions (aucune collectivité plus grande n'a mené "
                "d'expérience sur ce besoin)" if ev.peers else "des collectivités d'autres régions")
        return f"Aucun parrain dans votre région ({region}) pour ce besoin : voici {what}."
    return None


# --- grappes --------------------------------------------------------------------------------------------------


def grappes(
    store: Store,
    departement: str,
    besoin: str | None = None,
    services: list[str] | None = None,
    *,
    index: Any = None,
    qvec: np.ndarray | None = None,
    settings: Any = None,
) -> GrappesResult:
    """Group the small communes of a département that have no experience on the need (one grappe per EPCI)
    and propose one sponsor per grappe: the candidate with the best mean score over the members it may
    sponsor, times the share of members it covers. A sponsor chosen for one grappe counts as one more
    sponsorship under way for the next ones, so that grappes spread over several sponsors.
    """
    from kg.settings import get_settings
    from ontology import iri as mint

    s = settings or get_settings()
    code = (departement or "").strip().upper()
    if not _DEP_CODE.match(code.zfill(2) if code.isdigit() else code):
        raise InvalidInput(f"--departement : code de département invalide {departement!r} (29, 2A, 974…)")
    code = code.zfill(2) if code.isdigit() else code
    geo = _geo()
    ref = geo.ref
    if code not in ref.departements:
        raise NotFound(f"--departement : aucun département de code {code} dans le référentiel")
    from search.engine import open_or_build_index

    idx = open_or_build_index(store, index)
    table = _table(store, idx)
    need = _need(table, idx, besoin, services, qvec, s.match_similarite_min)
    w = _Weights.of(s)
    agg = _aggregate(table, need)
    load = _load(store, table)
    relevant_iris = {table.iris[int(k)] for k in agg.cand}
    small = [
        c for c in ref.communes.values()
        if c.departement == code and c.population is not None and 0 < c.population <= s.match_grappe_population_max
        and str(mint.collectivite("commune", c.code_insee)) not in relevant_iris
    ]
    groups: dict[str | None, list[Any]] = defaultdict(list)
    for c in small:
        groups[c.epci_siren].append(c)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), ref.epci[kv[0]].nom if kv[0] in ref.epci else "~"))
    out: list[Grappe] = []
    provisional = np.zeros(table.size)
    for siren, members in ordered:
        members = sorted(members, key=lambda c: (-(c.population or 0), c.code_insee))
        out.append(_grappe(table, idx, need, agg, w, load, provisional, siren, members))
    dep = ref.departements[code]
    message = None
    if agg.relevant == 0:
        message = f"Aucune expérience ne correspond au besoin « {need.label} » : aucune grappe n'a de parrain."
    elif not small:
        message = (f"Aucune commune de {_n(s.match_grappe_population_max)} habitants ou moins sans expérience sur "
                   f"ce besoin dans le département {dep.nom}.")
    elif not any(g.parrain for g in out):
        message = "Aucun parrain possible pour ces grappes (aucune collectivité plus grande ni structure couvrante)."
    return GrappesResult(
        departement={"code": code, "nom": dep.nom, "region": dep.region},
        besoin=need.label, services=need.services, grappes=out, communes=len(small), message=message,
    )


def _grappe(table: _Table, index: Any, need: _Need, agg: _Aggregate, w: _Weights, load: np.ndarray,
            provisional: np.ndarray, siren: str | None, members: list[Any]) -> Grappe:
    geo = _geo()
    ref = geo.ref
    parties = [_party("commune", c.code_insee) for c in members]
    evals = [_evaluate(table, index, agg, p, w, load, None, _filleul_techs(table, index, p)) for p in parties]
    n_cand = len(agg.cand)
    covered = np.zeros(n_cand)
    sums = np.zeros(n_cand)
    for ev in evals:
        covered += ev.selected
        sums += np.where(ev.selected, ev.score, 0.0)
    epci = ({"siren": siren, "nom": ref.epci[siren].nom, "iri": str(_collectivite_iri("epci", siren))}
            if siren and siren in ref.epci else None)
    nom = epci["nom"] if epci else "Communes sans intercommunalité"
    total = len(members)
    if n_cand == 0 or not covered.any():
        membres = [MembreGrappe(iri=p.iri, nom=p.nom, insee=p.insee or "", population=p.population,
                                distance_km=None, couvert=False) for p in parties]
        return Grappe(nom=nom, epci=epci, membres=membres, parrain=None,
                      couverture=Couverture(membres=0, total=total, part=0.0),
                      explication=[f"Aucun parrain possible pour les {total} commune(s) de {nom}."])
    mean = np.divide(sums, covered, out=np.zeros(n_cand), where=covered > 0)
    share = covered / total
    value = mean * share
    names = np.asarray(table.iris, dtype=object)[agg.cand]
    j = int(np.lexsort((names, -share, -value))[0])
    k = int(agg.cand[j])
    # The sponsor's own answer, seen from the largest member it covers (sentences and components).
    ref_member = next(i for i, ev in enumerate(evals) if ev.selected[j])
    sponsor = _sponsor(table, index, need, evals[ref_member], j, parties[ref_member], set(), load, w)
    sponsor.score = round(float(value[j]), 4)
    membres = []
    dists = []
    for p, ev in zip(parties, evals, strict=True):
        d = ev.dist[j]
        dists.append(float(d) if not np.isnan(d) else None)
        membres.append(MembreGrappe(iri=p.iri, nom=p.nom, insee=p.insee or "", population=p.population,
                                    distance_km=None if np.isnan(d) else round(float(d), 1),
                                    couvert=bool(ev.selected[j])))
    n_cov = int(covered[j])
    known = [d for d in dists if d is not None]
    spread = f", de {_km(min(known))} à {_km(max(known))} km" if known else ""
    explication = [
        f"Grappe de {total} commune{'s' if total > 1 else ''} de {nom} sans expérience sur ce besoin.",
        f"{table.noms[k]} peut en parrainer {n_cov} sur {total}{spread}.",
        *sponsor.explication,
    ]
    if provisional[k]:
        sponsor.explication = [
            x if not x.startswith("A déjà") else
            x.replace(" en cours,", f" en cours (dont {int(provisional[k])} grappe(s) plus haut dans cette liste),")
            for x in sponsor.explication
        ]
    load[k] += 1  # the next grappes see this sponsor as busier
    provisional[k] += 1
    return Grappe(nom=nom, epci=epci, membres=membres, parrain=sponsor,
                  couverture=Couverture(membres=n_cov, total=total, part=round(n_cov / total, 4)),
                  explication=explication)


def _collectivite_iri(niveau: str, code: str) -> str:
    from ontology import iri as mint

    return str(mint.collectivite(niveau, code))
