"""Home: what the observatory holds and what to do with it: a search box, examples, the observatory in figures,
the newest experiences and a way into every page.

The root URL ``/`` also still answers the search links of earlier versions (``/?q=cantine&axe=1``): they are sent
on to ``/recherche`` with their parameters.
"""

from __future__ import annotations

import streamlit as st

from explorer import data, ui
from kg.francais import nombre

SEARCH_PAGE = "app_pages/recherche.py"
#: Searches a newcomer can start from (they all find experiences in the sample data).
EXAMPLES = ("portail famille", "cantine", "médiation numérique", "données ouvertes", "fibre optique", "vote en ligne")

#: What each page is for, in the words of its users.
GUIDE = (
    (SEARCH_PAGE, "**Rechercher** des expériences par thème, territoire, taille", ":material/search:"),
    ("app_pages/fiche.py", "**Ouvrir la fiche** d'une collectivité, d'un lieu…", ":material/description:"),
    ("app_pages/parrainage.py", "**Trouver un parrain** expérimenté sur votre besoin", ":material/handshake:"),
    ("app_pages/tableau_de_bord.py", "**Le tableau de bord** : thèmes, régions, médiation", ":material/monitoring:"),
    ("app_pages/sparql.py", "**Interroger le graphe** en SPARQL (pour les chercheurs)", ":material/terminal:"),
)


def _search() -> None:
    text = st.session_state.get("home_q", "").strip()
    if text:
        st.session_state["home_go"] = text


if any(k in st.query_params for k in ("q", "axe", "enjeu", "usage", "region", "taille", "technologie", "source")):
    st.switch_page(SEARCH_PAGE, query_params={k: st.query_params.get_all(k) for k in st.query_params})

st.title("Capitalis, l'observatoire des projets numériques des collectivités")
st.markdown(
    "Ce que des communes, intercommunalités, départements et régions ont réalisé avec le numérique — portail "
    "famille, fibre, médiation, données ouvertes… — rassemblé depuis Villes Internet, l'OTeN et NetPublic, "
    "avec la source de chaque information. **Cherchez une expérience**, ouvrez sa fiche, trouvez une "
    "collectivité qui pourrait vous accompagner."
)
st.text_input(
    "Que cherchez-vous ?",
    key="home_q",
    placeholder="Ex. : portail famille, couverture mobile, données ouvertes…",
    on_change=_search,
)
if st.session_state.get("home_go"):
    st.switch_page(SEARCH_PAGE, query_params={"q": st.session_state.pop("home_go")})
with st.container(horizontal=True, gap="small", key="home_examples"):
    st.caption("Exemples :")
    for example in EXAMPLES:
        st.page_link(SEARCH_PAGE, label=ui.literal(example), query_params={"q": example}, icon=":material/search:")

with ui.guard():
    figures = data.figures()
    latest = data.latest(6)
st.subheader("L'observatoire en chiffres")
a, b, c, d = st.columns(4)
a.metric("Expériences", nombre(figures["experiences"]))
b.metric("Régions avec un porteur", figures["regions"])
c.metric("Technologies citées", nombre(figures["technologies"]))
d.metric("Lieux de médiation", nombre(figures["lieux"]))

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Dernières expériences")
    for hit in latest.results:
        porteurs = ", ".join(p.nom for p in hit.porteurs)
        year = f" ({hit.annee})" if hit.annee else ""
        ui.fiche_link(hit.iri, hit.titre + (f" — {porteurs}" if porteurs else "") + year)
with right:
    st.subheader("Que faire ici ?")
    for page, label, icon in GUIDE:
        st.page_link(page, label=label, icon=icon)
