"""The commands on the whole graph: ``sparql``, ``stats``, ``export`` and ``validate`` (public graphs only)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from capitalis.console import emit_json, err, out
from capitalis.state import cli_state
from fiches.queries import stats as compute_stats
from kg.sparql import run_public_query
from kg.validation import validate_store
from ontology.iri import PUBLIC_GRAPHS, graph

__all__ = ["EXPORT_FORMATS", "register"]

EXPORT_FORMATS = ("nq", "ttl", "jsonld")
#: The choices of ``--format``, as enums so that the help lists them and Click checks them.
SparqlFormat = StrEnum("SparqlFormat", [(name, name) for name in ("table", "json", "csv", "ttl", "nt", "jsonld")])  # type: ignore[misc]
ExportFormat = StrEnum("ExportFormat", [(name, name) for name in EXPORT_FORMATS])  # type: ignore[misc]


def sparql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Requête SPARQL 1.1 (SELECT, ASK, CONSTRUCT, DESCRIBE) ou @fichier.")],
    fmt: Annotated[
        SparqlFormat,
        typer.Option("--format", "-f", help="table, json, csv (SELECT/ASK) ; ttl, nt, jsonld (CONSTRUCT)."),
    ] = SparqlFormat.table,
) -> None:
    """Interroge le graphe en SPARQL (lecture seule, graphes publics par défaut)."""
    text = Path(query[1:]).read_text(encoding="utf-8") if query.startswith("@") else query
    state = cli_state(ctx)
    with state.open(read_only=True) as context:
        if fmt == "table":
            result = run_public_query(context.store, text, "json", settings=state.settings)
            _print_results_table(result.body)
        else:
            result = run_public_query(context.store, text, fmt.value, settings=state.settings)
            sys.stdout.buffer.write(result.body)
            if not result.body.endswith(b"\n"):
                sys.stdout.write("\n")


def _print_results_table(body: bytes) -> None:
    data = json.loads(body)
    if "boolean" in data:
        out.print("vrai" if data["boolean"] else "faux")
        return
    variables = data["head"]["vars"]
    table = Table(*variables, show_lines=False)
    for binding in data["results"]["bindings"]:
        table.add_row(*(binding.get(v, {}).get("value", "") for v in variables))
    out.print(table)
    err.print(f"{len(data['results']['bindings'])} ligne(s).")


def stats(
    ctx: typer.Context, json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False
) -> None:
    """Triplets par graphe nommé et instances par classe (graphes publics)."""
    with cli_state(ctx).open(read_only=True) as context:
        data = compute_stats(context.store)
    if json_output:
        emit_json(data)
        return
    table = Table("graphe", "triplets")
    for name, n in data["graphs"].items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    table = Table("classe", "instances")
    for cls, n in data["classes"].items():
        table.add_row(cls, f"{n:,}")
    out.print(table)


def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="Fichier de sortie (.gz pour compresser).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Format du fichier.")] = ExportFormat.nq,
) -> None:
    """Exporte les graphes publics (jamais le graphe des données personnelles)."""
    with cli_state(ctx).open(read_only=True) as context:
        present = set(context.store.graphs())
        graphs = [str(graph(g)) for g in PUBLIC_GRAPHS if str(graph(g)) in present]
        context.store.dump(output, fmt.value, graphs)
    err.print(f"Exporté : {output} ({', '.join(g.rsplit('/', 1)[-1] for g in graphs)}).")


def validate(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Rapport JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Nombre de violations détaillées affichées.")] = 50,
) -> None:
    """Valide tout l'entrepôt contre les formes SHACL (code de sortie 1 en cas de violation)."""
    with cli_state(ctx).open(read_only=True) as context, err.status("Validation SHACL…"):
        report = validate_store(context.store)
    if json_output:
        emit_json(report.as_dict())
    elif report.conforms:
        err.print(f"[green]Conforme[/] : {report.triples:,} triplets validés.")
    else:
        err.print(f"[red]{len(report.violations)} violation(s)[/] sur {report.triples:,} triplets :")
        for message, n in report.summary().items():
            err.print(f"  {n:>5} × {message}")
        table = Table("nœud", "chemin", "valeur", "message")
        for v in report.violations[:limit]:
            table.add_row(v.focus, v.path.rsplit("#", 1)[-1], v.value, v.message)
        out.print(table)
    if not report.conforms:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``sparql``, ``stats``, ``export`` and ``validate`` to the root app."""
    app.command("sparql")(sparql)
    app.command("stats")(stats)
    app.command("export")(export)
    app.command("validate")(validate)
