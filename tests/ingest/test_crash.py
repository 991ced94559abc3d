"""Crash safety: an import killed (SIGKILL) at a named point leaves the public graphs before or after, never between.

Each case runs the import in a real subprocess with ``CAPITALIS_FAILPOINT`` set (:mod:`kg.failpoint`), which
kills itself with SIGKILL at that point; then the store opens, validates, and a re-run ends as a clean import does.
The states before and after a clean import are built once per (steps before, file) and shared by the cases; each
case starts from a copy of the closed "before" store.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.load import ensure_ontology, import_file
from kg.store import BULK_ADD_FROM, JOURNAL, OxigraphStore, is_private
from kg.validation import validate_store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
NETPUBLIC = SAMPLES / "netpublic_lieux_mediation.csv"
OTEN = SAMPLES / "oten_fiches.xml"

_IMPORT = (
    "import sys; from pathlib import Path; from ingest.load import import_file; import kg.store\n"
    "kg.store.BULK_ADD_FROM = int(sys.argv[3])\n"
    "with kg.store.OxigraphStore(Path(sys.argv[1])) as s: import_file(s, Path(sys.argv[2]))"
)


def _killed_import(store: Path, path: Path, failpoint: str, bulk_add_from: int) -> None:
    env = {**os.environ, "CAPITALIS_FAILPOINT": failpoint, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", _IMPORT, str(store), str(path), str(bulk_add_from)]
    done = subprocess.run(command, env=env, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


_TIMES = re.compile(rb"\d{8}T\d{12}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _public(store: OxigraphStore) -> set[bytes]:
    """The public graphs as N-Quads lines, run times masked (two runs differ by their time only)."""
    out = io.BytesIO()
    store.dump(out, "nq", [g for g in store.graphs() if not is_private(g)])
    return {_TIMES.sub(b"T", line) for line in out.getvalue().splitlines()}


@dataclass(frozen=True)
class Reference:
    """The store before an import (closed, to be copied) and the public graphs before and after it, clean."""

    before_dir: Path
    before: set[bytes]
    after: set[bytes]
    counts: dict[str, int]


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[Path], Path], Reference]:
    """The reference states of each (steps before, file) pair, built once for the cases that share them."""
    cache: dict[tuple[tuple[Path, ...], Path], Reference] = {}

    def reference(before: list[Path], path: Path) -> Reference:
        key = (tuple(before), path)
        if key not in cache:
            root = tmp_path_factory.mktemp("reference")
            with OxigraphStore(root / "before") as store:
                ensure_ontology(store)  # not the import's: loaded before it, as every command does
                for step in before:
                    import_file(store, step)
                before_state = _public(store)
            shutil.copytree(root / "before", root / "after")
            with OxigraphStore(root / "after") as store:
                report = import_file(store, path).as_dict()
                after_state = _public(store)
            counts = {k: report[k] for k in ("created", "updated", "unchanged", "withdrawn")}
            cache[key] = Reference(root / "before", before_state, after_state, counts)
        return cache[key]

    return reference


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Smaller copies of the samples (every case still passes its failpoint): the national file's first 120 lieux,
    the same with one lieu renamed and one removed (a re-import updates an existing graph), the first 30 fiches."""
    root = tmp_path_factory.mktemp("inputs")
    lines = NETPUBLIC.read_text(encoding="utf-8").splitlines(keepends=True)[:121]
    (root / "netpublic.csv").write_text("".join(lines), encoding="utf-8")
    changed = "".join(line for line in lines if not line.startswith("np-epn-0108,"))
    changed = changed.replace("Écran Partagé - antenne du Chesnay", "Écran Partagé - antenne de Chesnay", 1)
    (root / "changed").mkdir()
    (root / "changed" / "netpublic.csv").write_text(changed, encoding="utf-8")
    text = OTEN.read_text(encoding="utf-8")
    cut = 0
    for _ in range(30):
        cut = text.index("</oten:fiche>", cut) + len("</oten:fiche>")
    (root / "oten.xml").write_text(text[:cut] + "\n</oten:export>\n", encoding="utf-8")
    changed_path = root / "changed" / "netpublic.csv"
    return {"netpublic": root / "netpublic.csv", "changed": changed_path, "oten": root / "oten.xml"}


CASES = [
    ("first-import-mid-stream", [], "netpublic", "import.reading:50"),
    ("first-import-staged", [], "netpublic", "import.staged"),
    ("first-import-private-written", [], "oten", "import.private-committed"),
    # a first import writes its graphs in place (noted): killed before the commit closes the note, private or public
    ("first-import-in-place-private", [], "netpublic", "store.in-place"),
    ("first-import-in-place-public", [], "netpublic", "store.in-place:2"),
    ("update-mid-stream", ["netpublic"], "changed", "import.reading:100"),
    ("update-private-written", ["netpublic"], "changed", "import.private-committed"),
    ("update-committed", ["netpublic"], "changed", "import.committed"),
    # the OTeN import adds its resolution decisions to the graph the NetPublic import created: bulk-loaded (every
    # addition is, with BULK_ADD_FROM at 1), killed before and after the loads; its own graphs are written in place,
    # killed before the private commit closes their note, and after the public loads, before the transaction that
    # closes both notes
    ("added-bulk-noted", ["netpublic"], "oten", "store.bulk-creation"),
    ("added-bulk-loaded", ["netpublic"], "oten", "store.bulk-loaded"),
    ("added-in-place-private", ["netpublic"], "oten", "store.in-place"),
    ("added-bulk-loaded-and-in-place", ["netpublic"], "oten", "store.in-place:2"),
]


@pytest.mark.parametrize(("name", "before", "file", "failpoint"), CASES, ids=[c[0] for c in CASES])
def test_killed_import_leaves_before_or_after(
    tmp_path: Path,
    inputs: dict[str, Path],
    references: Callable[[list[Path], Path], Reference],
    name: str,
    before: list[str],
    file: str,
    failpoint: str,
) -> None:
    path = inputs[file]
    reference = references([inputs[step] for step in before], path)
    shutil.copytree(reference.before_dir, tmp_path / "store")
    _killed_import(tmp_path / "store", path, failpoint, 1 if name.startswith("added-") else BULK_ADD_FROM)

    with OxigraphStore(tmp_path / "store") as store:
        assert validate_store(store).conforms
        state = _public(store)
        assert state in (reference.before, reference.after), name
        if name.startswith("added-bulk-loaded"):  # the killed commit's loads were undone, its journal removed
            assert state == reference.before and not (tmp_path / "store" / JOURNAL).exists()
        report = import_file(store, path).as_dict()
        if state == reference.before:  # the killed run left nothing: the re-run is the import, and says so
            assert {k: report[k] for k in reference.counts} == reference.counts
            assert _public(store) == reference.after
        assert validate_store(store).conforms
