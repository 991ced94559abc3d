"""Villes Internet: the ATLAAS workbook (``.xlsx`` and legacy ``.xls``) and the label palmarès (CSV).

The workbook's seven sheets are one snapshot of the source: ``Lieux`` become collectivités (resolved against
the COG referential and the curated structures), ``Personnes`` become ``cap:Personne`` (contact details in the
private graph), ``Actions`` become ``cap:Experience`` with the three ``Liaison`` sheets folded in, and
``Services`` is checked against the ATLAAS taxonomy. Every defect is reported with its ``Sheet!row (id)``
place, its column and what was done about it; the import goes on.

The label palmarès (``annee,code_insee,siren,collectivite,departement,arobases,mention``) is another
export with a life of its own (yearly): it is the ``villes-internet-labels`` source, in its own named graph,
so that importing either file never withdraws the other's records. ``capitalis ingest villes-internet FILE
--labels LABELS`` imports it right after the workbook; the workbook reader does not read it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from python_calamine import CalamineError, CalamineWorkbook, XmlError
from rdflib import Literal, URIRef

from ingest.cells import check_length, check_values, extra_cells, place_ident
from ingest.html import html_to_text
from ingest.resolve import Resolved, structures
from ingest.sources import MOIS, Context, Outcome, Record, register
from ingest.terms import text_literal
from ingest.territories import distance_km
from kg.errors import IngestError
from kg.store import Triple
from ontology import iri, ontology_graph
from ontology.namespaces import CAP, DCTERMS, FOAF, RDF, RDFS, SKOS, WGS, XSD

SOURCE = "villes-internet"
LABELS_SOURCE = "villes-internet-labels"

#: The sheets of an ATLAAS export and their columns, in the order of the format.
SHEETS: dict[str, tuple[str, ...]] = {
    "Lieux": (
        "Id_Lieu", "Type", "Nom", "Description", "Latitude", "Longitude", "Adresse web", "Adresse",
        "Code postal", "Ville", "Telephone", "Fax", "Courriel", "Population", "Id_INSEE",
    ),
    "Personnes": (
        "Id_Personne", "Nom", "Titre", "Elu", "Adresse", "Code postal", "Ville", "Telephone",
        "Telephone mobile", "Courriel",
    ),
    "Services": ("Id_Service", "Axe", "Enjeu de développement", "Usage", "Service"),
    "Actions": (
        "Id_Action", "Titre", "Sous-titre", "Date", "Synthèse", "Actions", "Résultats", "Recommandations",
        "Liens", "Outils", "Prestataires", "Videos", "Photos",
    ),
    "Liaison Lieux": ("Id_Action", "Id_Lieu"),
    "Liaison Personnes": ("Id_Action", "Id_Personne"),
    "Liaison Services": ("Id_Action", "Id_Service"),
}
#: Columns without which a sheet cannot be read at all.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Lieux": ("Id_Lieu", "Nom"),
    "Personnes": ("Id_Personne", "Nom"),
    "Services": ("Id_Service",),
    "Actions": ("Id_Action", "Titre"),
    "Liaison Lieux": ("Id_Action", "Id_Lieu"),
    "Liaison Personnes": ("Id_Action", "Id_Personne"),
    "Liaison Services": ("Id_Action", "Id_Service"),
}
_KNOWN_COLUMNS = {name: frozenset(columns) for name, columns in SHEETS.items()}
LABELS_HEADER: tuple[str, ...] = ("annee", "code_insee", "siren", "collectivite", "departement", "arobases", "mention")

_OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_EXCEL_EPOCH = date(1899, 12, 30)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the pattern of capsh:CourrielShape
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)
_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_COORDS_TOLERANCE_KM = 30.0  # a town hall lies within a few km of the referential's point
# The project's normalisation helpers, memoised: the same names and labels recur across thousands of rows.
_texte = lru_cache(maxsize=16384)(iri.normalise_texte)
_nom = iri.normalise_nom  # remembers the names it folded


# --------------------------------------------------------------------------------------------------------
# Readers (registered)
# --------------------------------------------------------------------------------------------------------


@register
class AtlaasWorkbookReader:
    """The ATLAAS export as an Excel 2007+ workbook (a zip whose workbook lists the seven sheets)."""

    source = SOURCE
    label = "villes-internet-xlsx"

    def sniff(self, path: Path) -> bool:
        names = _xlsx_sheet_names(path)
        return names is not None and not _absent_sheets(names)

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        if not zipfile.is_zipfile(path):
            return None
        names = _xlsx_sheet_names(path)
        if names is None:
            try:
                with zipfile.ZipFile(path) as archive:
                    excel = any(n.startswith("xl/") for n in archive.namelist())
            except (zipfile.BadZipFile, OSError, ValueError):
                excel = False
            if not excel:
                return None
            return 0.5, IngestError(str(path), "classeur Excel endommagé : la liste de ses feuilles est illisible")
        return _missing_sheets(path, names)

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        yield from _Workbook(path, _load_workbook(path, "classeur Excel"), ctx).records()


@register
class AtlaasLegacyReader:
    """The same export in the Excel 97-2003 format (an OLE2 file whose workbook lists the seven sheets)."""

    source = SOURCE
    label = "villes-internet-xls"

    def sniff(self, path: Path) -> bool:
        names = _xls_sheet_names(path)
        return names is not None and not _absent_sheets(names)

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        names = _xls_sheet_names(path)
        if names is not None:
            return _missing_sheets(path, names)
        with open(path, "rb") as handle:
            if handle.read(8) != _OLE2_MAGIC:
                return None
        message = "classeur Excel 97-2003 endommagé : sa structure (OLE2) est illisible, la liste des feuilles aussi"
        return 0.5, IngestError(str(path), message)

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        yield from _Workbook(path, _load_workbook(path, "classeur Excel 97-2003"), ctx).records()


@register
class LabelsReader:
    """The label palmarès alone: its own snapshot, in its own named graph."""

    source = LABELS_SOURCE
    label = "villes-internet-labels"

    def sniff(self, path: Path) -> bool:
        return tuple(_labels_header(path)) == LABELS_HEADER

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        found = set(_labels_header(path)) & set(LABELS_HEADER)
        if len(found) < 3:
            return None
        try:
            _label_rows(path)
        except IngestError as error:
            return len(found) / len(LABELS_HEADER), error
        return None

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        yield from read_labels(path, ctx, self.source)


def _labels_header(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        first = handle.readline(4096)
    return first.decode("utf-8-sig", "replace").strip().replace(" ", "").split(",")


def _xlsx_sheet_names(path: Path) -> set[str] | None:
    """The sheet names an .xlsx workbook lists, or None when the file is no readable .xlsx."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        return None  # not a workbook, or a damaged or encrypted archive
    return {e.get("name") or "" for e in workbook.iter() if e.tag.rsplit("}", 1)[-1] == "sheet"}


def _xls_sheet_names(path: Path) -> set[str] | None:
    """The sheet names of an Excel 97-2003 file (OLE2), or None when the file is no readable .xls."""
    with open(path, "rb") as handle:
        if handle.read(8) != _OLE2_MAGIC:
            return None
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError):
        return None
    try:
        return set(book.sheet_names)
    finally:
        book.close()


