"""NetPublic: the national lieux file, the legacy Latin-1 export, their defects, and the one lieu they share.

Imports run on the real embedded store and the real sample files; each module-scoped store is built once
(an import takes a second or two) and only read by the tests that use it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal, URIRef

import ingest.netpublic as np
from ingest.load import import_file, scope_graph
from ingest.readers import readers
from ingest.sources import Context, Report
from kg.errors import IngestError
from kg.store import OxigraphStore, open_store
from kg.validation import validate_store
from ontology import iri

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
NATIONAL = SAMPLES / "netpublic_lieux_mediation.csv"
LEGACY = SAMPLES / "netpublic_legacy_latin1.csv"
GRAPH = str(iri.graph("netpublic"))
RESOLUTION = str(iri.graph("resolution"))
# Plain IRIs: pytest probes module attributes, and rdflib's closed namespaces warn about unknown names.
CAP = "https://w3id.org/capitalis/ontology#"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
DCT_DESCRIPTION = "http://purl.org/dc/terms/description"
XSD = "http://www.w3.org/2001/XMLSchema#"

LIEU_PREFIX = str(iri.lieu("x"))[:-1]
SHARED = 31  # legacy rows that describe a lieu of the national file (the other 9 are closed since)
LEGACY_ONLY = 9
NATIONAL_KEPT = 228  # 231 rows - 1 empty_required - 2 duplicates


def data_rows(path: Path, encoding: str, delimiter: str) -> int:
    with open(path, encoding=encoding, newline="") as f:
        return sum(1 for row in csv.reader(f, delimiter=delimiter) if any(row)) - 1


def objects(store: OxigraphStore, subject: URIRef | str, predicate: str, graph: str = GRAPH) -> set[Any]:
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ <{subject}> <{predicate}> ?o }} }}")
    return {r["o"] for r in rows}


def lieux(store: OxigraphStore) -> dict[str, set[str]]:
    """Every lieu of the netpublic graph with the formats of the records it derives from."""
    rows = store.select(
        f"""SELECT ?e ?fmt WHERE {{ GRAPH <{GRAPH}> {{ ?e a <{CAP}LieuMediation> ; <{PROV_DERIVED}> ?r .
            ?r <{CAP}versionFormat> ?fmt }} }}"""
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(str(r["e"]), set()).add(str(r["fmt"]))
    return out


def lieu_triples(store: OxigraphStore) -> set[tuple[str, str, str]]:
    return {(str(s), str(p), o.n3()) for s, p, o in store.triples(GRAPH) if str(s).startswith(LIEU_PREFIX)}


@pytest.fixture(scope="module")
def national_then_legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, dict[str, Any]]]:
    with open_store(tmp_path_factory.mktemp("np-nl") / "store") as store:
        reports = {
            "national": import_file(store, NATIONAL, source="netpublic").as_dict(),
            "legacy": import_file(store, LEGACY, source="netpublic").as_dict(),
        }
        yield store, reports


@pytest.fixture(scope="module")
def legacy_then_national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, dict[str, Any]]]:
    with open_store(tmp_path_factory.mktemp("np-ln") / "store") as store:
        reports = {
            "legacy": import_file(store, LEGACY, source="netpublic").as_dict(),
            "national": import_file(store, NATIONAL, source="netpublic").as_dict(),
        }
        yield store, reports


# --- recognising and decoding the files ---------------------------------------------------------------------


def test_sniff_by_content_not_by_name(tmp_path: Path) -> None:
    by_label = readers()
    national, legacy = tmp_path / "export.txt", tmp_path / "annuaire.dat"
    national.write_bytes(NATIONAL.read_bytes())
    legacy.write_bytes(LEGACY.read_bytes())
    assert by_label["netpublic-lieux"].sniff(national) and not by_label["netpublic-lieux"].sniff(legacy)
    assert by_label["netpublic-legacy"].sniff(legacy) and not by_label["netpublic-legacy"].sniff(national)
    for other in ("villes_internet_labels.csv", "oten_fiches.xml", "oten_thematiques.json"):
        assert not by_label["netpublic-lieux"].sniff(SAMPLES / other)
        assert not by_label["netpublic-legacy"].sniff(SAMPLES / other)


def test_decode_utf8_then_latin1_then_cp1252() -> None:
    assert np.decode("Médiathèque".encode(), "f").encoding == "utf-8"
    assert np.decode(b"\xef\xbb\xbfid", "f") == np.Decoded("id", "utf-8-sig")
    assert np.decode("Médiathèque façade".encode("latin-1"), "f") == np.Decoded("Médiathèque façade", "iso-8859-1")
    # 0x92 is a control character in ISO-8859-1 but the apostrophe ’ in Windows-1252 (Excel's CSV)
    assert np.decode("L’espace œuvre".encode("cp1252"), "f") == np.Decoded("L’espace œuvre", "cp1252")


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"id;nom\r\n1;caf\xe9\x00\r\n", 14), (b"id,nom\n1,\x81bad", 9), (b"\xef\xbb\xbfid\x1a\xff", 5)],
)
def test_undecodable_bytes_give_their_offset(tmp_path: Path, data: bytes, offset: int) -> None:
    path = tmp_path / "lieux.csv"
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        np.decode(data, path.name)
    assert caught.value.fault.file == "lieux.csv"
    assert caught.value.fault.row_or_record == f"octet {offset}"
    assert "ni UTF-8 valide" in caught.value.message


def test_utf8_with_stray_windows_bytes() -> None:
    """A row pasted from a Windows file into a UTF-8 export: its bytes are read as Windows-1252."""
    data = "Médiathèque l".encode() + b"\x92" + "école".encode()
    assert np.decode(data, "f") == np.Decoded("Médiathèque l’école", "utf-8", (15,))


def test_cp1252_export_reads_like_the_utf8_one(tmp_path: Path) -> None:
    from ingest.resolve import Resolver

    windows = tmp_path / "lieux.csv"
    windows.write_bytes(NATIONAL.read_text(encoding="utf-8").encode("cp1252"))
    reader = readers()["netpublic-lieux"]
    assert reader.sniff(windows)
    records = {}
    for path in (NATIONAL, windows):
        ctx = Context(Report("netpublic", path.name), Resolver(None, "netpublic"))
        records[path] = {r.source_id: sorted(map(str, r.triples)) for r in reader.read(path, ctx)}
        assert ctx.report.encoding == ("utf-8" if path == NATIONAL else "cp1252")
    assert records[NATIONAL] == records[windows]


def test_header_of_neither_format_is_refused(tmp_path: Path, store: OxigraphStore) -> None:
    from ingest.resolve import Resolver

    wrong = tmp_path / "lieux.csv"
    wrong.write_text("id,pivot,nom,adresse,code_postal\nnp-1,0,Lieu,1 rue,75001\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        import_file(store, wrong, source="netpublic")
    assert caught.value.fault.file == str(wrong)
    assert "commune" in caught.value.message and "standard des lieux de médiation" in caught.value.message
    ctx = Context(Report("netpublic", "x"), Resolver(None, "netpublic"))
    with pytest.raises(IngestError) as caught:
        list(readers()["netpublic-legacy"].read(NATIONAL, ctx))
    assert caught.value.fault.file == str(NATIONAL) and "N° EPN" in caught.value.message


# --- the national file: counts, mapping, defects ------------------------------------------------------------


def test_national_counts_equal_rows(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    _, reports = national_then_legacy
    report = reports["national"]
    rows = data_rows(NATIONAL, "utf-8", ",")
    assert rows == 231
    assert report["read"] == rows and report["rows"] == {"lieux": rows}
    assert report["created"] == NATIONAL_KEPT and report["rejected"] == 3
    assert report["created"] + report["rejected"] == rows
    assert report["encoding"] == "utf-8"


DEFECTS = [
    ("duplicate", "30 (np-epn-0041)", "id", "rejected"),
    ("duplicate", "197 (np-epn-0283)", "id", "rejected"),
    ("empty_required", "54 (np-epn-0077)", "pivot", "rejected"),
    ("coords_zero", "67 (np-epn-0096)", "latitude", "repaired"),
    ("long_text", "68 (np-epn-0098)", "presentation_detail", "reported"),
    ("html_in_description", "81 (np-epn-0121)", "presentation_detail", "repaired"),
    ("latlon_swapped", "94 (np-epn-0142)", "latitude", "repaired"),
    ("missing_insee", "115 (np-epn-0172)", "code_insee", "repaired"),
    ("wrong_date_format", "147 (np-epn-0214)", "date_maj", "repaired"),
    ("script_in_description", "169 (np-epn-0244)", "presentation_resume", "repaired"),
    ("latlon_swapped", "189 (np-epn-0269)", "latitude", "repaired"),
    ("missing_insee", "212 (np-epn-0302)", "code_insee", "repaired"),
]


@pytest.mark.parametrize(("kind", "place", "field", "outcome"), DEFECTS)
def test_each_defect_is_reported(
    national_then_legacy: tuple[OxigraphStore, dict[str, Any]], kind: str, place: str, field: str, outcome: str
) -> None:
    errors = national_then_legacy[1]["national"]["errors"]
    found = [e for e in errors if e["kind"] == kind and e["row_or_record"] == place]
    assert len(found) == 1, errors
    assert found[0]["field"] == field and found[0]["outcome"] == outcome
    assert found[0]["file"].endswith(NATIONAL.name) and found[0]["message"]


def test_exactly_the_known_defects(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    errors = national_then_legacy[1]["national"]["errors"]
    assert sorted((e["kind"], e["row_or_record"]) for e in errors) == sorted((d[0], d[1]) for d in DEFECTS)
    assert national_then_legacy[1]["legacy"]["errors"] == []


def test_defects_repaired_in_the_graph(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, _ = national_then_legacy
    lieu = iri.lieu
    # duplicates: one entity kept (the most recent row), the decision recorded against the dropped row
    assert not objects(store, lieu("np-epn-0041"), RDFS_LABEL) and objects(store, lieu("np-epn-0304"), RDFS_LABEL)
    assert not objects(store, lieu("np-epn-0283"), RDFS_LABEL) and objects(store, lieu("np-epn-0179"), RDFS_LABEL)
    rows = store.select(
        f"""SELECT ?e ?m WHERE {{ GRAPH <{RESOLUTION}> {{ ?d <{CAP}enregistrement>
            <{iri.source_record("netpublic", "np-epn-0041")}> ; <{CAP}entite> ?e ; <{CAP}methode> ?m }} }}"""
    )
    assert [(r["e"], str(r["m"])) for r in rows] == [(lieu("np-epn-0304"), np.METHODE_DOUBLON)]
    assert not objects(store, lieu("np-epn-0077"), RDFS_LABEL)  # empty pivot: rejected
    # coords 0,0 dropped, the lieu kept with its commune
    assert not objects(store, lieu("np-epn-0096"), WGS + "lat")
    assert objects(store, lieu("np-epn-0096"), CAP + "territoire") == {iri.territoire("commune", "06088")}
    # swapped back, as xsd:decimal
    (lat,) = objects(store, lieu("np-epn-0142"), WGS + "lat")
    (lon,) = objects(store, lieu("np-epn-0142"), WGS + "long")
    assert (str(lat), str(lon), str(lat.datatype)) == ("49.158635", "5.894589", XSD + "decimal")
    # long text kept whole
    (detail,) = objects(store, lieu("np-epn-0098"), DCT_DESCRIPTION)
    assert len(detail) == 5000 and detail.language == "fr"
    # HTML cleaned to text, script removed
    (html,) = objects(store, lieu("np-epn-0121"), DCT_DESCRIPTION)
    assert "<" not in html and "Ateliers gratuits d'initiation à l'informatique." in html
    assert "- Mardi : traitement de texte" in html.splitlines()
    assert objects(store, lieu("np-epn-0244"), CAP + "resume") == {
        Literal("Espace numérique ouvert à tous.", lang="fr")
    }
    # INSEE code found from postal code + name (and its article)
    assert objects(store, lieu("np-epn-0172"), CAP + "codeInsee") == {Literal("34172")}
    assert objects(store, lieu("np-epn-0302"), CAP + "territoire") == {iri.territoire("commune", "97213")}
    # dd/mm/yyyy read as a date
    assert objects(store, lieu("np-epn-0214"), CAP + "dateMaj") == {
        Literal("2015-11-01", datatype=URIRef(XSD + "date"))
    }


def test_national_columns_mapped(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, _ = national_then_legacy
    first = iri.lieu("np-epn-0001")
    assert objects(store, first, CAP + "typologie") == {Literal("ENM"), Literal("ASSO")}
    assert len(objects(store, first, CAP + "siteWeb")) == 2  # "|" inside the cell: two IRIs
    assert all(isinstance(o, URIRef) for o in objects(store, first, CAP + "siteWeb"))
    assert objects(store, first, CAP + "servicesMediation") >= {Literal("Aide aux démarches administratives")}
    assert objects(store, first, CAP + "itinerance") == {Literal("Itinérant")}
    assert objects(store, first, CAP + "sourceOrigine") == {Literal("Numi")}
    assert objects(store, first, CAP + "dateMaj") == {Literal("2024-11-01", datatype=URIRef(XSD + "date"))}
    assert objects(store, first, CAP + "siret") == set()  # 00000000000000 means unknown: not stored
    second = iri.lieu("np-epn-0002")
    assert objects(store, second, CAP + "autreLabelFormation") >= {Literal("Label NetPublic")}
    # shared with the legacy row 3303: the OSM string of the standard and the legacy free text side by side
    assert objects(store, second, CAP + "horaires") == {
        Literal("Mo-Fr 09:30-12:30,14:00-17:30; Sa 10:00-12:00"),
        Literal("Du lundi au vendredi 9h30-12h30 et 14h-17h30 / samedi 10h-12h", lang="fr"),
    }
    assert objects(store, second, CAP + "courriel") == {Literal("contact@ecran-partage-chesnay-rocquencourt.example")}
    assert objects(store, iri.lieu("np-epn-0119"), CAP + "itinerance") == {Literal("Fixe"), Literal("Itinérant")}
    assert objects(store, iri.lieu("np-epn-0003"), CAP + "ficheAccesLibre")
    assert objects(store, iri.lieu("np-epn-0172"), CAP + "priseRdv") == {URIRef("https://www.rdv-solidarites.fr/")}


@pytest.mark.parametrize(
    ("lieu_id", "carrier", "kind"),
    [
        ("np-epn-0004", iri.collectivite("commune", "44109"), "Commune"),  # Ville de Nantes, not Nantes Métropole
        ("np-epn-0096", iri.collectivite("commune", "06088"), "Commune"),  # Ville de Nice
        ("np-epn-0244", iri.collectivite("commune", "49163"), "Commune"),  # Commune de Jarzé Villages
        ("np-epn-0172", iri.collectivite("commune", "34172"), "Commune"),
    ],
)
def test_structure_parente_resolved(
    national_then_legacy: tuple[OxigraphStore, dict[str, Any]], lieu_id: str, carrier: URIRef, kind: str
) -> None:
    store, _ = national_then_legacy
    assert objects(store, iri.lieu(lieu_id), CAP + "structureParente") == {carrier}
    assert URIRef(CAP + kind) in objects(store, carrier, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert objects(store, carrier, CAP + "territoire")


def test_structure_parente_kinds(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, _ = national_then_legacy
    rows = store.select(
        f"""SELECT ?c ?type WHERE {{ GRAPH <{GRAPH}> {{ ?l <{CAP}structureParente> ?c .
            ?c a ?type }} }}"""
    )
    kinds = {str(r["c"]): str(r["type"]).rsplit("#", 1)[-1] for r in rows}
    assert kinds[str(iri.collectivite("departement", "38"))] == "Departement"  # Département de l'Isère
    assert kinds[str(iri.collectivite("epci", "243100633"))] == "Intercommunalite"  # CA du Sicoval
    assert kinds[str(iri.organisation("La Poste"))] == "Organisation"
    assert all(k in {"Commune", "Intercommunalite", "Departement", "Organisation"} for k in kinds.values())


# --- the legacy export --------------------------------------------------------------------------------------


def test_legacy_latin1_decoded_and_mapped(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    store, reports = national_then_legacy
    report = reports["legacy"]
    rows = data_rows(LEGACY, "iso-8859-1", ";")
    assert rows == 40 and report["read"] == rows and report["rows"] == {"lieux": rows}
    assert report["created"] == rows and report["encoding"] == "iso-8859-1"
    only = iri.lieu("legacy-2249")  # closed since: not in the national file
    assert objects(store, only, RDFS_LABEL) == {Literal("Médiathèque Jacques Prévert - espace multimédia", lang="fr")}
    assert objects(store, only, CAP + "territoire") == {iri.territoire("commune", "69290")}
    assert objects(store, only, CAP + "nombrePostes") == {Literal(6)}
    assert objects(store, only, CAP + "dateLabellisation") == {Literal("2012-10-11", datatype=URIRef(XSD + "date"))}
    shared = iri.lieu("np-epn-0279")  # "Bibliothèque Émile Zola - espace numérique", N° EPN 2142
    assert Literal("Bibliothèque Émile Zola - espace numérique", lang="fr") in objects(store, shared, SKOS_ALT)
    assert Literal("NetPublic") in objects(store, shared, CAP + "labelFormation")
    # "Dernière mise à jour" describes the row: on its source record, so a shared lieu keeps one dateMaj
    record = iri.source_record("netpublic", "2142")
    assert objects(store, record, CAP + "dateMaj") == {Literal("2014-03-22", datatype=URIRef(XSD + "date"))}
    assert len(objects(store, shared, CAP + "dateMaj")) == 1
    upper = iri.lieu("np-epn-0024")  # "ESPACE PUBLIC NUMERIQUE DE NOISY-LE-SEC", upper case without accents
    assert objects(store, upper, CAP + "conditionsAcces") == {Literal("Gratuit", lang="fr")}
    assert objects(store, iri.lieu("legacy-2288"), RDFS_LABEL) == set()  # "Ville: Le Catelier" matched np-epn-0131


# --- both formats, one lieu ---------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["national_then_legacy", "legacy_then_national"])
def test_both_orders_share_the_lieux(order: str, request: pytest.FixtureRequest) -> None:
    store, _ = request.getfixturevalue(order)
    found = lieux(store)
    shared = {e for e, formats in found.items() if formats == {"netpublic-lieux", "netpublic-legacy"}}
    legacy_only = {e for e, formats in found.items() if formats == {"netpublic-legacy"}}
    assert len(shared) == SHARED and len(legacy_only) == LEGACY_ONLY
    assert len(found) == NATIONAL_KEPT + LEGACY_ONLY  # no lieu twice
    assert all(e.startswith(LIEU_PREFIX + "legacy-") for e in legacy_only)
    counts = store.select(
        f"""SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?e a <{CAP}LieuMediation> ;
            <{PROV_DERIVED}> ?r }} }} GROUP BY ?e"""
    )
    assert sorted(int(r["n"]) for r in counts if str(r["e"]) in shared) == [2] * SHARED
    assert iri.lieu("np-epn-0108") in {URIRef(e) for e in shared}  # MJC D'ISSY-LES-MOULINEAUX (1253)
    matched = store.select(
        f"""SELECT ?r ?e ?s WHERE {{ GRAPH <{RESOLUTION}> {{ ?d <{CAP}methode> "{np.METHODE_MEME_LIEU}" ;
            <{CAP}enregistrement> ?r ; <{CAP}entite> ?e ; <{CAP}score> ?s }} }}"""
    )
    assert len(matched) == SHARED and all(0.5 <= float(r["s"]) <= 1 for r in matched)
    stale = store.select(
        f"""SELECT ?d WHERE {{ GRAPH <{RESOLUTION}> {{ ?d <{CAP}entite> ?e
            FILTER(STRSTARTS(STR(?e), "{LIEU_PREFIX}legacy-")) }} }}"""
    )
    assert len(stale) == LEGACY_ONLY


def test_both_orders_give_the_same_lieux(
    national_then_legacy: tuple[OxigraphStore, dict[str, Any]],
    legacy_then_national: tuple[OxigraphStore, dict[str, Any]],
) -> None:
    assert lieu_triples(national_then_legacy[0]) == lieu_triples(legacy_then_national[0])
    share = scope_graph("netpublic", "netpublic-legacy")
    first = {t for t in national_then_legacy[0].triples(share) if str(t[0]).startswith(LIEU_PREFIX)}
    second = {t for t in legacy_then_national[0].triples(share) if str(t[0]).startswith(LIEU_PREFIX)}
    assert first == second  # the legacy format's own share was re-pointed too


@pytest.mark.parametrize("order", ["national_then_legacy", "legacy_then_national"])
def test_store_conforms(order: str, request: pytest.FixtureRequest) -> None:
    store, _ = request.getfixturevalue(order)
    report = validate_store(store)
    assert report.conforms, report.summary()


def test_public_graphs_hold_each_triple_once(national_then_legacy: tuple[OxigraphStore, dict[str, Any]]) -> None:
    """The formats' shares are bookkeeping kept out of the public store (its default graph is the union)."""
    store, _ = national_then_legacy
    _, body = store.query_serialized(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?l a <{CAP}LieuMediation> }}", "json")
    (row,) = json.loads(body)["results"]["bindings"]
    assert int(row["n"]["value"]) == NATIONAL_KEPT + LEGACY_ONLY


