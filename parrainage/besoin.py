"""The need of a filleul, and which carriers answered it: similarity of every experience, then per carrier.

:func:`need` scores every indexed experience in [0, 1]: the hybrid search ranking (:func:`search.rank`,
normalised by the best match) for a text, the taxonomy for ATLAAS notations (1.0 for the concept and its
descendants, 0.5 / 0.3 for an experience classified only at the parent / grand-parent level); both given, the
larger of the two. :func:`aggregate` gathers them per carrier: best similarity, soft count, relevant experiences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kg.context import Context
from kg.errors import InvalidInput
from parrainage.porteurs import Porteurs
from search import Index, query_vector, rank

__all__ = ["ANCESTOR_SIMILARITY", "Aggregate", "Need", "aggregate", "need"]

#: Similarity of an experience classified only at the parent / grand-parent level of a requested concept.
ANCESTOR_SIMILARITY = (0.5, 0.3)


@dataclass
class Need:
    text: str | None
    notations: list[str]
    sim: np.ndarray  # similarity of every indexed experience, 0 when not relevant
    label: str
    services: list[dict[str, str]]


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


def need(ctx: Context, table: Porteurs, index: Index, besoin: str | None, services: Sequence[str] | None,
         qvec: np.ndarray | None, min_similarity: float = 0.0) -> Need:
    """Similarity of every experience to the need (text through the search ranking, services by taxonomy)."""
    text = (besoin or "").strip() or None
    notations = _check_notations(table, index, services or [])
    if text is None and not notations:
        raise InvalidInput("décrivez le besoin en quelques mots ou donnez un service ATLAAS", field="besoin")
    if text is not None and len(text) > 2000:
        raise InvalidInput("le besoin tient en 2 000 caractères au plus", field="besoin")
    n = index.size
    sim = np.zeros(n, np.float32)
    if text is not None and n:
        if qvec is None and index.vectors.shape[1]:
            qvec = query_vector(ctx, text)
        scored = rank(index, text, None, qvec=qvec, dense_k=ctx.settings.search_dense_k)
        if len(scored.order):
            top = float(scored.score[scored.order].max())
            if top > 0:
                sim[scored.order] = np.clip(scored.score[scored.order] / top, 0, 1)
                sim[sim < min_similarity] = 0.0
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
    labels = [{"notation": v, "label": table.taxonomy.label.get(v, v)} for v in notations]
    parts = [text] if text else []
    parts += [f"{s['notation']} — {s['label']}" for s in labels]
    return Need(text, notations, sim, " ; ".join(parts), labels)


@dataclass
class Aggregate:
    """Per-carrier relevance of one need: the carriers of at least one relevant experience."""

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
    cand = np.flatnonzero(best > 0)
    return Aggregate(cand, best[cand], soft[cand], count[cand], int((need.sim > 0).sum()), rel)
