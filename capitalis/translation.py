"""Click's and Typer's own texts in French: help titles, the usage line, the built-in options, usage errors.

Typer 0.29 vendors Click, whose texts are written in English in the code (not through gettext), and takes the
titles of its rich help from module constants that it computes once with ``gettext`` in the default domain: a
message catalogue would reach only some of them, and only if installed before Typer is imported. So the texts
are set here: the rich help's constants once at start-up (:func:`install`), the usage line by the context's
formatter (:class:`FrenchContext`), the help and completion options' help by :func:`french_help`, and a usage
error's message as it passes through a :class:`~capitalis.group.CommandGroup` (:func:`french_message`).
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer import rich_utils

__all__ = ["USAGE", "FrenchContext", "french_help", "french_message", "install"]

USAGE = "Usage : "

#: The rich help's texts (constants of :mod:`typer.rich_utils`, read when a help or an error is printed).
RICH_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "DEFAULT_STRING": "[défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
    "RICH_HELP": "Aide : [blue]'{command_path} {help_option}'[/]",
}

#: The help of the options Typer adds itself.
OPTION_HELP = {
    "Show this message and exit.": "Afficher ce message et quitter.",
    "Install completion for the current shell.": "Installer la complétion de la commande dans le shell courant.",
    "Show completion for the current shell, to copy it or customize the installation.": (
        "Afficher le script de complétion du shell courant, pour le copier ou adapter son installation."
    ),
}

#: Usage errors, as Click and Typer's value checks word them (applied in this order, each where it matches).
MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^Invalid value for (.+?): ", r"Valeur invalide pour \1 : "),
        (r"^Invalid value: ", "Valeur invalide : "),
        (r"^Missing argument (.+?)\.", r"Argument manquant : \1."),
        (r"^Missing option (.+?)\.", r"Option manquante : \1."),
        (r"^Missing parameter:? (.+?)\.?$", r"Paramètre manquant : \1."),
        (r"^No such option: ", "Option inconnue : "),
        (r"\(Possible options: (.*)\)", r"(options possibles : \1)"),
        (r"^No such command (.+?)\.", r"Commande inconnue : \1."),
        (r"^Missing command\.", "Commande manquante."),
        (r" Did you mean (.+)\?$", r" Vouliez-vous dire \1 ?"),
        (r"^Got unexpected extra arguments? \((.*)\)$", r"Argument(s) en trop : \1"),
        (r"^Option (.+?) requires an argument\.", r"L'option \1 attend une valeur."),
        (r"^Option (.+?) requires (\d+) arguments\.", r"L'option \1 attend \2 valeurs."),
        (r"^Option (.+?) does not take a value\.", r"L'option \1 ne prend pas de valeur."),
        (r"^Argument (.+?) takes (\d+) values\.", r"L'argument \1 attend \2 valeurs."),
        (r"Value error, ", ""),
        (r"(\S+) is not one of (.+)\.$", r"\1 n'est pas un choix possible (\2)."),
        (r"Input should be a valid integer.*$", "un nombre entier est attendu."),
        (r"Input should be a valid number.*$", "un nombre est attendu."),
        (r"Input should be a valid boolean.*$", "oui ou non est attendu (true/false, 1/0)."),
        (r"Input should be greater than or equal to (\S+)$", r"le minimum est \1."),
        (r"Input should be less than or equal to (\S+)$", r"le maximum est \1."),
        (r"\bFile (.+?) does not exist\.", r"le fichier \1 n'existe pas."),
        (r"\bDirectory (.+?) does not exist\.", r"le dossier \1 n'existe pas."),
        (r"\bPath (.+?) does not exist\.", r"le chemin \1 n'existe pas."),
        (r"\b(?:File|Path) (.+?) is a directory\.", r"\1 est un dossier."),
        (r"\b(?:Directory|Path) (.+?) is a file\.", r"\1 est un fichier."),
    )
)


class FrenchHelpFormatter(typer.Context.formatter_class):  # type: ignore[misc,name-defined]
    """Click's help formatter with the usage line in French (``Usage : capitalis …``)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE if prefix is None else prefix)


class FrenchContext(typer.Context):
    """Typer's context, formatting the usage line in French."""

    formatter_class = FrenchHelpFormatter


def install() -> None:
    """Put the rich help's texts in French (once, at start-up; idempotent)."""
    for name, text in RICH_TEXTS.items():
        setattr(rich_utils, name, text)


def french_help(param: Any) -> None:
    """Put the help of an option Typer adds itself (``--help``, completion) in French."""
    help_text = getattr(param, "help", None)
    if help_text in OPTION_HELP:
        param.help = OPTION_HELP[help_text]


def french_message(exc: typer.TyperException) -> None:
    """Make a usage error print its message in French (once, however many groups it passes through)."""
    if getattr(exc, "_capitalis_french", False):
        return
    english = exc.format_message

    def in_french() -> str:
        return translate(english())

    exc.format_message = in_french  # type: ignore[method-assign]
    exc._capitalis_french = True  # type: ignore[attr-defined]


def translate(message: str) -> str:
    """An English message of Click or Typer in French (a message no pattern knows stays as it is)."""
    for pattern, replacement in MESSAGES:
        message = pattern.sub(replacement, message)
    return message
