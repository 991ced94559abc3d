"""Dashboard: experiences per axe and enjeu over the years, per région (choropleth), per size of carrier, the
most used technologies, mediation places (EPN) per 10,000 inhabitants per département.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import data, svgmap, ui

st.title("Tableau de bord")
with ui.guard():
    board = data.dashboard()
    labels = data.taxonomy_labels()

overview = board["overview"]
facets = overview["facets"]
a, b, c, d = st.columns(4)
a.metric("Expériences", overview["total"])
b.metric("Régions avec un porteur", sum(1 for r in board["regions"] if r["n"]))
c.metric("Technologies citées", len(facets.get("technologie", {})))
d.metric("Lieux de médiation", sum(x["lieux"] for x in board["epn"]))

st.subheader("Expériences par thème au fil des années")
level = st.segmented_control("Niveau", ["axe", "enjeu"], default="axe", format_func=str.capitalize, key="dash_level")
rows = board[level or "axe"]
if rows:
    frame = pd.DataFrame(rows)
    frame["thème"] = frame["notation"].map(lambda n: f"{n}. {labels.get(n, n)}")
    table = frame.pivot_table(index="annee", columns="thème", values="n", aggfunc="sum", fill_value=0)
    ui.stacked_bars(
        [str(y) for y in table.index],
        {str(c): [int(v) for v in table[c]] for c in table.columns},
        key="dash-years",
        alt="Expériences par thème et par année",
    )
    st.caption("Une expérience classée sous plusieurs thèmes compte dans chacun.")

st.subheader("Expériences par région")
left, right = st.columns([3, 2])
regions = board["regions"]
with left:
    top = max((r["n"] for r in regions), default=0)
    fills = {r["code"]: svgmap.colour_scale(r["n"], top) for r in regions}
    info = {r["code"]: f"{r['nom']} : {r['n']} expérience(s)" for r in regions}
    svg = svgmap.render("regions", fills=fills, titles=info, width=560, label="Expériences par région")
    svgmap.show(svg, svgmap.height_of(width=560))
    st.caption("Plus la région est foncée, plus ses collectivités portent d'expériences (survolez pour le détail).")
with right:
    frame = pd.DataFrame(regions)[["nom", "n", "pour_100k"]].sort_values("n", ascending=False)
    frame.columns = ["région", "expériences", "pour 100 000 hab."]
    st.dataframe(frame, hide_index=True, width="stretch", height=460)

st.subheader("Expériences par taille de collectivité porteuse")
left, right = st.columns(2)
with left:
    tailles = board["tailles"]
    ui.horizontal_bars(
        [t["libelle"] for t in tailles],
        [t["n"] for t in tailles],
        key="dash-tailles",
        alt="Expériences par taille de collectivité porteuse",
    )
with right:
    st.markdown("**Technologies les plus utilisées**")
    technologies = board["technologies"]
    ui.horizontal_bars(
        [t["technologie"] for t in technologies],
        [t["n"] for t in technologies],
        key="dash-technologies",
        alt="Technologies les plus utilisées",
    )

st.subheader("Lieux de médiation numérique pour 10 000 habitants, par département")
epn = board["epn"]
left, right = st.columns([3, 2])
with left:
    top = max((x["pour_10k"] or 0 for x in epn), default=0)
    fills = {x["code"]: svgmap.colour_scale(x["pour_10k"] or 0, top) for x in epn}
    info = {x["code"]: f"{x['nom']} : {x['lieux']} lieu(x), {x['pour_10k'] or 0:.2f} pour 10 000 hab." for x in epn}
    svg = svgmap.render("departements", fills=fills, titles=info, width=560, label="Lieux de médiation par département")
    svgmap.show(svg, svgmap.height_of(width=560))
    st.caption("Plus le département est foncé, plus il a de lieux pour 10 000 habitants (survolez pour le détail).")
with right:
    frame = pd.DataFrame(epn)[["code", "nom", "lieux", "pour_10k"]].sort_values("pour_10k", ascending=False)
    frame.columns = ["code", "département", "lieux", "pour 10 000 hab."]
    st.dataframe(frame, hide_index=True, width="stretch", height=460)
st.caption("Sources : annuaire des lieux de médiation (NetPublic) ; populations municipales INSEE 2022.")
