"""Hostile text from a source stays text: a title written as a Markdown ``javascript:`` link, an HTML tag with a
script, emphasis and a Streamlit colour directive is shown as those characters; a carrier's name written as a
spreadsheet formula comes out neutralised in the CSV downloads.

The store is the sample home with that title and that name written in (``hostile_home``); the pages run in
``streamlit.testing`` (the browser test checks the same page in Chromium: nothing is a link, nothing runs).
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from typing import Any

from explorer import ui
from fiches.export import experiences_csv
from kg.context import Context
from kg.settings import Settings
from kg.sparql import run_public_query
from search import Filters, search
from tests.explorer.conftest import FORMULA_NAME, HOSTILE_IRI, HOSTILE_TITLE
from tests.explorer.sample_home import EMBEDDER

#: The hostile title still doing something: its link, its tag, its emphasis or its colour left unescaped.
LIVE = re.compile(r"(?<!\\)\]\(javascript|<img|(?<!\\)\*\*gras|(?<!\\):red\[")


def _inert(markdown: str) -> bool:
    return not LIVE.search(markdown)


def _shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown: escapes and entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def test_literal_keeps_markdown_and_html_inert() -> None:
    shown = ui.literal(HOSTILE_TITLE)
    assert _inert(shown) and "javascript:" not in shown
    assert _shown(shown) == HOSTILE_TITLE
    assert ui.literal("<script>alert(1)</script> & co") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt; &amp; co"
    assert ui.literal("$x$ :material/home: # titre") == "\\$x\\$ \\:material/home\\: \\# titre"


def test_fiche_title_of_a_hostile_source_is_shown_as_written(hostile_app: Any) -> None:
    app = hostile_app
    app.run()
    app.switch_page("app_pages/fiche.py")
    app.query_params["iri"] = HOSTILE_IRI
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    title = app.title[0].value
    assert _inert(title) and _shown(title) == HOSTILE_TITLE
    for element in [*app.markdown, *app.caption, *app.subheader]:
        assert _inert(element.value), element.value
    assert any("javascript" in m.value for m in app.markdown)  # the title is also in the property table


def test_search_results_of_a_hostile_source_are_inert(hostile_app: Any) -> None:
    app = hostile_app
    app.run()
    app.switch_page("app_pages/recherche.py")
    app.query_params["q"] = "clic"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    labels = [p.proto.label for p in app.get("page_link")]
    hostile = [label for label in labels if "javascript" in label]
    assert hostile, labels
    assert all(_inert(label) for label in hostile)
    blocks = [m.value for m in app.markdown if "HYPERLINK" in m.value]
    assert blocks and all(_inert(b) for b in blocks)  # the carrier's name inside the HTML of a result


def test_search_csv_neutralises_formulas(hostile_home: Path) -> None:
    with Context.open(Settings(home=hostile_home, embedder=EMBEDDER), read_only=True) as context:
        hits = search(context, "portail famille", Filters(), 50, 0).results
    assert any(p.nom == FORMULA_NAME for h in hits for p in h.porteurs)  # the source wrote a formula
    rows = list(csv.reader(io.StringIO(experiences_csv(hits))))
    carriers = [r[3] for r in rows[1:]]
    assert "'" + FORMULA_NAME in carriers
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r if not c.lstrip("+-").isdigit())


def test_sparql_csv_neutralises_formulas(hostile_home: Path) -> None:
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    query = f'SELECT ?nom WHERE {{ ?p {label} ?nom FILTER(STRSTARTS(?nom, "=")) }}'
    with Context.open(Settings(home=hostile_home, embedder=EMBEDDER), read_only=True) as context:
        body = run_public_query(context.store, query, "csv", settings=context.settings).body
    assert FORMULA_NAME.encode() in body.replace(b'""', b'"')  # as the endpoint writes it
    rows = list(csv.reader(io.StringIO(ui.sparql_csv(body))))
    assert rows[0] == ["nom"] and rows[1:] and all(r[0] == "'" + FORMULA_NAME for r in rows[1:])
