"""The OTeN reader: fiches d'expérience of the Observatoire des Territoires Numériques (XML, format 1.2).

One ``oten:fiche`` is one record: an experience with its carrier, territory, partners, calendar, budget,
funding, technologies, competences, evaluation and contact. Every element and attribute lands in the graph
(unknown ones as ``cap:annotation "name=value"``); the defects of the format (sources README, OTeN table)
are reported with the fiche and the field, and the import goes on.

Decisions worth knowing:

- A second fiche with an id already read is kept under ``{id}-{n}`` (n = 2, 3…) when its content differs,
  and rejected when it is an exact copy; both are reported (``duplicated_id``), so nothing is lost silently.
- ``dct:date`` is the first day of the start period (``2008-09`` → 2008-09-01, xsd:date) so that all sources
  sort and filter alike; ``cap:dateDebut``/``cap:dateFin`` keep the precision the fiche gives.
- Values that would make the graph lie (an end before the start, a note above its scale, an address that is
  not one) are not asserted: they stay as annotations next to where they would have been.
- Every value of a fiche (texts and attributes) follows the rules of every reader (:mod:`ingest.cells`): a value
  beyond ``MAX_VALUE`` rejects its fiche, a description beyond ``LONG_TEXT`` is reported (kept whole), a value a
  spreadsheet would read as a formula is reported (kept).
"""

from __future__ import annotations

import calendar
import gc
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS

from ingest.cells import MAX_VALUE, check_formula, check_length, check_values, place_ident
from ingest.html import html_to_text
from ingest.resolve import Resolved, structures
from ingest.sources import MOIS, Context, Outcome, Record, register
from ingest.terms import text_literal
from kg.errors import IngestError
from kg.store import Triple
from ontology import iri, ontology_graph
from ontology.iri import normalise_nom, normalise_texte
from ontology.namespaces import CAP

NS = "urn:oten:fiche:1.2"
ROOT_TAG = f"{{{NS}}}export"
SOURCE = "oten"

_KNOWN_CHILDREN = frozenset(
    {
        "titre",
        "resume",
        "description",
        "thematique",
        "territoire",
        "porteur",
        "partenaires",
        "calendrier",
        "budget",
        "financements",
        "technologies",
        "competences",
        "evaluation",
        "contact",
    }
)
_TYPES_PORTEUR = ("collectivite", "structure_mutualisation", "association", "entreprise", "etat")
_ROLES = {"financeur": CAP.financeur, "prestataire": CAP.prestataire, "partenaire": CAP.partenaire}
_NIVEAUX_TERRITOIRE = ("commune", "epci", "departement", "region", "pays")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


class _C:
    """The cap: terms this reader writes, looked up once (a DefinedNamespace lookup costs a few µs)."""

    Competence = CAP.Competence
    Evaluation = CAP.Evaluation
    Experience = CAP.Experience
    Financement = CAP.Financement
    Indicateur = CAP.Indicateur
    Organisation = CAP.Organisation
    Personne = CAP.Personne
    StructureMutualisation = CAP.StructureMutualisation
    ThematiqueOten = CAP.ThematiqueOten
    annotation = CAP.annotation
    appreciation = CAP.appreciation
    budget = CAP.budget
    budgetHT = CAP.budgetHT
    competence = CAP.competence
    contact = CAP.contact
    courriel = CAP.courriel
    dateDebut = CAP.dateDebut
    dateEvaluation = CAP.dateEvaluation
    dateExport = CAP.dateExport
    dateFin = CAP.dateFin
    dateMaj = CAP.dateMaj
    devise = CAP.devise
    echelle = CAP.echelle
    enseignements = CAP.enseignements
    evaluation = CAP.evaluation
    financement = CAP.financement
    financeur = CAP.financeur
    fonction = CAP.fonction
    indicateur = CAP.indicateur
    methodeEvaluation = CAP.methodeEvaluation
    montant = CAP.montant
    niveau = CAP.niveau
    nomCite = CAP.nomCite
    note = CAP.note
    organisme = CAP.organisme
    partenaire = CAP.partenaire
    porteur = CAP.porteur
    prestataire = CAP.prestataire
    resume = CAP.resume
    service = CAP.service
    servicePrincipal = CAP.servicePrincipal
    sourceFinancement = CAP.sourceFinancement
    statutPublication = CAP.statutPublication
    technologie = CAP.technologie
    telephone = CAP.telephone
    territoire = CAP.territoire
    thematiqueOten = CAP.thematiqueOten
    typeOrganisation = CAP.typeOrganisation
    unite = CAP.unite
    valeur = CAP.valeur
    versionFormat = CAP.versionFormat


def _tag(element: ET.Element) -> str:
    """Local name of an element of the OTeN namespace; foreign elements keep their ``{ns}`` prefix."""
    return element.tag[len(NS) + 2 :] if element.tag.startswith(f"{{{NS}}}") else element.tag


# --------------------------------------------------------------------------------------------------------
# Values: text, dates, amounts
# --------------------------------------------------------------------------------------------------------


def clean_html(text: str) -> tuple[str, bool, bool]:
    """``(plain text, had HTML, had a <script>)``: tags removed, entities decoded, paragraphs kept."""
    if not _HTML.search(text):
        return text, False, False
    cleaned, script = html_to_text(text)
    return cleaned, True, script


def _inner(element: ET.Element) -> str:
    """The content of a text element, its mixed markup (if any) serialised back to HTML."""
    if len(element) == 0:
        return element.text or ""
    parts = [element.text or ""]
    for child in element:
        child_xml = ET.tostring(child, encoding="unicode")
        parts.append(re.sub(r"\s*xmlns(?::\w+)?=\"[^\"]*\"", "", re.sub(r"<(/?)\w+:", r"<\1", child_xml)))
    return "".join(parts)


def _content_digest(element: ET.Element) -> str:
    """A hash of a fiche's content (tags, attributes, trimmed texts), to tell a copy from another fiche."""
    digest = hashlib.sha1()
    for node in element.iter():
        digest.update(f"{node.tag}\x1f{sorted(node.attrib.items())}\x1f{(node.text or '').strip()}\x1e".encode())
    return digest.hexdigest()


_texte = lru_cache(maxsize=8192)(normalise_texte)