def test_disagreeing_postal_code_stays_on_the_legacy_record(tmp_path: Path) -> None:
    """A shared lieu has one postal code whatever the order: a legacy code that differs stays on its record."""
    national_lines = NATIONAL.read_text(encoding="utf-8").splitlines(keepends=True)
    national = tmp_path / "lieux.csv"
    national.write_text("".join(line for line in national_lines if line.startswith(("id,", "np-epn-0108,"))))
    legacy_lines = LEGACY.read_text(encoding="iso-8859-1").splitlines(keepends=True)
    legacy = tmp_path / "epn.csv"
    rows = [line for line in legacy_lines if line.startswith(("N° EPN;", "1253;", "2249;"))]
    legacy.write_bytes("".join(rows).replace(";92130;", ";92131;").encode("iso-8859-1"))
    triples = []
    for name, order in (("nl", (national, legacy)), ("ln", (legacy, national))):
        with open_store(tmp_path / name) as store:
            reports = [import_file(store, path, source="netpublic").as_dict() for path in order]
            assert objects(store, iri.lieu("np-epn-0108"), CAP + "codePostal") == {Literal("92130")}
            assert objects(store, iri.source_record("netpublic", "1253"), CAP + "codePostal") == {Literal("92131")}
            assert set(lieux(store)) == {str(iri.lieu("np-epn-0108")), str(iri.lieu("legacy-2249"))}
            triples.append(lieu_triples(store))
        if name == "nl":
            assert [e["kind"] for e in reports[1]["errors"]] == ["code_postal_differs"]
    assert triples[0] == triples[1]


