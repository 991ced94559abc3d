"""Fixtures of the explorer's tests: one sample home per session, the settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import settings
from tests.explorer.sample_home import EMBEDDER, build_home

APP = Path(__file__).resolve().parents[2] / "explorer" / "streamlit_app.py"


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the four sample sources imported and a search index (built once per session)."""
    home = build_home(tmp_path_factory.mktemp("explorer") / "home")
    settings.reset()
    return home


@pytest.fixture
def explorer_home(sample_home: Path) -> Iterator[Path]:
    """The sample home configured as this process's settings (AppTest runs the app in-process)."""
    from search.engine import reset_cache

    settings.configure(home=sample_home, embedder=EMBEDDER)
    yield sample_home
    settings.reset()
    reset_cache()


@pytest.fixture
def app(explorer_home: Path):  # type: ignore[no-untyped-def]
    """A fresh AppTest of the whole explorer (navigation, banner, pages)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=60)
