"""How the command line fails: usage errors, domain errors naming the option, a reader closing the pipe early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from capitalis.cli import app
from capitalis.group import EXIT_BROKEN_PIPE, sub_app
from kg.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
WORKBOOK = ROOT / "data" / "samples" / "villes_internet_atlaas.xlsx"
runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--nope"],
        ["ingest", "nosuch"],
        ["search", "x", "--limit", "abc"],
        ["nosuch-command"],
        ["parrainage", "propose", "--nope"],
    ],
)
def test_usage_errors_exit_2_with_the_usage_line(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert "Usage : capitalis" in result.output
    assert "Erreur" in result.output and "Error" not in result.output
    assert "Erreur interne" not in result.output


def _domain_app() -> typer.Typer:
    """A small app whose commands fail as domain functions do: an InvalidInput naming a domain field."""
    test_app = sub_app("test", "test")

    @test_app.command("search")
    def search_command(
        annee_min: Annotated[int | None, typer.Option("--annee-min")] = None,
        service: Annotated[list[str] | None, typer.Option("--service")] = None,
        field: Annotated[str, typer.Option("--field")] = "annee_min",
    ) -> None:
        """Search."""
        raise InvalidInput("l'année minimale est après l'année maximale", field=field)

    @test_app.command("show")
    def show_command(iri: Annotated[str, typer.Argument()]) -> None:
        """Show."""
        raise InvalidInput("valeur vide", field="iri")

    return test_app


@pytest.mark.parametrize(
    ("args", "label"),
    [
        (["search", "--field", "annee_min"], "--annee-min"),
        (["search", "--field", "services"], "--service"),  # a plural domain field, a repeatable option
        (["search", "--field", "rayon_km"], "--rayon-km"),  # not a parameter of the command
        (["show", "x"], "IRI"),
    ],
)
def test_invalid_input_names_the_option_of_the_command(args: list[str], label: str) -> None:
    result = runner.invoke(_domain_app(), args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Erreur : {label} : ")


def test_export_refuses_a_format_outside_its_choices(tmp_path: Path) -> None:
    args = ["--home", str(tmp_path), "export", str(tmp_path / "x"), "--format", "xml"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "Valeur invalide pour '--format'" in result.stderr
    assert "'xml' n'est pas un choix possible ('nq', 'ttl', 'jsonld')" in result.stderr


def test_a_reader_closing_the_pipe_early_ends_the_listing_silently(tmp_path: Path) -> None:
    """``capitalis list experiences --json | head -1``: more output than a pipe buffers, read one line."""
    imported = runner.invoke(app, ["--home", str(tmp_path), "ingest", "villes-internet", str(WORKBOOK), "--no-index"])
    assert imported.exit_code in (0, 1), imported.output
    command = [sys.executable, "-m", "capitalis.cli", "--home", str(tmp_path), "list", "experiences", "--json"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.wait(60)
    assert first.startswith(b'{"iri": ')
    assert errors == ""
    assert process.returncode == EXIT_BROKEN_PIPE
