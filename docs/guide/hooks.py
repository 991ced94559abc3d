"""MkDocs hook of the user guide: screenshots are shown only when they exist.

A page names a screenshot with an HTML comment, ``<!-- capture: explorer-recherche.png | La page Recherche -->``.
When ``docs/guide/images/explorer-recherche.png`` exists (the browser test, ``tests/explorer/test_browser.py``,
takes these pictures), the comment becomes an image with its caption; otherwise it stays a comment, so the strict
build never depends on pictures that have not been taken yet.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

CAPTURE = re.compile(r"<!--\s*capture:\s*(?P<nom>[\w.-]+\.png)\s*\|\s*(?P<legende>[^>]*?)\s*-->")


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    images = Path(config["docs_dir"]) / "images"
    folder = posixpath.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        name, caption = match["nom"], match["legende"]
        if not (images / name).is_file():
            return match[0]
        target = posixpath.relpath(f"images/{name}", folder or ".")
        return f"<figure markdown>\n![{caption}]({target})\n<figcaption>{caption}</figcaption>\n</figure>"

    return CAPTURE.sub(replace, markdown)
