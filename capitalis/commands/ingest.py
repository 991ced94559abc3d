"""The import commands of ``capitalis``: ``ingest villes-internet|netpublic|oten|all`` and ``resolution review``.

One file's failure never stops the others: each gets its report (or its error), the exit code is the worst.
After an import the search index follows the graph (``--no-index`` to skip).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from capitalis.commands.search import refresh_index
from capitalis.console import emit_json, err, out
from capitalis.group import sub_app
from capitalis.state import cli_state
from ingest.load import import_file
from ingest.merge import review
from ingest.readers import sniff
from kg.errors import IngestError, InvalidInput

__all__ = ["register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Rapport JSON sur la sortie standard.")]
IndexOpt = Annotated[
    bool, typer.Option("--index/--no-index", help="Mettre à jour l'index de recherche après l'import.")
]

#: The workbook first: its carriers and actions are what the other sources are resolved against.
SOURCE_ORDER = {"villes-internet": 0, "oten": 1, "netpublic": 2}

ingest_app = sub_app("ingest", "Importe les exports des sources (Villes Internet, NetPublic, OTeN).")
resolution_app = sub_app("resolution", "Décisions de résolution d'entités.")


def _ingest(
    ctx: typer.Context,
    paths: list[tuple[Path, str | None]],
    options: dict[str, Any],
    json_output: bool,
    index: bool,
) -> None:
    """Import files one after the other, update the index, report; exit with the worst file's code."""
    reports: list[dict[str, Any]] = []
    code = 0
    with cli_state(ctx).open() as context:
        for path, source in paths:
            report, file_code = _import_one(context.store, path, source, options, json_output)
            reports.append(report)
            code = max(code, file_code)
        if index and any("source" in r for r in reports):
            refresh_index(context, quiet=json_output)
    if json_output:
        emit_json(reports[0] if len(reports) == 1 else reports)
    if code:
        raise typer.Exit(code)


def _import_one(
    store: Any, path: Path, source: str | None, options: dict[str, Any], json_output: bool
) -> tuple[dict[str, Any], int]:
    """One file's report (or its failure, in the same shape) and its exit code."""
    if not path.is_file():
        return _failure(path, "fichier introuvable", f"{path} : fichier introuvable"), 2
    try:
        report = import_file(store, path, source=source, options=options, progress=not json_output)
    except IngestError as exc:
        err.print(f"[bold red]Erreur :[/] {exc.message}", highlight=False)
        return {"file": str(path), "errors": [exc.fault.as_dict()]}, 2
    except InvalidInput as exc:
        return _failure(path, exc.message, exc.message), 2
    if not json_output:
        _print_report(report.as_dict())
    return report.as_dict(), report.exit_code


def _failure(path: Path, message: str, line: str) -> dict[str, Any]:
    """The report of a file that could not be imported at all; its red line goes to stderr."""
    err.print(f"[bold red]Erreur :[/] {line}", highlight=False)
    fault = {"file": str(path), "row_or_record": "", "field": "", "message": message}
    return {"file": str(path), "errors": [fault]}


def _print_report(report: dict[str, Any]) -> None:
    err.print(
        f"[bold]{report['source']}[/] {report['file']} : {report['read']} lus, {report['created']} créés, "
        f"{report['updated']} mis à jour, {report['unchanged']} inchangés, {report['withdrawn']} retirés, "
        f"{report['rejected']} rejetés, {report['repaired']} réparés.",
        highlight=False,
    )
    if report["errors"]:
        table = Table("ligne ou fiche", "champ", "problème", title=f"{len(report['errors'])} anomalie(s)")
        for e in report["errors"][:200]:
            table.add_row(e["row_or_record"], e["field"], e["message"])
        err.print(table)


@ingest_app.command("villes-internet")
def ingest_villes_internet(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Classeur ATLAAS (.xlsx ou .xls).")],
    labels: Annotated[Path | None, typer.Option(help="CSV du palmarès des labels (facultatif).")] = None,
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe le classeur ATLAAS de Villes Internet (7 feuilles), et le CSV des labels avec --labels."""
    paths: list[tuple[Path, str | None]] = [(file, "villes-internet")]
    if labels is not None:
        paths.append((labels, None))
    _ingest(ctx, paths, {"labels": labels} if labels else {}, json_output, index)


@ingest_app.command("netpublic")
def ingest_netpublic(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV des lieux de médiation numérique, ou ancien export Latin-1.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe l'annuaire NetPublic des lieux de médiation numérique (format national ou ancien export)."""
    _ingest(ctx, [(file, "netpublic")], {}, json_output, index)


@ingest_app.command("oten")
def ingest_oten(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Export XML des fiches OTeN.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe les fiches d'expérience de l'OTeN (XML)."""
    _ingest(ctx, [(file, "oten")], {}, json_output, index)


@ingest_app.command("all")
def ingest_all(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Dossier des exports ; chaque fichier est reconnu par son contenu.")
    ],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
) -> None:
    """Importe tous les fichiers d'un dossier, chacun reconnu par son contenu (pas par son nom)."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} n'est pas un dossier")
    paths: list[tuple[Path, str | None]] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        reader = sniff(path)
        if reader is None:
            err.print(f"[yellow]Ignoré :[/] {path.name} (format non reconnu)")
        else:
            paths.append((path, reader.source))
    paths.sort(key=lambda item: (SOURCE_ORDER.get(item[1] or "", 3), item[0].name))
    _ingest(ctx, paths, {}, json_output, index)


@resolution_app.command("review")
def resolution_review(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False
) -> None:
    """Liste les rapprochements douteux entre expériences de sources différentes (non fusionnées)."""
    with cli_state(ctx).open(read_only=True) as context:
        pairs = review(context.store)
    if json_output:
        emit_json(pairs)
        return
    table = Table("score", "fiche OTeN", "action Villes Internet", "raison")
    for pair in pairs:
        oten, vi = pair.get("oten", {}), pair.get("villes_internet", {})
        table.add_row(
            f"{pair['score']:.2f}",
            f"{oten.get('id', '')} {oten.get('titre', '')}",
            f"{vi.get('id', '')} {vi.get('titre', '')}",
            pair["raison"],
        )
    out.print(table)
    err.print(f"{len(pairs)} rapprochement(s) à revoir.")


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``resolution`` to the root app."""
    app.add_typer(ingest_app)
    app.add_typer(resolution_app)
