"""IRI minting is deterministic and follows docs/architecture.md; the normalisation helpers that entity
resolution relies on handle the spellings found in the sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rdflib import URIRef

from ontology import iri

ID = "https://w3id.org/capitalis/id/"


# --------------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["Ville de Lille", "Lille", "LILLE", "Mairie de Lille", "Commune de Lille"], "lille"),
        (["Ville de La Rochelle", "La Rochelle", "LA ROCHELLE", "la rochelle", "Rochelle"], "rochelle"),
        (["Mairie d'Issy-les-Moulineaux", "Issy-les-Moulineaux", "ISSY LES MOULINEAUX"], "issy les moulineaux"),
        (["L’Haÿ-les-Roses", "L'Haÿ-les-Roses", "L HAY LES ROSES"], "hay les roses"),
        (["Saint-Médard-en-Jalles", "St-Médard-en-Jalles", "ST MEDARD EN JALLES", "St. Médard en Jalles"],
         "saint medard en jalles"),
        (["Sainte-Foy-lès-Lyon", "Ste-Foy-lès-Lyon", "STE FOY LES LYON"], "sainte foy les lyon"),
        (["Œuilly", "OEUILLY", "Oeuilly"], "oeuilly"),
        (["Conseil départemental de la Gironde", "Département de la Gironde", "Gironde",
          "Conseil général de la Gironde"], "gironde"),
        (["Région Bretagne", "Conseil régional de Bretagne", "Bretagne"], "bretagne"),
        (["Région Île-de-France", "Ile de France", "ÎLE-DE-FRANCE"], "ile de france"),
        (["Nord - Pas de Calais", "Nord-Pas-de-Calais", "Nord – Pas-de-Calais"], "nord pas de calais"),
        (["Communauté de communes de Parthenay-Gâtine", "CC de Parthenay-Gâtine", "CC Parthenay-Gâtine",
          "Cdc de Parthenay Gâtine"], "communaute de communes parthenay gatine"),
        (["Communauté d'agglomération du Grand Angoulême", "CA du Grand Angoulême", "Agglo du Grand Angoulême"],
         "communaute d agglomeration grand angouleme"),
        (["AUBENAS CEDEX", "Aubenas Cedex 2", "Aubenas"], "aubenas"),
        (["Le Mans", "LE MANS", "Ville du Mans"], "mans"),
        (["Syndicat mixte Manche Numérique", "SYNDICAT MIXTE MANCHE NUMERIQUE"], "syndicat mixte manche numerique"),
    ],
)
def test_normalise_nom_meets_spellings(spellings: list[str], key: str) -> None:
    assert {iri.normalise_nom(spelling) for spelling in spellings} == {key}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        # a commune whose name starts with a generic word keeps it (matching happens before hyphens go)
        ("Ville-d'Avray", "ville d avray"),
        ("Ville de Ville-d'Avray", "ville d avray"),
        ("La Ville-du-Bois", "ville du bois"),
        ("Ville Lumière", "ville lumiere"),  # no connector: not the prefix "ville de"
        ("Les", "les"),  # an article alone stays
        ("", ""),
        (None, ""),
        ("Brest Métropole & Co", "brest metropole et co"),
    ],
)
def test_normalise_nom_edge_cases(name: str | None, key: str) -> None:
    assert iri.normalise_nom(name) == key


def test_normalise_texte_keeps_articles_and_folds() -> None:
    assert iri.normalise_texte("Le Gall, Anne-Cécile") == "le gall anne cecile"
    assert iri.normalise_texte("Cœur   d’Ostrevent") == "coeur d ostrevent"
    assert iri.normalise_texte("St-Lô") == "saint lo"
    assert iri.normalise_texte(None) == ""


def test_slug() -> None:
    assert iri.slug("Mégalis Bretagne") == "megalis-bretagne"
    assert iri.slug("  WordPress ") == iri.slug("wordpress") == iri.slug("Wordpress") == "wordpress"
    assert iri.slug("C++") == "c-plus-plus"
    assert iri.slug("C#") == "c-sharp"
    assert iri.slug("L’Œil du Web") == "l-oeil-du-web"
    assert iri.slug("!!!") == ""
    long_a, long_b = "projet " * 40 + "a", "projet " * 40 + "b"
    assert len(iri.slug(long_a)) <= 80
    assert iri.slug(long_a) != iri.slug(long_b)
    assert iri.slug(long_a) == iri.slug(long_a)


@pytest.mark.parametrize(
    ("niveau", "raw", "code"),
    [
        ("commune", "59350", "59350"),
        ("commune", 1053, "01053"),  # leading zero lost by a spreadsheet
        ("commune", 1053.0, "01053"),
        ("commune", "1053", "01053"),
        ("commune", "2a004", "2A004"),
        ("commune", "97411", "97411"),
        ("epci", "200 054 781", "200054781"),
        ("departement", 1, "01"),
        ("departement", "2B", "2B"),
        ("departement", "974", "974"),
        ("region", 53, "53"),
    ],
)
def test_normalise_code(niveau: str, raw: str | int, code: str) -> None:
    assert iri.normalise_code(niveau, raw) == code


@pytest.mark.parametrize(
    ("niveau", "raw"),
    [("commune", "123456"), ("commune", "ABCDE"), ("epci", "1234"), ("region", "2A"), ("pays", "FR")],
)
def test_normalise_code_rejects(niveau: str, raw: str) -> None:
    with pytest.raises(ValueError):
        iri.normalise_code(niveau, raw)


# --------------------------------------------------------------------------------------------------------
# Minting
# --------------------------------------------------------------------------------------------------------


def test_territories_and_collectivities() -> None:
    assert iri.territoire("commune", 1053) == URIRef(ID + "commune/01053")
    assert iri.territoire("epci", "200041523") == URIRef(ID + "epci/200041523")
    assert iri.territoire("departement", "2A") == URIRef(ID + "departement/2A")
    assert iri.territoire("region", "53") == URIRef(ID + "region/53")
    assert iri.collectivite("commune", "59350") == URIRef(ID + "collectivite/59350")
    assert iri.collectivite("epci", "200041523") == URIRef(ID + "collectivite/200041523")
    assert iri.collectivite("departement", "33") == URIRef(ID + "collectivite/dep-33")
    assert iri.collectivite("region", "53") == URIRef(ID + "collectivite/reg-53")
    assert iri.insee_geo("commune", "59350") == URIRef("http://id.insee.fr/geo/commune/59350")
    with pytest.raises(ValueError):
        iri.territoire("canton", "01")
    with pytest.raises(ValueError):
        iri.insee_geo("epci", "200041523")


def test_names_mint_the_same_iri_for_the_same_body() -> None:
    assert iri.structure("Mégalis Bretagne") == iri.structure("MEGALIS BRETAGNE") == URIRef(
        ID + "structure/megalis-bretagne"
    )
    assert iri.organisation("Société Exemple & Fils") == URIRef(ID + "organisation/societe-exemple-et-fils")
    assert iri.technologie("WordPress") == iri.technologie("wordpress") == URIRef(ID + "technologie/wordpress")
    for mint in (iri.structure, iri.organisation, iri.technologie):
        with pytest.raises(ValueError):
            mint("  ")


def test_experiences_and_records() -> None:
    assert iri.experience("villes-internet", 1001) == URIRef(ID + "experience/vi-1001")
    assert iri.experience("villes-internet", 1001.0) == URIRef(ID + "experience/vi-1001")
    assert iri.experience("oten", "OTEN-2009-0042") == URIRef(ID + "experience/oten-OTEN-2009-0042")
    with pytest.raises(ValueError):
        iri.experience("netpublic", "1")
    with pytest.raises(ValueError):
        iri.experience("oten", "")
    assert iri.source_record("netpublic", "np-epn-0001") == URIRef(ID + "record/netpublic/np-epn-0001")
    assert iri.source_record("oten", "a b/c") == URIRef(ID + "record/oten/a%20b%2Fc")
    with pytest.raises(ValueError):
        iri.source_record("Villes Internet", "1")
    assert iri.lieu("np-epn-0001") == URIRef(ID + "lieu/np-epn-0001")
    assert iri.evaluation("OTEN-2006-0003") == URIRef(ID + "evaluation/OTEN-2006-0003")
    assert iri.indicateur("OTEN-2006-0003", 2) == URIRef(ID + "indicateur/OTEN-2006-0003/2")
    assert iri.financement("OTEN-2006-0003", 1) == URIRef(ID + "financement/OTEN-2006-0003/1")
    assert iri.label_villes_internet(2008, "14118") == URIRef(ID + "label/2008/14118")
    assert iri.decision("oten", "OTEN-1", "territoire") == URIRef(ID + "decision/oten/OTEN-1/territoire")
    assert iri.anomalie("oten", "f.xml", 3, "titre") == iri.anomalie("oten", "f.xml", 3, "titre")
    assert iri.anomalie("oten", "f.xml", 3, "titre") != iri.anomalie("oten", "f.xml", 4, "titre")


def test_import_runs() -> None:
    paris = timezone(timedelta(hours=2))
    stamp = datetime(2025, 1, 2, 5, 4, 5, tzinfo=paris)
    assert iri.import_run("oten", stamp) == URIRef(ID + "import/oten/20250102T030405Z")
    assert iri.import_run("oten", stamp) == iri.import_run("oten", stamp.astimezone(UTC))
    with_micro = datetime(2025, 1, 2, 3, 4, 5, 120, tzinfo=UTC)
    assert iri.import_run("oten", with_micro) == URIRef(ID + "import/oten/20250102T030405000120Z")
    assert iri.import_run("netpublic", "20250102T030405Z") == URIRef(ID + "import/netpublic/20250102T030405Z")


def test_personne_is_hashed_and_order_insensitive() -> None:
    a = iri.personne("Vincent Arnaud", "79202")
    assert a == iri.personne("ARNAUD Vincent", "79202") == iri.personne("  vincent  arnaud", "79202")
    assert a != iri.personne("Vincent Arnaud", "33063")
    assert "arnaud" not in str(a).lower()
    assert str(a).startswith(ID + "personne/")
    with pytest.raises(ValueError):
        iri.personne("", "79202")


def test_uuids_are_fresh() -> None:
    assert iri.parrainage() != iri.parrainage()
    assert str(iri.parrainage()).startswith(ID + "parrainage/")
    assert str(iri.contribution()).startswith(ID + "contribution/")


def test_taxonomy_iris() -> None:
    assert iri.concept("1") == URIRef(ID + "service/1")
    assert iri.concept("1a") == URIRef(ID + "service/1a")
    assert iri.concept("1a1") == URIRef(ID + "service/1a1")
    assert iri.concept("S92") == URIRef(ID + "service/S92")
    for bad in ("", "scheme", "1A", "s1", "1a1a"):
        with pytest.raises(ValueError):
            iri.concept(bad)
    assert iri.competence("conduite-de-projet") == URIRef(ID + "competence/conduite-de-projet")
    assert iri.oten_thematique("adm") == URIRef(ID + "oten/ADM")
    assert iri.statut_parrainage("en-cours") == URIRef(ID + "statut-parrainage/en-cours")
    with pytest.raises(ValueError):
        iri.statut_parrainage("refuse")
    assert URIRef(ID + "service/scheme") == iri.SERVICE_SCHEME


def test_graphs() -> None:
    required = {
        "ontologie",
        "referentiel",
        "villes-internet",
        "netpublic",
        "oten",
        "resolution",
        "parrainages",
        "contributions",
        "prive",
    }
    assert required <= set(iri.GRAPHS)
    assert all(iri.slug(name) == name for name in iri.GRAPHS)
    assert "prive" not in iri.PUBLIC_GRAPHS
    assert set(iri.PUBLIC_GRAPHS) | {"prive"} == set(iri.GRAPHS)
    assert set(iri.SOURCES) <= set(iri.GRAPHS)  # one named graph per source
    assert iri.graph("prive") == URIRef("https://w3id.org/capitalis/graph/prive")
    with pytest.raises(ValueError):
        iri.graph("private")


def test_minting_is_deterministic_across_calls() -> None:
    calls = [
        lambda: iri.territoire("commune", "59350"),
        lambda: iri.collectivite("departement", "33"),
        lambda: iri.structure("Mégalis Bretagne"),
        lambda: iri.experience("oten", "OTEN-2009-0042"),
        lambda: iri.personne("Hélène Guesnon", str(iri.structure("Manche Numérique"))),
        lambda: iri.source_record("villes-internet", "Actions/1001"),
    ]
    assert [call() for call in calls] == [call() for call in calls]


def test_resolver_decisions_are_named_by_their_content() -> None:
    first = iri.decision_resolution("oten", "commune/29019|code-insee|1.0")
    assert first == iri.decision_resolution("oten", "commune/29019|code-insee|1.0")
    assert first != iri.decision_resolution("oten", "commune/29232|code-insee|1.0")
    assert str(first).startswith(ID + "decision/oten/")
    with pytest.raises(ValueError):
        iri.decision_resolution("OTeN", "x")
