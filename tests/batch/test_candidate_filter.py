"""candidate_filter.break_ties sorts only the rows that hold a tie: the result must equal
sorting every row (the reference below), and tied variants must spread across seeds."""

from __future__ import annotations

import numpy as np

from spotrec.candidate_filter import TIE_RESOLUTION, break_ties, filter_candidates


def sort_every_row(candidates, scores, queries):
    """Reference: the (score bucket desc, hash) lexsort applied to every row."""
    bucket = np.floor(scores.astype(np.float64) / TIE_RESOLUTION)
    with np.errstate(over="ignore"):
        mixed = queries.astype(np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
        mixed = mixed ^ (candidates.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9))
        mixed ^= mixed >> np.uint64(31)
    order = np.lexsort((mixed, -bucket), axis=-1)
    return np.take_along_axis(candidates, order, axis=1), np.take_along_axis(scores, order, axis=1)


def faiss_like_rows(rng, rows=300, k=40, tied_share=0.3):
    """Rows sorted by descending score, as FAISS returns them; some rows hold runs of equal
    scores (identical variants), a few end in -1 / -inf padding."""
    scores = -np.sort(-rng.random((rows, k)).astype(np.float32), axis=1)
    candidates = np.stack([rng.permutation(1000)[:k] for _ in range(rows)])
    for r in np.flatnonzero(rng.random(rows) < tied_share):
        lo = rng.integers(0, k - 3)
        scores[r, lo : lo + 3] = scores[r, lo]
    padded = rng.choice(rows, size=10, replace=False)
    candidates[padded, -5:] = -1
    scores[padded, -5:] = -np.inf
    return candidates, scores, np.arange(rows) + 5000


def test_sorting_only_tied_rows_equals_sorting_every_row():
    candidates, scores, queries = faiss_like_rows(np.random.default_rng(1))
    got_c, got_s = break_ties(candidates, scores, queries)
    want_c, want_s = sort_every_row(candidates, scores, queries)
    np.testing.assert_array_equal(got_c, want_c)
    np.testing.assert_array_equal(got_s, want_s)
    assert not np.array_equal(got_c, candidates)  # the planted ties did move


def test_rows_without_ties_are_returned_as_given():
    candidates, scores, queries = faiss_like_rows(np.random.default_rng(2), tied_share=0.0)
    untied = np.isfinite(scores).all(axis=1)
    got_c, _ = break_ties(candidates[untied], scores[untied], queries[untied])
    np.testing.assert_array_equal(got_c, candidates[untied])


def test_identical_variants_are_spread_across_seeds():
    # Every seed sees the same 4 identical variants (songs 10..13 share one song code 10) at
    # the top: the kept one must differ between seeds, not always be FAISS's first.
    seeds = np.arange(200)
    candidates = np.tile(np.array([10, 11, 12, 13, 20, 21]), (len(seeds), 1))
    scores = np.tile(np.array([0.9, 0.9, 0.9, 0.9, 0.5, 0.4], dtype=np.float32), (len(seeds), 1))
    song_codes = np.arange(300)
    song_codes[11:14] = 10
    kept, _, counts = filter_candidates(candidates, scores, seeds + 100, song_codes, top_n=3)
    assert (counts == 3).all()
    assert set(kept[:, 0]) == {10, 11, 12, 13}
    np.testing.assert_array_equal(kept[:, 1:], np.tile([20, 21], (len(seeds), 1)))
