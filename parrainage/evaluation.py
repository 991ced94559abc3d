"""The candidates of one filleul: roles, proximity levels, distances, score components and the selection.

:func:`party` gives the collectivity as the matching sees it; :func:`evaluate` takes the carriers of relevant
experiences (:class:`parrainage.besoin.Aggregate`) and decides, for that filleul:

- **roles**: *parrain* (at least ``match_ratio`` times as populous), *structure* (a structure de mutualisation
  whose départements cover the filleul's), *parrain naturel* (the EPCI the commune belongs to, whatever its
  size), *pair* (comparable size, only from other régions when nothing larger exists); never the filleul itself;
- **scope**: the filleul's région (its EPCI and département score higher) and its *voisinage*: what lies in
  another région but within ``match_voisinage_km`` of the filleul (Arçais, on the Vendée border, and
  e-Collectivités Vendée at 75 km); beyond only when nothing fits, or when the filleul is the most populous
  collectivity of its région. A structure de mutualisation is proposed when it covers the filleul's
  département, or when its seat lies within that distance (a neighbouring structure);
- **score**: a weighted sum of six components (settings ``match_poids_*``, :class:`Weights`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from kg.context import Context
from kg.settings import Settings
from kg.store import Store
from parrainage.besoin import Aggregate, Need, aggregate, need
from parrainage.lifecycle import charge
from parrainage.models import Filleul
from parrainage.porteurs import KIND_CODE, KIND_OF_NIVEAU, Porteurs, porteurs
from search import Index, open_index
from territoires.collectivites import collectivite
from territoires.distance import haversine
from territoires.referentiel import territoires

__all__ = [
    "HORS_REGION",
    "NIVEAUX",
    "REGION",
    "STRUCTURE_TAILLE",
    "TAILLE_SATURATION",
    "VOISINAGE",
    "Evaluation",
    "Party",
    "Weights",
    "charges",
    "evaluate",
    "filleul_techs",
    "party",
]

#: Proximity levels, nearest first (``niveau`` of a sponsor): *voisinage* is another région, but within
#: ``match_voisinage_km``; it scores as the région, so that the distance decides between them.
NIVEAUX: tuple[str, ...] = ("intercommunalite", "departement", "region", "voisinage", "hors-region")
_TIER_SCORE = np.asarray([1.0, 0.75, 0.5, 0.5, 0.0])
#: Tier positions in NIVEAUX.
REGION, VOISINAGE, HORS_REGION = 2, 3, 4
#: Size score of a structure de mutualisation (no population): the score of a 10× larger collectivity.
STRUCTURE_TAILLE = 0.5
#: Ratio at which the size score saturates (log scale: 3× → 0.24, 10× → 0.5, 100× → 1).
TAILLE_SATURATION = 100.0
_COMMUNE, _EPCI, _REG, _STRUCT = (KIND_CODE[k] for k in ("Commune", "Intercommunalite", "Region",
                                                          "StructureMutualisation"))


# --- the parties ----------------------------------------------------------------------------------------


@dataclass
class Party:
    """A collectivity as the matching sees it (the filleul, a grappe member)."""

    iri: str
    nom: str
    kind: str
    population: int | None
    deps: frozenset[str]
    regions: frozenset[str]
    epci: str | None
    lat: float | None
    lon: float | None
    insee: str | None = None
    siren: str | None = None
    tncc: int | None = None  # INSEE's article type of ``nom`` (kg.francais)

    def filleul(self) -> Filleul:
        return Filleul(
            iri=self.iri, nom=self.nom, type=self.kind, population=self.population, insee=self.insee,
            siren=self.siren, departement=next(iter(sorted(self.deps)), None) if len(self.deps) == 1 else None,
            region=next(iter(sorted(self.regions)), None) if len(self.regions) == 1 else None, epci=self.epci,
        )


def party(niveau: str, code: str) -> Party:
    """A collectivity of the referential by level and code (NotFound when the referential lacks it)."""
    c = collectivite(niveau, code)
    return Party(
        iri=c.iri,
        nom=c.nom,
        kind=KIND_OF_NIVEAU[niveau],
        population=c.population,
        deps=c.departements,
        regions=c.regions,
        epci=c.epci,
        lat=c.siege[0] if c.siege else None,
        lon=c.siege[1] if c.siege else None,
        insee=code if niveau != "epci" else None,
        siren=code if niveau == "epci" else None,
        tncc=c.tncc,
    )


# --- weights, load, technologies ----------------------------------------------------------------------------


@dataclass
class Weights:
    pertinence: float
    experience: float
    taille: float
    proximite: float
    technologies: float
    charge: float
    ratio: float
    distance_km: float
    voisinage_km: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> Weights:
        return cls(settings.match_poids_pertinence, settings.match_poids_experience, settings.match_poids_taille,
                   settings.match_poids_proximite, settings.match_poids_technologies, settings.match_poids_charge,
                   settings.match_ratio, settings.match_distance_km, settings.match_voisinage_km)


class Demande(NamedTuple):
    """What a match and the grappes both start from: the index, the carrier table, the need, the weights, the
    need's carriers and the sponsorships each carrier already holds."""

    index: Index
    table: Porteurs
    need: Need
    weights: Weights
    agg: Aggregate
    load: np.ndarray


