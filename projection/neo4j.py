"""The public graphs as a Neo4j property graph: synchronised over Bolt, or exported for ``neo4j-admin import``.

The projection (:func:`project`), one rule for both ways out:

- one node per resource: every IRI of the data namespace (``https://w3id.org/capitalis/id/…``) that is the
  subject of a triple in a public graph (private graphs are never read), with the label ``Resource`` and its IRI
  as the unique key ``iri``; the ontology's own terms (classes, properties) are not projected;
- its ``rdf:type`` local names as labels (``Experience``, ``Commune``, ``Concept``). A class outside the Capitalis
  ontology whose local name is also a Capitalis term takes its prefix, so that the INSEE territory
  ``igeo:Commune`` (``IgeoCommune``) is not counted with the collectivité ``cap:Commune`` (``Commune``);
- literals as properties named by the predicate's local name, with the language as suffix (``prefLabel_fr``);
  numbers and booleans typed, dates and everything else as text; several values make a list;
- an IRI of the data namespace as object: a relationship typed by the predicate's local name (``porteur``,
  ``territoire``, SKOS ``broader``); any other IRI (INSEE, web pages): a text property;
- ``hash``, the SHA-256 of the node's triples (as sorted N-Triples lines) and of its graph names, and
  ``graphes``, the names of the public graphs that describe it.

:func:`sync` is incremental: it reads ``iri``/``hash`` of the nodes already there and writes only the nodes
whose hash changed (properties replaced, labels corrected, outgoing relationships rebuilt), the new ones
(with the relationships pointing to them) and deletes the withdrawn ones; a second sync with nothing changed
writes nothing. Writes go in batches of ``UNWIND $rows … MERGE`` inside managed transactions
(``session.execute_write``), retried by the driver on transient errors. Labels and relationship types cannot be
query parameters in Cypher: rows are grouped by label set / type and the names, checked against
``[A-Za-z_][A-Za-z0-9_]*``, are written into the query between backticks (no APOC needed).

Only this module imports the ``neo4j`` driver (and only :func:`connect` does, so that :func:`export` works
without it).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import RDF, XSD, Literal, URIRef

from kg.errors import StoreError
from kg.store import Store, is_private, ntriples_line
from ontology.namespaces import CAP, ID, PREFIXES

#: The label every projected node carries: the unique constraint on ``iri`` is declared on it.
RESOURCE = "Resource"
BATCH = 1_000
#: neo4j-admin's array delimiter in the exported CSV (pass ``--array-delimiter`` the same character):
#: the ASCII unit separator never occurs in our texts, unlike ``;``.
ARRAY_DELIMITER = "\x1f"
_DATA = str(ID)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER = {str(XSD.integer), str(XSD.int), str(XSD.long), str(XSD.short), str(XSD.nonNegativeInteger)}
_INTEGER |= {str(XSD.positiveInteger), str(XSD.gYear)}
_FLOAT = {str(XSD.decimal), str(XSD.double), str(XSD.float)}
_CAP_TERMS = frozenset(CAP.__annotations__)
_PREFIX_OF = {ns: prefix for prefix, ns in PREFIXES.items()}


@dataclass
class Node:
    """One resource as a property-graph node."""

    iri: str
    labels: list[str]
    properties: dict[str, Any]
    relationships: dict[str, list[str]] = field(default_factory=dict)  # type -> target IRIs

    @property
    def hash(self) -> str:
        return str(self.properties["hash"])


@dataclass
class SyncReport:
    """What one :func:`sync` wrote."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    relationships: int = 0  # relationships (re)written

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# --- the projection ------------------------------------------------------------------------------------------


def local_name(iri: str) -> str:
    """What follows the last ``#`` or ``/`` of an IRI, reduced to a name Cypher accepts without quoting."""
    name = re.split(r"[#/]", iri.rstrip("/#"))[-1]
    name = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    return name if not name[0].isdigit() else f"_{name}"


def class_label(iri: str) -> str:
    """The node label of a class: its local name, prefixed when a Capitalis term has the same name."""
    name = local_name(iri)
    namespace = iri[: len(iri) - len(re.split(r"[#/]", iri)[-1])]
    if namespace != str(CAP) and name in _CAP_TERMS and namespace in _PREFIX_OF:
        return _PREFIX_OF[namespace].capitalize() + name
    return name


def _value(term: Literal) -> Any:
    datatype = str(term.datatype) if term.datatype else ""
    try:
        if datatype in _INTEGER:
            return int(term)
        if datatype in _FLOAT:
            return float(term)
        if datatype == str(XSD.boolean):
            return str(term).strip().lower() in ("true", "1")
    except ValueError:
        pass
    return str(term)


def _graph_name(graph: str) -> str:
    return graph.rsplit("/graph/", 1)[-1]


