"""The search commands of ``capitalis``: ``search``, ``similar`` and ``index``.

:func:`register` adds them to the root Typer app (:mod:`capitalis.cli`); :func:`refresh_index` is what
the ``ingest`` commands call after an import so that the index follows the graph.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import typer

from capitalis.console import emit_json, err, escape, out
from capitalis.state import cli_state
from kg.context import Context
from search import Filters, index_status, rebuild_index, search, similar, update_index, update_index_after_import
from search.models import SOURCES, TAILLES

#: The choices of ``--taille`` and ``--source``, as enums so that the help lists them and Click checks them.
Taille = StrEnum("Taille", [(name, name) for name in TAILLES])  # type: ignore[misc]
Source = StrEnum("Source", [(name, name) for name in SOURCES])  # type: ignore[misc]

_MARK = re.compile(r"<mark>(.*?)</mark>")


def _rich_extract(text: str) -> str:
    parts = _MARK.split(text)
    return "".join(f"[bold yellow]{escape(p)}[/]" if i % 2 else escape(p) for i, p in enumerate(parts))


def _print_result(result: Any, *, offset: int = 0, title: str | None = None) -> None:
    if title:
        err.print(title, highlight=False)
    if result.corrections:
        fixed = ", ".join(f"{k} → {v}" for k, v in result.corrections.items())
        err.print(f"[dim]Corrigé : {fixed}[/]", highlight=False)
    if not result.results:
        err.print(f"[yellow]{result.message or 'Aucun résultat.'}[/]", highlight=False)
        return
    for rank, hit in enumerate(result.results, start=offset + 1):
        porteurs = ", ".join(p.nom for p in hit.porteurs) or "porteur inconnu"
        annee = f" ({hit.annee})" if hit.annee else ""
        out.print(f"[bold]{rank}. {escape(hit.titre)}[/] — {escape(porteurs)}{annee}", highlight=False)
        out.print(f"   [dim]{hit.iri}  score {hit.score:.3f}[/]", highlight=False)
        if hit.extrait:
            out.print(f"   {_rich_extract(hit.extrait)}", highlight=False)
    shown = f"{offset + 1}–{offset + len(result.results)}"
    err.print(f"{shown} sur {result.total} expérience(s).", highlight=False)
    for name, values in result.facet_values.items():
        if not values:
            continue
        top = sorted(values, key=lambda v: -v.count)[:6]
        shown = ", ".join(f"{_facet_value(v.code, v.label)} ({v.count})" for v in top)
        err.print(f"[dim]{_FACET_NAMES.get(name, name)} : {escape(shown)}[/]", highlight=False)


#: How the facets are named to users (the keys of the JSON stay the codes).
_FACET_NAMES = {
    "axe": "Axe", "enjeu": "Enjeu", "usage": "Usage", "region": "Région", "taille": "Taille",
    "annee": "Année", "technologie": "Technologie", "source": "Source",
}


def _facet_value(code: str, label: str) -> str:
    """A facet value as a user reads it: the label beside the code a filter takes (« 75 Nouvelle-Aquitaine »)."""
    return code if label == code else f"{code} {label}"


def search_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Ce que vous cherchez, en français (vide : tout, du plus récent).")] = "",
    limit: Annotated[int, typer.Option(help="Nombre de résultats.")] = 10,
    offset: Annotated[int, typer.Option(help="Résultats à sauter (pagination).")] = 0,
    axe: Annotated[list[str] | None, typer.Option("--axe", help="Axe ATLAAS (1 à 4), répétable.")] = None,
    enjeu: Annotated[list[str] | None, typer.Option("--enjeu", help="Enjeu ATLAAS (1a…4c), répétable.")] = None,
    usage: Annotated[list[str] | None, typer.Option("--usage", help="Usage ATLAAS (1a1…4c2), répétable.")] = None,
    service: Annotated[list[str] | None, typer.Option("--service", help="Service ATLAAS (S1…S92), répétable.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Code INSEE de région, répétable.")] = None,
    departement: Annotated[
        list[str] | None, typer.Option("--departement", help="Code de département, répétable.")
    ] = None,
    taille: Annotated[
        list[Taille] | None, typer.Option("--taille", help="Taille du porteur, répétable.")
    ] = None,
    annee_min: Annotated[int | None, typer.Option("--annee-min", help="Année minimale.")] = None,
    annee_max: Annotated[int | None, typer.Option("--annee-max", help="Année maximale.")] = None,
    technologie: Annotated[
        list[str] | None, typer.Option("--technologie", help="Technologie (toute graphie connue), répétable.")
    ] = None,
    source: Annotated[list[Source] | None, typer.Option("--source", help="Source, répétable.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON (résultats et facettes).")] = False,
) -> None:
    """Recherche sémantique d'expériences (hybride : sens, mots et graphe), avec filtres et facettes."""
    filters = Filters(
        axe=axe or [], enjeu=enjeu or [], usage=usage or [], service=service or [], region=region or [],
        departement=departement or [], taille=[t.value for t in taille or []], annee_min=annee_min,
        annee_max=annee_max, technologie=technologie or [], source=[s.value for s in source or []],
    )
    with cli_state(ctx).open(read_only=True) as context:
        result = search(context, text, filters, limit, offset)
    if json_output:
        emit_json(result.model_dump())
        return
    _print_result(result, offset=offset)


