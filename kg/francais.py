"""French that reads as French: articles, elision and contraction before names, numbers as a reader reads them.

Territories carry INSEE's article type, the TNCC (« type de nom en clair »), in the COG and in
``data/reference``; the functions below take it, so that nothing guesses what INSEE states:

====  ===========================================  ========  ==========
TNCC  INSEE's definition                           article   charnière
====  ===========================================  ========  ==========
0     no article, consonant (or aspirated h)       —         de
1     no article, vowel (or mute h)                —         d'
2     article LE                                   le        du
3     article LA                                   la        de la
4     article LES                                  les       des
5     article L'                                   l'        de l'
6     article AUX                                  aux       des
7     article LAS                                  las       de las
8     article LOS                                  los       de los
====  ===========================================  ========  ==========

A commune's name carries its article in the COG (« Le Havre », « La Rochelle »): it keeps its capital and
contracts (« du Havre », « au Havre », « de La Rochelle »). A département's or a région's name does not
(« Gironde », TNCC 3): the article is added in lower case (« la Gironde », « de la Gironde »).

Names without a TNCC (organisations: EPCI, syndicats, structures de mutualisation) get one from
:func:`tncc_organisation`: a leading common noun takes its gender's article (« la communauté
d'agglomération du Niortais », « le syndicat mixte Manche Numérique »), a proper name none (« de Mégalis
Bretagne », « d'e-Collectivités Vendée »).

Numbers: thousands separated by a narrow no-break space (U+202F, « 12 345 »), decimal comma (« 0,52 »), a
no-break space (U+00A0) between a number and its unit or the percent sign (« 38 km », « 52 % »).
"""

from __future__ import annotations

import re

__all__ = [
    "ESPACE_FINE",
    "ESPACE_INSECABLE",
    "a",
    "avec_article",
    "commence_par_voyelle",
    "de",
    "en",
    "fois",
    "km",
    "la",
    "le",
    "nombre",
    "pluriel",
    "pourcentage",
    "que",
    "tncc_organisation",
]

#: Narrow no-break space: the thousands separator.
ESPACE_FINE = "\u202f"
#: No-break space: between a number and its unit, before « % ».
ESPACE_INSECABLE = "\u00a0"

# TNCC -> the article as INSEE writes it in front of the name (None: no article).
_ARTICLES: dict[int, str | None] = {0: None, 1: None, 2: "le", 3: "la", 4: "les", 5: "l'", 6: "aux", 7: "las", 8: "los"}
# TNCC -> "de" + article, "à" + article (contracted where French contracts).
_DE = {2: "du", 3: "de la", 4: "des", 5: "de l'", 6: "des", 7: "de las", 8: "de los"}
_A = {2: "au", 3: "à la", 4: "aux", 5: "à l'", 6: "aux", 7: "à las", 8: "à los"}

_VOYELLES = frozenset("aeiouyàâäéèêëîïôöùûüÿæœ")

# Names whose h is aspirated: no elision (« le Havre », « la Haute-Garonne », « des Hauts-de-France »,
# « de Honfleur »). Any other initial h is taken as mute (« l'Hérault », « d'Hyères »), the majority case: 428
# of the 661 communes in H have TNCC 1 in the COG 2025. INSEE itself is not consistent on h (« Hauterive » 1,
# « Hauville » 0), so this list only holds what French usage is sure of; with a TNCC, the TNCC decides.
_H_ASPIRE = re.compile(r"^(hauts?|hautes?)([- ]|$)|^(havre|hague|hainaut|halles?|hollande|hongrie|honfleur|hurepoix)\b")

# Leading common nouns of organisation names -> (TNCC of their article, lower-cased after an article).
_NOMS_COMMUNS: dict[str, tuple[int, bool]] = {
    "agence": (5, True),
    "agglomération": (5, True),
    "association": (5, True),
    "bibliothèque": (3, True),
    "centre": (2, True),
    "collectivité": (3, True),
    "commune": (3, True),
    "communauté": (3, True),
    "conseil": (2, True),
    "département": (2, True),
    "direction": (3, True),
    "entente": (5, True),
    "espace": (5, True),
    "établissement": (5, True),
    "eurométropole": (5, False),
    "fédération": (3, True),
    "grand": (2, False),
    "grande": (3, False),
    "groupement": (2, True),
    "institut": (5, True),
    "mairie": (3, True),
    "maison": (3, True),
    "médiathèque": (3, True),
    "métropole": (3, True),
    "office": (5, True),
    "parc": (2, True),
    "pôle": (2, True),
    "région": (3, True),
    "service": (2, True),
    "syndicat": (2, True),
    "union": (5, True),
    "ville": (3, True),
    # acronyms of public bodies that French names with an article (« le GIP », « le SIVOM »)
    "ccas": (2, False),
    "gip": (2, False),
    "petr": (2, False),
    "sdis": (2, False),
    "sivom": (2, False),
    "sivu": (2, False),
}