def _absent_sheets(names: set[str]) -> list[str]:
    """The ATLAAS sheets a workbook lacks, its names compared as the reader compares them (case, accents)."""
    present = {_texte(n) for n in names}
    return [s for s in SHEETS if _texte(s) not in present]


def _missing_sheets(path: Path, names: set[str]) -> tuple[float, IngestError] | None:
    """A workbook with some of the ATLAAS sheets: which ones are missing (compared as the reader compares)."""
    missing = _absent_sheets(names)
    if not missing:
        return None
    share = 1 - len(missing) / len(SHEETS)
    listed = ", ".join(f"« {s} »" for s in missing)
    if share == 0:
        message = f"classeur Excel sans aucune des feuilles d'un export ATLAAS ({', '.join(SHEETS)})"
    else:
        message = f"feuille(s) {listed} absente(s) du classeur : ce n'est pas un export ATLAAS complet"
    return share, IngestError(str(path), message, missing[0])


# --------------------------------------------------------------------------------------------------------
# Loading the sheets (both formats give the same cells)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet: its header as written and its data rows as (Excel row number, {column: value}).

    A cell under no column name is kept as ``colonne_{n}`` (n its column number; the mapping annotates it);
    ``beyond`` lists, by row number, the cells past the header's last named column (reported).
    """

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    beyond: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """The number of columns of the header, up to its last named one."""
        return max((i + 1 for i, h in enumerate(self.header) if h), default=0)


def _cell(value: Any) -> Any:
    """One cell as the mapping expects it: None for empty, int for whole numbers, stripped text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sheet(name: str, rows: Iterable[tuple[int, tuple[Any, ...]]]) -> Sheet:
    """A sheet from its (Excel row number, cells) rows, the first one being the header."""
    iterator = iter(rows)
    _, header_row = next(iterator, (1, ()))
    header = [str(h).strip() if h is not None else "" for h in header_row]
    sheet = Sheet(name, header)
    width = sheet.width
    names = [h or f"colonne_{i + 1}" for i, h in enumerate(header)]
    for number, values in iterator:
        cells = [_cell(v) for v in values]
        if all(c is None for c in cells):
            continue
        row = {names[i] if i < len(names) else f"colonne_{i + 1}": c for i, c in enumerate(cells) if c is not None}
        sheet.rows.append((number, row))
        beyond = [c for c in cells[width:] if c is not None]
        if beyond:
            sheet.beyond[number] = beyond
    return sheet


def _load_workbook(path: Path, kind: str) -> dict[str, Sheet]:
    """The sheets of an .xlsx or a legacy .xls, read by calamine (Rust; both formats give the same cells).

    Error cells (``#N/A``) come as empty cells; dates formatted as dates come as ``date``/``datetime``, other
    numbers as floats (whole ones become ints in :func:`_cell`). See docs/decisions/2026-11-28-calamine.md.
    """
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as error:
        raise IngestError(str(path), f"{kind} illisible : {error}") from error
    sheets: dict[str, Sheet] = {}
    try:
        for name in book.sheet_names:
            try:
                rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except (CalamineError, ValueError) as error:
                # calamine's XML errors name the element it stopped at, not the place: say which sheet
                reason = f"XML mal formé (élément « {error} »)" if isinstance(error, XmlError) else str(error)
                raise IngestError(str(path), f"{kind} illisible, feuille « {name} » : {reason}", name) from error
            sheets[name] = _sheet(name, enumerate(rows, start=1))
    finally:
        book.close()
    return sheets


# --------------------------------------------------------------------------------------------------------
# Value helpers (public: the tests and other readers may use them)
# --------------------------------------------------------------------------------------------------------


def clean_html(text: str) -> tuple[str, bool, bool]:
    """Plain text of a cell that may hold HTML: (text, had HTML, had a script). Text without markup is
    returned unchanged."""
    if not _HTML.search(text):
        return text, False, False
    cleaned, script = html_to_text(text, paragraphs=True, html_spaces=True)
    return cleaned, True, script


def excel_date(serial: float) -> date | None:
    """The date of an Excel serial day number (days since 1899-12-30), None when out of Excel's range."""
    if not 1 <= serial < 2958466:
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))


_YEAR_ONLY = {"printemps", "ete", "automne", "hiver", "debut", "fin", "mi", "courant", "milieu", "annee", "en"}


def parse_date_text(text: str) -> tuple[Literal, str] | None:
    """A date written as text, at the precision it states: (typed literal, French description).

    ISO (2017-10-05, 2017-10, 2017), French numeric (05/10/2017, 10/2017) and French words
    ("5 octobre 2017", "1er oct. 2017", "octobre 2017", "automne 2017", "début 2017"). None otherwise.
    """
    tokens = _texte(text).split()
    if tokens and tokens[0] in ("le", "en", "depuis"):
        tokens = tokens[1:]
    try:
        if len(tokens) == 1 and re.fullmatch(r"\d{4}", tokens[0]):
            return _year(tokens[0])
        if len(tokens) == 2:
            first, second = tokens
            if re.fullmatch(r"\d{4}", first) and second.isdigit():
                return _year_month(int(first), int(second))
            if re.fullmatch(r"\d{4}", second):
                if first.isdigit():
                    return _year_month(int(second), int(first))
                if first in MOIS:
                    return _year_month(int(second), MOIS[first])
                if first in _YEAR_ONLY:
                    return _year(second)
        if len(tokens) == 3:
            a, b, c = tokens
            if re.fullmatch(r"\d{4}", a) and b.isdigit() and c.isdigit():
                return _day(int(a), int(b), int(c))
            if re.fullmatch(r"\d{4}", c):
                day = re.fullmatch(r"(\d{1,2})(?:er)?", a)
                if day and b.isdigit():
                    return _day(int(c), int(b), int(day.group(1)))
                if day and b in MOIS:
                    return _day(int(c), MOIS[b], int(day.group(1)))
    except ValueError:
        return None
    return None


def _year(text: str) -> tuple[Literal, str]:
    return Literal(text, datatype=XSD.gYear), f"année {text}"


def _year_month(year: int, month: int) -> tuple[Literal, str]:
    date(year, month, 1)  # raises ValueError on a wrong month
    value = f"{year:04d}-{month:02d}"
    return Literal(value, datatype=XSD.gYearMonth), f"mois {value}"


def _day(year: int, month: int, day: int) -> tuple[Literal, str]:
    value = date(year, month, day).isoformat()
    return Literal(value, datatype=XSD.date), f"date {value}"


def split_list(text: str) -> list[str]:
    """Items of a comma- (or semicolon-) separated cell, not splitting inside parentheses:
    "fablab (imprimantes 3D, découpe laser), SIG" gives two items."""
    items, depth, current = [], 0, []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char in ",;\n" and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip().strip(".").strip() for item in items if item.strip().strip(".").strip()]


def repair_courriel(raw: str) -> tuple[list[str], list[str]]:
    """The e-mail addresses in a cell, repaired where the intent is clear ("x [at] y.fr", "x@@y.fr",
    "x @ y.fr", several addresses separated by ";"), and the parts that are not addresses."""
    valid, invalid = [], []
    for part in re.split(r"\s*[;,]\s*|\s+et\s+|\s+ou\s+", raw.strip()):
        if not part:
            continue
        value = re.sub(r"\s*[\[(]\s*(?:at|arobase)\s*[\])]\s*", "@", part, flags=re.IGNORECASE)
        value = re.sub(r"\s*[\[(]\s*(?:dot|point)\s*[\])]\s*", ".", value, flags=re.IGNORECASE)
        value = re.sub(r"\s*@+\s*", "@", value).strip().strip("<>")
        value = value[7:] if value.lower().startswith("mailto:") else value
        (valid if _EMAIL.match(value) else invalid).append(value if _EMAIL.match(value) else part)
    return valid, invalid


