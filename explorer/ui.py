"""Widgets shared by the explorer's pages: the sample-data banner, error translation, links, maps, graphs.

Every value that comes from a source (a title, a name, a label, a query typed by a user) goes through
:func:`literal` before it reaches Markdown or HTML, so ``[clic](javascript:alert(1))`` is shown as those
characters and never becomes a link, a tag or a script. Every CSV the explorer offers is written by
:func:`kg.tableur.csv_text`, which neutralises formulas (the search results' by :func:`fiches.export.experiences_csv`).
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pydeck as pdk
import streamlit as st

from explorer import data
from fiches.deeplink import fiche_url
from fiches.description import KIND_LABELS
from fiches.names import key_of
from kg.errors import CapitalisError, QueryError
from kg.tableur import csv_text
from territoires.carte import cluster

FICHE_PAGE = "app_pages/fiche.py"

#: One colour per kind of entity (nodes of the graph, legend), readable on white.
KIND_COLOURS: dict[str, str] = {
    "experience": "#e4572e",
    "collectivite": "#17bebb",
    "lieu": "#76b041",
    "acteur": "#ffc914",
    "technologie": "#8e44ad",
    "concept": "#2e86de",
    "territoire": "#7f8c8d",
    "parrainage": "#c0392b",
    "evaluation": "#d35400",
    "label": "#16a085",
    "service-public": "#34495e",
    "provenance": "#bdc3c7",
    "autre": "#95a5a6",
}

SAMPLE_BANNER = (
    "**Données d'exemple.** Les fiches affichées viennent de fichiers d'exemple assemblés à partir de faits "
    "publics, avec des textes illustratifs et des personnes fictives : ne les lisez pas comme des faits sur "
    "les collectivités nommées."
)


def banner() -> None:
    """The "données d'exemple" notice every page carries."""
    st.warning(SAMPLE_BANNER, icon="⚠️")


@contextmanager
def guard() -> Iterator[None]:
    """Turn a Capitalis error into one French message on the page (``st.error`` then ``st.stop``)."""
    try:
        yield
    except CapitalisError as exc:
        st.error(f"**{literal(exc.title)}** : {literal(exc.message)}")
        st.stop()


def fiche_link(iri: str, label: str | None = None) -> None:
    """A link that opens the fiche of ``iri`` inside the app (keeps the session); ``label`` is shown as is."""
    st.page_link(FICHE_PAGE, label=literal(label or iri), query_params={"iri": iri}, icon=":material/description:")


def fiche_md(iri: str, label: str | None = None) -> str:
    """A markdown link to the fiche of ``iri`` (its deep link, relative to the app's root)."""
    return f"[{literal(label or key_of(iri))}]({fiche_url(iri, '.')})"


# Markdown's punctuation (CommonMark escapes any ASCII punctuation with a backslash; ``:`` stops Streamlit's
# ``:red[…]`` and ``:material/…:`` directives, ``$`` its LaTeX) and HTML's three specials, as entities: the
# result reads the same in a Markdown paragraph, inside ``unsafe_allow_html`` blocks and in an HTML block.
_LITERAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|~:$=^]|[<>&]")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def literal(value: object) -> str:
    """A value from a source (or typed by a user) made inert for Markdown and HTML: shown exactly as written.

    No emphasis, link, image, autolink, tag, colour directive, icon or formula survives; use it for every such
    value given to ``st.title``, ``st.markdown``, ``st.caption``, alerts, widget and link labels, and the HTML
    of ``unsafe_allow_html`` blocks.
    """
    return _LITERAL.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), str(value))


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def highlighted(extract: str) -> str:
    """An extract with ``<mark>`` around the query words; everything else shown as is (:func:`literal`)."""
    parts = _MARK.split(extract)
    return "".join(f"<mark>{literal(p)}</mark>" if i % 2 else literal(p) for i, p in enumerate(parts))


