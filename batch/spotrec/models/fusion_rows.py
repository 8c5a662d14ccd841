"""The blend's fusion (models/blend.fuse_index_lists) for one block of rows, sorted row by row.

Same arithmetic and tie-breaks as the whole-block version it replaced (kept as the reference in
tests/batch/models/test_fusion_rows.py), ~3x less CPU: instead of two lexsorts over every
(row, slot) of the block, each row's few hundred candidates are sorted on their own, with one
packed integer key, in arrays that stay in cache.

Within a row the fusion needs its candidates grouped by song, each group in the order
"largest contribution first, then model order, then rank" (the group's first entry is its
representative, and its contributions are summed in that order, so scores match to the bit).
A candidate's contribution is ``weight[row, model] / (k + rank)``; rows with the same model
weights order their columns the same way, so that order is sorted once per distinct weight
vector (a scalar blend has one; the hybrid's step trust two), not once per row. An empty slot
(-1) gets contribution 0, which moves it but not the order of the others; it forms the song -1
group, which is dropped.
"""

from __future__ import annotations

import numpy as np

MAX_PATTERNS = 64  # distinct weight vectors in a block before sorting each row's own order


def column_orders(contrib_per_column: np.ndarray, model_weights: np.ndarray) -> np.ndarray:
    """(rows, width) column order per row: contribution descending, then column (model order,
    then rank). ``contrib_per_column[m]`` is model m's 1 / (k + rank) per column (0 elsewhere);
    ``model_weights`` (rows, models)."""
    patterns, inverse = np.unique(model_weights, axis=0, return_inverse=True)
    if len(patterns) <= MAX_PATTERNS:
        contrib = patterns @ contrib_per_column  # exact: one non-zero term per column
        orders = np.argsort(-contrib, axis=1, kind="stable")
        return orders[inverse.ravel()]
    contrib = model_weights @ contrib_per_column
    return np.argsort(-contrib, axis=1, kind="stable")


def fuse_block(
    cand: np.ndarray,
    song: np.ndarray,
    contrib: np.ndarray,
    rank: np.ndarray,
    order: np.ndarray,
    n: int,
    top_n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Fused (indices (rows, top_n) -1 padded, scores float32 -inf padded) of one block.

    ``cand`` (rows, width) catalogue rows (-1 empty), ``song`` their dense song codes (-1 for
    empty), ``contrib`` each slot's contribution (0 for empty), ``rank`` (width,) each column's
    rank in its model's list, ``order`` column_orders' result; ``n`` the catalogue size."""
    rows, width = cand.shape
    # Per row: song, then the contribution order: one unique key, so any sort is stable enough.
    key = np.take_along_axis(song, order, axis=1) * width + np.arange(width)
    key.sort(axis=1)
    song_s = key // width  # -1 (empty slots) sorts first
    column = np.take_along_axis(order, key - song_s * width, axis=1)
    new_group = np.ones((rows, width), dtype=bool)
    new_group[:, 1:] = song_s[:, 1:] != song_s[:, :-1]
    starts = np.flatnonzero(new_group)
    keep = song_s.ravel()[starts] >= 0
    g_row = starts[keep] // width
    g_cand = np.take_along_axis(cand, column, axis=1).ravel()[starts[keep]]
    g_score = np.add.reduceat(np.take_along_axis(contrib, column, axis=1).ravel(), starts)[keep]
    g_best = np.minimum.reduceat(rank[column].ravel(), starts)[keep]
    # Each row's groups in one padded matrix: fused score desc, then best rank, then row.
    counts = np.bincount(g_row, minlength=rows)
    slot = np.arange(len(g_row)) - np.repeat(np.cumsum(counts) - counts, counts)
    groups = int(counts.max()) if len(counts) else 0
    neg_score = np.full((rows, groups), np.inf)
    tie = np.full((rows, groups), np.iinfo(np.int64).max)
    neg_score[g_row, slot] = -g_score
    tie[g_row, slot] = g_best * (n + 1) + g_cand
    ranked = np.lexsort((tie, neg_score), axis=1)[:, :top_n]
    filled = np.arange(ranked.shape[1]) < counts[:, None]
    first = (np.cumsum(counts) - counts)[:, None]
    flat = np.where(filled, first + ranked, 0)
    out_idx = np.full((rows, top_n), -1, dtype=np.int64)
    out_score = np.full((rows, top_n), -np.inf, dtype=np.float32)
    width_out = ranked.shape[1]
    out_idx[:, :width_out] = np.where(filled, g_cand[flat], -1)
    out_score[:, :width_out] = np.where(filled, g_score[flat], -np.inf)
    return out_idx, out_score