def parse_population(value: Any) -> int | None:
    """A population as written: 10267, 10267.0, "171 953 hab.", "7 274 habitants"; None if no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    digits = re.fullmatch(r"\s*(\d{1,3}(?:[\s\u00a0\u202f.]\d{3})+|\d+)\s*(?:hab\.?|habitants?)?\s*", str(value))
    return int(re.sub(r"\D", "", digits.group(1))) if digits else None


def parse_decimal(value: Any) -> Decimal | None:
    """A number from a cell: a float, an int, or text with a decimal comma."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    try:
        return Decimal(str(value).strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        return None


def _decimal(value: Decimal) -> Literal:
    text = format(value.normalize(), "f")
    return Literal(text, datatype=XSD.decimal)


def source_id(value: Any) -> str | None:
    """The identifier in a cell as text (Excel gives 1001 or 1001.0 for "1001")."""
    value = _cell(value)
    if value is None:
        return None
    return str(value)


def _fr(text: str) -> Literal:
    return text_literal(text, "fr")


def _place(sheet: str, row: int, ident: str | None) -> str:
    return f"{sheet}!{row} ({ident})" if ident else f"{sheet}!{row}"


# --------------------------------------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Lieu:
    """A Lieux row once mapped: the node that stands for it and what is known of it."""

    ident: str
    entity: URIRef
    resolved: Resolved | None
    canonical: list[Triple]
    courriel_domains: set[str]
    ville: str


@dataclass
class _Links:
    """The Liaison rows of one action, in sheet order."""

    lieux: list[str] = field(default_factory=list)
    personnes: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)


