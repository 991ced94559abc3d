"""The sample store the parrainage tests read: Villes Internet and OTeN samples, imported by the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.load import import_file
from kg.store import OxigraphStore, memory_store

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def sample() -> Iterator[OxigraphStore]:
    store = memory_store()
    import_file(store, SAMPLES / "villes_internet_atlaas.xlsx")
    import_file(store, SAMPLES / "oten_fiches.xml")
    yield store
    store.close()
