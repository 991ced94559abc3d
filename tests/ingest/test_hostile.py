"""Hostile and careless files: an oversized value, extra cells, formula prefixes, and files no reader recognises.

Each case is a sample export with one defect put in; the import must name the file, the row or record and the
field of the defect, and keep every other record (:mod:`ingest.cells`, :func:`ingest.readers.unrecognised`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ingest.cells import LONG_TEXT, MAX_VALUE, formula_prefix
from ingest.load import import_file
from ingest.readers import reader_for
from ingest.resolve import Resolver
from ingest.sources import Context, Record, Report
from kg.errors import IngestError
from kg.store import OxigraphStore, open_store
from ontology import iri

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
NATIONAL = SAMPLES / "netpublic_lieux_mediation.csv"
LEGACY = SAMPLES / "netpublic_legacy_latin1.csv"
LABELS = SAMPLES / "villes_internet_labels.csv"
OTEN = SAMPLES / "oten_fiches.xml"
XLSX = SAMPLES / "villes_internet_atlaas.xlsx"
NATIONAL_KEPT = 228  # the sample's lieux once its own defects are dealt with (see test_netpublic)
TEN_MB = 10 * 1024 * 1024
DCT_DESCRIPTION = "http://purl.org/dc/terms/description"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def read(path: Path) -> tuple[list[Record], Report]:
    """The records of a file through its reader, without a store."""
    reader = reader_for(path)
    report = Report(reader.source, str(path))
    return list(reader.read(path, Context(report, Resolver(None, reader.source)))), report


def problems(report: Report | dict[str, Any], kind: str) -> list[dict[str, str]]:
    errors = report["errors"] if isinstance(report, dict) else [p.as_dict() for p in report.problems]
    return [e for e in errors if e["kind"] == kind]


def csv_rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if delimiter == ";" else "\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


# --- an oversized value ---------------------------------------------------------------------------------------


def test_a_10_mb_cell_rejects_its_row_and_keeps_the_others(tmp_path: Path, store: OxigraphStore) -> None:
    """The csv module's 131,072-character limit used to end the import (exit 70) and lose every row."""
    rows = csv_rows(NATIONAL)
    detail = rows[0].index("presentation_detail")
    rows[5][detail] = "x" * TEN_MB
    path = write_csv(tmp_path / "lieux.csv", rows)

    report = import_file(store, path).as_dict()

    [fault] = problems(report, "oversized_value")
    assert fault["outcome"] == "rejected"
    assert (fault["file"], fault["row_or_record"]) == (str(path), f"6 ({rows[5][0]})")
    assert fault["field"] == "presentation_detail"
    assert str(TEN_MB) in fault["message"] and str(MAX_VALUE) in fault["message"]
    assert report["created"] == NATIONAL_KEPT - 1
    assert not store.ask(f"ASK {{ <{iri.lieu(rows[5][0])}> ?p ?o }}")


def test_an_oversized_identifier_does_not_make_the_report_oversized(tmp_path: Path) -> None:
    rows = csv_rows(NATIONAL)
    rows[3][0] = "np-" + "9" * (MAX_VALUE + 10)
    records, report = read(write_csv(tmp_path / "lieux.csv", rows))
    [fault] = problems(report, "oversized_value")
    assert fault["row_or_record"].startswith("4 (np-999") and len(fault["row_or_record"]) < 80
    assert fault["field"] == "id"
    assert len(records) == NATIONAL_KEPT - 1


def test_an_oversized_cell_of_the_legacy_export_and_of_the_labels(tmp_path: Path) -> None:
    rows = csv_rows(LEGACY, "iso-8859-1", ";")
    rows[2][rows[0].index("Horaires d'ouverture")] = "9h-12h " * 10_000
    _, report = read(write_csv(tmp_path / "legacy.csv", rows, "iso-8859-1", ";"))
    [fault] = problems(report, "oversized_value")
    assert (fault["row_or_record"], fault["field"]) == (f"3 ({rows[2][0]})", "Horaires d'ouverture")

    rows = csv_rows(LABELS)
    rows[7][rows[0].index("mention")] = "m" * 200_000  # beyond the csv module's limit too
    records, report = read(write_csv(tmp_path / "labels.csv", rows))
    [fault] = problems(report, "oversized_value")
    assert fault["row_or_record"].startswith("labels.csv!8 (") and fault["field"] == "mention"
    assert fault["outcome"] == "rejected"
    assert len(records) == len(rows) - 2


