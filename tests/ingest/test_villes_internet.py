"""Villes Internet: the ATLAAS workbook (.xlsx and legacy .xls), its known defects, and the label palmarès.

Imports run on the real embedded store and the real sample files. The module-scoped store (workbook, then
labels) is built once and only read; the tests that change a file work on copies made with openpyxl in
``tmp_path`` and on a fresh store of their own.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rdflib import Literal, URIRef

import ingest.villes_internet as vi
from ingest.load import import_file
from ingest.readers import reader_for
from ingest.resolve import Resolver, structures
from ingest.sources import Context, Record, Report
from kg.errors import IngestError
from kg.store import OxigraphStore, open_store
from kg.validation import validate_store
from ontology import iri

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
XLSX = SAMPLES / "villes_internet_atlaas.xlsx"
XLS = SAMPLES / "villes_internet_atlaas_legacy.xls"
LABELS = SAMPLES / "villes_internet_labels.csv"
GRAPH = str(iri.graph("villes-internet"))
LABELS_GRAPH = str(iri.graph("villes-internet-labels"))
# Plain IRIs: pytest probes module attributes, and rdflib's closed namespaces warn about unknown names.
CAP = "https://w3id.org/capitalis/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

RECORDS = 195 + 327 + (296 - 2 - 3)  # Lieux + Personnes + Actions without the 2 duplicates and 3 empty titles

# The defects of the sources README: kind -> {(place, column)}; every one must be reported, with its place.
_README = {
    "date_text": ("Date", "Actions!171 (2036), Actions!178 (2046), Actions!180 (2049)"),
    "duplicate_id_action": ("Id_Action", "Actions!52 (1062), Actions!297 (2020)"),
    "empty_titre": ("Titre", "Actions!60 (1071), Actions!169 (2034), Actions!187 (2058)"),
    "html_in_synthese": (
        "Synthèse",
        "Actions!22 (1022), Actions!36 (1039), Actions!96 (1131), Actions!115 (1164), "
        "Actions!186 (2056), Actions!234 (2123)",
    ),
    "insee_leading_zero_lost": ("Id_INSEE", "Lieux!108 (L107), Lieux!149 (L148)"),
    "invalid_courriel": (
        "Courriel",
        "Lieux!44 (L43), Lieux!52 (L51), Personnes!34 (P1037), Personnes!47 (P1052), "
        "Personnes!100 (P1141), Personnes!108 (P1152), Personnes!124 (P1179), Personnes!157 (P1227), "
        "Personnes!168 (P1239), Personnes!189 (P2029), Personnes!208 (P2055), Personnes!218 (P2070), "
        "Personnes!222 (P2077), Personnes!229 (P2085), Personnes!241 (P2102), Personnes!243 (P2105), "
        "Personnes!277 (P2149), Personnes!328 (P2220)",
    ),
    "lieu_without_insee": ("Id_INSEE", "Lieux!61 (L60), Lieux!132 (L131), Lieux!194 (L193)"),
    "missing_id_action": (
        "Id_Action",
        "Liaison Lieux!162 (1223), Liaison Lieux!163 (1238), Liaison Lieux!164 (1255), "
        "Liaison Lieux!165 (1279), Liaison Lieux!330 (2213), Liaison Lieux!331 (2257), "
        "Liaison Lieux!332 (2258), Liaison Personnes!180 (1223), Liaison Personnes!181 (1238), "
        "Liaison Personnes!182 (1238), Liaison Personnes!183 (1255), Liaison Personnes!184 (1279), "
        "Liaison Personnes!346 (2213), Liaison Personnes!347 (2257), Liaison Personnes!348 (2258), "
        "Liaison Services!202 (1223), Liaison Services!203 (1238), Liaison Services!204 (1238), "
        "Liaison Services!205 (1255), Liaison Services!206 (1255), Liaison Services!207 (1279), "
        "Liaison Services!484 (2213), Liaison Services!485 (2257), Liaison Services!486 (2257), "
        "Liaison Services!487 (2257), Liaison Services!488 (2258)",
    ),
    "missing_id_lieu": (
        "Id_Lieu",
        "Liaison Lieux!49 (1053), Liaison Lieux!124 (1164), Liaison Lieux!146 (1195), "
        "Liaison Lieux!208 (2056), Liaison Lieux!210 (2058), Liaison Lieux!263 (2123), "
        "Liaison Lieux!301 (2176)",
    ),
    "population_text": ("Population", "Lieux!18 (L17), Lieux!93 (L92)"),
    "unknown_id_service": (
        "Id_Service",
        "Liaison Services!73 (1062), Liaison Services!136 (1143), "
        "Liaison Services!166 (1178), Liaison Services!194 (1204), Liaison Services!224 (2013), "
        "Liaison Services!246 (2036), Liaison Services!275 (2058), Liaison Services!283 (2065)",
    ),
}
KNOWN_DEFECTS = {kind: {(p.strip(), column) for p in places.split(", ")} for kind, (column, places) in _README.items()}


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, dict[str, Any]]]:
    """The workbook, then the label palmarès, imported once into a fresh store."""
    with open_store(tmp_path_factory.mktemp("villes-internet") / "store") as store:
        workbook = import_file(store, XLSX).as_dict()
        labels = import_file(store, LABELS).as_dict()
        yield store, {"workbook": workbook, "labels": labels}


@pytest.fixture(scope="module")
def workbook_report(imported: tuple[OxigraphStore, dict[str, Any]]) -> dict[str, Any]:
    return imported[1]["workbook"]


def read(path: Path, options: dict[str, Any] | None = None) -> tuple[list[Record], Report]:
    """The records of a file through its reader, without a store (what the pipeline would load)."""
    reader = reader_for(path)
    report = Report(reader.source, str(path))
    records = list(reader.read(path, Context(report, Resolver(None, reader.source), options or {})))
    return records, report


def row_of(sheet: Any, column: str, value: Any) -> int:
    header = [c.value for c in sheet[1]]
    index = header.index(column) + 1
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, index).value == value)


def objects(store: OxigraphStore, subject: URIRef | str, predicate: str, graph: str = GRAPH) -> set[Any]:
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ <{subject}> <{predicate}> ?o }} }}")
    return {r["o"] for r in rows}


# --- recognising the files ----------------------------------------------------------------------------------


def test_sniff_by_content_not_by_name(tmp_path: Path) -> None:
    for sample, label in (
        (XLSX, "villes-internet-xlsx"),
        (XLS, "villes-internet-xls"),
        (LABELS, "villes-internet-labels"),
    ):
        disguised = tmp_path / f"{label}.bin"
        shutil.copy(sample, disguised)
        assert reader_for(disguised).label == label
    for other in ("netpublic_lieux_mediation.csv", "oten_fiches.xml", "netpublic_legacy_latin1.csv"):
        reader = reader_for(SAMPLES / other)
        assert not reader.label.startswith("villes-internet")


def test_a_workbook_without_the_seven_sheets_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Lieux"  # type: ignore[union-attr]
    for name, columns in vi.SHEETS.items():
        sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
        sheet.append(list(columns))
    book.remove(book["Services"])
    path = tmp_path / "six-sheets.xlsx"
    book.save(path)
    assert not vi.AtlaasWorkbookReader().sniff(path)
    report = Report("villes-internet", str(path))
    with pytest.raises(IngestError, match="Services"):
        list(vi.AtlaasWorkbookReader().read(path, Context(report, Resolver(None, "villes-internet"))))


def test_a_broken_sheet_names_the_file_and_the_sheet(tmp_path: Path, home: Path) -> None:
    """A workbook whose Actions sheet is cut short: one clear error, exit 2, nothing loaded."""
    import zipfile

    path = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(XLSX) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[:5000] if item.filename == "xl/worksheets/sheet4.xml" else data)
    assert vi.AtlaasWorkbookReader().sniff(path)  # the workbook lists the seven sheets
    report = Report("villes-internet", str(path))
    with pytest.raises(IngestError) as caught:
        list(vi.AtlaasWorkbookReader().read(path, Context(report, Resolver(None, "villes-internet"))))
    assert caught.value.fault.file == str(path)
    assert caught.value.fault.row_or_record == "Actions"
    assert "feuille « Actions »" in caught.value.fault.message

    from typer.testing import CliRunner

    from capitalis.cli import app

    result = CliRunner().invoke(app, ["--home", str(home), "ingest", "villes-internet", str(path), "--no-index"])
    assert result.exit_code == 2, result.output
    assert "feuille « Actions »" in result.output and "Traceback" not in result.output
    with open_store(home / "store") as store:
        assert not any(g.endswith("/graph/villes-internet") for g in store.graphs())


# --- counts, defects ----------------------------------------------------------------------------------------


def test_counts_equal_rows(workbook_report: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(XLSX, read_only=True)
    rows = {
        ws.title: sum(1 for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r))
        for ws in book.worksheets
    }
    assert workbook_report["rows"] == rows
    assert workbook_report["read"] == sum(rows.values())
    assert workbook_report["created"] == RECORDS
    assert workbook_report["updated"] == workbook_report["unchanged"] == workbook_report["withdrawn"] == 0


@pytest.mark.parametrize("kind", sorted(KNOWN_DEFECTS))
def test_each_known_defect_is_reported(workbook_report: dict[str, Any], kind: str) -> None:
    found = {(e["row_or_record"], e["field"]) for e in workbook_report["errors"] if e["kind"] == kind}
    assert found == KNOWN_DEFECTS[kind]
    assert all(e["file"].endswith(XLSX.name) and e["message"] for e in workbook_report["errors"])


def test_defect_outcomes(workbook_report: dict[str, Any]) -> None:
    outcome = defaultdict(set)
    for error in workbook_report["errors"]:
        outcome[error["kind"]].add(error["outcome"])
    assert outcome["duplicate_id_action"] == outcome["empty_titre"] == outcome["missing_id_action"] == {"rejected"}
    for kind in ("date_text", "html_in_synthese", "insee_leading_zero_lost", "lieu_without_insee", "population_text"):
        assert outcome[kind] == {"repaired"}, kind
    assert outcome["invalid_courriel"] == {"repaired", "reported"}  # "x [at] y" is repaired, "non communiqué" not
    assert outcome["missing_id_lieu"] == outcome["unknown_id_service"] == {"reported"}
    # Nothing but the README's kinds and the coordinates of the three lieux without INSEE code (0, 0) and of
    # Sainte-Rose (longitude sign) was found.
    extra = {k: v for k, v in outcome.items() if k not in KNOWN_DEFECTS}
    assert extra == {"coords_zero": {"reported"}, "coords_far_from_commune": {"repaired"}}


def test_defects_repaired_in_the_graph(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store = imported[0]
    lyas = iri.collectivite("commune", "07146")  # Id_INSEE 7146 lost its leading zero
    assert objects(store, lyas, CAP + "codeInsee") == {Literal("07146")}
    assert (
        lyas,
        URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
        iri.source_record("villes-internet", "L107"),
    ) in set(store.triples(GRAPH))
    plouarzel = iri.collectivite("commune", "29177")  # Id_INSEE empty: found by postal code and name
    assert objects(store, plouarzel, CAP + "codePostal") == {Literal("29810")}
    assert not objects(store, plouarzel, "http://www.w3.org/2003/01/geo/wgs84_pos#lat")  # 0, 0 is no point
    experience = iri.experience("villes-internet", 2049)  # "octobre 2017"
    assert objects(store, experience, CAP + "dateDebut") == {Literal("2017-10", datatype=URIRef(XSD + "gYearMonth"))}
    assert objects(store, iri.experience("villes-internet", 1001), DCT + "date") == {
        Literal("2005-03-21", datatype=URIRef(XSD + "date"))
    }  # Excel serial 38432
    (synthese,) = objects(store, iri.experience("villes-internet", 1022), CAP + "synthese")
    assert synthese.startswith("Mano, 125 habitants") and "<" not in synthese and "&nbsp;" not in synthese
    assert "\n" in synthese  # the paragraph break survives as a line break
    # The first of two rows with one Id_Action is kept; a title-less action is not in the graph.
    book = openpyxl.load_workbook(XLSX, read_only=True)
    first = next(row[1] for row in book["Actions"].iter_rows(min_row=2, values_only=True) if row[0] == 1062)
    assert objects(store, iri.experience("villes-internet", 1062), DCT + "title") == {Literal(first, lang="fr")}
    assert not objects(store, iri.experience("villes-internet", 1071), RDF_TYPE)
    # An unknown service stays on the action as written.
    assert Literal("Id_Service=S999") in objects(store, iri.experience("villes-internet", 1062), CAP + "annotation")
    toulon = iri.collectivite("commune", "83137")  # "171 953 hab." read, equal to the referential's
    assert objects(store, toulon, CAP + "population") == {Literal(171953)}


# --- mapping ------------------------------------------------------------------------------------------------


def test_lieux_resolved(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, reports = imported
    assert "unresolved_lieu" not in {e["kind"] for e in reports["workbook"]["errors"]}
    expected = {
        "L78": iri.collectivite("epci", "200046977"),  # Métropole de Lyon
        "L170": iri.collectivite("region", "94"),  # Collectivité de Corse
        "L27": iri.collectivite("departement", "33"),  # Conseil départemental de la Gironde
        "L151": iri.collectivite("region", "53"),  # Région Bretagne
        "L171": iri.collectivite("epci", "200041333"),  # Communauté de communes de Parthenay-Gâtine
        "L10": iri.structure("Mégalis Bretagne"),
        "L68": iri.structure("Territoires Numériques Bourgogne-Franche-Comté"),
    }
    rows = store.select(
        f"SELECT ?id ?e WHERE {{ GRAPH <{GRAPH}> {{ ?e <http://www.w3.org/ns/prov#wasDerivedFrom> ?r . "
        f"?r <{CAP}identifiantSource> ?id }} }}"
    )
    entity = {str(r["id"]): r["e"] for r in rows}
    assert {k: entity[k] for k in expected} == expected
    structure = iri.structure("Territoires Numériques Bourgogne-Franche-Comté")
    assert Literal("GIP e-bourgogne", lang="fr") in objects(store, structure, CAP + "ancienNom")
    # The source's population is kept when it differs from the referential's (canonical).
    hauts_de_france = iri.collectivite("region", "32")
    assert objects(store, hauts_de_france, CAP + "annotation") == {Literal("Population=6003283")}
    assert len(objects(store, hauts_de_france, CAP + "population")) == 1


def test_action_links_folded(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store = imported[0]
    experience = iri.experience("villes-internet", 1164)
    assert objects(store, experience, CAP + "porteur") == {iri.structure("e-Collectivités Vendée")}
    assert objects(store, experience, CAP + "partenaire") == {iri.collectivite("commune", "85140")}
    assert objects(store, experience, CAP + "servicePrincipal") == {iri.concept("S11")}
    assert objects(store, experience, CAP + "service") == {iri.concept("S11"), iri.concept("S43")}
    assert len(objects(store, experience, CAP + "contact")) == 2
    assert Literal("Id_Lieu=L266") in objects(store, experience, CAP + "annotation")


@pytest.mark.parametrize(
    ("email", "organisation"),
    [
        # Action 1164 has two carriers: each person goes to the one of their e-mail domain.
        ("brigitte.lemaire@e-collectivites-vendee.example", iri.structure("e-Collectivités Vendée")),
        ("virginie.fournier@mairie-meilleraie-tillay.example", iri.collectivite("commune", "85140")),
        ("noemie.rousseau@departement-finistere.example", iri.collectivite("departement", "29")),  # was "@@"
    ],
)
def test_person_member_of_the_carrier_of_their_actions(
    imported: tuple[OxigraphStore, dict[str, Any]], email: str, organisation: URIRef
) -> None:
    store = imported[0]
    (row,) = store.select_private(
        f"SELECT ?p WHERE {{ GRAPH ?g {{ ?p <{CAP}courriel> $email }} }}", email=Literal(email)
    )
    assert objects(store, row["p"], CAP + "membreDe") == {organisation}
    assert row["p"] in objects(store, iri.experience("villes-internet", 1164), CAP + "contact") or email.startswith(
        "noemie"
    )


def test_person_contact_details_only_in_the_private_graph(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store = imported[0]
    email = Literal("vincent.arnaud@mairie-parthenay.example")  # P1001
    assert not store.ask("ASK { GRAPH ?g { ?s ?p $email } }", email=email)
    private = store.select_private(f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s <{CAP}courriel> $email }} }}", email=email)
    assert len(private) == 1
    person = private[0]["s"]
    assert objects(store, person, "http://xmlns.com/foaf/0.1/name") == {Literal("Vincent Arnaud")}
    for prop in ("courriel", "telephone", "telephoneMobile", "adresse", "codePostal", "ville"):
        assert not store.ask(f"ASK {{ GRAPH ?g {{ ?p a <{CAP}Personne> ; <{CAP}{prop}> ?v }} }}"), prop
    # A collectivité's institutional contact points are public.
    assert objects(store, iri.collectivite("commune", "79202"), CAP + "courriel") == {
        Literal("accueil@mairie-parthenay.example")
    }


def test_technology_spellings_collapse_to_one_node(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store = imported[0]
    book = openpyxl.load_workbook(XLSX, read_only=True)
    spelled: dict[str, set[str]] = defaultdict(set)
    for row in book["Actions"].iter_rows(min_row=2, values_only=True):
        for name in vi.split_list(row[9] or ""):
            if name in ("Wordpress", "WordPress"):
                spelled[name].add(str(row[0]))
    assert spelled["Wordpress"] and spelled["WordPress"]
    node = iri.technologie("WordPress")
    for ids in spelled.values():
        for ident in ids:
            assert node in objects(store, iri.experience("villes-internet", ident), CAP + "technologie")
    labels = objects(store, node, SKOS + "prefLabel") | objects(store, node, SKOS + "altLabel")
    assert {str(label) for label in labels} >= {"Wordpress", "WordPress"}
    assert objects(store, node, SKOS + "prefLabel") == {Literal("WordPress")}
    osm = iri.technologie("OpenStreetMap")  # "Open Street Map" and "OpenStreetMap"
    assert Literal("Open Street Map") in objects(store, osm, SKOS + "altLabel")
    assert not objects(store, iri.technologie("Open Street Map"), RDF_TYPE)


def test_curated_tables_cover_the_samples() -> None:
    oten = (SAMPLES / "oten_fiches.xml").read_text(encoding="utf-8")
    porteurs = re.findall(r'type="structure_mutualisation">([^<]+)<', oten)
    assert porteurs
    for name in porteurs:
        assert iri.normalise_nom(name) in structures(), name
    assert structures()[iri.normalise_nom("Syndicat mixte Manche Numérique")].nom == "Manche Numérique"


# --- snapshots: idempotence, update, withdrawal -----------------------------------------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, dict[str, Any]]]:
    """One store through successive exports: the sample twice, then copies changed one step at a time
    (action 1001 retitled; then its main service changed in Liaison Services; then action 1174, the only
    one using Icecast, removed)."""
    folder = tmp_path_factory.mktemp("exports")
    book = openpyxl.load_workbook(XLSX)
    actions, services = book["Actions"], book["Liaison Services"]
    actions.cell(row_of(actions, "Id_Action", 1001), 2).value = "Un nouveau titre"
    book.save(folder / "retitled.xlsx")
    services.cell(row_of(services, "Id_Action", 1001), 2).value = "S1"
    book.save(folder / "relinked.xlsx")
    actions.delete_rows(row_of(actions, "Id_Action", 1174))
    book.save(folder / "dropped.xlsx")
    with open_store(tmp_path_factory.mktemp("history") / "store") as store:
        steps: dict[str, Any] = {"first": import_file(store, XLSX), "first graph": set(store.triples(GRAPH))}
        steps["again"] = import_file(store, XLSX)
        steps["again graph"] = set(store.triples(GRAPH))
        for name in ("retitled", "relinked", "dropped"):
            steps[name] = import_file(store, folder / f"{name}.xlsx")
        yield store, steps


def test_second_import_changes_nothing(history: tuple[OxigraphStore, dict[str, Any]]) -> None:
    again = history[1]["again"]
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, RECORDS, 0)
    assert _without_runs(history[1]["again graph"]) == _without_runs(history[1]["first graph"])


def _without_runs(triples: set[Any]) -> set[Any]:
    """A graph minus its import runs (each import adds one)."""
    runs = {s for s, p, o in triples if str(p) == RDF_TYPE and o == URIRef(CAP + "ImportRun")}
    return {t for t in triples if t[0] not in runs}


def test_changed_action_is_updated(history: tuple[OxigraphStore, dict[str, Any]]) -> None:
    report = history[1]["retitled"]
    assert (report.created, report.updated, report.unchanged, report.withdrawn) == (0, 1, RECORDS - 1, 0)
    assert objects(history[0], iri.experience("villes-internet", 1001), DCT + "title") == {
        Literal("Un nouveau titre", lang="fr")
    }


def test_changed_link_updates_its_action(history: tuple[OxigraphStore, dict[str, Any]]) -> None:
    report = history[1]["relinked"]
    assert (report.created, report.updated, report.unchanged, report.withdrawn) == (0, 1, RECORDS - 1, 0)
    assert objects(history[0], iri.experience("villes-internet", 1001), CAP + "servicePrincipal") == {iri.concept("S1")}


def test_missing_action_is_withdrawn(history: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, steps = history
    report = steps["dropped"]
    assert (report.created, report.withdrawn) == (0, 1)
    experience = iri.experience("villes-internet", 1174)
    assert objects(store, experience, RDF_TYPE) == set()  # withdrawn with everything minted for it
    assert objects(store, experience, DCT + "title") == set()
    record = iri.source_record("villes-internet", "1174")
    assert objects(store, record, CAP + "statutEnregistrement") == {Literal("retire")}
    (when,) = objects(store, record, CAP + "retireLe")
    assert when.datatype == URIRef(XSD + "date")
    assert validate_store(store).conforms


# --- the legacy format, the labels, the contract -------------------------------------------------------------


def test_legacy_xls_gives_the_same_records_as_xlsx() -> None:
    new, new_report = read(XLSX)
    old, old_report = read(XLS)
    assert [(r.source_id, r.place, r.entity, r.kind) for r in new] == [
        (r.source_id, r.place, r.entity, r.kind) for r in old
    ]
    for a, b in zip(new, old, strict=True):
        assert set(a.triples) == set(b.triples), a.source_id
        assert set(a.private) == set(b.private), a.source_id

    def faults(report: Report) -> list[tuple[str, ...]]:
        return [(p.kind, p.outcome, p.fault.row_or_record, p.fault.field, p.fault.message) for p in report.problems]

    assert faults(new_report) == faults(old_report)
    assert new_report.rows == old_report.rows


def test_labels_imported_alone(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, reports = imported
    labels = reports["labels"]
    assert labels["source"] == "villes-internet-labels"
    with open(LABELS, encoding="utf-8") as handle:
        rows = sum(1 for line in handle if line.strip()) - 1
    assert labels["rows"] == {"labels": rows} and labels["read"] == rows == labels["created"]
    assert labels["errors"] == []
    # Importing the palmarès did not withdraw anything from the workbook (its own graph).
    assert not store.ask(f'ASK {{ GRAPH <{GRAPH}> {{ ?r <{CAP}statutEnregistrement> "retire" }} }}')
    caen = iri.collectivite("commune", "14118")
    label = iri.label_villes_internet(2008, "14118")
    assert label in objects(store, caen, CAP + "label", LABELS_GRAPH)
    assert objects(store, label, CAP + "arobases", LABELS_GRAPH) == {Literal(4)}
    assert objects(store, label, CAP + "annee", LABELS_GRAPH) == {Literal("2008", datatype=URIRef(XSD + "gYear"))}
    besancon = iri.collectivite("epci", "242500361")  # labels of an EPCI by SIREN
    assert iri.label_villes_internet(2010, "242500361") in objects(store, besancon, CAP + "label", LABELS_GRAPH)
    mentions = store.select(f"SELECT ?m WHERE {{ GRAPH <{LABELS_GRAPH}> {{ ?l <{CAP}mention> ?m }} }}")
    assert {str(r["m"]) for r in mentions} >= {"hors concours", "arobase verte"}


def tiny_workbook(path: Path, service: str = "Portail famille") -> Path:
    """A seven-sheet export with one of everything (Parthenay, one agent, one action), written with openpyxl."""
    rows = {
        "Lieux": [
            [
                "L1",
                "Ville / Village",
                "Ville de Parthenay",
                "<p>Ville <b>pionnière</b></p>",
                46.64872,
                -0.25192,
                "https://www.parthenay.fr",
                "2 rue de la Citadelle",
                "79200",
                "Parthenay",
                "01 99 00 72 10",
                None,
                "accueil@mairie-parthenay.example",
                "10 267 hab.",
                "79202",
            ]
        ],
        "Personnes": [
            [
                "P1",
                "Jeanne Martin",
                "DSI",
                "non",
                None,
                "79200",
                "Parthenay",
                "01 99 00 00 01",
                None,
                "jeanne.martin [at] mairie-parthenay.example",
            ]
        ],
        "Services": [
            [
                "S3",
                "1. Démocratie et services publics",
                "a. Efficacité des services publics",
                "1. Accès des citoyens aux services publics, droits et démarches",
                service,
            ]
        ],
        "Actions": [
            [
                1001,
                "Portail famille en ligne",
                None,
                44433,
                "Les familles s'inscrivent en ligne.",
                None,
                None,
                None,
                "https://www.parthenay.fr/famille\nhttps://www.parthenay.fr/ecoles",
                "Wordpress, QR codes",
                "AIGA (groupe Berger-Levrault)",
                None,
                None,
            ]
        ],
        "Liaison Lieux": [[1001, "L1"]],
        "Liaison Personnes": [[1001, "P1"]],
        "Liaison Services": [[1001, "S3"]],
    }
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, columns in vi.SHEETS.items():
        sheet = book.create_sheet(name)
        sheet.append(list(columns))
        for row in rows[name]:
            sheet.append(row)
    book.save(path)
    return path


def test_tiny_workbook_maps_to_the_expected_graph(tmp_path: Path) -> None:
    """Input and expected Turtle (tests/data/villes_internet/tiny_expected.ttl), compared as graphs."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    records, report = read(tiny_workbook(tmp_path / "tiny.xlsx"))
    mapped = Graph()
    for record in records:
        for triple in record.triples:
            mapped.add(triple)
    expected = Graph().parse(Path(__file__).resolve().parents[1] / "data" / "villes_internet" / "tiny_expected.ttl")
    assert isomorphic(mapped, expected), mapped.serialize(format="turtle")
    assert {p.kind for p in report.problems} == {
        "html_in_description",
        "population_text",
        "invalid_courriel",
        "taxonomy_mismatch",
    }
    (absent,) = [p for p in report.problems if p.kind == "taxonomy_mismatch"]  # a one-service Services sheet
    assert "S1, S2, S4" in absent.fault.message and "S3," not in absent.fault.message
    private = {(str(p).rsplit("#", 1)[-1], str(o)) for r in records for _, p, o in r.private}
    assert private == {
        ("courriel", "jeanne.martin@mairie-parthenay.example"),
        ("codePostal", "79200"),
        ("ville", "Parthenay"),
        ("telephone", "01 99 00 00 01"),
    }


