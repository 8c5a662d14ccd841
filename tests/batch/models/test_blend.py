"""Weighted reciprocal rank fusion on hand-made lists whose fused order is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue, random_song_lists
from spotrec import schema
from spotrec.models.blend import BlendInputError, blend_neighbours
from spotrec.models.cosine import CosineModel
from spotrec.neighbours import exact_top_n, to_frame


def lists(data: dict[str, list[str]]) -> pd.DataFrame:
    """{'seed': ['n1', 'n2']} -> long-format frame, rank = position, score = 1/rank."""
    rows = [
        (seed, rank, nb, 1.0 / rank)
        for seed, nbs in data.items()
        for rank, nb in enumerate(nbs, start=1)
    ]
    frame = pd.DataFrame(rows, columns=list(schema.NEIGHBOUR_COLUMNS))
    return frame.astype({schema.NB_RANK: "int32", schema.NB_SCORE: "float32"})


SONGS = {t: t for t in "sabcdefg"}  # every track its own song unless a test says otherwise


def fused_list(frame: pd.DataFrame, seed: str = "s") -> list[str]:
    rows = frame[frame[schema.NB_TRACK_ID] == seed].sort_values(schema.NB_RANK)
    return rows[schema.NB_NEIGHBOUR_ID].tolist()


def test_agreement_beats_a_single_first_place():
    # k=1 keeps the arithmetic readable: a = 1/2 + 1/4 = .75, b = 1/3 + 1/3 = .667,
    # c = 1/4 + 1/2 = .75, d = 1/5 only in x... a and c tie at .75: the better best rank
    # (a: 1 in x; c: 1 in y) ties too, then catalogue order (a before c) decides.
    x = lists({"s": ["a", "b", "c", "d"]})
    y = lists({"s": ["c", "b", "a", "e"]})
    out = blend_neighbours({"x": x, "y": y}, SONGS, top_n=5, k=1)
    assert fused_list(out) == ["a", "c", "b", "d", "e"]
    scores = out.sort_values(schema.NB_RANK)[schema.NB_SCORE].to_numpy()
    np.testing.assert_allclose(scores, [0.75, 0.75, 2 / 3, 1 / 5, 1 / 5], rtol=1e-6)


def test_weights_tip_the_order():
    x = lists({"s": ["a", "b"]})
    y = lists({"s": ["b", "a"]})
    # weight 3 on x: a = 3/2 + 1/3 = 1.83 > b = 3/3 + 1/2 = 1.5
    assert fused_list(blend_neighbours({"x": x, "y": y}, SONGS, 2, {"x": 3.0}, k=1)) == ["a", "b"]
    assert fused_list(blend_neighbours({"x": x, "y": y}, SONGS, 2, {"y": 3.0}, k=1)) == ["b", "a"]


def test_variants_of_one_song_fuse_into_one_entry():
    songs = {**SONGS, "b": "song-b", "c": "song-b"}  # b and c are one song
    x = lists({"s": ["b", "a"]})
    y = lists({"s": ["c", "a"]})
    out = blend_neighbours({"x": x, "y": y}, songs, top_n=3, k=1)
    # song-b: 1/2 (b in x) + 1/2 (c in y) = 1.0 > a: 1/3 + 1/3; represented by one track only.
    assert fused_list(out) == ["b", "a"]


def test_short_fusion_is_filled_from_the_best_single_model():
    x = lists({"s": ["a", "b", "c", "d"]})
    y = lists({"s": ["e", "a", "f", "g"]})
    out = blend_neighbours({"x": x, "y": y}, SONGS, top_n=4, weights={"x": 2.0}, k=1, depth=1)
    # depth 1 fuses a (x) and e (y) only; x weighs most, so its ranks 2.. fill the rest.
    assert fused_list(out) == ["a", "e", "b", "c"]
    scores = out.sort_values(schema.NB_RANK)[schema.NB_SCORE].to_numpy()
    assert (np.diff(scores) <= 0).all()


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ({"x": lists({"s": ["s", "a"]})}, "seed itself or a variant"),
        ({"x": lists({"s": ["zz"]})}, "without a song_id"),
        ({"x": lists({"s": ["a"]}).drop(columns=[schema.NB_RANK])}, "lacks column"),
        ({}, "at least one model"),
    ],
)
def test_bad_input_is_a_named_error(frames, message):
    with pytest.raises(BlendInputError, match=message):
        blend_neighbours(frames, SONGS, top_n=3)


def test_unknown_weight_name_is_an_error():
    with pytest.raises(BlendInputError, match="not given to the blend"):
        blend_neighbours({"x": lists({"s": ["a"]})}, SONGS, 3, weights={"typo": 1.0})


def test_blend_of_two_cosine_variants_obeys_the_neighbours_contract():
    catalogue = planted_catalogue(variant_share=0.3, seed=5)
    tracks = catalogue.tracks
    song_ids = pd.Series(catalogue.song_ids, index=tracks[schema.TRACK_ID])
    frames = {}
    for name, model in {
        "audio": CosineModel(genre_weight=0.0),
        "genre_heavy": CosineModel(genre_weight=2.0),
    }.items():
        embeddings = model.fit(tracks).embed(tracks)
        idx, scores = exact_top_n(embeddings, catalogue.song_ids, 10, progress=False)
        frames[name] = to_frame(tracks[schema.TRACK_ID].to_numpy(), idx, scores)

    out = blend_neighbours(frames, song_ids, top_n=10)

    assert set(out[schema.NB_TRACK_ID]) == set(tracks[schema.TRACK_ID])
    assert (out.groupby(schema.NB_TRACK_ID).size() == 10).all()
    seed_song = out[schema.NB_TRACK_ID].map(song_ids)
    neighbour_song = out[schema.NB_NEIGHBOUR_ID].map(song_ids)
    assert (seed_song != neighbour_song).all()
    assert not pd.DataFrame({"s": out[schema.NB_TRACK_ID], "n": neighbour_song}).duplicated().any()
    ranks = out.groupby(schema.NB_TRACK_ID)[schema.NB_RANK].apply(list)
    assert all(r == list(range(1, 11)) for r in ranks)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_build_path_on_index_matrices_equals_the_frame_blend(seed):
    from spotrec.models.blend import fuse_index_lists
    from spotrec.neighbours import to_frame

    rng = np.random.default_rng(seed)
    n = 240
    songs = rng.integers(0, 200, n)  # ~40 songs with two or more variants
    ids = np.array([f"t{i:04d}" for i in range(n)])
    mats = {"a": random_song_lists(rng, songs, 10), "b": random_song_lists(rng, songs, 10)}
    mats["c"] = random_song_lists(rng, songs, 8)
    weights = {"a": 1.0, "b": 0.5, "c": 2.0}
    indices, scores = fuse_index_lists(mats, songs, 10, weights=weights, chunk_rows=64)
    frames = {m: to_frame(ids, x, np.zeros(x.shape, np.float32)) for m, x in mats.items()}
    expected = blend_neighbours(
        frames, pd.Series(songs.astype(str), index=ids), 10, weights=weights
    )
    got = to_frame(ids, indices, scores)
    assert (got.track_id.to_numpy() == expected.track_id.to_numpy()).all()
    assert (got.neighbour_id.to_numpy() == expected.neighbour_id.to_numpy()).all()
    np.testing.assert_allclose(got.score.to_numpy(), expected.score.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_build_path_keeps_the_frame_blends_tie_breaks_with_sparse_song_labels(seed):
    """Equal weights: equal contributions from different models tie, and the representative
    of a song is decided by model order, then rank (the packed sort keys must keep that).
    Song labels far from 0..n-1, negative too, group exactly as dense codes would."""
    from spotrec.models.blend import fuse_index_lists
    from spotrec.neighbours import to_frame

    rng = np.random.default_rng(seed)
    n = 200
    songs = rng.integers(0, 150, n) * 7919 - 500_000
    ids = np.array([f"t{i:04d}" for i in range(n)])
    mats = {m: random_song_lists(rng, songs, 12) for m in ("a", "b", "c")}
    mats["b"][::3, 8:] = -1  # short lists: empty slots inside the chunk
    indices, scores = fuse_index_lists(mats, songs, 12, chunk_rows=48)
    frames = {m: to_frame(ids, x, np.zeros(x.shape, np.float32)) for m, x in mats.items()}
    expected = blend_neighbours(frames, pd.Series(songs.astype(str), index=ids), 12)
    got = to_frame(ids, indices, scores)  # drops the -1 slots
    assert (got.track_id.to_numpy() == expected.track_id.to_numpy()).all()
    assert (got.neighbour_id.to_numpy() == expected.neighbour_id.to_numpy()).all()
    np.testing.assert_allclose(got.score.to_numpy(), expected.score.to_numpy(), rtol=1e-6)
