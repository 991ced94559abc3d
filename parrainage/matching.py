"""Parrainage: which experienced collectivities could sponsor a given one on a given need (:func:`match`).

Recommendation #7 of the 2015 report: larger collectivities with the engineering and the achievements
sponsor smaller ones, case by case or in clusters (*grappes*, :mod:`parrainage.grappes`). :func:`match`
is a sequence of steps, each in its module:

1. **the filleul** is resolved from an INSEE code, a SIREN or an IRI against the COG referential
   (:mod:`territoires.collectivites`: its population, EPCI, département, région and town-hall point);
2. **the carrier table** of the store and the search index (:mod:`parrainage.porteurs`, kept in the context);
3. **relevance** of every experience to the need, then per carrier (:mod:`parrainage.besoin`);
4. **roles, scope and score** of every candidate for this filleul (:mod:`parrainage.evaluation`);
5. **the answer**: the best sponsors with their components and French sentences naming the experiences, the
   size ratio and the distance (:mod:`parrainage.explication`), and a message when the scope had to change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kg.context import Context
from kg.errors import InvalidInput
from kg.francais import de, en, fois, km, pluriel, que
from parrainage.besoin import Aggregate, Need
from parrainage.evaluation import VOISINAGE, Evaluation, Party, Weights, demande, evaluate, filleul_techs, party
from parrainage.explication import abstention_message, concepts_sentence, sponsor
from parrainage.models import MatchResult
from search import Index
from territoires.collectivites import resolve_collectivite
from territoires.referentiel import territoires

__all__ = ["match"]


def _check_options(limit: int, rayon_km: float | None) -> None:
    if limit < 1 or limit > 1000:
        raise InvalidInput("un nombre de parrains entre 1 et 1 000", field="limit")
    if rayon_km is not None and (math.isnan(rayon_km) or rayon_km <= 0):
        raise InvalidInput("une distance positive, en kilomètres", field="rayon_km")


def match(
    ctx: Context,
    collectivite: str,
    besoin: str | None = None,
    services: Sequence[str] | None = None,
    limit: int = 10,
    rayon_km: float | None = None,
    *,
    index: Index | None = None,
    qvec: np.ndarray | None = None,
) -> MatchResult:
    """Rank the possible sponsors of ``collectivite`` for a need (text ``besoin`` and/or ATLAAS ``services``).

    ``index`` skips the home's search index (tests, benches); ``qvec`` gives the need's query vector (benches
    measure the ranking without encoding). Raises InvalidInput on a malformed code, need or option, NotFound
    on an unknown collectivity, MissingIndex when the home has no search index yet.
    """
    s = ctx.settings
    _check_options(limit, rayon_km)
    rayon = rayon_km if rayon_km is not None else s.match_rayon_km
    filleul = party(*resolve_collectivite(collectivite))
    idx, table, wanted, w, agg, load = demande(ctx, besoin, services, index=index, qvec=qvec)
    techs = filleul_techs(table, idx, filleul)
    ev = evaluate(table, idx, agg, filleul, w, load, rayon, techs)
    order = ev.order(table)
    sponsors = [sponsor(table, idx, wanted, ev, int(j), filleul, techs, load, w) for j in order[:limit]]
    in_region = bool((ev.selected & (ev.tier <= VOISINAGE)).any())
    perimetre = ("region+hors-region" if in_region and ev.extended else "hors-region" if ev.extended
                 else "region" if in_region else "aucun")
    message = _match_message(filleul, wanted, agg, ev, in_region, rayon, w)
    reason = concepts_sentence(wanted) if sponsors else None
    if reason:
        message = f"{message} {reason}" if message else reason
    return MatchResult(filleul=filleul.filleul(), besoin=wanted.label, services=wanted.services, sponsors=sponsors,
                       total=len(order), experiences_pertinentes=agg.relevant, perimetre=perimetre,
                       message=message, services_proches=wanted.proches or [])


def _match_message(party: Party, need: Need, agg: Aggregate, ev: Evaluation, in_region: bool, rayon: float | None,
                   w: Weights) -> str | None:
    de_region = de(*_region_name(party)) if len(party.regions) == 1 else "de sa région"
    filleul = que(party.nom, party.tncc)
    if need.abstention:
        return abstention_message(need)
    if agg.relevant == 0:
        return f"Aucune expérience ne correspond au besoin « {need.label} »."
    if not ev.selected.any():
        where = f" dans un rayon de {km(rayon)}" if rayon is not None else ""
        if ev.largest:
            return (f"Aucune collectivité {de_region} n'est {fois(w.ratio)} plus peuplée {filleul}, "
                    "et aucune structure de mutualisation qui la couvre ni aucune collectivité d'une autre région, "
                    f"plus grande ou de taille comparable, n'a mené d'expérience sur ce besoin{where} "
                    f"({pluriel(agg.relevant, 'expérience pertinente', 'expériences pertinentes')} ailleurs).")
        verbe = "correspond" if agg.relevant < 2 else "correspondent"
        return (f"{pluriel(agg.relevant, 'expérience')} {verbe} au besoin, mais aucune n'a été menée{where} par "
                f"une collectivité au moins {fois(w.ratio)} plus peuplée {filleul}, par son intercommunalité ou "
                "par une structure de mutualisation qui la couvre ou se trouve tout près.")
    if ev.largest:
        head = f"Aucune collectivité {de_region} n'est {fois(w.ratio)} plus peuplée {filleul}"
        if not ev.extended:
            return (f"{head}. Seules les structures de mutualisation qui la couvrent sont proposées : aucune "
                    "collectivité d'une autre région, plus grande ou de taille comparable, n'a mené d'expérience "
                    "sur ce besoin.")
        what = "des pairs de taille comparable d'autres régions" if ev.peers else "des collectivités d'autres régions"
        structures = "les structures de mutualisation qui la couvrent, puis " if in_region else ""
        return f"{head} : voici {structures}{what}."
    if ev.extended:
        what = ("des pairs de taille comparable d'autres régions (aucune collectivité plus grande n'a mené "
                "d'expérience sur ce besoin)" if ev.peers else "des collectivités d'autres régions")
        where = en(*_region_name(party)) if len(party.regions) == 1 else "dans votre région"
        return f"Aucun parrain {where} ni à moins de {km(w.voisinage_km)} pour ce besoin : voici {what}."
    return None


def _region_name(party: Party) -> tuple[str, int | None]:
    record = territoires().record("region", next(iter(party.regions)))
    return (record.nom, record.tncc or 0) if record else ("sa région", 0)
