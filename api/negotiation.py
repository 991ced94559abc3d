"""Content negotiation: pick the best offered media type for an ``Accept`` header (RFC 9110 q-values), and read
the format names that clients send instead of (or beside) an ``Accept`` header."""

from __future__ import annotations


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """``[(media range, q, position)]`` of an Accept header; no header means ``*/*``."""
    if not header or not header.strip():
        return [("*/*", 1.0, 0)]
    out = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            if param.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(param[2:])))
                except ValueError:
                    q = 0.0
        out.append((media, q, position))
    return out or [("*/*", 1.0, 0)]


def _matches(pattern: str, media: str) -> int:
    """Specificity of a match (3 exact, 2 type/*, 1 */*), 0 when it does not match."""
    if pattern == media:
        return 3
    if pattern == "*/*":
        return 1
    if pattern.endswith("/*") and media.split("/")[0] == pattern[:-2]:
        return 2
    return 0


def choose(header: str | None, offered: list[str]) -> str | None:
    """The offered type the client prefers (ties: the client's order, then ours); None when none is acceptable."""
    ranges = parse_accept(header)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for rank, media in enumerate(offered):
        scored = [(spec, q, pos) for pattern, q, pos in ranges if (spec := _matches(pattern, media))]
        if not scored:
            continue
        spec, q, pos = max(scored, key=lambda s: s[0])  # the most specific range decides the q-value
        if q <= 0:
            continue
        key = (q, spec, -pos, -rank)
        if best is None or key > best:
            best, chosen = key, media
    return chosen


#: Format names that SPARQL clients send in ``format=`` or ``output=`` (SPARQLWrapper sends both, rdflib, YASGUI,
#: Fuseki and Virtuoso users too), and the media types themselves, each mapped to our short name: a synonym of
#: the ``Accept`` header that would ask for it. N3 is read as Turtle (Turtle is N3's RDF subset).
FORMAT_NAMES = {
    **dict.fromkeys(("json", "srj", "sparql-results+json", "application/sparql-results+json"), "json"),
    **dict.fromkeys(("application/json", "text/javascript", "application/javascript"), "json"),
    **dict.fromkeys(("xml", "srx", "sparql-results+xml", "application/sparql-results+xml"), "xml"),
    **dict.fromkeys(("application/xml", "text/xml"), "xml"),
    **dict.fromkeys(("csv", "text/csv"), "csv"),
    **dict.fromkeys(("tsv", "text/tab-separated-values"), "tsv"),
    **dict.fromkeys(("ttl", "turtle", "text/turtle", "application/turtle", "application/x-turtle"), "ttl"),
    **dict.fromkeys(("n3", "text/n3", "text/rdf+n3", "application/n3"), "ttl"),
    **dict.fromkeys(("nt", "ntriples", "n-triples", "application/n-triples"), "nt"),
    **dict.fromkeys(("jsonld", "json-ld", "application/ld+json", "application/x-json+ld"), "jsonld"),
    **dict.fromkeys(("rdfxml", "rdf+xml", "rdf/xml", "rdf", "application/rdf+xml"), "rdfxml"),
}


def format_name(value: str | None) -> str | None:
    """Our short name (json, xml, csv, tsv, ttl, nt, jsonld, rdfxml) of a client's format name or media type;
    ``None`` for an unknown one. Case and parameters (``; charset=…``) do not matter; a comma-separated list (what
    SPARQLWrapper sends for JSON-LD, RDF/XML and TSV: its Accept header) gives its first known item."""
    for item in (value or "").split(","):
        name = FORMAT_NAMES.get(item.split(";")[0].strip().lower())
        if name:
            return name
    return None
