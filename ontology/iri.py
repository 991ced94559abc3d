"""Deterministic IRI minting and the project's name normalisation.

Every data IRI is ``https://w3id.org/capitalis/id/{kind}/{key}`` with a key computed from the source
(INSEE code, SIREN, source id) or from a normalised name, so that re-importing a file mints the same IRIs
and two sources naming the same thing meet on one node. The table of kinds is in ``docs/architecture.md``.

``normalise_texte``, ``normalise_nom`` and ``slug`` are THE normalisation helpers of the project: entity
resolution compares names with them, so a change here changes which records merge.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from functools import cache, lru_cache
from urllib.parse import quote

from rdflib import URIRef

from ontology.namespaces import GRAPH, ID

__all__ = [
    "COMPETENCE_SCHEME",
    "DATA_KEY",
    "GRAPHS",
    "NIVEAUX",
    "OTEN_SCHEME",
    "PREFIXES_GENERIQUES",
    "PUBLIC_GRAPHS",
    "SERVICE_SCHEME",
    "SOURCES",
    "STATUTS_PARRAINAGE",
    "STATUT_PARRAINAGE_SCHEME",
    "anomalie",
    "collectivite",
    "competence",
    "concept",
    "contribution",
    "decision",
    "evaluation",
    "experience",
    "experience_from_key",
    "financement",
    "graph",
    "import_run",
    "indicateur",
    "insee_geo",
    "label_villes_internet",
    "lieu",
    "normalise_code",
    "normalise_nom",
    "normalise_texte",
    "organisation",
    "oten_thematique",
    "parrainage",
    "personne",
    "slug",
    "source_record",
    "statut_parrainage",
    "structure",
    "technologie",
    "territoire",
]

# --------------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------------

#: Territory levels, as used in IRIs (``id/{niveau}/{code}``) and in OTeN ``territoire/@niveau``.
NIVEAUX: tuple[str, ...] = ("commune", "epci", "departement", "region")

#: Source names (literal values of ``cap:source``) and the prefix of their experience keys.
#: The Villes Internet label palmarès is its own snapshot (``villes-internet-labels``), apart from the workbook.
SOURCES: tuple[str, ...] = ("villes-internet", "villes-internet-labels", "netpublic", "oten")
_EXPERIENCE_PREFIX = {"villes-internet": "vi", "oten": "oten", "contributions": "contrib"}

#: Named graphs; ``prive`` holds personal contact data and is never public.
GRAPHS: tuple[str, ...] = (
    "ontologie",
    "referentiel",
    "villes-internet",
    "villes-internet-labels",
    "netpublic",
    "oten",
    "resolution",
    "parrainages",
    "contributions",
    "prive",
)
PUBLIC_GRAPHS: tuple[str, ...] = tuple(name for name in GRAPHS if name != "prive")

SERVICE_SCHEME = URIRef(ID["service/scheme"])
COMPETENCE_SCHEME = URIRef(ID["competence/scheme"])
OTEN_SCHEME = URIRef(ID["oten/scheme"])
STATUT_PARRAINAGE_SCHEME = URIRef(ID["statut-parrainage/scheme"])
STATUTS_PARRAINAGE: tuple[str, ...] = ("propose", "accepte", "en-cours", "termine")

_CODE_PATTERNS = {
    "commune": re.compile(r"^(?:\d{5}|2[AB]\d{3})$"),
    "epci": re.compile(r"^\d{9}$"),
    "departement": re.compile(r"^(?:\d{2}|2[AB]|97\d)$"),
    "region": re.compile(r"^\d{2}$"),
}
# INSEE codes lose their leading zeros in spreadsheets; a SIREN is never padded (too short is wrong).
#: What the last segment of a data IRI may be when a user types it (``vi-1024``, ``35238``, ``dep-35``).
DATA_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~%-]{0,199}")
_CODE_WIDTH = {"commune": 5, "departement": 2, "region": 2}
_INSEE_GEO_KIND = {"commune": "commune", "departement": "departement", "region": "region"}

# --------------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------------

# Spelled out by str.replace, pair by pair: seven fast scans beat one str.translate with a dict (slow on non-ASCII).
_LIGATURES = (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss"), ("ĳ", "ij"), ("Ĳ", "IJ"))
# Apostrophes and look-alikes: French elision ("l'", "d'") must split words, whatever the keyboard.
_APOSTROPHES = re.compile(r"['’‘`´ʼʹ′‛]")
# Typographic dashes and the minus sign: "Nord – Pas-de-Calais" is "Nord-Pas-de-Calais".
_DASHES = re.compile(r"[‐‑‒–—―−]")
_SYMBOLS = (("&", " et "), ("+", " plus "), ("#", " sharp "))
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_ALNUM_KEEP_HYPHEN = re.compile(r"[^0-9a-z-]+")
_SAINTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}

# Leading generic words that say what kind of body a name designates, not which one. Each entry is
# (words, connector): connector "requis" means the words only count when a connector follows ("Ville de
# Lille" but not "Ville Lumière"); "facultatif" allows "Région Bretagne" as well as "Région de Bretagne".
# Matching happens before hyphens become spaces, so communes whose name starts with such a word
# ("Ville-d'Avray", "La Ville-du-Bois") keep it.
PREFIXES_GENERIQUES: tuple[tuple[str, str], ...] = (
    ("commune nouvelle", "requis"),
    ("commune", "requis"),
    ("ville", "requis"),
    ("mairie", "requis"),
    ("conseil departemental", "facultatif"),
    ("conseil general", "facultatif"),
    ("departement", "facultatif"),
    ("conseil regional", "facultatif"),
    ("region", "facultatif"),
    ("collectivite territoriale", "requis"),
)
_CONNECTORS = ("de la", "de l", "des", "du", "de", "d")
_ARTICLES = ("les", "le", "la", "l")
# EPCI kinds are kept (they tell an EPCI from its main town) but their abbreviations are spelled out and
# the connector after them dropped, so "CC de Parthenay-Gâtine" = "Communauté de communes Parthenay-Gâtine".
_EPCI_FORMES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("communaute de communes", "cc", "cdc"), "communaute de communes"),
    (("communaute d agglomeration", "ca", "agglo"), "communaute d agglomeration"),
    (("communaute urbaine", "cu"), "communaute urbaine"),
)
_CEDEX = re.compile(r"\s+cedex(?:\s+\d+)?$")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")  # characters above U+FFFF (see _strip_marks)


@cache
def _combining_marks() -> re.Pattern[str]:
    """The combining characters of the Basic Multilingual Plane (accents once NFKD has split them off).

    One regex substitution is twenty times faster than testing ``unicodedata.combining`` character by
    character, and the importers fold hundreds of thousands of texts. (``re`` matches a class holding
    characters beyond U+FFFF slowly: :func:`_strip_marks` handles those rare texts the plain way.)
    """
    marks = "".join(re.escape(chr(code)) for code in range(0x10000) if unicodedata.combining(chr(code)))
    return re.compile(f"[{marks}]")


def _strip_marks(text: str) -> str:
    """Remove every combining character."""
    if _BEYOND_BMP.search(text):
        return "".join(char for char in text if not unicodedata.combining(char))
    return _combining_marks().sub("", text)


def _fold(text: str) -> str:
    """Lowercase, strip accents and ligatures; keep every other character for the caller to handle."""
    if not text.isascii():  # ASCII text has no accent, ligature nor compatibility form: skip the Unicode steps
        text = unicodedata.normalize("NFKC", text)
        for ligature, letters in _LIGATURES:
            text = text.replace(ligature, letters)
        text = _strip_marks(unicodedata.normalize("NFKD", text))
    text = _DASHES.sub("-", _APOSTROPHES.sub(" ", text.casefold()))
    for symbol, word in _SYMBOLS:
        text = text.replace(symbol, word)
    return text


def _saints(words: list[str]) -> list[str]:
    return [_SAINTS.get(word, word) for word in words]


def normalise_texte(text: str | None) -> str:
    """Fold a text for comparison: lowercase, no accents, œ→oe, punctuation and hyphens as single spaces,
    St/Ste spelled Saint/Sainte. Keeps every word (use it for person names, labels, free text)."""
    if not text:
        return ""
    words = _NON_ALNUM.sub(" ", _fold(text)).split()
    return " ".join(_saints(words))


def _strip_connector(text: str) -> str | None:
    for connector in _CONNECTORS:
        if text.startswith(connector + " "):
            return text[len(connector) + 1 :]
    return None


def _strip_prefix(text: str) -> str:
    for words, connector in PREFIXES_GENERIQUES:
        if not text.startswith(words + " "):
            continue
        rest = text[len(words) + 1 :]
        after = _strip_connector(rest)
        if after:
            return after
        if connector == "facultatif" and rest:
            return rest
    return text


def _strip_article(text: str) -> str:
    for article in _ARTICLES:
        if text.startswith(article + " ") and text[len(article) + 1 :].strip():
            return text[len(article) + 1 :]
    return text


def _epci_forme(text: str) -> str:
    for variants, canonical in _EPCI_FORMES:
        for variant in variants:
            if text == variant or text.startswith(variant + " "):
                rest = text[len(variant) :].strip()
                rest = _strip_article(_strip_connector(rest) or rest)
                return f"{canonical} {rest}".strip()
    return text


# A pure function of a (short) name, called for the same names record after record (a collectivité carries
# many actions, a partner many fiches): each name is folded once per process. Free texts go through
# ``normalise_texte``, which keeps no cache.
@lru_cache(maxsize=65_536)
def normalise_nom(text: str | None) -> str:
    """Matching key of the name of a place or a body.

    On top of ``normalise_texte``: drops the leading generic words of ``PREFIXES_GENERIQUES`` with their
    connector ("Ville de", "Commune de", "Mairie de", "Conseil départemental de la", "Département de",
    "Région"…), then one leading article (le, la, les, l'); spells out EPCI abbreviations (CC, CA, CU,
    CdC, Agglo) and drops the connector after them; drops a trailing "Cedex [n]". So "Ville de La
    Rochelle", "la Rochelle" and "LA ROCHELLE" all give "rochelle". A key, not a display name.
    """
    if not text:
        return ""
    folded = _NON_ALNUM_KEEP_HYPHEN.sub(" ", _fold(text))
    folded = re.sub(r"\s*-\s*", "-", folded).strip(" -")
    folded = " ".join(folded.split())
    folded = _strip_article(_strip_prefix(folded))
    words = _saints(folded.replace("-", " ").split())
    result = _epci_forme(" ".join(words))
    return _CEDEX.sub("", result)


def slug(text: str | None, *, max_length: int = 80) -> str:
    """Lowercase ASCII words joined by hyphens ("Mégalis Bretagne" → "megalis-bretagne").

    Longer slugs are cut and suffixed with a short hash of the full slug, so they stay unique and stable.
    """
    if not text:
        return ""
    value = _NON_ALNUM.sub("-", _fold(text)).strip("-")
    if len(value) > max_length:
        digest = hashlib.sha256(value.encode()).hexdigest()[:8]
        value = value[: max_length - 9].rstrip("-") + "-" + digest
    return value


def normalise_code(niveau: str, code: str | int) -> str:
    """Canonical code of a territory: INSEE code (commune, département, région) or SIREN (EPCI).

    Restores the leading zeros a spreadsheet drops from INSEE codes (1053 → "01053") and removes spaces
    from a SIREN;
    raises ValueError when the result is not a valid code of that level.
    """
    _check_niveau(niveau)
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    value = str(code).strip().upper().replace(" ", "").replace("\u00a0", "")
    if niveau in _CODE_WIDTH and value.isdigit() and len(value) < _CODE_WIDTH[niveau]:
        value = value.zfill(_CODE_WIDTH[niveau])
    if not _CODE_PATTERNS[niveau].match(value):
        raise ValueError(f"code {niveau} invalide : {code!r}")
    return value


# --------------------------------------------------------------------------------------------------------
# Minting
# --------------------------------------------------------------------------------------------------------


def _check_niveau(niveau: str) -> None:
    if niveau not in NIVEAUX:
        raise ValueError(f"niveau inconnu : {niveau!r} (attendu : {', '.join(NIVEAUX)})")


def _key(value: object) -> str:
    """An IRI-safe key from a source id: Excel floats lose their ".0", unsafe characters are escaped."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError("identifiant vide")
    return quote(text, safe="-._~")