def _with_oten_description(tmp_path: Path, fiche: str, description: str) -> Path:
    text = OTEN.read_text(encoding="utf-8")
    start = text.index(f'id="{fiche}"')
    open_tag = text.index("<oten:description>", start)
    close_tag = text.index("</oten:description>", open_tag)
    path = tmp_path / "oten.xml"
    path.write_text(text[: open_tag + len("<oten:description>")] + description + text[close_tag:], encoding="utf-8")
    return path


def test_a_10_mb_oten_description_rejects_its_fiche(tmp_path: Path) -> None:
    """It used to be stored whole, without a word."""
    records, report = read(_with_oten_description(tmp_path, "OTEN-2006-0003", "d" * TEN_MB))
    [fault] = problems(report, "oversized_value")
    assert fault["row_or_record"].endswith("(OTEN-2006-0003)") and fault["field"] == "description"
    assert fault["outcome"] == "rejected"
    assert "OTEN-2006-0003" not in {r.source_id for r in records}
    assert len(records) == len(read(OTEN)[0]) - 1


def test_one_length_rule_for_the_three_readers(tmp_path: Path) -> None:
    """A text beyond LONG_TEXT is kept whole and reported with one kind, whichever the source."""
    long = "Une description très détaillée. " * (LONG_TEXT // 30 + 5)
    records, report = read(_with_oten_description(tmp_path, "OTEN-2006-0003", long))
    [fault] = problems(report, "long_text")
    assert (fault["row_or_record"].endswith("(OTEN-2006-0003)"), fault["field"]) == (True, "description")
    [fiche] = [r for r in records if r.source_id == "OTEN-2006-0003"]
    assert any(str(p) == DCT_DESCRIPTION and str(o) == long.strip() for _, p, o in fiche.triples)

    _, report = read(NATIONAL)  # the sample's own long description (np-epn-0098)
    assert [(f["row_or_record"], f["field"]) for f in problems(report, "long_text")] == [
        ("68 (np-epn-0098)", "presentation_detail")
    ]

    path = tmp_path / "atlaas.xlsx"
    book = openpyxl.load_workbook(XLSX)
    sheet = book["Actions"]
    sheet.cell(2, [c.value for c in sheet[1]].index("Synthèse") + 1).value = long
    ident = sheet.cell(2, 1).value
    book.save(path)
    _, report = read(path)
    assert [(f["row_or_record"], f["field"]) for f in problems(report, "long_text")] == [
        (f"Actions!2 ({ident})", "Synthèse")
    ]


def test_an_oversized_workbook_cell_rejects_its_row(tmp_path: Path) -> None:
    """Excel (and openpyxl) cut a cell at 32,767 characters; a forged workbook does not: its XML is edited."""
    book = openpyxl.load_workbook(XLSX)
    sheet = book["Actions"]
    sheet.cell(3, [c.value for c in sheet[1]].index("Résultats") + 1).value = "MARQUE-A-GONFLER"
    ident = sheet.cell(3, 1).value
    book.save(tmp_path / "marked.xlsx")
    path = tmp_path / "atlaas.xlsx"
    with zipfile.ZipFile(tmp_path / "marked.xlsx") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item).replace(b"MARQUE-A-GONFLER", b"r" * TEN_MB))
    records, report = read(path)
    [fault] = problems(report, "oversized_value")
    assert (fault["row_or_record"], fault["field"]) == (f"Actions!3 ({ident})", "Résultats")
    assert fault["outcome"] == "rejected"
    assert f"vi-{ident}" not in {str(r.entity).rsplit("/", 1)[-1] for r in records}


# --- extra cells ----------------------------------------------------------------------------------------------


def test_cells_beyond_the_header_are_reported_and_kept(tmp_path: Path) -> None:
    rows = csv_rows(NATIONAL)
    rows[9] += ["surplus", "", "encore"]
    records, report = read(write_csv(tmp_path / "lieux.csv", rows))
    [fault] = problems(report, "extra_cells")
    assert (fault["row_or_record"], fault["field"]) == (f"10 ({rows[9][0]})", "colonne_33")
    assert "2 valeur(s) au-delà des 32 colonnes" in fault["message"]
    [lieu] = [r for r in records if r.source_id == rows[9][0]]
    annotations = {str(o) for _, p, o in lieu.triples if str(p).endswith("#annotation")}
    assert {"colonne_33=surplus", "colonne_35=encore"} <= annotations

    rows = csv_rows(LABELS)
    rows[4].append("hors piste")
    records, report = read(write_csv(tmp_path / "labels.csv", rows))
    [fault] = problems(report, "extra_cells")
    assert fault["row_or_record"].startswith("labels.csv!5 (")
    assert "1 valeur(s) au-delà des 7 colonnes" in fault["message"]
    assert any(str(o) == "colonne_8=hors piste" for r in records for _, _, o in r.triples)


