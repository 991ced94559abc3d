"""Fiches: every public property of an entity with its source and provenance, and its graph neighbourhood.

Deep link: ``/fiche?iri=<IRI percent-encoded>`` (``fiches.deeplink.FICHE_URL_TEMPLATE``). Without ``iri`` the page
offers a search by name.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import data, svgmap, ui
from fiches.deeplink import fiche_url
from fiches.fiche import FIND_CLASSES, KIND_LABELS, Fiche
from fiches.names import key_of
from kg.errors import CapitalisError

SOURCE_NAMES = {
    "villes-internet": "Villes Internet",
    "villes-internet-labels": "Villes Internet (labels)",
    "netpublic": "NetPublic",
    "oten": "OTeN",
    "referentiel": "Référentiel INSEE",
    "resolution": "Résolution",
    "ontologie": "Ontologie",
    "parrainages": "Parrainages",
    "contributions": "Contributions",
}


def _source(graph: str) -> str:
    return SOURCE_NAMES.get(graph, graph)


def _cell(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return ui.literal(ui.date_fr(text))


def finder() -> None:
    st.title("Fiches")
    st.markdown("Cherchez une expérience, une collectivité, un lieu, un acteur, une technologie ou un concept.")
    left, right = st.columns([3, 1])
    text = left.text_input("Nom", key="fiche_find", placeholder="Rennes, portail famille, WordPress…")
    kind = right.selectbox(
        "Type", ["", *FIND_CLASSES], format_func=lambda k: KIND_LABELS.get(k, "Tous les types"), key="fiche_kind"
    )
    if text.strip():
        with ui.guard():
            found = data.find(text, kind or None, 30)
        if not found:
            st.info(f"Aucune fiche ne correspond à « {ui.literal(text)} ».")
        for item in found:
            ui.fiche_link(item["iri"], f"{item['label']} — {KIND_LABELS.get(item['kind'], item['kind'])}")


def show(iri: str) -> None:
    """The fiche of ``iri``: header, texts and facts, neighbourhood, provenance, incoming links, similar ones."""
    with ui.guard():
        f = data.fiche(iri)
    header(f)
    texts_and_facts(f)
    neighbourhood(iri)
    provenance(f)
    records(f)
    incoming(f)
    if f.kind == "experience":
        similar(iri)
    download(f)


def header(f: Fiche) -> None:
    st.title(ui.literal(f.label))
    types = [t for t in f.type_labels if t != f.kind_label]
    st.caption(ui.literal(" · ".join([f.kind_label, *types])))
    st.markdown(f"IRI : {ui.literal(f.iri)} · [lien direct]({fiche_url(f.iri, '.')})")


def texts_and_facts(f: Fiche) -> None:
    """The long texts on the left; the map and the first links to other entities on the right."""
    main, side = st.columns([3, 2])
    with main:
        for prop in f.texts:
            st.markdown(f"**{ui.literal(prop.label.capitalize())}**")
            for v in prop.values:
                st.markdown(ui.literal(v.value))
    with side:
        if f.point:
            dot = {"lat": f.point[0], "lon": f.point[1], "r": 6, "title": f.label}
            svgmap.show(
                svgmap.render("contour", points=[dot], width=420, label=f"Localisation : {f.label}"),
                svgmap.height_of(width=420),
            )
        facts = [
            p
            for p in f.properties
            if p.values and any(v.iri for v in p.values) and p.short not in ("prov:wasDerivedFrom", "skos:inScheme")
        ]
        for prop in facts[:8]:
            names = ", ".join(ui.fiche_md(v.value, v.label) for v in prop.values[:6] if v.iri)
            more = f" (+{len(prop.values) - 6})" if len(prop.values) > 6 else ""
            st.markdown(f"**{ui.literal(prop.label.capitalize())}** : {names}{more}")


def neighbourhood(iri: str) -> None:
    """The graph around the entity; a click on a node (or the picker below) opens that node's fiche."""
    st.subheader("Voisinage dans le graphe")
    with ui.guard():
        hood = data.neighbourhood(iri)
    if len(hood.nodes) <= 1:
        st.info("Cette entité n'a pas de lien vers d'autres entités.")
        return
    st.caption(
        "Cliquez sur un nœud pour ouvrir sa fiche ; molette pour zoomer, glisser pour déplacer."
        + (" Voisinage tronqué aux liens les plus directs." if hood.truncated else "")
    )
    clicked = ui.graph_chart(hood, key=f"graph-{iri}")
    if clicked:
        open_fiche(clicked)
    others = {n.iri: f"{n.label} — {KIND_LABELS.get(n.kind, n.kind)}" for n in hood.nodes if n.iri != iri}
    target = st.selectbox(
        "Ouvrir la fiche d'un voisin",
        list(others),
        format_func=others.get,
        index=None,
        placeholder="Choisir un voisin…",
        key=f"neighbour-{iri}",
    )
    if target:
        open_fiche(target)


def open_fiche(iri: str) -> None:
    st.query_params["iri"] = iri
    st.rerun()


def provenance(f: Fiche) -> None:
    """Every value with its source (named graph) and the source fields that fill its property."""
    st.subheader("Propriétés et provenance")
    lines = ["| propriété | valeur | source | champ d'origine |", "|---|---|---|---|"]
    for prop in [*f.properties, *f.texts]:
        origin = ui.literal(", ".join(prop.champ_source[:3]))
        for v in prop.values:
            value = ui.fiche_md(v.value, v.label) if v.iri else _cell(v.value, 120 if prop in f.texts else 300)
            if v.lang:
                value += f" ({v.lang})"
            sources = ui.literal(", ".join(_source(g) for g in v.graphs))
            lines.append(f"| {ui.literal(prop.label)} | {value} | {sources} | {origin} |")
    st.markdown("\n".join(lines))


def records(f: Fiche) -> None:
    if not f.records:
        return
    st.subheader("Enregistrements sources")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "source": _source(r.source),
                    "identifiant": r.id,
                    "fichier": r.fichier,
                    "feuille": r.feuille,
                    "ligne": r.ligne,
                    "statut": r.statut,
                    "importé le": ui.date_fr(r.importe_le),
                }
                for r in f.records
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def incoming(f: Fiche) -> None:
    if not f.incoming:
        return
    st.subheader("Liens entrants")
    for group in f.incoming:
        more = f" — {group.total} au total, {len(group.subjects)} affichés" if group.total > len(group.subjects) else ""
        with st.expander(ui.literal(f"{group.label.capitalize()} ({group.total}){more}"), expanded=group.total <= 5):
            st.markdown("\n".join(f"- {ui.fiche_md(s['iri'], s['label'])}" for s in group.subjects))


def similar(iri: str) -> None:
    try:
        found = data.similar(iri, 5)
    except CapitalisError:  # the index may not hold this experience (merged, withdrawn): nothing to suggest
        return
    if found is None or not found.results:
        return
    st.subheader("Expériences similaires")
    for hit in found.results:
        porteurs = ", ".join(p.nom for p in hit.porteurs)
        ui.fiche_link(hit.iri, f"{hit.titre} — {porteurs}" if porteurs else hit.titre)


def download(f: Fiche) -> None:
    st.download_button(
        "Télécharger la fiche (JSON)",
        lambda: f.model_dump_json(indent=2),
        f"{key_of(f.iri)}.json",
        "application/json",
        icon=":material/download:",
    )


iri = st.query_params.get("iri", "").strip()
if iri:
    if st.button("← Chercher une autre fiche", type="tertiary"):
        del st.query_params["iri"]
        st.rerun()
    show(iri)
else:
    finder()
