"""The answer for one sponsor: its experiences, its components and the French sentences that explain its score.

The sentences name the experiences, the size ratio (or the role: structure, natural sponsor, peer), the
proximity level with the distance, the tools the filleul already uses and the sponsorships under way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kg.francais import avec_article, de, en, fois, km, nombre, pluriel, que
from parrainage.besoin import Need
from parrainage.evaluation import HORS_REGION, NIVEAUX, REGION, VOISINAGE, Evaluation, Party, Weights
from parrainage.models import Composantes, ExperienceRef, Sponsor
from parrainage.porteurs import KINDS, Porteurs
from search import Index
from territoires.referentiel import territoires

__all__ = [
    "EXPERIENCES_SHOWN", "NIVEAUX_FR", "ROLES_FR", "abstention_message", "concepts_sentence", "le_nom", "sponsor",
]

#: Experiences named in each answer.
EXPERIENCES_SHOWN = 3
#: What the surfaces show for a role and a level (``role`` and ``niveau`` are the API's values).
ROLES_FR = {"parrain": "parrain", "parrain-naturel": "parrain naturel", "structure": "structure de mutualisation",
            "pair": "pair"}
NIVEAUX_FR = {"intercommunalite": "même intercommunalité", "departement": "même département",
              "region": "même région", "voisinage": "autre région, tout près", "hors-region": "autre région"}
_PLURIEL = (4, 6, 7, 8)  # TNCC of plural names: « les Deux-Sèvres ont mené », « les Sables-d'Olonne sont »


def le_nom(nom: str, tncc: int | None) -> str:
    """The name as the subject of a sentence: « Les Deux-Sèvres », « La communauté d'agglomération du Niortais »."""
    text = avec_article(nom, tncc)
    return text if text == nom.strip() else text[:1].upper() + text[1:]  # « e-Collectivités Vendée » stays


def _verbe(tncc: int | None, singulier: str, pluriel_: str) -> str:
    return pluriel_ if tncc in _PLURIEL else singulier


def abstention_message(need: Need) -> str:
    """What the parrainage says when no experience addresses a text need, with the nearest services to choose."""
    text = f"Aucune expérience ne traite vraiment le besoin « {need.label} » : personne à proposer comme parrain"
    if need.sous_le_seuil:
        verbe = "partage" if need.sous_le_seuil < 2 else "partagent"
        text += f" ({pluriel(need.sous_le_seuil, 'expérience')} n'en {verbe} que quelques mots)"
    if need.proches:
        choices = " ; ".join(f"{p['notation']} — {p['label']}" for p in need.proches)
        return f"{text}. Décrivez-le autrement, ou choisissez l'un des services ATLAAS les plus proches : {choices}."
    return f"{text}. Décrivez-le autrement, ou choisissez un service de la taxonomie ATLAAS."


def concepts_sentence(need: Need) -> str | None:
    """Why experiences that share few words with the need count: the ATLAAS concepts the need names."""
    if not need.concepts_nommes:
        return None
    names = " ; ".join(f"{c['notation']} — {c['label']}" for c in need.concepts_nommes)
    return (f"Le besoin nomme {names} (taxonomie ATLAAS) : les expériences ainsi classées comptent même quand "
            "elles partagent peu de mots avec le besoin.")


def _concept_reason(table: Porteurs, index: Index, need: Need, k: int) -> str | None:
    """Why this sponsor's experiences count when they do only through a concept the need names."""
    if need.par_concept is None or not need.concepts_nommes:
        return None
    docs = table.docs_of(k)
    docs = docs[need.sim[docs] > 0]
    if not len(docs) or not need.par_concept[docs].any():
        return None
    facet = index.facets["concept"]
    mine = {facet.values[int(v)] for i in docs[need.par_concept[docs]] for v in facet.of_doc(int(i))}
    named = [f"{c['notation']} — {c['label']}" for c in need.concepts_nommes if c["notation"] in mine]
    if not named:
        return None
    return (f"Le besoin nomme {' ; '.join(named)} (taxonomie ATLAAS), qui classe "
            f"{'cette expérience' if int(need.par_concept[docs].sum()) == 1 else 'ces expériences'}.")


