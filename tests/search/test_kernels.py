"""The compiled loops of the query path give, to the last bit, what the numpy passes they replace gave."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.kernels import add_postings, count_common_bits, count_values, lift_docs


def _ranges(rng: np.random.Generator, n: int, n_ranges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranges of distinct docs (unordered within a range, as a term's postings are), concatenated."""
    parts = [rng.permutation(rng.choice(n, int(rng.integers(0, n // 2 + 1)), replace=False)) for _ in range(n_ranges)]
    lens = np.array([len(p) for p in parts], np.int64)
    stops = np.cumsum(lens)
    docs = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)
    return docs, stops - lens, stops


@pytest.mark.parametrize("seed", range(5))
def test_add_postings_is_the_numpy_scatter(seed):
    rng = np.random.default_rng(seed)
    n = 2_000
    docs, starts, stops = _ranges(rng, n, 6)
    impacts = (rng.random(docs.size) * 7).astype(np.float32)
    factors = rng.random(len(starts)) * 3  # query term weights: Python floats, rounded to float32 by numpy
    expected = np.zeros(n, np.float32)
    for lo, hi, w in zip(starts, stops, factors.tolist(), strict=True):
        expected[docs[lo:hi]] += impacts[lo:hi] * w
    got = np.zeros(n, np.float32)
    add_postings(got, docs, impacts, starts, stops, factors.astype(np.float32))
    assert np.array_equal(got, expected)
    assert expected.any()


@pytest.mark.parametrize("seed", range(5))
def test_lift_docs_is_the_numpy_sum_capped_and_weighted(seed):
    rng = np.random.default_rng(seed)
    n = 2_000
    docs, starts, stops = _ranges(rng, n, 8)
    amounts = (rng.random(len(starts)) * 0.6 + 0.01).astype(np.float32)  # several ranges sum past the cap of 1
    base = np.where(rng.random(n) < 0.6, rng.random(n), 0).astype(np.float32)
    lift = np.where(rng.random(n) < 0.1, 0.3, 0).astype(np.float32)  # the lift of the concepts a query names
    weight = 0.25
    expected = lift.copy()
    per_doc = np.zeros(n, np.float64)
    for lo, hi, a in zip(starts, stops, amounts, strict=True):
        per_doc[docs[lo:hi]] += a
    touched = np.flatnonzero(per_doc > 0)
    lifted = touched[base[touched] > 0]
    expected[lifted] += weight * np.minimum(per_doc[lifted].astype(np.float32), 1.0)
    lift_docs(lift, base, docs, starts, stops, amounts.astype(np.float64), np.float32(weight))
    assert np.array_equal(lift, expected)
    assert (per_doc > 1).any() and len(lifted) < len(touched)  # the cap and the base's condition were both used


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_count_values_counts_the_values_of_the_docs(dtype):
    rng = np.random.default_rng(3)
    n, m = 3_000, 40
    per_doc = [rng.choice(m, int(rng.integers(0, 6)), replace=False) for _ in range(n)]
    ptr = np.zeros(n + 1, dtype)
    np.cumsum([len(v) for v in per_doc], out=ptr[1:])
    values = np.concatenate(per_doc).astype(np.int32)
    ids = np.sort(rng.choice(n, 700, replace=False))
    expected = np.zeros(m, np.int64)
    for d in ids:
        expected[per_doc[d]] += 1
    assert np.array_equal(count_values(ids, ptr, values, m), expected)
    assert not count_values(ids[:0], ptr, values, m).any()


def test_count_common_bits_is_the_popcount_of_the_and():
    rng = np.random.default_rng(5)
    rows = rng.integers(0, 2**64, (9, 130), dtype=np.uint64, endpoint=False)
    rows[0] = np.iinfo(np.uint64).max  # every bit set: the popcount's widest sums
    rows[1] = 0
    bits = rng.integers(0, 2**64, 130, dtype=np.uint64, endpoint=False)
    assert np.array_equal(count_common_bits(rows, bits), np.bitwise_count(rows & bits).sum(axis=1, dtype=np.int64))
    assert count_common_bits(rows, np.full(130, np.iinfo(np.uint64).max, np.uint64))[0] == 130 * 64


def test_the_loops_compile_where_no_cache_can_be_written(tmp_path):
    """A read-only install run by a user without a home: numba finds nowhere to cache, the loops still run."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import numpy as np\n"
        "from search.kernels import count_values\n"
        "print(type(count_values._cache).__name__)\n"  # numba's cache of the loop: none
        "print(count_values(np.array([0, 2]), np.array([0, 2, 3, 4]), np.array([1, 0, 1, 1], np.int32), 2).tolist())\n"
    )
    # a locator that only knows IPython cells: no other place is tried
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["NullCache", "[1,", "2]"]
