"""SPARQL console: documented example queries, an editor with the prefixes ready and a highlighted view of the
query (numbered lines), results as a table, CSV and JSON downloads; a syntax error names its line and column.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

from explorer import data, ui
from kg.errors import CapitalisError

#: The prefixes of the graph, declared in a new query and added on demand.
PREFIXES = {
    "cap": "https://w3id.org/capitalis/ontology#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "igeo": "http://rdf.insee.fr/def/geo#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
PREFIX_BLOCK = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
STARTER = (
    PREFIX_BLOCK
    + "\nSELECT ?experience ?titre WHERE {\n  ?experience a cap:Experience ; dct:title ?titre .\n}\nLIMIT 10\n"
)


def _with_prefixes(query: str) -> str:
    """``query`` with a declaration for every known prefix it uses and does not declare."""
    declared = {m.lower() for m in re.findall(r"(?im)^\s*PREFIX\s+([\w-]*):", query)}
    used = [n for n in PREFIXES if n not in declared and re.search(rf"(?<![\w?$<]){n}:", query)]
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in used) + query


def _add_prefixes() -> None:
    st.session_state["sparql_query"] = _with_prefixes(st.session_state.get("sparql_query") or "")


st.title("Console SPARQL")
st.markdown(
    "Interrogez le graphe en **SPARQL 1.1** (lecture seule, graphes publics ; les données personnelles n'y "
    "sont jamais). Partez d'un exemple ou modifiez la requête ci-dessous : les préfixes du graphe (`cap:`, "
    "`dct:`, `skos:`, `prov:`, `igeo:` pour l'INSEE, `rdfs:`, `xsd:`) y sont déclarés."
)
st.session_state.setdefault("sparql_query", STARTER)
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
    st.caption(f"**Question** : {ui.literal(by_id[choice]['question'])}")

edit, view = st.columns(2, gap="medium")
with edit:
    query = st.text_area(
        "Requête",
        key="sparql_query",
        height=320,
        placeholder="SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10",
        help="Ctrl+Entrée pour valider la saisie ; « Exécuter » lance la requête.",
    )
    run, prefixes = st.columns([1, 1])
    clicked = run.button("Exécuter", type="primary", icon=":material/play_arrow:")
    prefixes.button(
        "Ajouter les préfixes",
        on_click=_add_prefixes,
        type="tertiary",
        icon=":material/add:",
        help="Déclare les préfixes du graphe (cap:, dct:, skos:…) que la requête utilise sans les déclarer.",
    )
with view:
    st.markdown("**Aperçu** (coloration syntaxique, lignes numérotées)")
    st.code(query or "", language="sparql", line_numbers=True, height=320)
if clicked:
    if not (query or "").strip():
        st.error("**Requête** : le champ est vide.")
        st.stop()
    st.session_state["sparql_run"] = query

query = st.session_state.get("sparql_run")
if query:
    try:
        with st.spinner("Requête en cours…"):
            kind, body = data.sparql(query, "json")
    except CapitalisError as exc:
        ui.sparql_error(exc, query)
        st.stop()
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
        lambda: ui.sparql_csv(data.sparql(query, "csv")[1]),  # run again in CSV on click only
        "resultats.csv",
        "text/csv",
        icon=":material/download:",
    )
    right.download_button(
        "Télécharger en JSON", body, "resultats.json", "application/sparql-results+json", icon=":material/download:"
    )