def _simple(text: str | None) -> str:
    """A one-line value: whitespace runs collapsed."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day, as OTeN calendars give them."""

    year: int
    month: int | None = None
    day: int | None = None

    def literal(self) -> Literal:
        """Typed by precision: xsd:gYear, xsd:gYearMonth or xsd:date."""
        if self.month is None:
            return Literal(f"{self.year:04d}", datatype=XSD.gYear)
        if self.day is None:
            return Literal(f"{self.year:04d}-{self.month:02d}", datatype=XSD.gYearMonth)
        return Literal(f"{self.year:04d}-{self.month:02d}-{self.day:02d}", datatype=XSD.date)

    def first(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def last(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])


@lru_cache(maxsize=4096)
def parse_partial_date(text: str | None) -> PartialDate | None:
    """``2008-09``, ``09/2008``, ``2008``, ``sept. 2008``, ``févr. 2006``, ``2008-09-15``, ``15/09/2008``,
    ``15 septembre 2008`` → a :class:`PartialDate`; None when the text is none of these."""
    value = normalise_texte(text).replace(" ", "/")
    raw = (text or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})", raw):
            return PartialDate(int(m[1]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", raw):
            return _checked(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{1,2})/(\d{4})", raw):
            return _checked(int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
            return _checked(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw):
            return _checked(int(m[3]), int(m[2]), int(m[1]))
        if (m := re.fullmatch(r"([a-z]+)/(\d{4})", value)) and m[1] in MOIS:
            return _checked(int(m[2]), MOIS[m[1]])
        if (m := re.fullmatch(r"(\d{1,2})(?:er)?/([a-z]+)/(\d{4})", value)) and m[2] in MOIS:
            return _checked(int(m[3]), MOIS[m[2]], int(m[1]))
    except ValueError:
        return None
    return None


def _checked(year: int, month: int, day: int | None = None) -> PartialDate:
    date(year, month, day or 1)  # raises ValueError on a month 13 or a 31 February
    return PartialDate(year, month, day)


_AMOUNT_UNITS = (
    (re.compile(r"(?:k|k€|keur|kf)$"), Decimal(1000)),
    (re.compile(r"(?:m|m€|meur|millions?|millions? d'euros?|millions? €)$"), Decimal(1_000_000)),
)


def parse_amount(text: str | None) -> tuple[Decimal | None, bool]:
    """``(amount, was text)``: ``120000`` → (120000, False); ``120 000 €``, ``18 k€``, ``1,2 M€`` →
    (value, True); anything else → (None, True)."""
    raw = (text or "").strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return Decimal(raw), False
    value = raw.lower().replace("\u00a0", " ").replace("\u202f", " ")
    value = re.sub(r"\b(?:ht|ttc|hors taxes?|toutes taxes comprises)\b", "", value)
    value = re.sub(r"\s*(?:€|eur|euros?)\s*$", "", value).strip()
    factor = Decimal(1)
    m = re.fullmatch(r"([\d\s.,]+?)\s*([a-z€' ]+)", value)
    if m:
        for pattern, multiplier in _AMOUNT_UNITS:
            if pattern.fullmatch(m[2].strip()):
                value, factor = m[1], multiplier
                break
    number = value.replace(" ", "")
    if number.count(".") > 1:
        number = number.replace(".", "")
    if "," in number:
        number = number.replace(".", "").replace(",", ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?", number):
        return None, True
    try:
        return Decimal(number) * factor, True
    except InvalidOperation:
        return None, True


def _decimal_literal(value: Decimal) -> Literal:
    return _decimal_text_literal(format(value, "f"))


@lru_cache(maxsize=8192)
def _decimal_text_literal(text: str) -> Literal:
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return Literal(text, datatype=XSD.decimal)


def _number(text: str | None) -> Decimal | None:
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if re.fullmatch(r"-?\d+(?:\.\d+)?", raw):
        return Decimal(raw)
    return None


# --------------------------------------------------------------------------------------------------------
# What the ontology knows: OTeN themes aligned on ATLAAS, competences
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thematique:
    """An OTeN theme and the ATLAAS concepts aligned to it (close, broad, narrow matches)."""

    iri: URIRef
    principal: URIRef | None
    services: tuple[URIRef, ...]
    labels: frozenset[str]  # normalised labels: a fiche that names the theme otherwise keeps its wording


@cache
def thematiques() -> dict[str, Thematique]:
    """OTeN code → theme with its alignment, read once from the ontology graph (taxonomy.ttl)."""
    graph = ontology_graph()
    table: dict[str, Thematique] = {}
    for node in graph.subjects(RDF.type, _C.ThematiqueOten):
        code = str(graph.value(node, SKOS.notation) or "").strip()
        if not code or not isinstance(node, URIRef):
            continue
        by_kind = {
            kind: sorted((o for o in graph.objects(node, kind) if isinstance(o, URIRef)), key=str)
            for kind in (SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch)
        }
        principal = next((v[0] for v in by_kind.values() if v), None)
        services = tuple(dict.fromkeys(o for v in by_kind.values() for o in v))
        labels = frozenset(normalise_texte(str(label)) for label in graph.objects(node, SKOS.prefLabel))
        table[code.upper()] = Thematique(node, principal, services, labels)
    return table


#: The largest file :func:`thematic_list` reads as a candidate thematic list (the real one is 3 kB).
THEMATIC_LIST_MAX_BYTES = 1_000_000


def thematic_list(path: Path) -> dict[str, list[str]] | None:
    """OTeN's own thematic list (``oten_thematiques.json``: ``{"thematiques": [{"code", "libelle", …}]}``), a
    companion of the fiches: its codes, and those the taxonomy (``taxonomy.ttl``, generated from it by
    ``tools/gen_taxonomy.py``) lacks. None when the file is not that list. Nothing is imported: the themes and
    their alignment on ATLAAS are already in the ontology graph."""
    try:
        if path.stat().st_size > THEMATIC_LIST_MAX_BYTES:
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    themes = data.get("thematiques") if isinstance(data, dict) else None
    if not isinstance(themes, list) or not themes:
        return None
    if not all(isinstance(t, dict) and isinstance(t.get("code"), str) and "libelle" in t for t in themes):
        return None
    codes = [str(t["code"]).strip().upper() for t in themes]
    known = thematiques()
    return {"codes": codes, "absent": [c for c in codes if c not in known]}


@cache
def competences() -> dict[str, URIRef]:
    """Normalised label (preferred or alternative, any language) → competence concept."""
    graph = ontology_graph()
    table: dict[str, URIRef] = {}
    for node in graph.subjects(RDF.type, _C.Competence):
        if not isinstance(node, URIRef):
            continue
        for predicate in (SKOS.altLabel, SKOS.prefLabel):  # preferred labels win over alternative ones
            for label in graph.objects(node, predicate):
                table[normalise_texte(str(label))] = node
    return table


# --------------------------------------------------------------------------------------------------------
# Names of carriers and partners
# --------------------------------------------------------------------------------------------------------

_NIVEAU_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:conseil general|conseil departemental|departement)\b"), "departement"),
    (re.compile(r"^(?:conseil regional|region|collectivite territoriale)\b"), "region"),
    (re.compile(r"\b(?:communaute|metropole|agglomeration|agglo)\b|^(?:cc|ca|cu|cdc)\b"), "epci"),
    (re.compile(r"^(?:ville|commune|mairie)\b"), "commune"),
)
_PLURAL_DEPARTEMENTS = re.compile(r"^conseils (?:generaux|departementaux)\b")
_LEGAL_FORM = re.compile(
    r"^(?:syndicat mixte(?: ouvert)?|gip|groupement d'int[ée]r[êe]t public|syndicat)\s+"
    r"(?:de la |de l'|du |des |d'|de )?",
    re.IGNORECASE,
)
# "Ville de Port-de-Bouc – CCAS": the service after the dash is part of the carrier, not its name.
_SERVICE_SUFFIX = re.compile(r"\s+[–—-]\s+.*$")


@lru_cache(maxsize=8192)
def niveau_of(name: str) -> str | None:
    """The kind of collectivity a name announces ("Conseil général de…" → departement), if any."""
    text = normalise_texte(name)
    for pattern, niveau in _NIVEAU_MARKERS:
        if pattern.search(text):
            return niveau
    return None


@lru_cache(maxsize=8192)
def _structure_name(name: str) -> str | None:
    """The name under which the curated table knows a structure, with or without its legal form."""
    table = structures()
    bare = _LEGAL_FORM.sub("", name).strip()
    for candidate in (name, bare, re.sub(r"\s*\([^()]*\)\s*$", "", bare)):
        if candidate and normalise_nom(candidate) in table:
            return candidate
    return None


# --------------------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Territoire:
    node: URIRef | None
    niveau: str
    departement: str | None  # for commune look-ups of carriers and partners
    noms: frozenset[str] = frozenset()  # name keys (as written, official) a carrier must share to take its code


@register
class OtenReader:
    """OTeN export (``{urn:oten:fiche:1.2}export``), one record per ``fiche``."""

    source = SOURCE
    label = "oten-xml"

    def sniff(self, path: Path) -> bool:
        """True when the first element of the file is the OTeN export root.

        A file that breaks before its root element is still recognised by the namespace in its first bytes,
        so that reading it reports the line and column of the fault instead of an unknown format.
        """
        try:
            for _event, element in ET.iterparse(path, events=("start",)):
                return element.tag == ROOT_TAG
        except ET.ParseError:
            with open(path, "rb") as handle:
                head = handle.read(4096)
            # an XML document at least: prose quoting the format (a README) is not an export
            xml_like = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
            return xml_like and NS.encode() in head and b"export" in head
        except (OSError, UnicodeDecodeError, ValueError):
            return False
        return False

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        """An export in UTF-16 that says otherwise, or whose root is ``export`` in another namespace (another
        version of the format)."""
        with open(path, "rb") as handle:
            head = handle.read(4096)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) and NS in head.decode("utf-16", "replace"):
            message = "encodage UTF-16 contraire à la déclaration XML du fichier : export OTeN illisible"
            return 0.9, IngestError(str(path), message)
        try:
            for _event, element in ET.iterparse(path, events=("start",)):
                namespace, _, local = element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", "")
                if local == "export" and "oten" in namespace.lower():
                    message = f"espace de noms « {namespace} » non pris en charge : export OTeN {NS} attendu"
                    return 0.9, IngestError(str(path), message, "export")
                return None
        except (ET.ParseError, UnicodeDecodeError):
            return None
        return None

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        """Stream the fiches (iterparse: the XML tree never grows) and map each one.

        The cyclic garbage collector is paused while reading: the records stay referenced until the pipeline
        loads them, and collector passes over that growing heap took half the mapping time (the mapping makes
        no reference cycles; reference counting still frees everything as usual).
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            yield from self._read(path, ctx)
        finally:
            if paused:
                gc.enable()

    def _read(self, path: Path, ctx: Context) -> Iterator[Record]:
        report = ctx.report
        root: ET.Element | None = None
        depth = 0
        rank = 0
        seen: dict[str, list[str]] = {}  # fiche id → digests of the fiches read under it
        try:
            for event, element in ET.iterparse(path, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if root is None:
                        if element.tag != ROOT_TAG:
                            raise IngestError(str(path), f"élément racine {element.tag} inattendu ({ROOT_TAG} attendu)")
                        root = element
                        self._export_attributes(element, ctx)
                    continue
                depth -= 1
                if depth != 1:
                    continue
                if _tag(element) == "fiche":
                    rank += 1
                    report.read += 1
                    record = self._fiche(element, rank, seen, ctx)
                    if record is not None:
                        yield record
                else:
                    report.problem(
                        f"après la fiche {rank}",
                        _tag(element),
                        f"élément inconnu <{_tag(element)}> hors fiche : ignoré",
                        "unknown_element",
                        "reported",
                    )
                element.clear()
                if root is not None:
                    root.remove(element)
        except ET.ParseError as error:
            line, column = error.position
            reason = re.sub(r":? line \d+, column \d+$", "", str(error))
            raise IngestError(
                str(path), f"XML mal formé ({reason}) ligne {line}, colonne {column}", f"ligne {line}, colonne {column}"
            ) from error
        if root is None:
            raise IngestError(str(path), "fichier vide : aucun élément XML")
        report.rows["fiche"] = rank

    # --- file level ---------------------------------------------------------------------------------------
    @staticmethod
    def _export_attributes(element: ET.Element, ctx: Context) -> None:
        """Version and date of the export, for the import run (``cap:versionFormat``, ``cap:dateExport``)."""
        facts = ctx.report.run_facts
        version = element.get("version")
        if version:
            facts.append((_C.versionFormat, text_literal(version)))
        exported = element.get("date")
        if exported:
            parsed = parse_partial_date(exported)
            if parsed is not None and parsed.day is not None:
                facts.append((_C.dateExport, parsed.literal()))
            else:
                ctx.report.problem("export", "date", f"date d'export illisible : « {exported} »", "date_format")
        for name, value in element.attrib.items():
            if len(value) > MAX_VALUE:
                ctx.report.problem(
                    "export",
                    f"@{name}",
                    f"attribut de {len(value)} caractères (au-delà de {MAX_VALUE}) : ignoré",
                    "oversized_value",
                )
                continue
            check_formula(ctx.report, "export", f"@{name}", value)
            if name not in ("version", "date"):
                facts.append((_C.annotation, Literal(f"export/@{name}={value}")))

    # --- one fiche -----------------------------------------------------------------------------------------
    def _fiche(self, element: ET.Element, rank: int, seen: dict[str, list[str]], ctx: Context) -> Record | None:
        """One fiche as a record, or None when it is rejected (no id, no title, exact copy of another)."""
        report = ctx.report
        written_id = _simple(element.get("id"))
        place = f"fiche {rank} ({place_ident(written_id) or 'sans id'})"
        if not check_values(report, place, _fiche_values(element), "fiche rejetée"):
            return None
        if not written_id:
            report.problem(place, "id", "fiche sans identifiant : rejetée", "missing_id", "rejected")
            return None
        titre_element = element.find(f"{{{NS}}}titre")
        titre, had_html, _ = clean_html(_simple(_inner(titre_element)) if titre_element is not None else "")
        if not titre.strip():
            report.problem(place, "titre", "titre vide : fiche rejetée", "empty_titre", "rejected")
            return None
        source_id = written_id
        digest = _content_digest(element)
        previous = seen.setdefault(written_id, [])
        if previous:
            if digest in previous:
                report.problem(
                    place,
                    "id",
                    f"fiche {written_id} en double, contenu identique à la précédente : ignorée",
                    "duplicated_id",
                    "rejected",
                )
                return None
            source_id = f"{written_id}-{len(previous) + 1}"
            report.problem(
                place,
                "id",
                f"identifiant {written_id} déjà lu pour une autre fiche au contenu différent : "
                f"gardée sous l'identifiant {source_id}",
                "duplicated_id",
                "repaired",
            )
        previous.append(digest)
        mapper = _FicheMapper(element, source_id, place, ctx)
        if source_id != written_id:
            mapper.add(mapper.experience, _C.annotation, Literal(f"fiche/@id={written_id}"))
        if had_html:
            report.problem(place, "titre", "balises HTML retirées du titre", "html_in_titre", "repaired")
        mapper.map(titre)
        return Record(source_id, place, mapper.experience, "fiche", mapper.triples, mapper.private)


def _fiche_values(fiche: ET.Element) -> Iterator[tuple[str, str]]:
    """Every value of a fiche as (field, value), for the rules of every reader (:mod:`ingest.cells`): its
    attributes (``maj``), then each element's text (``evaluation/indicateur``) and attributes
    (``evaluation/indicateur/@valeur``); an element with mixed content (HTML in a description) is one value."""
    yield from fiche.attrib.items()
    for child in fiche:
        yield from _element_values(child, _tag(child))


def _element_values(element: ET.Element, path: str) -> Iterator[tuple[str, str]]:
    for name, value in element.attrib.items():
        yield f"{path}/@{name}", value
    text = element.text or ""
    if len(element) == 0 or text.strip() or any((c.tail or "").strip() for c in element):
        yield path, "".join(element.itertext()).strip() if len(element) else text.strip()
        for node in element.iter():
            if node is not element:
                for name, value in node.attrib.items():
                    yield f"{path}/{_tag(node)}/@{name}", value
        return
    for child in element:
        yield from _element_values(child, f"{path}/{_tag(child)}")


class _FicheMapper:
    """Maps one fiche to triples; one instance per fiche keeps the code free of long argument lists."""

    def __init__(self, element: ET.Element, source_id: str, place: str, ctx: Context) -> None:
        self.element = element
        self.source_id = source_id
        self.place = place
        self.ctx = ctx
        self.report = ctx.report
        self.resolver = ctx.resolver
        self.record = iri.source_record(SOURCE, source_id)
        self.experience = iri.experience(SOURCE, source_id)
        self.triples: list[Triple] = []
        self.private: list[Triple] = []
        self.porteur: URIRef | None = None
        self.territoire = _Territoire(None, "", None)

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self.triples.append((s, p, o))

    def annotate(self, subject: URIRef, name: str, value: str) -> None:
        self.add(subject, _C.annotation, Literal(f"{name}={value}"))

    def problem(self, field: str, message: str, kind: str, outcome: Outcome = "reported") -> None:
        self.report.problem(self.place, field, message, kind, outcome)

    def text(self, element: ET.Element, field: str) -> str:
        """Plain text of a free-text element; HTML is cleaned and reported, scripts removed and reported."""
        raw = _inner(element).strip()
        value, had_html, had_script = clean_html(raw)
        if had_script:
            self.problem(field, "contenu <script> supprimé", f"script_in_{field}", "repaired")
        if had_html:
            self.problem(field, "balises HTML retirées, texte gardé", f"html_in_{field}", "repaired")
        check_length(self.report, self.place, field, value.strip())
        return value.strip()

    # --- the whole fiche -------------------------------------------------------------------------------------
    def map(self, titre: str) -> None:
        e, fiche = self.experience, self.element
        self.add(e, RDF.type, _C.Experience)
        self.add(e, DCTERMS.title, text_literal(titre, "fr"))
        self._fiche_attributes()
        by_tag: dict[str, list[ET.Element]] = {}
        for child in fiche:
            by_tag.setdefault(_tag(child), []).append(child)
        for tag, children in by_tag.items():
            if tag not in _KNOWN_CHILDREN:
                for child in children:
                    self.annotate(e, tag, _simple("".join(child.itertext())))
                    for name, value in child.attrib.items():
                        self.annotate(e, f"{tag}/@{name}", value)
        for tag in ("titre", "resume", "description"):
            for child in by_tag.get(tag, []):
                for name, value in child.attrib.items():
                    self.annotate(e, f"{tag}/@{name}", value)
        for tag in ("titre", "resume", "description", "budget"):
            if len(by_tag.get(tag, [])) > 1:
                self.problem(
                    tag, f"<{tag}> répété : seul le premier est gardé, les autres en annotation", "repeated_element"
                )
                for extra in by_tag[tag][1:]:
                    self.annotate(e, tag, _simple("".join(extra.itertext())))
        for tag, predicate in (("resume", _C.resume), ("description", DCTERMS.description)):
            for child in by_tag.get(tag, [])[:1]:
                value = self.text(child, tag)
                if value:
                    self.add(e, predicate, text_literal(value, "fr"))
        self._thematiques(by_tag.get("thematique", []))
        self._territoire(by_tag.get("territoire", []))
        self._porteur(by_tag.get("porteur", []))
        for group in by_tag.get("partenaires", []):
            self._partenaires(group)
        for child in by_tag.get("calendrier", [])[:1]:
            self._calendrier(child)
        for child in by_tag.get("budget", [])[:1]:
            self._budget(child)
        for group in by_tag.get("financements", []):
            self._financements(group)
        for group in by_tag.get("technologies", []):
            self._technologies(group)
        for group in by_tag.get("competences", []):
            self._competences(group)
        for child in by_tag.get("evaluation", [])[:1]:
            self._evaluation(child)
        for child in by_tag.get("contact", []):
            self._contact(child)

    def _fiche_attributes(self) -> None:
        e, record = self.experience, self.record
        for name, value in self.element.attrib.items():
            if name == "id":
                continue
            if name == "statut":
                self.add(record, _C.statutPublication, text_literal(value))
            elif name == "maj":
                parsed = parse_partial_date(value)
                if parsed is not None and parsed.day is not None:
                    self.add(e, _C.dateMaj, parsed.literal())
                else:
                    self.problem(
                        "maj", f"date de mise à jour illisible : « {value} » (gardée en annotation)", "date_format"
                    )
                    self.annotate(e, "fiche/@maj", value)
            else:
                self.annotate(e, f"fiche/@{name}", value)

    # --- classification --------------------------------------------------------------------------------------
    def _thematiques(self, elements: list[ET.Element]) -> None:
        e = self.experience
        known = thematiques()
        principal_done = False
        for child in elements:
            code = _simple(child.get("code")).upper()
            label = _simple(child.text)
            theme = known.get(code)
            if theme is None:
                self.problem(
                    "thematique/@code",
                    f"code de thématique inconnu « {code or '(vide)'} » ({label}) : gardé en annotation",
                    "unknown_thematique_code",
                )
                self.annotate(e, f"thematique[{code}]", label)
                continue
            self.add(e, _C.thematiqueOten, theme.iri)
            if label and _texte(label) not in theme.labels:
                self.annotate(e, f"thematique[{code}]", label)
            for service in theme.services:
                self.add(e, _C.service, service)
            if not principal_done and theme.principal is not None:
                self.add(e, _C.servicePrincipal, theme.principal)
                principal_done = True
            for name, value in child.attrib.items():
                if name != "code":
                    self.annotate(e, f"thematique/@{name}", value)
        if not elements:
            self.problem("thematique", "aucune thématique", "missing_thematique")

    # --- territory ---------------------------------------------------------------------------------------------
    def _territoire(self, elements: list[ET.Element]) -> None:
        if not elements:
            self.problem("territoire", "aucun territoire", "missing_territoire")
            return
        child = elements[0]
        for extra in elements[1:]:
            self.annotate(self.experience, "territoire", _simple(extra.text))
        niveau = _simple(child.get("niveau")).lower()
        code = _simple(child.get("code"))
        name = _simple(child.text)
        self.add(self.record, _C.niveau, text_literal(niveau))
        if name:
            self.add(self.record, _C.nomCite, text_literal(name))
        for attr, value in child.attrib.items():
            if attr not in ("niveau", "code"):
                self.annotate(self.experience, f"territoire/@{attr}", value)
        if niveau not in _NIVEAUX_TERRITOIRE:
            self.problem("territoire/@niveau", f"niveau de territoire inconnu « {niveau} »", "unknown_niveau")
            return
        if niveau == "pays":
            self.territoire = _Territoire(None, niveau, None)
            return
        found = self._territory_by_code(niveau, code) if code else None
        if found is None and code:
            self.annotate(self.experience, "territoire/@code", code)
        if found is None:
            found = self._territory_by_name(niveau, name, code)
        if found is None:
            self.territoire = _Territoire(None, niveau, None)
            return
        node, dep, methode, raison = found
        noms = {normalise_nom(name)}
        if niveau == "commune":
            noms.add(normalise_nom(self.resolver.ref.communes[str(node).rsplit("/", 1)[-1]].nom))
        self.territoire = _Territoire(node, niveau, dep, frozenset(noms))
        self.add(self.experience, _C.territoire, node)
        self.resolver.record(self.record, node, methode, 1.0 if methode.startswith("code") else 0.9, raison)

    def _territory_by_code(self, niveau: str, code: str) -> tuple[URIRef, str | None, str, str] | None:
        ref = self.resolver.ref
        found: str | None = None
        dep: str | None = None
        if niveau == "commune":
            found = ref.commune_par_code_insee(code)
            dep = ref.communes[found].departement if found else None
        elif niveau == "epci":
            siren = code.replace(" ", "")
            found = siren if siren in ref.epci else None
        elif niveau == "departement":
            value = code.upper().zfill(2) if code.isdigit() else code.upper()
            found = dep = value if value in ref.departements else None
        elif niveau == "region":
            value = code.zfill(2)
            found = value if value in ref.regions else None
        if found is None:
            self.problem(
                "territoire/@code", f"code {niveau} inconnu « {code} » : recherche par le nom", "unknown_territory_code"
            )
            return None
        return iri.territoire(niveau, found), dep, f"code-{niveau}", f"territoire {niveau} de code {code}"

    def _territory_by_name(self, niveau: str, name: str, code: str) -> tuple[URIRef, str | None, str, str] | None:
        ref = self.resolver.ref
        if not name:
            self.problem("territoire", "territoire sans nom ni code utilisable", "unknown_territory")
            return None
        if niveau == "commune":
            codes = ref.communes_par_nom(name, deleguees=True)
            if len(codes) == 1:
                c = codes[0]
                return iri.territoire("commune", c), ref.communes[c].departement, "nom-commune", f"commune « {name} »"
            if len(codes) > 1:
                candidates = [iri.territoire("commune", c) for c in codes]
                listed = ", ".join(f"{ref.communes[c].nom} ({ref.communes[c].departement})" for c in codes)
                message = (
                    f"« {name} » désigne {len(codes)} communes ({listed}) et aucun code n'est donné : "
                    "territoire laissé vide, candidats notés pour revue"
                )
                self.problem("territoire", message, "ambiguous_territory")
                self.resolver.record(self.record, None, "nom-commune-ambigu", 0.0, message, candidates, doubtful=True)
                return None
        elif niveau == "epci":
            sirens = ref.epcis_par_nom(name)
            if len(sirens) == 1:
                return iri.territoire("epci", sirens[0]), None, "nom-epci", f"EPCI « {name} »"
            if len(sirens) > 1:
                candidates = [iri.territoire("epci", s) for s in sirens]
                message = f"« {name} » désigne {len(sirens)} EPCI et aucun SIREN n'est donné : territoire laissé vide"
                self.problem("territoire", message, "ambiguous_territory")
                self.resolver.record(self.record, None, "nom-epci-ambigu", 0.0, message, candidates, doubtful=True)
                return None
        elif niveau == "departement":
            dep = ref.departement_par_nom(name)
            if dep is not None:
                return iri.territoire("departement", dep), dep, "nom-departement", f"département « {name} »"
        elif niveau == "region":
            found = ref.region_par_nom(name)
            if found is not None:
                return iri.territoire("region", found.code), None, "nom-region", found.raison
        self.problem(
            "territoire", f"territoire {niveau} « {name} » introuvable dans le référentiel", "unknown_territory"
        )
        self.resolver.record(self.record, None, "aucune", 0.0, f"territoire {niveau} « {name} » introuvable")
        return None

    # --- agents --------------------------------------------------------------------------------------------
    def _collectivite(self, resolved: Resolved) -> URIRef:
        self.triples.extend(self.resolver.collectivite_triples(resolved))
        return resolved.iri

    def _organisation(self, name: str, kind: str | None) -> URIRef | None:
        try:
            node = iri.organisation(name)
        except ValueError:
            return None
        self.add(node, RDF.type, _C.Organisation)
        self.add(node, RDFS.label, text_literal(name, "fr"))
        if kind:
            self.add(node, _C.typeOrganisation, text_literal(kind))
        return node

    def _resolve_agent(self, name: str, niveau: str | None, *, porteur: bool) -> Resolved | None:
        """A collectivité or structure for a name: the fiche's territory code helps the carrier."""
        resolver = self.resolver
        structure_name = _structure_name(name)
        if structure_name is not None:
            return resolver.collectivite(self.record, structure_name, niveau="structure_mutualisation")
        if niveau is None or niveau == "structure_mutualisation":
            return None
        insee = siren = None
        t = self.territoire
        if porteur and t.node is not None and t.niveau == niveau:
            code = str(t.node).rsplit("/", 1)[-1]
            # A town's code goes to a carrier of that name only ("Ville de Brest" on the territory Brest);
            # an EPCI carrier on an EPCI territory is that EPCI, whatever the wording.
            insee = code if niveau == "commune" and normalise_nom(name) in t.noms else None
            siren = code if niveau == "epci" else None
        found = resolver.collectivite(
            self.record,
            name,
            insee=insee,
            siren=siren,
            niveau=niveau,
            departement=t.departement if niveau == "commune" else None,
        )
        same_level = porteur and t.node is not None and t.niveau == niveau
        if found is None and same_level and niveau in ("departement", "region"):
            code = str(t.node).rsplit("/", 1)[-1]
            found = resolver.collectivite(self.record, code, niveau=niveau)
        return found

    def _porteur(self, elements: list[ET.Element]) -> None:
        if not elements:
            self.problem("porteur", "aucun porteur", "missing_porteur")
            return
        for child in elements:
            written = _simple(child.text)
            kind = _simple(child.get("type"))
            for attr, value in child.attrib.items():
                if attr != "type":
                    self.annotate(self.experience, f"porteur/@{attr}", value)
            if not written:
                self.problem("porteur", "porteur sans nom", "missing_porteur")
                continue
            self.add(self.record, _C.nomCite, text_literal(written))
            if kind not in _TYPES_PORTEUR:
                self.problem("porteur/@type", f"type de porteur inconnu « {kind} »", "unknown_porteur_type")
            node: URIRef | None = None
            if kind in ("collectivite", "structure_mutualisation", ""):
                name = _SERVICE_SUFFIX.sub("", written)
                niveau = (
                    "structure_mutualisation"
                    if kind == "structure_mutualisation"
                    else (niveau_of(name) or self.territoire.niveau or None)
                )
                resolved = self._resolve_agent(name, niveau if niveau != "pays" else None, porteur=True)
                if resolved is not None:
                    node = self._collectivite(resolved)
                elif kind == "structure_mutualisation":
                    node = self._structure(name)
                else:
                    self.problem(
                        "porteur",
                        f"collectivité « {written} » introuvable : gardée comme organisation",
                        "unresolved_porteur",
                    )
            if node is None:
                node = self._organisation(written, kind or None)
            elif kind:
                self.add(node, _C.typeOrganisation, text_literal(kind))
            if node is not None:
                self.add(self.experience, _C.porteur, node)
                if self.porteur is None:
                    self.porteur = node

    def _structure(self, name: str) -> URIRef | None:
        """A structure de mutualisation absent from the curated table: minted from its name."""
        try:
            node = iri.structure(_LEGAL_FORM.sub("", name).strip() or name)
        except ValueError:
            return None
        self.add(node, RDF.type, _C.StructureMutualisation)
        self.add(node, RDFS.label, text_literal(name, "fr"))
        self.resolver.record(
            self.record,
            node,
            "nom-structure-nouvelle",
            0.6,
            f"structure « {name} » absente de la table des structures : nœud créé",
        )
        return node

    def _partenaires(self, group: ET.Element) -> None:
        for child in group:
            if _tag(child) != "partenaire":
                self.annotate(self.experience, f"partenaires/{_tag(child)}", _simple("".join(child.itertext())))
                continue
            written = _simple(child.text)
            role = _simple(child.get("role")).lower()
            for attr, value in child.attrib.items():
                if attr != "role":
                    self.annotate(self.experience, f"partenaire/@{attr}", value)
            if not written:
                continue
            predicate = _ROLES.get(role)
            if predicate is None:
                self.problem(
                    "partenaire/@role", f"rôle inconnu « {role} » pour « {written} » : noté partenaire", "unknown_role"
                )
                self.annotate(self.experience, "partenaire/@role", f"{role} ({written})")
                predicate = _C.partenaire
            self.add(self.record, _C.nomCite, text_literal(written))
            for node in self._partner_nodes(written):
                self.add(self.experience, predicate, node)

    def _partner_nodes(self, written: str) -> list[URIRef]:
        text = normalise_texte(written)
        if _PLURAL_DEPARTEMENTS.match(text):
            # "Conseils généraux de Côte-d'Or, Nièvre, Saône-et-Loire et Yonne": one funder per département.
            names = re.split(r",\s*|\s+et\s+", re.sub(r"^\S+\s+\S+\s+(?:de la |de l'|des |du |de |d')?", "", written))
            nodes: list[URIRef] = []
            for name in names:
                resolved = self.resolver.collectivite(self.record, name.strip(), niveau="departement")
                if resolved is None:
                    break
                nodes.append(self._collectivite(resolved))
            else:
                if nodes:
                    return nodes
        name = re.sub(r"\s*\([^()]*\)\s*$", "", written) if niveau_of(written) in ("region", "departement") else written
        resolved = self._resolve_agent(name, niveau_of(written), porteur=False)
        if resolved is not None:
            return [self._collectivite(resolved)]
        node = self._organisation(written, None)
        return [node] if node is not None else []

    # --- calendar, budget, funding -------------------------------------------------------------------------
    def _calendrier(self, child: ET.Element) -> None:
        e = self.experience
        dates: dict[str, PartialDate] = {}
        for attr, value in child.attrib.items():
            if attr not in ("debut", "fin"):
                self.annotate(e, f"calendrier/@{attr}", value)
                continue
            parsed = parse_partial_date(value)
            if parsed is None:
                self.problem(f"calendrier/@{attr}", f"date illisible « {value} » : gardée en annotation", "date_format")
                self.annotate(e, f"calendrier/@{attr}", value)
            else:
                dates[attr] = parsed
        debut, fin = dates.get("debut"), dates.get("fin")
        if debut is not None and fin is not None and debut.first() > fin.last():
            self.problem(
                "calendrier/@fin",
                f"fin ({child.get('fin')}) antérieure au début ({child.get('debut')}) : fin non retenue, "
                "gardée en annotation",
                "calendrier_debut_after_fin",
            )
            self.annotate(e, "calendrier/@fin", child.get("fin", ""))
            fin = None
        if debut is not None:
            self.add(e, _C.dateDebut, debut.literal())
            self.add(e, DCTERMS.date, Literal(debut.first().isoformat(), datatype=XSD.date))
        if fin is not None:
            self.add(e, _C.dateFin, fin.literal())

    def _budget(self, child: ET.Element) -> None:
        e = self.experience
        raw = _simple(child.text)
        amount, was_text = parse_amount(raw)
        if amount is None:
            self.problem("budget", f"budget illisible « {raw} » : non retenu, gardé en annotation", "budget_text")
            self.annotate(e, "budget", raw)
        else:
            if was_text:
                self.problem(
                    "budget",
                    f"budget écrit en texte « {raw} » lu comme {_decimal_literal(amount)}",
                    "budget_text",
                    "repaired",
                )
            self.add(e, _C.budget, _decimal_literal(amount))
        for attr, value in child.attrib.items():
            if attr == "devise" and re.fullmatch(r"[A-Z]{3}", value.strip().upper()):
                self.add(e, _C.devise, Literal(value.strip().upper()))
            elif attr == "ht" and value.strip().lower() in ("true", "false", "1", "0", "oui", "non"):
                self.add(e, _C.budgetHT, Literal(value.strip().lower() in ("true", "1", "oui")))
            else:
                if attr in ("devise", "ht"):
                    self.problem(
                        f"budget/@{attr}", f"valeur inattendue « {value} » : gardée en annotation", "budget_attribute"
                    )
                self.annotate(e, f"budget/@{attr}", value)

    def _financements(self, group: ET.Element) -> None:
        rang = 0
        for child in group:
            if _tag(child) != "financement":
                self.annotate(self.experience, f"financements/{_tag(child)}", _simple("".join(child.itertext())))
                continue
            rang += 1
            node = iri.financement(self.source_id, rang)
            self.add(node, RDF.type, _C.Financement)
            self.add(self.experience, _C.financement, node)
            for attr, value in child.attrib.items():
                if attr == "source":
                    self.add(node, _C.sourceFinancement, text_literal(value))
                elif attr == "montant":
                    amount, was_text = parse_amount(value)
                    if amount is None:
                        self.problem(
                            "financement/@montant",
                            f"montant illisible « {value} » : gardé en annotation",
                            "montant_text",
                        )
                        self.annotate(node, "financement/@montant", value)
                        continue
                    if was_text:
                        self.problem(
                            "financement/@montant",
                            f"montant écrit en texte « {value} » lu comme {_decimal_literal(amount)}",
                            "montant_text",
                            "repaired",
                        )
                    self.add(node, _C.montant, _decimal_literal(amount))
                else:
                    self.annotate(node, f"financement/@{attr}", value)
            if child.text and child.text.strip():
                self.annotate(node, "financement", _simple(child.text))
            if not child.get("source") and not child.get("montant"):
                self.add(node, _C.sourceFinancement, text_literal("inconnue"))
                self.problem("financement", "financement sans source ni montant", "empty_financement")

    # --- technologies, competences -----------------------------------------------------------------------
    def _technologies(self, group: ET.Element) -> None:
        for child in group:
            name = _simple(child.text)
            if _tag(child) != "technologie":
                self.annotate(self.experience, f"technologies/{_tag(child)}", name)
            elif name:
                self.add(self.experience, _C.technologie, self.resolver.technologie(self.record, name))

    def _competences(self, group: ET.Element) -> None:
        table = competences()
        for child in group:
            name = _simple(child.text)
            if not name:
                continue
            concept = table.get(_texte(name)) if _tag(child) == "competence" else None
            if concept is not None:
                self.add(self.experience, _C.competence, concept)
            else:
                self.annotate(self.experience, _tag(child), name)

    # --- evaluation -----------------------------------------------------------------------------------------
    def _evaluation(self, child: ET.Element) -> None:
        node = iri.evaluation(self.source_id)
        self.add(node, RDF.type, _C.Evaluation)
        self.add(self.experience, _C.evaluation, node)
        for attr, value in child.attrib.items():
            if attr == "date":
                parsed = parse_partial_date(value)
                if parsed is None:
                    self.problem(
                        "evaluation/@date", f"date illisible « {value} » : gardée en annotation", "date_format"
                    )
                    self.annotate(node, "evaluation/@date", value)
                else:
                    self.add(node, _C.dateEvaluation, parsed.literal())
            elif attr == "methode":
                self.add(node, _C.methodeEvaluation, text_literal(value))
            else:
                self.annotate(node, f"evaluation/@{attr}", value)
        rang = 0
        for part in child:
            tag = _tag(part)
            if tag == "indicateur":
                rang += 1
                self._indicateur(node, part, rang)
            elif tag == "appreciation":
                self._appreciation(node, part)
            elif tag == "enseignements":
                value = self.text(part, "enseignements")
                if value:
                    self.add(node, _C.enseignements, text_literal(value, "fr"))
            else:
                self.annotate(node, f"evaluation/{tag}", _simple("".join(part.itertext())))

    def _indicateur(self, evaluation: URIRef, part: ET.Element, rang: int) -> None:
        node = iri.indicateur(self.source_id, rang)
        self.add(node, RDF.type, _C.Indicateur)
        self.add(evaluation, _C.indicateur, node)
        name = _simple(part.get("nom")) or _simple(part.text) or f"indicateur {rang}"
        self.add(node, RDFS.label, text_literal(name, "fr"))
        raw = _simple(part.get("valeur"))
        number = _number(raw)
        if number is not None:
            self.add(node, _C.valeur, _decimal_literal(number))
        else:
            self.add(node, _C.valeur, text_literal(raw))
        if part.get("unite"):
            self.add(node, _C.unite, Literal(_simple(part.get("unite"))))
        for attr, value in part.attrib.items():
            if attr not in ("nom", "valeur", "unite"):
                self.annotate(node, f"indicateur/@{attr}", value)
        if part.get("nom") and part.text and part.text.strip():
            self.annotate(node, "indicateur", _simple(part.text))

    def _appreciation(self, evaluation: URIRef, part: ET.Element) -> None:
        note, echelle = _number(part.get("note")), _number(part.get("echelle"))
        if part.get("note") is not None and note is None:
            self.problem("appreciation/@note", f"note illisible « {part.get('note')} »", "note_format")
            self.annotate(evaluation, "appreciation/@note", part.get("note", ""))
        if part.get("echelle") is not None and (echelle is None or echelle <= 0):
            self.problem("appreciation/@echelle", f"échelle illisible « {part.get('echelle')} »", "note_format")
            self.annotate(evaluation, "appreciation/@echelle", part.get("echelle", ""))
            echelle = None
        if echelle is not None:
            self.add(evaluation, _C.echelle, _decimal_literal(echelle))
        if note is not None:
            if echelle is not None and note > echelle:
                self.problem(
                    "appreciation/@note",
                    f"note {part.get('note')} supérieure à l'échelle {part.get('echelle')} : note non retenue, "
                    "gardée en annotation",
                    "evaluation_note_gt_echelle",
                )
                self.annotate(evaluation, "appreciation/@note", part.get("note", ""))
            else:
                self.add(evaluation, _C.note, _decimal_literal(note))
        for attr, value in part.attrib.items():
            if attr not in ("note", "echelle"):
                self.annotate(evaluation, f"appreciation/@{attr}", value)
        value = self.text(part, "appreciation")
        if value:
            self.add(evaluation, _C.appreciation, text_literal(value, "fr"))

    # --- contact ------------------------------------------------------------------------------------------
    def _contact(self, child: ET.Element) -> None:
        fields: dict[str, str] = {}
        for part in child:
            fields.setdefault(_tag(part), _simple("".join(part.itertext())))
        name = fields.get("nom", "")
        if not name:
            # Without a name there is no person to hang the details on: they stay private, on the record
            # (not on the experience, whose IRI the cross-source merge may rewrite in the public graph only).
            for tag, value in fields.items():
                if value:
                    self.private.append((self.record, _C.annotation, Literal(f"contact/{tag}={value}")))
            return
        org_key = str(self.porteur).rsplit("/", 1)[-1] if self.porteur is not None else "oten"
        person = iri.personne(name, org_key)
        self.add(person, RDF.type, _C.Personne)
        self.add(person, RDFS.label, text_literal(name))
        self.add(person, FOAF.name, text_literal(name))
        if self.porteur is not None:
            self.add(person, _C.organisme, self.porteur)
        self.add(self.experience, _C.contact, person)
        for tag, value in fields.items():
            if not value or tag == "nom":
                continue
            if tag == "fonction":
                self.add(person, _C.fonction, text_literal(value, "fr"))
            elif tag == "courriel":
                if _EMAIL.match(value):
                    self.private.append((person, _C.courriel, text_literal(value)))
                else:
                    self.problem(
                        "contact/courriel",
                        "courriel invalide (pas une adresse électronique) : gardé en annotation dans le graphe privé",
                        "invalid_email",
                    )
                    self.private.append((person, _C.annotation, Literal(f"courriel={value}")))
            elif tag == "telephone":
                self.private.append((person, _C.telephone, text_literal(value)))
            else:
                self.private.append((person, _C.annotation, Literal(f"contact/{tag}={value}")))
        for attr, value in child.attrib.items():
            self.private.append((person, _C.annotation, Literal(f"contact/@{attr}={value}")))
