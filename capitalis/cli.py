"""The ``capitalis`` command line: the composition root, made of small Typer apps.

The root callback builds the settings once (environment, then ``--home``) and hands them to every command
(:mod:`capitalis.state`); each capability's commands live in their own module of :mod:`capitalis.commands` and
are added here. Data goes to stdout (JSON when asked), messages to stderr; errors become one red line and an
exit code (:mod:`capitalis.group`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from capitalis.commands import explore, graph, ingest, parrainage, search, serve, territories
from capitalis.console import emit_json, emit_json_lines, err, out
from capitalis.group import CommandGroup, sub_app
from capitalis.state import CliState, cli_state, settings_from_options
from fiches.queries import list_entities, show

__all__ = ["app", "main"]

app = sub_app("capitalis", "Capitalis : l'observatoire des projets numériques des collectivités.")


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Dossier de l'entrepôt (défaut : $CAPITALIS_HOME ou ./var).", envvar=None),
    ] = None,
) -> None:
    """Capitalis : graphe de connaissances des expériences numériques des collectivités."""
    ctx.obj = CliState(settings_from_options(home=home))


# --- list / show -----------------------------------------------------------------------------------------


@app.command("list")
def list_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="experiences, collectivites, lieux, technologies ou acteurs.")],
    json_output: Annotated[bool, typer.Option("--json", help="Un objet JSON par ligne.")] = False,
) -> None:
    """Liste les entités d'un type (données publiques et leurs sources)."""
    with cli_state(ctx).open() as context:
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


@app.command("show")
def show_command(
    ctx: typer.Context,
    iri: Annotated[str, typer.Argument(help="IRI de l'entité (https://w3id.org/capitalis/id/...).")],
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Affiche une entité : ses propriétés publiques, le graphe d'où vient chacune, et ses sources."""
    with cli_state(ctx).open() as context:
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


for module in (territories, ingest, graph, search, parrainage, serve, explore):
    module.register(app)

#: Transitional aliases for a test that still imports the old private names (tests/parrainage/test_matching.py);
#: use :func:`capitalis.group.sub_app` and :class:`capitalis.group.CommandGroup`.
_app = sub_app
_Group = CommandGroup


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
