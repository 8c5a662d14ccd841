"""The API's merge of the seeds' stored lists (listening.fuse_seed_lists), for many held-out
sessions at once in numpy: the held-out listening evaluation's hot loop.

Same result as fuse_seed_lists, session by session, to the bit (tests/batch/evaluation/
test_seed_fusion.py compares them): each seed's list loses the seeds, their variants and any
song it already listed; a kept candidate's rank is its place among the kept ones; a song's fused
score is the sum of 1 / (RRF_K + rank) over the lists holding it, added in seed order as the
API's dictionary does; order = fused score desc, then best rank, then the earlier seed's list
(the API's first-seen order of the representative); the top K. Per model on 5,000 held-out
sessions with 200-deep lists this takes about a second instead of ~20 (docs/performance.md,
Session 5).
"""

from __future__ import annotations

import numpy as np

from spotrec_serving.fusion import RRF_K, rrf_score


def fuse_many(
    positions: np.ndarray, seed_sets: list[np.ndarray], song_codes: np.ndarray, limit: int
) -> list[np.ndarray]:
    """Ranked catalogue rows per seed set (each ``limit`` long at most). ``positions``: (n,
    width) stored lists, padded with n; every seed set has the same number of seeds."""
    if not seed_sets:
        return []
    n, width = positions.shape
    seeds = np.asarray(seed_sets, dtype=np.int64)  # (cases, seeds)
    cases, per_case = seeds.shape
    songs = np.append(np.asarray(song_codes, dtype=np.int64), -1)  # [n]: padding
    rows = positions[seeds]  # (cases, seeds, width)
    song = songs[rows]
    seed_songs = songs[seeds]
    kept = (rows < n) & ~(song[..., None] == seed_songs[:, None, None, :]).any(axis=3)
    kept &= ~_repeats(song, kept)
    rank = np.cumsum(kept, axis=2)
    # Each case's kept candidates grouped by song, in seed order within a song: one packed key
    # (song, seed, slot) per slot, sorted row by row (a case's 1,000 slots stay in cache).
    slots = per_case * width
    key = (song * per_case + np.arange(per_case)[:, None]) * width + np.arange(width)
    dropped = np.iinfo(np.int64).max
    key = np.where(kept, key, dropped).reshape(cases, slots)
    key.sort(axis=1)
    valid = key != dropped
    case_k = np.broadcast_to(np.arange(cases)[:, None], key.shape)[valid]
    key = key[valid]
    slot_k, seed_k, song_k = key % width, (key // width) % per_case, key // slots
    row_k = rows[case_k, seed_k, slot_k]
    rank_k = rank[case_k, seed_k, slot_k]
    contrib_k = rrf_score(rank_k, 1.0, RRF_K)
    start = np.r_[True, (case_k[1:] != case_k[:-1]) | (song_k[1:] != song_k[:-1])]
    starts = np.flatnonzero(start)
    size = np.diff(np.r_[starts, len(song_k)])
    score = np.zeros(len(starts))
    for j in range(int(size.max()) if len(size) else 0):  # sequential adds, in seed order
        has = size > j
        score[has] = score[has] + contrib_k[starts[has] + j]
    # Representative: the best rank, then the earlier seed (the API's largest contribution):
    # the group's first entry (seed order) holding its best rank.
    group = np.repeat(np.arange(len(starts)), size)
    best_rank = np.minimum.reduceat(rank_k, starts) if len(starts) else rank_k[:0]
    at_best = np.flatnonzero(rank_k == best_rank[group])
    first = at_best[np.r_[True, group[at_best][1:] != group[at_best][:-1]]]
    g_case, g_row, g_seed = case_k[starts], row_k[first], seed_k[first]
    # Per case: fused score desc, then best rank, then the representative's seed.
    counts = np.bincount(g_case, minlength=cases)
    offsets = np.cumsum(counts) - counts
    place = np.arange(len(g_case)) - np.repeat(offsets, counts)
    groups = int(counts.max()) if cases else 0
    neg_score = np.full((cases, groups), np.inf)
    tie = np.full((cases, groups), dropped)
    neg_score[g_case, place] = -score
    tie[g_case, place] = best_rank * per_case + g_seed
    ranked = np.lexsort((tie, neg_score), axis=1)[:, :limit]
    return [g_row[offsets[c] + ranked[c, : min(counts[c], limit)]] for c in range(cases)]


def _repeats(song: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Slots whose song an earlier kept slot of the same list already holds."""
    width = song.shape[-1]
    slot = np.arange(width)
    key = np.where(kept, song, -1 - slot) * width + slot  # dropped slots never repeat
    key = np.sort(key, axis=-1)
    same = np.zeros(key.shape, dtype=bool)
    same[..., 1:] = (key[..., 1:] // width) == (key[..., :-1] // width)
    repeat = np.zeros(song.shape, dtype=bool)
    np.put_along_axis(repeat, key % width, same, axis=-1)
    return repeat & kept


def batch_recommender(positions: np.ndarray, song_codes: np.ndarray, seed_sets, limit: int):
    """A listening.Recommender over stored lists whose answers for ``seed_sets`` (the held-out
    cases' seeds) are fused all at once; any other seed set goes through fuse_seed_lists."""
    from spotrec.evaluation.listening import neighbour_recommender

    single = neighbour_recommender(positions, song_codes)
    by_size: dict[int, list[np.ndarray]] = {}
    for seeds in seed_sets:
        by_size.setdefault(len(seeds), []).append(np.asarray(seeds, dtype=np.int64))
    done: dict[bytes, np.ndarray] = {}
    for group in by_size.values():
        unique = list({seeds.tobytes(): seeds for seeds in group}.values())
        fused = fuse_many(positions, unique, song_codes, limit)
        done.update((seeds.tobytes(), f) for seeds, f in zip(unique, fused, strict=True))

    def recommend(seeds: np.ndarray) -> np.ndarray:
        found = done.get(np.asarray(seeds, dtype=np.int64).tobytes())
        return found if found is not None else single(seeds)

    return recommend
