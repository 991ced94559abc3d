"""The user guide (French, MkDocs Material) served at ``/guide``.

``make guide`` (``mkdocs build --strict``) writes the site to ``var/guide`` of the checkout; the setting
``guide_dir`` (``CAPITALIS_GUIDE_DIR``), when the settings have it, points elsewhere. The directory is looked up at
each request, so a guide built after the server started is served at once. Not built: a 404 problem saying how to
build it. A page missing from a built guide: the guide's own 404 page. Not part of the OpenAPI schema.

Material's pages carry small inline scripts and styles, so ``api.main.Guard`` must give ``/guide`` a policy of its
own: ``default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;
frame-ancestors 'none'`` (:data:`CSP`). Nothing else is fetched: the site is built without web fonts or CDN.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from api.deps import SettingsDep
from api.problems import problem
from kg.settings import Settings

__all__ = ["CSP", "DEFAULT_GUIDE_DIR", "guide_dir", "router"]

#: Where ``make guide`` writes the site: ``var/guide`` at the top of the checkout (``site_dir`` of ``mkdocs.yml``).
DEFAULT_GUIDE_DIR = Path(__file__).resolve().parents[2] / "var" / "guide"

#: The Content-Security-Policy the guide's pages need (the API's default, ``default-src 'none'``, blocks them).
CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'none'"
)

router = APIRouter(tags=["guide"], include_in_schema=False)


def guide_dir(settings: Settings) -> Path:
    """The built guide's directory: the ``guide_dir`` setting when there is one, else :data:`DEFAULT_GUIDE_DIR`."""
    configured = getattr(settings, "guide_dir", None)
    return Path(configured) if configured else DEFAULT_GUIDE_DIR


@router.api_route("/guide", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/guide/{chemin:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def guide(request: Request, settings: SettingsDep, chemin: str = "") -> Response:
    """Le guide d'utilisation (site statique construit par « make guide »)."""
    directory = guide_dir(settings)
    if not (directory / "index.html").is_file():
        return problem(
            404,
            f"le guide d'utilisation n'est pas construit dans {directory} : lancez « make guide » "
            "(ou « .venv/bin/mkdocs build --strict ») puis rechargez cette page",
            title="Guide non construit",
            instance=request.url.path,
        )
    site = StaticFiles(directory=directory, html=True, check_dir=False)
    # The same normalisation as StaticFiles.get_path; lookup_path then refuses anything outside the directory.
    path = os.path.normpath(os.path.join(*chemin.split("/")))
    return await site.get_response(path, request.scope)
