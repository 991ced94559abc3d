"""Collectivities named by a user: codes and IRIs resolved, names looked up, one value per collectivity.

:func:`resolve_collectivite` turns an INSEE code, a SIREN, ``dep-XX``/``reg-XX`` or an IRI into (niveau, code);
:func:`collectivite` gives the :class:`Collectivite` of the referential (name, population, départements,
régions, EPCI, seat point); :func:`find_collectivites` looks collectivities up by name or code;
:func:`point_of_collectivite` places one on a map. Errors name the domain field (``collectivite``) and speak
of the domain; each surface names the field in its own terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InvalidInput, NotFound
from ontology import iri as mint
from ontology.iri import normalise_texte
from ontology.namespaces import ID
from territoires.referentiel import Point, territoire_of_iri, territoires

__all__ = [
    "Collectivite",
    "collectivite",
    "find_collectivites",
    "is_departement_code",
    "point_of_collectivite",
    "resolve_collectivite",
]

_COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_DEP_CODE = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")
_COLLECTIVITE_IRI = re.compile(re.escape(str(ID)) + r"collectivite/([^/]+)$")
_STRUCTURE_IRI = f"{ID}structure/"
_WHAT = {"commune": "commune de code INSEE", "epci": "intercommunalité de SIREN", "departement": "département de code",
         "region": "région de code"}


def is_departement_code(code: str) -> bool:
    """Whether ``code`` is shaped like a département code (``29``, ``2A``, ``974``)."""
    return bool(_DEP_CODE.match(code))


@dataclass(frozen=True)
class Collectivite:
    """A collectivity of the referential: where it lies, how many live there, its seat."""

    niveau: str
    code: str
    iri: str
    nom: str
    population: int | None
    departements: frozenset[str]
    regions: frozenset[str]
    epci: str | None
    siege: Point | None
    tncc: int | None = None  # INSEE's article type of ``nom`` (kg.francais): « les Deux-Sèvres », « d'Arçais »


def collectivite(niveau: str, code: str) -> Collectivite:
    """The collectivity of level ``niveau`` and code ``code``; NotFound when the referential lacks it."""
    t = territoires()
    record = t.record(niveau, code)
    if record is None:
        raise NotFound(f"aucune {_WHAT[niveau]} {code} dans le référentiel territorial (COG 2025)")
    where = t.rattachement(niveau, code)
    return Collectivite(
        niveau=niveau,
        code=code,
        iri=str(mint.collectivite(niveau, code)),
        nom=record.nom,
        population=record.population,
        departements=where.departements,
        regions=where.regions,
        epci=where.epci,
        siege=t.siege(niveau, code),
        tncc=getattr(record, "tncc", None),
    )


def resolve_collectivite(code: str, *, field: str = "collectivite") -> tuple[str, str]:
    """(niveau, code) of a collectivity named by an INSEE code, a SIREN, ``dep-XX``/``reg-XX`` or an IRI.

    A 5-character code is a commune, 2 or 3 characters a département (use ``reg-XX`` or the IRI for a
    région: their codes overlap), 9 digits an EPCI. Raises InvalidInput (on ``field``) on a malformed value,
    NotFound when the referential has no such collectivity.
    """
    value = (code or "").strip()
    if not value:
        raise InvalidInput("indiquez un code INSEE, un SIREN ou une IRI de collectivité", field=field)
    if value.startswith(("http://", "https://")):
        found = _of_iri(value, field)
        if found is not None:
            collectivite(*found)
            return found
        value = value.rsplit("/", 1)[-1]
    niveau, key = _of_code(value, field)
    collectivite(niveau, key)
    return niveau, key


def _of_iri(value: str, field: str) -> tuple[str, str] | None:
    """(niveau, code) of a territory IRI, ``None`` for a collectivity IRI (its key is read as a code)."""
    if value.startswith(_STRUCTURE_IRI):
        raise InvalidInput(f"{value} est une structure de mutualisation ; un filleul est une collectivité",
                           field=field)
    if _COLLECTIVITE_IRI.search(value):
        return None
    found = territoire_of_iri(value)
    if found is None:
        raise InvalidInput(f"{value} n'est pas l'IRI d'une collectivité (…/id/collectivite/…)", field=field)
    return found


def _of_code(value: str, field: str) -> tuple[str, str]:
    upper = value.upper()
    if upper.startswith(("DEP-", "REG-")):
        niveau = "departement" if upper.startswith("DEP-") else "region"
        key = upper[4:]
        if (niveau == "departement" and not _DEP_CODE.match(key)) or (niveau == "region" and not key.isdigit()):
            raise InvalidInput(f"code de collectivité invalide {value!r}", field=field)
        return niveau, key.zfill(2)
    if re.fullmatch(r"\d{9}", upper):
        return "epci", upper
    if _COMMUNE_CODE.match(upper):
        return "commune", upper
    if _DEP_CODE.match(upper):
        return "departement", upper
    if re.fullmatch(r"\d{4}", upper):  # a commune code whose leading zero a spreadsheet dropped
        return "commune", upper.zfill(5)
    raise InvalidInput(
        f"{value!r} n'est ni un code INSEE (commune : 5 caractères, département : 2 ou 3), "
        "ni un SIREN (9 chiffres), ni dep-XX / reg-XX, ni une IRI de collectivité",
        field=field,
    )


def find_collectivites(text: str, limit: int = 20) -> list[dict[str, str]]:
    """Collectivities of the COG referential by name or code (any commune, EPCI, département, région).

    ``code`` is what :func:`resolve_collectivite` takes: INSEE code, SIREN, ``dep-XX`` or ``reg-XX``. Names
    match on folded words (case, accents and hyphens ignored); exact and prefix matches first, then larger ones.
    """
    raw = (text or "").strip()
    if len(raw) < 2:
        raise InvalidInput("tapez au moins deux caractères du nom ou du code de la collectivité", field="collectivite")
    wanted = normalise_texte(raw)
    code = raw.upper()
    found = []
    for folded, key, niveau, label, pop in territoires().noms:
        if key.upper() == code or key.upper() == f"DEP-{code}" or (niveau == "commune" and key == code.zfill(5)):
            rank = 0
        elif folded == wanted:
            rank = 1
        elif folded.startswith(wanted):
            rank = 2
        elif f" {wanted}" in f" {folded}":
            rank = 3
        else:
            continue
        found.append((rank, -pop, label, key, niveau))
    found.sort()
    return [{"code": key, "label": label, "niveau": niveau} for _, _, label, key, niveau in found[:limit]]


def point_of_collectivite(code: str) -> Point | None:
    """The point of a collectivity named by its code (INSEE, SIREN, ``dep-XX``, ``reg-XX``), from the COG.

    A commune's town hall; for an EPCI, a département or a région the population-weighted centre of its
    communes. ``None`` when the code is unknown.
    """
    value = (code or "").strip()
    upper = value.upper()
    if upper.startswith("DEP-"):
        return territoires().centre("departement", value[4:])
    if upper.startswith("REG-"):
        return territoires().centre("region", value[4:])
    if len(value) == 9 and value.isdigit():
        return territoires().centre("epci", value)
    return territoires().centre("commune", value)
