"""CSV that a spreadsheet opens without running anything: cells that could start a formula are neutralised.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Google Sheets (CSV injection: ``=HYPERLINK(…)``, ``=cmd|…``). OWASP's rule: prefix such a cell
with a single quote, which the spreadsheet shows as text. Every CSV we write goes through :func:`neutralise`
(the API's downloads, the explorer's), so the rule lives once, here, in the base layer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_text", "neutralise"]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A signed number (``-12``, ``+3.5``, ``-1,5``, ``2e10``): a spreadsheet reads it as a number, never a formula.
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """A CSV cell safe to open in a spreadsheet: text that could start a formula gets a leading ``'``.

    Numbers, ``None`` and text that is a signed number (``-12``, ``+3.5``) pass through: not formulas.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV document (RFC 4180, ``\\r\\n`` line ends), every cell through :func:`neutralise`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise("" if v is None else v) for v in row])
    return out.getvalue()
