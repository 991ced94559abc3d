"""The territory service on the shipped COG referential: hierarchy, seats, collectivities by code, distances."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.territories import distance_km
from kg.errors import InvalidInput, NotFound
from kg.store import memory_store
from ontology import iri as mint
from ontology.namespaces import CAP, IGEO, WGS
from territoires.carte import points
from territoires.collectivites import (
    collectivite,
    find_collectivites,
    point_of_collectivite,
    resolve_collectivite,
)
from territoires.distance import haversine
from territoires.referentiel import territoire_of_iri, territoires

RENNES, RENNES_METROPOLE = "35238", "243500139"


def test_hierarchy_of_a_commune_an_epci_and_a_region() -> None:
    t = territoires()
    commune = t.rattachement("commune", RENNES)
    assert commune.departements == {"35"} and commune.regions == {"53"} and commune.epci == RENNES_METROPOLE
    assert t.rattachement("epci", RENNES_METROPOLE).departements == {"35"}
    assert {"22", "29", "35", "56"} <= t.rattachement("region", "53").departements
    assert t.rattachement("commune", "00000").departements == frozenset()
    assert t.nom("departement", "35") == "Ille-et-Vilaine" and t.population("region", "53") > 3_000_000


def test_places_of_a_region_lie_in_no_departement() -> None:
    deps, regions, names = territoires().lieux("region", "53")
    assert deps == set() and regions == {"53"} and names == ["Bretagne"]
    deps, regions, names = territoires().lieux("commune", RENNES)
    assert deps == {"35"} and names[0] == "Rennes" and set(names[1:]) == {"Ille-et-Vilaine", "Bretagne"}


def test_seat_is_the_most_populous_commune_and_centre_is_weighted() -> None:
    t = territoires()
    assert t.siege("departement", "35") == t.siege("commune", RENNES)
    assert t.siege_des_departements({"35", "22"}) == t.siege("commune", RENNES)
    centre = t.centre("departement", "35")
    assert centre is not None and centre != t.siege("commune", RENNES)
    assert point_of_collectivite("dep-35") == centre


def test_territory_iris() -> None:
    assert territoire_of_iri(str(mint.territoire("commune", RENNES))) == ("commune", RENNES)
    assert territoire_of_iri(str(mint.collectivite("commune", RENNES))) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("35238", ("commune", RENNES)),
        ("5001", ("commune", "05001")),
        ("243500139", ("epci", RENNES_METROPOLE)),
        ("dep-35", ("departement", "35")),
        ("2A", ("departement", "2A")),
        ("reg-53", ("region", "53")),
        (str(mint.collectivite("region", "53")), ("region", "53")),
        (str(mint.territoire("epci", RENNES_METROPOLE)), ("epci", RENNES_METROPOLE)),
    ],
)
def test_resolve_collectivite(value: str, expected: tuple[str, str]) -> None:
    assert resolve_collectivite(value) == expected


@pytest.mark.parametrize("value", ["", "zz", "dep-xyz", "https://w3id.org/capitalis/id/structure/gironde-numerique"])
def test_malformed_collectivities_name_the_domain_field(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_collectivite(value, field="parrain")
    assert caught.value.field == "parrain"
    assert not caught.value.message.startswith("-")


def test_unknown_collectivity() -> None:
    with pytest.raises(NotFound, match="aucune commune de code INSEE 99999"):
        resolve_collectivite("99999")
    assert collectivite("commune", RENNES).nom == "Rennes"


def test_lookup_by_name() -> None:
    assert find_collectivites("rennes")[0]["code"] == RENNES
    with pytest.raises(InvalidInput) as caught:
        find_collectivites("r")
    assert caught.value.field == "collectivite"


def test_haversine_agrees_with_the_scalar_distance() -> None:
    brest, quimper = (48.3904, -4.4861), (47.9960, -4.1024)
    d = haversine(*brest, np.asarray([quimper[0], np.nan]), np.asarray([quimper[1], 0.0]))
    assert d[0] == pytest.approx(distance_km(*brest, *quimper)) and 45 < d[0] < 60
    assert np.isnan(d[1])


def test_points_of_carriers_fall_back_on_the_centre_of_their_territory() -> None:
    dep, commune = mint.territoire("departement", "35"), mint.territoire("commune", RENNES)
    store = memory_store()
    store.update(
        f"""INSERT DATA {{ GRAPH <{mint.graph("referentiel")}> {{
            <{mint.collectivite("departement", "35")}> a <{CAP.Departement}> ; <{CAP.territoire}> <{dep}> .
            <{commune}> a <{IGEO.Commune}> ; <{IGEO.subdivisionDirecteDe}> <{dep}> ; <{WGS.lat}> 48.1 ;
                <{WGS.long}> -1.6 ; <{CAP.population}> 220000 . }} }}"""
    )
    assert points(store) == {str(mint.collectivite("departement", "35")): (48.1, -1.6)}
    store.close()
