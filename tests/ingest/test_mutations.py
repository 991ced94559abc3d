"""Property: whatever is done to a sample export, its reader answers with a report or an ``IngestError``.

Hypothesis mutates the sample files the way real exports go wrong (cells emptied or blown up, formula prefixes,
rows cut short or given extra cells, rows dropped, the file cut, re-encoded or with bytes flipped), then runs the
reader's parse step on the result (no store: fast). Whatever the mutation, no exception other than a
``CapitalisError`` escapes (so no traceback reaches a user), and every fault is placed: the file, the row or
record, and for a rejected record the field. Two examples go through the whole import into a real store.

Deterministic (``derandomize``: the same examples on every run, in CI too) and kept small (~30 examples each).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ingest.load import import_file
from ingest.readers import reader_for
from ingest.resolve import Resolver
from ingest.sources import Context, Report
from kg.errors import CapitalisError, IngestError
from kg.store import open_store
from kg.validation import validate_store

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

#: Sizes a cell is blown up to: past the long-text notice, past the oversized limit, past the csv module's limit.
SIZES = (2_500, 40_000, 200_000)
PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- checking one mutated file --------------------------------------------------------------------------------


def parse(path: Path, source: str) -> Report | None:
    """The reader's parse step on a file: its report, or None when it raised an IngestError (checked)."""
    try:
        reader = reader_for(path, source)
        report = Report(reader.source, str(path))
        for _record in reader.read(path, Context(report, Resolver(None, reader.source))):
            pass
    except CapitalisError as error:
        check_error(error, path)
        event(f"IngestError: {error.fault.message.split(':')[0][:40]}")
        return None
    check_report(report, path)
    event(f"report: {len(report.problems) // 10 * 10}+ problems, kinds {', '.join(sorted(_NEW & set(report.kinds())))}")
    return report


_NEW = {"oversized_value", "long_text", "formula_prefix", "extra_cells"}


def check_error(error: CapitalisError, path: Path) -> None:
    assert isinstance(error, IngestError), error
    assert error.fault.file == str(path) and error.fault.message
    assert "Traceback" not in error.message and "field larger than" not in error.message


def check_report(report: Report, path: Path) -> None:
    for problem in report.problems:
        fault = problem.fault
        assert fault.file == str(path) and fault.message, problem
        assert fault.row_or_record, problem  # the row, the record, the sheet or the export: never nowhere
        if problem.outcome == "rejected":
            assert fault.field, problem
        assert len(fault.row_or_record) < 200 and len(fault.message) < 2_000, problem  # no value copied whole


def write(data: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115 - removed by the caller
    with handle:
        handle.write(data)
    return Path(handle.name)


def run(data: bytes, suffix: str, source: str) -> Report | None:
    path = write(data, suffix)
    try:
        return parse(path, source)
    finally:
        path.unlink()


# --- mutations ------------------------------------------------------------------------------------------------

index = st.integers(min_value=0, max_value=10_000)
cell_ops = st.one_of(
    st.tuples(st.just("empty"), index, index),
    st.tuples(st.just("enlarge"), index, index, st.sampled_from(SIZES)),
    st.tuples(st.just("formula"), index, index, st.sampled_from(PREFIXES)),
    st.tuples(st.just("cut"), index, index),
    st.tuples(st.just("extra"), index, st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("drop"), index),
)
byte_changes = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1), st.integers(min_value=0, max_value=255)), min_size=1, max_size=3
)
flips = st.one_of(st.just([]), st.just([]), byte_changes)  # most examples keep their bytes: the cells are the test


