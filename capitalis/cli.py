"""The ``capitalis`` command line: the composition root, made of small Typer apps.

The root callback builds the settings once (environment, then ``--home``) and hands them to every command
(:mod:`capitalis.state`); each capability's commands live in their own module of :mod:`capitalis.commands` and
are added here. Data goes to stdout (JSON when asked), messages to stderr; errors become one red line and an
exit code (:mod:`capitalis.group`). Click's own texts are in French (:mod:`capitalis.translation`); the root
has ``--version`` and the shell completion options.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from capitalis.commands import explore, fiches, graph, ingest, neo4j, parrainage, search, serve, territories
from capitalis.group import CommandGroup, exit_codes_text, sub_app
from capitalis.state import CliState, settings_from_options
from capitalis.translation import install

__all__ = ["app", "main"]

install()

app = sub_app(
    "capitalis",
    "Capitalis : l'observatoire des projets numériques des collectivités.",
    add_completion=True,
    epilog=exit_codes_text(),
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"capitalis {version('capitalis')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Dossier de l'entrepôt (défaut : $CAPITALIS_HOME ou ./var).", envvar=None),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option("--version", help="Afficher la version et quitter.", callback=_print_version, is_eager=True),
    ] = False,
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