def _name_key(nom: str, *, kind: str) -> str:
    key = slug(normalise_nom(nom))
    if not key:
        raise ValueError(f"nom de {kind} vide ou sans lettre ni chiffre : {nom!r}")
    return key


def _source(source: str) -> str:
    key = slug(source)
    if not key or key != source:
        raise ValueError(f"nom de source invalide : {source!r} (attendu : minuscules et tirets)")
    return key


def _id(path: str) -> URIRef:
    return URIRef(ID[path])


def territoire(niveau: str, code: str | int) -> URIRef:
    """The igeo node of a territory: ``id/{niveau}/{code}`` (INSEE code, SIREN for an EPCI)."""
    return _id(f"{niveau}/{normalise_code(niveau, code)}")


def collectivite(niveau: str, code: str | int) -> URIRef:
    """The authority governing a territory: ``id/collectivite/{key}`` with key the INSEE code (commune),
    the SIREN (EPCI), ``dep-{code}`` or ``reg-{code}``."""
    value = normalise_code(niveau, code)
    key = {"departement": f"dep-{value}", "region": f"reg-{value}"}.get(niveau, value)
    return _id(f"collectivite/{key}")


def insee_geo(niveau: str, code: str | int) -> URIRef:
    """INSEE's own IRI of a commune, département or région (``http://id.insee.fr/geo/...``), for
    ``owl:sameAs`` links from the territory nodes."""
    if niveau not in _INSEE_GEO_KIND:
        raise ValueError(f"pas d'IRI INSEE pour le niveau {niveau!r}")
    return URIRef(f"http://id.insee.fr/geo/{_INSEE_GEO_KIND[niveau]}/{normalise_code(niveau, code)}")


