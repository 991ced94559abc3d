"""kg.francais on real names: the TNCC of every row of the table is read from data/reference (INSEE's COG 2025),
and the elision rule is checked against every commune of France."""

from __future__ import annotations

import csv
import gzip
import io
from functools import cache
from pathlib import Path

import pytest

from kg.francais import (
    ESPACE_FINE,
    ESPACE_INSECABLE,
    a,
    avec_article,
    commence_par_voyelle,
    de,
    en,
    fois,
    km,
    la,
    le,
    nombre,
    pluriel,
    pourcentage,
    que,
    tncc_organisation,
)

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with gzip.open(REFERENCE / f"{name}.csv.gz", "rb") as raw:
        return tuple(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")))


@cache
def _tncc(kind: str, code: str) -> tuple[str, int]:
    key = {"communes": "code_insee", "departements": "code", "regions": "code", "epci": "siren"}[kind]
    row = next(r for r in _rows(kind) if r[key] == code)
    return row["nom"], int(row["tncc"])


# (file, code, expected name, TNCC, avec_article, de, à). 32 territories, the TNCC being INSEE's.
TERRITOIRES = [
    ("communes", "16015", "Angoulême", 1, "Angoulême", "d'Angoulême", "à Angoulême"),
    ("communes", "76351", "Le Havre", 2, "Le Havre", "du Havre", "au Havre"),
    (
        "communes",
        "85194",
        "Les Sables-d'Olonne",
        4,
        "Les Sables-d'Olonne",
        "des Sables-d'Olonne",
        "aux Sables-d'Olonne",
    ),
    ("communes", "79010", "Arçais", 1, "Arçais", "d'Arçais", "à Arçais"),
    ("communes", "17300", "La Rochelle", 3, "La Rochelle", "de La Rochelle", "à La Rochelle"),
    ("communes", "94038", "L'Haÿ-les-Roses", 5, "L'Haÿ-les-Roses", "de L'Haÿ-les-Roses", "à L'Haÿ-les-Roses"),
    ("communes", "60703", "Aux Marais", 6, "Aux Marais", "des Marais", "aux Marais"),
    ("communes", "66104", "Los Masos", 8, "Los Masos", "de Los Masos", "à Los Masos"),
    ("communes", "79191", "Niort", 0, "Niort", "de Niort", "à Niort"),
    ("communes", "33053", "Birac", 0, "Birac", "de Birac", "à Birac"),
    ("communes", "72181", "Le Mans", 2, "Le Mans", "du Mans", "au Mans"),
    ("communes", "93045", "Les Lilas", 4, "Les Lilas", "des Lilas", "aux Lilas"),
    (
        "communes",
        "01001",
        "L'Abergement-Clémenciat",
        5,
        "L'Abergement-Clémenciat",
        "de L'Abergement-Clémenciat",
        "à L'Abergement-Clémenciat",
    ),
    (
        "communes",
        "14327",
        "Hérouville-Saint-Clair",
        1,
        "Hérouville-Saint-Clair",
        "d'Hérouville-Saint-Clair",
        "à Hérouville-Saint-Clair",
    ),
    ("communes", "14333", "Honfleur", 0, "Honfleur", "de Honfleur", "à Honfleur"),
    ("communes", "83069", "Hyères", 1, "Hyères", "d'Hyères", "à Hyères"),
    ("communes", "03103", "Le Donjon", 2, "Le Donjon", "du Donjon", "au Donjon"),
    ("communes", "45234", "Orléans", 1, "Orléans", "d'Orléans", "à Orléans"),
    ("departements", "79", "Deux-Sèvres", 4, "les Deux-Sèvres", "des Deux-Sèvres", "aux Deux-Sèvres"),
    ("departements", "33", "Gironde", 3, "la Gironde", "de la Gironde", "à la Gironde"),
    ("departements", "34", "Hérault", 5, "l'Hérault", "de l'Hérault", "à l'Hérault"),
    ("departements", "29", "Finistère", 2, "le Finistère", "du Finistère", "au Finistère"),
    ("departements", "31", "Haute-Garonne", 3, "la Haute-Garonne", "de la Haute-Garonne", "à la Haute-Garonne"),
    ("departements", "35", "Ille-et-Vilaine", 1, "Ille-et-Vilaine", "d'Ille-et-Vilaine", "à Ille-et-Vilaine"),
    ("departements", "22", "Côtes-d'Armor", 4, "les Côtes-d'Armor", "des Côtes-d'Armor", "aux Côtes-d'Armor"),
    ("departements", "01", "Ain", 5, "l'Ain", "de l'Ain", "à l'Ain"),
    ("departements", "75", "Paris", 0, "Paris", "de Paris", "à Paris"),
    ("regions", "53", "Bretagne", 0, "Bretagne", "de Bretagne", "à Bretagne"),
    ("regions", "11", "Île-de-France", 1, "Île-de-France", "d'Île-de-France", "à Île-de-France"),
    ("regions", "32", "Hauts-de-France", 4, "les Hauts-de-France", "des Hauts-de-France", "aux Hauts-de-France"),
    ("regions", "44", "Grand Est", 2, "le Grand Est", "du Grand Est", "au Grand Est"),
    ("regions", "04", "La Réunion", 0, "La Réunion", "de La Réunion", "à La Réunion"),
]


@pytest.mark.parametrize(("kind", "code", "nom", "tncc", "article", "de_", "a_"), TERRITOIRES)
def test_territory_names_with_insee_tncc(kind, code, nom, tncc, article, de_, a_):
    assert _tncc(kind, code) == (nom, tncc)  # the table agrees with the COG as extracted
    assert avec_article(nom, tncc) == article
    assert de(nom, tncc) == de_
    assert a(nom, tncc) == a_


def test_the_table_is_large_enough():
    assert len(TERRITOIRES) >= 30


@pytest.mark.parametrize(
    ("nom", "tncc", "attendu"),
    [
        ("Arçais", 1, "qu'Arçais"),
        ("Hérault", 5, "que l'Hérault"),
        ("Finistère", 2, "que le Finistère"),
        ("Le Havre", 2, "que Le Havre"),
        ("Niort", 0, "que Niort"),
    ],
)
def test_que(nom, tncc, attendu):
    assert que(nom, tncc) == attendu


@pytest.mark.parametrize(
    ("fonction", "mot", "attendu"),
    [
        (le, "Hérault", "l'Hérault"),
        (le, "Havre", "le Havre"),  # aspirated h
        (la, "Haute-Garonne", "la Haute-Garonne"),  # aspirated h
        (la, "Isère", "l'Isère"),
        (le, "Finistère", "le Finistère"),
    ],
)
def test_le_la_elide_before_a_vowel_or_a_mute_h(fonction, mot, attendu):
    assert fonction(mot) == attendu


@pytest.mark.parametrize(
    ("code", "tncc", "attendu"),
    [
        ("33", 3, "en Gironde"),
        ("29", 2, "dans le Finistère"),
        ("79", 4, "dans les Deux-Sèvres"),
        ("01", 5, "dans l'Ain"),
        ("35", 1, "en Ille-et-Vilaine"),
        ("75", 0, "à Paris"),
        ("976", 0, "à Mayotte"),
    ],
)
def test_en_for_departements(code, tncc, attendu):
    nom, tncc_cog = _tncc("departements", code)
    assert tncc_cog == tncc
    assert en(nom, tncc_cog) == attendu


def test_en_for_regions():
    assert en(*_tncc("regions", "53")) == "en Bretagne"
    assert en(*_tncc("regions", "75")) == "en Nouvelle-Aquitaine"
    assert en(*_tncc("regions", "32")) == "dans les Hauts-de-France"
    assert en(*_tncc("regions", "04")) == "à La Réunion"


def test_elision_rule_agrees_with_insee_on_every_commune_outside_h():
    """TNCC 0/1 is INSEE's verdict on elision; outside names in H (where INSEE itself is not consistent:
    « Hauterive » 1, « Hauville » 0) the vowel rule must agree on every commune and commune déléguée."""
    checked = 0
    disagree = []
    for row in _rows("communes") + _rows("infracommunal"):
        tncc = int(row["tncc"])
        if tncc in (0, 1) and not row["nom"].upper().startswith("H"):
            checked += 1
            if commence_par_voyelle(row["nom"]) != (tncc == 1):
                disagree.append((row["nom"], tncc))
    assert checked > 30_000
    assert disagree == []


def test_article_carried_by_a_name_gives_its_tncc():
    """Every COG name with an article (TNCC 2-8) carries it, and tncc_organisation reads it back."""
    rows = [r for r in _rows("communes") + _rows("infracommunal") if int(r["tncc"]) >= 2]
    assert len(rows) > 2_000
    assert [(r["nom"], r["tncc"]) for r in rows if tncc_organisation(r["nom"]) != int(r["tncc"])] == []


@pytest.mark.parametrize(
    ("nom", "article", "de_"),
    [
        (
            "Communauté d'agglomération du Niortais",
            "la communauté d'agglomération du Niortais",
            "de la communauté d'agglomération du Niortais",
        ),
        ("Syndicat mixte Manche Numérique", "le syndicat mixte Manche Numérique", "du syndicat mixte Manche Numérique"),
        (
            "Agence Technique Départementale de la Dordogne",
            "l'agence Technique Départementale de la Dordogne",
            "de l'agence Technique Départementale de la Dordogne",
        ),
        (
            "Conseil départemental de la Gironde",
            "le conseil départemental de la Gironde",
            "du conseil départemental de la Gironde",
        ),
        ("Métropole du Grand Paris", "la métropole du Grand Paris", "de la métropole du Grand Paris"),
        ("Ville de Lille", "la ville de Lille", "de la ville de Lille"),
        ("Eurométropole de Strasbourg", "l'Eurométropole de Strasbourg", "de l'Eurométropole de Strasbourg"),
        ("e-Collectivités Vendée", "e-Collectivités Vendée", "d'e-Collectivités Vendée"),
        ("Mégalis Bretagne", "Mégalis Bretagne", "de Mégalis Bretagne"),
        ("Brest Métropole", "Brest Métropole", "de Brest Métropole"),
        ("Ardenne Métropole", "Ardenne Métropole", "d'Ardenne Métropole"),
        ("SICTIAM", "SICTIAM", "de SICTIAM"),
    ],
)
def test_organisation_names_without_tncc(nom, article, de_):
    assert avec_article(nom) == article
    assert de(nom) == de_
    assert de(nom, tncc_organisation(nom)) == de_  # the TNCC written for EPCI gives the same text


def test_epci_tncc_in_the_referential_is_the_derived_one():
    rows = _rows("epci")
    assert len(rows) == 1_253
    assert all(int(r["tncc"]) == tncc_organisation(r["nom"]) for r in rows)
    nom, tncc = _tncc("epci", "200041317")  # CA du Niortais
    assert (nom, tncc) == ("Communauté d'agglomération du Niortais", 3)
    assert de(nom, tncc) == "de la communauté d'agglomération du Niortais"


def test_unknown_tncc_is_refused():
    with pytest.raises(ValueError, match="TNCC"):
        de("Niort", 9)


@pytest.mark.parametrize(
    ("valeur", "attendu"),
    [
        (nombre(12345), f"12{ESPACE_FINE}345"),
        (nombre(1_234_567), f"1{ESPACE_FINE}234{ESPACE_FINE}567"),
        (nombre(231), "231"),
        (nombre(0.52), "0,52"),
        (nombre(7.8), "7,8"),
        (nombre(1234.5, 1), f"1{ESPACE_FINE}234,5"),
        (nombre(2.0), "2"),
        (nombre(-0.001, 2), "0,00"),
        (fois(7.8), "7,8 fois"),
        (fois(303.48), "303 fois"),
        (fois(12345.2), f"12{ESPACE_FINE}345 fois"),
        (km(38.2), f"38{ESPACE_INSECABLE}km"),
        (km(6.54), f"6,5{ESPACE_INSECABLE}km"),
        (pourcentage(0.52), f"52{ESPACE_INSECABLE}%"),
        (pourcentage(0.075, 1), f"7,5{ESPACE_INSECABLE}%"),
        (pluriel(1, "habitant"), "1 habitant"),
        (pluriel(70105, "habitant"), f"70{ESPACE_FINE}105 habitants"),
        (pluriel(3, "expérience pertinente", "expériences pertinentes"), "3 expériences pertinentes"),
    ],
)
def test_numbers(valeur, attendu):
    assert valeur == attendu