class _Workbook:
    """Maps the sheets of one ATLAAS export to records."""

    def __init__(self, path: Path, sheets: dict[str, Sheet], ctx: Context) -> None:
        self.path = path
        self.ctx = ctx
        self.report = ctx.report
        self.resolver = ctx.resolver
        self.sheets = self._check_sheets(sheets)
        self.lieux: dict[str, _Lieu] = {}
        self.personnes: dict[str, URIRef] = {}
        self.actions: dict[str, tuple[int, dict[str, Any]]] = {}
        self.links: dict[str, _Links] = defaultdict(_Links)
        self._by_domain: dict[str, _Lieu] | None = None
        self._technologies: dict[str, tuple[URIRef, Any]] = {}
        self.services_known: set[str] = set()

    # --- structure ----------------------------------------------------------------------------------
    def _check_sheets(self, sheets: dict[str, Sheet]) -> dict[str, Sheet]:
        by_key = {_texte(name): sheet for name, sheet in sheets.items()}
        checked: dict[str, Sheet] = {}
        for name, columns in SHEETS.items():
            sheet = sheets.get(name) or by_key.get(_texte(name))
            if sheet is None:
                raise IngestError(str(self.path), f"feuille « {name} » absente : ce n'est pas un export ATLAAS", name)
            # Tolerate a header spelled without accents or in another case: rename to the format's names.
            known = {_texte(c): c for c in columns}
            rename = {h: known.get(_texte(h), h) for h in sheet.header}
            if any(k != v for k, v in rename.items()):
                sheet.header = [rename[h] for h in sheet.header]
                sheet.rows = [(n, {rename.get(k, k): v for k, v in row.items()}) for n, row in sheet.rows]
            for column in REQUIRED[name]:
                if column not in sheet.header:
                    raise IngestError(
                        str(self.path), f"colonne « {column} » absente de la feuille « {name} »", f"{name}!1", column
                    )
            for column in columns:
                if column not in sheet.header:
                    self.report.problem(f"{name}!1", column, f"colonne « {column} » absente de la feuille {name}",
                                        "missing_column", "reported")
            sheet.name = name
            checked[name] = sheet
            self.report.rows[name] = len(sheet.rows)
            self.report.read += len(sheet.rows)
            sheet.rows = list(self._admitted(sheet, columns[0]))
        return checked

    def _admitted(self, sheet: Sheet, ident_column: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """The rows of a sheet that pass the rules of every reader (:mod:`ingest.cells`); the others reported."""
        for number, row in sheet.rows:
            ident = source_id(row.get(ident_column))
            place = _place(sheet.name, number, place_ident(ident) if ident else None)
            if not check_values(self.report, place, row.items(), "ligne ignorée"):
                continue
            extra_cells(self.report, place, sheet.beyond.get(number, []), sheet.width)
            yield number, row

    def problem(self, place: str, column: str, message: str, kind: str, outcome: Outcome = "reported") -> None:
        self.report.problem(place, column, message, kind, outcome)

    def extras(self, sheet: str, row: dict[str, Any]) -> list[str]:
        """Columns the format does not know, kept as ``column=value`` annotations."""
        known = _KNOWN_COLUMNS[sheet]
        return [f"{k}={_text(v)}" for k, v in row.items() if v is not None and k not in known]

    def text(self, place: str, column: str, value: Any) -> str | None:
        """A free-text cell: markup removed and the plain text kept (repaired), scripts dropped (repaired)."""
        if value is None:
            return None
        text = _text(value)
        cleaned, had_html, had_script = clean_html(text)
        if had_html:
            kind = "html_in_" + iri.slug(column).replace("-", "_")
            self.problem(place, column, "balises HTML retirées, texte gardé", kind, "repaired")
        if had_script:
            kind = "script_in_" + iri.slug(column).replace("-", "_")
            self.problem(place, column, "script retiré du texte", kind, "repaired")
        check_length(self.report, place, column, cleaned)
        return cleaned or None

    # --- records ------------------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        self._check_services()
        yield from self._lieux()
        self._index_actions()
        self._read_links()
        yield from self._personnes()
        yield from self._actions()

    # --- Services -------------------------------------------------------------------------------------
    def _check_services(self) -> None:
        """The Services sheet is the taxonomy as the source knows it: compare with ontology/taxonomy.ttl."""
        taxonomy = _taxonomy()
        self.services_known = set(taxonomy)
        listed: set[str] = set()
        for number, row in self.sheets["Services"].rows:
            ident = source_id(row.get("Id_Service"))
            place = _place("Services", number, ident)
            if ident is None:
                self.problem(place, "Id_Service", "service sans identifiant", "missing_id", "reported")
                continue
            listed.add(ident)
            concept = taxonomy.get(ident)
            if concept is None:
                self.problem(place, "Id_Service", f"service {ident} absent de la taxonomie ATLAAS",
                             "taxonomy_mismatch", "reported")
                continue
            written = _numbered(row)
            for column, (notation, label) in written.items():
                expected = concept.get(column)
                if expected is None:
                    continue
                if notation is not None and notation != expected[0]:
                    self.problem(place, column, f"numérotation « {notation} » ≠ taxonomie « {expected[0]} »",
                                 "taxonomy_mismatch", "reported")
                if label and _texte(label) != _texte(expected[1]):
                    self.problem(place, column, f"libellé « {label} » ≠ taxonomie « {expected[1]} »",
                                 "taxonomy_mismatch", "reported")
        absent = sorted(set(taxonomy) - listed, key=lambda n: int(n[1:]) if n[1:].isdigit() else 0)
        if absent:
            self.problem("Services", "Id_Service", f"services de la taxonomie absents de la feuille : "
                         f"{', '.join(absent)}", "taxonomy_mismatch", "reported")

    # --- Lieux ----------------------------------------------------------------------------------------
    def _lieux(self) -> Iterator[Record]:
        seen_entities: dict[URIRef, str] = {}
        for number, row in self.sheets["Lieux"].rows:
            ident = source_id(row.get("Id_Lieu"))
            place = _place("Lieux", number, ident)
            if ident is None:
                self.problem(place, "Id_Lieu", "lieu sans identifiant : ligne ignorée", "missing_id", "rejected")
                continue
            if ident in self.lieux:
                self.problem(place, "Id_Lieu", f"identifiant {ident} déjà lu : ligne ignorée", "duplicate_id_lieu",
                             "rejected")
                continue
            record = self._lieu(f"Lieux!{number}", place, ident, row, seen_entities)
            if record is not None:
                yield record

    def _lieu(
        self, at: str, place: str, ident: str, row: dict[str, Any], seen: dict[URIRef, str]
    ) -> Record | None:
        nom = _text(row.get("Nom")) if row.get("Nom") is not None else ""
        if not nom:
            self.problem(place, "Nom", "lieu sans nom : ligne ignorée", "empty_nom", "rejected")
            return None
        type_ = _text(row.get("Type")) if row.get("Type") is not None else ""
        commune = _texte(type_).startswith("ville")
        record_iri = iri.source_record(SOURCE, ident)
        ville = _text(row.get("Ville")) if row.get("Ville") is not None else None
        annotations = self.extras("Lieux", row)
        code_postal = self._code_postal(place, row.get("Code postal"), annotations)

        insee = self._insee(place, row.get("Id_INSEE"), code_postal, ville or nom, annotations)
        if commune:
            found = self.resolver.collectivite(record_iri, nom, insee=insee, code_postal=code_postal,
                                               niveau="commune", ville=ville)
            if found is None:  # typed as a commune but named otherwise ("Ville / Village" for an EPCI…)
                found = self.resolver.collectivite(record_iri, nom)
        else:
            found = self.resolver.collectivite(record_iri, nom, insee=insee)
        if commune and insee is None and row.get("Id_INSEE") is None:
            if found is not None and found.niveau == "commune":
                self.problem(place, "Id_INSEE", f"code INSEE absent : retrouvé {found.code} ({found.methode})",
                             "lieu_without_insee", "repaired")
            else:
                self.problem(place, "Id_INSEE", "code INSEE absent et commune introuvable",
                             "lieu_without_insee", "reported")

        triples: list[Triple] = []
        if found is not None:
            entity = found.iri
            canonical = list(self.resolver.collectivite_triples(found))
        else:
            entity = iri.organisation(nom)
            canonical = [(entity, RDF.type, CAP.Organisation), (entity, RDFS.label, _fr(nom))]
            self.problem(place, "Nom", f"« {nom} » : aucune collectivité ni structure reconnue ; gardé comme "
                         "organisation", "unresolved_lieu", "reported")
        triples.extend(canonical)
        first_row = seen.setdefault(entity, at)
        duplicate = first_row != at
        if duplicate:
            self.problem(place, "Nom", f"même collectivité que {first_row} : coordonnées de cette ligne ignorées",
                         "duplicate_lieu", "reported")

        add = triples.append
        if type_:
            add((entity, CAP.typeOrganisation, text_literal(type_)))
        if found is None or _texte(nom) != _texte(found.nom):
            add((entity, SKOS.altLabel, _fr(nom)))
        description = self.text(place, "Description", row.get("Description"))
        if description:
            add((entity, DCTERMS.description, _fr(description)))
        if not duplicate:
            triples.extend(self._coordinates(place, entity, row, found, annotations))
        web = row.get("Adresse web")
        if web is not None:
            url = self._url(place, "Adresse web", _text(web), annotations)
            if url:
                add((entity, CAP.siteWeb, URIRef(url)))
        for column, prop in (("Adresse", CAP.adresse), ("Ville", CAP.ville), ("Telephone", CAP.telephone),
                             ("Fax", CAP.fax)):
            if row.get(column) is not None:
                add((entity, prop, Literal(_text(row[column]))))
        if code_postal:
            add((entity, CAP.codePostal, text_literal(code_postal)))
        domains: set[str] = set()
        if row.get("Courriel") is not None:
            for address in self._courriels(place, _text(row["Courriel"]), annotations):
                add((entity, CAP.courriel, text_literal(address)))
                domains.add(address.rsplit("@", 1)[1].lower())
        if isinstance(web, str) and _URL.match(web):
            domains.add(re.sub(r"^www\.", "", web.split("/")[2].lower()))
        triples.extend(self._population(place, entity, row.get("Population"), found, annotations))
        triples.extend((entity, CAP.annotation, text_literal(a)) for a in annotations)
        self.lieux[ident] = _Lieu(ident, entity, found, canonical, domains, _nom(ville or nom))
        return Record(ident, at, entity, "lieu", triples)

    def _insee(
        self, place: str, value: Any, code_postal: str | None, nom: str, annotations: list[str]
    ) -> str | None:
        """The INSEE code of a Lieux row, a lost leading zero restored when the postal code agrees."""
        if value is None:
            return None
        ref = self.resolver.ref
        code = str(value).strip().upper()
        if code in ref.communes:
            return code
        if code.isdigit() and len(code) < 5:
            padded = code.zfill(5)
            if padded in ref.communes and self._agrees(padded, code_postal, nom):
                self.problem(place, "Id_INSEE", f"zéro initial perdu : {code} → {padded}", "insee_leading_zero_lost",
                             "repaired")
                return padded
            self.problem(place, "Id_INSEE", f"code INSEE {code} incomplet et sans commune correspondante",
                         "insee_leading_zero_lost", "reported")
            annotations.append(f"Id_INSEE={code}")
            return None
        current = ref.commune_par_code_insee(code)
        annotations.append(f"Id_INSEE={code}")
        if current is not None:
            self.problem(place, "Id_INSEE", f"code {code} d'une commune déléguée ou d'un arrondissement : commune "
                         f"actuelle {current}", "insee_not_current", "repaired")
            return current
        self.problem(place, "Id_INSEE", f"code INSEE {code} inconnu du référentiel", "unknown_insee", "reported")
        return None

    def _agrees(self, code: str, code_postal: str | None, nom: str) -> bool:
        """A candidate commune agrees with the row when the postal code serves it (or its name matches)."""
        ref = self.resolver.ref
        if code_postal:
            return code_postal in ref.codes_postaux_par_commune.get(code, [])
        return code in ref.communes_par_nom(nom)

    def _code_postal(self, place: str, value: Any, annotations: list[str]) -> str | None:
        """A postal code: five digits, a leading zero lost by a spreadsheet restored."""
        if value is None:
            return None
        text = _text(value).replace(" ", "")
        if re.fullmatch(r"\d{5}", text):
            return text
        if re.fullmatch(r"\d{4}", text):
            self.problem(place, "Code postal", f"zéro initial perdu : {text} → 0{text}", "code_postal_zero_lost",
                         "repaired")
            return "0" + text
        self.problem(place, "Code postal", f"code postal « {_text(value)} » invalide : gardé en annotation",
                     "invalid_code_postal", "reported")
        annotations.append(f"Code postal={_text(value)}")
        return None

    def _coordinates(
        self, place: str, entity: URIRef, row: dict[str, Any], found: Resolved | None, annotations: list[str]
    ) -> list[Triple]:
        raw_lat, raw_lon = row.get("Latitude"), row.get("Longitude")
        if raw_lat is None and raw_lon is None:
            return []
        lat, lon = parse_decimal(raw_lat), parse_decimal(raw_lon)
        written = f"Latitude={_text(raw_lat)}", f"Longitude={_text(raw_lon)}"
        if lat is None or lon is None:
            self.problem(place, "Latitude", "coordonnées illisibles : gardées en annotation", "invalid_coords")
            annotations.extend(written)
            return []
        if lat == 0 and lon == 0:
            self.problem(place, "Latitude", "coordonnées 0, 0 (valeur par défaut) : ignorées", "coords_zero")
            annotations.extend(written)
            return []
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) and -90 <= lon <= 90 and -180 <= lat <= 180:
            lat, lon = lon, lat
            self.problem(place, "Latitude", "latitude et longitude inversées : corrigées", "latlon_swapped",
                         "repaired")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.problem(place, "Latitude", "coordonnées hors limites : gardées en annotation", "invalid_coords")
            annotations.extend(written)
            return []
        if found is not None and found.niveau == "commune":
            ref_commune = self.resolver.ref.communes[found.code]
            if ref_commune.latitude is not None and ref_commune.longitude is not None:
                here = (ref_commune.latitude, ref_commune.longitude)
                if distance_km(float(lat), float(lon), *here) > _COORDS_TOLERANCE_KM:
                    fixes = (("latitude et longitude inversées", lon, lat), ("signe de la longitude", lat, -lon),
                             ("signe de la latitude", -lat, lon))
                    for reason, new_lat, new_lon in fixes:
                        if distance_km(float(new_lat), float(new_lon), *here) <= _COORDS_TOLERANCE_KM:
                            self.problem(place, "Longitude", f"point à plus de {_COORDS_TOLERANCE_KM:.0f} km de la "
                                         f"commune {found.code} : {reason} corrigé", "coords_far_from_commune",
                                         "repaired")
                            lat, lon = new_lat, new_lon
                            break
                    else:
                        self.problem(place, "Latitude", f"point à plus de {_COORDS_TOLERANCE_KM:.0f} km de la commune "
                                     f"{found.code} : gardé en annotation", "coords_far_from_commune")
                        annotations.extend(written)
                        return []
        return [(entity, WGS.lat, _decimal(lat)), (entity, WGS.long, _decimal(lon))]

    def _population(
        self, place: str, entity: URIRef, value: Any, found: Resolved | None, annotations: list[str]
    ) -> list[Triple]:
        """The referential's population is canonical; the source's is kept when it says something else."""
        if value is None:
            return []
        population = parse_population(value)
        if population is None:
            self.problem(place, "Population", f"population « {_text(value)} » illisible : gardée en annotation",
                         "population_text")
            annotations.append(f"Population={_text(value)}")
            return []
        if not isinstance(value, int | float):
            self.problem(place, "Population", f"population écrite en texte « {_text(value)} » : lue {population}",
                         "population_text", "repaired")
        canonical = found.population if found is not None else None
        if canonical is None:
            return [(entity, CAP.population, Literal(str(population), datatype=XSD.integer))]
        if population != canonical:
            annotations.append(f"Population={population}")
        return []

    def _url(self, place: str, column: str, value: str, annotations: list[str]) -> str | None:
        url = value.strip()
        if _URL.match(url):
            return url
        if re.match(r"^www\.[^\s]+$", url, re.IGNORECASE) and _URL.match("https://" + url):
            self.problem(place, column, f"adresse sans protocole « {url} » : https:// ajouté", "invalid_url",
                         "repaired")
            return "https://" + url
        self.problem(place, column, f"adresse web « {url} » invalide : gardée en annotation", "invalid_url")
        annotations.append(f"{column}={url}")
        return None

    def _courriels(self, place: str, value: str, annotations: list[str]) -> list[str]:
        valid, invalid = repair_courriel(value)
        if invalid:
            self.problem(place, "Courriel", f"« {value} » n'est pas une adresse électronique valide : gardé en "
                         "annotation" + (f" ; adresse(s) retenue(s) : {', '.join(valid)}" if valid else ""),
                         "invalid_courriel")
            annotations.append(f"Courriel={value}")
        elif valid != [value]:
            self.problem(place, "Courriel", f"« {value} » corrigé en {', '.join(valid)}", "invalid_courriel",
                         "repaired")
        return valid

    # --- links ----------------------------------------------------------------------------------------
    def _index_actions(self) -> None:
        """First occurrence of every Id_Action (the links point to it, whatever its fate)."""
        for number, row in self.sheets["Actions"].rows:
            ident = source_id(row.get("Id_Action"))
            if ident is not None:
                self.actions.setdefault(ident, (number, row))

    def _read_links(self) -> None:
        personnes = {source_id(r.get("Id_Personne")) for _, r in self.sheets["Personnes"].rows}
        sheets = (("Liaison Lieux", "Id_Lieu"), ("Liaison Personnes", "Id_Personne"),
                  ("Liaison Services", "Id_Service"))
        for sheet, column in sheets:
            seen: set[tuple[str, str]] = set()
            for number, row in self.sheets[sheet].rows:
                action = source_id(row.get("Id_Action"))
                target = source_id(row.get(column))
                place = _place(sheet, number, action)
                if action is None or action not in self.actions:
                    what = f"action {action} absente de la feuille Actions" if action else "Id_Action vide"
                    self.problem(place, "Id_Action", f"{what} : lien vers {target} ignoré", "missing_id_action",
                                 "rejected")
                    continue
                links = self.links[action]
                if target is None:
                    self.problem(place, column, f"{column} vide : lien ignoré", f"missing_{column.lower()}", "rejected")
                    continue
                if (action, target) in seen:
                    self.problem(place, column, f"lien {action} → {target} en double : ignoré", "duplicate_link")
                    continue
                seen.add((action, target))
                if column == "Id_Lieu":
                    if target not in self.lieux:
                        self.problem(place, "Id_Lieu", f"lieu {target} absent de la feuille Lieux : lien gardé en "
                                     "annotation de l'action", "missing_id_lieu")
                        links.annotations.append(f"Id_Lieu={target}")
                        continue
                    links.lieux.append(target)
                elif column == "Id_Personne":
                    if target not in personnes:
                        self.problem(place, "Id_Personne", f"personne {target} absente de la feuille Personnes : lien "
                                     "gardé en annotation de l'action", "missing_id_personne")
                        links.annotations.append(f"Id_Personne={target}")
                        continue
                    links.personnes.append(target)
                else:
                    if target not in self.services_known:
                        self.problem(place, "Id_Service", f"service {target} inconnu de la taxonomie ATLAAS : gardé "
                                     "en annotation de l'action", "unknown_id_service")
                        links.annotations.append(f"Id_Service={target}")
                        continue
                    links.services.append(target)

    # --- Personnes ------------------------------------------------------------------------------------
    def _personnes(self) -> Iterator[Record]:
        candidates: dict[str, list[str]] = defaultdict(list)  # Id_Personne -> Id_Lieu of its actions, in order
        for links in self.links.values():
            for person in links.personnes:
                candidates[person].extend(lieu for lieu in links.lieux if lieu not in candidates[person])
        for number, row in self.sheets["Personnes"].rows:
            ident = source_id(row.get("Id_Personne"))
            place = _place("Personnes", number, ident)
            if ident is None:
                self.problem(place, "Id_Personne", "personne sans identifiant : ligne ignorée", "missing_id",
                             "rejected")
                continue
            if ident in self.personnes:
                self.problem(place, "Id_Personne", f"identifiant {ident} déjà lu : ligne ignorée",
                             "duplicate_id_personne", "rejected")
                continue
            nom = " ".join(_text(row["Nom"]).split()) if row.get("Nom") is not None else ""
            if not any(ch.isalnum() for ch in nom):
                self.problem(place, "Nom", "personne sans nom : ligne ignorée", "empty_nom", "rejected")
                continue
            yield self._personne(f"Personnes!{number}", place, ident, nom, row, candidates.get(ident, []))

    def _personne(self, at: str, place: str, ident: str, nom: str, row: dict[str, Any], lieux: list[str]) -> Record:
        private: list[str] = []
        courriels: list[str] = []
        if row.get("Courriel") is not None:
            courriels = self._courriels(place, _text(row["Courriel"]), private)
        employer = self._employer(courriels)
        organisation = employer or self._carrier_of(courriels, row.get("Ville"), lieux)
        # The IRI must not move when the person's links change (a withdrawn action keeps pointing at it):
        # keyed by the employer their e-mail names, else by their own id.
        org_key = str(employer.entity).rsplit("/", 1)[-1] if employer else f"{SOURCE}-{ident}"
        person = iri.personne(nom, org_key)
        triples: list[Triple] = [
            (person, RDF.type, CAP.Personne),
            (person, RDFS.label, text_literal(nom)),
            (person, FOAF.name, text_literal(nom)),
        ]
        if organisation is not None:
            triples.append((person, CAP.membreDe, organisation.entity))
            triples.append((person, CAP.organisme, organisation.entity))
        titre = self.text(place, "Titre", row.get("Titre"))
        if titre:
            triples.append((person, CAP.fonction, _fr(titre)))
        elu = row.get("Elu")
        if elu is not None:
            value = _boolean(elu)
            if value is None:
                self.problem(place, "Elu", f"valeur « {_text(elu)} » ni oui ni non : gardée en annotation",
                             "invalid_elu")
                triples.append((person, CAP.annotation, Literal(f"Elu={_text(elu)}")))
            else:
                triples.append((person, CAP.elu, text_literal(value)))
        triples.extend((person, CAP.annotation, text_literal(a)) for a in self.extras("Personnes", row))
        # Contact details: the private graph only.
        hidden: list[Triple] = [(person, CAP.courriel, text_literal(c)) for c in courriels]
        for column, prop in (("Adresse", CAP.adresse), ("Ville", CAP.ville), ("Telephone", CAP.telephone),
                             ("Telephone mobile", CAP.telephoneMobile)):
            if row.get(column) is not None:
                hidden.append((person, prop, Literal(_text(row[column]))))
        code_postal = self._code_postal(place, row.get("Code postal"), private)
        if code_postal:
            hidden.append((person, CAP.codePostal, text_literal(code_postal)))
        hidden.extend((person, CAP.annotation, text_literal(a)) for a in private)
        self.personnes[ident] = person
        return Record(ident, at, person, "personne", triples, hidden)

    def _employer(self, courriels: list[str]) -> _Lieu | None:
        """The lieu whose e-mail or web domain the person's e-mail uses ("gironde-numerique" and
        "girondenumerique" alike), first in sheet order."""
        domains = {_compact(c.rsplit("@", 1)[1]) for c in courriels}
        if not domains:
            return None
        if self._by_domain is None:
            self._by_domain = {}
            for lieu in self.lieux.values():
                for domain in lieu.courriel_domains:
                    self._by_domain.setdefault(_compact(domain), lieu)
        return next((self._by_domain[d] for d in sorted(domains) if d in self._by_domain), None)

    def _carrier_of(self, courriels: list[str], ville: Any, lieux: list[str]) -> _Lieu | None:
        """Failing an employer, the carrier of the person's actions whose name their e-mail domain spells
        ("finistere-cd" for the Finistère), else the one of their town, else the first."""
        known = [self.lieux[i] for i in lieux if i in self.lieux]
        if not known:
            return None
        domains = [_compact(c.rsplit("@", 1)[1]) for c in courriels]
        named = [
            (len(key), lieu) for lieu in known
            if lieu.resolved is not None and len(key := _compact(_nom(lieu.resolved.nom))) >= 4
            and any(key in domain for domain in domains)
        ]
        if named:
            return max(named, key=lambda pair: pair[0])[1]
        if ville is not None:
            town = _nom(_text(ville))
            for lieu in known:
                if town and town == lieu.ville:
                    return lieu
        return known[0]

    # --- Actions --------------------------------------------------------------------------------------
    def _actions(self) -> Iterator[Record]:
        done: set[str] = set()
        for number, row in self.sheets["Actions"].rows:
            ident = source_id(row.get("Id_Action"))
            place = _place("Actions", number, ident)
            if ident is None:
                self.problem(place, "Id_Action", "action sans identifiant : ligne ignorée", "missing_id",
                             "rejected")
                continue
            if ident in done:
                first = self.actions[ident][0]
                self.problem(place, "Id_Action", f"identifiant {ident} déjà utilisé ligne {first} : ligne ignorée",
                             "duplicate_id_action", "rejected")
                continue
            done.add(ident)
            record = self._action(f"Actions!{number}", place, ident, row)
            if record is not None:
                yield record

    def _action(self, at: str, place: str, ident: str, row: dict[str, Any]) -> Record | None:
        titre = self.text(place, "Titre", row.get("Titre"))
        titre = " ".join(titre.split()) if titre else ""
        if not titre:
            self.problem(place, "Titre", "titre vide : action rejetée", "empty_titre", "rejected")
            return None
        links = self.links.get(ident, _Links())
        carriers = [self.lieux[i] for i in links.lieux]
        if not carriers:
            self.problem(place, "Id_Action", "aucun lieu (porteur) valide lié à l'action : action rejetée",
                         "missing_porteur", "rejected")
            return None
        e = iri.experience(SOURCE, ident)
        triples: list[Triple] = [(e, RDF.type, CAP.Experience), (e, DCTERMS.title, _fr(titre))]
        add = triples.append
        annotations = [*links.annotations, *self.extras("Actions", row)]
        for rank, lieu in enumerate(carriers):
            add((e, CAP.porteur if rank == 0 else CAP.partenaire, lieu.entity))
            triples.extend(lieu.canonical)
        for column, prop in (("Sous-titre", CAP.sousTitre), ("Synthèse", CAP.synthese), ("Actions", CAP.actions),
                             ("Résultats", CAP.resultats), ("Recommandations", CAP.recommandations)):
            value = self.text(place, column, row.get(column))
            if value:
                add((e, prop, _fr(value)))
        when = self._date(place, row.get("Date"), annotations)
        if when is not None:  # dct:date is a day; a month or a year read from text is cap:dateDebut only
            if when.datatype == XSD.date:
                add((e, DCTERMS.date, when))
            add((e, CAP.dateDebut, when))
        for column, prop in (("Liens", CAP.lien), ("Videos", CAP.video), ("Photos", CAP.photo)):
            if row.get(column) is not None:
                for token in _text(row[column]).split():
                    url = self._url(place, column, token, annotations)
                    if url:
                        add((e, prop, URIRef(url)))
        if row.get("Outils") is not None:
            nodes: list[URIRef] = []
            for name in split_list(_text(row["Outils"])):
                node = self._technologie(e, name)
                if node not in nodes:
                    nodes.append(node)
                    add((e, CAP.technologie, node))
        if row.get("Prestataires") is not None:
            for name in split_list(_text(row["Prestataires"])):
                triples.extend(self._prestataire(e, name))
        for person in links.personnes:
            if person in self.personnes:
                add((e, CAP.contact, self.personnes[person]))
            else:  # a person row rejected (no name…): keep the link as written
                annotations.append(f"Id_Personne={person}")
        for rank, notation in enumerate(links.services):
            concept = iri.concept(notation)
            add((e, CAP.service, concept))
            if rank == 0:
                add((e, CAP.servicePrincipal, concept))
        triples.extend((e, CAP.annotation, text_literal(a)) for a in annotations)
        return Record(ident, at, e, "action", triples)

    def _date(self, place: str, value: Any, annotations: list[str]) -> Literal | None:
        """The Date column: an Excel serial day number (or a date cell); text is parsed when it can be."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return Literal(value.date().isoformat(), datatype=XSD.date)
        if isinstance(value, date):
            return Literal(value.isoformat(), datatype=XSD.date)
        if isinstance(value, int | float) and not isinstance(value, bool):
            day = excel_date(value)
            if day is not None:
                return Literal(day.isoformat(), datatype=XSD.date)
            self.problem(place, "Date", f"numéro de série {value} hors des dates Excel : gardé en annotation",
                         "invalid_date")
            annotations.append(f"Date={value}")
            return None
        text = _text(value)
        if re.fullmatch(r"\d{4,6}(?:[.,]\d+)?", text) and not re.fullmatch(r"(19|20)\d\d", text):
            day = excel_date(float(text.replace(",", ".")))
            if day is not None:
                self.problem(place, "Date", f"numéro de série écrit en texte « {text} » : {day.isoformat()}",
                             "date_text", "repaired")
                return Literal(day.isoformat(), datatype=XSD.date)
        parsed = parse_date_text(text)
        if parsed is None:
            self.problem(place, "Date", f"date en texte « {text} » illisible : gardée en annotation", "date_text")
            annotations.append(f"Date={text}")
            return None
        literal, described = parsed
        self.problem(place, "Date", f"date en texte « {text} » lue comme {described}", "date_text", "repaired")
        if literal.datatype != XSD.date:
            annotations.append(f"Date={text}")  # the precise wording (season…) is not in the typed value
        return literal

    def _technologie(self, experience: URIRef, name: str) -> URIRef:
        """The resolver's node for a spelling, resolved once per spelling; each mention keeps its decision."""
        known = self._technologies.get(name)
        if known is None:
            node = self.resolver.technologie(experience, name)
            self._technologies[name] = (node, self.resolver.decisions[-1])
            return node
        node, decision = known
        self.resolver.record(experience, node, decision.methode, decision.score, decision.raison)
        return node

    def _prestataire(self, experience: URIRef, name: str) -> list[Triple]:
        """A contractor: a known structure de mutualisation, else an organisation named without its
        parenthesised qualifier ("ADTIM (Axione, Eiffage)" is ADTIM, as OTeN writes it)."""
        structure = structures().get(_nom(name))
        if structure is not None:
            found = self.resolver.structure_resolved(structure, 0.95, "nom-structure", f"prestataire « {name} »")
            self.resolver.record(experience, found.iri, found.methode, found.score, found.raison)
            return [(experience, CAP.prestataire, found.iri), *self.resolver.collectivite_triples(found)]
        main = re.sub(r"\s*\([^()]*\)\s*$", "", name).strip() or name
        try:
            node = self.resolver.organisation(main)
        except ValueError:
            return [(experience, CAP.annotation, Literal(f"Prestataires={name}"))]
        triples: list[Triple] = [
            (experience, CAP.prestataire, node),
            (node, RDF.type, CAP.Organisation),
            (node, RDFS.label, _fr(main)),
        ]
        if main != name:
            triples.append((node, SKOS.altLabel, _fr(name)))
        return triples


