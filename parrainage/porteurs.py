"""The carrier table: every carrier (``cap:porteur``) of an indexed experience, as arrays, one row per carrier.

Its population, kind, EPCI, départements and régions (as boolean masks), its point, and the experience → carrier
pairs sorted by carrier. Built from the graph and the search index by :func:`build_porteurs`, kept in the
:class:`~kg.context.Context` by :func:`porteurs` for one generation of the index, so that a match costs a few
vector operations, even at 100,000 experiences. :func:`prepare` builds it at start-up.

When the index is updated (a new generation whose parent is the table's, see :func:`search.update_index`),
:func:`update_porteurs` reads from the graph only the carriers of the experiences at the positions that changed;
the other rows and pairs are kept. A carrier's facts (name, kind, population, territories) reach the documents of
its experiences, so a carrier whose facts changed has changed experiences: the update equals a rebuild. An
unchanged re-import keeps the index's generation, and the table is neither rebuilt nor updated.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg.context import Context
from kg.francais import tncc_organisation
from kg.store import Store
from ontology.namespaces import CAP
from search import Index, load_taxonomy, open_index
from search.index import progress_step
from territoires.referentiel import Point, Territoires, territoire_of_iri, territoires

__all__ = [
    "CACHE_NAME", "KINDS", "KIND_CODE", "KIND_OF_NIVEAU", "Porteurs", "build_porteurs", "porteurs", "prepare",
    "update_porteurs",
]

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
#: Above this share of changed experiences, the table is built again rather than updated.
UPDATE_MAX_SHARE = 0.2
_VALUES_CHUNK = 2_000  # IRIs per VALUES clause when only some experiences or carriers are read


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
    generation: str = ""  # the generation of the index whose positions ``pair_doc`` holds

    @property
    def size(self) -> int:
        return len(self.iris)

    def docs_of(self, k: int) -> np.ndarray:
        return self.pair_doc[self.ptr[k] : self.ptr[k + 1]]


# --- the cache ---------------------------------------------------------------------------------------------


def porteurs(ctx: Context, index: Index, *, progress: bool = False) -> Porteurs:
    """The carrier table of the context's store and ``index``: kept while the index keeps its generation,
    updated for the changed positions of a child generation, built otherwise."""
    return ctx.cached(CACHE_NAME, lambda: _follow(ctx, index, progress), key=(index.generation, index.size))


def _follow(ctx: Context, index: Index, progress: bool) -> Porteurs:
    previous = ctx.peek(CACHE_NAME)
    changes = index.changes
    if (
        isinstance(previous, Porteurs) and index.parent and previous.generation == index.parent
        and changes is not None and changes.size <= UPDATE_MAX_SHARE * index.size
    ):
        return update_porteurs(ctx.store, previous, index, progress=progress)
    return build_porteurs(ctx.store, index, progress=progress)


def prepare(ctx: Context, *, index: Index | None = None, progress: bool = False) -> dict[str, int]:
    """Build the carrier table now (at API start-up), so that the first match costs what the next ones do."""
    idx = index if index is not None else open_index(ctx)
    table = porteurs(ctx, idx, progress=progress)
    return {"experiences": int(idx.size), "porteurs": table.size, "liens": int(table.pair_doc.size)}


# --- building ----------------------------------------------------------------------------------------------


def build_porteurs(store: Store, index: Index, *, progress: bool = False) -> Porteurs:
    """Read the carriers of the indexed experiences and what the referential knows of their territories."""
    geo = territoires()
    with progress_step(progress, "Porteurs : lecture du graphe", None):
        pairs = _experience_carriers(store, index)
        facts = _carrier_facts(store, {a for _, a in pairs})
    with progress_step(progress, "Porteurs : table", len(facts)) as advance:
        rows = _rows(geo, facts, advance)
    columns = _columns(geo, rows)
    position = {a: k for k, a in enumerate(columns["iris"])}
    pair_doc, pair_carrier, ptr = _pairs_by_carrier(pairs, position)
    taxonomy = load_taxonomy(store)
    return Porteurs(**columns, pair_doc=pair_doc, pair_carrier=pair_carrier, ptr=ptr, position=position,
                    taxonomy=taxonomy, children=_children(taxonomy), generation=index.generation)


def update_porteurs(store: Store, table: Porteurs, index: Index, *, progress: bool = False) -> Porteurs:
    """``table`` (built for the parent generation of ``index``) brought in line with ``index``.

    Only the experiences at ``index.changes`` are read from the graph, and only their carriers' facts; the pairs
    of those positions (and of positions past the index's size) are replaced, the rows of the carriers read are
    replaced, carriers left without an experience are dropped. The rest is taken from ``table`` by numpy
    gathers: the cost follows what changed, plus linear array passes over the carriers and the pairs.
    """
    geo = territoires()
    n = index.size
    changes = index.changes if index.changes is not None else np.zeros(0, np.int64)
    with progress_step(progress, "Porteurs : mise à jour", None):
        pairs = _experience_carriers(store, index, [index.iris[i] for i in changes.tolist() if i < n])
        read = {a for _, a in pairs}
        fresh = _rows(geo, _carrier_facts(store, read, only=True), None)
    # the pairs kept: not at a changed position nor past the end, of a carrier not read again
    dead = np.zeros(max(n, int(table.pair_doc.max(initial=-1)) + 1), bool)
    dead[changes] = True
    dead[n:] = True
    keep = ~dead[table.pair_doc]
    kept_doc, kept_carrier = table.pair_doc[keep], table.pair_carrier[keep]
    stays = np.zeros(table.size, bool)
    stays[kept_carrier] = True
    stays[np.asarray([table.position[a] for a in read if a in table.position], np.int64)] = False
    old = np.flatnonzero(stays)  # rows kept as they were: carriers with a kept pair, not read again
    columns = _merge_columns(geo, table, old, fresh)
    position = {a: k for k, a in enumerate(columns["iris"])}
    old_to_new = np.asarray([position.get(a, -1) for a in table.iris], np.int64)
    carrier = np.concatenate([old_to_new[kept_carrier], np.asarray([position.get(a, -1) for _, a in pairs], np.int64)])
    doc = np.concatenate([kept_doc.astype(np.int64), np.asarray([i for i, _ in pairs], np.int64)])
    doc, carrier = doc[carrier >= 0], carrier[carrier >= 0]
    order = np.lexsort((doc, carrier))
    pair_doc, pair_carrier = doc[order].astype(np.int32), carrier[order].astype(np.int32)
    ptr = np.zeros(len(position) + 1, np.int64)
    if position:
        np.cumsum(np.bincount(pair_carrier, minlength=len(position)), out=ptr[1:])
    taxonomy = load_taxonomy(store)
    return Porteurs(**columns, pair_doc=pair_doc, pair_carrier=pair_carrier, ptr=ptr, position=position,
                    taxonomy=taxonomy, children=_children(taxonomy), generation=index.generation)


def _rows(geo: Territoires, facts: dict[str, dict[str, Any]],
          advance: Callable[[int], None] | None) -> dict[str, dict[str, Any]]:
    """The row of each carrier that is a possible sponsor (a collectivity or a structure), in IRI order."""
    rows: dict[str, dict[str, Any]] = {}
    for k, a in enumerate(sorted(facts), 1):
        row = _carrier_row(geo, a, facts[a])
        if row is not None:
            rows[a] = row
        if advance is not None and k % 1000 == 0:
            advance(1000)
    return rows


def _columns(geo: Territoires, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The per-carrier columns of the table, in the order of ``rows``."""
    values = list(rows.values())
    dep, reg = _territory_masks(geo, values)
    return {
        "iris": list(rows),
        "noms": [r["nom"] for r in values],
        "insee": [r["insee"] for r in values],
        "siren": [r["siren"] for r in values],
        "kind": np.asarray([KIND_CODE[r["kind"]] for r in values], np.int8),
        "pop": np.asarray([np.nan if r["pop"] is None else float(r["pop"]) for r in values], np.float64),
        "lat": np.asarray([r["point"][0] if r["point"] else np.nan for r in values], np.float64),
        "lon": np.asarray([r["point"][1] if r["point"] else np.nan for r in values], np.float64),
        "dep": dep,
        "reg": reg,
        "epci": np.asarray([geo.epci_pos.get(r["epci"], -1) if r["epci"] else -1 for r in values], np.int32),
        "deps_of": [frozenset(r["deps"]) for r in values],
        "tncc": [r["tncc"] for r in values],
    }


_ARRAY_COLUMNS = ("kind", "pop", "lat", "lon", "dep", "reg", "epci")
_LIST_COLUMNS = ("iris", "noms", "insee", "siren", "deps_of", "tncc")


def _merge_columns(geo: Territoires, table: Porteurs, old: np.ndarray,
                   fresh: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The columns of the rows ``old`` of ``table`` and of the ``fresh`` rows, together in IRI order."""
    new = _columns(geo, fresh)
    kept = old.tolist()
    iris = [table.iris[k] for k in kept] + new["iris"]
    order = sorted(range(len(iris)), key=iris.__getitem__)
    out: dict[str, Any] = {}
    for name in _LIST_COLUMNS:
        column = getattr(table, name)
        merged = [column[k] for k in kept] + new[name]
        out[name] = [merged[k] for k in order]
    take = np.asarray(order, np.int64)
    for name in _ARRAY_COLUMNS:
        out[name] = np.concatenate([getattr(table, name)[old], new[name]])[take]
    return out


def _experience_carriers(store: Store, index: Index, only: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """(index position of the experience, carrier IRI) of every indexed experience, or of those ``only``."""
    position = index.position
    pairs: list[tuple[int, str]] = []
    pattern = "GRAPH ?g { ?e a cap:Experience ; cap:porteur ?a }"
    queries = ([f"SELECT DISTINCT ?e ?a WHERE {{ {pattern} }}"] if only is None else
               [f"SELECT DISTINCT ?e ?a WHERE {{ VALUES ?e {{ {chunk} }} {pattern} }}" for chunk in _values(only)])
    for query in queries:
        for e, a, _ in _solutions(store, query):
            i = position.get(e)
            if i is not None:
                pairs.append((i, a))
    return pairs


def _values(iris: Iterable[str]) -> list[str]:
    """The IRIs as the bodies of VALUES clauses, a chunk each (an IRI that SPARQL cannot write is skipped)."""
    written = [f"<{i}>" for i in iris if not _NOT_IN_IRI.search(i)]
    return [" ".join(written[k : k + _VALUES_CHUNK]) for k in range(0, len(written), _VALUES_CHUNK)]


_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _carrier_facts(store: Store, carriers: set[str], *, only: bool = False) -> dict[str, dict[str, Any]]:
    """Types, labels, population, codes and territories of the carriers that are collectivities or structures.

    Every collectivity and structure of the graph is read, then only the carriers are kept: joining on the
    experiences in SPARQL costs five times more at 100k experiences. With ``only`` (an update, a few carriers),
    only the ``carriers`` are read, named in VALUES clauses.
    """
    info: dict[str, dict[str, Any]] = defaultdict(lambda: {"types": set(), "territoires": set(), "labels": []})
    typed = """VALUES ?t { cap:Commune cap:Intercommunalite cap:Departement cap:Region cap:StructureMutualisation }
            GRAPH ?g { ?a a ?t }
            GRAPH ?h { ?a ?p ?o . VALUES ?p { rdf:type rdfs:label cap:population cap:codeInsee cap:siren
                                              cap:territoire } } }"""
    # named carriers: their facts alone (their types among them: a carrier of another kind gets no row), the
    # predicates in a FILTER: Oxigraph joins a VALUES of predicates (or of types) after scanning its pattern for
    # the whole graph, 200 times slower for 200 carriers
    named = """GRAPH ?h { ?a ?p ?o }
            FILTER(?p IN (rdf:type, rdfs:label, cap:population, cap:codeInsee, cap:siren, cap:territoire)) }"""
    queries = ([f"SELECT ?a ?p ?o WHERE {{ {typed}"] if not only else
               [f"SELECT ?a ?p ?o WHERE {{ VALUES ?a {{ {chunk} }} {named}" for chunk in _values(sorted(carriers))])
    for r in (r for query in queries for r in _solutions(store, query)):
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

