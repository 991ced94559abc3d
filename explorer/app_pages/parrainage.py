"""Parrainage: pick a collectivity and a need, see the ranked sponsors (score breakdown, explanation, map),
the grappes of a département, and propose a parrainage (recorded in the graph).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from explorer import data, svgmap, ui
from kg.francais import nombre

COMPOSANTES = {
    "pertinence": "pertinence des expériences",
    "experience": "profondeur d'expérience",
    "taille": "écart de taille",
    "proximite": "proximité",
    "technologies": "technologies partagées",
    "charge": "parrainages en cours (pénalité)",
}
ROLES = {
    "parrain": "parrain",
    "parrain-naturel": "parrain naturel (son EPCI)",
    "structure": "structure de mutualisation",
    "pair": "pair de taille comparable",
}
NIVEAUX = {
    "intercommunalite": "même intercommunalité",
    "departement": "même département",
    "region": "même région",
    "voisinage": "autre région, tout près",
    "hors-region": "hors région",
}


def _choices(proches: list[dict[str, str]]) -> None:
    """The nearest ATLAAS services of a need nothing addresses: the user picks one and searches again."""
    if proches:
        st.markdown("Services ATLAAS les plus proches, à choisir dans « Services » :\n" + "\n".join(
            f"- **{ui.literal(p['notation'])}** — {ui.literal(p['label'])}" for p in proches))


def _service_options() -> dict[str, str]:
    labels = data.taxonomy_labels()
    wanted = [n for n in labels if re.fullmatch(r"\d[a-z]\d|S\d+", n)]
    wanted.sort(key=lambda n: (n.startswith("S"), int(n[1:]) if n.startswith("S") else 0, n))
    return {n: f"{n} — {labels[n]}" for n in wanted}


def _need_inputs(prefix: str) -> tuple[str, list[str]]:
    options = _service_options()
    besoin = st.text_area(
        "Décrivez votre besoin",
        key=f"{prefix}_besoin",
        height=80,
        placeholder="Ex. : un portail famille pour inscrire à la cantine et payer en ligne",
    )
    services = st.multiselect(
        "… ou choisissez des services ATLAAS",
        list(options),
        format_func=options.get,
        key=f"{prefix}_services",
        placeholder="Services ou usages",
    )
    return besoin.strip(), services


def _pick_collectivite() -> str | None:
    text = st.text_input("Collectivité (nom ou code INSEE, SIREN)", key="pm_text", placeholder="Acigné, 35001…")
    if len(text.strip()) < 2:
        return None
    with ui.guard():
        found = data.collectivites(text, 30)
    if not found:
        st.warning(f"Aucune collectivité ne correspond à « {ui.literal(text)} ».")
        return None
    labels = {f["code"]: f["label"] for f in found}
    return st.selectbox("Collectivité", list(labels), format_func=labels.get, key="pm_code")


def _sponsor_card(rank: int, sponsor: Any) -> None:
    with st.container(border=True):
        top, score = st.columns([4, 1])
        with top:
            ui.fiche_link(sponsor.iri, f"{rank}. {sponsor.nom}")
            facts = [ROLES.get(sponsor.role, sponsor.role), NIVEAUX.get(sponsor.niveau, sponsor.niveau)]
            if sponsor.distance_km is not None:
                facts.append(f"{sponsor.distance_km:.0f} km")
            if sponsor.population:
                facts.append(f"{sponsor.population:,} hab.".replace(",", "\u202f"))
            st.caption(ui.literal(" · ".join(facts)))
        score.metric("Score", nombre(sponsor.score, 2))
        st.markdown("\n".join(f"- {ui.literal(line)}" for line in sponsor.explication))
        if sponsor.experiences:
            st.markdown("**Expériences de référence**")
            for e in sponsor.experiences[:3]:
                ui.fiche_link(e.iri, f"{e.titre} ({e.annee})" if e.annee else e.titre)


def _breakdown(sponsors: list[Any]) -> None:
    """The score of every sponsor split into its six components (one table: light to draw)."""
    rows = []
    for rank, s in enumerate(sponsors, start=1):
        rows.append({"rang": rank, "parrain": s.nom, "score": s.score, **s.composantes.model_dump()})
    frame = pd.DataFrame(rows)
    config: dict[str, Any] = {
        "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.2f"),
    }
    for key, label in COMPOSANTES.items():
        config[key] = st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="%.2f")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
    st.caption(
        "Le score est une somme pondérée des composantes (poids réglables : CAPITALIS_MATCH_POIDS_*), "
        "la charge étant retranchée."
    )


def _map(code: str, filleul_name: str, sponsors: list[Any]) -> None:
    points = data.points()
    home = data.point_of(code)
    dots = [
        {
            "lat": points[s.iri][0],
            "lon": points[s.iri][1],
            "r": 6,
            "colour": "#e4572e",
            "title": f"{rank}. {s.nom} (score {nombre(s.score, 2)})",
            "text": "",
        }
        for rank, s in enumerate(sponsors, start=1)
        if s.iri in points
    ]
    links = [((home[0], home[1]), (d["lat"], d["lon"])) for d in dots] if home else []
    if home:
        dots.append({"lat": home[0], "lon": home[1], "r": 8, "colour": "#1778dc", "title": f"{filleul_name} (filleul)"})
    box = svgmap.bbox_around([(d["lat"], d["lon"]) for d in dots])
    shapes = "contour" if box == svgmap.METRO else "departements"
    st.caption("En bleu la collectivité filleule, en orange les parrains proposés (survolez pour les noms).")
    svg = svgmap.render(shapes, points=dots, links=links, bbox=box, width=480, label="Parrains proposés")
    svgmap.show(svg, svgmap.height_of(box, 480))


def _record(
    parrain: str,
    filleuls: list[str],
    services: list[str],
    besoin: str,
    note: str,
    experiences: list[str],
    score: float | None,
) -> None:
    with ui.guard():
        iri = data.propose(parrain, filleuls, services, besoin or None, note or None, experiences, score)
    st.session_state["parrainage_recorded"] = iri


def match_tab() -> None:
    code = _pick_collectivite()
    besoin, services = _need_inputs("pm")
    with st.expander("Options"):
        rayon = st.slider("Rayon maximal (km, 0 = sans limite)", 0, 800, 0, step=25, key="pm_rayon")
        limit = st.slider("Nombre de parrains", 3, 20, 10, key="pm_limit")
    if st.button("Chercher des parrains", type="primary", key="pm_go", icon=":material/handshake:"):
        if not code:
            st.error("**Collectivité** : choisissez la collectivité à parrainer.")
            st.stop()
        if not besoin and not services:
            st.error("**Besoin** : décrivez le besoin ou choisissez au moins un service.")
            st.stop()
        st.session_state["pm_query"] = (code, besoin, tuple(services), limit, float(rayon) if rayon else None)
    query = st.session_state.get("pm_query")
    if not query:
        return
    code, besoin, services, limit, rayon = query
    with ui.guard(), st.spinner("Recherche des parrains…"):
        result = data.match(code, besoin, services, limit, rayon)
    f = result.filleul
    st.markdown(
        f"### Parrains pour {ui.literal(f.nom)}"
        + (f" ({f.population:,} hab.)".replace(",", "\u202f") if f.population else "")
    )
    st.caption(
        f"Besoin : {ui.literal(result.besoin)} · {result.experiences_pertinentes} expérience(s) pertinente(s) · "
        f"{result.total} parrain(s) possible(s)"
    )
    if result.message:
        st.info(ui.literal(result.message))
    _choices(result.services_proches)
    if not result.sponsors:
        return
    st.markdown("#### Décomposition des scores")
    _breakdown(result.sponsors)
    left, right = st.columns([3, 2])
    with left:
        for rank, sponsor in enumerate(result.sponsors, start=1):
            _sponsor_card(rank, sponsor)
    with right:
        _map(code, f.nom, result.sponsors)
        st.markdown("#### Proposer un parrainage")
        names = {s.iri: f"{s.nom} (score {nombre(s.score, 2)})" for s in result.sponsors}
        chosen = st.selectbox("Parrain", list(names), format_func=names.get, key="pm_parrain")
        note = st.text_area("Note (facultative)", key="pm_note", height=80)
        if st.button("Enregistrer la proposition", key="pm_record", icon=":material/save:"):
            sponsor = next(s for s in result.sponsors if s.iri == chosen)
            _record(
                chosen, [f.iri], list(services), besoin, note, [e.iri for e in sponsor.experiences[:5]], sponsor.score
            )
        if st.session_state.get("parrainage_recorded"):
            st.success("Parrainage proposé et enregistré.")
            ui.fiche_link(st.session_state["parrainage_recorded"], "Voir la fiche du parrainage")


def grappes_tab() -> None:
    deps = data.departement_names()
    dep = st.selectbox(
        "Département",
        list(deps),
        format_func=lambda c: f"{c} — {deps[c]}",
        index=None,
        placeholder="Choisir un département…",
        key="pg_dep",
    )
    besoin, services = _need_inputs("pg")
    if st.button("Former les grappes", type="primary", key="pg_go", icon=":material/hub:"):
        if not dep:
            st.error("**Département** : choisissez un département.")
            st.stop()
        if not besoin and not services:
            st.error("**Besoin** : décrivez le besoin ou choisissez au moins un service.")
            st.stop()
        st.session_state["pg_query"] = (dep, besoin, tuple(services))
    query = st.session_state.get("pg_query")
    if not query:
        return
    dep, besoin, services = query
    with ui.guard(), st.spinner("Formation des grappes…"):
        result = data.grappes(dep, besoin=besoin or None, services=list(services) or None)
    st.markdown(f"### Grappes de {ui.literal(result.departement.get('nom', dep))}")
    st.caption(
        f"Besoin : {ui.literal(result.besoin)} · {result.communes} petite(s) commune(s) sans expérience sur ce besoin"
    )
    if result.message:
        st.info(ui.literal(result.message))
    _choices(result.services_proches)
    for i, g in enumerate(result.grappes):
        title = f"{g.nom} — {len(g.membres)} commune(s)" + (f", parrain : {g.parrain.nom}" if g.parrain else "")
        with st.expander(ui.literal(title), expanded=i == 0):
            st.markdown("\n".join(f"- {ui.literal(line)}" for line in g.explication))
            frame = pd.DataFrame(
                [
                    {
                        "commune": m.nom,
                        "code": m.insee,
                        "population": m.population,
                        "distance (km)": m.distance_km,
                        "couverte": "oui" if m.couvert else "non",
                    }
                    for m in g.membres
                ]
            )
            st.dataframe(frame, hide_index=True, width="stretch")
            if g.parrain:
                ui.fiche_link(g.parrain.iri, f"Fiche du parrain : {g.parrain.nom}")
                if st.button("Proposer ce parrainage à la grappe", key=f"pg_record_{i}"):
                    _record(
                        g.parrain.iri,
                        [m.iri for m in g.membres if m.couvert],
                        list(services),
                        besoin,
                        f"Grappe : {g.nom}",
                        [e.iri for e in g.parrain.experiences[:5]],
                        g.parrain.score,
                    )
                    st.success("Parrainage de la grappe proposé et enregistré.")


def recorded_tab() -> None:
    with ui.guard():
        items = data.parrainages()
    if not items:
        st.info("Aucun parrainage enregistré pour l'instant.")
        return
    rows = []
    for p in items:
        rows.append(
            {
                "parrain": p.get("parrain", {}).get("nom"),
                "filleuls": ", ".join(f.get("nom", "") for f in p.get("filleuls", [])),
                "sur": ", ".join(c.get("label", "") for c in p.get("concepts", [])) or p.get("besoin"),
                "statut": p.get("statut_libelle") or p.get("statut"),
                "proposé le": ui.date_fr(p.get("propose_le")),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


st.title("Parrainage")
st.markdown(
    "Trouvez des collectivités expérimentées qui pourraient accompagner une collectivité sur un besoin "
    "(recommandation n° 7 du rapport de 2015), seules ou en **grappes** de petites communes."
)
tab_match, tab_grappes, tab_list = st.tabs(
    ["Trouver un parrain", "Grappes d'un département", "Parrainages enregistrés"]
)
with tab_match:
    match_tab()
with tab_grappes:
    grappes_tab()
with tab_list:
    recorded_tab()

