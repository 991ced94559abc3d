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

from capitalis.commands import explore, fiches, graph, ingest, neo4j, parrainage, search, serve, territories
from capitalis.group import CommandGroup, sub_app
from capitalis.state import CliState, settings_from_options

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


for module in (territories, ingest, fiches, graph, search, parrainage, serve, explore, neo4j):
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
