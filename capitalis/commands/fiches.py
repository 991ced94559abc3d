"""The read-model commands of ``capitalis``: ``list`` (entities of a type) and ``show`` (one entity, with sources)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from capitalis.console import emit_json, emit_json_lines, err, out
from capitalis.state import cli_state
from fiches.queries import list_entities, show

__all__ = ["register"]


def list_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="experiences, collectivites, lieux, technologies ou acteurs.")],
    json_output: Annotated[bool, typer.Option("--json", help="Un objet JSON par ligne.")] = False,
) -> None:
    """Liste les entités d'un type (données publiques et leurs sources)."""
    with cli_state(ctx).open(read_only=True) as context:
        items = list_entities(context.store, kind)
    if json_output:
        emit_json_lines(items)
        return
    table = Table("IRI", "nom", "sources")
    for item in items:
        name = item.get("titre") or item.get("nom") or ""
        table.add_row(item["iri"], name, ", ".join(f"{s['source']}:{s['id']}" for s in item.get("sources", [])))
    out.print(table)
    err.print(f"{len(items)} {kind}.")


def show_command(
    ctx: typer.Context,
    iri: Annotated[str, typer.Argument(help="IRI de l'entité (https://w3id.org/capitalis/id/...).")],
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Affiche une entité : ses propriétés publiques, le graphe d'où vient chacune, et ses sources."""
    with cli_state(ctx).open(read_only=True) as context:
        entity = show(context.store, iri)
    if json_output:
        emit_json(entity)
        return
    out.print(f"[bold]{entity['iri']}[/] ({', '.join(entity['types'])})")
    table = Table("propriété", "valeur", "graphe")
    for prop, values in entity["properties"].items():
        for v in values:
            table.add_row(prop, v["value"], v["graph"])
    out.print(table)
    for s in entity["sources"]:
        out.print(f"source : {s['source']} {s['id']} ({s['statut']})")


def register(app: typer.Typer) -> None:
    """Add ``list`` and ``show`` to the root app."""
    app.command("list")(list_command)
    app.command("show")(show_command)
