"""The interactive API documentation, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, without any CDN.

FastAPI's own pages load their scripts from a CDN: without internet they are blank. Here the assets come from an
installed package, ``fastapi-offline`` (Swagger UI 5 and ReDoc in one wheel; see
``docs/decisions/2026-12-07-offline-api-docs.md``), served under ``/docs/assets/``. The pages carry FastAPI's
small inline scripts, so ``api.guard.Guard`` gives them :data:`CSP` (no other origin: nothing leaves the site).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute

from api.problems import problem

__all__ = ["ASSETS", "CSP", "PAGES", "router", "summarise"]

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