def structure(nom: str) -> URIRef:
    """A shared-services body (syndicat mixte, GIP…): ``id/structure/{slug of the normalised name}``."""
    return _id(f"structure/{_name_key(nom, kind='structure')}")


def organisation(nom: str) -> URIRef:
    """Any other organisation: ``id/organisation/{slug of the normalised name}``."""
    return _id(f"organisation/{_name_key(nom, kind='organisation')}")


def experience(source: str, source_id: str | int) -> URIRef:
    """An experience as first published: ``id/experience/vi-{Id_Action}`` or ``oten-{fiche id}``.

    Resolution may later state that two of them are the same (it does not re-mint)."""
    return URIRef(experience_prefix(source) + _key(source_id))


def experience_from_key(key_or_iri: str) -> URIRef:
    """An experience named by a user: its IRI, or its key (``vi-1024``); ``ValueError`` when neither."""
    value = key_or_iri.strip()
    if value.startswith(str(ID)):
        return URIRef(value)
    if not DATA_KEY.fullmatch(value):
        raise ValueError(f"ni une IRI d'expérience ni une clé : {key_or_iri!r}")
    return _id(f"experience/{value}")


def experience_prefix(source: str) -> str:
    """What every experience IRI minted for a source starts with (``…/id/experience/oten-``)."""
    if source not in _EXPERIENCE_PREFIX:
        raise ValueError(f"source d'expérience inconnue : {source!r}")
    return f"{ID}experience/{_EXPERIENCE_PREFIX[source]}-"


