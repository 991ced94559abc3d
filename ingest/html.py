"""Plain text from the HTML some source fields hold: one parser for every reader.

The readers differ only in how they lay the text out, and say so with flags: Villes Internet keeps a blank
line between paragraphs and reads text newlines as spaces (HTML does); OTeN and NetPublic put each block on a
line of its own and keep the newlines of the text; NetPublic writes list items as "- " lines. Scripts and
styles vanish, entities are decoded, spaces (no-break ones too) are collapsed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements that begin and end a block of text.
BLOCKS = frozenset(
    {"p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "section", "article"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
)
_HIDDEN = ("script", "style")


class _Text(HTMLParser):
    def __init__(self, block: str, bullets: bool, html_spaces: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.script = False
        self.block, self.bullets, self.html_spaces = block, bullets, html_spaces

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            self.script = self.script or tag == "script"
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li" and self.bullets:
            self.parts.append("\n- ")
        elif tag in BLOCKS:
            self.parts.append(self.block)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in BLOCKS:
            self.parts.append(self.block)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.parts.append(self.block)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data) if self.html_spaces else data)


def html_to_text(
    html: str, *, paragraphs: bool = False, bullets: bool = False, html_spaces: bool = False
) -> tuple[str, bool]:
    """``(plain text, had a <script>)`` of an HTML fragment.

    ``paragraphs``: a blank line between blocks (else one line each, empty lines dropped); ``bullets``: list
    items as "- " lines; ``html_spaces``: newlines in the text are spaces, as a browser shows them (else kept).
    """
    parser = _Text("\n\n" if paragraphs else "\n", bullets, html_spaces)
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    if paragraphs:
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), parser.script
    return "\n".join(line for line in lines if line and not (bullets and line == "-")), parser.script
