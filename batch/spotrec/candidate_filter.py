"""The neighbours contract applied to FAISS's raw candidates: no self, no variant of the query,
one track per song, tied scores spread across seeds.

FAISS cannot filter by song, so the search over-fetches candidates per query and this module
keeps, per row, the first ``top_n`` that pass (spotrec.neighbours re-queries rows left short).
Vectorised over a whole batch of rows; at 1M tracks it costs ~20 CPU s of the search's several
hundred (docs/performance.md, "Session 4: search and store speed").
"""

from __future__ import annotations

import numpy as np

EMPTY_INDEX = -1
EMPTY_SCORE = -np.inf
# Scores closer than this are a tie (float32 GEMM rounding makes exact ties unreliable).
TIE_RESOLUTION = 2.0**-20


def break_ties(
    candidates: np.ndarray, scores: np.ndarray, queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder each row by (score bucket desc, a hash of (query, candidate)).

    Only tied scores move. Why: variants of one song often have identical features, so they tie
    for every seed; FAISS would then always return the same one and the others would never be
    recommended (about 4% of the real catalogue). The hash spreads the choice across seeds,
    deterministically and independently of batches and shards.

    FAISS returns each row sorted by descending score, so a row whose buckets strictly decrease
    is already in this order: only rows with a tie are sorted (a minority; same result).
    """
    bucket = np.floor(scores.astype(np.float64) / TIE_RESOLUTION)
    tied = np.flatnonzero((bucket[:, 1:] == bucket[:, :-1]).any(axis=1))
    if not tied.size:
        return candidates, scores
    cand, bucket = candidates[tied], bucket[tied]
    with np.errstate(over="ignore"):
        mixed = queries[tied].astype(np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
        mixed = mixed ^ (cand.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9))
        mixed ^= mixed >> np.uint64(31)
    order = np.lexsort((mixed, -bucket), axis=-1)
    candidates, scores = candidates.copy(), scores.copy()
    candidates[tied] = np.take_along_axis(cand, order, axis=1)
    scores[tied] = np.take_along_axis(scores[tied], order, axis=1)
    return candidates, scores


def filter_candidates(
    candidates: np.ndarray,
    scores: np.ndarray,
    queries: np.ndarray,
    song_codes: np.ndarray,
    top_n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep, per row, the first top_n candidates that are neither the query's song nor a song
    already kept earlier in the row. Returns (indices, scores, kept counts)."""
    candidates, scores = break_ties(candidates, scores, queries)
    query_codes = song_codes[queries]
    rows, k = candidates.shape
    valid = candidates >= 0
    codes = np.where(valid, song_codes[np.where(valid, candidates, 0)], -1)
    keep = valid & (codes != query_codes[:, None])
    # First occurrence of each (row, song): rows are in descending score order, so np.unique's
    # first index is the most similar track of that song.
    n_codes = np.int64(song_codes.max() + 2)
    row_song = np.arange(rows, dtype=np.int64)[:, None] * n_codes + (codes + 1)
    _, first = np.unique(row_song.ravel(), return_index=True)
    is_first = np.zeros(rows * k, dtype=bool)
    is_first[first] = True
    keep &= is_first.reshape(rows, k)
    # Stable sort moves kept slots to the front of each row, preserving their order.
    order = np.argsort(~keep, axis=1, kind="stable")[:, :top_n]
    kept_counts = np.minimum(keep.sum(axis=1), top_n)
    out_idx = np.take_along_axis(candidates, order, axis=1)
    out_scores = np.take_along_axis(scores, order, axis=1)
    if k < top_n:  # tiny catalogue: pad the slots FAISS could not fill
        pad = top_n - k
        out_idx = np.pad(out_idx, ((0, 0), (0, pad)), constant_values=EMPTY_INDEX)
        out_scores = np.pad(out_scores, ((0, 0), (0, pad)), constant_values=EMPTY_SCORE)
    empty = np.arange(top_n)[None, :] >= kept_counts[:, None]
    out_idx[empty] = EMPTY_INDEX
    out_scores[empty] = EMPTY_SCORE
    return out_idx.astype(np.int64), out_scores.astype(np.float32), kept_counts
