"""What every source reader shares: the record it yields, the report it fills, and the registry.

A reader turns one file into :class:`Record` objects (the RDF of one source record, public and private
parts apart) and reports every rejected or repaired field in the :class:`Report`. The pipeline
(:mod:`ingest.load`) does the rest: hashing, diff against the previous import, withdrawal, loading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from rdflib import URIRef
from rdflib.term import Node

from ingest.resolve import Resolver
from kg.errors import Fault, IngestError
from kg.store import Store, Triple

Outcome = Literal["rejected", "repaired", "reported"]
#: The longest message, and the longest place or field, a problem keeps (see :meth:`Report.problem`).
MESSAGE_MAX = 500
PLACE_MAX = 120


def _shortened(text: str, limit: int) -> str:
    """``text`` whole when short enough, else its beginning and its end around "[…]"."""
    if len(text) <= limit:
        return text
    tail = limit // 5
    return f"{text[: limit - tail - 5]} […] {text[-tail:]}"


@dataclass
class Record:
    """One record of a source (an action, a lieu, a person, a fiche…) mapped to RDF.

    ``entity`` is the main node the record describes (it gets ``prov:wasDerivedFrom`` the record);
    ``triples`` go to the source's public graph, ``private`` to its private graph (contact details).
    """

    source_id: str
    place: str
    entity: URIRef
    kind: str
    triples: list[Triple] = field(default_factory=list)
    private: list[Triple] = field(default_factory=list)


@dataclass
class Problem:
    """A fault in the input and what the importer did about it."""

    fault: Fault
    kind: str
    outcome: Outcome

    def as_dict(self) -> dict[str, str]:
        return {**self.fault.as_dict(), "kind": self.kind, "outcome": self.outcome}


@dataclass
class Report:
    """The summary of one import, as printed by ``--json``."""

    source: str
    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    repaired: int = 0
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    triples: int = 0
    # (predicate, object) facts about the import run itself, from the file (OTeN export/@version, @date)
    run_facts: list[tuple[URIRef, Node]] = field(default_factory=list)
    encoding: str | None = None  # how a text file was decoded (utf-8, cp1252, iso-8859-1), when it matters
    confirms: str | None = None  # the import run this one confirmed without reading (the same file again)

    def problem(self, place: str, field_name: str, message: str, kind: str, outcome: Outcome = "reported") -> None:
        """Record a fault: ``rejected`` drops the record, ``repaired`` keeps a corrected value.

        A message quotes the value at fault; a long one keeps its beginning and its end (what was done), so that
        a blown-up value does not blow up the report (nor a blown-up element or column name its place).
        """
        message = _shortened(message, MESSAGE_MAX)
        place, field_name = _shortened(place, PLACE_MAX), _shortened(field_name, PLACE_MAX)
        self.problems.append(Problem(Fault(self.file, place, field_name, message), kind, outcome))
        if outcome == "rejected":
            self.rejected += 1
        elif outcome == "repaired":
            self.repaired += 1

    @property
    def exit_code(self) -> int:
        """0 clean, 1 partial (something rejected or repaired)."""
        return 1 if self.problems else 0

    def kinds(self) -> Counter[str]:
        return Counter(p.kind for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "file": self.file,
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "rejected": self.rejected,
            "repaired": self.repaired,
            "errors": [p.as_dict() for p in self.problems],
            "rows": self.rows,
            "triples": self.triples,
            **({"encoding": self.encoding} if self.encoding else {}),
            **({"confirms": self.confirms} if self.confirms else {}),
        }


@dataclass
class Context:
    """What a reader may use while mapping: the report, the resolver and its options."""

    report: Report
    resolver: Resolver
    options: dict[str, Any] = field(default_factory=dict)


class Reader(Protocol):
    """A source format: recognised by content, read into records.

    Optional members, looked up with ``getattr`` by the pipeline: ``scoped_snapshot = True`` when the source
    has several formats with records of their own (an import then replaces only its format's records, see
    ``ingest.load.scope_graph``), :meth:`after_load`, and :meth:`diagnose`.
    """

    source: str  # the named graph and the ``source`` of the records: villes-internet, netpublic, oten
    label: str

    def sniff(self, path: Path) -> bool:
        """True when the file's content (not its name) is of this format."""
        ...

    def read(self, path: Path, ctx: Context) -> Iterator[Record]:
        """Yield the records of the file; report faults in ``ctx.report``; raise IngestError if unreadable."""
        ...

    def diagnose(self, path: Path) -> tuple[float, IngestError] | None:
        """Optional: for a file :meth:`sniff` refused, the fault that makes it nearly this format (a wrong
        encoding, a missing sheet or column) with how much of the format it shows (0 to 1: the share of its
        sheets or columns found), or None when it is not nearly this format."""
        ...

    def after_load(self, store: Store) -> None:
        """Optional: called once the source's graphs are swapped in (cross-record fix-ups, e.g. re-pointing)."""
        ...


#: Every reader, keyed by format label: filled by :func:`register` when a reader's module is imported
#: (:mod:`ingest.readers` imports them all; this module imports none).
REGISTRY: dict[str, Reader] = {}


def register(factory: Callable[[], Reader]) -> Callable[[], Reader]:
    """Class decorator: instantiate and register a reader under its format label."""
    reader = factory()
    REGISTRY[reader.label] = reader
    return factory


#: French month names and their abbreviations, folded (lowercase, no accents, as ``normalise_texte`` gives
#: them), to their number: the readers parse dates written in words ("5 oct. 2017", "mars/2011").
MOIS: dict[str, int] = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
