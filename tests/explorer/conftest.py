"""Fixtures of the explorer's tests: one sample home per session, the environment pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from tests.explorer.sample_home import EMBEDDER, build_home

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
