"""OTeN: the XML fiches d'expérience, their mapping, their known defects and the import life cycle.

Imports run on the real embedded store and the real sample file. The module-scoped store is built once and
only read; the tests that change the file work on modified copies in ``tmp_path`` and on a fresh store.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal, URIRef

import kg.store
from ingest.load import BOOKKEEPING, import_file, private_graph
from ingest.oten import OtenReader, PartialDate, clean_html, parse_amount, parse_partial_date
from ingest.readers import reader_for
from ingest.resolve import Resolver
from ingest.sources import Context, Report
from kg.errors import IngestError
from kg.store import OxigraphStore, open_store
from kg.validation import validate_store
from ontology import iri

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
OTEN = SAMPLES / "oten_fiches.xml"
GRAPH = str(iri.graph("oten"))
# Plain IRIs: pytest probes module attributes, and rdflib's closed namespaces warn about unknown names.
CAP = "https://w3id.org/capitalis/ontology#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
FICHES = len(re.findall(r"<oten:fiche\b", OTEN.read_text(encoding="utf-8")))  # 100, one id twice

# The defects of the sources README (OTeN table): kind, fiche, field, outcome.
DEFECTS = [
    ("calendrier_debut_after_fin", "OTEN-2006-0009", "calendrier/@fin", "reported"),
    ("evaluation_note_gt_echelle", "OTEN-2010-0104", "appreciation/@note", "reported"),
    ("html_in_description", "OTEN-2010-0104", "description", "repaired"),
    ("empty_titre", "OTEN-2010-0080", "titre", "rejected"),
    ("budget_text", "OTEN-2011-0073", "budget", "repaired"),
    ("invalid_email", "OTEN-2011-0073", "contact/courriel", "reported"),
    ("duplicated_id", "OTEN-2010-0092", "id", "repaired"),
    ("ambiguous_territory", "OTEN-2011-0042", "territoire", "reported"),
    ("unknown_thematique_code", "OTEN-2010-0116", "thematique/@code", "reported"),
]


def experience(fiche: str) -> URIRef:
    return iri.experience("oten", fiche)


def objects(store: OxigraphStore, subject: URIRef, predicate: str, graph: str = GRAPH) -> set[Any]:
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ <{subject}> <{predicate}> ?o }} }}")
    return {r["o"] for r in rows}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OxigraphStore, Report]]:
    """The sample imported once into a store of this module."""
    with open_store(tmp_path_factory.mktemp("oten") / "store") as store:
        yield store, import_file(store, OTEN)


@pytest.fixture(scope="module")
def errors(imported: tuple[OxigraphStore, Report]) -> list[dict[str, str]]:
    return imported[1].as_dict()["errors"]


# --- format ------------------------------------------------------------------------------------------------


def test_sniff_by_content(tmp_path: Path) -> None:
    reader = OtenReader()
    renamed = tmp_path / "export.dat"
    renamed.write_bytes(OTEN.read_bytes())
    assert reader.sniff(renamed)
    assert reader_for(renamed).label == "oten-xml"
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><export xmlns="urn:autre:1.0"><fiche id="1"/></export>')
    assert not reader.sniff(other)
    assert not reader.sniff(SAMPLES / "villes_internet_atlaas.xlsx")
    assert not reader.sniff(SAMPLES / "netpublic_lieux_mediation.csv")


def test_not_well_formed_names_line_and_column(
    tmp_path: Path, store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first import streams into the store as the file is read: with small chunks, the three fiches before
    # the fault are loaded before it is met, and must be removed.
    monkeypatch.setattr(kg.store, "LOAD_CHUNK", 20)
    broken = tmp_path / "oten.xml"
    text = OTEN.read_text(encoding="utf-8")
    broken.write_text(text.replace("<oten:titre>Wiki-Brest", "<oten:titre>Wiki-Brest <b>", 1), encoding="utf-8")
    line = next(n for n, row in enumerate(broken.read_text().splitlines(), 1) if "Wiki-Brest <b>" in row)
    with pytest.raises(IngestError) as caught:
        import_file(store, broken)
    fault = caught.value.fault
    assert fault.file == str(broken)
    assert fault.row_or_record.startswith(f"ligne {line}, colonne ")
    assert "mal formé" in fault.message
    assert not store.select(f"SELECT * WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} LIMIT 1")  # nothing loaded


def test_two_imports_within_a_second_are_two_runs(tmp_path: Path, store: OxigraphStore) -> None:
    """A one-fiche export imported twice in a row (well within a second): two runs, each with its counts."""
    text = OTEN.read_text(encoding="utf-8")
    head, rest = text.split("<oten:fiche ", 1)
    one = tmp_path / "une-fiche.xml"
    one.write_text(head + "<oten:fiche " + rest.split("</oten:fiche>", 1)[0] + "</oten:fiche>\n</oten:export>\n")
    import_file(store, one)
    import_file(store, one, force=True)  # read again (the same file is otherwise only confirmed)
    rows = store.select(
        f"SELECT ?run (COUNT(?lu) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?run a <{CAP}ImportRun> ; <{CAP}lu> ?lu }} }}"
        " GROUP BY ?run"
    )
    assert len(rows) == 2 and all(int(r["n"]) == 1 for r in rows)


def test_broken_root_is_still_an_oten_fault(tmp_path: Path) -> None:
    broken = tmp_path / "oten.xml"
    broken.write_text('<?xml version="1.0"?>\n<oten:export xmlns:oten="urn:oten:fiche:1.2" version=1.2>\n')
    assert OtenReader().sniff(broken)
    with pytest.raises(IngestError) as caught:
        list(OtenReader().read(broken, Context(Report("oten", str(broken)), Resolver(None, "oten"))))
    assert caught.value.fault.row_or_record.startswith("ligne 2, colonne ")


# --- counts and defects ------------------------------------------------------------------------------------


def test_counts_equal_the_fiches_of_the_file(imported: tuple[OxigraphStore, Report]) -> None:
    store, report = imported
    assert FICHES == 100
    assert report.read == report.rows["fiche"] == FICHES
    assert report.rejected == 1  # the empty titre; the second OTEN-2010-0092 is kept under a suffixed id
    assert report.created == FICHES - 1
    assert report.updated == report.unchanged == report.withdrawn == 0
    rows = store.select(f"SELECT (COUNT(?e) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?e a <{CAP}Experience> }} }}")
    assert int(rows[0]["n"]) == FICHES - 1
    assert report.triples > 5000
    assert gc.isenabled()  # the reader pauses the cyclic collector while mapping, and restores it


@pytest.mark.parametrize(("kind", "fiche", "field", "outcome"), DEFECTS)
def test_each_known_defect_is_reported(
    errors: list[dict[str, str]], kind: str, fiche: str, field: str, outcome: str
) -> None:
    found = [e for e in errors if e["kind"] == kind and fiche in e["row_or_record"]]
    assert found, f"{kind} non signalé pour {fiche}"
    assert found[0]["field"] == field
    assert found[0]["outcome"] == outcome
    assert found[0]["file"].endswith("oten_fiches.xml")
    assert found[0]["message"]


def test_no_unexpected_defect(errors: list[dict[str, str]]) -> None:
    assert sorted(e["kind"] for e in errors) == sorted(kind for kind, *_ in DEFECTS)


def test_calendrier_debut_after_fin_keeps_the_start(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2006-0009")
    assert objects(store, e, CAP + "dateDebut") == {Literal("2006-03", datatype=URIRef(XSD + "gYearMonth"))}
    assert objects(store, e, CAP + "dateFin") == set()
    assert Literal("calendrier/@fin=2005-11") in objects(store, e, CAP + "annotation")


def test_note_above_scale_is_not_asserted(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    evaluation = iri.evaluation("OTEN-2010-0104")
    assert objects(store, evaluation, CAP + "note") == set()
    assert {float(v) for v in objects(store, evaluation, CAP + "echelle")} == {5.0}
    assert Literal("appreciation/@note=8") in objects(store, evaluation, CAP + "annotation")


def test_html_description_is_cleaned(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    (description,) = objects(store, experience("OTEN-2010-0104"), DCT + "description")
    assert "<" not in description and "&nbsp;" not in description
    assert "Le CCAS modère les annonces" in description
    assert description.language == "fr"


def test_empty_titre_is_rejected(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    assert not store.ask(f"ASK {{ GRAPH <{GRAPH}> {{ <{experience('OTEN-2010-0080')}> ?p ?o }} }}")


def test_budget_text_is_read(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    (budget,) = objects(store, experience("OTEN-2011-0073"), CAP + "budget")
    assert budget.datatype == URIRef(XSD + "decimal") and float(budget) == 18000


def test_invalid_email_stays_private_and_unasserted(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    (person,) = objects(store, experience("OTEN-2011-0073"), CAP + "contact")
    private = private_graph("oten")
    rows = store.select_private(f"SELECT ?p ?o WHERE {{ GRAPH <{private}> {{ <{person}> ?p ?o }} }}")
    values = {(str(r["p"]), str(r["o"])) for r in rows}
    assert (CAP + "annotation", "courriel=voir formulaire de contact sur le site de la commune") in values
    assert not any(p == CAP + "courriel" for p, _ in values)
    assert (CAP + "telephone", "01 99 00 21 05") in values


def test_duplicated_id_keeps_both_fiches(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    (first,) = objects(store, experience("OTEN-2010-0092"), DCT + "title")
    (second,) = objects(store, experience("OTEN-2010-0092-2"), DCT + "title")
    assert "Lucy" in first and "Merles" in second
    assert Literal("fiche/@id=OTEN-2010-0092") in objects(store, experience("OTEN-2010-0092-2"), CAP + "annotation")


def test_exact_copy_of_a_fiche_is_rejected(tmp_path: Path, store: OxigraphStore) -> None:
    text = OTEN.read_text(encoding="utf-8")
    start = text.index('  <oten:fiche id="OTEN-2007-0003"')
    fiche = text[start : text.index("</oten:fiche>", start) + len("</oten:fiche>\n")]
    copy = tmp_path / "oten.xml"
    copy.write_text(text.replace("</oten:export>", fiche + "</oten:export>"), encoding="utf-8")
    report = import_file(store, copy)
    found = [
        e for e in report.as_dict()["errors"] if e["kind"] == "duplicated_id" and "OTEN-2007-0003" in e["row_or_record"]
    ]
    assert [e["outcome"] for e in found] == ["rejected"]
    assert report.read == FICHES + 1 and report.created == FICHES - 1


def test_ambiguous_territory_records_the_candidates(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2011-0042")
    assert objects(store, e, CAP + "territoire") == set()
    # The carrier names its island: "Ville de Saint-Denis (La Réunion) – CCAS".
    assert objects(store, e, CAP + "porteur") == {iri.collectivite("commune", "97411")}
    record = iri.source_record("oten", "OTEN-2011-0042")
    rows = store.select(
        f"""SELECT ?c WHERE {{ GRAPH <{iri.graph("resolution")}> {{ ?d <{CAP}enregistrement> <{record}> ;
            <{CAP}aRevoir> true ; <{CAP}candidat> ?c }} }}"""
    )
    assert {r["c"] for r in rows} == {iri.territoire("commune", c) for c in ("97411", "93066", "11339", "30247")}


def test_unknown_thematique_code_is_kept_as_annotation(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2010-0116")
    assert objects(store, e, CAP + "thematiqueOten") == {iri.oten_thematique("TOU")}
    assert Literal("thematique[SPO]=Sports et loisirs de plein air") in objects(store, e, CAP + "annotation")


# --- mapping -------------------------------------------------------------------------------------------------


def test_themes_bring_their_aligned_atlaas_concepts(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2007-0008")  # CUL (broad 3, narrow 3b 3c) then DEM (close 1b, narrow 1b1 1b2)
    assert objects(store, e, CAP + "thematiqueOten") == {iri.oten_thematique("CUL"), iri.oten_thematique("DEM")}
    assert objects(store, e, CAP + "service") == {iri.concept(n) for n in ("3", "3b", "3c", "1b", "1b1", "1b2")}
    assert objects(store, e, CAP + "servicePrincipal") == {iri.concept("3")}


def test_territories_codes_and_former_names(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    assert objects(store, experience("OTEN-2007-0008"), CAP + "territoire") == {iri.territoire("commune", "29019")}
    assert objects(store, experience("OTEN-2007-0010"), CAP + "territoire") == {iri.territoire("epci", "200046977")}
    # "Midi-Pyrénées" (no code), carried by the "Conseil régional Midi-Pyrénées": Occitanie today.
    e = experience("OTEN-2010-0041")
    assert objects(store, e, CAP + "territoire") == {iri.territoire("region", "76")}
    assert objects(store, e, CAP + "porteur") == {iri.collectivite("region", "76")}
    record = iri.source_record("oten", "OTEN-2010-0041")
    assert objects(store, record, CAP + "niveau") == {Literal("region")}
    assert Literal("Midi-Pyrénées") in objects(store, record, CAP + "nomCite")
    # A commune named without code nor article trouble: "Commune du Lude".
    assert objects(store, experience("OTEN-2012-0073"), CAP + "porteur") == {iri.collectivite("commune", "72176")}


def test_carriers_and_partners(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2006-0003")
    (porteur,) = objects(store, e, CAP + "porteur")
    assert porteur == iri.structure("Manche Numérique")
    assert objects(store, porteur, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == {
        URIRef(CAP + "StructureMutualisation")
    }
    assert objects(store, e, CAP + "financeur") == {
        iri.collectivite("departement", "50"),
        iri.collectivite("region", "28"),
    }
    (prestataire,) = objects(store, e, CAP + "prestataire")
    assert prestataire == iri.organisation("Manche Télécom")
    assert objects(store, prestataire, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == {
        URIRef(CAP + "Organisation")
    }
    # "Conseils généraux de Côte-d'Or, Nièvre, Saône-et-Loire et Yonne": four funders.
    funders = objects(store, experience("OTEN-2008-0016"), CAP + "financeur")
    assert {iri.collectivite("departement", d) for d in ("21", "58", "71", "89")} <= funders


def test_calendar_budget_funding_evaluation(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2007-0003")  # debut "nov. 2006", fin "05/2008"
    assert objects(store, e, CAP + "dateDebut") == {Literal("2006-11", datatype=URIRef(XSD + "gYearMonth"))}
    assert objects(store, e, CAP + "dateFin") == {Literal("2008-05", datatype=URIRef(XSD + "gYearMonth"))}
    assert objects(store, e, DCT + "date") == {Literal("2006-11-01", datatype=URIRef(XSD + "date"))}
    e = experience("OTEN-2008-0062")  # debut "2007", fin "2008"
    assert objects(store, e, CAP + "dateDebut") == {Literal("2007", datatype=URIRef(XSD + "gYear"))}
    e = experience("OTEN-2006-0003")
    assert {float(b) for b in objects(store, e, CAP + "budget")} == {46_000_000}
    assert objects(store, e, CAP + "budgetHT") == {Literal(True)}
    assert objects(store, e, CAP + "devise") == {Literal("EUR")}
    funding = iri.financement("OTEN-2006-0003", 1)
    assert funding in objects(store, e, CAP + "financement")
    assert objects(store, funding, CAP + "sourceFinancement") == {Literal("Departement")}
    assert {float(m) for m in objects(store, funding, CAP + "montant")} == {18_000_000}
    evaluation = iri.evaluation("OTEN-2006-0003")
    assert objects(store, evaluation, CAP + "methodeEvaluation") == {Literal("auto-evaluation")}
    assert objects(store, evaluation, CAP + "dateEvaluation") == {
        Literal("2008-06", datatype=URIRef(XSD + "gYearMonth"))
    }
    assert {float(n) for n in objects(store, evaluation, CAP + "note")} == {5.0}
    indicateur = iri.indicateur("OTEN-2006-0003", 2)
    assert objects(store, indicateur, "http://www.w3.org/2000/01/rdf-schema#label") == {
        Literal("Sites Wi-Fi longue portée", lang="fr")
    }
    assert {float(v) for v in objects(store, indicateur, CAP + "valeur")} == {218}
    assert objects(store, indicateur, CAP + "unite") == {Literal("sites")}
    assert objects(store, evaluation, CAP + "enseignements")


def test_technologies_and_competences(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    e = experience("OTEN-2006-0009")
    technologies = objects(store, e, CAP + "technologie")
    assert len(technologies) == 2
    for node in technologies:
        assert objects(store, node, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == {URIRef(CAP + "Technologie")}
    # "modération" is a label of the competence scheme, "démocratie participative" an alternative label.
    assert objects(store, e, CAP + "competence") == {iri.competence("moderation"), iri.competence("concertation")}


def test_contact_is_public_but_its_details_are_private(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    (person,) = objects(store, experience("OTEN-2006-0003"), CAP + "contact")
    assert objects(store, person, "http://xmlns.com/foaf/0.1/name") == {Literal("Hélène Guesnon")}
    assert objects(store, person, CAP + "fonction") == {Literal("Chargée de mission réseaux et usages", lang="fr")}
    assert objects(store, person, CAP + "organisme") == {iri.structure("Manche Numérique")}
    assert not store.ask(f"ASK {{ GRAPH ?g {{ ?s <{CAP}courriel> ?o }} }}")
    assert not store.ask(f"ASK {{ GRAPH ?g {{ ?s <{CAP}telephone> ?o }} }}")
    private = private_graph("oten")
    rows = store.select_private(f"SELECT ?o WHERE {{ GRAPH <{private}> {{ <{person}> <{CAP}courriel> ?o }} }}")
    assert [str(r["o"]) for r in rows] == ["h.guesnon@manchenumerique.example"]


def test_fiche_and_export_attributes(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    record = iri.source_record("oten", "OTEN-2006-0003")
    assert objects(store, record, CAP + "statutPublication") == {Literal("publiee")}
    assert objects(store, record, CAP + "ligne") == {Literal(1)}
    assert objects(store, experience("OTEN-2006-0003"), CAP + "dateMaj") == {
        Literal("2009-08-01", datatype=URIRef(XSD + "date"))
    }
    rows = store.select(
        f"SELECT ?v ?d WHERE {{ GRAPH <{GRAPH}> {{ ?run <{CAP}versionFormat> ?v ; <{CAP}dateExport> ?d }} }}"
    )
    assert [(str(r["v"]), str(r["d"])) for r in rows] == [("1.2", "2013-06-28")]


def test_unknown_elements_and_attributes_are_kept(tmp_path: Path, store: OxigraphStore) -> None:
    text = OTEN.read_text(encoding="utf-8")
    text = text.replace(
        '<oten:fiche id="OTEN-2006-0003" statut="publiee" maj="2009-08-01">',
        '<oten:fiche id="OTEN-2006-0003" statut="publiee" maj="2009-08-01" langue="fr">'
        "<oten:motsCles>fibre, DSP</oten:motsCles>",
    ).replace(
        "<oten:competence>délégation de service public</oten:competence>",
        "<oten:competence>délégation de service public</oten:competence><oten:competence>jonglage</oten:competence>",
    )
    copy = tmp_path / "oten.xml"
    copy.write_text(text, encoding="utf-8")
    import_file(store, copy)
    annotations = objects(store, experience("OTEN-2006-0003"), CAP + "annotation")
    assert {Literal("fiche/@langue=fr"), Literal("motsCles=fibre, DSP"), Literal("competence=jonglage")} <= annotations


def test_store_conforms_to_the_shapes(imported: tuple[OxigraphStore, Report]) -> None:
    store, _ = imported
    report = validate_store(store)
    assert report.conforms, report.summary()


# --- life cycle ------------------------------------------------------------------------------------------


def test_reimport_update_and_withdrawal(tmp_path: Path, store: OxigraphStore) -> None:
    first = import_file(store, OTEN)
    assert (first.created, first.updated, first.unchanged) == (FICHES - 1, 0, 0)

    again = import_file(store, OTEN)
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, FICHES - 1, 0)

    text = OTEN.read_text(encoding="utf-8")
    changed = tmp_path / "oten_maj.xml"
    changed.write_text(text.replace("Wiki-Brest, l'encyclopédie locale", "Wiki-Brest, l'encyclopédie", 1))
    update = import_file(store, changed)
    assert (update.created, update.updated, update.unchanged) == (0, 1, FICHES - 2)

    start = text.index('  <oten:fiche id="OTEN-2007-0003"')
    end = text.index("</oten:fiche>", start) + len("</oten:fiche>\n")
    removed = tmp_path / "oten_retrait.xml"
    removed.write_text(text[:start] + text[end:], encoding="utf-8")
    withdrawal = import_file(store, removed)
    assert withdrawal.withdrawn == 1
    assert not objects(store, experience("OTEN-2007-0003"), DCT + "title")
    record = iri.source_record("oten", "OTEN-2007-0003")
    assert objects(store, record, CAP + "statutEnregistrement") == {Literal("retire")}
    (date,) = objects(store, record, CAP + "retireLe")
    assert date.datatype == URIRef(XSD + "date")


def _without_fiches(text: str, fiches: list[str]) -> str:
    for fiche in fiches:
        start = text.index(f'  <oten:fiche id="{fiche}"')
        end = text.index("</oten:fiche>", start) + len("</oten:fiche>\n")
        text = text[:start] + text[end:]
    return text


def _minted(store: OxigraphStore, fiche: str) -> set[URIRef]:
    """The nodes minted for one fiche (experience, evaluation, indicators, funding lines…), its record aside."""
    key = str(iri.evaluation(fiche)).rsplit("/", 1)[-1]
    rows = store.select(
        f"""SELECT DISTINCT ?x WHERE {{ GRAPH <{GRAPH}> {{ {{ ?x ?p ?o }} UNION {{ ?s ?p ?x }} }}
            FILTER(isIRI(?x) && CONTAINS(STR(?x), "/{key}") && !CONTAINS(STR(?x), "/record/")) }}"""
    )
    return {r["x"] for r in rows}  # type: ignore[misc]


def test_withdrawn_fiches_leave_nothing_behind(tmp_path: Path) -> None:
    """A later export without some fiches: their experience, evaluation and indicators go; the store validates."""
    gone = ["OTEN-2010-0104", "OTEN-2007-0003", "OTEN-2006-0009"]  # the first has an evaluation with indicators
    with OxigraphStore(tmp_path / "store") as store:
        import_file(store, OTEN)
        minted = set().union(*(_minted(store, f) for f in gone))
        minted |= {experience(f) for f in gone}
        assert iri.evaluation(gone[0]) in minted and iri.indicateur(gone[0], 1) in minted
        later = tmp_path / "oten_sans.xml"
        later.write_text(_without_fiches(OTEN.read_text(encoding="utf-8"), gone), encoding="utf-8")
        report = import_file(store, later)
        assert report.withdrawn == len(gone)
        assert validate_store(store).conforms
        for graph in store.graphs():
            select = store.select_private if kg.store.is_private(graph) else store.select
            for node in minted:
                assert not select(f"SELECT * WHERE {{ GRAPH <{graph}> {{ {node.n3()} ?p ?o }} }} LIMIT 1"), node
                assert not select(f"SELECT * WHERE {{ GRAPH <{graph}> {{ ?s ?p {node.n3()} }} }} LIMIT 1"), node
        tombstone = {str(r["p"]) for r in store.select(
            f"SELECT DISTINCT ?p WHERE {{ GRAPH <{GRAPH}> {{ {iri.source_record('oten', gone[0]).n3()} ?p ?o }} }}"
        )}  # fmt: skip
        assert tombstone <= {str(p) for p in BOOKKEEPING} | {CAP + "statutEnregistrement", CAP + "retireLe"}


# --- values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2008-09", PartialDate(2008, 9)),
        ("09/2008", PartialDate(2008, 9)),
        ("2008", PartialDate(2008)),
        ("sept. 2008", PartialDate(2008, 9)),
        ("févr. 2006", PartialDate(2006, 2)),
        ("déc. 2011", PartialDate(2011, 12)),
        ("juin 2014", PartialDate(2014, 6)),
        ("2011-05-16", PartialDate(2011, 5, 16)),
        ("16/05/2011", PartialDate(2011, 5, 16)),
        ("1er mars 2010", PartialDate(2010, 3, 1)),
        ("13/2008", None),
        ("bientôt", None),
        ("", None),
    ],
)
def test_partial_dates(text: str, expected: PartialDate | None) -> None:
    assert parse_partial_date(text) == expected


def test_partial_date_literals() -> None:
    assert parse_partial_date("2008").literal().datatype == URIRef(XSD + "gYear")  # type: ignore[union-attr]
    assert str(parse_partial_date("sept. 2008").literal()) == "2008-09"  # type: ignore[union-attr]
    assert parse_partial_date("2011-05-16").literal().datatype == URIRef(XSD + "date")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "amount", "was_text"),
    [
        ("120000", 120000, False),
        ("120 000 €", 120000, True),
        ("18 k€", 18000, True),
        ("1,2 M€", 1200000, True),
        ("45 000 euros HT", 45000, True),
        ("environ la moitié", None, True),
    ],
)
def test_amounts(text: str, amount: int | None, was_text: bool) -> None:
    value, as_text = parse_amount(text)
    assert (None if value is None else float(value)) == amount
    assert as_text is was_text


def test_clean_html_removes_scripts() -> None:
    text, had_html, had_script = clean_html("<p>Un <b>EPN</b>&nbsp;ouvert</p><script>alert(1)</script><p>Fin</p>")
    assert (text, had_html, had_script) == ("Un EPN ouvert\nFin", True, True)
    assert clean_html("Texte simple") == ("Texte simple", False, False)


def test_prose_quoting_the_format_is_not_an_export(tmp_path: Path) -> None:
    from ingest.readers import sniff

    readme = tmp_path / "README.md"
    readme.write_text('# Sources\n\n```xml\n<oten:export xmlns:oten="urn:oten:fiche:1.2">\n```\n', encoding="utf-8")
    assert sniff(readme) is None
