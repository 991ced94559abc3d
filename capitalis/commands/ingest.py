"""The import commands of ``capitalis``: ``ingest villes-internet|netpublic|oten|all`` and ``resolution review``.

One file's failure never stops the others: each gets its report (or its error), the exit code is the worst.
Each file gets a summary (counts, anomalies by kind); the anomalies themselves go to a report file under the
home (``rapports/import-<date>.json`` and ``.csv``), whose path is printed. After an import the search index
follows the graph (``--no-index`` to skip).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
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
from ingest.oten import thematic_list
from ingest.readers import sniff
from kg.errors import IngestError, InvalidInput

__all__ = ["register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Rapport JSON sur la sortie standard.")]
IndexOpt = Annotated[
    bool, typer.Option("--index/--no-index", help="Mettre à jour l'index de recherche après l'import.")
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Relire le fichier même s'il est identique à celui du dernier import de la source "
        "(sinon cet import est confirmé sans rien relire).",
    ),
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
    force: bool = False,
) -> None:
    """Import files one after the other, update the index, report; exit with the worst file's code."""
    reports: list[dict[str, Any]] = []
    code = 0
    state = cli_state(ctx)
    with state.open() as context:
        for path, source in paths:
            report, file_code = _import_one(context.store, path, source, options, json_output, force)
            if not json_output and "source" in report:
                _print_summary(report, reports)
            reports.append(report)
            code = max(code, file_code)
        if any(r["errors"] for r in reports):
            written = write_report(state.settings.home / "rapports", reports)
            err.print(f"Anomalies en détail : {written} (et {written.with_suffix('.csv').name})", highlight=False)
        if index and any("source" in r for r in reports):
            read = any("source" in r and "confirms" not in r for r in reports)
            refresh_index(context, anything_read=read, quiet=json_output)
    if json_output:
        emit_json(reports[0] if len(reports) == 1 else reports)
    if code:
        raise typer.Exit(code)


def _import_one(
    store: Any, path: Path, source: str | None, options: dict[str, Any], json_output: bool, force: bool
) -> tuple[dict[str, Any], int]:
    """One file's report (or its failure, in the same shape) and its exit code."""
    if not path.is_file():
        return _failure(path, "fichier introuvable", f"{path} : fichier introuvable"), 2
    try:
        report = import_file(store, path, source=source, options=options, progress=not json_output, force=force)
    except IngestError as exc:
        err.print(f"[bold red]Erreur :[/] {exc.message}", highlight=False)
        return {"file": str(path), "errors": [exc.fault.as_dict()]}, 2
    except InvalidInput as exc:
        return _failure(path, exc.message, exc.message), 2
    return report.as_dict(), report.exit_code


def _failure(path: Path, message: str, line: str) -> dict[str, Any]:
    """The report of a file that could not be imported at all; its red line goes to stderr."""
    err.print(f"[bold red]Erreur :[/] {line}", highlight=False)
    fault = {"file": str(path), "row_or_record": "", "field": "", "message": message}
    return {"file": str(path), "errors": [fault]}


def _print_summary(report: dict[str, Any], earlier: list[dict[str, Any]]) -> None:
    """Two lines per file: its counts, then its anomalies by kind (or that they are those of an earlier file)."""
    err.print(
        f"[bold]{report['source']}[/] {Path(report['file']).name} : {report['read']} lus, {report['created']} créés, "
        f"{report['updated']} mis à jour, {report['unchanged']} inchangés, {report['withdrawn']} retirés, "
        f"{report['rejected']} rejetés, {report['repaired']} réparés.",
        highlight=False,
    )
    if "confirms" in report:
        err.print(
            "  Fichier identique à celui du dernier import : celui-ci est confirmé, rien n'a été relu "
            "(--force pour relire).",
            highlight=False,
        )
    errors = report["errors"]
    if not errors:
        return
    same = next((r for r in earlier if r.get("source") == report["source"] and _same_faults(r, report)), None)
    if same is not None:
        err.print(f"  {len(errors)} anomalie(s), les mêmes que {Path(same['file']).name}.", highlight=False)
        return
    kinds = Counter(e.get("kind") or "autre" for e in errors)
    detail = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    err.print(f"  {len(errors)} anomalie(s) : {detail}.", highlight=False)


