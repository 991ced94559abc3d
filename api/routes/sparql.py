"""The SPARQL 1.1 Protocol endpoint: read-only, public graphs only, bounded in time and size.

GET ``?query=``, POST form-encoded (``query=``), POST ``application/sparql-query``. SELECT and ASK answer in
JSON, XML, CSV or TSV; CONSTRUCT and DESCRIBE in Turtle, N-Triples, JSON-LD or RDF/XML, chosen by ``Accept``
(or ``format=``). Updates are refused (403). Every query runs in a worker process killed at the deadline
(``kg.sparql``). Without a query, GET returns the SPARQL service description.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import SettingsDep, StoreDep, client_id
from api.negotiation import choose
from api.problems import problem, responses
from kg.errors import CapitalisError, Forbidden, QueryError
from kg.sparql import MEDIA_TYPES, check_query, run_public_query

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
}
_FORMATS = {"json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml"}
_CONTENT = {
    "application/sparql-results+json": {},
    "application/sparql-results+xml": {},
    "text/csv": {},
    "text/tab-separated-values": {},
    "text/turtle": {},
    "application/n-triples": {},
    "application/ld+json": {},
    "application/rdf+xml": {},
}
_OK = {200: {"description": "Résultats de la requête, au format négocié.", "content": _CONTENT}}

#: A GET query travels in the request line: past this length, POST it (the SPARQL protocol says so too).
MAX_GET_QUERY = 8_000
QueryParam = Annotated[
    str | None,
    Query(
        max_length=MAX_GET_QUERY,
        description="Requête SPARQL 1.1 (SELECT, ASK, CONSTRUCT, DESCRIBE) ; au-delà de 8 000 caractères, en POST.",
    ),
]
FormatParam = Annotated[
    str | None,
    Query(pattern="^(json|xml|csv|tsv|ttl|nt|jsonld|rdfxml)$", description="Format, à défaut d'en-tête Accept."),
]


def _format(kind: str, accept: str | None, explicit: str | None) -> str | None:
    table = _RESULTS if kind in ("select", "ask") else _GRAPHS
    if explicit:
        if explicit not in table.values():
            raise QueryError(f"format : {explicit!r} indisponible pour une requête {kind.upper()}")
        return explicit
    media = choose(accept, list(table))
    return table[media] if media else None


def _service_description(request: Request) -> Response:
    endpoint = str(request.url_for("sparql_get"))
    body = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dct: <http://purl.org/dc/terms/> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
        <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
        <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>,
        <http://www.w3.org/ns/formats/JSON-LD>, <http://www.w3.org/ns/formats/RDF_XML> ;
    sd:feature sd:UnionDefaultGraph ;
    dct:description "Point d'accès SPARQL 1.1 de Capitalis : lecture seule, graphes publics."@fr .
"""
    return Response(body, media_type="text/turtle; charset=utf-8")


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
            lambda: run_public_query(store, query, chosen, settings=settings, client=client)
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
        return _service_description(request)
    return await _answer(request, store, settings, query, format)


@router.post(
    "/sparql",
    responses={**_OK, **responses(400, 401, 403, 406, 413, 415, 429, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {"schema": {"type": "string", "maxLength": MAX_QUERY_BYTES}},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"query": {"type": "string", "maxLength": MAX_QUERY_BYTES}},
                        "required": ["query"],
                    }
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
        return await _answer(request, store, settings, text, format)
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
        return await _answer(request, store, settings, query, format)
    return problem(
        415,
        "corps attendu : application/sparql-query ou application/x-www-form-urlencoded (query=…)",
        instance=request.url.path,
    )
