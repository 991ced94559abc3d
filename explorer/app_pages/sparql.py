"""SPARQL console: documented example queries, an editor, results as a table, CSV and JSON downloads."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from explorer import data, ui

st.title("Console SPARQL")
st.markdown(
    "Interrogez le graphe en **SPARQL 1.1** (lecture seule, graphes publics ; les données personnelles n'y "
    "sont jamais). Partez d'un exemple ou écrivez votre requête. Préfixes utiles : `cap:` "
    "(`https://w3id.org/capitalis/ontology#`), `skos:`, `dct:`, `prov:`, `igeo:` (INSEE)."
)
st.caption(
    "Le graphe par défaut est l'union des graphes publics (un graphe nommé par source) : un fait que deux sources "
    "donnent y figure deux fois. Comptez avec `COUNT(DISTINCT …)`, ou nommez les graphes avec `GRAPH ?g`. Les "
    "requêtes d'exemple comptent ainsi, comme le tableau de bord (une expérience par région de ses porteurs)."
)

examples = data.examples()
by_id = {e["id"]: e for e in examples}
choice = st.selectbox(
    "Exemple",
    [e["id"] for e in examples],
    format_func=lambda i: by_id[i]["titre"],
    index=None,
    placeholder="Choisir une requête d'exemple…",
    key="sparql_example",
)
if choice and st.session_state.get("sparql_loaded") != choice:
    st.session_state["sparql_query"] = by_id[choice]["query"]
    st.session_state["sparql_loaded"] = choice
    st.session_state["sparql_run"] = by_id[choice]["query"]  # an example runs as soon as it is chosen
if choice:
    st.caption(f"**Question** : {by_id[choice]['question']}")

query = st.text_area(
    "Requête",
    key="sparql_query",
    height=260,
    placeholder="SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10",
)
if st.button("Exécuter", type="primary", icon=":material/play_arrow:"):
    if not (query or "").strip():
        st.error("**Requête** : le champ est vide.")
        st.stop()
    st.session_state["sparql_run"] = query

query = st.session_state.get("sparql_run")
if query:
    with ui.guard(), st.spinner("Requête en cours…"):
        kind, body = data.sparql(query, "json")
    if kind in ("construct", "describe"):
        with ui.guard():
            _, turtle = data.sparql(query, "ttl")
        st.code(turtle.decode("utf-8"), language="turtle")
        st.download_button("Télécharger (Turtle)", turtle, "resultats.ttl", "text/turtle")
        st.stop()
    payload = json.loads(body)
    if "boolean" in payload:
        st.success("Réponse : **vrai**" if payload["boolean"] else "Réponse : **faux**")
        st.stop()
    variables = payload["head"]["vars"]
    rows = [{v: b.get(v, {}).get("value") for v in variables} for b in payload["results"]["bindings"]]
    frame = pd.DataFrame(rows, columns=variables)
    st.markdown(f"**{len(frame)} ligne(s)**")
    st.dataframe(frame, hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.download_button(
        "Télécharger en CSV",
        lambda: data.sparql(query, "csv")[1],  # run again in CSV on click only
        "resultats.csv",
        "text/csv",
        icon=":material/download:",
    )
    right.download_button(
        "Télécharger en JSON", body, "resultats.json", "application/sparql-results+json", icon=":material/download:"
    )
