"""The SPARQL 1.1 Protocol endpoint: read-only, public graphs only, bounded in time and size.

GET ``?query=``, POST form-encoded (``query=``), POST ``application/sparql-query``. SELECT and ASK answer in
JSON, XML, CSV or TSV; CONSTRUCT and DESCRIBE in Turtle, N-Triples, JSON-LD or RDF/XML, chosen by ``Accept``
or by a format name (``format=`` or ``output=``, in the URL or the form: the names SPARQLWrapper, rdflib, YASGUI
and curl users send, :data:`api.negotiation.FORMAT_NAMES`); a name the query form has no format for gets the
nearest one it has (``xml`` for a CONSTRUCT → RDF/XML, ``json`` → JSON-LD, ``turtle`` for a SELECT → JSON).
Updates are refused (403). Every query runs in a worker process killed at the deadline (``kg.sparql``).
Without a query, GET returns the SPARQL service description, in every RDF format. Browsers of any origin may
query it (CORS, :mod:`api.cors`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, Namespace

from api.deps import SettingsDep, StoreDep, client_id
from api.negotiation import FORMAT_NAMES, choose, format_name, parse_accept
from api.problems import problem, responses
from api.routes._schemas import exemples
from api.routes.linked_data import RDF_EXAMPLES, RDF_MEDIA, serialize
from kg.errors import CapitalisError, Forbidden, QueryError
from kg.sparql import MEDIA_TYPES, check_query, run_public_query
from kg.store import Store
from ontology.iri import PUBLIC_GRAPHS, graph

router = APIRouter(tags=["sparql"])

MAX_QUERY_BYTES = 100_000
_RESULTS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
_GRAPHS = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/n-triples": "nt",
    "text/plain": "nt",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
    "application/turtle": "ttl",
    "text/n3": "ttl",
    "text/rdf+n3": "ttl",
}
#: The format each query form answers for a format name: its own, else the nearest one it has (a result set asked
#: in an RDF syntax comes in the results syntax of the same family; a graph asked as a table comes in Turtle).
_NEAREST = {
    "results": {
        "json": "json",
        "xml": "xml",
        "csv": "csv",
        "tsv": "tsv",
        "jsonld": "json",
        "rdfxml": "xml",
        "ttl": "json",
        "nt": "json",
    },
    "graph": {
        "ttl": "ttl",
        "nt": "nt",
        "jsonld": "jsonld",
        "rdfxml": "rdfxml",
        "json": "jsonld",
        "xml": "rdfxml",
        "csv": "ttl",
        "tsv": "ttl",
    },
}
#: The examples: a SELECT of Pessac's experiences (below) in the results formats; a CONSTRUCT of Pessac's label and
#: code in the RDF ones.
SELECT_EXAMPLE = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?experience ?titre WHERE {
  ?experience cap:porteur <https://w3id.org/capitalis/id/collectivite/33318> ; dct:title ?titre .
} ORDER BY ?titre LIMIT 2"""
CONSTRUCT_EXAMPLE = """PREFIX cap: <https://w3id.org/capitalis/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?c a cap:Commune ; rdfs:label ?nom ; cap:codeInsee ?insee }
WHERE { ?c cap:codeInsee "33318" ; a cap:Commune ; rdfs:label ?nom ; cap:codeInsee ?insee }"""
ASK_EXAMPLE = 'ASK { ?c <https://w3id.org/capitalis/ontology#codeInsee> "33318" }'
_E1, _E2 = "https://w3id.org/capitalis/id/experience/vi-2143", "https://w3id.org/capitalis/id/experience/oten-OTEN-2011-0037"
_T1 = "Des clés USB de logiciels libres pour les écoliers pessacais"
_T2 = "Pessac équipe ses écoles élémentaires de classes mobiles"
_JSON_RESULTS = {
    "head": {"vars": ["experience", "titre"]},
    "results": {
        "bindings": [
            {"experience": {"type": "uri", "value": _E1}, "titre": {"type": "literal", "value": _T1, "xml:lang": "fr"}},
            {"experience": {"type": "uri", "value": _E2}, "titre": {"type": "literal", "value": _T2, "xml:lang": "fr"}},
        ]
    },
}
_CONTENT = {
    "application/sparql-results+json": {"example": _JSON_RESULTS},
    "application/sparql-results+xml": {
        "example": (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
            '<variable name="experience"/><variable name="titre"/></head><results>'
            f'<result><binding name="experience"><uri>{_E1}</uri></binding>'
            f'<binding name="titre"><literal xml:lang="fr">{_T1}</literal></binding></result>'
            f'<result><binding name="experience"><uri>{_E2}</uri></binding>'
            f'<binding name="titre"><literal xml:lang="fr">{_T2}</literal></binding></result>'
            "</results></sparql>"
        )
    },
    "text/csv": {"example": f"experience,titre\r\n{_E1},{_T1}\r\n{_E2},{_T2}\r\n"},
    "text/tab-separated-values": {
        "example": f'?experience\t?titre\n<{_E1}>\t"{_T1}"@fr\n<{_E2}>\t"{_T2}"@fr\n'
    },
    **{m: {"example": RDF_EXAMPLES[m]} for m in RDF_MEDIA},
    "application/json": {"example": _JSON_RESULTS},
}
_OK = {200: {"description": "Résultats de la requête, au format négocié.", "content": _CONTENT}}