def sparql_csv(body: bytes) -> str:
    """SPARQL CSV results (``text/csv``) with every cell neutralised for spreadsheets."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    return csv_text(rows[0] if rows else [], rows[1:])


MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def date_fr(value: Any) -> Any:
    """An ISO date or date-time as a French reader writes it (« 3 mars 2025 », « 3 mars 2025 à 14 h 05 »);
    any other value unchanged."""
    if isinstance(value, datetime):
        moment: date = value
    elif isinstance(value, date):
        moment = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return value
    else:
        return value
    day = "1er" if moment.day == 1 else str(moment.day)
    text = f"{day} {MOIS[moment.month - 1]} {moment.year}"
    if isinstance(moment, datetime):
        text += f" à {moment.hour} h {moment.minute:02d}"
    return text


#: Where rdflib's parser (pyparsing) locates a syntax error, as kg.sparql passes it on.
_PARSE_POSITION = re.compile(r"found (?:'(?P<token>.*?)'|end of text)?.*?\(line:(?P<line>\d+), col:(?P<col>\d+)\)")


def sparql_error(exc: CapitalisError, query: str) -> None:
    """A refused query as one French message; a syntax error names its line and column and shows the line."""
    found = _PARSE_POSITION.search(exc.message) if isinstance(exc, QueryError) else None
    if not found:
        st.error(f"**{literal(exc.title)}** : {literal(exc.message)}")
        return
    line, column, token = int(found["line"]), int(found["col"]), found["token"]
    what = f"« {literal(token)} » n'est pas attendu à cet endroit" if token else "la requête s'arrête trop tôt"
    st.error(
        f"**Erreur de syntaxe SPARQL, ligne {line}, colonne {column}** : {what}. Vérifiez ce qui précède "
        "(une accolade, un point, une parenthèse ou un préfixe oublié ?)."
    )
    lines = query.splitlines() or [""]
    if 1 <= line <= len(lines):
        st.code(f"{lines[line - 1]}\n{' ' * (column - 1)}^", language=None)


#: Facet chips, multiselect tags and page links show their whole label (Streamlit cuts them to one line).
CHIPS_CSS = """<style>
[data-baseweb="tag"] { max-width: none !important; height: auto !important; }
[data-baseweb="tag"] span {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stBaseButton-secondary"] p, [data-testid="stBaseButton-tertiary"] p { white-space: normal; }
[data-testid="stPageLink-NavLink"] { height: auto !important; }
[data-testid="stPageLink-NavLink"] span, [data-testid="stPageLink-NavLink"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
</style>"""


def page_style() -> None:
    """Styles every page needs (whole chips and tags)."""
    st.html(CHIPS_CSS)


def kind_legend(kinds: Sequence[str]) -> None:
    chips = " ".join(
        f"<span style='display:inline-block;margin:0 .6em .2em 0'>"
        f"<span style='display:inline-block;width:.8em;height:.8em;border-radius:50%;"
        f"background:{KIND_COLOURS.get(k, '#999')};margin-right:.3em'></span>"
        f"{html.escape(KIND_LABELS.get(k, k))}</span>"
        for k in kinds
    )
    st.html(f"<div style='font-size:.85em'>{chips}</div>")


def graph_chart(neighbourhood: Any, *, key: str, height: int = 520) -> str | None:
    """Draw a neighbourhood as an interactive force graph (ECharts, bundled with Streamlit: no network).

    Nodes are coloured by kind; a click selects a node and returns its IRI (the page then opens its fiche).
    """
    kinds = list(dict.fromkeys(n.kind for n in neighbourhood.nodes))
    index = {k: i for i, k in enumerate(kinds)}
    degree: dict[str, int] = {}
    for e in neighbourhood.edges:
        degree[e.source] = degree.get(e.source, 0) + 1
        degree[e.target] = degree.get(e.target, 0) + 1
    # A radial layout computed here (neighbours grouped by kind around the entity, two rings past 24): no
    # force simulation to run in the browser, and the same picture at every visit.
    others = sorted((n for n in neighbourhood.nodes if n.iri != neighbourhood.center), key=lambda n: (n.kind, n.label))
    positions = {neighbourhood.center: (0.0, 0.0)}
    count = len(others)
    for i, n in enumerate(others):
        ring = 1.0 if count <= 24 or i % 2 == 0 else 1.45
        angle = 2 * math.pi * i / max(count, 1) - math.pi / 2
        positions[n.iri] = (ring * 300 * math.cos(angle), ring * 200 * math.sin(angle))
    nodes = []
    for n in neighbourhood.nodes:
        centre = n.iri == neighbourhood.center
        label = n.label if len(n.label) <= 40 else n.label[:38] + "…"
        x, y = positions[n.iri]
        nodes.append(
            {
                "id": n.iri,
                "name": label,
                "value": KIND_LABELS.get(n.kind, n.kind),
                "category": index[n.kind],
                "x": round(x, 1),
                "y": round(y, 1),
                "symbolSize": 38 if centre else min(14 + 3 * degree.get(n.iri, 0), 30),
                "label": {"show": True, "fontWeight": "bold" if centre else "normal"},
                "itemStyle": {"borderColor": "#222", "borderWidth": 3} if centre else {},
            }
        )
    spec = {
        "animation": False,
        "tooltip": {"formatter": "{b}<br/>{c}"},
        "legend": [{"data": [KIND_LABELS.get(k, k) for k in kinds], "top": 0}],
        "color": [KIND_COLOURS.get(k, "#999") for k in kinds],
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "draggable": True,
                "selectedMode": "single",
                "select": {"itemStyle": {"borderColor": "#000", "borderWidth": 4}},
                "categories": [{"name": KIND_LABELS.get(k, k)} for k in kinds],
                "data": nodes,
                "links": [{"source": e.source, "target": e.target, "value": e.label} for e in neighbourhood.edges],
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 6,
                "edgeLabel": {"show": False, "formatter": "{c}"},
                "emphasis": {"focus": "adjacency", "edgeLabel": {"show": True}},
                "label": {"position": "right", "fontSize": 11},
                "lineStyle": {"color": "source", "curveness": 0.1, "opacity": 0.6},
            }
        ],
    }
    state = st.echarts_chart(
        spec, height=height, key=key, on_select="rerun", alt="Voisinage de l'entité dans le graphe"
    )
    return _selected_node(state, neighbourhood)


def stacked_bars(categories: list[str], series: dict[str, list[int]], *, key: str, alt: str, height: int = 380) -> None:
    """Stacked vertical bars (ECharts: bundled with Streamlit, lighter in the browser than Vega)."""
    spec = {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 40, "right": 10, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": categories},
        "yAxis": {"type": "value", "name": "expériences"},
        "series": [{"type": "bar", "stack": "total", "name": name, "data": values} for name, values in series.items()],
    }
    st.echarts_chart(spec, height=height, key=key, alt=alt)


def horizontal_bars(labels: list[str], values: list[int], *, key: str, alt: str, height: int = 320) -> None:
    """Horizontal bars, the largest on top (ECharts)."""
    spec = {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 10, "right": 30, "top": 10, "bottom": 20, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {
            "type": "category",
            "data": list(reversed(labels)),
            "axisLabel": {"width": 200, "overflow": "truncate"},
        },
        "series": [{"type": "bar", "data": list(reversed(values)), "label": {"show": True, "position": "right"}}],
    }
    st.echarts_chart(spec, height=height, key=key, alt=alt)


def _selected_node(state: Any, neighbourhood: Any) -> str | None:
    """The IRI of the node the user clicked, read from the chart's selection state.

    Streamlit reports ``{"selection": {"selected": [{"data_type": "node", "data_indices": [i], ...}]}}``.
    """
    try:
        selected = state["selection"]["selected"]
    except (KeyError, TypeError):
        return None
    for item in selected or []:
        if not isinstance(item, dict) or item.get("data_type", "node") != "node":
            continue
        for i in item.get("data_indices") or []:
            if 0 <= int(i) < len(neighbourhood.nodes):
                iri = neighbourhood.nodes[int(i)].iri
                if iri != neighbourhood.center:
                    return iri
    return None


def points_map(
    items: Sequence[dict[str, Any]],
    *,
    key: str,
    cell_km: float = 25.0,
    colour: Sequence[int] = (228, 87, 46),
    height: int = 420,
    extra_layers: Sequence[Any] = (),
    view_items: Sequence[dict[str, Any]] | None = None,
) -> None:
    """A map of points clustered per cell (circle size follows the count), drawn by deck.gl without a base map.

    No tile server nor base-map style is fetched: the outline of France is drawn underneath, from a bundled file.
    """
    clusters = cluster(items, cell_km=cell_km) if items else []
    for c in clusters:
        names = ", ".join(c["labels"]) + (f" et {c['more']} autre(s)" if c["more"] else "")
        c["info"] = f"{c['n']} — {names}"
        c["texte"] = str(c["n"]) if c["n"] > 1 else ""
        c["radius"] = 2500 + 3500 * c["n"] ** 0.5  # metres; deck.gl JSON accessors may not call functions
    layers = [_outline_layer(data.shapes("contour")), *extra_layers]
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            clusters,
            get_position=["lon", "lat"],
            get_radius="radius",
            radius_min_pixels=5,
            radius_max_pixels=40,
            get_fill_color=[*colour, 190],
            get_line_color=[255, 255, 255],
            line_width_min_pixels=1,
            stroked=True,
            pickable=True,
        )
    )
    layers.append(
        pdk.Layer(
            "TextLayer",
            [c for c in clusters if c["texte"]],
            get_position=["lon", "lat"],
            get_text="texte",
            get_size=13,
            get_color=[255, 255, 255],
            font_weight=700,
        )
    )
    view = _view(view_items if view_items is not None else items)
    # No ``map_style``: pydeck then sends its "no style given" marker, which Streamlit reads as "no base map".
    # ``map_style=None`` would send nothing, and Streamlit would fetch a CARTO style from its CDN.
    deck = pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, tooltip={"text": "{info}"})
    st.pydeck_chart(deck, height=height, key=key)


def _outline_layer(shapes: dict[str, Any]) -> Any:
    return pdk.Layer(
        "GeoJsonLayer",
        shapes,
        stroked=True,
        filled=True,
        get_fill_color=[245, 245, 240, 255],
        get_line_color=[160, 160, 160],
        line_width_min_pixels=0.5,
    )


def _view(items: Sequence[dict[str, Any]]) -> Any:
    metro = [i for i in items if 41 <= float(i["lat"]) <= 51.5 and -5.5 <= float(i["lon"]) <= 10]
    if not metro:
        return pdk.ViewState(latitude=46.6, longitude=2.4, zoom=4.6)
    lats = [float(i["lat"]) for i in metro]
    lons = [float(i["lon"]) for i in metro]
    span = max(max(lats) - min(lats), (max(lons) - min(lons)) * 0.7, 0.3)
    zoom = 4.6 if span > 6 else 5.5 if span > 3 else 6.5 if span > 1.5 else 7.5
    return pdk.ViewState(latitude=(max(lats) + min(lats)) / 2, longitude=(max(lons) + min(lons)) / 2, zoom=zoom)