def test_services_sheet_checked_against_the_taxonomy(tmp_path: Path) -> None:
    _, report = read(tiny_workbook(tmp_path / "tiny.xlsx", service="Portail des familles"))
    faults = {(p.fault.row_or_record, p.fault.field) for p in report.problems if p.kind == "taxonomy_mismatch"}
    assert ("Services!2 (S3)", "Service") in faults


def test_cli_imports_the_labels_after_the_workbook(home: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capitalis.cli import app

    workbook = tiny_workbook(tmp_path / "tiny.xlsx")
    labels = tmp_path / "palmares.csv"
    labels.write_text(
        ",".join(vi.LABELS_HEADER) + "\n2019,79202,,Parthenay,79,5,\n"
        "2019,,200041333,Communauté de communes de Parthenay-Gâtine,79,3,hors concours\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(home),
            "ingest",
            "villes-internet",
            str(workbook),
            "--labels",
            str(labels),
            "--json",
            "--no-index",
        ],
    )
    assert result.exit_code == 1, result.output  # 1: the workbook's defects are reported
    first, second = json.loads(result.stdout)
    assert (first["source"], first["created"]) == ("villes-internet", 3)
    assert (second["source"], second["created"], second["errors"]) == ("villes-internet-labels", 2, [])
    with open_store(home / "store") as store:  # the palmarès is only in its own graph
        assert not store.ask(f"ASK {{ GRAPH <{GRAPH}> {{ ?l a <{CAP}LabelVillesInternet> }} }}")
        label = iri.label_villes_internet(2019, "200041333")
        assert objects(store, label, CAP + "mention", LABELS_GRAPH) == {Literal("hors concours", lang="fr")}


