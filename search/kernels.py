"""The query path's loops over postings, compiled (numba): one pass where numpy makes several temporaries.

At a million experiences a query scatters about a million postings (BM25), adds the concepts of its best
hits to hundreds of thousands of experiences (graph feedback) and counts the values of every match (facets).
In numpy each of these is a gather, an arithmetic pass and a scatter over arrays the size of the postings;
here each posting is read once. Each loop adds in the order numpy did, in the same precision, so the scores
are those of the numpy code to the last bit (``tests/search/test_kernels.py``).

The machine code is cached beside the module (or in numba's user cache where that is read-only): only the first
query after an install pays the compilation (about a second a loop). Where neither can be written (a read-only
install run by a user without a home), each process compiles them once instead. ``nogil=True`` lets the API's
threads run them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np


def _compiled(loop: Callable[..., Any]) -> Any:
    """``loop`` compiled, its machine code cached on disk when numba finds a writable place for it."""
    try:
        return numba.njit(cache=True, nogil=True)(loop)
    except RuntimeError:  # "cannot cache function …: no locator available": no writable cache directory
        return numba.njit(nogil=True)(loop)


@_compiled
def add_postings(
    scores: np.ndarray, docs: np.ndarray, impacts: np.ndarray, starts: np.ndarray, stops: np.ndarray,
    factors: np.ndarray,
) -> None:
    """``scores[docs[p]] += impacts[p] * factors[j]`` for every ``p`` in ``[starts[j], stops[j])``, range by
    range (float32, the products rounded before the sums, as numpy does)."""
    for j in range(starts.size):
        factor = factors[j]
        for p in range(starts[j], stops[j]):
            scores[docs[p]] += impacts[p] * factor


@_compiled
def lift_docs(
    lift: np.ndarray, base: np.ndarray, docs: np.ndarray, starts: np.ndarray, stops: np.ndarray,
    amounts: np.ndarray, weight: np.float32,
) -> None:
    """Add to ``lift`` the weighted, capped sum of the ``amounts`` of the ranges each doc is in, for the docs with
    a positive ``base``: ``lift[d] += weight * min(sum, 1)`` (the sum in float64, range by range, then float32).

    The docs of each range are ``docs[starts[j]:stops[j]]``, distinct within a range; ``amounts`` are positive.
    """
    total = np.zeros(lift.size, np.float64)
    for j in range(starts.size):
        amount = amounts[j]
        for p in range(starts[j], stops[j]):
            total[docs[p]] += amount
    one = np.float32(1.0)
    for j in range(starts.size):
        for p in range(starts[j], stops[j]):
            d = docs[p]
            if total[d] > 0:  # not lifted yet
                if base[d] > 0:
                    lift[d] += weight * min(np.float32(total[d]), one)
                total[d] = 0.0


@_compiled
def count_values(ids: np.ndarray, ptr: np.ndarray, values: np.ndarray, m: int) -> np.ndarray:
    """How many of the docs ``ids`` carry each of the ``m`` values; doc ``d``'s values are
    ``values[ptr[d]:ptr[d + 1]]`` (distinct)."""
    out = np.zeros(m, np.int64)
    for d in ids:
        for p in range(ptr[d], ptr[d + 1]):
            out[values[p]] += 1
    return out


_M1, _M2, _M4, _H01 = (np.uint64(0x5555555555555555), np.uint64(0x3333333333333333), np.uint64(0x0F0F0F0F0F0F0F0F),
                       np.uint64(0x0101010101010101))
_S1, _S2, _S4, _S56 = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)


@_compiled
def count_common_bits(rows: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """For each row of ``rows`` (uint64 words), how many bits it shares with ``bits``: the popcount of their
    AND, word by word, without the temporaries of ``np.bitwise_count(rows & bits)`` (the SWAR popcount below
    compiles to the CPU's popcount instruction)."""
    out = np.zeros(rows.shape[0], np.int64)
    for v in range(rows.shape[0]):
        s = np.uint64(0)
        for j in range(rows.shape[1]):
            x = rows[v, j] & bits[j]
            x = x - ((x >> _S1) & _M1)
            x = (x & _M2) + ((x >> _S2) & _M2)
            x = (x + (x >> _S4)) & _M4
            s += (x * _H01) >> _S56
        out[v] = s
    return out
