"""What a person using ``capitalis`` meets: its version, shell completion, choices and exit codes in the help,
Click's own texts in French, an empty home that says how to fill it, a short import summary with a report file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capitalis.cli import app
from capitalis.group import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
#: The console script the package installs (its name is the completion's name).
SCRIPT = Path(sys.executable).parent / "capitalis"
SAMPLES = ROOT / "data" / "samples"
runner = CliRunner()


def capitalis(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The installed command, in a subprocess (completion and start-up are what is tested)."""
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=600,
        check=False,
    )


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "capitalis 0.1.0"


def test_shell_completion_script_and_completions() -> None:
    # Typer finds the shell among the parent processes (shellingham): run it from bash, as a user's terminal would
    # (under nohup or a CI runner there may be none); the second command keeps bash from exec'ing it in its place
    script = subprocess.run(
        ["bash", "-c", f"'{SCRIPT}' --show-completion; exit $?"], capture_output=True, text=True, check=False
    )
    assert script.returncode == 0, script.stderr
    assert "_CAPITALIS_COMPLETE=complete_bash" in script.stdout
    done = capitalis(env={"_CAPITALIS_COMPLETE": "complete_bash", "COMP_WORDS": "capitalis ing", "COMP_CWORD": "1"})
    assert done.stdout.split() == ["ingest"]
    words = "capitalis search --taille "
    done = capitalis(env={"_CAPITALIS_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "3"})
    assert "petite-ville" in done.stdout.split()
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


def test_help_lists_choices_and_exit_codes_in_french() -> None:
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert "Usage : capitalis [OPTIONS] COMMAND" in help_text
    for title in ("Options", "Commandes", "Codes de sortie"):
        assert title in help_text
    for code in EXIT_CODES:
        assert f"{code} : " in help_text
    assert "Show this message" not in help_text and "Afficher ce message et quitter." in help_text
    sparql = runner.invoke(app, ["sparql", "--help"], env={"COLUMNS": "200"}).stdout
    assert "<table|json|csv|ttl|nt|jsonld>" in sparql and "[défaut : table]" in sparql
    search = runner.invoke(app, ["search", "--help"], env={"COLUMNS": "200"}).stdout
    assert "village|petite-ville|ville-moyenne" in search
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "| 141 |" in reference and "`petite-ville`" in reference


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show"], "Argument manquant : 'iri'."),
        (["search", "x", "--limit", "abc"], "Valeur invalide pour '--limit' : un nombre entier est attendu."),
        (["search", "--taille", "metropole"], "'metropole' n'est pas un choix possible"),
        (["nosuch"], "Commande inconnue : 'nosuch'."),
        (["--nope"], "Option inconnue : --nope"),
        (["search", "--limit"], "L'option '--limit' attend une valeur."),
    ],
)
def test_usage_errors_in_french(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Erreur" in result.output  # and the usage line, but for a value missing after its option
    for english in ("Usage:", "Error", "Invalid value", "Missing", "No such", "Try '"):
        assert english not in result.output


@pytest.mark.parametrize("args", [["list", "experiences"], ["search", "portail"], ["stats"], ["sparql", "ASK {}"]])
def test_a_read_command_on_an_empty_home_says_how_to_fill_it(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "nouveau"
    result = capitalis("--home", str(home), *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"l'entrepôt de {home} est vide : lancez `make data` ou `capitalis" in result.stderr
    assert "ingest all" in result.stderr
    assert "Aucune" not in result.stderr and result.stdout == ""
    assert not home.exists() and not (tmp_path / "var").exists()  # a read creates nothing


@pytest.mark.slow
def test_make_data_prints_a_short_summary_and_writes_the_report(tmp_path: Path) -> None:
    """What `make data` runs, on a fresh home: under 40 lines, the details in the report files."""
    home = tmp_path / "home"
    lines: list[str] = []
    loaded = capitalis("--home", str(home), "territories", "load")
    assert loaded.returncode == 0, loaded.stderr
    imported = capitalis("--home", str(home), "ingest", "all", str(SAMPLES), "--no-index")
    assert imported.returncode == 1, imported.stderr  # the samples carry known defects
    for done in (loaded, imported):
        lines += (done.stdout + done.stderr).splitlines()
    assert len(lines) < 40, "\n".join(lines)
    output = "\n".join(lines)
    assert "Ignoré" not in output and "oten_thematiques.json : liste des 12 thématiques OTeN" in output
    assert "84 anomalie(s) : missing_id_action 26" in output
    assert "84 anomalie(s), les mêmes que villes_internet_atlaas.xlsx." in output
    reports = sorted((home / "rapports").glob("import-*.json"))
    assert len(reports) == 1 and f"Anomalies en détail : {reports[0]}" in output
    data = json.loads(reports[0].read_text(encoding="utf-8"))
    assert sum(len(r["errors"]) for r in data) == 84 + 84 + 9 + 12
    with reports[0].with_suffix(".csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 84 + 84 + 9 + 12
    assert {"source", "file", "row_or_record", "field", "kind", "outcome", "message"} <= set(rows[0])
    # a record's provenance is the file that created it, not the legacy workbook that confirmed it unchanged
    query = (
        "PREFIX cap: <https://w3id.org/capitalis/ontology#> SELECT DISTINCT ?f WHERE { GRAPH "
        "<https://w3id.org/capitalis/graph/villes-internet> { ?r a cap:SourceRecord ; cap:fichier ?f } }"
    )
    files = capitalis("--home", str(home), "sparql", query, "--format", "csv")
    assert sorted(files.stdout.split()) == ["f", "villes_internet_atlaas.xlsx"]