def _same_faults(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two reports list the same anomalies (the same workbook in two formats), whatever the file."""

    def faults(report: dict[str, Any]) -> list[tuple[str, ...]]:
        return sorted((e["row_or_record"], e["field"], e.get("kind", ""), e["message"]) for e in report["errors"])

    return faults(one) == faults(other)


#: The columns of the CSV report: one row per anomaly.
REPORT_COLUMNS = ("source", "file", "row_or_record", "field", "kind", "outcome", "message")


def write_report(directory: Path, reports: list[dict[str, Any]]) -> Path:
    """Write an import's reports, anomalies included, as ``import-<date>.json`` and ``.csv``; return the JSON's
    path. The JSON has every file's report; the CSV one row per anomaly (for a spreadsheet)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"import-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.json"
    path.write_text(json.dumps(reports, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    with path.with_suffix(".csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, REPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for report in reports:
            for error in report["errors"]:
                writer.writerow({"source": report.get("source", ""), **error})
    return path


@ingest_app.command("villes-internet")
def ingest_villes_internet(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Classeur ATLAAS (.xlsx ou .xls).")],
    labels: Annotated[Path | None, typer.Option(help="CSV du palmarès des labels (facultatif).")] = None,
    json_output: JsonOpt = False,
    index: IndexOpt = True,
    force: ForceOpt = False,
) -> None:
    """Importe le classeur ATLAAS de Villes Internet (7 feuilles), et le CSV des labels avec --labels."""
    paths: list[tuple[Path, str | None]] = [(file, "villes-internet")]
    if labels is not None:
        paths.append((labels, None))
    _ingest(ctx, paths, {"labels": labels} if labels else {}, json_output, index, force)


@ingest_app.command("netpublic")
def ingest_netpublic(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV des lieux de médiation numérique, ou ancien export Latin-1.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
    force: ForceOpt = False,
) -> None:
    """Importe l'annuaire NetPublic des lieux de médiation numérique (format national ou ancien export)."""
    _ingest(ctx, [(file, "netpublic")], {}, json_output, index, force)


@ingest_app.command("oten")
def ingest_oten(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Export XML des fiches OTeN.")],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
    force: ForceOpt = False,
) -> None:
    """Importe les fiches d'expérience de l'OTeN (XML)."""
    _ingest(ctx, [(file, "oten")], {}, json_output, index, force)


@ingest_app.command("all")
def ingest_all(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Dossier des exports ; chaque fichier est reconnu par son contenu.")
    ],
    json_output: JsonOpt = False,
    index: IndexOpt = True,
    force: ForceOpt = False,
) -> None:
    """Importe tous les fichiers d'un dossier, chacun reconnu par son contenu (pas par son nom)."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} n'est pas un dossier")
    paths: list[tuple[Path, str | None]] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        reader = sniff(path)
        if reader is not None:
            paths.append((path, reader.source))
        elif (themes := thematic_list(path)) is not None:
            _print_thematic_list(path, themes, quiet=json_output)
        else:
            err.print(f"[yellow]Ignoré :[/] {path.name} (format non reconnu)")
    paths.sort(key=lambda item: (SOURCE_ORDER.get(item[1] or "", 3), item[0].name))
    _ingest(ctx, paths, {}, json_output, index, force)


def _print_thematic_list(path: Path, themes: dict[str, list[str]], *, quiet: bool) -> None:
    """OTeN's thematic list is not imported: its themes are in the taxonomy; say so, or which codes it lacks."""
    if themes["absent"]:
        err.print(
            f"[yellow]Liste des thématiques OTeN :[/] {path.name} : codes absents de la taxonomie "
            f"{', '.join(themes['absent'])} (régénérez ontology/taxonomy.ttl avec tools/gen_taxonomy.py).",
            highlight=False,
        )
    elif not quiet:
        err.print(
            f"oten {path.name} : liste des {len(themes['codes'])} thématiques OTeN, déjà dans la taxonomie.",
            highlight=False,
        )


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
