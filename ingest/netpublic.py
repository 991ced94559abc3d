"""NetPublic: the lieux de médiation numérique, in today's national standard and in the old EPN export.

Two readers share the ``netpublic`` source and its named graph:

- ``netpublic-lieux``: the national open-data standard (LaMednum standard-mediation-num 1.0.2): UTF-8, comma,
  32 columns, ``|`` between the values of a multi-valued cell;
- ``netpublic-legacy``: the old NetPublic directory export: ISO-8859-1, ``;``, CRLF, French headers, 20
  columns, no INSEE code and no coordinates.

Both are recognised by their content (decoded bytes and header), never by their name. Each lieu becomes a
``cap:LieuMediation``; every column lands on a property of the ontology (see ``cap:champSource``), unknown
columns as ``cap:annotation``. The legacy export describes places that the national file lists too: a legacy
row that matches a national lieu (same commune, similar name or address) describes that lieu's IRI, whatever
the import order. When the legacy file comes first its rows get ``lieu/legacy-{N° EPN}``, and the next
national import re-points them (:func:`repoint_legacy_lieux`, run by the pipeline's ``after_load`` hook).

Decisions worth knowing (see ``docs/decisions/2026-11-28-netpublic.md``):

- the two formats are imported as separate snapshots of one graph (``scoped_snapshot``): importing one never
  withdraws the other's records;
- a lieu listed twice in the national file is kept once, from its most recently updated row; the other row is
  rejected and the decision recorded;
- a legacy row's "Dernière mise à jour" is a fact about the row, so it goes on its source record
  (``cap:dateMaj`` of the ``cap:SourceRecord``); on a shared lieu the legacy name becomes a ``skos:altLabel``
  and a legacy postal code that disagrees with the national one stays on the source record too;
- a text longer than :data:`ingest.cells.LONG_TEXT` is kept whole and reported (nothing is cut), a row with a
  value beyond :data:`ingest.cells.MAX_VALUE` is rejected, values that a spreadsheet would read as a formula and
  cells beyond the header are reported (:mod:`ingest.cells`, the rules of every reader);
- coordinates 0,0 are dropped (the lieu keeps its commune); swapped coordinates are swapped back when the
  commune's position proves it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse
from weakref import WeakKeyDictionary

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from ingest.cells import LONG_TEXT, check_length, check_values, extra_cells, place_ident
from ingest.graphs import scope_graph
from ingest.html import html_to_text
from ingest.resolve import Resolved, Resolver, structures
from ingest.sources import Context, Outcome, Record, register
from ingest.terms import recurring_literal, text_literal
from ingest.territories import distance_km
from kg.errors import IngestError
from kg.store import Store, Triple, ntriples_line
from ontology import iri
from ontology.iri import normalise_nom, normalise_texte
from ontology.namespaces import CAP, WGS

SOURCE = "netpublic"
LABEL_LIEUX = "netpublic-lieux"
LABEL_LEGACY = "netpublic-legacy"

#: The 32 columns of the national standard (LaMednum standard-mediation-num 1.0.2), in the standard's order.
COLONNES: tuple[str, ...] = (
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse", "latitude",
    "longitude", "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume",
    "presentation_detail", "source", "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
    "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
)  # fmt: skip
#: Required by the standard (``pivot`` is 00000000000000 when the SIRET is unknown, never empty).
REQUISES: tuple[str, ...] = ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj")

#: The 20 columns of the old NetPublic export, in its order.
COLONNES_LEGACY: tuple[str, ...] = (
    "N° EPN", "Nom de l'EPN", "Structure porteuse", "Type de structure", "Adresse", "Complément d'adresse",
    "CP", "Ville", "Téléphone", "Fax", "Courriel", "Site web", "Horaires d'ouverture", "Labels",
    "Services proposés", "Public", "Conditions d'accès", "Nombre de postes", "Date de labellisation",
    "Dernière mise à jour",
)  # fmt: skip
REQUISES_LEGACY: tuple[str, ...] = ("N° EPN", "Nom de l'EPN", "Adresse", "CP", "Ville")
#: How the messages name the two formats.
WHAT_LIEUX = "le standard des lieux de médiation numérique 1.0.2 (32 colonnes, « , »)"
WHAT_LEGACY = "l'ancien export NetPublic (20 colonnes, « ; »)"

#: Enumerated multi-valued columns of the standard (``|``-separated): one plain literal per value.
_ENUMERATIONS = {
    "typologie": CAP.typologie,
    "itinerance": CAP.itinerance,
    "services": CAP.servicesMediation,
    "publics_specifiquement_adresses": CAP.publics,
    "prise_en_charge_specifique": CAP.priseEnCharge,
    "frais_a_charge": CAP.frais,
    "dispositif_programmes_nationaux": CAP.dispositif,
    "formations_labels": CAP.labelFormation,
    "autres_formations_labels": CAP.autreLabelFormation,
    "modalites_acces": CAP.modalitesAcces,
    "modalites_accompagnement": CAP.modalitesAccompagnement,
}
#: Legacy list columns (values separated by ", ").
_LISTES_LEGACY = {"Labels": CAP.labelFormation, "Services proposés": CAP.servicesMediation, "Public": CAP.publics}

#: The standard wants a short presentation_resume (longer texts follow the rule of every reader, ``long_text``).
LONG_RESUME = 280
#: Beyond this distance from its commune's town hall, coordinates are suspect.
_FAR_KM = 50.0
_NEAR_KM = 25.0

_PIVOT_INCONNU = "0" * 14


# --------------------------------------------------------------------------------------------------------
# Bytes to text
# --------------------------------------------------------------------------------------------------------

_CP1252_UNDEFINED = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
_CONTROL = frozenset(set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0D}) | {0x7F}


# A valid multi-byte UTF-8 sequence: in a Latin-1 file it would be a rare pair such as "Ã©".
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True)
class Decoded:
    """A file's text and the encoding it was read with (utf-8, utf-8-sig, cp1252 or iso-8859-1).

    ``stray``: offsets of the bytes of a UTF-8 file that were not UTF-8 and were read as Windows-1252 (a row
    pasted from another file); empty when the whole file is in one encoding.
    """

    text: str
    encoding: str
    stray: tuple[int, ...] = ()


def decode(data: bytes, file: str) -> Decoded:
    """Decode a CSV export: strict UTF-8 first, then Windows-1252 or ISO-8859-1 when the bytes say so.

    A UTF-8 file with a few stray Windows-1252 bytes keeps its UTF-8 and reads those bytes as Windows-1252
    (their offsets in ``stray``). Latin-1 is only plausible for text: no control bytes, and bytes 0x80-0x9F
    only where Windows-1252 defines a character (then the file is cp1252, as Excel writes it). Anything else
    raises ``IngestError`` with the offset of the first offending byte.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], True
    else:
        bom = False
    try:
        return Decoded(data.decode("utf-8"), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    offset = 3 if bom else 0
    if _UTF8_SEQUENCE.search(data):
        mixed = _utf8_with_stray_bytes(data, offset)
        if mixed is not None:
            return mixed
    c1 = False
    for position, byte in enumerate(data):
        if byte in _CONTROL or byte in _CP1252_UNDEFINED:
            raise IngestError(
                file,
                f"encodage illisible : ni UTF-8 valide (octet 0x{data[utf8_error.start]:02x} à l'octet "
                f"{utf8_error.start + offset}) ni Latin-1 plausible (octet 0x{byte:02x} à l'octet {position + offset})",
                f"octet {position + offset}",
            )
        c1 = c1 or 0x80 <= byte <= 0x9F
    return Decoded(data.decode("cp1252"), "cp1252") if c1 else Decoded(data.decode("iso-8859-1"), "iso-8859-1")


def _utf8_with_stray_bytes(data: bytes, offset: int) -> Decoded | None:
    """UTF-8 text whose undecodable bytes are read as Windows-1252, or None if one is not a character there."""
    parts: list[str] = []
    stray: list[int] = []
    start = 0
    while True:
        try:
            parts.append(data[start:].decode("utf-8"))
            break
        except UnicodeDecodeError as error:
            bad = start + error.start
            parts.append(data[start:bad].decode("utf-8"))
            if data[bad] in _CP1252_UNDEFINED or data[bad] < 0x80:
                return None
            parts.append(bytes([data[bad]]).decode("cp1252"))
            stray.append(bad + offset)
            start = bad + 1
    return Decoded("".join(parts), "utf-8", tuple(stray))


def _head(path: Path, size: int = 65536) -> str:
    """The first bytes of a file as text (for sniffing), tolerant of a multi-byte character cut at the end."""
    with open(path, "rb") as f:
        data = f.read(size)
    if len(data) == size:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start >= size - 3:
                data = data[: error.start]
    try:
        return decode(data, str(path)).text
    except IngestError:
        return ""


def _decode_file(path: Path, ctx: Context) -> Decoded:
    """Decode a whole export, say which encoding in the report and report stray bytes (repaired)."""
    decoded = decode(path.read_bytes(), str(path))
    ctx.report.encoding = decoded.encoding
    if decoded.stray:
        ctx.report.problem(
            f"octet {decoded.stray[0]}",
            "",
            f"{len(decoded.stray)} octet(s) hors UTF-8 lu(s) en Windows-1252 "
            f"(octets {', '.join(map(str, decoded.stray[:10]))})",
            "mixed_encoding",
            "repaired",
        )
    return decoded


def diagnose_csv(path: Path, delimiter: str, expected: tuple[str, ...], what: str) -> tuple[float, IngestError] | None:
    """The fault of a CSV that is nearly of a format (its header names at least 3 of the format's columns), with
    the share of the format's columns found: a UTF-16 file, bytes that are neither UTF-8 nor Latin-1, another
    separator, or missing columns."""
    with open(path, "rb") as f:
        data = f.read(65536)
    if len(data) == 65536:  # never judge the encoding on a character cut by the probe
        data = data[: data.rfind(b"\n") + 1] or data[:-4]
    keys = {_key(c) for c in expected}
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    line = data.split(b"\n", 1)[0]
    try:
        first = line.decode("utf-16" if utf16 else "utf-8")
    except UnicodeDecodeError:
        first = line.decode("utf-16" if utf16 else "cp1252", "replace")
    first = first.lstrip("\ufeff").strip()
    other = ";" if delimiter == "," else ","
    found = {sep: [c for c in _header(first, sep) if _key(c) in keys] for sep in (delimiter, other, "\t")}
    near = max(found, key=lambda sep: len(found[sep]))
    if len(found[near]) < 3:
        return None
    share, name = len(set(found[near])) / len(expected), str(path)
    if utf16:
        return share, IngestError(name, f"encodage UTF-16 non pris en charge : {what} s'écrit en UTF-8 ou Latin-1")
    try:
        decode(data, name)
    except IngestError as error:
        return share, error
    if near != delimiter:
        shown = "tabulation" if near == "\t" else f"« {near} »"
        return share, IngestError(name, f"séparateur {shown} au lieu de « {delimiter} » : attendu {what}", "1")
    header = {_key(c) for c in _header(first, delimiter)}
    missing = [c for c in expected if _key(c) not in header]
    if not missing:
        return None
    message = f"en-tête : colonne(s) {', '.join(missing)} absente(s) ; attendu {what}"
    return share, IngestError(name, message, "1", ", ".join(missing))


def _header(text: str, delimiter: str) -> list[str]:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return [c.strip() for c in next(csv.reader([first], delimiter=delimiter), [])]


def _key(column: str) -> str:
    return normalise_texte(column)


# --------------------------------------------------------------------------------------------------------
# Text cleaning
# --------------------------------------------------------------------------------------------------------

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_SCRIPT = re.compile(r"<\s*(script|style)\b", re.IGNORECASE)
_SCRIPT_BLOCK = re.compile(r"<\s*(script|style)\b.*?(?:<\s*/\s*\1\s*>|$)", re.IGNORECASE | re.DOTALL)
@dataclass(frozen=True)
class Cleaned:
    text: str
    html: bool  # markup or entities were removed
    script: bool  # a <script> or <style> element was removed


def clean_text(value: str) -> Cleaned:
    """Plain text of a cell that may hold HTML; lines kept, spaces collapsed."""
    script = bool(_SCRIPT.search(value))
    html = bool(_TAG.search(_SCRIPT_BLOCK.sub("", value)) or _ENTITY.search(value))
    if not (script or html):
        return Cleaned(value.strip(), False, False)
    return Cleaned(html_to_text(value, bullets=True)[0], html, script)


# --------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%Y%m%d")


def parse_date(value: str) -> tuple[date | None, bool]:
    """(date, iso): the date of an ISO ``AAAA-MM-JJ`` text, or of a common French spelling (iso False)."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text), True
        except ValueError:
            return None, False
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?", text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date(), False
        except ValueError:
            return None, False
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date(), False
        except ValueError:
            continue
    return None, False


def _date_literal(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _url(value: str) -> URIRef | None:
    text = value.strip()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https") and parsed.netloc and not re.search(r"\s|[<>\"{}|\\^`]", text):
        return URIRef(text)
    return None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _split(value: str, separator: str) -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()]


# --------------------------------------------------------------------------------------------------------
# Same place? Names and addresses compared the project's way
# --------------------------------------------------------------------------------------------------------

_STOP = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en"})
_SIGLES = {"epn": "espace public numerique"}
_NUMERO = re.compile(r"^(\d+)\s*(bis|ter|quater|[a-z](?=\s))?\s*(.*)$")


def _mots(nom: str) -> list[str]:
    text = " ".join(_SIGLES.get(w, w) for w in normalise_texte(nom).split())
    return [w for w in text.replace("cyber base", "cyberbase").split() if w not in _STOP]


def name_similarity(a: str, b: str) -> float:
    """How alike two names of a place are, in [0, 1]: word sets (order and "EPN" spelled out ignored) or
    characters (hyphens and spaces ignored), whichever is higher."""
    ma, mb = _mots(a), _mots(b)
    if not ma or not mb:
        return 0.0
    sa, sb = set(ma), set(mb)
    common = len(sa & sb)
    words = 0.5 * common / min(len(sa), len(sb)) + 0.5 * 2 * common / (len(sa) + len(sb))
    chars = SequenceMatcher(None, "".join(ma), "".join(mb)).ratio()
    return max(words, chars)


@lru_cache(maxsize=65536)
def _street(adresse: str) -> tuple[str, str]:
    """(house number, street) of an address, folded. Cached: duplicate detection compares each address with
    every other of its commune."""
    text = normalise_texte(adresse)
    match = _NUMERO.match(text)
    if not match:
        return "", text
    return match.group(1) + (match.group(2) or ""), match.group(3)


def address_similarity(a: str, b: str) -> float:
    """How alike two street addresses are, in [0, 1]; two different house numbers give 0."""
    (na, ra), (nb, rb) = _street(a), _street(b)
    if not ra or not rb or (na and nb and na != nb):
        return 0.0
    return SequenceMatcher(None, ra, rb).ratio()


@dataclass(frozen=True)
class Fiche:
    """What matching compares of a lieu: its commune (INSEE code), names and addresses."""

    iri: URIRef
    commune: str | None
    noms: tuple[str, ...]
    adresses: tuple[str, ...]
    code_postal: str | None = None
    record: URIRef | None = None
    label: str = ""  # how to name it in a reason (its id)


@dataclass(frozen=True)
class Appariement:
    """A legacy lieu resolved to a national one (``national`` None: no national lieu fits)."""

    ancien: Fiche
    national: Fiche | None
    score: float
    raison: str
    candidats: tuple[URIRef, ...] = ()


def resemblance(a: Fiche, b: Fiche) -> tuple[float, float]:
    """(name similarity, address similarity) of two lieux, the best over their names and addresses."""
    noms = max((name_similarity(x, y) for x in a.noms for y in b.noms), default=0.0)
    adresses = max((address_similarity(x, y) for x in a.adresses for y in b.adresses), default=0.0)
    return noms, adresses


def _score(noms: float, adresses: float) -> float:
    return round(0.6 * noms + 0.4 * adresses, 3)


def _same_place(noms: float, adresses: float) -> bool:
    """Same commune assumed: a near-identical name, or the same address with a related name."""
    return noms >= 0.85 or (adresses >= 0.9 and noms >= 0.5)


def _pct(value: float) -> str:
    return f"{round(value * 100)} %"


def match_lieux(anciens: Iterable[Fiche], nationaux: Iterable[Fiche]) -> list[Appariement]:
    """Resolve each legacy lieu to at most one national lieu of the same commune, one to one.

    Candidate pairs (same INSEE commune, :func:`_same_place`) are taken best score first, so two legacy rows
    never claim one national lieu. Symmetric by construction: the same fiches give the same pairs whichever
    file was imported first.
    """
    anciens = list(anciens)
    par_commune: dict[str, list[Fiche]] = defaultdict(list)
    for fiche in nationaux:
        if fiche.commune:
            par_commune[fiche.commune].append(fiche)
    pairs: list[tuple[float, int, Fiche, float, float]] = []
    best_miss: dict[int, tuple[float, Fiche]] = {}
    candidates: dict[int, list[URIRef]] = defaultdict(list)
    for index, ancien in enumerate(anciens):
        for national in par_commune.get(ancien.commune or "", []):
            noms, adresses = resemblance(ancien, national)
            score = _score(noms, adresses)
            if _same_place(noms, adresses):
                pairs.append((score, index, national, noms, adresses))
                candidates[index].append(national.iri)
            elif score > best_miss.get(index, (0.0, national))[0]:
                best_miss[index] = (score, national)
    pairs.sort(key=lambda p: (-p[0], p[1], str(p[2].iri)))
    taken: set[URIRef] = set()
    result: dict[int, Appariement] = {}
    for score, index, national, noms, adresses in pairs:
        if index in result or national.iri in taken:
            continue
        taken.add(national.iri)
        raison = (
            f"même lieu que {national.label or national.iri} : même commune (INSEE {national.commune}), "
            f"nom semblable à {_pct(noms)}, adresse semblable à {_pct(adresses)}"
        )
        result[index] = Appariement(anciens[index], national, score, raison, tuple(sorted(candidates[index])))
    for index, ancien in enumerate(anciens):
        if index in result:
            continue
        if not ancien.commune:
            raison = "commune non résolue : aucun rapprochement possible avec le fichier national"
            result[index] = Appariement(ancien, None, 0.0, raison)
            continue
        miss = best_miss.get(index)
        raison = f"aucun lieu du fichier national ne correspond dans la commune (INSEE {ancien.commune})"
        if miss is not None:
            raison += f" ; le plus proche, {miss[1].label or miss[1].iri}, n'atteint que {_pct(miss[0])}"
        result[index] = Appariement(ancien, None, miss[0] if miss else 0.0, raison)
    return [result[i] for i in range(len(anciens))]


# --------------------------------------------------------------------------------------------------------
# What the store already holds
# --------------------------------------------------------------------------------------------------------

LEGACY_PREFIX = str(iri.lieu("legacy-0"))[: -len("0")]


def _graph_iri() -> str:
    return str(iri.graph(SOURCE))


@dataclass
class _Stored:
    formats: set[str] = field(default_factory=set)
    records: dict[str, URIRef] = field(default_factory=dict)  # format -> record
    labels: set[str] = field(default_factory=set)
    adresses: set[str] = field(default_factory=set)
    codes_postaux: set[str] = field(default_factory=set)
    communes: set[str] = field(default_factory=set)


def stored_lieux(store: Store) -> dict[URIRef, _Stored]:
    """Every lieu of the netpublic graph with the formats it comes from and its matching keys (one query)."""
    rows = store.select(
        f"""SELECT ?e ?r ?fmt ?nom ?adr ?cp ?t WHERE {{ GRAPH <{_graph_iri()}> {{
            ?r a <{CAP.SourceRecord}> ; <{CAP.versionFormat}> ?fmt .
            ?e <{PROV.wasDerivedFrom}> ?r ; a <{CAP.LieuMediation}> .
            OPTIONAL {{ ?e <{RDFS.label}> ?nom }}
            OPTIONAL {{ ?e <{CAP.adresse}> ?adr }}
            OPTIONAL {{ ?e <{CAP.codePostal}> ?cp }}
            OPTIONAL {{ ?e <{CAP.territoire}> ?t }} }} }}"""
    )
    lieux: dict[URIRef, _Stored] = defaultdict(_Stored)
    commune_prefix = str(iri.territoire("commune", "01001"))[: -len("01001")]
    for row in rows:
        lieu = lieux[row["e"]]  # type: ignore[index]
        lieu.formats.add(str(row["fmt"]))
        lieu.records[str(row["fmt"])] = row["r"]  # type: ignore[assignment]
        if "nom" in row:
            lieu.labels.add(str(row["nom"]))
        if "adr" in row:
            lieu.adresses.add(str(row["adr"]))
        if "cp" in row:
            lieu.codes_postaux.add(str(row["cp"]))
        if "t" in row and str(row["t"]).startswith(commune_prefix):
            lieu.communes.add(str(row["t"])[len(commune_prefix) :])
    return dict(lieux)


def _fiche(entity: URIRef, lieu: _Stored, record: URIRef | None = None) -> Fiche:
    commune = min(lieu.communes) if lieu.communes else None
    cp = min(lieu.codes_postaux) if lieu.codes_postaux else None
    label = str(entity).rsplit("/", 1)[-1]
    return Fiche(entity, commune, tuple(sorted(lieu.labels)), tuple(sorted(lieu.adresses)), cp, record, label)


def national_fiches(lieux: dict[URIRef, _Stored], *, free_only: bool = False) -> list[Fiche]:
    """The national lieux of the store (``free_only``: not yet described by a legacy row)."""
    return [
        _fiche(e, lieu)
        for e, lieu in sorted(lieux.items())
        if LABEL_LIEUX in lieu.formats and not (free_only and LABEL_LEGACY in lieu.formats)
    ]


def repoint_legacy_lieux(store: Store) -> int:
    """Give the national lieu's IRI to the legacy-only lieux that match one; returns how many.

    Run after every NetPublic import (``after_load``): when the legacy export was imported before the national
    file, its lieux were minted ``lieu/legacy-{N° EPN}``; those that match a national lieu now take that lieu's
    IRI, exactly as a legacy import made after the national one would have written them (legacy name as
    ``skos:altLabel``, a disagreeing postal code on the source record). The netpublic graph is rewritten with
    one SPARQL update (``replace_graph`` applies the diff), the legacy format's share likewise, and the "no
    match" decisions of those rows are replaced by the match. One query loads the candidates.
    """
    legacy = text_literal(LABEL_LEGACY).n3()
    if not store.ask(f"ASK {{ GRAPH <{_graph_iri()}> {{ ?r <{CAP.versionFormat}> {legacy} }} }}"):
        return 0  # the legacy export was never imported: no lieu to repoint
    lieux = stored_lieux(store)
    anciens = [
        _fiche(e, lieu, lieu.records.get(LABEL_LEGACY))
        for e, lieu in sorted(lieux.items())
        if str(e).startswith(LEGACY_PREFIX) and LABEL_LEGACY in lieu.formats
    ]
    matches = [m for m in match_lieux(anciens, national_fiches(lieux, free_only=True)) if m.national is not None]
    if not matches:
        return 0
    decisions = Resolver(None, SOURCE, LABEL_LEGACY)
    plan: dict[URIRef, tuple[URIRef, URIRef, bool]] = {}
    for m in matches:
        assert m.national is not None and m.ancien.record is not None
        decisions.record(m.ancien.record, m.national.iri, METHODE_MEME_LIEU, m.score, m.raison, list(m.candidats))
        conflict = bool(m.national.code_postal and m.ancien.code_postal != m.national.code_postal)
        plan[m.ancien.iri] = (m.national.iri, m.ancien.record, conflict)
    for graph in (_graph_iri(), scope_graph(SOURCE, LABEL_LEGACY)):
        store.replace_graph(graph, list(_repointed(store.triples(graph), plan)))
    resolution = str(iri.graph("resolution"))
    olds = " ".join(old.n3() for old in plan)
    new_decisions = "".join(map(ntriples_line, decisions.decision_triples()))
    store.update(
        f"""DELETE {{ GRAPH <{resolution}> {{ ?d ?p ?o }} }} WHERE {{
              VALUES ?old {{ {olds} }} GRAPH <{resolution}> {{ ?d <{CAP.entite}> ?old ; ?p ?o }} }} ;
            INSERT DATA {{ GRAPH <{resolution}> {{ {new_decisions} }} }}"""
    )
    return len(matches)


def _repointed(triples: Iterable[Triple], plan: dict[URIRef, tuple[URIRef, URIRef, bool]]) -> Iterator[Triple]:
    """The triples with each planned legacy lieu renamed to its national lieu, as the legacy reader maps a
    matched row: its name becomes an alternative label, a disagreeing postal code moves to its record."""
    for s, p, o in triples:
        target = plan.get(s)  # type: ignore[arg-type]
        if target is None:
            yield s, p, o
            continue
        national, record, cp_conflict = target
        if p == CAP.codePostal and cp_conflict:
            yield record, p, o
        else:
            yield national, SKOS.altLabel if p == RDFS.label else p, o


METHODE_MEME_LIEU = "meme-lieu-netpublic"
METHODE_NOUVEAU_LIEU = "nouveau-lieu-netpublic"
METHODE_DOUBLON = "doublon-fichier-netpublic"


# --------------------------------------------------------------------------------------------------------
# Mapping helpers shared by both readers
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    extra: list[tuple[str, str]]
    id: str
    beyond: list[str] = field(default_factory=list)  # non-empty cells past the header's last column
    width: int = 0  # the header's number of columns
    commune: str | None = None  # resolved INSEE code
    place: str = ""
    found: Resolved | None = None  # the resolved commune, when resolved before mapping


class _Mapper:
    """Builds the triples of one row, reporting what it repairs or cannot use."""

    def __init__(self, ctx: Context, row: _Row, entity: URIRef, record: URIRef) -> None:
        self.ctx = ctx
        self.row = row
        self.entity = entity
        self.record = record
        self.triples: list[Triple] = [(entity, RDF.type, CAP.LieuMediation)]

    def add(self, predicate: URIRef, obj: URIRef | Literal, subject: URIRef | None = None) -> None:
        self.triples.append((subject or self.entity, predicate, obj))

    def problem(self, column: str, message: str, kind: str, outcome: Outcome = "reported") -> None:
        self.ctx.report.problem(self.row.place, column, message, kind, outcome)

    def annotate(self, column: str, value: str) -> None:
        self.add(CAP.annotation, Literal(f"{column}={value}"))

    def text(self, column: str, value: str, predicate: URIRef, *, lang: str | None = "fr") -> str:
        """A free-text cell: HTML cleaned (repaired), scripts removed (repaired), long texts reported."""
        if not value:
            return ""
        cleaned = clean_text(value)
        if cleaned.script:
            self.problem(
                column,
                "élément <script> retiré du texte (contenu exécutable, jamais publié)",
                "script_in_description",
                "repaired",
            )
        if cleaned.html:
            kind = "html_in_description" if column.startswith("presentation") else "html_in_text"
            self.problem(column, "balises HTML retirées : texte brut gardé", kind, "repaired")
        text = cleaned.text
        if text:
            check_length(self.ctx.report, self.row.place, column, text)
            self.add(predicate, text_literal(text, lang))
        return text

    def url(self, column: str, value: str, predicate: URIRef) -> None:
        for part in _split(value, "|"):
            node = _url(part)
            if node is None:
                self.problem(column, f"URL illisible « {part} » : gardée en annotation", "invalid_url")
                self.annotate(column, part)
            else:
                self.add(predicate, node)

    def emails(self, column: str, value: str, separator: str) -> None:
        for part in _split(value, separator):
            if _EMAIL.match(part):
                self.add(CAP.courriel, recurring_literal(part))
            else:
                self.problem(column, f"courriel invalide « {part} » : gardé en annotation", "invalid_courriel")
                self.annotate(column, part)

    def collectivite(self, nom: str, **hints: str | None) -> Resolved | None:
        """``Resolver.collectivite``, remembered for the file: a name met again (the same town, the same
        carrier) costs one recorded decision, not a new search."""
        resolver: Resolver = self.ctx.resolver
        cache = _resolutions.setdefault(resolver, {})
        key = (nom, *sorted(hints.items()))
        found = cache.get(key)
        if found is None:
            found = cache[key] = resolver.collectivite(self.record, nom, **hints)  # type: ignore[arg-type]
            if found is None:
                del cache[key]
        else:
            resolver.record(self.record, found.iri, found.methode, found.score, found.raison)
        return found

    def commune(self, nom: str, code_postal: str, insee: str | None) -> Resolved | None:
        """Resolve the lieu's commune and link its territory (the resolver records the decision)."""
        found = self.collectivite(nom, insee=insee, code_postal=code_postal or None, niveau="commune", ville=nom)
        return self.link_commune(found, nom, code_postal)

    def link_commune(self, found: Resolved | None, nom: str, code_postal: str) -> Resolved | None:
        """Link the lieu to its commune's territory, or report that the commune was not found."""
        if found is None:
            self.problem(
                "commune",
                f"commune « {nom} » ({code_postal}) introuvable dans le COG : gardée en texte",
                "unresolved_commune",
            )
            return None
        self.add(CAP.territoire, found.territoire)  # type: ignore[arg-type]
        return found

    def porteur(self, nom: str, code_postal: str, departement: str | None, hint: str | None = None) -> None:
        """Resolve the structure that carries the lieu: a collectivité (with its canonical triples), a
        structure de mutualisation, or else an organisation minted from its name."""
        resolver: Resolver = self.ctx.resolver
        niveau = _niveau(nom, hint)
        found = None
        if niveau != "organisation":
            found = self.collectivite(
                nom,
                niveau=niveau,
                code_postal=code_postal if niveau == "commune" else None,
                departement=departement if niveau == "commune" else None,
            )
        if found is not None:
            self.add(CAP.structureParente, found.iri)
            canonical = _canonical.setdefault(resolver, {})
            if found.iri not in canonical:
                canonical[found.iri] = list(resolver.collectivite_triples(found))
            self.triples.extend(canonical[found.iri])
            return
        organisations = _organisations.setdefault(resolver, {})
        organisation = organisations.get(nom) or organisations.setdefault(nom, resolver.organisation(nom))
        raison = f"« {nom} » n'est ni une collectivité ni une structure de mutualisation connue : organisation"
        resolver.record(self.record, organisation, "organisation-nom", 0.8, raison)
        self.add(CAP.structureParente, organisation)
        self.add(RDF.type, CAP.Organisation, organisation)
        self.add(RDFS.label, text_literal(nom, "fr"), organisation)


# Per-import memories of the resolver's answers (weakly keyed: they die with the import's resolver).
_resolutions: WeakKeyDictionary[Resolver, dict[tuple[object, ...], Resolved]] = WeakKeyDictionary()
_canonical: WeakKeyDictionary[Resolver, dict[URIRef, list[Triple]]] = WeakKeyDictionary()
_organisations: WeakKeyDictionary[Resolver, dict[str, URIRef]] = WeakKeyDictionary()


_NIVEAUX = (
    (("ville ", "commune ", "mairie ", "commune nouvelle "), "commune"),
    (("departement ", "conseil departemental", "conseil general"), "departement"),
    (("region ", "conseil regional", "collectivite territoriale "), "region"),
    (("communaute ", "cc ", "ca ", "cu ", "cdc ", "agglo", "metropole ", "eurometropole "), "epci"),
)


@lru_cache(maxsize=4096)
def _niveau(nom: str, hint: str | None = None) -> str | None:
    """Which kind of body a carrier's name designates ("organisation" when it names none).

    The name's generic head decides ("Ville de", "Département de", "Communauté de communes", "… Métropole");
    names of the curated structures de mutualisation give "structure"; anything else (associations,
    La Poste, federations) is an organisation: asking the resolver about them would only invite false
    positives among the 35,000 commune names.
    """
    text = normalise_texte(nom)
    for heads, niveau in _NIVEAUX:
        if text.startswith(heads):
            return niveau
    if text.endswith(" metropole"):
        return "epci"
    try:
        if normalise_nom(nom) in structures():
            return "structure"
    except FileNotFoundError:  # the curated table is optional for this reader
        pass
    if hint is not None:
        hint_text = normalise_texte(hint)
        if hint_text.startswith("intercommunalite"):
            return "epci"
    return "organisation"


def _rows(text: str, delimiter: str, expected: tuple[str, ...], file: str, what: str) -> Iterator[_Row]:
    """The data rows of a CSV text as dicts keyed by the expected column names (matched loosely)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    header = [c.strip() for c in next(_csv_records(reader, file), [])]
    by_key = {_key(c): c for c in expected}
    positions: dict[str, int] = {}
    extra: dict[int, str] = {}
    for index, column in enumerate(header):
        known = by_key.get(_key(column))
        if known is not None and known not in positions:
            positions[known] = index
        else:
            extra[index] = column
    missing = [c for c in expected if c not in positions]
    if missing:
        raise IngestError(
            file,
            f"en-tête inattendu : colonne(s) {', '.join(missing)} absente(s) ; attendu {what} : {', '.join(expected)}",
            "1",
        )
    line = 1
    for cells in _csv_records(reader, file):
        line += 1
        if not any(c.strip() for c in cells):
            continue
        values = {c: cells[i].strip() if i < len(cells) else "" for c, i in positions.items()}
        extras = [
            (extra.get(i, f"colonne_{i + 1}"), v.strip())
            for i, v in enumerate(cells)
            if i not in positions.values() and v.strip()
        ]
        beyond = [v.strip() for v in cells[len(header) :] if v.strip()]
        yield _Row(line, values, extras, "", beyond, len(header))


def _csv_records(reader: Iterator[list[str]], file: str) -> Iterator[list[str]]:
    """The records of a csv reader; a csv fault becomes an ``IngestError`` naming the line."""
    try:
        yield from reader
    except csv.Error as error:
        line = getattr(reader, "line_num", 0)
        raise IngestError(file, f"CSV illisible à la ligne {line} ({error})", str(line)) from error


def _admitted(row: _Row, ctx: Context) -> bool:
    """Apply the rules of every reader to a row (:mod:`ingest.cells`): False when it is rejected."""
    if not check_values(ctx.report, row.place, [*row.cells.items(), *row.extra], "lieu ignoré"):
        return False
    extra_cells(ctx.report, row.place, row.beyond, row.width)
    return True


# --------------------------------------------------------------------------------------------------------
# The national standard
# --------------------------------------------------------------------------------------------------------


@register
class LieuxReader:
    """The national standard of the lieux de médiation numérique (LaMednum 1.0.2)."""

    source = SOURCE
    label = LABEL_LIEUX
    scoped_snapshot = True  # the legacy export shares the graph: never withdraw its records

    def sniff(self, path: Path) -> bool:
        header = {_key(c) for c in _header(_head(path), ",")}
        return {"id", "pivot", "nom", "adresse", "code postal"} <= header

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        return diagnose_csv(path, ",", COLONNES, WHAT_LIEUX)

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        decoded = _decode_file(path, ctx)
        rows = list(_rows(decoded.text, ",", COLONNES, str(path), WHAT_LIEUX))
        ctx.report.read += len(rows)
        ctx.report.rows["lieux"] = len(rows)
        ref = ctx.resolver.ref
        kept: list[_Row] = []
        for row in rows:
            row.id = row.cells["id"]
            row.place = f"{row.line} ({place_ident(row.id)})" if row.id else str(row.line)
            if not _admitted(row, ctx):
                continue
            missing = [c for c in REQUISES if not row.cells[c]]
            if missing:
                ctx.report.problem(
                    row.place,
                    ", ".join(missing),
                    f"champ(s) obligatoire(s) vide(s) : {', '.join(missing)} : lieu ignoré",
                    "empty_required",
                    "rejected",
                )
                continue
            code = row.cells["code_insee"]
            row.commune = (ref.commune_par_code_insee(code) if code else None) or ref.commune_par_cp_nom(
                row.cells["code_postal"], row.cells["commune"]
            )
            kept.append(row)
        for row in _without_duplicates(kept, ctx):
            yield self._record(row, ctx)

    def _record(self, row: _Row, ctx: Context) -> Record:
        cells = row.cells
        record = iri.source_record(SOURCE, row.id)
        m = _Mapper(ctx, row, iri.lieu(row.id), record)
        m.text("nom", cells["nom"], RDFS.label)
        pivot = cells["pivot"]
        if re.fullmatch(r"\d{14}", pivot):
            if pivot != _PIVOT_INCONNU:
                m.add(CAP.siret, text_literal(pivot))
        else:
            m.problem(
                "pivot", f"SIRET « {pivot} » invalide (14 chiffres attendus) : gardé en annotation", "invalid_siret"
            )
            m.annotate("pivot", pivot)
        m.add(CAP.ville, recurring_literal(cells["commune"]))
        m.add(CAP.codePostal, recurring_literal(cells["code_postal"]))
        insee = cells["code_insee"]
        current = ctx.resolver.ref.commune_par_code_insee(insee) if insee else None  # a former code gives today's
        found = m.commune(cells["commune"], cells["code_postal"], current)
        if not insee and found is not None:
            m.problem(
                "code_insee",
                f"code INSEE absent : commune {found.nom} ({found.code}) retrouvée par code postal "
                f"{cells['code_postal']} et nom « {cells['commune']} »",
                "missing_insee",
                "repaired",
            )
            m.add(CAP.codeInsee, text_literal(found.code))
        elif insee:
            m.add(CAP.codeInsee, text_literal(insee))
            if current is None:
                m.problem("code_insee", f"code INSEE « {insee} » inconnu du COG 2025", "unknown_insee")
        m.text("adresse", cells["adresse"], CAP.adresse, lang=None)
        m.text("complement_adresse", cells["complement_adresse"], CAP.complementAdresse, lang=None)
        _coordinates(m, cells["latitude"], cells["longitude"], row.commune, ctx)
        for column, predicate in _ENUMERATIONS.items():
            for value in _split(cells[column], "|"):
                m.add(predicate, recurring_literal(value))
        for phone in _split(cells["telephone"], "|"):
            m.add(CAP.telephone, recurring_literal(phone))
        m.emails("courriels", cells["courriels"], "|")
        m.url("site_web", cells["site_web"], CAP.siteWeb)
        m.text("horaires", cells["horaires"], CAP.horaires, lang=None)
        resume = m.text("presentation_resume", cells["presentation_resume"], CAP.resume)
        m.text("presentation_detail", cells["presentation_detail"], DCTERMS.description)
        if LONG_RESUME < len(resume) <= LONG_TEXT:
            m.problem(
                "presentation_resume",
                f"résumé de {len(resume)} caractères (le standard en veut au plus {LONG_RESUME}) : gardé en entier",
                "long_resume",
            )
        m.text("source", cells["source"], CAP.sourceOrigine, lang=None)
        if cells["structure_parente"]:
            departement = ctx.resolver.ref.communes[row.commune].departement if row.commune else None
            m.porteur(cells["structure_parente"], cells["code_postal"], departement)
        parsed, iso = parse_date(cells["date_maj"])
        if parsed is None:
            m.problem("date_maj", f"date « {cells['date_maj']} » illisible : gardée en annotation", "wrong_date_format")
            m.annotate("date_maj", cells["date_maj"])
        else:
            if not iso:
                m.problem(
                    "date_maj",
                    f"date « {cells['date_maj']} » au lieu de AAAA-MM-JJ : lue {parsed.isoformat()}",
                    "wrong_date_format",
                    "repaired",
                )
            m.add(CAP.dateMaj, _date_literal(parsed))
        m.url("fiche_acces_libre", cells["fiche_acces_libre"], CAP.ficheAccesLibre)
        m.url("prise_rdv", cells["prise_rdv"], CAP.priseRdv)
        for column, value in row.extra:
            m.annotate(column, value)
        return Record(row.id, row.place, m.entity, "lieu", m.triples)

    def after_load(self, store: Store) -> None:
        """Re-point the legacy lieux imported before this national file (see :func:`repoint_legacy_lieux`)."""
        repoint_legacy_lieux(store)


def _coordinates(m: _Mapper, lat_text: str, lon_text: str, commune: str | None, ctx: Context) -> None:
    """WGS84 coordinates as xsd:decimal: 0,0 dropped, swapped pairs swapped back (checked on the commune)."""
    if not lat_text and not lon_text:
        return
    lat, lon = _decimal(lat_text.replace(",", ".")), _decimal(lon_text.replace(",", "."))
    if lat is None or lon is None:
        m.problem(
            "latitude",
            f"coordonnées illisibles « {lat_text} », « {lon_text} » : gardées en annotation",
            "invalid_coords",
        )
        m.annotate("latitude", lat_text)
        m.annotate("longitude", lon_text)
        return
    if lat == 0 and lon == 0:
        m.problem(
            "latitude",
            "coordonnées 0,0 (point nul, au large du golfe de Guinée) : retirées, le lieu garde sa commune",
            "coords_zero",
            "repaired",
        )
        return
    town = ctx.resolver.ref.communes.get(commune) if commune else None
    if town is not None and town.latitude is not None and town.longitude is not None:
        here = distance_km(float(lat), float(lon), town.latitude, town.longitude) if abs(lat) <= 90 else 1e9
        swapped = distance_km(float(lon), float(lat), town.latitude, town.longitude) if abs(lon) <= 90 else 1e9
        if here > _FAR_KM and swapped < _NEAR_KM:
            m.problem(
                "latitude",
                f"latitude et longitude inversées ({lat_text}, {lon_text}) : remises dans l'ordre, "
                f"à {swapped:.1f} km de la mairie de {town.nom}",
                "latlon_swapped",
                "repaired",
            )
            lat, lon, lat_text, lon_text = lon, lat, lon_text, lat_text
        elif here > _FAR_KM:
            m.problem("latitude", f"point à {here:.0f} km de la mairie de {town.nom} : gardé tel quel", "coords_far")
    elif abs(lat) > 90 >= abs(lon):
        m.problem(
            "latitude",
            f"latitude {lat_text} hors de [-90, 90] : inversée avec la longitude",
            "latlon_swapped",
            "repaired",
        )
        lat, lon, lat_text, lon_text = lon, lat, lon_text, lat_text
    if abs(lat) > 90 or abs(lon) > 180:
        m.problem(
            "latitude", f"coordonnées hors limites ({lat_text}, {lon_text}) : gardées en annotation", "invalid_coords"
        )
        m.annotate("latitude", lat_text)
        m.annotate("longitude", lon_text)
        return
    m.add(WGS.lat, Literal(lat, datatype=XSD.decimal))
    m.add(WGS.long, Literal(lon, datatype=XSD.decimal))


def _without_duplicates(rows: list[_Row], ctx: Context) -> list[_Row]:
    """Drop the rows that repeat a lieu of the same file (same commune, same name and address).

    The most recently updated row wins (the first in the file on a tie); the other is reported as rejected and
    the decision recorded against its source record.
    """
    by_commune: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.commune:
            by_commune[row.commune].append(row)
    dropped: set[int] = set()
    for group in by_commune.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if id(a) in dropped or id(b) in dropped or a.id == b.id:
                    continue
                adresses = address_similarity(a.cells["adresse"], b.cells["adresse"])
                if adresses < 0.9:  # cheap test first: most pairs of a town are at different addresses
                    continue
                noms = name_similarity(a.cells["nom"], b.cells["nom"])
                if noms < 0.9:
                    continue
                keep, drop = sorted(
                    (a, b), key=lambda r: (parse_date(r.cells["date_maj"])[0] or date.min, -r.line), reverse=True
                )
                dropped.add(id(drop))
                raison = (
                    f"doublon de {keep.id} (ligne {keep.line}) : même commune (INSEE {keep.commune}), "
                    f"nom semblable à {_pct(noms)}, même adresse ; la fiche la plus récente "
                    f"({keep.cells['date_maj']}) est gardée"
                )
                ctx.report.problem(drop.place, "id", raison, "duplicate", "rejected")
                ctx.resolver.record(
                    iri.source_record(SOURCE, drop.id),
                    iri.lieu(keep.id),
                    METHODE_DOUBLON,
                    _score(noms, adresses),
                    raison,
                    [iri.lieu(keep.id)],
                )
    return [r for r in rows if id(r) not in dropped]


# --------------------------------------------------------------------------------------------------------
# The legacy export
# --------------------------------------------------------------------------------------------------------


@register
class LegacyReader:
    """The old NetPublic EPN export (ISO-8859-1, ``;``), resolved onto the national lieux when they match."""

    source = SOURCE
    label = LABEL_LEGACY
    scoped_snapshot = True  # the national file shares the graph: never withdraw its records

    def sniff(self, path: Path) -> bool:
        header = {_key(c) for c in _header(_head(path), ";")}
        return _key("N° EPN") in header and _key("Nom de l'EPN") in header

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        return diagnose_csv(path, ";", COLONNES_LEGACY, WHAT_LEGACY)

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        decoded = _decode_file(path, ctx)
        rows = list(_rows(decoded.text, ";", COLONNES_LEGACY, str(path), WHAT_LEGACY))
        ctx.report.read += len(rows)
        ctx.report.rows["lieux"] = len(rows)
        kept: list[_Row] = []
        for row in rows:
            row.id = row.cells["N° EPN"]
            row.place = f"{row.line} ({place_ident(row.id)})" if row.id else str(row.line)
            if not _admitted(row, ctx):
                continue
            missing = [c for c in REQUISES_LEGACY if not row.cells[c]]
            if missing:
                ctx.report.problem(
                    row.place,
                    ", ".join(missing),
                    f"champ(s) obligatoire(s) vide(s) : {', '.join(missing)} : lieu ignoré",
                    "empty_required",
                    "rejected",
                )
                continue
            ville, cp = row.cells["Ville"], row.cells["CP"]
            row.found = ctx.resolver.collectivite(
                iri.source_record(SOURCE, row.id), ville, code_postal=cp, niveau="commune", ville=ville
            )
            row.commune = row.found.code if row.found is not None else None
            kept.append(row)
        store = ctx.resolver.store
        nationaux = national_fiches(stored_lieux(store)) if store is not None else []
        anciens = [
            Fiche(
                iri.lieu(f"legacy-{r.id}"),
                r.commune,
                (r.cells["Nom de l'EPN"],),
                (r.cells["Adresse"],),
                r.cells["CP"],
                iri.source_record(SOURCE, r.id),
                r.id,
            )
            for r in kept
        ]
        for row, match in zip(kept, match_lieux(anciens, nationaux), strict=True):
            yield self._record(row, match, ctx)

    def _record(self, row: _Row, match: Appariement, ctx: Context) -> Record:
        cells = row.cells
        record = iri.source_record(SOURCE, row.id)
        national = match.national
        entity = national.iri if national is not None else iri.lieu(f"legacy-{row.id}")
        if national is not None:
            ctx.resolver.record(record, entity, METHODE_MEME_LIEU, match.score, match.raison, list(match.candidats))
        else:
            ctx.resolver.record(record, entity, METHODE_NOUVEAU_LIEU, match.score, match.raison)
        m = _Mapper(ctx, row, entity, record)
        m.text("Nom de l'EPN", cells["Nom de l'EPN"], SKOS.altLabel if national is not None else RDFS.label)
        departement = ctx.resolver.ref.communes[row.commune].departement if row.commune else None
        if cells["Structure porteuse"]:
            m.porteur(cells["Structure porteuse"], cells["CP"], departement, cells["Type de structure"])
        m.text("Type de structure", cells["Type de structure"], CAP.typeStructure, lang=None)
        m.text("Adresse", cells["Adresse"], CAP.adresse, lang=None)
        m.text("Complément d'adresse", cells["Complément d'adresse"], CAP.complementAdresse, lang=None)
        cp = cells["CP"]
        conflict = national is not None and national.code_postal and national.code_postal != cp
        m.add(CAP.codePostal, recurring_literal(cp), record if conflict else None)
        if conflict:
            m.problem(
                "CP",
                f"code postal {cp} différent de celui du lieu national ({national.code_postal}) : gardé "
                "sur l'enregistrement source",
                "code_postal_differs",
            )
        m.add(CAP.ville, recurring_literal(cells["Ville"]))
        m.link_commune(row.found, cells["Ville"], cp)
        for column in ("Téléphone", "Fax"):
            for phone in _split(cells[column], "|"):
                m.add(CAP.telephone if column == "Téléphone" else CAP.fax, text_literal(phone))
        m.emails("Courriel", cells["Courriel"], ",")
        m.url("Site web", cells["Site web"], CAP.siteWeb)
        m.text("Horaires d'ouverture", cells["Horaires d'ouverture"], CAP.horaires)
        for column, predicate in _LISTES_LEGACY.items():
            for value in _split(cells[column], ","):
                m.add(predicate, recurring_literal(value))
        m.text("Conditions d'accès", cells["Conditions d'accès"], CAP.conditionsAcces)
        postes = cells["Nombre de postes"]
        if postes:
            if postes.isdigit():
                m.add(CAP.nombrePostes, Literal(int(postes), datatype=XSD.integer))
            else:
                m.problem(
                    "Nombre de postes",
                    f"« {postes} » n'est pas un nombre entier : gardé en annotation",
                    "invalid_integer",
                )
                m.annotate("Nombre de postes", postes)
        for column, predicate, subject in (
            ("Date de labellisation", CAP.dateLabellisation, None),
            ("Dernière mise à jour", CAP.dateMaj, record),  # a fact about the row, not about the lieu
        ):
            if not cells[column]:
                continue
            parsed, _ = parse_date(cells[column])
            if parsed is None:
                m.problem(column, f"date « {cells[column]} » illisible : gardée en annotation", "wrong_date_format")
                m.annotate(column, cells[column])
            else:
                m.add(predicate, _date_literal(parsed), subject)
        for column, value in row.extra:
            m.annotate(column, value)
        return Record(row.id, row.place, entity, "lieu", m.triples)

    def after_load(self, store: Store) -> None:
        """A legacy import matched its rows at read time; the sweep only catches rows it could not place."""
        repoint_legacy_lieux(store)
