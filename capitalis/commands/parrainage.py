"""The parrainage commands of ``capitalis``: ``match``, ``grappes`` and ``parrainage propose|accepter|…``.

:func:`register` adds them to the root Typer app (called from :mod:`capitalis.cli`). Data goes to stdout (JSON with
``--json``), messages to stderr; errors are :mod:`kg.errors` exceptions that the root app turns into one
red line.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

CollectiviteOpt = Annotated[
    str,
    typer.Option(
        "--collectivite",
        help="La collectivité à parrainer : code INSEE (commune, département), SIREN (EPCI), reg-XX ou IRI.",
    ),
]
BesoinOpt = Annotated[str | None, typer.Option("--besoin", help="Le besoin, en quelques mots.")]
ServiceOpt = Annotated[
    list[str] | None, typer.Option("--service", help="Service ou usage ATLAAS (S12, 1a3…), répétable.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON.")]


def _consoles():  # type: ignore[no-untyped-def]
    from capitalis.cli import err, out

    return out, err


def _emit_json(data: Any) -> None:
    from capitalis.cli import emit_json

    emit_json(data)


def _open_store(read_only: bool = False):  # type: ignore[no-untyped-def]
    from kg.store import open_store

    return open_store(read_only=read_only)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def match_command(
    collectivite: CollectiviteOpt,
    besoin: BesoinOpt = None,
    service: ServiceOpt = None,
    limit: Annotated[int, typer.Option(help="Nombre de parrains proposés.")] = 10,
    rayon_km: Annotated[
        float | None, typer.Option("--rayon-km", help="Distance maximale au filleul, en km (défaut : réglage).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose des parrains à une collectivité pour un besoin, avec le détail et l'explication de chaque score."""
    from parrainage.matching import match

    with _open_store(read_only=True) as store:
        result = match(store, collectivite, besoin=besoin, services=service, limit=limit, rayon_km=rayon_km)
    if json_output:
        _emit_json(result.model_dump())
        return
    out, err = _consoles()
    f = result.filleul
    pop = f" ({f.population:,} hab.)".replace(",", " ") if f.population is not None else ""
    err.print(f"Parrains pour [bold]{_escape(f.nom)}[/]{pop} — besoin : {_escape(result.besoin)}", highlight=False)
    if result.message:
        err.print(f"[yellow]{_escape(result.message)}[/]", highlight=False)
    for rank, s in enumerate(result.sponsors, start=1):
        _print_sponsor(out, rank, s)
    if result.sponsors:
        err.print(f"{len(result.sponsors)} sur {result.total} parrain(s) possible(s).", highlight=False)


def _print_sponsor(out: Any, rank: int, s: Any, indent: str = "") -> None:
    c = s.composantes
    title = f"{indent}[bold]{rank}. {_escape(s.nom)}[/] — score {s.score:.3f} ({s.role}, {s.niveau})"
    out.print(title, highlight=False)
    out.print(
        f"{indent}   [dim]pertinence {c.pertinence:.2f} · expérience {c.experience:.2f} · taille {c.taille:.2f} · "
        f"proximité {c.proximite:.2f} · technologies {c.technologies:.2f} · charge {c.charge:.2f}[/]",
        highlight=False,
    )
    for sentence in s.explication:
        out.print(f"{indent}   {_escape(sentence)}", highlight=False)