# --- snapshots: idempotence, update, withdrawal, the other format left alone ---------------------------------


def _without_row(text: str, lieu_id: str) -> str:
    return "".join(line for line in io.StringIO(text, newline="") if not line.startswith(lieu_id + ","))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, dict[str, dict[str, Any]]]]:
    """National, legacy, both again, then a national export where one lieu changed and one disappeared."""
    directory = tmp_path_factory.mktemp("np-history")
    text = NATIONAL.read_text(encoding="utf-8")
    changed = directory / "lieux-2.csv"
    text = text.replace("Association Écran Partagé - antenne du Chesnay-Rocquencourt,", "Écran Partagé Le Chesnay,", 1)
    changed.write_text(_without_row(text, "np-epn-0108"), encoding="utf-8")
    with open_store(directory / "store") as store:
        steps = {
            "national": import_file(store, NATIONAL, source="netpublic"),
            "legacy": import_file(store, LEGACY, source="netpublic"),
            "national-again": import_file(store, NATIONAL, source="netpublic"),
            "legacy-again": import_file(store, LEGACY, source="netpublic"),
            "changed": import_file(store, changed, source="netpublic"),
        }
        yield store, {name: report.as_dict() for name, report in steps.items()}


def test_reimport_changes_nothing(history: tuple[OxigraphStore, dict[str, dict[str, Any]]]) -> None:
    reports = history[1]
    counts = {k: (r["created"], r["updated"], r["unchanged"], r["withdrawn"]) for k, r in reports.items()}
    assert counts["national"] == (NATIONAL_KEPT, 0, 0, 0)
    assert counts["legacy"] == (40, 0, 0, 0)  # the national records are not withdrawn by the other format
    assert counts["national-again"] == (0, 0, NATIONAL_KEPT, 0)
    assert counts["legacy-again"] == (0, 0, 40, 0)