def personne(nom: str, org_key: str) -> URIRef:
    """A person: ``id/personne/{hash}`` of the folded name (word order ignored) and the organisation key.

    Hashed so that the public IRI does not spell the name; the organisation key separates namesakes."""
    words = sorted(normalise_texte(nom).split())
    if not words:
        raise ValueError(f"nom de personne vide : {nom!r}")
    material = " ".join(words) + "|" + str(org_key).strip()
    return _id(f"personne/{hashlib.sha256(material.encode()).hexdigest()[:16]}")


def technologie(nom: str) -> URIRef:
    """A product: ``id/technologie/{slug of the canonical name}`` (aliases are resolved by the caller)."""
    key = slug(nom)
    if not key:
        raise ValueError(f"nom de technologie vide : {nom!r}")
    return _id(f"technologie/{key}")


def lieu(source_id: str | int) -> URIRef:
    """A digital mediation place: ``id/lieu/{id in the national standard}``."""
    return _id(f"lieu/{_key(source_id)}")


def evaluation(fiche_id: str) -> URIRef:
    """The evaluation of an OTeN fiche: ``id/evaluation/{fiche id}``."""
    return _id(f"evaluation/{_key(fiche_id)}")


def indicateur(fiche_id: str, rang: int) -> URIRef:
    """The ``rang``-th (from 1) indicator of a fiche's evaluation."""
    return _id(f"indicateur/{_key(fiche_id)}/{int(rang)}")


def financement(fiche_id: str, rang: int) -> URIRef:
    """The ``rang``-th (from 1) funding line of a fiche."""
    return _id(f"financement/{_key(fiche_id)}/{int(rang)}")


