"""neighbours.exact_top_n against a brute-force numpy search, on data whose answer is known."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue
from spotrec import schema
from spotrec.candidate_filter import EMPTY_INDEX
from spotrec.neighbours import exact_top_n, to_frame


def brute_force(embeddings: np.ndarray, song_ids: np.ndarray, top_n: int):
    """Reference: full similarity matrix (fine at test sizes), walk each row in score order."""
    x = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sims = x @ x.T
    indices = np.full((len(x), top_n), EMPTY_INDEX)
    for q in range(len(x)):
        seen = {song_ids[q]}
        filled = 0
        for j in np.argsort(-sims[q], kind="stable"):
            if filled == top_n:
                break
            if song_ids[j] not in seen:
                seen.add(song_ids[j])
                indices[q, filled] = j
                filled += 1
    return indices, sims


def recall(found: np.ndarray, expected: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Share of the expected neighbours found. With ``labels`` (song ids), a hit is the right
    song: which of two equally near variants is kept is a tie, not an error."""
    labels = np.arange(int(max(found.max(), expected.max())) + 1) if labels is None else labels
    hits = sum(
        len(set(labels[f[f >= 0]]) & set(labels[e[e >= 0]]))
        for f, e in zip(found, expected, strict=True)
    )
    return hits / max(1, int((expected >= 0).sum()))


@pytest.mark.parametrize(("n", "dim", "top_n"), [(50, 8, 1), (300, 16, 10), (2000, 32, 50)])
def test_matches_brute_force_on_random_vectors(n, dim, top_n):
    rng = np.random.default_rng(n)
    embeddings = rng.normal(size=(n, dim)).astype(np.float32)
    song_ids = np.array([f"s{i}" for i in range(n)])
    indices, scores = exact_top_n(embeddings, song_ids, top_n, batch_size=128, progress=False)
    expected, sims = brute_force(embeddings, song_ids, top_n)
    assert indices.shape == scores.shape == (n, top_n)
    assert recall(indices, expected) == 1.0
    np.testing.assert_allclose(scores, np.take_along_axis(sims, indices, axis=1), atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "each list is sorted by descending score"


def test_excludes_self_variants_and_duplicate_songs_on_planted_variants():
    catalogue = planted_catalogue(variant_share=0.5, seed=3)
    tracks = catalogue.tracks
    song_ids = catalogue.song_ids
    assert tracks[schema.SONG_ID].duplicated().sum() > 20, "the catalogue plants variants"
    embeddings = np.random.default_rng(0).normal(size=(len(tracks), 12)).astype(np.float32)
    # Variants get the same vector: the strongest possible pull toward each other.
    first_of_song = tracks.groupby(schema.SONG_ID).cumcount() == 0
    row_of_song = pd.Series(np.flatnonzero(first_of_song), index=song_ids[first_of_song])
    embeddings = embeddings[row_of_song[song_ids].to_numpy()]

    indices, _ = exact_top_n(embeddings, song_ids, 20, progress=False)

    neighbour_songs = song_ids[indices]
    assert (indices != np.arange(len(tracks))[:, None]).all()
    assert (neighbour_songs != song_ids[:, None]).all()
    assert all(len(set(row)) == len(row) for row in neighbour_songs)
    expected, _ = brute_force(embeddings, song_ids, 20)
    assert recall(indices, expected, labels=song_ids) == 1.0


def test_rows_crowded_by_variants_are_requeried_until_full():
    # One query surrounded by 30 copies of one song: with no over-fetch margin the first
    # search returns almost only that song, so the row must be re-queried with a larger k.
    rng = np.random.default_rng(1)
    crowd = np.ones((30, 4)) + rng.normal(scale=1e-3, size=(30, 4))
    others = rng.normal(size=(40, 4))
    embeddings = np.vstack([[1.0, 1.0, 1.0, 1.0], crowd, others]).astype(np.float32)
    song_ids = np.array(["query"] + ["crowd"] * 30 + [f"o{i}" for i in range(40)])
    indices, scores = exact_top_n(embeddings, song_ids, 5, margin=0, progress=False)
    expected, _ = brute_force(embeddings, song_ids, 5)
    assert (indices >= 0).all() and np.isfinite(scores).all()
    assert recall(indices, expected, labels=song_ids) == 1.0
    assert (song_ids[indices[0]] == "crowd").sum() == 1


def test_union_of_shards_equals_unsharded_result():
    rng = np.random.default_rng(7)
    embeddings = rng.normal(size=(500, 10)).astype(np.float32)
    song_ids = np.array([f"s{i // 2}" for i in range(500)])  # pairs of variants
    full_idx, full_scores = exact_top_n(embeddings, song_ids, 15, batch_size=64, progress=False)
    bounds = [0, 167, 334, 500]  # 3 shards, as an AWS Batch array job would split them
    parts = [
        exact_top_n(embeddings, song_ids, 15, query_range=(lo, hi), progress=False)
        for lo, hi in itertools.pairwise(bounds)
    ]
    np.testing.assert_array_equal(np.vstack([p[0] for p in parts]), full_idx)
    np.testing.assert_allclose(np.vstack([p[1] for p in parts]), full_scores, atol=1e-6)
    frames = [
        to_frame(np.array([f"t{i}" for i in range(500)]), idx, sc, query_offset=lo)
        for (idx, sc), lo in zip(parts, bounds, strict=False)
    ]
    unsharded = to_frame(np.array([f"t{i}" for i in range(500)]), full_idx, full_scores)
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), unsharded)


