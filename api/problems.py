"""The one translator of errors into RFC 9457 ``application/problem+json`` documents.

``kg.errors`` exceptions carry their HTTP status and title; an :class:`InvalidInput` that names its domain field
gets an ``errors`` member naming the request's parameter for it (``query.annee_min``, ``body.filleuls``), as
FastAPI's own validation errors (422) do; 404 and 405 are translated too, with French messages. No traceback
reaches a client: an unexpected exception becomes a 500 problem with a reference, logged on the server.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import CapitalisError, InvalidInput

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("capitalis.api")

_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Interdit",
    404: "Introuvable",
    405: "Méthode non permise",
    406: "Format non disponible",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Entrée invalide",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service indisponible",
}


class FieldError(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"champ": "query.limit", "message": "doit être inférieur ou égal à 100"}]}
    )

    champ: str = Field(description="Le paramètre ou le champ en faute (ex. « query.limit », « body.titre »).")
    message: str = Field(description="La raison, en français.")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Un document de problème (RFC 9457) : titre, statut HTTP, explication en français, "
            "champs en faute.",
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Entrée invalide",
                    "status": 422,
                    "detail": "query.limit : doit être inférieur ou égal à 100",
                    "instance": "/experiences",
                    "errors": [{"champ": "query.limit", "message": "doit être inférieur ou égal à 100"}],
                },
                {
                    "type": "about:blank",
                    "title": "Introuvable",
                    "status": 404,
                    "detail": "aucune collectivité de code '99999' (code INSEE, SIREN, dep-XX, reg-XX ou nom de "
                    "structure)",
                    "instance": "/collectivites/99999",
                },
            ],
        }
    )

    type: str = Field(default="about:blank", description="IRI du type de problème.")
    title: str = Field(description="Résumé du problème.")
    status: int = Field(description="Code HTTP.")
    detail: str | None = Field(default=None, description="Explication propre à cette occurrence.")
    instance: str | None = Field(default=None, description="Le chemin de la requête en faute.")
    errors: list[FieldError] | None = Field(default=None, description="Les champs en faute (erreurs de validation).")


def _doc(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_TYPE: {}}}


#: Problem responses to declare on routes, by status.
RESPONSES: dict[int, dict[str, Any]] = {
    400: _doc("Requête invalide."),
    401: _doc("Jeton absent, inconnu, expiré ou révoqué."),
    403: _doc("Rôle insuffisant ou opération interdite."),
    404: _doc("Ressource introuvable."),
    406: _doc("Aucun des formats demandés (en-tête Accept) n'est disponible."),
    413: _doc("Requête trop volumineuse."),
    415: _doc("Type de contenu non pris en charge."),
    422: _doc("Paramètre ou champ invalide."),
    429: _doc("Trop de requêtes : réessayez après le délai indiqué par Retry-After."),
    503: _doc("Service momentanément indisponible (requête trop longue, serveur saturé, entrepôt indisponible)."),
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses of a route (400 and 422 are always there: every input is parsed and validated)."""
    return {s: RESPONSES[s] for s in sorted({*statuses, 400, 422})}


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title or _TITLES.get(status, "Erreur"), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


# --- validation messages in French ---------------------------------------------------------------------------

_MESSAGES = {
    "missing": "obligatoire",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "bool_parsing": "booléen attendu (true ou false)",
    "bool_type": "booléen attendu (true ou false)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "objet JSON attendu",
    "model_type": "objet JSON attendu",
    "model_attributes_type": "objet JSON attendu",
    "json_invalid": "JSON invalide",
    "extra_forbidden": "champ inconnu",
    "union_tag_invalid": "type inconnu",
    "union_tag_not_found": "champ « type » manquant",
    "string_unicode": "texte invalide",
}


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        msg = _MESSAGES[kind]
        if kind == "union_tag_invalid" and "expected_tags" in ctx:
            msg += f" (attendu : {ctx['expected_tags']})"
        return msg
    if kind == "greater_than_equal":
        return f"doit être supérieur ou égal à {ctx.get('ge')}"
    if kind == "greater_than":
        return f"doit être supérieur à {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"doit être inférieur ou égal à {ctx.get('le')}"
    if kind == "less_than":
        return f"doit être inférieur à {ctx.get('lt')}"
    if kind == "string_too_short":
        return f"trop court ({ctx.get('min_length')} caractère(s) au moins)"
    if kind == "string_too_long":
        return f"trop long ({ctx.get('max_length')} caractères au plus)"
    if kind == "too_short":
        return f"trop peu d'éléments ({ctx.get('min_length')} au moins)"
    if kind == "too_long":
        return f"trop d'éléments ({ctx.get('max_length')} au plus)"
    if kind == "string_pattern_mismatch":
        return f"format invalide (attendu : {ctx.get('pattern')})"
    if kind in ("literal_error", "enum"):
        return f"valeur inconnue (attendu : {ctx.get('expected')})"
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "valeur invalide"))
    return "valeur invalide"


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "requête"


# --- handlers ---------------------------------------------------------------------------------------------------


async def _capitalis_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CapitalisError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "5"}
    detail, errors = exc.message, None
    if isinstance(exc, InvalidInput) and exc.field:
        where = parameter_of(request, exc.field)
        errors = [{"champ": where, "message": exc.message}]
        detail = f"{where.partition('.')[2]} : {exc.message}"
    return problem(exc.status, detail, title=exc.title, instance=request.url.path, headers=headers, errors=errors)


def parameter_of(request: Request, field: str) -> str:
    """How the route that ran spells the domain ``field``: ``query.annee_min``, ``path.code``, ``body.filleuls``.

    A domain field in the plural (``services``) matches a repeatable parameter in the singular (``service``);
    a field the route has no parameter for is named as a query parameter.
    """
    names = {field, field.removesuffix("s"), f"{field}s"}
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for where, param in _parameters(dependant):
        if where == "body":
            model = getattr(param.field_info, "annotation", None)
            fields = getattr(model, "model_fields", {})
            for name, info in fields.items():
                if name in names or info.alias in names:
                    return f"body.{info.alias or name}"
        if param.name in names or param.alias in names:
            return f"{where}.{param.alias}"
    return f"query.{field}"


def _parameters(dependant: Any) -> list[tuple[str, Any]]:
    """Every (location, field) of a route's dependant and of its sub-dependencies."""
    if dependant is None:
        return []
    found = [("path", p) for p in dependant.path_params] + [("query", p) for p in dependant.query_params]
    found += [("body", p) for p in dependant.body_params]
    for sub in dependant.dependencies:
        found += _parameters(sub)
    return found


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and (detail is None or detail == "Not Found"):
        detail = f"aucune ressource à l'adresse {request.url.path}"
    elif exc.status_code == 400 and detail and "parsing the body" in detail:
        detail = "corps de la requête illisible : JSON ou formulaire mal formé"
    elif exc.status_code == 405:
        detail = f"méthode {request.method} non permise sur {request.url.path}"
    return problem(exc.status_code, detail, instance=request.url.path, headers=getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"champ": _field(e.get("loc", ())), "message": _message(e)} for e in exc.errors()]
    detail = "; ".join(f"{e['champ']} : {e['message']}" for e in errors[:5]) or "requête invalide"
    return problem(422, detail, instance=request.url.path, errors=errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    log.exception("erreur interne %s sur %s %s", ref, request.method, request.url.path)
    return problem(500, f"erreur interne (référence {ref}) : elle a été consignée", instance=request.url.path)


def install(app: FastAPI) -> None:
    """Register the translators on an app."""
    app.add_exception_handler(CapitalisError, _capitalis_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