def grappes_command(
    departement: Annotated[str, typer.Option("--departement", help="Code du département (29, 2A, 974…).")],
    besoin: BesoinOpt = None,
    service: ServiceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Regroupe en grappes les petites communes d'un département sans expérience sur un besoin, un parrain chacune."""
    from parrainage.matching import grappes

    with _open_store(read_only=True) as store:
        result = grappes(store, departement, besoin=besoin, services=service)
    if json_output:
        _emit_json(result.model_dump())
        return
    out, err = _consoles()
    d = result.departement
    err.print(f"Grappes de {_escape(d['nom'])} ({d['code']}) — besoin : {_escape(result.besoin)}", highlight=False)
    if result.message:
        err.print(f"[yellow]{_escape(result.message)}[/]", highlight=False)
    for g in result.grappes:
        cov = g.couverture
        out.print(f"[bold]{_escape(g.nom)}[/] — {cov.total} commune(s), couverture {cov.membres}/{cov.total}",
                  highlight=False)
        if g.parrain is None:
            for sentence in g.explication:
                out.print(f"   {_escape(sentence)}", highlight=False)
            continue
        _print_sponsor(out, 1, g.parrain, indent="   ")
        members = ", ".join(
            f"{m.nom} ({m.distance_km:.0f} km)" if m.distance_km is not None else m.nom for m in g.membres[:12]
        )
        rest = len(g.membres) - 12
        more = f" et {rest} autre{'s' if rest > 1 else ''}" if rest > 0 else ""
        out.print(f"   [dim]membres : {_escape(members)}{more}[/]", highlight=False)
    err.print(f"{len(result.grappes)} grappe(s), {result.communes} petite(s) commune(s).", highlight=False)


def _print_parrainage(item: dict[str, Any]) -> None:
    out, _ = _consoles()
    filleuls = ", ".join(f["nom"] for f in item["filleuls"])
    concepts = ", ".join(f"{c['notation']} {c['label']}" for c in item["concepts"])
    out.print(
        f"[bold]{_escape(item['parrain']['nom'])}[/] → {_escape(filleuls)} : {item['statut_libelle']}",
        highlight=False,
    )
    out.print(f"   [dim]{item['iri']}[/]", highlight=False)
    details = [x for x in (concepts, item.get("besoin")) if x]
    if details:
        out.print(f"   {_escape(' — '.join(details))}", highlight=False)
    dates = [f"proposé le {item['propose_le'][:10]}" if item.get("propose_le") else "",
             f"début {item['debut']}" if item.get("debut") else "", f"fin {item['fin']}" if item.get("fin") else ""]
    if any(dates):
        out.print(f"   [dim]{', '.join(x for x in dates if x)}[/]", highlight=False)


def propose_command(
    parrain: Annotated[str, typer.Option("--parrain", help="Le parrain : code, SIREN ou IRI (structure : IRI).")],
    filleul: Annotated[list[str], typer.Option("--filleul", help="Un filleul (code, SIREN ou IRI), répétable.")],
    service: ServiceOpt = None,
    besoin: BesoinOpt = None,
    note: Annotated[str | None, typer.Option("--note", help="Une note libre.")] = None,
    experience: Annotated[
        list[str] | None, typer.Option("--experience", help="IRI d'une expérience de référence, répétable.")
    ] = None,
    score: Annotated[float | None, typer.Option("--score", help="Score de la mise en relation (0 à 1).")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Enregistre un parrainage proposé dans le graphe."""
    from parrainage.lifecycle import obtenir, proposer

    with _open_store() as store:
        node = proposer(store, parrain, filleul, service or [], besoin, note, experiences=experience, score=score)
        item = obtenir(store, node)
    if json_output:
        _emit_json(item)
        return
    _print_parrainage(item)


def _transition(action: str, iri: str, json_output: bool) -> None:
    from parrainage import lifecycle as parrainage

    with _open_store() as store:
        item = getattr(parrainage, action)(store, iri)
    if json_output:
        _emit_json(item)
        return
    _print_parrainage(item)


IriArg = Annotated[str, typer.Argument(help="IRI du parrainage (ou son identifiant).")]


def accepter_command(iri: IriArg, json_output: JsonOpt = False) -> None:
    """Accepte un parrainage proposé."""
    _transition("accepter", iri, json_output)


def demarrer_command(iri: IriArg, json_output: JsonOpt = False) -> None:
    """Démarre un parrainage accepté (statut « en cours »)."""
    _transition("demarrer", iri, json_output)


def cloturer_command(iri: IriArg, json_output: JsonOpt = False) -> None:
    """Clôture un parrainage (proposé, accepté ou en cours)."""
    _transition("cloturer", iri, json_output)


def list_command(
    collectivite: Annotated[
        str | None, typer.Option("--collectivite", help="Parrainages où elle est parrain ou filleule.")
    ] = None,
    statut: Annotated[
        str | None, typer.Option("--statut", help="proposé, accepté, en cours ou terminé.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Liste les parrainages enregistrés, les plus récents d'abord."""
    from parrainage.lifecycle import lister

    with _open_store(read_only=True) as store:
        items = lister(store, collectivite=collectivite, statut=statut)
    if json_output:
        _emit_json(items)
        return
    for item in items:
        _print_parrainage(item)
    _, err = _consoles()
    err.print(f"{len(items)} parrainage(s).", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``match``, ``grappes`` and the ``parrainage`` group to the root app."""
    from capitalis.cli import _app

    app.command("match")(match_command)
    app.command("grappes")(grappes_command)
    parrainage_app = _app("parrainage", "Parrainages enregistrés : proposer, accepter, démarrer, clôturer, lister.")
    parrainage_app.command("propose")(propose_command)
    parrainage_app.command("accepter")(accepter_command)
    parrainage_app.command("demarrer")(demarrer_command)
    parrainage_app.command("cloturer")(cloturer_command)
    parrainage_app.command("list")(list_command)
    app.add_typer(parrainage_app)