def demande(ctx: Context, besoin: str | None, services: Sequence[str] | None, *, index: Index | None = None,
            qvec: np.ndarray | None = None) -> Demande:
    """The need read against the carriers, with the settings of ``ctx`` (``index`` skips the home's index)."""
    s = ctx.settings
    idx = index if index is not None else open_index(ctx)
    table = porteurs(ctx, idx)
    wanted = need(ctx, table, idx, besoin, services, qvec, s.match_similarite_min, s.match_pertinence_min,
                  par_concept_on=s.match_pertinence_concepts)
    return Demande(idx, table, wanted, Weights.of(s), aggregate(table, wanted), charges(ctx.store, table))


def charges(store: Store, table: Porteurs) -> np.ndarray:
    """Sponsorships proposed, accepted or under way, per carrier of the table."""
    load = np.zeros(table.size, np.float64)
    for iri, n in charge(store).items():
        k = table.position.get(iri)
        if k is not None:
            load[k] = n
    return load


def filleul_techs(table: Porteurs, index: Index, party: Party) -> set[int]:
    """Technology ids (index facet values) of the experiences the filleul carried itself."""
    k = table.position.get(party.iri)
    if k is None:
        return set()
    tech = index.facets["technologie"]
    return {int(v) for i in table.docs_of(k) for v in tech.of_doc(int(i))}


# --- evaluation ---------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
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

    def order(self, table: Porteurs) -> np.ndarray:
        ids = np.flatnonzero(self.selected)
        dist = np.where(np.isnan(self.dist[ids]), np.inf, self.dist[ids])
        names = np.asarray([table.iris[int(self.cand[i])] for i in ids], dtype=object)
        keys = np.lexsort((names, dist, -self.score[ids]))
        return ids[keys]


@dataclass
class _Proximity:
    tier: np.ndarray  # int8, index in NIVEAUX
    near: np.ndarray  # bool: within the voisinage distance
    same_dep: np.ndarray  # bool: shares a département with the filleul
    same_epci: np.ndarray  # bool: a commune or the EPCI of the filleul's EPCI
    dist: np.ndarray  # km, NaN when a point is unknown


@dataclass
class _Roles:
    role: np.ndarray
    ratio: np.ndarray
    is_struct: np.ndarray
    covers: np.ndarray
    natural: np.ndarray


def evaluate(table: Porteurs, index: Index, agg: Aggregate, party: Party, w: Weights, load: np.ndarray,
             rayon: float | None, techs: set[int]) -> Evaluation:
    """Roles, proximity, selection and score of every candidate carrier for ``party``."""
    c = agg.cand
    near = _proximity(table, c, party, w.voisinage_km)
    roles = _roles(table, c, party, near, w)
    selected, extended, peers, largest = _selection(roles, near, party, w, rayon)
    comps = _components(table, index, agg, roles, near, w, load, techs)
    positive = w.pertinence + w.experience + w.taille + w.proximite + w.technologies
    total = (w.pertinence * comps["pertinence"] + w.experience * comps["experience"] + w.taille * comps["taille"]
             + w.proximite * comps["proximite"] + w.technologies * comps["technologies"]) / (positive or 1.0)
    score = np.clip(total - w.charge * comps["charge"], 0.0, 1.0)
    return Evaluation(c, roles.role, near.tier, near.dist, roles.ratio, comps, score, selected, extended, peers,
                      largest)


def _proximity(table: Porteurs, c: np.ndarray, party: Party, voisinage_km: float) -> _Proximity:
    """The proximity level of each candidate (same EPCI, département, région, voisinage, beyond) and its
    distance."""
    geo = territoires()
    kinds = table.kind[c]
    dep_idx = [geo.dep_pos[d] for d in party.deps if d in geo.dep_pos]
    reg_idx = [geo.reg_pos[r] for r in party.regions if r in geo.reg_pos]
    dep_m = table.dep[c][:, dep_idx].any(axis=1) if dep_idx else np.zeros(len(c), bool)
    reg_m = table.reg[c][:, reg_idx].any(axis=1) if reg_idx else np.zeros(len(c), bool)
    f_epci = geo.epci_pos.get(party.epci, -1) if party.epci else -1
    epci_m = (f_epci >= 0) & (table.epci[c] == f_epci) & ((kinds == _COMMUNE) | (kinds == _EPCI))
    tier = np.where(epci_m, 0, np.where(dep_m, 1, np.where(reg_m, REGION, HORS_REGION))).astype(np.int8)
    if party.kind == "Region":  # what shares a département with a région lies in the région
        tier = np.where(tier < HORS_REGION, REGION, HORS_REGION).astype(np.int8)
    tier = np.where((kinds == _REG) & (tier < 2), 2, tier).astype(np.int8)  # a région is never "your département"
    if party.lat is not None and party.lon is not None:
        dist = haversine(party.lat, party.lon, table.lat[c], table.lon[c])
    else:
        dist = np.full(len(c), np.nan)
    near = ~np.isnan(dist) & (np.nan_to_num(dist, nan=np.inf) <= voisinage_km)
    if party.kind != "Region":  # a région's neighbours are other régions: it has its own rule (``largest``)
        tier = np.where((tier == HORS_REGION) & near, VOISINAGE, tier).astype(np.int8)
    return _Proximity(tier, near, dep_m, epci_m, dist)