def _text(value: Any) -> str:
    """A cell as text (numbers without a spurious ".0")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_BOOLEANS = {"oui": True, "non": False}


def _compact(text: str) -> str:
    """Letters and digits of a domain or name, without the top-level domain: "gironde-numerique.example"
    gives "girondenumerique"."""
    text = text.lower()
    if "." in text:
        text = text.rsplit(".", 1)[0]
    return re.sub(r"[^0-9a-z]", "", text.removeprefix("www."))


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    quick = _BOOLEANS.get(_text(value).lower())
    if quick is not None:
        return quick
    text = _texte(_text(value))
    if text in ("oui", "o", "vrai", "true", "yes", "1", "x"):
        return True
    if text in ("non", "n", "faux", "false", "no", "0"):
        return False
    return None


_NUMBERED = re.compile(r"^\s*([0-9]+|[a-z])\s*[.)]\s*(.+)$")


def _numbered(row: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    """The ATLAAS notations and labels a Services row states: "1. Démocratie…" is axe 1, "a. Efficacité…"
    enjeu 1a, "1. Accès…" usage 1a1; the Service column is the label of the Id_Service."""
    out: dict[str, tuple[str | None, str | None]] = {}
    notation = ""
    for column in ("Axe", "Enjeu de développement", "Usage"):
        value = row.get(column)
        if value is None:
            continue
        match = _NUMBERED.match(_text(value))
        if match:
            notation += match.group(1)
            out[column] = (notation, match.group(2).strip())
        else:
            out[column] = (None, _text(value))
    if row.get("Service") is not None:
        out["Service"] = (None, _text(row["Service"]))
    return out


@lru_cache(maxsize=1)
def _taxonomy() -> dict[str, dict[str, tuple[str, str]]]:
    """For every ATLAAS service notation: the notation and French label of itself and its ancestors,
    keyed by the Services column that states them."""
    graph = ontology_graph()
    notation: dict[URIRef, str] = {}
    label: dict[URIRef, str] = {}
    broader: dict[URIRef, URIRef] = {}
    scheme = iri.SERVICE_SCHEME
    for concept in graph.subjects(SKOS.inScheme, scheme):
        value = graph.value(concept, SKOS.notation)
        if value is None:
            continue
        notation[concept] = str(value)  # type: ignore[index]
        for pref in graph.objects(concept, SKOS.prefLabel):
            if isinstance(pref, Literal) and pref.language == "fr":
                label[concept] = str(pref)  # type: ignore[index]
        parent = graph.value(concept, SKOS.broader)
        if parent is not None:
            broader[concept] = parent  # type: ignore[index]
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for concept, code in notation.items():
        if not code.startswith("S"):
            continue
        entry = {"Service": (code, label.get(concept, ""))}
        node = concept
        for column in ("Usage", "Enjeu de développement", "Axe"):
            node = broader.get(node)  # type: ignore[assignment]
            if node is None:
                break
            entry[column] = (notation.get(node, ""), label.get(node, ""))
        out[code] = entry
    return out


# --------------------------------------------------------------------------------------------------------
# The label palmarès
# --------------------------------------------------------------------------------------------------------


def read_labels(path: Path, ctx: Context, source: str = LABELS_SOURCE) -> Iterator[Record]:
    """The records of a label palmarès: one ``cap:LabelVillesInternet`` per year and collectivité, linked
    from the collectivité by ``cap:label``."""
    report, resolver = ctx.report, ctx.resolver
    rows = _label_rows(path)
    header = [h.strip() for h in rows[0]]
    names = [h or f"colonne_{i + 1}" for i, h in enumerate(header)]
    name = path.name
    data = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
    report.rows["labels"] = len(data)
    report.read += len(data)
    seen: dict[str, int] = {}
    for number, cells in data:
        row = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(names)}
        beyond = [c.strip() for c in cells[len(names) :] if c.strip()]
        row.update((f"colonne_{len(names) + i + 1}", c) for i, c in enumerate(beyond))
        annee, code = row["annee"], row["code_insee"] or row["siren"]
        place = f"{name}!{number} ({place_ident(annee)}/{place_ident(code)})" if code else f"{name}!{number}"
        if not check_values(report, place, row.items(), "label ignoré"):
            continue
        extra_cells(report, place, beyond, len(names))
        if not re.fullmatch(r"(19|20)\d\d", annee):
            report.problem(place, "annee", f"année « {annee} » invalide : label ignoré", "invalid_annee", "rejected")
            continue
        arobases = row["arobases"]
        if not re.fullmatch(r"[1-5]", arobases):
            report.problem(place, "arobases", f"niveau « {arobases} » hors de 1 à 5 : label ignoré",
                           "invalid_arobases", "rejected")
            continue
        column = "code_insee" if row["code_insee"] else "siren"
        if not code:
            report.problem(place, "code_insee", f"« {row['collectivite']} » sans code INSEE ni SIREN : label ignoré",
                           "missing_code", "rejected")
            continue
        record_id = f"label-{annee}-{code}"
        found = _label_holder(row, iri.source_record(source, record_id), ctx, place)
        if found is None or found.niveau == "structure":
            report.problem(place, column, f"collectivité « {row['collectivite']} » ({code}) introuvable : label "
                           "ignoré", "unknown_collectivite", "rejected")
            continue
        if record_id in seen:
            report.problem(place, "annee", f"label {annee} de {code} déjà lu ligne {seen[record_id]} : ignoré",
                           "duplicate_label", "rejected")
            continue
        seen[record_id] = number
        label = iri.label_villes_internet(annee, found.code)
        collectivite = found.iri
        triples: list[Triple] = [
            (label, RDF.type, CAP.LabelVillesInternet),
            (label, RDFS.label, _fr(f"Territoires, Villes et Villages Internet {annee} : {found.nom}, "
                                    f"{arobases} @")),
            (label, CAP.annee, Literal(annee, datatype=XSD.gYear)),
            (label, CAP.arobases, Literal(arobases, datatype=XSD.integer)),
            (collectivite, CAP.label, label),
            *resolver.collectivite_triples(found),
        ]
        if row["mention"]:
            triples.append((label, CAP.mention, _fr(row["mention"])))
        if row["departement"]:
            dep = row["departement"].upper().zfill(2) if row["departement"].isdigit() else row["departement"]
            triples.append((label, CAP.codeDepartement, text_literal(dep)))
            expected = _departement_of(resolver.ref, found)
            if expected and expected != dep:
                report.problem(place, "departement", f"département {dep} ≠ {expected} (référentiel)",
                               "departement_incoherent")
        if row["collectivite"] and _texte(row["collectivite"]) != _texte(found.nom):
            triples.append((collectivite, SKOS.altLabel, _fr(row["collectivite"])))
        for key, value in row.items():
            if key not in LABELS_HEADER and value:
                triples.append((label, CAP.annotation, Literal(f"{key}={value}")))
        yield Record(record_id, f"{name}!{number}", label, "label", triples)


def _label_rows(path: Path) -> list[list[str]]:
    """The rows of a label palmarès (UTF-8, comma), its header checked; each fault named in French."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(str(path), f"fichier des labels illisible : {error.strerror or error}") from error
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        raise IngestError(
            str(path),
            f"encodage illisible : l'octet 0x{data[offset]:02x} (octet {offset}) n'est pas de l'UTF-8, "
            "l'encodage du palmarès des labels",
            f"octet {offset}",
        ) from error
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise IngestError(str(path), f"CSV des labels illisible ({error})") from error
    if not any(any(c.strip() for c in row) for row in rows):
        raise IngestError(str(path), "fichier vide : ni en-tête ni ligne de label")
    header = tuple(h.strip() for h in rows[0])
    if header[: len(LABELS_HEADER)] != LABELS_HEADER:
        missing = [c for c in LABELS_HEADER if c not in header]
        what = f"colonne(s) {', '.join(missing)} absente(s)" if missing else "colonnes dans un autre ordre"
        raise IngestError(
            str(path), f"en-tête inattendu : {what} ; attendu : {','.join(LABELS_HEADER)}", "1", ", ".join(missing)
        )
    return rows