def project(store: Store, graphs: Iterable[str] | None = None) -> dict[str, Node]:
    """The nodes of the public graphs (all by default; private ones are refused), keyed by IRI."""
    wanted = [g for g in (graphs if graphs is not None else store.graphs()) if not is_private(g)]
    lines: dict[str, list[str]] = defaultdict(list)
    described_in: dict[str, set[str]] = defaultdict(set)
    types: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for graph in wanted:
        for s, p, o in store.triples(graph):
            if not isinstance(s, URIRef) or not s.startswith(_DATA):
                continue
            iri = str(s)
            lines[iri].append(ntriples_line((s, p, o)))
            described_in[iri].add(_graph_name(graph))
            if p == RDF.type and isinstance(o, URIRef):
                types[iri].add(class_label(str(o)))
            elif isinstance(o, Literal):
                key = local_name(str(p)) + (f"_{o.language.replace('-', '_')}" if o.language else "")
                values[iri][key].append(_value(o))
            elif isinstance(o, URIRef) and o.startswith(_DATA):
                links[iri][local_name(str(p))].append(str(o))
            elif isinstance(o, URIRef):
                values[iri][local_name(str(p))].append(str(o))
    nodes: dict[str, Node] = {}
    for iri, own in lines.items():
        digest = hashlib.sha256("".join(sorted(set(own))).encode())
        digest.update(" ".join(sorted(described_in[iri])).encode())
        properties: dict[str, Any] = {}
        for key, found in sorted(values[iri].items()):
            unique = sorted(set(found), key=lambda v: (type(v).__name__, v))
            if len({type(v) for v in unique}) > 1:  # a Neo4j list holds one type
                unique = sorted({str(v) for v in unique})
            properties[key] = unique[0] if len(unique) == 1 else unique
        properties.update(iri=iri, hash=digest.hexdigest(), graphes=sorted(described_in[iri]))
        relationships = {k: sorted(set(v)) for k, v in sorted(links[iri].items())}
        nodes[iri] = Node(iri, sorted(types[iri]), properties, relationships)
    return nodes


# --- Bolt ------------------------------------------------------------------------------------------------------


def connect(url: str, user: str, password: str) -> Any:
    """A ``neo4j`` driver on ``bolt://`` or ``neo4j://`` ``url``, its connectivity checked (French error if not)."""
    # lazily: the Bolt driver is needed by `capitalis neo4j` only, not by every command that imports the projection
    import neo4j
    from neo4j.exceptions import Neo4jError, ServiceUnavailable  # lazily, with the driver

    driver = neo4j.GraphDatabase.driver(url, auth=(user, password))
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, Neo4jError, OSError) as exc:
        driver.close()
        raise StoreError(f"serveur Neo4j injoignable à {url} : {exc}") from exc
    return driver


def _quoted(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"nom de label ou de relation refusé : {name!r}")
    return f"`{name}`"


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ensure_schema(driver: Any, database: str | None, labels: Iterable[str] = ()) -> None:
    """The unique constraint on ``Resource.iri`` and an ``iri`` index per label (idempotent)."""
    statements = [f"CREATE CONSTRAINT resource_iri IF NOT EXISTS FOR (n:{RESOURCE}) REQUIRE n.iri IS UNIQUE"]
    statements += [
        f"CREATE INDEX {label.lower()}_iri IF NOT EXISTS FOR (n:{_quoted(label)}) ON (n.iri)"
        for label in sorted(set(labels))
        if label != RESOURCE
    ]
    with driver.session(database=database) as session:
        for statement in statements:
            session.run(statement).consume()  # schema commands run in auto-commit transactions