def _titles(exps: Sequence[ExperienceRef]) -> str:
    parts = [f"« {e.titre} »" + (f" ({e.annee})" if e.annee else "") for e in exps]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def _sentences(table: Porteurs, k: int, ev: Evaluation, j: int, party: Party, exps: list[ExperienceRef],
               count: int, shared: list[str], n_load: int, w: Weights, reason: str | None = None) -> list[str]:
    """The explanation of one sponsor: its experiences, its size or role, where it is, tools, load, and why
    its experiences count when they do through a concept the need names."""
    out = [_experience_sentence(table.noms[k], table.tncc[k], exps, count),
           _role_sentence(table, k, ev, j, party, w.ratio),
           _place_sentence(table, k, ev, j, party, w.voisinage_km)]
    if reason:
        out.append(reason)
    if shared:
        out.append(f"Outils {que(party.nom, party.tncc)} {_verbe(party.tncc, 'utilise', 'utilisent')} déjà : "
                   f"{', '.join(shared)}.")
    if n_load:
        s = "s" if n_load > 1 else ""
        out.append(f"A déjà {nombre(n_load)} parrainage{s} proposé{s}, accepté{s} ou en cours, ce qui abaisse son "
                   "score.")
    return out


def _experience_sentence(nom: str, tncc: int | None, exps: list[ExperienceRef], count: int) -> str:
    more = count - len(exps)
    what = pluriel(count, "expérience pertinente", "expériences pertinentes")
    tail = f" (et {pluriel(more, 'autre')})" if more > 0 else ""
    return f"{le_nom(nom, tncc)} {_verbe(tncc, 'a', 'ont')} mené {what} pour ce besoin : {_titles(exps)}{tail}."


def _departements(deps: Sequence[str] | frozenset[str]) -> str:
    """« la Gironde », « la Vendée et les Deux-Sèvres »."""
    ref = territoires().ref
    names = [avec_article(ref.departements[d].nom, ref.departements[d].tncc) for d in sorted(deps)
             if d in ref.departements]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1] if names else ""


def _role_sentence(table: Porteurs, k: int, ev: Evaluation, j: int, party: Party, ratio_min: float) -> str:
    role = ev.role[j]
    pop = table.pop[k]
    ratio = ev.ratio[j]
    filleul = party.nom, party.tncc
    if role == "structure":
        covered = sorted(set(table.deps_of[k]) & party.deps)
        if not covered:
            return (f"Structure de mutualisation voisine, qui couvre {_departements(table.deps_of[k])} mais pas "
                    f"{avec_article(*filleul)} : elle a déjà mené ce projet tout près et peut le partager.")
        return (f"Structure de mutualisation dont le territoire couvre celui {de(*filleul)} "
                f"({_departements(covered)}) : c'est sa mission d'accompagner les collectivités qu'elle couvre.")
    if role == "parrain-naturel":
        sizes = ""
        if not np.isnan(ratio):
            sizes = f" ({pluriel(int(pop), 'habitant')} contre {nombre(party.population or 0)})"
        return (f"{le_nom(*filleul)} {_verbe(party.tncc, 'est membre', 'sont membres')} de cette "
                f"intercommunalité : c'est un parrain naturel, quelle que soit sa taille{sizes}.")
    if role == "pair":
        return (f"Collectivité de taille comparable ({fois(float(ratio))} la population {de(*filleul)}) : un "
                f"échange entre pairs plutôt qu'un parrainage, faute de collectivité au moins {fois(ratio_min)} "
                "plus peuplée ayant mené une telle expérience.")
    if not np.isnan(ratio):
        return (f"Collectivité {fois(float(ratio))} plus peuplée {que(*filleul)} "
                f"({pluriel(int(pop), 'habitant')} contre {nombre(party.population or 0)}).")
    return f"Collectivité de {pluriel(int(pop), 'habitant')} (population {de(*filleul)} inconnue)."


