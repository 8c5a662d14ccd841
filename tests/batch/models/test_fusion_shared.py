"""One reciprocal-rank fusion: the batch blend's vectorised build path gives, list by list, what
spotrec_serving.fusion.fuse_ranked_lists (the code the API merges seeds with) gives."""

from __future__ import annotations

import numpy as np
import pytest

from spotrec.models.blend import fuse_index_lists
from spotrec_serving.fusion import RRF_K, fuse_ranked_lists, rrf_score


def distinct_song_lists(rng, songs: np.ndarray, width: int) -> np.ndarray:
    """Each row: ``width`` catalogue rows of distinct songs, none of the row's own song."""
    out = np.full((len(songs), width), -1)
    for i in range(len(songs)):
        chosen, seen = [], {songs[i]}
        for j in rng.permutation(len(songs)):
            if songs[j] not in seen:
                seen.add(songs[j])
                chosen.append(j)
            if len(chosen) == width:
                break
        out[i] = chosen
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_blend_fuses_exactly_like_the_shared_implementation(seed):
    rng = np.random.default_rng(seed)
    n = 120
    songs = rng.integers(0, 90, n)  # some songs have several variants
    mats = {"a": distinct_song_lists(rng, songs, 8), "b": distinct_song_lists(rng, songs, 8)}
    mats["c"] = distinct_song_lists(rng, songs, 5)
    weights = {"a": 1.0, "b": 0.5, "c": 2.0}
    indices, scores = fuse_index_lists(mats, songs, 8, weights=weights, chunk_rows=32)
    for row in range(n):
        expected = fuse_ranked_lists(
            [(weights[m], [int(x) for x in mats[m][row] if x >= 0]) for m in mats],
            group=lambda item: int(songs[item]),
            limit=8,
            tie_break=lambda item: item,  # the blend breaks last ties by catalogue row
        )
        assert [item for _, item in expected] == [int(x) for x in indices[row] if x >= 0]
        np.testing.assert_allclose(
            [score for score, _ in expected], scores[row][: len(expected)], rtol=1e-6
        )


def test_scores_are_weight_over_k_plus_rank():
    fused = fuse_ranked_lists([(1.0, ["x", "y"]), (2.0, ["y"])], group=str, limit=5)
    assert fused == [
        (rrf_score(2) + rrf_score(1, 2.0), "y"),
        (1 / (RRF_K + 1), "x"),
    ]


def test_variants_count_as_one_song_represented_by_the_largest_contribution():
    song = {"a1": "A", "a2": "A", "b": "B"}
    fused = fuse_ranked_lists([(1.0, ["b", "a2"]), (1.0, ["a1"])], group=song.get, limit=5)
    assert [item for _, item in fused] == ["a1", "b"]  # A: 1/61 + 1/62 beats B: 1/61
    assert fused[0][0] == pytest.approx(1 / 61 + 1 / 62)