def sync(store: Store, driver: Any, database: str | None = None, *, batch: int = BATCH) -> SyncReport:
    """Bring the Neo4j database in line with the public graphs, writing only what changed (see the module)."""
    nodes = project(store)
    ensure_schema(driver, database, {label for node in nodes.values() for label in node.labels})
    report = SyncReport()
    with driver.session(database=database) as session:

        def write(query: str, rows: list[Any]) -> None:
            for chunk in _batches(rows, batch):
                session.execute_write(lambda tx, chunk=chunk: tx.run(query, rows=chunk).consume())

        existing = session.execute_read(
            lambda tx: {
                r["iri"]: (r["hash"], set(r["labels"]))
                for r in tx.run(f"MATCH (n:{RESOURCE}) RETURN n.iri AS iri, n.hash AS hash, labels(n) AS labels")
            }
        )
        gone = sorted(set(existing) - set(nodes))
        new = sorted(set(nodes) - set(existing))
        changed = sorted(i for i in set(nodes) & set(existing) if existing[i][0] != nodes[i].hash)
        report.deleted, report.created, report.updated = len(gone), len(new), len(changed)
        report.unchanged = len(nodes) - len(new) - len(changed)

        write(f"UNWIND $rows AS iri MATCH (n:{RESOURCE} {{iri: iri}}) DETACH DELETE n", gone)
        touched = new + changed
        write(
            f"UNWIND $rows AS row MERGE (n:{RESOURCE} {{iri: row.iri}}) SET n = row.properties",
            [{"iri": i, "properties": nodes[i].properties} for i in touched],
        )
        # labels: the stale ones removed, the missing ones added, one query per label (set)
        stale: dict[str, list[str]] = defaultdict(list)
        for iri in changed:
            for label in existing[iri][1] - set(nodes[iri].labels) - {RESOURCE}:
                stale[label].append(iri)
        for label, iris in sorted(stale.items()):
            write(f"UNWIND $rows AS iri MATCH (n:{RESOURCE} {{iri: iri}}) REMOVE n:{_quoted(label)}", iris)
        by_labels: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for iri in touched:
            if nodes[iri].labels:
                by_labels[tuple(nodes[iri].labels)].append(iri)
        for labels, iris in sorted(by_labels.items()):
            names = ":".join(_quoted(label) for label in labels)
            write(f"UNWIND $rows AS iri MATCH (n:{RESOURCE} {{iri: iri}}) SET n:{names}", iris)
        # relationships: those of the changed nodes rebuilt; those from and to the new nodes added
        write(f"UNWIND $rows AS iri MATCH (n:{RESOURCE} {{iri: iri}})-[r]->() DELETE r", changed)
        wanted = set(new)
        edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for iri, node in nodes.items():
            rebuilt = iri in wanted or iri in changed
            for kind, targets in node.relationships.items():
                for target in targets:
                    if target in nodes and (rebuilt or target in wanted):
                        edges[kind].add((iri, target))
        for kind, pairs in sorted(edges.items()):
            rows = [{"s": s, "o": o} for s, o in sorted(pairs)]
            write(
                f"UNWIND $rows AS row MATCH (a:{RESOURCE} {{iri: row.s}}) MATCH (b:{RESOURCE} {{iri: row.o}}) "
                f"MERGE (a)-[:{_quoted(kind)}]->(b)",
                rows,
            )
            report.relationships += len(rows)
    return report


# --- neo4j-admin import ---------------------------------------------------------------------------------------


def _column_type(found: list[Any]) -> str:
    kinds = {type(v) for value in found for v in (value if isinstance(value, list) else [value])}
    base = "string"
    if kinds == {bool}:
        base = "boolean"
    elif kinds == {int}:
        base = "long"
    elif kinds and kinds <= {int, float}:
        base = "double"
    return base + ("[]" if any(isinstance(value, list) for value in found) else "")


def _cell(value: Any, array: bool) -> str:
    items = value if isinstance(value, list) else [value]
    text = [str(v).lower() if isinstance(v, bool) else str(v) for v in items]
    return ARRAY_DELIMITER.join(text) if array else text[0]


def export(store: Store, directory: Path) -> dict[str, int]:
    """Write the projection as ``nodes.csv`` and ``relationships.csv`` for ``neo4j-admin database import full``.

    Headers: ``iri:ID`` (the key, kept as property ``iri``), ``:LABEL`` (``Resource`` and the type labels, ``;``
    separated), one typed column per property (``population:long``, ``altLabel_fr:string[]``); then
    ``:START_ID``, ``:END_ID``, ``:TYPE``. Arrays are joined by :data:`ARRAY_DELIMITER`. Returns the counts.
    """
    nodes = project(store)
    directory.mkdir(parents=True, exist_ok=True)
    columns: dict[str, list[Any]] = defaultdict(list)
    for node in nodes.values():
        for key, value in node.properties.items():
            if key != "iri":
                columns[key].append(value)
    typed = {key: _column_type(found) for key, found in sorted(columns.items())}
    node_file, edge_file = directory / "nodes.csv", directory / "relationships.csv"
    with node_file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["iri:ID", ":LABEL", *(f"{key}:{kind}" for key, kind in typed.items())])
        for iri in sorted(nodes):
            node = nodes[iri]
            row = [iri, ";".join([RESOURCE, *node.labels])]
            for key, kind in typed.items():
                value = node.properties.get(key)
                row.append("" if value is None else _cell(value, kind.endswith("[]")))
            writer.writerow(row)
    relationships = 0
    with edge_file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([":START_ID", ":END_ID", ":TYPE"])
        for iri in sorted(nodes):
            for kind, targets in nodes[iri].relationships.items():
                for target in targets:
                    if target in nodes:
                        writer.writerow([iri, target, kind])
                        relationships += 1
    return {"nodes": len(nodes), "relationships": relationships}
