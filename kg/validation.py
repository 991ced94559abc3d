"""SHACL validation against ``ontology/shapes.ttl`` — the contract of the graph — with a readable report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from kg.store import Store
from ontology import shapes_graph, validate


@dataclass
class Violation:
    focus: str
    path: str
    message: str
    severity: str
    shape: str
    value: str = ""


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    triples: int = 0

    def summary(self) -> dict[str, int]:
        """Number of violations per message, most frequent first."""
        return dict(Counter(v.message for v in self.violations).most_common())

    def as_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "triples": self.triples,
            "violations": [asdict(v) for v in self.violations],
            "summary": self.summary(),
        }


def validate_graph(data: Graph) -> ValidationReport:
    """Validate one rdflib graph (a reader's output, a test sample) with pyshacl, ontology merged in."""
    conforms, results, _ = validate(data)
    return _report(conforms, results, len(data))


def validate_store(store: Store) -> ValidationReport:
    """Validate every graph of the store, the private ones included."""
    conforms, results = store.shacl(shapes_graph())
    triples = sum(
        int(r["n"]) for r in store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    )
    return _report(conforms, results, triples)


def _report(conforms: bool, results: Graph, triples: int) -> ValidationReport:
    violations = [_violation(results, r) for r in results.subjects(RDF.type, SH.ValidationResult)]
    violations.sort(key=lambda v: (v.severity, v.message, v.focus))
    return ValidationReport(bool(conforms), violations, triples)


def _violation(results: Graph, node: Any) -> Violation:
    def first(pred: URIRef) -> str:
        value = results.value(node, pred)
        return "" if value is None else str(value)

    return Violation(
        focus=first(SH.focusNode),
        path=first(SH.resultPath),
        message=first(SH.resultMessage),
        severity=first(SH.resultSeverity).rsplit("#", 1)[-1],
        shape=first(SH.sourceShape),
        value=first(SH.value),
    )
