"""The ``capitalis explore`` command: starts the Streamlit explorer on the configured store.

:func:`register` adds it to the root Typer app (:mod:`capitalis.cli`). The explorer runs as
``streamlit run explorer/streamlit_app.py`` in a child process (:mod:`explorer.server`); ``CAPITALIS_HOME``
(from ``--home`` or the environment) is passed through, so it reads the same store as the command line,
read-only.
"""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from capitalis.console import err
from capitalis.state import cli_state
from explorer.server import explorer_env, streamlit_command
from kg.errors import InvalidInput

__all__ = ["explore", "register"]


def explore(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute (127.0.0.1 : cette machine seulement).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port HTTP de l'explorateur.")] = 8501,
) -> None:
    """Lance l'explorateur web (Streamlit) : recherche, fiches, parrainage, tableau de bord, SPARQL."""
    if not 1 <= port <= 65_535:
        raise InvalidInput(f"{port} n'est pas un port valide (1 à 65535)", field="port")
    if not host.strip():
        raise InvalidInput("adresse vide", field="host")
    settings = cli_state(ctx).settings
    if not (settings.store_path / "public").is_dir():
        err.print(
            f"[yellow]Attention :[/] aucun entrepôt dans {settings.store_path} ; chargez les données "
            "(`capitalis territories load`, `capitalis ingest all data/samples`) ou passez --home.",
            highlight=False,
        )
    err.print(f"Explorateur : http://{host}:{port}/ (Ctrl+C pour arrêter)", highlight=False)
    try:
        code = subprocess.call(streamlit_command(host, port), env=explorer_env(settings.home))
    except KeyboardInterrupt:
        code = 0
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``explore`` to the root command."""
    app.command("explore")(explore)