def label_villes_internet(annee: int | str, cle: str | int) -> URIRef:
    """The label of one year for one authority: ``id/label/{annee}/{INSEE code or SIREN}``."""
    return _id(f"label/{_key(annee)}/{_key(cle)}")


def parrainage() -> URIRef:
    """A new sponsorship: ``id/parrainage/{uuid4}`` (created by a user action, not by an import)."""
    return _id(f"parrainage/{uuid.uuid4()}")


def contribution() -> URIRef:
    """A new user contribution: ``id/contribution/{uuid4}``."""
    return _id(f"contribution/{uuid.uuid4()}")


def source_record(source: str, source_id: str | int) -> URIRef:
    """One record of a source: ``id/record/{source}/{id}``."""
    return _id(f"record/{_source(source)}/{_key(source_id)}")


def import_run(source: str, timestamp: datetime | str) -> URIRef:
    """One import run: ``id/import/{source}/{timestamp}``; an aware datetime is written in UTC
    (``20250102T030405Z``, microseconds appended when present)."""
    if isinstance(timestamp, datetime):
        suffix = ""
        if timestamp.tzinfo is not None:
            timestamp, suffix = timestamp.astimezone(UTC), "Z"
        stamp = timestamp.strftime("%Y%m%dT%H%M%S")
        if timestamp.microsecond:
            stamp += f"{timestamp.microsecond:06d}"
        key = stamp + suffix
    else:
        key = _key(timestamp)
    return _id(f"import/{_source(source)}/{key}")


def decision_resolution(source: str, contenu: str) -> URIRef:
    """A decision of the resolver, named by what it decided (entity, method, score, reason, candidates), so
    that it is one node for every record it was taken for: ``id/decision/{source}/{digest}``."""
    return _id(f"decision/{_source(source)}/{hashlib.sha1(contenu.encode()).hexdigest()[:16]}")


def decision(source: str, source_id: str | int, aspect: str) -> URIRef:
    """The resolution decision about one mention (``aspect``: porteur, territoire, experience…) of one
    record: ``id/decision/{source}/{id}/{aspect}``; re-resolving replaces it."""
    key = slug(aspect)
    if not key:
        raise ValueError(f"aspect vide : {aspect!r}")
    return _id(f"decision/{_source(source)}/{_key(source_id)}/{key}")


def anomalie(source: str, *parts: object) -> URIRef:
    """A data defect, keyed by a hash of its place and kind (file, sheet, row, field, kind…), so that the
    same defect found again by a later import is the same node."""
    material = "|".join(str(part) for part in parts)
    return _id(f"anomalie/{_source(source)}/{hashlib.sha256(material.encode()).hexdigest()[:16]}")


def concept(notation: str) -> URIRef:
    """An ATLAAS concept by its notation: axe ``1``, enjeu ``1a``, usage ``1a1``, service ``S1``."""
    value = str(notation).strip()
    if not re.fullmatch(r"[1-9](?:[a-z]\d?)?|S\d+", value):
        raise ValueError(f"notation ATLAAS invalide : {notation!r}")
    return _id(f"service/{value}")


def competence(slug_: str) -> URIRef:
    """A competence of the competence scheme: ``id/competence/{slug}``."""
    key = slug(slug_)
    if not key:
        raise ValueError(f"compétence vide : {slug_!r}")
    return _id(f"competence/{key}")


def oten_thematique(code: str) -> URIRef:
    """An OTeN theme by its code: ``id/oten/{CODE}`` (upper case, as OTeN writes it)."""
    value = str(code).strip().upper()
    if not re.fullmatch(r"[A-Z]{2,5}", value):
        raise ValueError(f"code de thématique OTeN invalide : {code!r}")
    return _id(f"oten/{value}")


def statut_parrainage(code: str) -> URIRef:
    """A sponsorship status: ``id/statut-parrainage/{propose|accepte|en-cours|termine}``."""
    if code not in STATUTS_PARRAINAGE:
        raise ValueError(f"statut de parrainage inconnu : {code!r}")
    return _id(f"statut-parrainage/{code}")


def graph(name: str) -> URIRef:
    """A named graph: ``graph/{name}`` for a name of ``GRAPHS``."""
    if name not in GRAPHS:
        raise ValueError(f"graphe inconnu : {name!r} (attendu : {', '.join(GRAPHS)})")
    return URIRef(GRAPH[name])