#: A GET query travels in the request line: past this length, POST it (the SPARQL protocol says so too).
MAX_GET_QUERY = 8_000
QueryParam = Annotated[
    str | None,
    Query(
        max_length=MAX_GET_QUERY,
        description="Requête SPARQL 1.1 (SELECT, ASK, CONSTRUCT, DESCRIBE) ; au-delà de 8 000 caractères, en POST.",
        openapi_examples=exemples(
            select=("SELECT : les expériences portées par Pessac", SELECT_EXAMPLE),
            construct=("CONSTRUCT : le nom et le code INSEE de Pessac", CONSTRUCT_EXAMPLE),
            ask=("ASK : une collectivité a-t-elle le code INSEE 33318 ?", ASK_EXAMPLE),
        ),
    ),
]
FormatParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description=(
            "Format, à la place de l'en-tête Accept : json, xml, csv, tsv (SELECT, ASK) ; turtle (ttl), n3, nt, "
            "json-ld (jsonld), rdf+xml (rdfxml) (CONSTRUCT, DESCRIBE) ; ou le type de média. Un format que la forme "
            "de requête n'a pas donne le plus proche (xml pour un CONSTRUCT : RDF/XML). Synonyme : output."
        ),
        openapi_examples=exemples(
            json=("Résultats SPARQL en JSON", "json"),
            csv=("Résultats en CSV (tableur)", "csv"),
            turtle=("Graphe en Turtle (CONSTRUCT, DESCRIBE)", "turtle"),
        ),
    ),
]


def _format(kind: str, accept: str | None, explicit: str | None) -> str | None:
    """The format of the answer: the format name when one is given (the nearest the form has), else ``Accept``."""
    results = kind in ("select", "ask")
    if explicit:
        name = format_name(explicit)
        if name is None:
            known = ", ".join(sorted(k for k in FORMAT_NAMES if "/" not in k))
            raise QueryError(f"format : {explicit[:100]!r} inconnu ; noms acceptés : {known}, ou un type de média")
        return _NEAREST["results" if results else "graph"][name]
    table = _RESULTS if results else _GRAPHS
    media = choose(accept, list(table))
    if media:
        return table[media]
    # a type of the other family (rdflib's SPARQLStore asks results JSON for a CONSTRUCT): the nearest we have
    for asked, q, _ in sorted(parse_accept(accept), key=lambda r: (-r[1], r[2])):
        if q > 0 and (name := format_name(asked)):
            return _NEAREST["results" if results else "graph"][name]
    return None


def _format_asked(request: Request, form: dict[str, list[str]] | None = None) -> str | None:
    """The first non-empty ``format=``, else ``output=`` (Fuseki's name), from the URL, then from the form.

    SPARQLWrapper sends ``format``, ``output`` and ``results``, some twice (``format=rdf+xml&format=``)."""
    url = request.query_params
    candidates = [*url.getlist("format"), *url.getlist("output")]
    candidates += [*(form or {}).get("format", []), *(form or {}).get("output", [])]
    return next((c for c in candidates if c.strip()), None)


SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
_RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
_DESCRIPTION_FORMATS = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}

_SERVICE_TEXT = "Point d'accès SPARQL 1.1 de Capitalis : lecture seule, graphes publics, ouvert à toutes les origines."
_DEFAULT_GRAPH_TEXT = (
    "L'union des graphes nommés publics : un triplet que deux graphes donnent y figure deux fois ; comptez avec "
    "COUNT(DISTINCT …) ou nommez les graphes avec GRAPH."
)


def _public_graphs(store: Store) -> list[str]:
    """The public named graphs present in the store, in the order of :data:`ontology.iri.PUBLIC_GRAPHS`."""
    present = set(store.graphs())
    return [str(graph(g)) for g in PUBLIC_GRAPHS if str(graph(g)) in present]