def test_update_and_withdrawal(history: tuple[OxigraphStore, dict[str, dict[str, Any]]]) -> None:
    store, reports = history
    report = reports["changed"]
    assert (report["created"], report["updated"], report["unchanged"], report["withdrawn"]) == (
        0, 1, NATIONAL_KEPT - 2, 1,
    )  # fmt: skip
    # updated: the national name replaced; the legacy row's name of that shared lieu left as it was
    shared = iri.lieu("np-epn-0002")
    assert objects(store, shared, RDFS_LABEL) == {Literal("Écran Partagé Le Chesnay", lang="fr")}
    legacy_name = Literal("Association Écran Partagé - antenne du Chesnay-Rocquencourt", lang="fr")
    assert objects(store, shared, SKOS_ALT) == {legacy_name}
    # withdrawn: what the national record said goes, its record stays marked with the date; the legacy record
    # of that lieu stays, and so does what it says of the lieu
    gone = iri.lieu("np-epn-0108")
    assert objects(store, gone, RDFS_LABEL) == set()
    record = iri.source_record("netpublic", "np-epn-0108")
    assert objects(store, record, CAP + "statutEnregistrement") == {Literal("retire")}
    (date,) = objects(store, record, CAP + "retireLe")
    assert str(date.datatype) == XSD + "date"
    legacy_record = iri.source_record("netpublic", "1253")
    assert objects(store, legacy_record, CAP + "statutEnregistrement") == {Literal("actif")}
    assert Literal(9) in objects(store, gone, CAP + "nombrePostes")
    formats = lieux(store)
    assert sum(1 for f in formats.values() if "netpublic-legacy" in f) == 40