def mutate_rows(rows: list[list[str]], ops: list[tuple[Any, ...]]) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for op in ops:
        if not rows:
            break
        row = rows[op[1] % len(rows)]
        if op[0] == "drop":
            rows.remove(row)
        elif op[0] == "extra":
            row.extend(f"en trop {n}" for n in range(op[2]))
        elif not row:
            continue
        elif op[0] == "cut":
            del row[op[2] % len(row) :]
        else:
            column = op[2] % len(row)
            if op[0] == "empty":
                row[column] = ""
            elif op[0] == "enlarge":
                row[column] = (row[column] or "x") * (op[3] // max(1, len(row[column])) + 1)
            else:
                row[column] = op[3] + row[column]
    return rows


def flip(data: bytes, changes: list[tuple[float, int]]) -> bytes:
    out = bytearray(data)
    for where, value in changes:
        if out:
            out[min(len(out) - 1, int(where * len(out)))] = value
    return bytes(out)


def recode(text: str, encoding: str, native: str) -> bytes:
    return text.encode(native if encoding == "native" else encoding, errors="replace")


_TEXT = re.compile(r">([^<>]+)<")
_ATTRIBUTE = re.compile(r'="([^"]*)"')


def mutate_xml(text: str, ops: list[tuple[Any, ...]]) -> str:
    """The same operations on an XML text: a text node or attribute emptied, blown up or prefixed, an element
    line dropped, the file cut."""
    for op in ops:
        kind = op[0]
        if kind in ("drop", "extra"):
            lines = text.splitlines(keepends=True)
            if kind == "drop":
                del lines[op[1] % len(lines)]
            else:
                at = op[1] % len(lines)
                lines.insert(at, f"<oten:inconnu>{'?' * op[2]}</oten:inconnu>\n")
            text = "".join(lines)
            continue
        if kind == "cut":
            text = text[: (op[1] * 7919) % (len(text) + 1)]
            continue
        pattern = _TEXT if op[2] % 2 else _ATTRIBUTE
        matches = list(pattern.finditer(text))
        if not matches:
            continue
        found = matches[op[1] % len(matches)]
        old = found.group(1)
        if kind == "empty":
            new = ""
        elif kind == "enlarge":
            new = (old or "x") * (op[3] // max(1, len(old)) + 1)
        else:
            new = op[3] + old
        text = text[: found.start(1)] + new.replace("\r", "&#13;").replace("\t", "&#9;") + text[found.end(1) :]
    return text


# --- the CSV readers --------------------------------------------------------------------------------------------

CSV_SAMPLES = [
    ("netpublic_lieux_mediation.csv", "netpublic", "utf-8", ","),
    ("netpublic_legacy_latin1.csv", "netpublic", "iso-8859-1", ";"),
    ("villes_internet_labels.csv", "villes-internet-labels", "utf-8", ","),
]


def _csv_rows(name: str, encoding: str, delimiter: str) -> list[list[str]]:
    with open(SAMPLES / name, encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


@pytest.mark.parametrize(("name", "source", "native", "delimiter"), CSV_SAMPLES, ids=[s[0] for s in CSV_SAMPLES])
@PROPERTY
@given(
    ops=st.lists(cell_ops, max_size=6),
    encoding=st.sampled_from(["native", "native", "utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    changes=flips,
)
def test_mutated_csv(
    name: str,
    source: str,
    native: str,
    delimiter: str,
    ops: list[tuple[Any, ...]],
    encoding: str,
    changes: list[tuple[float, int]],
) -> None:
    rows = mutate_rows(_csv_rows(name, native, delimiter), ops)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if delimiter == ";" else "\n").writerows(rows)
    run(flip(recode(out.getvalue(), encoding, native), changes), ".csv", source)


# --- the OTeN reader ------------------------------------------------------------------------------------------


@PROPERTY
@given(
    ops=st.lists(cell_ops, max_size=5),
    encoding=st.sampled_from(["native", "native", "native", "iso-8859-1", "utf-16"]),
    changes=flips,
)
def test_mutated_oten(ops: list[tuple[Any, ...]], encoding: str, changes: list[tuple[float, int]]) -> None:
    text = mutate_xml((SAMPLES / "oten_fiches.xml").read_text(encoding="utf-8"), ops)
    run(flip(recode(text, encoding, "utf-8"), changes), ".xml", "oten")


# --- the workbook readers -------------------------------------------------------------------------------------

_ROW = re.compile(rb"<row [^>]*>.*?</row>", re.DOTALL)


def mutate_workbook(data: bytes, member_ops: list[tuple[int, list[tuple[Any, ...]]]]) -> bytes:
    """The .xlsx with operations on the XML of its sheets and shared strings (a row removed, a string emptied,
    blown up or prefixed, a part cut)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {i.filename: source.read(i) for i in source.infolist()}
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/"))
    targets = [*sheets, *["xl/sharedStrings.xml"] * (len(sheets) if "xl/sharedStrings.xml" in parts else 0)]
    for which, ops in member_ops:
        name = targets[which % len(targets)]
        xml = parts[name]
        for op in ops:
            if op[0] == "drop":
                rows = list(_ROW.finditer(xml))
                if rows:
                    found = rows[op[1] % len(rows)]
                    xml = xml[: found.start()] + xml[found.end() :]
            elif op[0] == "cut" and op[2] % 5 == 0:  # rarely: a broken part
                xml = xml[: (op[1] * 7919) % (len(xml) + 1)]
            else:
                xml = mutate_xml(xml.decode("utf-8"), [op]).encode("utf-8") if op[0] != "cut" else xml
        parts[name] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, parts[info.filename])
    return out.getvalue()


@PROPERTY
@given(
    member_ops=st.lists(st.tuples(index, st.lists(cell_ops, max_size=4)), max_size=3),
    changes=flips,
)
def test_mutated_xlsx(member_ops: list[tuple[int, list[tuple[Any, ...]]]], changes: list[tuple[float, int]]) -> None:
    data = mutate_workbook((SAMPLES / "villes_internet_atlaas.xlsx").read_bytes(), member_ops)
    run(flip(data, changes), ".xlsx", "villes-internet")


@PROPERTY
@given(changes=byte_changes, cut=st.one_of(st.just(1.0), st.floats(min_value=0.2, max_value=1)))
def test_mutated_xls(changes: list[tuple[float, int]], cut: float) -> None:
    """The binary format: bytes flipped (past the OLE2 header, or the file is no workbook at all), the file cut."""
    data = (SAMPLES / "villes_internet_atlaas_legacy.xls").read_bytes()
    body = flip(data[512:], changes)
    run((data[:512] + body)[: max(8, int(cut * len(data)))], ".xls", "villes-internet")


# --- end to end, into a real store ----------------------------------------------------------------------------


@settings(PROPERTY, max_examples=2)
@given(ops=st.lists(cell_ops, min_size=2, max_size=4))
def test_mutated_import_into_a_store(ops: list[tuple[Any, ...]]) -> None:
    rows = mutate_rows(_csv_rows("netpublic_lieux_mediation.csv", "utf-8", ","), [("enlarge", 7, 16, 200_000), *ops])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "lieux.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        with open_store(Path(directory) / "store") as store:
            try:
                report = import_file(store, path)
            except CapitalisError as error:
                check_error(error, path)
                return
            check_report(report, path)
            assert report.rejected >= 1
            assert validate_store(store).conforms

