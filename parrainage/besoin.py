"""The need of a filleul, and which carriers answered it: similarity of every experience, then per carrier.

:func:`need` scores every indexed experience in [0, 1]: the hybrid search ranking (:func:`search.rank`,
normalised by the best match) for a text, the taxonomy for ATLAAS notations (1.0 for the concept and its
descendants, 0.5 / 0.3 for an experience classified only at the parent / grand-parent level); both given, the
larger of the two. :func:`aggregate` gathers them per carrier: best similarity, soft count, relevant experiences.

A text alone never makes an experience relevant: it must also pass an **absolute floor**, its
:func:`couverture` of the need (the share of the need's words, weighted by their rarity, that the experience
contains; ``match_pertinence_min``). The fused ranking score is relative to the best match, so a need nothing
addresses would otherwise always find "the best of the irrelevant"; the coverage does not depend on the best
match nor on the embedder. Calibration: ``docs/parrainage.md``. When nothing passes, :func:`services_proches`
gives the ATLAAS services nearest to the text, for the user to choose from.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kg.context import Context
from kg.errors import InvalidInput
from parrainage.porteurs import Porteurs
from search import Index, query_vector, rank

__all__ = ["ANCESTOR_SIMILARITY", "PROCHES", "Aggregate", "Need", "aggregate", "couverture", "need", "services_proches"]

#: Similarity of an experience classified only at the parent / grand-parent level of a requested concept.
ANCESTOR_SIMILARITY = (0.5, 0.3)
#: ATLAAS services offered when a text need finds nothing, and the ranked experiences they are read from.
PROCHES = 3
_PROCHES_DEPTH = 20
_SERVICE = re.compile(r"S\d+")


@dataclass
class Need:
    text: str | None
    notations: list[str]
    sim: np.ndarray  # similarity of every indexed experience, 0 when not relevant
    label: str
    services: list[dict[str, str]]
    #: experiences the text found with a relative score but under the absolute floor (none when it passed)
    sous_le_seuil: int = 0
    #: experiences that pass the absolute floor (or a requested notation); a carrier needs one to be proposed
    passe: np.ndarray | None = None
    #: the ATLAAS services nearest to a text that found nothing (``{notation, label}``), else empty
    proches: list[dict[str, str]] | None = None

    @property
    def abstention(self) -> bool:
        """A text need that no experience addresses well enough (no notation given): nobody is proposed."""
        return self.text is not None and not self.notations and not bool(self.sim[self.passe].any())


def _check_notations(table: Porteurs, index: Index, services: Sequence[str]) -> list[str]:
    known = set(table.taxonomy.label) | set(index.facets["concept"].values)
    out: list[str] = []
    for raw in services:
        v = raw.strip()
        v = v.upper() if v[:1] in ("s", "S") else v.lower()
        if not re.fullmatch(r"S\d+|\d(?:[a-z]\d?)?", v):
            raise InvalidInput(f"notation ATLAAS invalide {raw!r} (attendu : S1…S92, 1a3, 2b…)", field="service")
        if v not in known:
            raise InvalidInput(f"notation {v!r} inconnue de la taxonomie ATLAAS", field="service")
        if v not in out:
            out.append(v)
    return out


def couverture(index: Index, text: str) -> np.ndarray:
    """Share of the need's words, weighted by their idf, that each experience contains, in [0, 1] (absolute).

    The words are the search analyser's (stems, typos corrected at 0.8 of a word); a word no experience
    contains weighs the most (df 0), so a need about something the corpus never mentions covers little.
    """
    terms, _ = index.analyzer.query_terms(text)
    n = index.size
    covered = np.zeros(n, np.float64)
    total = 0.0
    for term, weight in terms.items():
        tid = index.terms.get(term)
        lo, hi = (int(index.term_ptr[tid]), int(index.term_ptr[tid + 1])) if tid is not None else (0, 0)
        idf = math.log(1 + (n - (hi - lo) + 0.5) / ((hi - lo) + 0.5))  # the BM25 idf of search.lexical
        total += idf * weight
        if hi > lo:
            covered[index.post_docs[lo:hi]] += idf * weight
    return covered / total if total > 0 else covered


def services_proches(index: Index, table: Porteurs, score: np.ndarray, order: np.ndarray,
                     named: Sequence[str] = ()) -> list[dict[str, str]]:
    """The ATLAAS services nearest to a text: those it names, then those of its best-ranked experiences."""
    facet = index.facets["concept"]
    weight: dict[str, float] = defaultdict(float)
    for notation in named:
        if _SERVICE.fullmatch(notation):
            weight[notation] += 100.0
    best = order[np.argsort(-score[order], kind="stable")][:_PROCHES_DEPTH] if len(order) else order
    for i in best:
        for v in facet.of_doc(int(i)):
            notation = facet.values[int(v)]
            if _SERVICE.fullmatch(notation):
                weight[notation] += float(score[i])
    ranked = sorted(weight, key=lambda k: (-weight[k], int(k[1:])))[:PROCHES]
    return [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in ranked]


def need(ctx: Context, table: Porteurs, index: Index, besoin: str | None, services: Sequence[str] | None,
         qvec: np.ndarray | None, min_similarity: float = 0.0, floor: float = 0.0) -> Need:
    """Similarity of every experience to the need (text through the search ranking, services by taxonomy).

    An experience found by the text counts when its score is at least ``min_similarity`` of the best one
    (relative) and its :func:`couverture` of the need at least ``floor`` (absolute).
    """
    text = (besoin or "").strip() or None
    notations = _check_notations(table, index, services or [])
    if text is None and not notations:
        raise InvalidInput("décrivez le besoin en quelques mots ou donnez un service ATLAAS", field="besoin")
    if text is not None and len(text) > 2000:
        raise InvalidInput("le besoin tient en 2 000 caractères au plus", field="besoin")
    n = index.size
    sim = np.zeros(n, np.float32)
    passe = np.zeros(n, bool)
    below = 0
    proches: list[dict[str, str]] | None = None
    if text is not None and n:
        if qvec is None and index.vectors.shape[1]:
            qvec = query_vector(ctx, text)
        scored = rank(index, text, None, qvec=qvec, dense_k=ctx.settings.search_dense_k)
        if len(scored.order):
            top = float(scored.score[scored.order].max())
            if top > 0:
                sim[scored.order] = np.clip(scored.score[scored.order] / top, 0, 1)
                sim[sim < min_similarity] = 0.0
                passe = (sim > 0) & (couverture(index, text) >= floor)
                below = int(((sim > 0) & ~passe).sum())
        if not notations and not passe.any():
            terms, _ = index.analyzer.query_terms(text)
            proches = services_proches(index, table, scored.score, scored.order, list(index.query_concepts(terms)))
    if notations and n:
        concept = index.facets["concept"]
        tax = table.taxonomy
        for notation in notations:
            sim = np.maximum(sim, concept.mask([notation], n).astype(np.float32))
            for depth, ancestor in enumerate(tax.ancestors(notation)[1 : 1 + len(ANCESTOR_SIMILARITY)]):
                if not re.fullmatch(r"\d[a-z]\d?", ancestor):  # never a whole axe
                    continue
                only = concept.mask([ancestor], n) & ~concept.mask(table.children.get(ancestor, []), n)
                sim = np.maximum(sim, only.astype(np.float32) * ANCESTOR_SIMILARITY[depth])
        passe |= sim > 0  # a requested notation is the user's own choice: no floor
    labels = [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in notations]
    parts = [text] if text else []
    parts += [f"{s['notation']} — {s['label']}" for s in labels]
    if not notations and not passe.any():
        sim = np.zeros(n, np.float32)  # nothing addresses the need: nobody is proposed
    return Need(text, notations, sim, " ; ".join(parts), labels, sous_le_seuil=below, passe=passe, proches=proches)


@dataclass
class Aggregate:
    """Per-carrier relevance of one need: the carriers of at least one relevant experience, one of them over
    the absolute floor."""

    cand: np.ndarray  # carrier ids
    best: np.ndarray  # best similarity per candidate
    soft: np.ndarray  # sum of similarities
    count: np.ndarray  # relevant experiences
    relevant: int  # relevant experiences overall
    rel_pairs: np.ndarray  # pair positions of relevant experiences


def aggregate(table: Porteurs, need: Need) -> Aggregate:
    sims = need.sim[table.pair_doc] if table.pair_doc.size else np.zeros(0, np.float32)
    rel = np.flatnonzero(sims > 0)
    carriers = table.pair_carrier[rel]
    values = sims[rel]
    n = table.size
    best = np.zeros(n, np.float32)
    np.maximum.at(best, carriers, values)
    soft = np.bincount(carriers, weights=values, minlength=n)
    count = np.bincount(carriers, minlength=n)
    passing = np.zeros(n, bool)  # a carrier is proposed only with one experience over the absolute floor
    if need.passe is not None:
        passing[carriers[need.passe[table.pair_doc[rel]]]] = True
    else:
        passing[:] = True
    cand = np.flatnonzero((best > 0) & passing)
    return Aggregate(cand, best[cand], soft[cand], count[cand], int((need.sim > 0).sum()), rel)
