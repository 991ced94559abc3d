"""Where the command line writes: data on stdout (JSON when asked), messages on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape

__all__ = ["emit_json", "emit_json_lines", "err", "escape", "out"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    """Print JSON to stdout, unformatted by rich so that scripts can read it."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def emit_json_lines(items: Iterable[Any]) -> None:
    """Print one compact JSON object per line (``jq -c`` style), for long listings piped to other tools."""
    for item in items:
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
