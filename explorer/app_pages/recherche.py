"""Search: a query box, facets with counts as filters (active ones removable), results with highlighted
extracts, a map of the carriers (clustered), CSV and GeoJSON downloads.

The query and the filters live in the URL (``/recherche?q=…&axe=1&region=53``), so a search can be shared.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer import data, fiche_url, ui
from fiches.export import carrier_items, experiences_csv
from search import TAILLES, Filters
from territoires.carte import geojson

PAGE_SIZE = 10
#: The facets offered as filters, in the order shown, with their French names.
FACETS: dict[str, str] = {
    "axe": "Axe",
    "enjeu": "Enjeu",
    "usage": "Usage",
    "region": "Région du porteur",
    "taille": "Taille du porteur",
    "technologie": "Technologie",
    "source": "Source",
}
SOURCES = {"villes-internet": "Villes Internet", "oten": "OTeN", "contributions": "Contributions"}


def _labeller(name: str) -> Any:
    if name in ("axe", "enjeu", "usage"):
        labels = data.taxonomy_labels()
        return lambda v: f"{v}. {labels.get(v, v)}"
    if name == "region":
        regions = data.region_names()
        return lambda v: regions.get(v, v)
    if name == "taille":
        return lambda v: TAILLES.get(v, v)
    if name == "source":
        return lambda v: SOURCES.get(v, v)
    return str


def _url_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def _state_from_url() -> None:
    """Fill the widgets' state from the URL when it is not the one this page last wrote: the first visit, a
    shared link, an example of the home page (deep links of searches)."""
    if st.session_state.get("_search_url") == _url_params():
        return
    params = st.query_params
    st.session_state["q"] = params.get("q", "")
    for name in FACETS:
        st.session_state[f"facet_{name}"] = params.get_all(name)
    years = [params.get("annee_min"), params.get("annee_max")]
    if all(y and y.isdigit() for y in years):
        st.session_state["annees"] = (int(years[0]), int(years[1]))  # type: ignore[arg-type]
    else:
        st.session_state.pop("annees", None)
    st.session_state["_search_url"] = _url_params()


def _remove(name: str, value: str) -> None:
    st.session_state[f"facet_{name}"] = [v for v in st.session_state.get(f"facet_{name}", []) if v != value]


def _clear() -> None:
    for name in FACETS:
        st.session_state[f"facet_{name}"] = []
    st.session_state.pop("annees", None)


def _filters(all_years: list[int]) -> Filters:
    values = {name: list(st.session_state.get(f"facet_{name}", [])) for name in FACETS}
    years = st.session_state.get("annees")
    if years and all_years and tuple(years) == (all_years[0], all_years[-1]):
        years = None  # the whole range is no filter
    return Filters(**values, annee_min=years[0] if years else None, annee_max=years[1] if years else None)


def _sync_url(query: str, filters: Filters) -> None:
    params: dict[str, Any] = {"q": query} if query else {}
    for name in FACETS:
        if getattr(filters, name):
            params[name] = getattr(filters, name)
    if filters.annee_min is not None:
        params["annee_min"] = str(filters.annee_min)
        params["annee_max"] = str(filters.annee_max)
    if dict(st.query_params.to_dict()) != {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items()}:
        st.query_params.from_dict(params)
    st.session_state["_search_url"] = _url_params()


def _facet_widgets(facets: dict[str, dict[str, int]], all_years: list[int]) -> None:
    for name, title in FACETS.items():
        counts = facets.get(name, {})
        selected = st.session_state.get(f"facet_{name}", [])
        options = list(dict.fromkeys([*counts, *selected]))
        if name == "technologie":
            options = options[:40] + [v for v in selected if v not in options[:40]]
        if not options:
            continue
        label = _labeller(name)
        st.multiselect(
            title,
            options,
            key=f"facet_{name}",
            format_func=lambda v, label=label, counts=counts: f"{label(v)} ({counts.get(v, 0)})",
            placeholder="Tous",
        )
    if len(all_years) > 1:
        st.select_slider(
            "Années",
            options=all_years,
            value=st.session_state.get("annees", (all_years[0], all_years[-1])),
            key="annees",
        )


def _active_chips(filters: Filters) -> None:
    active = [(name, v) for name in FACETS for v in getattr(filters, name)]
    if not active and filters.annee_min is None:
        return
    # One row that wraps, each chip as wide as its label: never cut (columns would squeeze them).
    with st.container(horizontal=True, gap="small", key="chips"):
        for name, value in active:
            st.button(
                f"✕ {FACETS[name]} : {ui.literal(_labeller(name)(value))}",
                key=f"chip_{name}_{value}",
                on_click=_remove,
                args=(name, value),
                help="Retirer ce filtre",
            )
        if filters.annee_min is not None:
            st.button(
                f"✕ Années {filters.annee_min}–{filters.annee_max}",
                key="chip_annees",
                on_click=lambda: st.session_state.pop("annees", None),
            )
        st.button("Tout effacer", key="chip_clear", on_click=_clear, type="tertiary")


def _result(rank: int, hit: Any) -> None:
    """One result: a link to its fiche, then carriers, year, extract, services and technologies in one block
    (one element instead of five: the page draws faster)."""
    with st.container(border=True):
        ui.fiche_link(hit.iri, f"{rank}. {hit.titre}")
        porteurs = ", ".join(
            f"<a href='{fiche_url(p.iri, '.')}' target='_self'>{ui.literal(p.nom)}</a>" for p in hit.porteurs
        )
        lines = [(porteurs or "porteur inconnu") + (f" · {hit.annee}" if hit.annee else "")]
        if hit.extrait:
            lines.append(ui.highlighted(hit.extrait))
        small = []
        if hit.services:
            small.append("Services : " + " · ".join(ui.literal(s["label"]) for s in hit.services))
        if hit.technologies:
            small.append("Technologies : " + ", ".join(ui.literal(t) for t in hit.technologies[:8]))
        if small:
            lines.append("<span style='font-size:.85em;opacity:.7'>" + "<br>".join(small) + "</span>")
        st.markdown("<br>".join(lines), unsafe_allow_html=True)


_state_from_url()
st.title("Recherche d'expériences")
query = st.text_input(
    "Que cherchez-vous ?",
    key="q",
    placeholder="Ex. : portail famille, couverture mobile, données ouvertes, médiation numérique…",
)
with ui.guard():
    overview = data.search("", Filters(), 0, 0)
    years = sorted(int(y) for y in overview.facets.get("annee", {}))
    filters = _filters(years)
    result = data.search(query, filters, PAGE_SIZE, 0)
_sync_url(query, filters)

side, main = st.columns([1, 3], gap="large")
with side:
    st.markdown("**Filtres**")
    _facet_widgets(result.facets, years)

with main:
    _active_chips(filters)
    if result.corrections:
        fixed = ", ".join(f"{ui.literal(k)} → {ui.literal(v)}" for k, v in result.corrections.items())
        st.caption(f"Corrigé : {fixed}")
    if not result.total:
        st.info(ui.literal(result.message) if result.message else "Aucune expérience ne correspond.")
        st.stop()
    pages = (result.total + PAGE_SIZE - 1) // PAGE_SIZE
    st.markdown(f"**{result.total} expérience(s)**" + (f" pour « {ui.literal(query)} »" if query else ""))
    with ui.guard():
        everything = data.search(query, filters, min(result.total, 5000), 0)
    items = carrier_items(everything.results, data.points())
    bar = st.columns([2, 1, 1], vertical_alignment="center")
    with bar[0]:
        view = st.segmented_control(
            "Affichage",
            ["Résultats", "Carte des porteurs"],
            default="Résultats",
            key="vue",
            label_visibility="collapsed",
        )
    bar[1].download_button(
        "Résultats (CSV)",
        lambda: experiences_csv(everything.results),  # built on click only
        "capitalis-recherche.csv",
        "text/csv",
        icon=":material/download:",
        help="Télécharger les résultats (CSV)",
    )
    bar[2].download_button(
        "Carte (GeoJSON)",
        lambda: geojson(items),
        "capitalis-recherche.geojson",
        "application/geo+json",
        icon=":material/download:",
        help="Télécharger les points des porteurs (GeoJSON)",
    )
    if view == "Carte des porteurs":
        st.caption(
            f"{len(items)} porteur(s) localisé(s) ; les cercles regroupent les porteurs proches (le nombre est "
            "indiqué). Survolez un cercle pour voir les noms ; molette pour zoomer."
        )
        ui.points_map(items, key="search-map")
    else:
        page = st.pagination(pages, key="page") if pages > 1 else 1
        start = (page - 1) * PAGE_SIZE
        for rank, hit in enumerate(everything.results[start : start + PAGE_SIZE], start=start + 1):
            _result(rank, hit)
