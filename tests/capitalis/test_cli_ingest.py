"""``capitalis ingest``, ``list``, ``show`` and ``resolution review`` on the real sample files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capitalis.cli import app

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """One store with every sample file imported through ``ingest all`` (recognised by content)."""
    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("exports")
    for i, path in enumerate(sorted(SAMPLES.iterdir())):
        if path.suffix != ".md":
            shutil.copy(path, folder / f"export-{i}.bin")  # names say nothing: content decides
    result = runner.invoke(app, ["--home", str(home), "ingest", "all", str(folder), "--json", "--no-index"])
    assert result.exit_code == 1, result.output  # the samples carry known defects: a partial import
    return home, json.loads(result.stdout)


def test_ingest_all_recognises_every_source_by_content(loaded: tuple[Path, list[dict]]) -> None:
    _, reports = loaded
    sources = sorted(r["source"] for r in reports)
    assert sources == ["netpublic", "netpublic", "oten", "villes-internet", "villes-internet", "villes-internet-labels"]
    for report in reports:
        assert set(report) >= {
            "source",
            "file",
            "read",
            "created",
            "updated",
            "unchanged",
            "withdrawn",
            "rejected",
            "repaired",
            "errors",
        }
        for error in report["errors"]:
            assert set(error) >= {"file", "row_or_record", "field", "message"}
            assert error["file"] == report["file"] and error["message"]
    oten = next(r for r in reports if r["source"] == "oten")
    assert oten["read"] == 100 and oten["created"] + oten["rejected"] == 100


def test_list_experiences_json_lines(loaded: tuple[Path, list[dict]]) -> None:
    home, _ = loaded
    result = runner.invoke(app, ["--home", str(home), "list", "experiences", "--json"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(items) > 300
    for item in items:
        assert set(item) == {"iri", "titre", "date", "porteurs", "services", "technologies", "sources"}
        assert item["titre"] and item["porteurs"] and item["sources"]
        for p in item["porteurs"]:
            assert set(p) >= {"iri", "nom", "insee", "siren"}
        for s in item["sources"]:
            assert s["source"] in {"villes-internet", "oten"}
    merged = [i for i in items if {s["source"] for s in i["sources"]} == {"villes-internet", "oten"}]
    assert merged, "OTeN fiches describing Villes Internet actions are one experience"


@pytest.mark.parametrize("kind", ["collectivites", "lieux", "technologies", "acteurs"])
def test_list_other_kinds(loaded: tuple[Path, list[dict]], kind: str) -> None:
    home, _ = loaded
    result = runner.invoke(app, ["--home", str(home), "list", kind, "--json"])
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert items and all(i["iri"].startswith("https://w3id.org/capitalis/id/") for i in items)
    assert "@" not in json.dumps([i for i in items if i["type"] == "cap:Personne"])  # no e-mail of a person


def test_show_entity_with_sources(loaded: tuple[Path, list[dict]]) -> None:
    home, _ = loaded
    iri = "https://w3id.org/capitalis/id/experience/vi-1002"
    result = runner.invoke(app, ["--home", str(home), "show", iri, "--json"])
    assert result.exit_code == 0, result.output
    entity = json.loads(result.stdout)
    assert "cap:Experience" in entity["types"]
    assert entity["properties"]["dct:title"][0]["graph"] == "villes-internet"
    assert {"source": "villes-internet", "id": "1002", "statut": "actif"} in entity["sources"]
    result = runner.invoke(app, ["--home", str(home), "show", "https://w3id.org/capitalis/id/experience/nope"])
    assert result.exit_code == 1 and "aucune entité" in result.stderr


def test_resolution_review(loaded: tuple[Path, list[dict]]) -> None:
    home, _ = loaded
    result = runner.invoke(app, ["--home", str(home), "resolution", "review", "--json"])
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert pairs and all(p["raison"] and 0 <= p["score"] <= 1 for p in pairs)


def test_unreadable_files_exit_2_with_place(tmp_path: Path) -> None:
    broken = tmp_path / "fiches.xml"
    broken.write_text(
        '<?xml version="1.0"?>\n<oten:export xmlns:oten="urn:oten:fiche:1.2">\n<oten:fiche>\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["--home", str(tmp_path / "h"), "ingest", "oten", str(broken), "--json"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["errors"][0]["file"] == str(broken)
    assert "ligne" in result.stderr or "line" in result.stderr
    other = tmp_path / "notes.txt"
    other.write_text("rien à voir", encoding="utf-8")
    result = runner.invoke(app, ["--home", str(tmp_path / "h"), "ingest", "netpublic", str(other)])
    assert result.exit_code == 2 and "notes.txt" in result.stderr
    result = runner.invoke(app, ["--home", str(tmp_path / "h"), "ingest", "oten", str(tmp_path / "absent.xml")])
    assert result.exit_code == 2 and "introuvable" in result.stderr
