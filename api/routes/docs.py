"""The interactive API documentation, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, without any CDN.

FastAPI's own pages load their scripts from a CDN: without internet they are blank. Here the assets come from an
installed package, ``fastapi-offline`` (Swagger UI 5 and ReDoc in one wheel; see
``docs/decisions/2026-12-07-offline-api-docs.md``), served under ``/docs/assets/``. The pages carry FastAPI's
small inline scripts, so ``api.guard.Guard`` gives them :data:`CSP` (no other origin: nothing leaves the site).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from api.problems import problem

__all__ = ["ASSETS", "CSP", "PAGES", "install_openapi", "router", "summarise"]

#: The installed assets (``fastapi_offline/static``): read as files, the package itself is never imported.
ASSETS = Path(str(files("fastapi_offline") / "static"))
_NAMES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
_PREFIX = "/docs/assets"
#: The pages that need :data:`CSP` (the API's default, ``default-src 'none'``, blocks their inline scripts).
PAGES = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
#: Same-origin scripts and styles plus FastAPI's inline ones; ReDoc's search runs in a ``blob:`` worker.
CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def summarise(routes: Iterable[Any]) -> None:
    """Give every API route without a summary the first paragraph of its (French) docstring as its OpenAPI summary;
    FastAPI would show the function's name, in English (« Experiences Search »). The description stays whole."""
    for route in routes:
        if isinstance(route, APIRoute) and route.summary is None and route.description:
            first = route.description.strip().split("\n\n")[0]
            route.summary = " ".join(first.split())


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's OpenAPI document with the examples of the schemas whole.

    FastAPI encodes the document with ``exclude_none``, which also drops the ``null`` values of the examples: an
    example of a model with a nullable required field (``"siren": null``) would lose the field and no longer match
    its schema. The examples are put back from the models' own JSON schemas, where nothing is dropped."""
    generate = app.openapi
    restored: list[int] = []  # the id of the document last restored (FastAPI keeps it until the routes change)

    def openapi() -> dict[str, Any]:
        document = generate()
        if restored != [id(document)]:
            _restore_examples(document, [r for r in _api_routes(app.routes) if r.include_in_schema])
            restored[:] = [id(document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """The API routes, those of the included routers too (FastAPI keeps them behind the router they came with)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def _restore_examples(document: dict[str, Any], routes: list[APIRoute]) -> None:
    """Give each schema of ``components.schemas`` the examples of the model of that name, nulls included."""
    types: list[Any] = []
    for route in routes:
        types.append(route.response_model)
        types += [field.field_info.annotation for field in route.dependant.body_params]
        types += [r["model"] for r in route.responses.values() if isinstance(r, dict) and "model" in r]
    found: dict[str, list[Any]] = {}
    for kind in {t for t in types if t is not None and not (isinstance(t, type) and not issubclass(t, BaseModel))}:
        for mode in ("validation", "serialization"):
            schema = TypeAdapter(kind).json_schema(mode=mode)
            for name, definition in [*schema.get("$defs", {}).items(), (schema.get("title"), schema)]:
                if name and "examples" in definition:
                    found.setdefault(name, definition["examples"])
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        examples = found.get(name.removesuffix("-Input").removesuffix("-Output"))
        if examples is not None and "examples" in schema:
            schema["examples"] = examples


@router.get("/docs", include_in_schema=False)
async def docs_swagger(request: Request) -> HTMLResponse:
    """Swagger UI, from the installed assets."""
    app = request.app
    return get_swagger_ui_html(
        openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
        title=f"{app.title} — documentation de l'API",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{_PREFIX}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


@router.get("/docs/oauth2-redirect", include_in_schema=False)
async def docs_oauth2_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 return page (the password flow of ``/auth/token``)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False)
async def docs_redoc(request: Request) -> HTMLResponse:
    """ReDoc, from the installed assets, without web fonts."""
    app = request.app
    return get_redoc_html(
        openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
        title=f"{app.title} — référence de l'API",
        redoc_js_url=f"{_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{_PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.get(_PREFIX + "/{name}", include_in_schema=False, response_model=None)
async def docs_asset(name: Annotated[str, PathParam(max_length=40)], request: Request) -> Response:
    """One asset of the documentation pages (a fixed list: no path from the request reaches the disk)."""
    if name not in _NAMES:
        return problem(404, f"{name} : fichier inconnu", instance=request.url.path)
    return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})
