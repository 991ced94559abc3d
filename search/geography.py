"""Département(s), région(s) and place names of a territory node, as the search indexes them.

Read from the COG referential (:func:`ingest.territories.load_referentiel`): the facets ``region`` and
``departement`` of an experience, and the place names its lexical document holds ("Bretagne", "Finistère").
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property

from ingest.territories import Referentiel

_TERRITORY = re.compile(r"/id/(commune|epci|departement|region)/([^/]+)$")


class Geography:
    """Where a territory IRI (``…/id/commune/29019``, ``…/id/epci/{siren}``…) lies, from the referential."""

    def __init__(self, ref: Referentiel) -> None:
        self.ref = ref

    @cached_property
    def _epci_deps(self) -> dict[str, set[str]]:
        table: dict[str, set[str]] = defaultdict(set)
        for c in self.ref.communes.values():
            if c.epci_siren:
                table[c.epci_siren].add(c.departement)
        return table

    def epci_deps(self, siren: str) -> set[str]:
        """Départements of the member communes of an EPCI."""
        return self._epci_deps.get(siren, set())

    def of(self, territory: str) -> tuple[set[str], set[str], list[str]]:
        """(département codes, région codes, place names) of a territory IRI; empty for another IRI."""
        match = _TERRITORY.search(territory)
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