def _region(party: Party) -> tuple[str, int | None] | None:
    if len(party.regions) != 1:
        return None
    record = territoires().record("region", next(iter(party.regions)))
    return None if record is None else (record.nom, record.tncc)


def _place_sentence(table: Porteurs, k: int, ev: Evaluation, j: int, party: Party, voisinage_km: float) -> str:
    """Why the sponsor is there: same EPCI, département, région, a neighbour within the distance, or beyond."""
    tier = int(ev.tier[j])
    dist = float(ev.dist[j])
    ref = territoires().ref
    at = "" if np.isnan(dist) else ", à moins d'1\u00a0km" if dist < 1 else f", à {km(dist)}"
    if tier == 0:
        return f"Dans votre intercommunalité{at}."
    if tier == 1:
        if len(party.deps) == 1:
            return f"Même département ({_departements(party.deps)}){at}."
        return f"Dans l'un de vos départements{at}."
    region = _region(party)
    if tier == REGION:
        return f"Même région ({avec_article(*region)}){at}." if region else f"Dans votre région{at}."
    if tier == VOISINAGE:
        deps = sorted(table.deps_of[k])
        where = ""
        if len(deps) == 1 and deps[0] in ref.departements:
            d = ref.departements[deps[0]]
            where = f", {en(d.nom, d.tncc or 0)} ({ref.regions[d.region].nom})" if d.region in ref.regions else ""
        return (f"Hors de votre région mais tout près{at}{where} : à moins de {km(voisinage_km)}, elle est "
                "proposée avec les collectivités de votre région.")
    assert tier == HORS_REGION
    name = f" ({avec_article(*region)})" if region else ""
    why = ("aucune collectivité de votre région ne convient" if not ev.largest
           else "votre région ne compte pas de collectivité plus grande")
    return f"Hors de votre région{name}{at} : {why}."


def _experiences(table: Porteurs, index: Index, sim: np.ndarray, k: int) -> tuple[list[ExperienceRef], int]:
    docs = table.docs_of(k)
    docs = docs[sim[docs] > 0]
    order = docs[np.lexsort((docs, -sim[docs]))]
    refs = []
    for i in order[:EXPERIENCES_SHOWN]:
        p = index.payload(int(i))
        refs.append(ExperienceRef(iri=p["iri"], titre=p["titre"], similarite=round(float(sim[i]), 4),
                                  annee=p.get("annee")))
    return refs, len(docs)


def _shared_techs(table: Porteurs, index: Index, sim: np.ndarray, k: int, techs: set[int]) -> list[str]:
    if not techs:
        return []
    facet = index.facets["technologie"]
    docs = table.docs_of(k)
    found = {int(v) for i in docs[sim[docs] > 0] for v in facet.of_doc(int(i))} & techs
    return sorted(facet.values[v] for v in found)


def sponsor(table: Porteurs, index: Index, need: Need, ev: Evaluation, j: int, party: Party, techs: set[int],
             load: np.ndarray, w: Weights) -> Sponsor:
    k = int(ev.cand[j])
    exps, count = _experiences(table, index, need.sim, k)
    reason = _concept_reason(table, index, need, k)
    shared = _shared_techs(table, index, need.sim, k, techs)
    n_load = int(load[k]) if len(load) else 0
    pop = table.pop[k]
    ratio = ev.ratio[j]
    dist = ev.dist[j]
    return Sponsor(
        iri=table.iris[k],
        nom=table.noms[k],
        type=KINDS[int(table.kind[k])],
        insee=table.insee[k],
        siren=table.siren[k],
        population=None if np.isnan(pop) else int(pop),
        score=round(float(ev.score[j]), 4),
        composantes=Composantes(**{name: round(float(v[j]), 4) for name, v in ev.comps.items()}),
        experiences=exps,
        distance_km=None if np.isnan(dist) else round(float(dist), 1),
        explication=_sentences(table, k, ev, j, party, exps, count, shared, n_load, w, reason),
        role=str(ev.role[j]),
        niveau=NIVEAUX[int(ev.tier[j])],
        ratio=None if np.isnan(ratio) or ev.role[j] == "structure" else round(float(ratio), 2),
    )
