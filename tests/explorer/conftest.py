"""Fixtures of the explorer's tests: one sample home per session, the environment pointed at it, and a copy of it
where a source wrote hostile text (Markdown, HTML, a spreadsheet formula) into an experience's title."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from kg.context import Context
from kg.settings import Settings
from search import update_index
from tests.explorer.sample_home import EMBEDDER, build_home

#: The experience whose title the hostile home rewrites.
HOSTILE_IRI = "https://w3id.org/capitalis/id/experience/vi-1002"
#: A title as a careless or malicious source could write it: a javascript: link, an HTML tag with a script,
#: emphasis and a Streamlit colour directive; it must be shown exactly like this, and run nothing.
HOSTILE_TITLE = "[clic](javascript:alert(1)) <img src=x onerror=alert(2)> **gras** :red[rouge]"
#: A carrier's name that a spreadsheet would run as a formula.
FORMULA_NAME = '=HYPERLINK("http://exemple.org";"clic")'

APP = Path(__file__).resolve().parents[2] / "explorer" / "streamlit_app.py"


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the four sample sources imported and a search index (built once per session)."""
    return build_home(tmp_path_factory.mktemp("explorer") / "home")


@pytest.fixture
def explorer_home(sample_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The sample home in the environment the explorer reads its settings from (AppTest runs it in-process)."""
    monkeypatch.setenv("CAPITALIS_HOME", str(sample_home))
    monkeypatch.setenv("CAPITALIS_EMBEDDER", EMBEDDER)
    yield sample_home
    st.cache_data.clear()  # the explorer's context and answers belong to this home
    st.cache_resource.clear()


@pytest.fixture
def app(explorer_home: Path):  # type: ignore[no-untyped-def]
    """A fresh AppTest of the whole explorer (navigation, banner, pages)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=60)


@pytest.fixture(scope="session")
def hostile_home(sample_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample home with :data:`HOSTILE_TITLE` as the title of :data:`HOSTILE_IRI` and :data:`FORMULA_NAME`
    as the name of its carrier (Saint-Priest), the search index brought in line."""
    home = tmp_path_factory.mktemp("hostile") / "home"
    shutil.copytree(sample_home, home)
    title = HOSTILE_TITLE.replace("\\", "\\\\").replace('"', '\\"')
    name = FORMULA_NAME.replace("\\", "\\\\").replace('"', '\\"')
    with Context.open(Settings(home=home, embedder=EMBEDDER)) as context:
        context.store.update(
            f"""PREFIX dct: <http://purl.org/dc/terms/>
            DELETE {{ GRAPH ?g {{ <{HOSTILE_IRI}> dct:title ?t }} }}
            INSERT {{ GRAPH ?g {{ <{HOSTILE_IRI}> dct:title "{title}"@fr }} }}
            WHERE {{ GRAPH ?g {{ <{HOSTILE_IRI}> dct:title ?t }} }}"""
        )
        context.store.update(
            f"""PREFIX cap: <https://w3id.org/capitalis/ontology#>
            DELETE {{ GRAPH ?g {{ ?p ?name ?n }} }} INSERT {{ GRAPH ?g {{ ?p ?name "{name}" }} }}
            WHERE {{ GRAPH ?h {{ <{HOSTILE_IRI}> cap:porteur ?p }} GRAPH ?g {{ ?p ?name ?n }}
                     VALUES ?name {{ <http://www.w3.org/2000/01/rdf-schema#label> }} }}"""
        )
        update_index(context)
    return home


@pytest.fixture
def hostile_app(hostile_home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An AppTest of the explorer on the hostile home."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CAPITALIS_HOME", str(hostile_home))
    monkeypatch.setenv("CAPITALIS_EMBEDDER", EMBEDDER)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield AppTest.from_file(str(APP), default_timeout=60)
    st.cache_data.clear()
    st.cache_resource.clear()
