"""The carrier table: every carrier (``cap:porteur``) of an indexed experience, as arrays, one row per carrier.

Its population, kind, EPCI, départements and régions (as boolean masks), its point, and the experience → carrier
pairs sorted by carrier. Built from the graph and the search index by :func:`build_porteurs`, kept in the
:class:`~kg.context.Context` by :func:`porteurs` until the store or the index changes, so that a match costs a
few vector operations, even at 100,000 experiences. :func:`prepare` builds it at start-up.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg.context import Context
from kg.francais import tncc_organisation
from kg.store import Store
from ontology.namespaces import CAP
from search import Index, load_taxonomy, open_index, store_signature
from territoires.referentiel import Point, Territoires, territoire_of_iri, territoires

__all__ = ["CACHE_NAME", "KINDS", "KIND_CODE", "KIND_OF_NIVEAU", "Porteurs", "build_porteurs", "porteurs", "prepare"]

#: Kinds of carriers, as class local names (the ``type`` of the answers).
KINDS: tuple[str, ...] = ("Commune", "Intercommunalite", "Departement", "Region", "StructureMutualisation")
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
#: The kind of the collectivity of a territory level.
KIND_OF_NIVEAU: dict[str, str] = {
    "commune": "Commune", "epci": "Intercommunalite", "departement": "Departement", "region": "Region",
}
_NIVEAU_OF_KIND = {kind: niveau for niveau, kind in KIND_OF_NIVEAU.items()}
#: The name of the table among the context's caches.
CACHE_NAME = "parrainage.porteurs"


@dataclass
class Porteurs:
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
    tncc: list[int] = field(default_factory=list)  # article type of each name (kg.francais)

    @property
    def size(self) -> int:
        return len(self.iris)

    def docs_of(self, k: int) -> np.ndarray:
        return self.pair_doc[self.ptr[k] : self.ptr[k + 1]]


# --- the cache ---------------------------------------------------------------------------------------------


class _Same:
    """Equal only to itself: the table's pair positions are those of one index object, whatever its fields."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def porteurs(ctx: Context, index: Index) -> Porteurs:
    """The carrier table of the context's store and ``index``, rebuilt when either changes."""
    key = (_Same(index), index.built_at, index.signature, index.size, store_signature(ctx.store))
    return ctx.cached(CACHE_NAME, lambda: build_porteurs(ctx.store, index), key=key)


def prepare(ctx: Context, *, index: Index | None = None) -> dict[str, int]:
    """Build the carrier table now (at API start-up), so that the first match costs what the next ones do."""
    idx = index if index is not None else open_index(ctx)
    table = porteurs(ctx, idx)
    return {"experiences": int(idx.size), "porteurs": table.size, "liens": int(table.pair_doc.size)}


# --- building ----------------------------------------------------------------------------------------------


def build_porteurs(store: Store, index: Index) -> Porteurs:
    """Read the carriers of the indexed experiences and what the referential knows of their territories."""
    geo = territoires()
    pairs = _experience_carriers(store, index)
    facts = _carrier_facts(store, {a for _, a in pairs})
    rows = {a: row for a in sorted(facts) if (row := _carrier_row(geo, a, facts[a])) is not None}
    iris = list(rows)
    position = {a: k for k, a in enumerate(iris)}
    dep, reg = _territory_masks(geo, list(rows.values()))
    pair_doc, pair_carrier, ptr = _pairs_by_carrier(pairs, position)
    taxonomy = load_taxonomy(store)
    return Porteurs(
        iris=iris,
        noms=[r["nom"] for r in rows.values()],
        insee=[r["insee"] for r in rows.values()],
        siren=[r["siren"] for r in rows.values()],
        kind=np.asarray([KIND_CODE[r["kind"]] for r in rows.values()], np.int8),
        pop=np.asarray([np.nan if r["pop"] is None else float(r["pop"]) for r in rows.values()], np.float64),
        lat=np.asarray([r["point"][0] if r["point"] else np.nan for r in rows.values()], np.float64),
        lon=np.asarray([r["point"][1] if r["point"] else np.nan for r in rows.values()], np.float64),
        dep=dep,
        reg=reg,
        epci=np.asarray([geo.epci_pos.get(r["epci"], -1) if r["epci"] else -1 for r in rows.values()], np.int32),
        pair_doc=pair_doc,
        pair_carrier=pair_carrier,
        ptr=ptr,
        position=position,
        taxonomy=taxonomy,
        children=_children(taxonomy),
        deps_of=[frozenset(r["deps"]) for r in rows.values()],
        tncc=[r["tncc"] for r in rows.values()],
    )


