"""What the root command hands to every command: the settings, and the context a command opens on them.

The root callback builds :class:`Settings` once (environment, then the root options, which win) and keeps a
:class:`CliState` as Typer's ``ctx.obj``; a command gets it with :func:`cli_state` and opens its
:class:`~kg.context.Context` in the mode it needs (read-only for readers, so that they work beside
``capitalis serve`` and imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from kg.context import Context
from kg.errors import NotFound
from kg.settings import Settings

__all__ = ["CliState", "cli_state", "settings_from_options"]


@dataclass(frozen=True)
class CliState:
    """The settings of this run of ``capitalis``."""

    settings: Settings

    def open(self, *, read_only: bool = False) -> Context:
        """A context on the store of these settings (use it in a ``with``: it closes the store).

        A command that only reads passes ``read_only=True``: it then works while ``capitalis serve`` or an import
        holds the embedded store (it reads the writer's latest snapshot); only writers take the writer's lock.
        A reader of an embedded store that was never filled gets :class:`NotFound` saying how to fill it (and
        the home is not created).
        """
        empty = NotFound(
            f"l'entrepôt de {self.settings.home} est vide : lancez `make data` ou "
            f"`capitalis --home {self.settings.home} ingest all <dossier des exports>`"
        )
        embedded = read_only and not self.settings.store
        if embedded and not (self.settings.store_path / "public").is_dir():
            raise empty
        context = Context.open(self.settings, read_only=read_only)
        if embedded and not context.store.graphs():
            context.close()
            raise empty
        return context


def settings_from_options(**options: Any) -> Settings:
    """The environment's settings (``CAPITALIS_*``, ``.env``) with the options that were given over them."""
    return Settings(**{name: value for name, value in options.items() if value is not None})


def cli_state(ctx: typer.Context) -> CliState:
    """The state the root callback built; from the environment alone when a command runs without the root."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState(settings_from_options())
    return root.obj