_MOT = re.compile(r"^([^\s]+)(\s|$)")


def _premier_mot(nom: str) -> str:
    m = _MOT.match(nom.strip())
    return m.group(1) if m else ""


def commence_par_voyelle(nom: str) -> bool:
    """True when French elides before ``nom``: a vowel or a mute h (« Arçais », « Hérault », « e-Collectivités »)."""
    texte = nom.strip().lstrip("«\"' ")
    if not texte:
        return False
    first = texte[0].lower()
    if first in _VOYELLES:
        return True
    if first == "h":
        return not _H_ASPIRE.match(texte.lower())
    return False


def _article_porte(nom: str, tncc: int) -> tuple[str, str] | None:
    """(article as written, rest) when ``nom`` already begins with the article its TNCC names."""
    article = _ARTICLES.get(tncc)
    if article is None:
        return None
    if article == "l'":
        if len(nom) > 2 and nom[:2].lower() in ("l'", "l’"):
            return nom[:2], nom[2:]
        return None
    if nom[: len(article) + 1].lower() == article + " ":
        return nom[: len(article)], nom[len(article) + 1 :]
    return None


def _check(tncc: int) -> int:
    if tncc not in _ARTICLES:
        raise ValueError(f"TNCC inconnu : {tncc!r} (0 à 8)")
    return tncc


def tncc_organisation(nom: str) -> int:
    """The article type of a name without a TNCC: an article carried by the name (« Le Havre »), else the
    gender of a leading common noun (« Communauté de communes … » → 3, « Syndicat mixte … » → 2,
    « Agence technique … » → 5), else none: 1 before a vowel or a mute h, 0 otherwise (proper names:
    « Mégalis Bretagne », « e-Collectivités Vendée », « Brest Métropole »)."""
    nom = nom.strip()
    for tncc in (5, 4, 2, 3, 6, 7, 8):
        if _article_porte(nom, tncc):
            return tncc
    entree = _NOMS_COMMUNS.get(_premier_mot(nom).lower())
    if entree:
        return entree[0]
    return 1 if commence_par_voyelle(nom) else 0


def _parts(nom: str, tncc: int | None) -> tuple[int, str | None, str, bool]:
    """(tncc, article as carried by the name or None, the name without it, lower-case its first word)."""
    nom = nom.strip()
    if tncc is None:
        tncc = tncc_organisation(nom)
    tncc = _check(int(tncc))
    porte = _article_porte(nom, tncc)
    if porte:
        return tncc, porte[0], porte[1], False
    entree = _NOMS_COMMUNS.get(_premier_mot(nom).lower())
    lower = bool(entree and entree[1] and _ARTICLES[tncc] is not None)
    return tncc, None, nom, lower


def _corps(reste: str, lower: bool) -> str:
    if not lower:
        return reste
    mot = _premier_mot(reste)
    return mot.lower() + reste[len(mot) :]


def _lier(mot: str, suite: str) -> str:
    """``mot`` + ``suite`` with the elision French makes (« de » + « Arçais » → « d'Arçais »)."""
    if mot.endswith("'"):
        return mot + suite
    if mot in ("de", "que", "le", "la", "ce", "je", "ne", "se") and commence_par_voyelle(suite):
        return mot[:-1] + "'" + suite
    return f"{mot} {suite}"


def avec_article(nom: str, tncc: int | None = None) -> str:
    """The name with its article: « les Deux-Sèvres » (TNCC 4), « l'Hérault » (5), « Le Havre » (as the COG
    writes it), « Bretagne » (0), « la communauté d'agglomération du Niortais » (no TNCC)."""
    tncc, porte, reste, lower = _parts(nom, tncc)
    if porte is not None:
        return f"{porte}{reste}" if porte.endswith(("'", "’")) else f"{porte} {reste}"
    article = _ARTICLES[tncc]
    corps = _corps(reste, lower)
    return corps if article is None else _lier(article, corps)