def test_workbook_cells_beyond_the_header_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "atlaas.xlsx"
    book = openpyxl.load_workbook(XLSX)
    sheet = book["Lieux"]
    width = len([c for c in sheet[1] if c.value is not None])
    sheet.cell(4, width + 2).value = "perdue ?"
    ident = sheet.cell(4, 1).value
    book.save(path)
    records, report = read(path)
    [fault] = problems(report, "extra_cells")
    assert fault["row_or_record"] == f"Lieux!4 ({ident})" and f"au-delà des {width} colonnes" in fault["message"]
    assert any(str(o) == f"colonne_{width + 2}=perdue ?" for r in records for _, _, o in r.triples)


# --- formula prefixes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        ("=HYPERLINK(\"http://x.example\",\"clic\")", "="),
        ("+cmd|' /C calc'!A0", "+"),
        ("-2+3+cmd|' /C calc'!A0", "-"),
        ("@SUM(1+1)", "@"),
        ("\t=1+1", "\t"),
        ("\r=1+1", "\r"),
        ("+33 1 99 00 12 34", None),
        ("+33199004645", None),
        ("-1.569427", None),
        ("-12,5", None),
        ("06 39 98 00 00", None),
        ("Médiathèque", None),
    ],
)
def test_formula_prefix(value: str, prefix: str | None) -> None:
    assert formula_prefix(value) == prefix


def test_formula_prefixes_are_reported_and_kept(tmp_path: Path) -> None:
    rows = csv_rows(NATIONAL)
    nom = rows[0].index("nom")
    rows[12][nom] = '=HYPERLINK("http://x.example";"Médiathèque")'
    records, report = read(write_csv(tmp_path / "lieux.csv", rows))
    [fault] = problems(report, "formula_prefix")
    assert (fault["row_or_record"], fault["field"], fault["outcome"]) == (f"13 ({rows[12][0]})", "nom", "reported")
    assert fault["message"].startswith("valeur commençant par « = » : risque d'injection de formule dans un tableur")
    [lieu] = [r for r in records if r.source_id == rows[12][0]]
    assert any(str(p) == RDFS_LABEL and str(o) == rows[12][nom] for _, p, o in lieu.triples)

    text = OTEN.read_text(encoding="utf-8").replace(">dégroupage<", ">@cmd<", 1)
    (tmp_path / "oten.xml").write_text(text, encoding="utf-8")
    _, report = read(tmp_path / "oten.xml")
    assert [f["field"] for f in problems(report, "formula_prefix")] == ["technologies/technologie"]


def test_the_samples_numbers_and_phones_are_not_formulas() -> None:
    """Their phone numbers (+33…) and longitudes (-1.5…) start with a sign: not a formula."""
    for path in (NATIONAL, LEGACY, LABELS, OTEN, XLSX):
        _, report = read(path)
        assert not problems(report, "formula_prefix"), path.name


# --- files no reader recognises: say why ---------------------------------------------------------------------


def _message(path: Path, source: str | None = None) -> IngestError:
    with pytest.raises(IngestError) as caught:
        reader_for(path, source)
    assert caught.value.fault.file == str(path)
    assert "non reconnu" not in caught.value.fault.message, caught.value.fault.message
    return caught.value


def test_an_empty_file(tmp_path: Path) -> None:
    for content in (b"", b"\xef\xbb\xbf\r\n  \n"):
        (tmp_path / "vide.csv").write_bytes(content)
        assert _message(tmp_path / "vide.csv", "netpublic").fault.message.startswith("fichier vide")


