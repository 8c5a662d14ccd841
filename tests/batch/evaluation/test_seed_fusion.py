"""The held-out evaluation's batched merge (evaluation/seed_fusion.py) returns, case by case,
exactly the API merge's list (listening.fuse_seed_lists): seeds and their variants removed,
repeated songs dropped, ranks compacted, ties broken the same way."""

from __future__ import annotations

import numpy as np
import pytest

from spotrec.evaluation.listening import K, fuse_seed_lists, neighbour_recommender
from spotrec.evaluation.seed_fusion import batch_recommender, fuse_many


def stored_lists(rng, songs, width):
    """(n, width) positions padded with n; one song per list mostly, with some repeats and
    seeds' own variants planted so that the filters have work to do."""
    n = len(songs)
    positions = np.full((n, width), n)
    for i in range(n):
        length = rng.integers(width // 2, width + 1)
        positions[i, :length] = rng.choice(n, size=length, replace=False)
    positions[::5, 3] = positions[::5, 1]  # a repeated track
    return positions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_merge_equals_the_api_merge_case_by_case(seed):
    rng = np.random.default_rng(seed)
    n, width = 400, 45
    songs = rng.integers(0, 300, n)  # variants: several rows share a song
    positions = stored_lists(rng, songs, width)
    seed_sets = [rng.choice(n, size=5, replace=False) for _ in range(120)]
    seed_sets.append(positions[7, :5].copy())  # seeds that list each other
    got = fuse_many(positions, seed_sets, songs, limit=K)
    for seeds, fused in zip(seed_sets, got, strict=True):
        lists = [row[row < n] for row in positions[seeds]]
        expected = fuse_seed_lists(seeds, lists, songs)
        np.testing.assert_array_equal(fused, expected)
    assert max(len(f) for f in got) == K  # long enough to hit the limit


def test_ties_go_to_the_earlier_seeds_list():
    # Two seeds, each list holds one other track at rank 1: equal scores and best ranks.
    n = 4
    songs = np.arange(n)
    positions = np.array([[2, n], [3, n], [n, n], [n, n]])
    assert fuse_many(positions, [np.array([0, 1])], songs, K)[0].tolist() == [2, 3]
    assert fuse_many(positions, [np.array([1, 0])], songs, K)[0].tolist() == [3, 2]


def test_the_batch_recommender_answers_other_seed_sets_through_the_api_merge():
    rng = np.random.default_rng(3)
    n = 120
    songs = rng.integers(0, 100, n)
    positions = stored_lists(rng, songs, 12)
    known = [np.array([1, 2, 3, 4, 5])]
    recommend = batch_recommender(positions, songs, known, K)
    other = np.array([9, 8, 7])  # another size and not precomputed
    slow = neighbour_recommender(positions, songs)
    np.testing.assert_array_equal(recommend(known[0]), slow(known[0]))
    np.testing.assert_array_equal(recommend(other), slow(other))
