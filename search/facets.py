"""Facets of the index: multi-valued fields as arrays, the filters' mask and the counts of an answer."""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from search.analysis import fold
from search.corpus import notation_order
from search.kernels import count_common_bits, count_values
from search.models import NOTATION_PATTERNS, TAILLES, Filters

#: Facet fields of the index (``concept`` holds the ATLAAS notations of every level).
FACET_FIELDS: tuple[str, ...] = ("concept", "region", "departement", "taille", "annee", "technologie", "source")


@dataclass
class Facet:
    """One multi-valued field as two parallel arrays (doc, value), plus the inverted lists per value.

    The arrays are sorted by doc, so ``ptr`` (built lazily) gives each doc's values as a slice; ``inverted()``
    gives each value's docs. Counting a set of docs gathers only their postings (or those of the complement
    when it is smaller), never a pass over every posting.
    """

    values: list[str]
    docs: np.ndarray  # int32, sorted by doc
    vals: np.ndarray  # int32

    @classmethod
    def build(cls, per_doc: Sequence[Sequence[str]]) -> Facet:
        builder = FacetBuilder()
        for i, vs in enumerate(per_doc):
            builder.add(i, vs)
        return builder.finish()

    @property
    def position(self) -> dict[str, int]:
        cached = getattr(self, "_position", None)
        if cached is None:
            cached = {v: i for i, v in enumerate(self.values)}
            self._position = cached
        return cached

    def mask(self, wanted: Iterable[str], n: int) -> np.ndarray:
        """Experiences carrying any of the ``wanted`` values."""
        ids = [self.position[v] for v in wanted if v in self.position]
        out = np.zeros(n, bool)
        for v in ids:
            out[self.docs_of(v)] = True
        return out

    def docs_of(self, v: int) -> np.ndarray:
        """Docs carrying value number ``v`` (ascending)."""
        order, ptr = self.inverted()
        return order[ptr[v] : ptr[v + 1]]

    def inverted(self) -> tuple[np.ndarray, np.ndarray]:
        """(docs by value, pointer by value): value ``v``'s docs are ``docs[ptr[v]:ptr[v + 1]]``, ascending."""
        cached = getattr(self, "_inv", None)
        if cached is None:
            order = np.argsort(self.vals, kind="stable")
            ptr = np.zeros(len(self.values) + 1, np.int64)
            np.cumsum(np.bincount(self.vals, minlength=len(self.values)), out=ptr[1:])
            cached = (self.docs[order], ptr)
            self._inv = cached
        return cached

    def _by_doc(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(CSR pointer by doc, the single value of each doc or None when a doc may carry several)."""
        cached = getattr(self, "_csr", None)
        if cached is None or len(cached[0]) != n + 1:
            ptr = np.zeros(n + 1, np.int32 if len(self.docs) < 2**31 else np.int64)
            if len(self.docs):
                np.cumsum(np.bincount(self.docs, minlength=n), out=ptr[1:])
            single = None
            if len(self.docs) == 0 or int(np.diff(ptr).max()) <= 1:
                single = np.full(n, len(self.values), np.int32)  # the extra slot counts "no value"
                single[self.docs] = self.vals
            cached = (ptr, single)
            self._csr = cached
        return cached

    def _totals(self, n: int) -> np.ndarray:
        cached = getattr(self, "_total_counts", None)
        if cached is None or getattr(self, "_total_n", None) != n:
            cached = np.bincount(self.vals, minlength=len(self.values))
            self._total_counts, self._total_n = cached, n
        return cached

    def count_array(self, ids: np.ndarray, n: int, answer_bits: Callable[[], np.ndarray] | None = None) -> np.ndarray:
        """How many of the docs ``ids`` (ascending, distinct) carry each value, as an array over ``values``.

        Three ways, the cheapest for the size of ``ids``: one ``bincount`` over the docs' single values; the
        docs' postings gathered (or the complement's, subtracted from the totals, when ``ids`` is more than
        half the corpus); or, for a facet of few values and many docs per value, per-value bitsets ANDed
        with the docs' bitset, a cost that does not grow with ``ids``. ``answer_bits`` gives that bitset
        (:func:`bitset`) when several facets count the same docs.
        """
        m = len(self.values)
        if len(ids) == n:
            return self._totals(n)
        _, single = self._by_doc(n)
        if single is None:
            bits = self._bits(n)
            if bits is not None and bits.size < _BITS_PER_POSTING * min(len(ids), n - len(ids)) * len(self.docs) / n:
                mine = answer_bits() if answer_bits is not None else bitset(ids, n)
                return count_common_bits(bits, mine)
        if len(ids) > n // 2:  # count the complement and subtract: never more than half the docs gathered
            keep = np.ones(n, bool)
            keep[ids] = False
            return self._totals(n) - self._count_ids(np.flatnonzero(keep), n, m)
        return self._count_ids(ids, n, m)

    def _bits(self, n: int) -> np.ndarray | None:
        """Per-value bitsets over the docs (values × ceil(n/64) words), when they can ever beat gathering."""
        cached = getattr(self, "_bitsets", None)
        if cached is None or getattr(self, "_bits_n", None) != n:
            words = (n + 63) // 64
            cached = False
            if len(self.values) * words < _BITS_PER_POSTING * (n // 2) * len(self.docs) / max(n, 1):
                cached = np.zeros((len(self.values), words), np.uint64)
                for v in range(len(self.values)):
                    cached[v] = bitset(self.docs_of(v), n)
            self._bitsets, self._bits_n = cached, n
        return cached if cached is not False else None

    def _count_ids(self, ids: np.ndarray, n: int, m: int) -> np.ndarray:
        if not len(ids):
            return np.zeros(m, np.int64)
        ptr, single = self._by_doc(n)
        if single is not None:
            return np.bincount(single[ids], minlength=m + 1)[:m]
        return count_values(ids, ptr, self.vals, m)

    def counts(self, matched: np.ndarray) -> dict[str, int]:
        """Counts per value over a boolean mask of docs (value -> count, values carried by none left out)."""
        counts = self.count_array(np.flatnonzero(matched), len(matched))
        return {self.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}

    def nbytes(self) -> int:
        """Bytes of the arrays, with the lookup structures built so far (inverted lists, by-doc, bitsets)."""
        extra = [*getattr(self, "_inv", ()), *getattr(self, "_csr", ())]
        bits = getattr(self, "_bitsets", None)
        if isinstance(bits, np.ndarray):
            extra.append(bits)
        return self.docs.nbytes + self.vals.nbytes + sum(a.nbytes for a in extra if isinstance(a, np.ndarray))

    def of_doc(self, i: int) -> np.ndarray:
        key = self.docs.dtype.type(i)  # same dtype as the array: a binary search, no conversion of the array
        lo = int(self.docs.searchsorted(key, "left"))
        hi = int(self.docs.searchsorted(key, "right"))
        return self.vals[lo:hi]


def bitset(ids: np.ndarray, n: int) -> np.ndarray:
    """The docs ``ids`` of ``n`` as a bitset of ceil(n/64) little-endian words, the layout of the facets' bitsets."""
    mask = np.zeros((n + 63) // 64 * 64, bool)
    mask[ids] = True
    return np.packbits(mask, bitorder="little").view(np.uint64)


#: The bitsets count a set of docs when their words are fewer than this many times the postings to gather. The
#: crossover, measured on real-shaped indexes (bench/scale.py's stores, each facet, answers of 0.05 % to 25 % of
#: the experiences, both ways compiled: :mod:`search.kernels`), lies between 4 and 16 at 903,000 experiences
#: (sources 4, technologies 5, sizes 8, concepts 10-16, regions 15-20) and between 1 and 12 at 100,000 (a
#: gathered posting costs more as the arrays outgrow the CPU's caches; a word is read in sequence).
_BITS_PER_POSTING = 8.0


class FacetBuilder:
    """A :class:`Facet` filled doc by doc, in ascending doc order (a corpus read batch by batch)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._docs = array("i")
        self._vals = array("i")

    def add(self, doc: int, values: Iterable[str]) -> None:
        ids = self._ids
        for v in dict.fromkeys(values):
            k = ids.get(v)
            if k is None:
                k = ids[v] = len(ids)
            self._docs.append(doc)
            self._vals.append(k)

    def finish(self) -> Facet:
        """The facet, its values in facet order (codes, years, labels: :func:`_facet_order`)."""
        values = sorted(self._ids, key=_facet_order)
        rank = np.zeros(len(values), np.int32)
        for i, v in enumerate(values):
            rank[self._ids[v]] = i
        vals = rank[np.frombuffer(self._vals, np.int32)] if len(self._vals) else np.zeros(0, np.int32)
        return Facet(values, np.frombuffer(self._docs, np.int32).copy(), vals.astype(np.int32, copy=False))


def _facet_order(v: str) -> tuple[Any, ...]:
    """ATLAAS notations in their order, then every other value by text."""
    return notation_order(v) if re.fullmatch(r"\d(?:[a-z]\d?)?|S\d+", v) else (2, 0, v)


def allowed_mask(
    facets: Mapping[str, Facet], n: int, filters: Filters, technology_names: Mapping[str, str]
) -> np.ndarray | None:
    """Boolean mask of the ``n`` experiences the filters allow (None: no filter); ``filters`` are validated.

    ``technology_names`` maps a folded spelling to the technology's label (any known spelling filters).
    """
    masks: list[np.ndarray] = []
    concept = facets["concept"]
    for level in NOTATION_PATTERNS:
        values = getattr(filters, level)
        if values:
            masks.append(concept.mask(values, n))
    for name in ("region", "departement"):
        values = getattr(filters, name)
        if values:
            masks.append(facets[name].mask(values, n))
    if filters.taille:
        masks.append(facets["taille"].mask(filters.taille, n))
    if filters.source:
        masks.append(facets["source"].mask(filters.source, n))
    if filters.technologie:
        wanted = {technology_names.get(fold(t), t) for t in filters.technologie}
        masks.append(facets["technologie"].mask(wanted, n))
    if filters.annee_min is not None or filters.annee_max is not None:
        lo = filters.annee_min if filters.annee_min is not None else -10_000
        hi = filters.annee_max if filters.annee_max is not None else 10_000
        facet = facets["annee"]
        masks.append(facet.mask([v for v in facet.values if lo <= int(v) <= hi], n))
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def facet_counts(facets: Mapping[str, Facet], n: int, ids: np.ndarray) -> dict[str, dict[str, int]]:
    """Exact facet counts over the docs ``ids`` (ascending, distinct) of ``n``, gathered from their postings only."""
    out: dict[str, dict[str, int]] = {}
    answer_bits = cache(lambda: bitset(ids, n))  # made once, for the facets that count by bitsets
    for name in ("concept", "region", "taille", "annee", "technologie", "source"):
        facet = facets[name]
        array = facet.count_array(ids, n, answer_bits)
        nonzero = np.flatnonzero(array).tolist()
        values, counted = facet.values, array.tolist()
        if name == "concept":
            levels = concept_levels(facet)
            for level in ("axe", "enjeu", "usage"):
                out[level] = {values[i]: counted[i] for i in nonzero if levels[i] == level}
            continue
        counts = {values[i]: counted[i] for i in nonzero}
        if name == "taille":
            counts = {t: counts[t] for t in TAILLES if t in counts}
        elif name == "technologie":
            counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        out[name] = counts
    return out


def concept_levels(facet: Facet) -> list[str | None]:
    """The level (axe, enjeu, usage) of each concept value, or None (services), computed once per facet."""
    cached = getattr(facet, "_levels", None)
    if cached is None:
        cached = [
            next((lvl for lvl in ("axe", "enjeu", "usage") if NOTATION_PATTERNS[lvl].match(v)), None)
            for v in facet.values
        ]
        facet._levels = cached
    return cached


def is_fine_concept(value: str) -> bool:
    """A service or a usage: the concepts precise enough to say what two experiences share."""
    return value.startswith("S") or bool(NOTATION_PATTERNS["usage"].match(value))
