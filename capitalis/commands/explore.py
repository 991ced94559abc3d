"""The ``capitalis explore`` command: starts the Streamlit explorer on the configured store.

:func:`register` adds it to the root Typer app (called from :mod:`capitalis.cli`). The explorer runs as
``streamlit run explorer/streamlit_app.py`` in a child process; ``CAPITALIS_HOME`` (from ``--home`` or the
environment) is passed through, so it reads the same store as the command line, read-only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from kg.errors import InvalidInput


def streamlit_command(host: str, port: int) -> list[str]:
    """The command line that serves the explorer (also used by the tests and the bench)."""
    import explorer

    app = Path(explorer.__file__).resolve().parent / "streamlit_app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
    ]


def explorer_env(home: Path | str) -> dict[str, str]:
    """The environment of the explorer process: this one, with the store's home made absolute."""
    env = dict(os.environ)
    env["CAPITALIS_HOME"] = str(Path(home).resolve())
    return env


def explore(
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute (127.0.0.1 : cette machine seulement).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port HTTP de l'explorateur.")] = 8501,
) -> None:
    """Lance l'explorateur web (Streamlit) : recherche, fiches, parrainage, tableau de bord, SPARQL."""
    from capitalis.cli import err
    from kg.settings import get_settings

    if not 1 <= port <= 65_535:
        raise InvalidInput(f"--port : {port} n'est pas un port valide (1 à 65535)")
    if not host.strip():
        raise InvalidInput("--host : adresse vide")
    settings = get_settings()
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
