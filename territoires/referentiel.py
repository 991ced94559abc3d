"""The territorial referential (COG 2025) as a hierarchy: commune → EPCI → département → région.

:func:`territoires` gives the one :class:`Territoires` of the shipped reference files (``data/reference/``):
records and names by level and code, what a territory lies in or covers (:meth:`Territoires.rattachement`,
:meth:`Territoires.lieux`), its seat point (:meth:`Territoires.siege`) and its population-weighted centre
(:meth:`Territoires.centre`), positions of départements, régions and EPCI for vectorised masks, and the name
list the collectivity lookup searches. :func:`territoire_of_iri` reads (niveau, code) back from a territory IRI.

It depends on the shipped files only, never on the store: the graph holds the same facts, imported from them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from ingest.territories import Referentiel, load_referentiel
from kg.francais import avec_article
from ontology.iri import NIVEAUX, normalise_texte
from ontology.namespaces import ID

__all__ = ["NIVEAUX", "Point", "Rattachement", "Territoires", "territoire_of_iri", "territoires"]

Point = tuple[float, float]  # (latitude, longitude)

_TERRITOIRE_IRI = re.compile(re.escape(str(ID)) + r"(commune|epci|departement|region)/([^/]+)$")


def territoire_of_iri(iri: str) -> tuple[str, str] | None:
    """(niveau, code) of a territory IRI (``…/id/commune/35238``), ``None`` for any other IRI."""
    m = _TERRITOIRE_IRI.search(iri)
    return (m.group(1), m.group(2)) if m else None


@dataclass(frozen=True)
class Rattachement:
    """The départements and régions a territory lies in or covers, and the EPCI of a commune (or an EPCI's own).

    A région covers its départements; an EPCI lies in the départements of its communes.
    """

    departements: frozenset[str]
    regions: frozenset[str]
    epci: str | None


_NOWHERE = Rattachement(frozenset(), frozenset(), None)


@dataclass(eq=False)
class Territoires:
    """The referential with its hierarchy indexed; built once by :func:`territoires`, never changed after."""

    ref: Referentiel
    #: Sorted codes and their positions (columns of the boolean masks of the parrainage carrier table).
    dep_codes: list[str]
    dep_pos: dict[str, int]
    reg_codes: list[str]
    reg_pos: dict[str, int]
    epci_pos: dict[str, int]
    epci_deps: dict[str, frozenset[str]]
    region_deps: dict[str, frozenset[str]]
    #: (niveau, code) -> the town hall of the commune, or of the most populous commune of the territory
    sieges: dict[tuple[str, str], Point]
    #: département -> population of its most populous commune (to choose among départements' seats)
    seat_population: dict[str, int]
    _rattachements: dict[tuple[str, str], Rattachement] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, ref: Referentiel) -> Territoires:
        """Index ``ref``: positions, the départements of each EPCI and région, the seat of every territory."""
        epci_deps: dict[str, set[str]] = defaultdict(set)
        region_deps: dict[str, set[str]] = defaultdict(set)
        for d in ref.departements.values():
            region_deps[d.region].add(d.code)
        best: dict[tuple[str, str], tuple[int, float, float]] = {}
        sieges: dict[tuple[str, str], Point] = {}
        for c in ref.communes.values():
            if c.epci_siren:
                epci_deps[c.epci_siren].add(c.departement)
            if c.latitude is None or c.longitude is None:
                continue
            sieges[("commune", c.code_insee)] = (c.latitude, c.longitude)
            pop = c.population or 0
            for key in (("epci", c.epci_siren), ("departement", c.departement), ("region", c.region)):
                if key[1] and (key not in best or pop > best[key][0]):  # type: ignore[operator]
                    best[key] = (pop, c.latitude, c.longitude)  # type: ignore[index]
        for key, (_, lat, lon) in best.items():
            sieges[key] = (lat, lon)
        dep_codes = sorted(ref.departements)
        reg_codes = sorted(ref.regions)
        return cls(
            ref=ref,
            dep_codes=dep_codes,
            dep_pos={c: i for i, c in enumerate(dep_codes)},
            reg_codes=reg_codes,
            reg_pos={c: i for i, c in enumerate(reg_codes)},
            epci_pos={s: i for i, s in enumerate(sorted(ref.epci))},
            epci_deps={k: frozenset(v) for k, v in epci_deps.items()},
            region_deps={k: frozenset(v) for k, v in region_deps.items()},
            sieges=sieges,
            seat_population={code: pop for (niveau, code), (pop, _, _) in best.items() if niveau == "departement"},
        )

    # --- records and names ------------------------------------------------------------------------------

    def record(self, niveau: str, code: str) -> Any:
        """The referential's record (``Commune``, ``Epci``, ``Departement``, ``Region``) or ``None``."""
        table = {"commune": self.ref.communes, "epci": self.ref.epci, "departement": self.ref.departements,
                 "region": self.ref.regions}.get(niveau)
        return None if table is None else table.get(code)

    def nom(self, niveau: str, code: str) -> str | None:
        record = self.record(niveau, code)
        return None if record is None else record.nom

    def population(self, niveau: str, code: str) -> int | None:
        return getattr(self.record(niveau, code), "population", None)

    def tncc(self, niveau: str, code: str) -> int | None:
        """INSEE's article type of the territory's name (:mod:`kg.francais`), ``None`` when unknown."""
        return getattr(self.record(niveau, code), "tncc", None)

    def nom_avec_article(self, niveau: str, code: str) -> str | None:
        """The name with its article, as a sentence uses it: « la Gironde », « les Deux-Sèvres », « Arçais »."""
        record = self.record(niveau, code)
        return None if record is None else avec_article(record.nom, record.tncc)

    def noms_departements(self, deps: Iterable[str]) -> str:
        """The names of départements, sorted by code and separated by commas."""
        return ", ".join(self.ref.departements[d].nom for d in sorted(deps) if d in self.ref.departements)

    @cached_property
    def noms(self) -> list[tuple[str, str, str, str, int]]:
        """(folded name, collectivity code, niveau, shown label, population) of every collectivity.

        The collectivity code is the INSEE code of a commune, the SIREN of an EPCI, ``dep-XX`` or ``reg-XX``.
        """
        ref = self.ref
        out: list[tuple[str, str, str, str, int]] = []
        for c in ref.communes.values():
            label = f"{c.nom} ({c.departement}) — commune, {_habitants(c.population)}"
            out.append((normalise_texte(c.nom), c.code_insee, "commune", label, c.population or 0))
        for e in ref.epci.values():
            label = f"{e.nom} — intercommunalité, {_habitants(e.population)}"
            out.append((normalise_texte(e.nom), e.siren, "epci", label, e.population or 0))
        for d in ref.departements.values():
            label = f"{d.nom} ({d.code}) — département, {_habitants(d.population)}"
            out.append((normalise_texte(d.nom), f"dep-{d.code}", "departement", label, d.population or 0))
        for r in ref.regions.values():
            label = f"{r.nom} — région, {_habitants(r.population)}"
            out.append((normalise_texte(r.nom), f"reg-{r.code}", "region", label, r.population or 0))
        return out

    # --- the hierarchy ----------------------------------------------------------------------------------

    def rattachement(self, niveau: str, code: str) -> Rattachement:
        """What a territory lies in or covers: its départements, régions and EPCI (empty when unknown)."""
        key = (niveau, code)
        found = self._rattachements.get(key)
        if found is None:
            found = self._rattachement(niveau, code)
            self._rattachements[key] = found
        return found

    def _rattachement(self, niveau: str, code: str) -> Rattachement:
        ref = self.ref
        if niveau == "commune" and code in ref.communes:
            c = ref.communes[code]
            return Rattachement(frozenset({c.departement}), frozenset({c.region}), c.epci_siren)
        if niveau == "epci":
            deps = self.epci_deps.get(code, frozenset())
            return Rattachement(deps, frozenset(self.regions_of(deps)), code)
        if niveau == "departement" and code in ref.departements:
            return Rattachement(frozenset({code}), frozenset({ref.departements[code].region}), None)
        if niveau == "region" and code in ref.regions:
            return Rattachement(self.region_deps.get(code, frozenset()), frozenset({code}), None)
        return _NOWHERE

    def regions_of(self, deps: Iterable[str]) -> set[str]:
        """The régions of départements."""
        return {self.ref.departements[d].region for d in deps if d in self.ref.departements}

    def lieux(self, niveau: str, code: str) -> tuple[set[str], set[str], list[str]]:
        """The départements and régions a territory lies in, and the place names that locate it.

        Unlike :meth:`rattachement`, a région lies in no département; the names are the commune's or the
        EPCI's own, then those of its départements and régions (the words a search for a place matches).
        """
        ref = self.ref
        deps: set[str] = set()
        regions: set[str] = set()
        names: list[str] = []
        if niveau == "commune" and code in ref.communes:
            c = ref.communes[code]
            deps, names = {c.departement}, [c.nom]
        elif niveau == "epci" and code in ref.epci:
            deps, names = set(self.epci_deps.get(code, ())), [ref.epci[code].nom]
        elif niveau == "departement" and code in ref.departements:
            deps = {code}
        elif niveau == "region" and code in ref.regions:
            regions.add(code)
        for d in sorted(deps):  # sorted: the names come in the same order in every process
            if d in ref.departements:
                regions.add(ref.departements[d].region)
                names.append(ref.departements[d].nom)
        for rg in sorted(regions):
            if rg in ref.regions:
                names.append(ref.regions[rg].nom)
        return deps, regions, names

    # --- points -----------------------------------------------------------------------------------------

    def siege(self, niveau: str, code: str) -> Point | None:
        """A commune's town hall; for an EPCI, a département or a région, its most populous commune's."""
        return self.sieges.get((niveau, code))

    def siege_des_departements(self, deps: Iterable[str]) -> Point | None:
        """The seat of the most populous of several départements (a structure's seat, approximately)."""
        seats = [(self.seat_population[d], d) for d in deps if d in self.seat_population]
        return self.sieges[("departement", max(seats)[1])] if seats else None

    def centre(self, niveau: str, code: str) -> Point | None:
        """A commune's town hall; for a larger territory the population-weighted centre of its communes."""
        communes = self.ref.communes.values()
        if niveau == "commune":
            commune = self.ref.communes.get(code)
            if commune is None or commune.latitude is None or commune.longitude is None:
                return None
            return commune.latitude, commune.longitude
        if niveau == "departement":
            members = [c for c in communes if c.departement == code]
        elif niveau == "region":
            members = [c for c in communes if c.region == code]
        elif niveau == "epci":
            members = [c for c in communes if c.epci_siren == code]
        else:
            return None
        weighted = [(c.latitude, c.longitude, c.population or 1) for c in members if c.latitude is not None]
        total = sum(w for _, _, w in weighted)
        if not total:
            return None
        return (sum(la * w for la, _, w in weighted) / total, sum(lo * w for _, lo, w in weighted) / total)


def _habitants(population: int | None) -> str:
    return f"{population:,} hab.".replace(",", "\u202f") if population else "population inconnue"


# The shipped reference files do not change while a process runs and do not depend on the store or the
# settings, so one indexed value per process is safe to keep (``load_referentiel`` caches the read as well).
@cache
def territoires() -> Territoires:
    """The territories of the shipped referential (``data/reference/``), indexed once per process."""
    return Territoires.of(load_referentiel())
