"""The ``capitalis territories`` commands: the territorial referential (INSEE's Code officiel géographique)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capitalis.console import emit_json, err
from capitalis.group import sub_app
from capitalis.state import cli_state
from ingest.load import load_territories

__all__ = ["register"]

territories_app = sub_app("territories", "Référentiel territorial (Code officiel géographique de l'INSEE).")


@territories_app.command("load")
def territories_load(
    ctx: typer.Context,
    reference: Annotated[
        Path | None, typer.Option(help="Dossier du référentiel (défaut : data/reference du projet).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Résumé en JSON.")] = False,
) -> None:
    """Charge le référentiel territorial (communes, EPCI, départements, régions) dans le graphe."""
    with cli_state(ctx).open() as context:
        summary = load_territories(context.store, reference, progress=not json_output)
    if json_output:
        emit_json(summary)
        return
    state = "mis à jour" if summary["changed"] else "inchangé"
    err.print(
        f"Référentiel {state} : {summary['triples']:,} triplets, {summary['communes']:,} communes, "
        f"{summary['epci']:,} EPCI, {summary['departements']} départements, {summary['regions']} régions."
    )


def register(app: typer.Typer) -> None:
    """Add ``territories`` to the root app."""
    app.add_typer(territories_app)
