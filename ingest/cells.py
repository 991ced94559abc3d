"""The rules every reader applies to the values it reads, whatever the format: length and formula prefixes.

One place, so that the three sources answer a hostile or careless export alike (see
``docs/decisions/2026-12-07-hostile-files.md``):

- **Long texts** (:data:`LONG_TEXT`, kind ``long_text``): a free text longer than this is reported and kept whole.
  It is a hint for the editors (a description pasted twice, a whole web page), not a fault: nothing is cut.
- **Oversized values** (:data:`MAX_VALUE`, kind ``oversized_value``): a value longer than a spreadsheet cell can
  hold did not come from anyone's hand (a binary pasted into a cell, a runaway quote that swallowed the rest of
  the file, an attack). The record that holds it is rejected, named by its row or rank (not by the value) and
  field; the other records are read as usual.
- **Formula prefixes** (kind ``formula_prefix``): a value starting with ``=``, ``+``, ``-``, ``@`` (or a tab or
  a carriage return, OWASP's list) turns into a formula when a CSV export is opened in a spreadsheet. It is
  reported and kept as it is in the graph (exports neutralise it when they write CSV). Every field is checked,
  except values made only of a sign, digits, spaces and ``.,()/-`` (a negative number, a phone number
  "+33 1 99 00 12 34"): such a value cannot name a function, a cell or a command, so it cannot inject anything;
  checking every field rather than a list of "text fields" means a column added by a later export is covered.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

from ingest.sources import Report

#: A free text longer than this is reported (kept whole): kind ``long_text``.
LONG_TEXT = 2_000
#: A value longer than this rejects its record: kind ``oversized_value``. It is the most a spreadsheet cell holds
#: (Excel's limit), so no value typed or pasted by a person in an export is ever refused.
MAX_VALUE = 32_767
#: How much of an identifier a place shows (an oversized id must not make the report itself oversized).
PLACE_ID = 60

# The csv module refuses a field beyond 131,072 characters with an error that would end the import and lose
# every other row; the readers read a field of any length and apply MAX_VALUE themselves, naming row and field.
csv.field_size_limit(2**31 - 1)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PREFIX_NAMES = {"\t": "tabulation", "\r": "retour chariot"}
# A sign, digits and the punctuation of numbers and phone numbers: no letter, so no function, cell or command.
_NUMBER_OR_PHONE = re.compile(r"[+-]?\s*\(?\d[\d\s.,()/-]*")


def place_ident(ident: str) -> str:
    """An identifier as a place shows it: cut (with "…") beyond :data:`PLACE_ID` characters."""
    return ident if len(ident) <= PLACE_ID else ident[: PLACE_ID - 1] + "…"


def formula_prefix(value: str) -> str | None:
    """The character that would make a spreadsheet read ``value`` as a formula, or None."""
    if not value or value[0] not in FORMULA_PREFIXES:
        return None
    if value[0] in "+-" and _NUMBER_OR_PHONE.fullmatch(value):
        return None
    return value[0]


def oversized(values: Iterable[tuple[str, Any]]) -> tuple[str, int] | None:
    """The first (field, length) of a value longer than :data:`MAX_VALUE`, if any."""
    for field, value in values:
        if isinstance(value, str) and len(value) > MAX_VALUE:
            return field, len(value)
    return None


def check_values(
    report: Report, place: str, values: Iterable[tuple[str, Any]], fate: str = "enregistrement rejeté"
) -> bool:
    """Apply the rules to the values of one record (``(field, value)`` pairs; values that are not text are
    skipped). Returns False when the record is rejected (an oversized value, reported); formula prefixes are
    reported and the record kept."""
    values = list(values)
    too_long = oversized(values)
    if too_long is not None:
        field, length = too_long
        report.problem(
            place,
            field,
            f"valeur de {length} caractères (au-delà de {MAX_VALUE}, le plus qu'une cellule de tableur contienne) : "
            + fate,
            "oversized_value",
            "rejected",
        )
        return False
    for field, value in values:
        if isinstance(value, str):
            check_formula(report, place, field, value)
    return True


def check_formula(report: Report, place: str, field: str, value: str) -> None:
    """Report a value that a spreadsheet would read as a formula (kept as it is)."""
    prefix = formula_prefix(value)
    if prefix is not None:
        shown = _PREFIX_NAMES.get(prefix, prefix)
        report.problem(
            place,
            field,
            f"valeur commençant par « {shown} » : risque d'injection de formule dans un tableur (gardée telle quelle)",
            "formula_prefix",
        )


def check_length(report: Report, place: str, field: str, text: str) -> None:
    """Report a free text longer than :data:`LONG_TEXT` (kept whole, nothing cut)."""
    if len(text) > LONG_TEXT:
        report.problem(
            place,
            field,
            f"texte de {len(text)} caractères (au-delà de {LONG_TEXT}) : gardé en entier, sans coupe",
            "long_text",
        )


def extra_cells(report: Report, place: str, values: list[str], width: int) -> None:
    """Report the non-empty cells of a row beyond its header's ``width`` columns (kept as annotations)."""
    if values:
        report.problem(
            place,
            f"colonne_{width + 1}",
            f"{len(values)} valeur(s) au-delà des {width} colonnes de l'en-tête : gardée(s) en annotation",
            "extra_cells",
        )
