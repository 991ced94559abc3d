"""Capitalis explorer: the entry point ``streamlit run explorer/streamlit_app.py`` (or ``capitalis explore``).

One page per use, assembled with ``st.navigation``: the home page at ``/``, the search at ``/recherche?q=…``.
Every page carries the sample-data banner. The fiche page lives at ``/fiche?iri=<IRI percent-encoded>``
(``explorer.FICHE_URL_TEMPLATE``), the deep link of every entity. The explorer's context (settings from the
environment, the store read-only) is built and cached by :mod:`explorer.data`, which every page calls.
"""

from __future__ import annotations

import streamlit as st

from explorer import data, ui

st.set_page_config(page_title="Capitalis — explorateur", page_icon="🔎", layout="wide")

# The home page is the default one, served at "/" (a default page has no other address: Streamlit ignores its
# url_path); the search page is then reachable, and shareable, at "/recherche?q=…".
PAGES = [
    st.Page("app_pages/accueil.py", title="Accueil", icon=":material/home:", default=True),
    st.Page("app_pages/recherche.py", title="Recherche", icon=":material/search:", url_path="recherche"),
    st.Page("app_pages/fiche.py", title="Fiches", icon=":material/description:", url_path="fiche"),
    st.Page("app_pages/parrainage.py", title="Parrainage", icon=":material/handshake:", url_path="parrainage"),
    st.Page(
        "app_pages/tableau_de_bord.py",
        title="Tableau de bord",
        icon=":material/monitoring:",
        url_path="tableau-de-bord",
    ),
    st.Page("app_pages/sparql.py", title="SPARQL", icon=":material/terminal:", url_path="sparql"),
]

page = st.navigation(PAGES, position="top")
with st.sidebar:
    st.markdown("### Capitalis")
    st.caption("Observatoire des projets numériques des collectivités territoriales.")
    if st.button("Recharger les données", help="Relit l'entrepôt (après un nouvel import)."):
        data.refresh()
ui.page_style()
ui.banner()
page.run()
