"""The row-by-row fusion kernel (models/fusion_rows.py) gives exactly, to the bit, what the
whole-block kernel it replaced gave (kept below as the reference): same lists, same scores,
same tie-breaks, with scalar weights, the hybrid's step weights, many distinct per-row weights,
empty slots, variants and zero weights."""

from __future__ import annotations

import numpy as np
import pytest

from factories import random_song_lists
from spotrec.models.blend import fuse_index_lists
from spotrec_serving.fusion import rrf_score


def reference_fuse(indices, song_codes, top_n, weight_rows, k=60):
    """The pre-session-5 fuse_index_lists body on one block holding every row."""
    names = list(indices)
    n = len(song_codes)
    _, songs = np.unique(song_codes, return_inverse=True)
    songs = np.append(songs.astype(np.int64), -1)
    cand = np.concatenate([indices[m] for m in names], axis=1).astype(np.int64)
    rank = np.concatenate([np.arange(1, indices[m].shape[1] + 1) for m in names])
    rank = np.broadcast_to(rank, cand.shape)
    contrib = np.concatenate(
        [
            weight_rows[m][:, None] * rrf_score(np.arange(1, indices[m].shape[1] + 1), 1.0, k)
            for m in names
        ],
        axis=1,
    )
    song = songs[cand]
    contrib = np.where(cand >= 0, contrib, 0.0)
    row_song = (np.arange(n)[:, None] * (n + 1) + (song + 1)).ravel()
    contrib_f, rank_f, cand_f = contrib.ravel(), rank.ravel(), cand.ravel()
    order = np.lexsort((-contrib_f, row_song))
    row_song_s, contrib_s, rank_s, cand_s = (
        a[order] for a in (row_song, contrib_f, rank_f, cand_f)
    )
    starts = np.flatnonzero(np.r_[True, row_song_s[1:] != row_song_s[:-1]])
    keep = row_song_s[starts] % (n + 1) > 0
    g_row = row_song_s[starts][keep] // (n + 1)
    g_cand = cand_s[starts][keep]
    g_score = np.add.reduceat(contrib_s, starts)[keep]
    g_best = np.minimum.reduceat(rank_s, starts)[keep]
    ranked = np.lexsort((g_best * (n + 1) + g_cand, -g_score, g_row))
    g_row, g_cand, g_score = g_row[ranked], g_cand[ranked], g_score[ranked]
    position = np.arange(len(g_row)) - np.searchsorted(g_row, g_row, side="left")
    take = position < top_n
    out_idx = np.full((n, top_n), -1, dtype=np.int64)
    out_score = np.full((n, top_n), -np.inf, dtype=np.float32)
    out_idx[g_row[take], position[take]] = g_cand[take]
    out_score[g_row[take], position[take]] = g_score[take]
    return out_idx, out_score


def weights_for(kind, rng, n):
    if kind == "scalar":
        return {"a": 1.0, "b": 0.25, "c": 0.5}
    if kind == "step":  # the hybrid: trust 0 or 1 per row, content a tie-breaker
        trust = (rng.random(n) < 0.6).astype(float)
        share = np.maximum((1 - trust) + 0.05 * trust, 1e-4)
        return {"a": trust, "b": 0.25 * share, "c": share}
    # continuous trust: more distinct weight vectors than MAX_PATTERNS
    trust = rng.random(n)
    trust[::7] = 0.0
    return {"a": trust, "b": 1.0 - trust + 0.01, "c": np.full(n, 0.3)}


@pytest.mark.parametrize("kind", ["scalar", "step", "continuous"])
@pytest.mark.parametrize("seed", [0, 1])
def test_row_fusion_equals_the_whole_block_reference_to_the_bit(kind, seed):
    rng = np.random.default_rng(seed)
    n = 300
    songs = rng.integers(0, 240, n) * 31 - 1000  # variants, sparse labels
    mats = {
        "a": random_song_lists(rng, songs, empty_share=0.1, width=20),
        "b": random_song_lists(rng, songs, empty_share=0.1, width=8),
    }
    mats["c"] = random_song_lists(rng, songs, empty_share=0.1, width=8)
    weights = weights_for(kind, rng, n)
    rows = {m: np.broadcast_to(np.asarray(w, dtype=float), (n,)) for m, w in weights.items()}
    expected = reference_fuse(mats, songs, 24, rows)
    got = fuse_index_lists(mats, songs, 24, weights=weights, chunk_rows=64)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert (got[0][:, 0] >= 0).all()  # every row has a fused list


def test_blocks_of_any_size_and_a_row_subset_give_the_same_lists():
    rng = np.random.default_rng(5)
    n = 200
    songs = rng.integers(0, 170, n)
    mats = {
        "a": random_song_lists(rng, songs, empty_share=0.1, width=12),
        "b": random_song_lists(rng, songs, empty_share=0.1, width=12),
    }
    weights = weights_for("step", rng, n)
    weights = {"a": weights["a"], "b": weights["c"]}
    whole = fuse_index_lists(mats, songs, 15, weights=weights, chunk_rows=n)
    for chunk in (1, 7, 64):
        blocked = fuse_index_lists(mats, songs, 15, weights=weights, chunk_rows=chunk)
        np.testing.assert_array_equal(blocked[0], whole[0])
        np.testing.assert_array_equal(blocked[1], whole[1])
    some = np.array([3, 50, 199])
    subset = fuse_index_lists(mats, songs, 15, weights=weights, rows=some)
    np.testing.assert_array_equal(subset[0][some], whole[0][some])
    assert (subset[0][np.setdiff1d(np.arange(n), some)] == -1).all()


def test_rows_with_no_candidates_stay_empty_and_others_are_unaffected():
    rng = np.random.default_rng(9)
    n = 80
    songs = rng.integers(0, 70, n)
    mats = {
        "a": random_song_lists(rng, songs, empty_share=0.1, width=10),
        "b": random_song_lists(rng, songs, empty_share=0.1, width=6),
    }
    for m in mats.values():
        m[[4, 40]] = -1  # two rows with nothing to fuse
    rows = {m: np.ones(n) for m in mats}
    got = fuse_index_lists(mats, songs, 12, chunk_rows=16)
    expected = reference_fuse(mats, songs, 12, rows)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert (got[0][[4, 40]] == -1).all() and np.isneginf(got[1][[4, 40]]).all()
    every = {m: np.full_like(x, -1) for m, x in mats.items()}  # a block with no candidate at all
    empty = fuse_index_lists(every, songs, 5, chunk_rows=16)
    assert (empty[0] == -1).all()