def _experience_carriers(store: Store, index: Index) -> list[tuple[int, str]]:
    """(index position of the experience, carrier IRI) of every indexed experience."""
    position = index.position
    pairs: list[tuple[int, str]] = []
    query = "SELECT DISTINCT ?e ?a WHERE { GRAPH ?g { ?e a cap:Experience ; cap:porteur ?a } }"
    for e, a, _ in _solutions(store, query):
        i = position.get(e)
        if i is not None:
            pairs.append((i, a))
    return pairs


def _carrier_facts(store: Store, carriers: set[str]) -> dict[str, dict[str, Any]]:
    """Types, labels, population, codes and territories of the carriers that are collectivities or structures.

    Every collectivity and structure of the graph is read, then only the carriers are kept: joining on the
    experiences in SPARQL costs five times more at 100k experiences.
    """
    info: dict[str, dict[str, Any]] = defaultdict(lambda: {"types": set(), "territoires": set(), "labels": []})
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
    return info


@dataclass
class _Place:
    deps: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    epci: str | None = None
    point: Point | None = None
    code: str | None = None


def _carrier_row(geo: Territoires, a: str, d: dict[str, Any]) -> dict[str, Any] | None:
    """One row of the table; ``None`` for an organisation or an unresolved carrier (not a possible sponsor)."""
    kind = next((k for k in KINDS if k in d["types"]), None)
    if kind is None:
        return None
    place = _place(geo, kind, d)
    population = d.get("population")
    if population is None and place.code is not None and kind != "StructureMutualisation":
        population = geo.population(_NIVEAU_OF_KIND[kind], place.code)
    nom = sorted(d["labels"])[0][1] if d["labels"] else a.rsplit("/", 1)[-1]
    insee = d.get("insee") or (place.code if kind in ("Departement", "Region") else None)
    # INSEE's TNCC when the label is the referential's name (« Deux-Sèvres » 4), else read from the label
    record = geo.record(_NIVEAU_OF_KIND[kind], place.code) if place.code and kind in _NIVEAU_OF_KIND else None
    tncc = record.tncc if record is not None and record.nom == nom and record.tncc is not None else None
    return {"nom": nom, "kind": kind, "pop": population, "deps": place.deps, "regions": place.regions,
            "epci": place.epci, "point": place.point, "insee": insee, "siren": d.get("siren"),
            "tncc": tncc if tncc is not None else tncc_organisation(nom)}


def _place(geo: Territoires, kind: str, d: dict[str, Any]) -> _Place:
    """Where a carrier lies: from its territories; a structure's seat is that of its largest département; a
    collectivity without a territory link falls back on the codes it carries."""
    place = _Place()
    for t in sorted(d["territoires"]):
        terr = territoire_of_iri(t)
        if terr is None:
            continue
        niveau, c = terr
        where = geo.rattachement(niveau, c)
        place.deps |= where.departements
        place.regions |= where.regions
        if kind != "StructureMutualisation":
            place.epci = place.epci or where.epci
            place.code = place.code or c
            place.point = place.point or geo.siege(niveau, c)
    if kind == "StructureMutualisation":
        place.point = geo.siege_des_departements(place.deps)
    elif place.code is None:
        niveau = "commune" if kind == "Commune" else "epci" if kind == "Intercommunalite" else None
        c = d.get("insee") if niveau == "commune" else d.get("siren")
        if niveau and c:
            where = geo.rattachement(niveau, c)
            place = _Place(set(where.departements), set(where.regions), where.epci, geo.siege(niveau, c), c)
    return place


def _territory_masks(geo: Territoires, rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(carriers × départements, carriers × régions) boolean masks of where each carrier lies."""
    dep = np.zeros((len(rows), len(geo.dep_codes)), bool)
    reg = np.zeros((len(rows), len(geo.reg_codes)), bool)
    for k, row in enumerate(rows):
        for d in row["deps"]:
            if d in geo.dep_pos:
                dep[k, geo.dep_pos[d]] = True
        for r in row["regions"]:
            if r in geo.reg_pos:
                reg[k, geo.reg_pos[r]] = True
    return dep, reg


def _pairs_by_carrier(pairs: list[tuple[int, str]],
                      position: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair_doc, pair_carrier, ptr): the experience → carrier pairs of the kept carriers, sorted by carrier."""
    n = len(position)
    kept = sorted((position[a], i) for i, a in pairs if a in position)
    pair_carrier = np.asarray([k for k, _ in kept], np.int32)
    pair_doc = np.asarray([i for _, i in kept], np.int32)
    ptr = np.zeros(n + 1, np.int64)
    if n:
        np.cumsum(np.bincount(pair_carrier, minlength=n), out=ptr[1:])
    return pair_doc, pair_carrier, ptr


def _children(taxonomy: Any) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for child, parent in taxonomy.broader.items():
        children[parent].append(child)
    return dict(children)


# --- reading SPARQL TSV results ------------------------------------------------------------------------------

_PREFIXES = f"""PREFIX cap: <{CAP}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
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

