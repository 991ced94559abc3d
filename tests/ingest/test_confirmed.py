"""An unchanged export imported again is confirmed, not read: same report, same graphs, no new run.

Real files, the real embedded store. The cases that must read again: another file, ``force``, other options,
other readers' code, and another import of the source in between.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ingest.load as load
from capitalis.cli import app
from ingest.load import import_file
from kg.store import OxigraphStore
from ontology import iri
from ontology.namespaces import CAP

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
WORKBOOK = SAMPLES / "villes_internet_atlaas.xlsx"


def _quads(store: OxigraphStore, graph: str) -> set[tuple[str, str, str]]:
    """A graph's triples as text, without the confirmations (the one thing a confirmation writes)."""
    return {(str(s), str(p), str(o)) for s, p, o in store.triples(graph) if p != CAP.confirmeLe}


def _runs(store: OxigraphStore, source: str) -> list[str]:
    rows = store.select(f"SELECT ?r WHERE {{ GRAPH <{iri.graph(source)}> {{ ?r a <{CAP.ImportRun}> }} }}")
    return sorted(str(r["r"]) for r in rows)


def test_same_file_again_is_confirmed_with_the_same_report(store: OxigraphStore) -> None:
    first = import_file(store, WORKBOOK)
    graphs = {g: _quads(store, g) for g in store.graphs()}
    runs = _runs(store, "villes-internet")
    again = import_file(store, WORKBOOK)

    assert again.confirms == runs[-1]
    kept = first.created + first.updated + first.unchanged
    assert (again.read, again.created, again.updated, again.unchanged, again.withdrawn) == (first.read, 0, 0, kept, 0)
    assert (again.rejected, again.repaired, again.rows) == (first.rejected, first.repaired, first.rows)
    assert [p.as_dict() for p in again.problems] == [p.as_dict() for p in first.problems]
    assert again.exit_code == first.exit_code == 1  # the samples carry known defects: reported again
    assert _runs(store, "villes-internet") == runs  # no new run: the last one is confirmed
    assert {g: _quads(store, g) for g in store.graphs()} == graphs
    confirmed = store.select(
        f"SELECT ?t WHERE {{ GRAPH <{iri.graph('villes-internet')}> {{ <{runs[-1]}> <{CAP.confirmeLe}> ?t }} }}"
    )
    assert len(confirmed) == 1


def test_what_must_be_read_again(store: OxigraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    oten = tmp_path / "fiches.xml"
    shutil.copy(SAMPLES / "oten_fiches.xml", oten)
    import_file(store, oten)
    assert import_file(store, oten).confirms is not None
    assert import_file(store, oten, force=True).confirms is None  # forced: read, a new run
    assert len(_runs(store, "oten")) == 2

    oten.write_text(oten.read_text(encoding="utf-8").replace("Noisy-le-Sec", "Noisy-le-Grand", 1), encoding="utf-8")
    changed = import_file(store, oten)
    assert changed.confirms is None and changed.updated >= 1

    monkeypatch.setattr(load, "_readers_version", lambda: "another version of the readers")
    assert import_file(store, oten).confirms is None  # new code may map the same file otherwise


def test_another_format_in_between_reads_again(store: OxigraphStore) -> None:
    """NetPublic's legacy export is resolved against the national file's lieux: after a legacy import, the
    national file is read again even if it did not change."""
    national, legacy = SAMPLES / "netpublic_lieux_mediation.csv", SAMPLES / "netpublic_legacy_latin1.csv"
    import_file(store, national)
    assert import_file(store, national).confirms is not None
    import_file(store, legacy)
    assert import_file(store, national).confirms is None


def test_cli_says_the_file_was_confirmed(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    command = ["--home", str(home), "ingest", "oten", str(SAMPLES / "oten_fiches.xml"), "--no-index"]
    runner.invoke(app, command)
    result = runner.invoke(app, command)
    assert "rien n'a été relu" in result.stderr
    again = runner.invoke(app, [*command, "--json", "--force"])
    assert "confirms" not in json.loads(again.stdout)


def test_cli_spares_the_index_update_when_nothing_was_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPITALIS_EMBEDDER", "hash")
    runner = CliRunner()
    command = ["--home", str(tmp_path / "home"), "ingest", "oten", str(SAMPLES / "oten_fiches.xml")]
    first = runner.invoke(app, command)
    assert "texte(s) encodé(s)" in first.stderr
    again = runner.invoke(app, command)
    assert "rien n'a été relu" in again.stderr and "Index de recherche : déjà à jour." in again.stderr
    forced = runner.invoke(app, [*command, "--force"])
    assert "0 modifiée(s), 0 texte(s) encodé(s)" in forced.stderr  # read again: the index compares, finds nothing