def test_store_conforms(imported: tuple[OxigraphStore, dict[str, Any]]) -> None:
    result = validate_store(imported[0])
    assert result.conforms, result.summary()


# --- value helpers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "datatype"),
    [
        ("automne 2020", "2020", "gYear"),
        ("octobre 2017", "2017-10", "gYearMonth"),
        ("sept. 2008", "2008-09", "gYearMonth"),
        ("1er mars 2019", "2019-03-01", "date"),
        ("05/10/2017", "2017-10-05", "date"),
        ("2017-10-05", "2017-10-05", "date"),
        ("10/2017", "2017-10", "gYearMonth"),
    ],
)
def test_parse_date_text(text: str, value: str, datatype: str) -> None:
    parsed = vi.parse_date_text(text)
    assert parsed is not None
    assert parsed[0] == Literal(value, datatype=URIRef(XSD + datatype))


def test_value_helpers() -> None:
    assert vi.parse_date_text("bientôt") is None and vi.parse_date_text("31/02/2017") is None
    assert vi.excel_date(38432).isoformat() == "2005-03-21"  # type: ignore[union-attr]
    assert vi.split_list("fablab (imprimantes 3D, découpe laser), SIG web") == [
        "fablab (imprimantes 3D, découpe laser)",
        "SIG web",
    ]
    assert vi.repair_courriel("a [at] b.example ; c@@d.example") == (["a@b.example", "c@d.example"], [])
    assert vi.repair_courriel("non communiqué") == ([], ["non communiqué"])
    assert vi.parse_population("171\u00a0953 hab.") == 171953 and vi.parse_population("n.c.") is None
    text, had_html, had_script = vi.clean_html("<p>Un&nbsp;texte<br/>suite</p><script>x()</script>")
    assert (text, had_html, had_script) == ("Un texte\nsuite", True, True)
    assert vi.clean_html("3 < 5 et 6 > 4") == ("3 < 5 et 6 > 4", False, False)
