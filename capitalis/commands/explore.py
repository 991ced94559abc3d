"""The ``capitalis explore`` command: starts the Streamlit explorer on the configured store.

:func:`register` adds it to the root Typer app (:mod:`capitalis.cli`). The explorer runs as
``streamlit run explorer/streamlit_app.py`` in a child process (:mod:`explorer.server`); ``CAPITALIS_HOME``
(from ``--home`` or the environment) is passed through, so it reads the same store as the command line,
read-only. Stopping the command stops the server: Ctrl+C, SIGTERM or SIGHUP are passed on to it, and the
kernel ends it if the command is killed outright (``kill -9``).
"""

from __future__ import annotations

import signal
import subprocess
from typing import Annotated, Any

import typer

from capitalis.console import err
from capitalis.state import cli_state
from explorer.server import start
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
    server = start(host, port, settings.home)

    def stop(signum: int, frame: Any) -> None:
        server.terminate()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        code = server.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to the server too: let it finish
        code = _wait(server)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if code and code not in (-signal.SIGTERM, -signal.SIGINT):
        raise typer.Exit(code)


def _wait(server: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """Wait for the server to stop; end it when it takes longer than ``timeout`` seconds."""
    try:
        return server.wait(timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


def register(app: typer.Typer) -> None:
    """Add ``explore`` to the root command."""
    app.command("explore")(explore)
