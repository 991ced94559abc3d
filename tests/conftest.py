"""Shared fixtures: a real embedded store in a temporary directory, the sample source files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import settings
from kg.store import OxigraphStore, open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh CAPITALIS_HOME for one test, configured as the process settings."""
    settings.configure(home=tmp_path / "home")
    yield tmp_path / "home"
    settings.reset()


@pytest.fixture
def store(home: Path) -> Iterator[OxigraphStore]:
    """The real embedded store, empty, in the test's home."""
    with open_store(home / "store") as s:
        yield s