def similar_command(
    ctx: typer.Context,
    iri: Annotated[str, typer.Argument(help="IRI de l'expérience (ou sa clé : vi-1024, oten-OTEN-2009-0098).")],
    limit: Annotated[int, typer.Option(help="Nombre de résultats.")] = 10,
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Expériences semblables à une expérience donnée (jamais elle-même)."""
    with cli_state(ctx).open(read_only=True) as context:
        result = similar(context, iri, limit)
    if json_output:
        emit_json(result.model_dump())
        return
    _print_result(result, title=f"Semblables à {result.query} :")


def index_command(
    ctx: typer.Context,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild",
        help="Tout reconstruire : chaque texte réencodé, index lexical et graphe HNSW refaits (changement d'encodeur).",
    )] = False,
    status: Annotated[bool, typer.Option("--status", help="Afficher l'état de l'index sans le modifier.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Met à jour l'index de recherche : seules les expériences nouvelles ou modifiées sont encodées et mises à jour."""
    state = cli_state(ctx)
    if status:
        with state.open(read_only=True) as context:
            data = index_status(context)
        if json_output:
            emit_json(data)
        elif not data["exists"]:
            err.print(f"Aucun index dans {data['path']} : lancez `capitalis index`.")
        else:
            freshness = "[yellow]périmé[/]" if data.get("stale") else "[green]à jour[/]"
            err.print(
                f"Index {freshness} : {data['count']:,} expériences, encodeur {data['embedder']}, "
                f"construit le {data['built_at']} ({data['path']})."
            )
        return
    with state.open() as context:
        summary = (rebuild_index if rebuild else update_index)(context, progress=not json_output)
    if json_output:
        emit_json(summary)
    else:
        err.print(_summary_line(summary))


def _summary_line(summary: dict[str, Any]) -> str:
    return (
        f"Index de recherche : {summary['experiences']:,} expériences, {summary.get('changed', 0):,} modifiée(s), "
        f"{summary['encoded']:,} texte(s) encodé(s), "
        f"{summary['reused']:,} réutilisé(s), encodeur {summary['embedder']} ({summary['seconds']} s)."
    )


def refresh_index(context: Context, *, anything_read: bool = True, quiet: bool = False) -> dict[str, Any] | None:
    """Update the search index after an ingest (only new or changed texts are encoded); print one line. Nothing
    to do when the imports read nothing and the index already follows the store (see
    :func:`search.update_index_after_import`)."""
    summary = update_index_after_import(context, anything_read=anything_read, progress=not quiet)
    if not quiet:
        err.print(_summary_line(summary) if summary is not None else "Index de recherche : déjà à jour.")
    return summary


def register(app: typer.Typer) -> None:
    """Add ``search``, ``similar`` and ``index`` to the root app."""
    app.command("search")(search_command)
    app.command("similar")(similar_command)
    app.command("index")(index_command)