# --- matching, unit level -----------------------------------------------------------------------------------


def test_same_place_despite_spelling() -> None:
    assert np.name_similarity("EPN de Ramonville-Saint-Agne", "Espace public numérique de Ramonville-Saint-Agne") == 1
    assert np.name_similarity("Cyberbase d'Huttenheim", "Cyber-base d'Huttenheim") == 1
    assert (
        np.name_similarity(
            "Espace multimédia de la médiathèque Jean de La Fontaine",
            "Médiathèque Jean de La Fontaine - espace multimédia",
        )
        == 1
    )
    assert np.address_similarity("24, rue Lamartine", "24 rue Lamartine") == 1
    assert np.address_similarity("61, rue Condorcet", "51 rue Condorcet") == 0  # another house
    a = np.Fiche(URIRef("urn:a"), "78158", ("Association Écran Partagé - antenne du Chesnay-Rocquencourt",),
                 ("61, rue Condorcet",))  # fmt: skip
    near = np.Fiche(URIRef("urn:b"), "78158", ("Maison France Services du Chesnay-Rocquencourt",),
                    ("51 rue Condorcet",), label="b")  # fmt: skip
    other_town = np.Fiche(URIRef("urn:c"), "78000", a.noms, a.adresses, label="c")
    (match,) = np.match_lieux([a], [near, other_town])
    assert match.national is None and "b" in match.raison


def test_clean_text() -> None:
    cleaned = np.clean_text("<p>Un <b>atelier</b> &amp; des jeux</p><script>alert(1)</script><br/>Fin")
    assert cleaned == np.Cleaned("Un atelier & des jeux\nFin", True, True)
    assert np.clean_text("Tarif : 3 < 5 €") == np.Cleaned("Tarif : 3 < 5 €", False, False)
    assert np.parse_date("2024-02-30") == (None, False)
