"""Shared fixtures: a real embedded store in a temporary directory, the sample source files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.context import Context
from kg.settings import Settings
from kg.store import OxigraphStore, open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh CAPITALIS_HOME for one test (created when something is written in it)."""
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[OxigraphStore]:
    """The real embedded store, empty, in the test's home."""
    with open_store(home / "store") as s:
        yield s


@pytest.fixture
def context(home: Path) -> Iterator[Context]:
    """A context on a real embedded store, empty, in the test's home (default settings otherwise)."""
    with Context.open(Settings(home=home)) as ctx:
        yield ctx