def de(nom: str, tncc: int | None = None) -> str:
    """« de » before a name, elided or contracted: « d'Angoulême », « du Havre », « des Sables-d'Olonne »,
    « de la Gironde », « de La Rochelle », « du Niortais », « de la communauté de communes … »."""
    tncc, porte, reste, lower = _parts(nom, tncc)
    corps = _corps(reste, lower)
    if _ARTICLES[tncc] is None:
        return _lier("de", corps)
    charniere = _DE[tncc]
    if porte is not None and tncc in (3, 5, 7, 8):  # « de La Rochelle », « de L'Haÿ-les-Roses »: capital kept
        return f"de {porte}{reste}" if tncc == 5 else f"de {porte} {reste}"
    return f"{charniere}{corps}" if charniere.endswith("'") else f"{charniere} {corps}"


def a(nom: str, tncc: int | None = None) -> str:
    """« à » before a name: « à Arçais », « au Havre », « aux Sables-d'Olonne », « à La Rochelle »."""
    tncc, porte, reste, lower = _parts(nom, tncc)
    corps = _corps(reste, lower)
    if _ARTICLES[tncc] is None:
        return f"à {corps}"
    if porte is not None and tncc in (3, 5, 7, 8):
        return f"à {porte}{reste}" if tncc == 5 else f"à {porte} {reste}"
    charniere = _A[tncc]
    return f"{charniere}{corps}" if charniere.endswith("'") else f"{charniere} {corps}"


def que(nom: str, tncc: int | None = None) -> str:
    """« que » before a name (a comparison): « qu'Arçais », « que le Finistère », « que l'Hérault »."""
    return _lier("que", avec_article(nom, tncc))


def le(mot: str) -> str:
    """The masculine article before a word: « l'Hérault », « le Havre » (aspirated h), « le Finistère »."""
    return _lier("le", mot.strip())


def la(mot: str) -> str:
    """The feminine article before a word: « l'Isère », « la Haute-Garonne » (aspirated h), « la Gironde »."""
    return _lier("la", mot.strip())


# Territories one is « à », not « en » or « dans » (islands and a city-département).
_EN_A = frozenset({"paris", "mayotte", "la réunion"})


def en(nom: str, tncc: int) -> str:
    """Where, for a département or a région: « en Gironde », « en Bretagne », « en Ille-et-Vilaine »,
    « dans le Finistère », « dans les Deux-Sèvres », « dans l'Ain », « à Paris », « à La Réunion »."""
    tncc = _check(int(tncc))
    nom = nom.strip()
    if nom.lower() in _EN_A:
        return f"à {nom}"
    if tncc in (0, 1):
        return f"en {nom}"
    porte = _article_porte(nom, tncc)
    reste = porte[1] if porte else nom
    if tncc == 3:
        return f"en {reste}"
    return "dans " + avec_article(nom, tncc)


# --- numbers ------------------------------------------------------------------------------------------


def nombre(valeur: float | int, decimales: int | None = None) -> str:
    """A number as a French reader reads it: « 12 345 » (narrow no-break space), « 0,52 », « 1 234,5 ».

    ``decimales`` fixes the number of decimals; by default an integer has none and a float at most two,
    trailing zeros dropped (« 7,8 », not « 7,80 »)."""
    if isinstance(valeur, bool):
        raise TypeError("un booléen n'est pas un nombre")
    if decimales is None:
        if isinstance(valeur, int) or float(valeur).is_integer():
            texte = f"{round(valeur):,}"
        else:
            texte = f"{valeur:,.2f}".rstrip("0").rstrip(".")
    else:
        texte = f"{valeur:,.{decimales}f}"
    if texte in ("-0", "-0.0") or re.fullmatch(r"-0\.0+", texte):
        texte = texte[1:]
    return texte.replace(",", ESPACE_FINE).replace(".", ",").replace("-", "\u2212")


def fois(ratio: float) -> str:
    """A ratio: « 7,8 fois », « 303 fois », « 12 345 fois » (one decimal below 10, whole above)."""
    texte = nombre(round(ratio)) if ratio >= 10 else nombre(round(ratio, 1))
    return f"{texte} fois"


def km(distance: float) -> str:
    """A distance: « 38 km », « 6,5 km » (one decimal below 10 km), « 1 204 km »."""
    texte = nombre(round(distance)) if distance >= 10 else nombre(round(distance, 1))
    return f"{texte}{ESPACE_INSECABLE}km"


def pourcentage(part: float, decimales: int = 0) -> str:
    """A share in [0, 1] as a percentage: 0.52 → « 52 % », 0.075 with one decimal → « 7,5 % »."""
    return f"{nombre(part * 100, decimales)}{ESPACE_INSECABLE}%"


def pluriel(n: float, singulier: str, pluriel: str | None = None) -> str:
    """« 1 habitant », « 70 105 habitants », « 0,5 habitant » (French: singular below 2)."""
    mot = singulier if abs(n) < 2 else (pluriel or singulier + "s")
    return f"{nombre(n)} {mot}"
