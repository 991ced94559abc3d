"""The command line's error translator: every Typer app of ``capitalis`` is a :class:`CommandGroup`.

A :class:`CapitalisError` becomes one red line on stderr and its exit code; an :class:`InvalidInput` names the
option of the command that carries its domain field (``annee_min`` → ``--annee-min``). Usage errors (unknown
command or option, a value of the wrong type) keep Click's usage line, in French (:mod:`capitalis.translation`),
and exit 2. A reader that closes the pipe early (``capitalis list experiences --json | head -1``) ends the command
silently. Any other exception is a bug: one line, the traceback with ``CAPITALIS_DEBUG=1``. The exit codes are
listed in :data:`EXIT_CODES`, printed at the end of ``capitalis --help`` and in docs/cli.md.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from capitalis.console import err
from capitalis.translation import FrenchContext, french_help, french_message
from kg.errors import CapitalisError, InvalidInput

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "CommandGroup",
    "exit_codes_text",
    "option_label",
    "sub_app",
]

#: Exit code of a bug (EX_SOFTWARE of sysexits.h).
EXIT_INTERNAL = 70
#: Exit code when the reader of stdout went away: what a shell reports for a process killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141
#: Exit code of an interrupted command (Ctrl-C): 128 + SIGINT.
EXIT_INTERRUPTED = 130

#: What each exit code of ``capitalis`` means (the ``exit_code`` of :mod:`kg.errors`, and the ones above).
EXIT_CODES = {
    0: "succès",
    1: "résultat partiel ou absent : import avec anomalies, entité introuvable, entrepôt vide, violations SHACL",
    2: "usage ou entrée invalide : option inconnue, valeur refusée, fichier illisible, entrepôt inaccessible",
    EXIT_INTERNAL: "erreur interne (un bogue : relancez avec CAPITALIS_DEBUG=1 pour la trace)",
    EXIT_INTERRUPTED: "interrompu (Ctrl-C)",
    EXIT_BROKEN_PIPE: "sortie fermée par le lecteur (`capitalis … | head`)",
}


class CommandGroup(TyperGroup):
    """A Typer group that turns Capitalis errors into a red line and an exit code, and speaks French."""

    context_class = FrenchContext

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        """A sub-command, with its usage line and its help option in French (Typer builds it in English)."""
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, CommandGroup):
            command.context_class = FrenchContext
            french_help(command.get_help_option(ctx))
        return command

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            french_help(param)
        return params

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:  # the group's own options: Typer prints the usage line and exits 2
            french_message(exc)
            raise

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            result = super().invoke(ctx)
            _flush_stdout()
            return result
        except CapitalisError as exc:
            err.print(f"[bold red]Erreur :[/] {_message(self, ctx, exc)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            err.print("[red]Interrompu.[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except typer.Exit:
            _flush_stdout()
            raise
        except typer.Abort:
            raise
        except typer.TyperException as exc:  # usage errors: Typer prints the usage line and exits 2
            french_message(exc)
            raise
        except Exception as exc:  # a bug: say so in one line, keep the traceback for developers
            if os.environ.get("CAPITALIS_DEBUG"):
                raise
            err.print(
                f"[bold red]Erreur interne :[/] {type(exc).__name__}: {exc} "
                "(relancez avec CAPITALIS_DEBUG=1 pour le détail)",
                highlight=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None


def sub_app(name: str, help_text: str, *, add_completion: bool = False, epilog: str | None = None) -> typer.Typer:
    """A Typer app of the ``capitalis`` family: French help, errors translated; the completion installer is the
    root's only (``add_completion``)."""
    return typer.Typer(
        name=name,
        help=help_text,
        epilog=epilog,
        cls=CommandGroup,
        no_args_is_help=True,
        add_completion=add_completion,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )


def exit_codes_text() -> str:
    """The exit codes, one paragraph each: the epilog of ``capitalis --help``."""
    return "\n\n".join(["Codes de sortie :", *(f"{code} : {meaning}." for code, meaning in EXIT_CODES.items())])


def option_label(command: Any, field: str) -> str:
    """How ``command`` spells the domain ``field``: its option (``--annee-min``) or its argument (``IRI``).

    A domain field in the plural (``services``) matches a repeatable option in the singular (``--service``).
    A field the command has no parameter for is spelled as an option would be.
    """
    names = {field, field.removesuffix("s"), f"{field}s"}
    for param in getattr(command, "params", ()):
        if param.name not in names:
            continue
        if isinstance(param, typer.core.TyperOption):
            long = [o for o in param.opts if o.startswith("--")]
            return (long or param.opts)[0]
        return (param.metavar or param.name or field).upper()
    return "--" + field.replace("_", "-")


def _message(group: CommandGroup, ctx: typer.Context, exc: CapitalisError) -> str:
    """The red line's text: an invalid input names the option of the command that ran."""
    if not isinstance(exc, InvalidInput) or not exc.field:
        return exc.message
    # groups nest: the innermost one catches first, so the subcommand it invoked is the command that ran
    command = group.get_command(ctx, ctx.invoked_subcommand) if ctx.invoked_subcommand else group
    return f"{option_label(command, exc.field)} : {exc.message}"


def _flush_stdout() -> None:
    """Flush stdout now, so that a closed pipe shows up here and not as a warning when Python exits."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for the closed pipe is dropped without a warning."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
