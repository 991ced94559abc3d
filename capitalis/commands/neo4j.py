"""The ``capitalis neo4j`` commands: the public graphs projected as a Neo4j property graph (``projection.neo4j``).

Both read the store (read-only: they work beside ``capitalis serve`` and imports); ``sync`` writes to a Neo4j
server over Bolt, ``export`` writes CSV files for ``neo4j-admin database import full``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from capitalis.console import emit_json, err
from capitalis.group import sub_app
from capitalis.state import cli_state
from kg.errors import InvalidInput
from projection.neo4j import ARRAY_DELIMITER, connect, export, sync

__all__ = ["register"]

neo4j_app = sub_app("neo4j", "Projection du graphe dans Neo4j (graphe de propriétés).")


@neo4j_app.command("sync")
def neo4j_sync(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option("--url", help="Adresse Bolt (défaut : $CAPITALIS_NEO4J_URL).")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Utilisateur (défaut : $CAPITALIS_NEO4J_USER).")] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Mot de passe (défaut : $CAPITALIS_NEO4J_PASSWORD).")
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Base de données (défaut : $CAPITALIS_NEO4J_DATABASE).")
    ] = None,
) -> None:
    """Synchronise Neo4j avec les graphes publics (seuls les nœuds changés sont écrits) ; rapport JSON."""
    state = cli_state(ctx)
    settings = state.settings
    url = url or settings.neo4j_url
    if not url:
        raise InvalidInput("adresse du serveur Neo4j absente : --url ou CAPITALIS_NEO4J_URL", field="url")
    password = password if password is not None else settings.neo4j_password
    database = database or settings.neo4j_database
    started = time.perf_counter()
    driver = connect(url, user or settings.neo4j_user, password or "")
    try:
        with state.open(read_only=True) as context, err.status("Synchronisation Neo4j…"):
            report = sync(context.store, driver, database)
    finally:
        driver.close()
    emit_json({**report.as_dict(), "seconds": round(time.perf_counter() - started, 2), "url": url})


@neo4j_app.command("export")
def neo4j_export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Dossier où écrire nodes.csv et relationships.csv.")],
) -> None:
    """Exporte la projection en CSV pour `neo4j-admin database import full` ; rapport JSON."""
    with cli_state(ctx).open(read_only=True) as context:
        counts = export(context.store, directory)
    emit_json({**counts, "directory": str(directory)})
    err.print(
        f"Import : neo4j-admin database import full --nodes={directory / 'nodes.csv'} "
        f"--relationships={directory / 'relationships.csv'} --array-delimiter={ARRAY_DELIMITER!r}"
    )


def register(app: typer.Typer) -> None:
    """Add ``neo4j`` to the root app."""
    app.add_typer(neo4j_app)