def service_description(endpoint: str, named_graphs: list[str]) -> Graph:
    """The SPARQL 1.1 service description: formats, the union default graph, the named graphs, read-only."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.bind("dct", DCTERMS)
    service, dataset, default = URIRef(endpoint), URIRef(f"{endpoint}#jeu-de-donnees"), BNode("graphe-par-defaut")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for name in _RESULT_FORMATS:
        g.add((service, SD.resultFormat, FORMATS[name]))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    g.add((service, DCTERMS.description, Literal(_SERVICE_TEXT, lang="fr")))
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, DCTERMS.description, Literal(_DEFAULT_GRAPH_TEXT, lang="fr")))
    for name in named_graphs:
        node = BNode()
        g.add((dataset, SD.namedGraph, node))
        g.add((node, RDF.type, SD.NamedGraph))
        g.add((node, SD.name, URIRef(name)))
    return g


def _service_description(request: Request, store: Store, asked: str | None) -> Response:
    """The description in the format asked (a format name or ``Accept``), Turtle when none of ours is acceptable."""
    name = _NEAREST["graph"].get(format_name(asked) or "") if asked else None
    media = _DESCRIPTION_FORMATS[name] if name else choose(request.headers.get("accept"), list(RDF_MEDIA))
    media = media or "text/turtle"
    body = serialize(service_description(str(request.url_for("sparql_get")), _public_graphs(store)), media)
    return Response(body, media_type=media, headers={"Vary": "Accept"})


async def _answer(request: Request, store, settings, query: str | None, fmt: str | None) -> Response:  # type: ignore[no-untyped-def]
    if query is None or not query.strip():
        return problem(400, "paramètre « query » manquant : la requête SPARQL à exécuter", instance=request.url.path)
    if len(query.encode()) > MAX_QUERY_BYTES:
        return problem(413, f"requête de plus de {MAX_QUERY_BYTES} octets", instance=request.url.path)
    try:
        kind = await run_in_threadpool(check_query, query, settings)  # bounded, but rdflib's parsing is slow
        chosen = _format(kind, request.headers.get("accept"), fmt)
        if chosen is None:
            offered = ", ".join(sorted(_RESULTS if kind in ("select", "ask") else _GRAPHS))
            detail = f"aucun des formats demandés n'est disponible pour {kind.upper()} ; offerts : {offered}"
            return problem(406, detail, instance=request.url.path)
        client = client_id(request)
        result = await run_in_threadpool(
            lambda: run_public_query(store, query, chosen, settings=settings, client=client, checked=kind)
        )
    except Forbidden as exc:
        return problem(403, exc.message, title=exc.title, instance=request.url.path)
    except QueryError as exc:  # the protocol's "malformed query" is a 400
        return problem(400, exc.message, title=exc.title, instance=request.url.path)
    except CapitalisError:
        raise
    return Response(result.body, media_type=result.media_type or MEDIA_TYPES[chosen], headers={"Vary": "Accept"})


@router.get("/sparql", responses={**_OK, **responses(400, 401, 403, 406, 413, 429, 503)})
async def sparql_get(
    request: Request, store: StoreDep, settings: SettingsDep, query: QueryParam = None, format: FormatParam = None
) -> Response:
    """Interroge le graphe en SPARQL 1.1 (lecture seule) ; sans requête, rend la description du service."""
    if "default-graph-uri" in request.query_params or "named-graph-uri" in request.query_params:
        return problem(
            400,
            "default-graph-uri et named-graph-uri ne sont pas pris en charge : "
            "le graphe par défaut est l'union des graphes publics, utilisez GRAPH",
            instance="/sparql",
        )
    if query is None:
        return _service_description(request, store, _format_asked(request))
    return await _answer(request, store, settings, query, _format_asked(request))


@router.post(
    "/sparql",
    responses={**_OK, **responses(400, 401, 403, 406, 413, 415, 429, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {
                    "schema": {"type": "string", "maxLength": MAX_QUERY_BYTES},
                    "example": SELECT_EXAMPLE,
                },
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"query": {"type": "string", "maxLength": MAX_QUERY_BYTES}},
                        "required": ["query"],
                    },
                    "example": {"query": SELECT_EXAMPLE},
                },
            },
        }
    },
)
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep, format: FormatParam = None) -> Response:
    """Interroge le graphe en SPARQL 1.1 par POST (formulaire ou application/sparql-query) ; mises à jour refusées."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > MAX_QUERY_BYTES * 4:
        return problem(413, f"corps de plus de {MAX_QUERY_BYTES * 4} octets", instance=request.url.path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return problem(400, "le corps de la requête n'est pas de l'UTF-8", instance=request.url.path)
    if ctype == "application/sparql-update":
        return problem(
            403,
            "les mises à jour SPARQL sont refusées : le point d'accès est en lecture seule",
            title="Interdit",
            instance=request.url.path,
        )
    if ctype == "application/sparql-query":
        return await _answer(request, store, settings, text, _format_asked(request))
    if ctype == "application/x-www-form-urlencoded":
        form = parse_qs(text, keep_blank_values=True)
        if "update" in form:
            return problem(
                403,
                "les mises à jour SPARQL sont refusées : le point d'accès est en lecture seule",
                title="Interdit",
                instance=request.url.path,
            )
        if "default-graph-uri" in form or "named-graph-uri" in form:
            return problem(400, "default-graph-uri et named-graph-uri ne sont pas pris en charge", instance="/sparql")
        query = (form.get("query") or [None])[0]
        return await _answer(request, store, settings, query, _format_asked(request, form))
    return problem(
        415,
        "corps attendu : application/sparql-query ou application/x-www-form-urlencoded (query=…)",
        instance=request.url.path,
    )