def _label_holder(row: dict[str, str], record: URIRef, ctx: Context, place: str) -> Resolved | None:
    """The collectivité of a palmarès row: by INSEE code (a former code gives the current commune), by
    SIREN, and by name when the code is unknown (reported)."""
    resolver, report = ctx.resolver, ctx.report
    nom = row["collectivite"]
    if row["code_insee"]:
        written = row["code_insee"]
        current = resolver.ref.commune_par_code_insee(written)
        if current is not None:
            if current != written:
                kind = "insee_leading_zero_lost" if current == written.zfill(5) else "insee_not_current"
                report.problem(place, "code_insee", f"code {written} lu comme celui de la commune {current}", kind,
                               "repaired")
            return resolver.collectivite(record, nom, insee=current)
        found = resolver.collectivite(record, nom, departement=row["departement"] or None, niveau="commune")
        if found is not None:
            report.problem(place, "code_insee", f"code INSEE {written} inconnu : commune retrouvée par le nom "
                           f"({found.code})", "unknown_insee", "repaired")
        return found
    found = resolver.collectivite(record, nom, siren=row["siren"])
    if found is not None and found.code != row["siren"]:
        report.problem(place, "siren", f"SIREN {row['siren']} inconnu : retrouvé par le nom ({found.code})",
                       "unknown_siren", "repaired")
    return found


def _departement_of(ref: Any, found: Resolved) -> str | None:
    if found.niveau == "commune":
        return ref.communes[found.code].departement
    if found.niveau == "departement":
        return found.code
    return None  # an EPCI may span départements: its seat's is what the palmarès writes