def _roles(table: Porteurs, c: np.ndarray, party: Party, near: _Proximity, w: Weights) -> _Roles:
    """The role of each candidate (parrain, parrain-naturel, structure, pair, or "" when it may not sponsor)."""
    kinds = table.kind[c]
    pop = table.pop[c]
    is_struct = kinds == _STRUCT
    covers = is_struct & near.same_dep
    neighbour = is_struct & ~covers & near.near & (party.kind != "Region")
    natural = (party.kind == "Commune") & (kinds == _EPCI) & near.same_epci
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
    role[covers | neighbour] = "structure"
    role[natural] = "parrain-naturel"
    role[self_m] = ""
    return _Roles(role, ratio, is_struct, covers, natural)


def _selection(roles: _Roles, near: _Proximity, party: Party, w: Weights,
               rayon: float | None) -> tuple[np.ndarray, bool, bool, bool]:
    """(selected, extended beyond the région, peers only beyond it, the filleul is the largest of its région)."""
    role, tier = roles.role, near.tier
    valid = role != ""
    within = np.ones(len(role), bool)
    if rayon is not None:
        within = (near.dist <= rayon) | roles.covers | roles.natural
    fits = valid & within & (tier <= VOISINAGE) & (role != "pair")
    region_pop = None
    if len(party.regions) == 1:
        region_pop = territoires().population("region", next(iter(party.regions)))
    largest = bool(party.population and region_pop and region_pop < w.ratio * party.population)
    selected = fits.copy()
    extended = peers = False
    if not fits.any() or largest:
        beyond = valid & within & (tier == HORS_REGION) & (role == "parrain")
        if not beyond.any():
            beyond = valid & within & (tier == HORS_REGION) & (role == "pair")
            peers = bool(beyond.any())
        extended = bool(beyond.any())
        selected |= beyond
    return selected, extended, peers, largest


def _components(table: Porteurs, index: Index, agg: Aggregate, roles: _Roles, near: _Proximity, w: Weights,
                load: np.ndarray, techs: set[int]) -> dict[str, np.ndarray]:
    """The six components of the score, each in [0, 1] (``charge`` is a penalty)."""
    c = agg.cand
    pert = agg.best.astype(np.float64)
    exp = 1.0 - np.power(0.5, agg.soft)
    with np.errstate(divide="ignore", invalid="ignore"):
        taille = np.clip(np.log(roles.ratio) / math.log(TAILLE_SATURATION), 0.0, 1.0)
    taille = np.where(np.isnan(taille), 0.5, taille)
    taille = np.where(roles.is_struct, STRUCTURE_TAILLE, taille)
    decay = np.where(np.isnan(near.dist), 0.0, np.exp(-np.nan_to_num(near.dist, nan=0.0) / w.distance_km))
    prox = 0.5 * _TIER_SCORE[near.tier] + 0.5 * decay
    tech = _shared_technologies(table, index, agg, techs)
    n_load = load[c] if len(load) else np.zeros(len(c))
    charge_ = n_load / (n_load + 2.0)
    return {"pertinence": pert, "experience": exp, "taille": taille, "proximite": prox, "technologies": tech,
            "charge": charge_}


def _shared_technologies(table: Porteurs, index: Index, agg: Aggregate, techs: set[int]) -> np.ndarray:
    """Share of each candidate's relevant experiences that use a technology the filleul uses."""
    c = agg.cand
    if not techs or not len(c):
        return np.zeros(len(c))
    facet = index.facets["technologie"]
    wanted = np.zeros(len(facet.values), bool)
    wanted[list(techs)] = True
    doc_has = np.bincount(facet.docs, weights=wanted[facet.vals], minlength=index.size) > 0
    rel = agg.rel_pairs
    hits = np.bincount(table.pair_carrier[rel], weights=doc_has[table.pair_doc[rel]], minlength=table.size)
    return hits[c] / np.maximum(agg.count, 1)
