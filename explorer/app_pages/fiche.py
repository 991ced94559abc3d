"""Fiches: every public property of an entity with its source and provenance, and its graph neighbourhood.

Deep link: ``/fiche?iri=<IRI percent-encoded>`` (``explorer.FICHE_URL_TEMPLATE``). Without ``iri`` the page
offers a search by name.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import data, fiche_url, ui
from fiches.fiche import FIND_CLASSES, KINDS
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
    return ui.escape_md(text)


def finder() -> None:
    st.title("Fiches")
    st.markdown("Cherchez une expérience, une collectivité, un lieu, un acteur, une technologie ou un concept.")
    left, right = st.columns([3, 1])
    text = left.text_input("Nom", key="fiche_find", placeholder="Rennes, portail famille, WordPress…")
    kind = right.selectbox(
        "Type", ["", *FIND_CLASSES], format_func=lambda k: KINDS.get(k, "Tous les types"), key="fiche_kind"
    )
    if text.strip():
        with ui.guard():
            found = data.find(text, kind or None, 30)
        if not found:
            st.info(f"Aucune fiche ne correspond à « {text} ».")
        for item in found:
            ui.fiche_link(item["iri"], f"{item['label']} — {KINDS.get(item['kind'], item['kind'])}")


def show(iri: str) -> None:
    with ui.guard():
        f = data.fiche(iri)
    st.title(f.label)
    types = [t for t in f.type_labels if t != f.kind_label]
    st.caption(" · ".join([f.kind_label, *types]))
    st.markdown(f"IRI : `{f.iri}` · [lien direct]({fiche_url(f.iri, '.')})")

    main, side = st.columns([3, 2])
    with main:
        for prop in f.texts:
            st.markdown(f"**{ui.escape_md(prop.label.capitalize())}**")
            for v in prop.values:
                st.markdown(ui.escape_md(v.value))
    with side:
        if f.point:
            from explorer import svgmap

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
            st.markdown(f"**{ui.escape_md(prop.label.capitalize())}** : {names}{more}")

    st.subheader("Voisinage dans le graphe")
    with ui.guard():
        hood = data.neighbourhood(iri)
    if len(hood.nodes) <= 1:
        st.info("Cette entité n'a pas de lien vers d'autres entités.")
    else:
        st.caption(
            "Cliquez sur un nœud pour ouvrir sa fiche ; molette pour zoomer, glisser pour déplacer."
            + (" Voisinage tronqué aux liens les plus directs." if hood.truncated else "")
        )
        clicked = ui.graph_chart(hood, key=f"graph-{iri}")
        if clicked:
            st.query_params["iri"] = clicked
            st.rerun()
        others = {n.iri: f"{n.label} — {KINDS.get(n.kind, n.kind)}" for n in hood.nodes if n.iri != iri}
        target = st.selectbox(
            "Ouvrir la fiche d'un voisin",
            list(others),
            format_func=others.get,
            index=None,
            placeholder="Choisir un voisin…",
            key=f"neighbour-{iri}",
        )
        if target:
            st.query_params["iri"] = target
            st.rerun()

    st.subheader("Propriétés et provenance")
    lines = ["| propriété | valeur | source | champ d'origine |", "|---|---|---|---|"]
    for prop in [*f.properties, *f.texts]:
        origin = ui.escape_md(", ".join(prop.champ_source[:3]))
        for v in prop.values:
            value = ui.fiche_md(v.value, v.label) if v.iri else _cell(v.value, 120 if prop in f.texts else 300)
            if v.lang:
                value += f" ({v.lang})"
            sources = ui.escape_md(", ".join(_source(g) for g in v.graphs))
            lines.append(f"| {ui.escape_md(prop.label)} | {value} | {sources} | {origin} |")
    st.markdown("\n".join(lines))

    if f.records:
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
                        "importé le": r.importe_le,
                    }
                    for r in f.records
                ]
            ),
            hide_index=True,
            width="stretch",
        )

    if f.incoming:
        st.subheader("Liens entrants")
        for group in f.incoming:
            more = (
                f" — {group.total} au total, {len(group.subjects)} affichés"
                if group.total > len(group.subjects)
                else ""
            )
            with st.expander(f"{group.label.capitalize()} ({group.total}){more}", expanded=group.total <= 5):
                st.markdown("\n".join(f"- {ui.fiche_md(s['iri'], s['label'])}" for s in group.subjects))

    if f.kind == "experience":
        try:
            similar = data.similar(iri, 5)
        except CapitalisError:  # the index may not hold this experience (merged, withdrawn): nothing to suggest
            similar = None
        if similar is not None and similar.results:
            st.subheader("Expériences similaires")
            for hit in similar.results:
                porteurs = ", ".join(p.nom for p in hit.porteurs)
                ui.fiche_link(hit.iri, f"{hit.titre} — {porteurs}" if porteurs else hit.titre)

    st.download_button(
        "Télécharger la fiche (JSON)",
        lambda: f.model_dump_json(indent=2),
        f"{f.iri.rsplit('/', 1)[-1]}.json",
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