@pytest.mark.parametrize(("n_songs", "top_n"), [(1, 3), (3, 5), (4, 3)])
def test_tiny_catalogue_leaves_unfillable_slots_empty(n_songs, top_n):
    embeddings = np.eye(4, dtype=np.float32)[:n_songs] + 0.1
    song_ids = np.array([f"s{i}" for i in range(n_songs)])
    indices, scores = exact_top_n(embeddings, song_ids, top_n, progress=False)
    filled = min(top_n, n_songs - 1)
    assert (indices[:, :filled] >= 0).all()
    assert (indices[:, filled:] == EMPTY_INDEX).all()
    assert np.isneginf(scores[:, filled:]).all()
    frame = to_frame(song_ids, indices, scores)
    assert len(frame) == n_songs * filled
    assert (frame.groupby(schema.NB_TRACK_ID)[schema.NB_RANK].max() == filled).all()


def test_to_frame_has_the_contract_columns_and_types():
    indices = np.array([[1, 2], [0, EMPTY_INDEX]])
    scores = np.array([[0.9, 0.5], [0.9, -np.inf]], dtype=np.float32)
    frame = to_frame(np.array(["a", "b", "c"]), indices, scores)
    assert list(frame.columns) == list(schema.NEIGHBOUR_COLUMNS)
    assert frame[schema.NB_RANK].dtype == np.int32
    assert frame[schema.NB_SCORE].dtype == np.float32
    assert frame.to_dict("list") == {
        "track_id": ["a", "a", "b"],
        "rank": [1, 2, 1],
        "neighbour_id": ["b", "c", "a"],
        "score": pytest.approx([0.9, 0.5, 0.9]),
    }


@pytest.mark.parametrize(
    ("embeddings", "song_ids", "top_n", "query_range", "message"),
    [
        (np.ones((3, 2)), ["a", "b"], 2, None, "song_ids has 2 entries"),
        (np.ones(3), ["a", "b", "c"], 2, None, "must be 2-D"),
        (np.array([[1.0, np.nan], [1.0, 0.0]]), ["a", "b"], 1, None, "NaN"),
        (np.ones((3, 2)), ["a", "b", "c"], 0, None, "top_n must be >= 1"),
        (np.ones((3, 2)), ["a", "b", "c"], 1, (2, 5), "outside"),
    ],
)
def test_bad_input_is_a_named_error(embeddings, song_ids, top_n, query_range, message):
    with pytest.raises(ValueError, match=message):
        exact_top_n(embeddings, np.array(song_ids), top_n, query_range=query_range, progress=False)
