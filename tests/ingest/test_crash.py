"""Crash safety: an import killed (SIGKILL) at a named point leaves the public graphs before or after, never between.

Each case runs the import in a real subprocess with ``CAPITALIS_FAILPOINT`` set (:mod:`ingest.failpoint`), which
kills itself with SIGKILL at that point; then the store opens, validates, and a re-run ends as a clean import does.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.load import ensure_ontology, import_file
from kg.store import OxigraphStore, is_private
from kg.validation import validate_store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
NETPUBLIC = SAMPLES / "netpublic_lieux_mediation.csv"
OTEN = SAMPLES / "oten_fiches.xml"

_IMPORT = (
    "import sys; from pathlib import Path; from ingest.load import import_file; from kg.store import OxigraphStore\n"
    "with OxigraphStore(Path(sys.argv[1])) as s: import_file(s, Path(sys.argv[2]))"
)


def _killed_import(store: Path, path: Path, failpoint: str) -> None:
    env = {**os.environ, "CAPITALIS_FAILPOINT": failpoint, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _IMPORT, str(store), str(path)], env=env, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


_TIMES = re.compile(rb"\d{8}T\d{12}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _public(store: OxigraphStore) -> set[bytes]:
    """The public graphs as N-Quads lines, run times masked (two runs differ by their time only)."""
    out = io.BytesIO()
    store.dump(out, "nq", [g for g in store.graphs() if not is_private(g)])
    return {_TIMES.sub(b"T", line) for line in out.getvalue().splitlines()}


def _state(tmp: Path, name: str, steps: list[Path]) -> set[bytes]:
    with OxigraphStore(tmp / name) as store:
        ensure_ontology(store)  # not the import's: loaded before it, as every command does
        for path in steps:
            import_file(store, path)
        return _public(store)


@pytest.fixture(scope="module")
def changed_netpublic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The national file with one lieu renamed and one removed: a re-import updates an existing graph."""
    text = NETPUBLIC.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("np-epn-0108,"))
    path = tmp_path_factory.mktemp("np") / "netpublic_lieux_mediation.csv"
    path.write_text(text.replace("Écran Partagé Le Chesnay", "Écran Partagé du Chesnay", 1), encoding="utf-8")
    return path


CASES = [
    ("first-import-mid-stream", [], NETPUBLIC, "import.reading:50"),
    ("first-import-staged", [], NETPUBLIC, "import.staged"),
    ("first-import-private-written", [], OTEN, "import.private-committed"),
    ("update-mid-stream", [NETPUBLIC], "changed", "import.reading:100"),
    ("update-private-written", [NETPUBLIC], "changed", "import.private-committed"),
    ("update-committed", [NETPUBLIC], "changed", "import.committed"),
]


@pytest.mark.parametrize(("name", "before", "file", "failpoint"), CASES, ids=[c[0] for c in CASES])
def test_killed_import_leaves_before_or_after(
    tmp_path: Path, changed_netpublic: Path, name: str, before: list[Path], file: Path | str, failpoint: str
) -> None:
    path = changed_netpublic if file == "changed" else file
    assert isinstance(path, Path)
    before_state = _state(tmp_path, "before", before)
    after_state = _state(tmp_path, "after", [*before, path])
    clean_report = None
    with OxigraphStore(tmp_path / "clean") as clean:
        for step in before:
            import_file(clean, step)
        clean_report = import_file(clean, path).as_dict()
        clean_state = _public(clean)

    with OxigraphStore(tmp_path / "store") as store:
        ensure_ontology(store)
        for step in before:
            import_file(store, step)
    _killed_import(tmp_path / "store", path, failpoint)

    with OxigraphStore(tmp_path / "store") as store:
        assert validate_store(store).conforms
        state = _public(store)
        assert state in (before_state, after_state), name
        report = import_file(store, path).as_dict()
        if state == before_state:  # the killed run left nothing: the re-run is the import, and says so
            assert {k: report[k] for k in ("created", "updated", "unchanged", "withdrawn")} == {
                k: clean_report[k] for k in ("created", "updated", "unchanged", "withdrawn")
            }
            assert _public(store) == clean_state
        assert validate_store(store).conforms