def test_a_wrong_encoding(tmp_path: Path) -> None:
    text = NATIONAL.read_text(encoding="utf-8")
    (tmp_path / "utf16.csv").write_bytes(text.encode("utf-16"))
    assert "UTF-16" in _message(tmp_path / "utf16.csv", "netpublic").fault.message

    data = bytearray(LEGACY.read_bytes())
    data[500] = 0x01  # a control byte in a Latin-1 file: neither UTF-8 text nor Latin-1 text
    (tmp_path / "broken.csv").write_bytes(bytes(data))
    error = _message(tmp_path / "broken.csv")
    assert error.fault.message.startswith("encodage illisible") and error.fault.row_or_record == "octet 500"

    data = bytearray(LABELS.read_bytes())
    data[300] = 0xFF
    (tmp_path / "labels.csv").write_bytes(bytes(data))
    with pytest.raises(IngestError, match=r"encodage illisible.*octet 300"):
        read(tmp_path / "labels.csv")


def test_a_missing_sheet(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(XLSX)
    book.remove(book["Liaison Services"])
    book.save(tmp_path / "atlaas.xlsx")
    error = _message(tmp_path / "atlaas.xlsx", "villes-internet")
    assert error.fault.message.startswith("feuille(s) « Liaison Services » absente(s)")
    assert error.fault.row_or_record == "Liaison Services"

    other = openpyxl.Workbook()
    other.save(tmp_path / "autre.xlsx")
    assert "aucune des feuilles" in _message(tmp_path / "autre.xlsx").fault.message


def test_a_missing_column(tmp_path: Path) -> None:
    rows = [[c for i, c in enumerate(row) if i != 1] for row in csv_rows(NATIONAL)]  # no "pivot"
    error = _message(write_csv(tmp_path / "lieux.csv", rows), "netpublic")
    assert error.fault.message.startswith("en-tête : colonne(s) pivot absente(s)")
    assert (error.fault.row_or_record, error.fault.field) == ("1", "pivot")

    rows = [row[1:] for row in csv_rows(LEGACY, "iso-8859-1", ";")]  # no "N° EPN"
    error = _message(write_csv(tmp_path / "legacy.csv", rows, "iso-8859-1", ";"))
    assert error.fault.field == "N° EPN" and "ancien export NetPublic" in error.fault.message

    rows = [row[:5] + row[6:] for row in csv_rows(LABELS)]  # no "arobases"
    error = _message(write_csv(tmp_path / "labels.csv", rows))
    assert error.fault.field == "arobases"

    book = openpyxl.load_workbook(XLSX)
    book["Actions"].delete_cols(2)  # no "Titre"
    book.save(tmp_path / "atlaas.xlsx")
    with pytest.raises(IngestError, match="colonne « Titre » absente de la feuille « Actions »"):
        read(tmp_path / "atlaas.xlsx")


def test_another_separator_another_source_another_namespace(tmp_path: Path) -> None:
    rows = csv_rows(NATIONAL)
    error = _message(write_csv(tmp_path / "lieux.csv", rows, delimiter=";"), "netpublic")
    assert error.fault.message.startswith("séparateur « ; » au lieu de « , »")

    assert "format oten-xml" in _message(OTEN, "netpublic").fault.message

    text = OTEN.read_text(encoding="utf-8").replace("urn:oten:fiche:1.2", "urn:oten:fiche:2.0")
    (tmp_path / "oten.xml").write_text(text, encoding="utf-8")
    assert "urn:oten:fiche:2.0" in _message(tmp_path / "oten.xml").fault.message


def test_the_cli_says_which_fault(tmp_path: Path, home: Path) -> None:
    from typer.testing import CliRunner

    from capitalis.cli import app

    (tmp_path / "vide.csv").write_bytes(b"")
    result = CliRunner().invoke(app, ["--home", str(home), "ingest", "netpublic", str(tmp_path / "vide.csv")])
    assert result.exit_code == 2, result.output
    assert "fichier vide" in result.output and "Traceback" not in result.output


def test_a_workbook_zip_with_a_damaged_sheet_list(tmp_path: Path) -> None:
    path = tmp_path / "atlaas.xlsx"
    with zipfile.ZipFile(XLSX) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[:100] if item.filename == "xl/workbook.xml" else data)
    assert "classeur Excel endommagé" in _message(path).fault.message


def test_a_hostile_import_through_the_store_keeps_the_graph_valid(tmp_path: Path) -> None:
    """The 10 MB cell again, end to end on a fresh store: the graph validates and names the row's absence."""
    from kg.validation import validate_store

    rows = csv_rows(NATIONAL)
    rows[20][rows[0].index("horaires")] = "h" * TEN_MB
    path = write_csv(tmp_path / "lieux.csv", rows)
    with open_store(tmp_path / "store") as store:
        report = import_file(store, path)
        assert report.rejected >= 1 and validate_store(store).conforms
