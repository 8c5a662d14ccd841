"""The co-listening model and the hybrid on synthetic listening with planted tastes that cut
across the planted genre/audio clusters (tests/listening_factories.py): answers known by
construction."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue
from listening_factories import as_weights, assign_tastes, planted_sessions
from neighbour_contract import assert_neighbour_contract
from spotrec import schema
from spotrec.models.base import ListeningModel, fit_model
from spotrec.models.blend import fuse_index_lists
from spotrec.models.colistening import CoListeningModel, complete_lists, session_matrix
from spotrec.models.cosine import CosineModel
from spotrec.models.hybrid import evidence_weights
from spotrec.neighbours import exact_top_n, to_frame

N_TASTES = 4
TOP_N = 10


@pytest.fixture(scope="module")
def world():
    catalogue = planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=3)
    tracks = catalogue.tracks
    tastes = assign_tastes(catalogue.clusters, N_TASTES, seed=1)
    events = planted_sessions(tracks[schema.TRACK_ID], tastes, n_sessions=400, seed=2)
    # Held-out sessions by a hash of the session id, as split_sessions does: never seen.
    held = events["session_id"].map(lambda s: zlib.crc32(s.encode()) % 10 == 0)
    songs = catalogue.song_ids
    song_codes = np.unique(songs, return_inverse=True)[1]
    return catalogue, tastes, events[~held], events[held], song_codes


@pytest.fixture(scope="module")
def fitted(world):
    catalogue, _, train, _, _ = world
    return CoListeningModel.for_tests().fit(catalogue.tracks, seed=0, listening=as_weights(train))


@pytest.fixture(scope="module")
def cosine_lists(world):
    catalogue, *_, song_codes = world
    embeddings = CosineModel().fit(catalogue.tracks, seed=0).embed(catalogue.tracks)
    return exact_top_n(embeddings, song_codes, TOP_N, progress=False)[0]


def taste_precision(indices: np.ndarray, tastes: np.ndarray, rows: np.ndarray) -> float:
    lists = indices[rows]
    valid = lists >= 0
    same = (tastes[np.where(valid, lists, 0)] == tastes[rows][:, None]) & valid
    return float(same.sum() / valid.sum())


def heldout_recall(indices: np.ndarray, heldout, track_ids, k: int = 20) -> float:
    """Sessions of the held-out split: first 5 tracks are seeds, the rest targets; the seeds'
    lists are fused by reciprocal rank (as the API merges them); recall of targets in top k."""
    row_of = {t: i for i, t in enumerate(track_ids)}
    recalls = []
    for _, session in heldout.sort_values("position").groupby("session_id"):
        rows = [row_of[t] for t in session["track_id"]]
        seeds, targets = rows[:5], set(rows[5:])
        if not targets:
            continue
        fused: dict[int, float] = {}
        for seed in seeds:
            for rank, cand in enumerate(indices[seed], start=1):
                if cand >= 0 and cand not in seeds:
                    fused[cand] = fused.get(cand, 0.0) + 1.0 / (60 + rank)
        top = sorted(fused, key=lambda c: -fused[c])[:k]
        recalls.append(len(targets & set(top)) / len(targets))
    return float(np.mean(recalls))


def test_model_follows_the_listening_protocol(fitted, world):
    catalogue, *_ = world
    assert isinstance(fitted, ListeningModel)
    assert fitted.name == "colistening"
    summary = json.loads(json.dumps(fitted.summary()))
    assert summary["tracks_with_evidence"] + summary["tracks_without_evidence"] == len(
        catalogue.tracks
    )


def test_colistening_recovers_planted_tastes_that_content_cannot(fitted, world, cosine_lists):
    catalogue, tastes, _, heldout, song_codes = world
    evidence, _ = fitted.evidence_lists(song_codes, TOP_N)
    rows = np.flatnonzero(fitted.has_evidence)
    assert len(rows) > 0.8 * len(catalogue.tracks)
    colistening = taste_precision(evidence, tastes, rows)
    content = taste_precision(cosine_lists, tastes, rows)
    # Content sees genre + audio, which are independent of taste: chance is 1 / N_TASTES.
    assert content < 0.45
    assert colistening > 0.9
    track_ids = catalogue.tracks[schema.TRACK_ID].to_numpy()
    complete, _ = complete_lists(evidence, cosine_lists, song_codes, TOP_N)
    assert heldout_recall(complete, heldout, track_ids) > 2 * heldout_recall(
        cosine_lists, heldout, track_ids
    )


def test_lists_are_complete_evidence_first_then_content(fitted, world, cosine_lists):
    catalogue, *_, song_codes = world
    evidence, _ = fitted.evidence_lists(song_codes, TOP_N)
    indices, scores = complete_lists(evidence, cosine_lists, song_codes, TOP_N)
    track_ids = catalogue.tracks[schema.TRACK_ID].to_numpy()
    assert_neighbour_contract(catalogue.tracks, to_frame(track_ids, indices, scores), TOP_N)
    for row in range(len(track_ids)):
        own = evidence[row][evidence[row] >= 0]
        np.testing.assert_array_equal(indices[row][: len(own)], own)  # evidence kept in order
    silent = np.flatnonzero(~fitted.has_evidence)
    np.testing.assert_array_equal(indices[silent], cosine_lists[silent])


def test_a_track_nobody_played_gets_its_content_list(world, cosine_lists):
    catalogue, _, train, _, song_codes = world
    unplayed = catalogue.tracks[schema.TRACK_ID].iloc[0]
    model = CoListeningModel.for_tests().fit(
        catalogue.tracks, listening=as_weights(train[train["track_id"] != unplayed])
    )
    assert not model.has_evidence[0]
    evidence, _ = model.evidence_lists(song_codes, TOP_N)
    assert (evidence[0] == -1).all()
    indices, _ = complete_lists(evidence, cosine_lists, song_codes, TOP_N)
    np.testing.assert_array_equal(indices[0], cosine_lists[0])
    assert not (evidence == 0).any(), "an unplayed track is nobody's co-listening neighbour"


def test_a_hub_in_every_session_does_not_fill_every_list(world):
    catalogue, _, train, _, song_codes = world
    hub = 5
    hub_id = catalogue.tracks[schema.TRACK_ID].iloc[hub]
    hub_rows = train.drop_duplicates("session_id").assign(track_id=hub_id, position=99)
    with_hub = as_weights(pd.concat([train[train["track_id"] != hub_id], hub_rows]))
    # Raw co-occurrence counts (no weighting, no discount): the hub tops nearly every list.
    matrix, _ = session_matrix(catalogue.tracks, with_hub)
    counts = (matrix.T @ matrix).toarray()
    np.fill_diagonal(counts, 0)
    raw_top = np.argsort(-counts, axis=1, kind="stable")[:, :TOP_N]
    played = np.flatnonzero(counts.sum(axis=1) > 0)
    assert (raw_top[played] == hub).any(axis=1).mean() > 0.9
    model = CoListeningModel.for_tests().fit(catalogue.tracks, listening=with_hub)
    evidence, _ = model.evidence_lists(song_codes, TOP_N)
    assert (evidence[played] == hub).any(axis=1).mean() < 0.1


def test_recency_half_life_follows_a_planted_shift(world):
    catalogue, *_, song_codes = world
    ids = catalogue.tracks[schema.TRACK_ID].to_numpy()
    a, old_friend, new_friend = 0, 1, 2
    # Many old sessions pair track a with old_friend, fewer recent ones with new_friend.
    old = [(f"old{i}", t, 1.0) for i in range(30) for t in (ids[a], ids[old_friend])]
    new = [(f"new{i}", t, 1.0) for i in range(10) for t in (ids[a], ids[new_friend])]
    weights = pd.DataFrame(old + new, columns=["session_id", "track_id", "weight"])
    model = CoListeningModel(weighting="cosine", popularity_discount=0.0, num_threads=1)
    plain = model.fit(catalogue.tracks, listening=weights).evidence_lists(song_codes, 1)[0]
    assert plain[a, 0] == old_friend
    # A half-life of one "age unit" decays the old sessions to 1/8 (three half-lives).
    decayed = weights.assign(
        weight=np.where(weights["session_id"].str.startswith("old"), 0.125, 1.0)
    )
    recent = model.fit(catalogue.tracks, listening=decayed).evidence_lists(song_codes, 1)[0]
    assert recent[a, 0] == new_friend


def test_save_load_round_trip_without_pickle(fitted, world, tmp_path):
    *_, song_codes = world
    fitted.save(tmp_path)
    assert {p.suffix for p in tmp_path.iterdir()} <= {".json", ".npy", ".parquet"}
    loaded = CoListeningModel.load(tmp_path)
    np.testing.assert_array_equal(
        loaded.evidence_lists(song_codes, TOP_N)[0], fitted.evidence_lists(song_codes, TOP_N)[0]
    )
    assert loaded.summary() == fitted.summary()


def test_models_without_a_listening_parameter_never_see_it(world):
    catalogue, _, train, *_ = world
    seen = {}

    class Spy:
        def fit(self, tracks, *, seed=0):
            seen["args"] = seed
            return self

    fit_model(Spy(), catalogue.tracks, 3, as_weights(train))
    assert seen == {"args": 3}
    model = fit_model(CoListeningModel.for_tests(), catalogue.tracks, 0, as_weights(train))
    assert model.has_evidence.any()


def test_hybrid_leans_on_colistening_where_there_is_evidence(fitted, world, cosine_lists):
    catalogue, tastes, _, heldout, song_codes = world
    evidence, _ = fitted.evidence_lists(song_codes, TOP_N)
    sessions = np.where(fitted.has_evidence, fitted.sessions_per_track, 0)
    sessions[:20] = 0  # plant tracks without listening: they must get the content list
    evidence[:20] = -1
    weights = evidence_weights(sessions, ["cosine"])
    lists = {"colistening": evidence, "cosine": cosine_lists}
    hybrid, _ = fuse_index_lists(lists, song_codes, TOP_N, weights=weights)
    np.testing.assert_array_equal(hybrid[:20], cosine_lists[:20])
    played = np.flatnonzero(sessions >= 5)
    assert taste_precision(hybrid, tastes, played) > 0.9
    track_ids = catalogue.tracks[schema.TRACK_ID].to_numpy()
    assert heldout_recall(hybrid, heldout, track_ids) > 2 * heldout_recall(
        cosine_lists, heldout, track_ids
    )


def test_fusing_only_some_rows_gives_those_rows_the_full_result(fitted, world, cosine_lists):
    *_, song_codes = world
    evidence, _ = fitted.evidence_lists(song_codes, TOP_N)
    every, _ = complete_lists(evidence, cosine_lists, song_codes, TOP_N)
    rows = np.array([3, 17, 42, 42, 100])
    some, _ = complete_lists(evidence, cosine_lists, song_codes, TOP_N, rows=rows)
    np.testing.assert_array_equal(some[rows], every[rows])
    others = np.setdiff1d(np.arange(len(some)), rows)
    assert (some[others] == -1).all()


def _reference_evidence_lists(similarity, songs, top_n):
    """Row by row in plain Python: positive scores, not the row's own song, score desc then
    lowest catalogue row, the first variant of each song only."""
    n = similarity.shape[0]
    indices = np.full((n, top_n), -1, dtype=np.int64)
    scores = np.full((n, top_n), -np.inf, dtype=np.float32)
    for r in range(n):
        lo, hi = similarity.indptr[r], similarity.indptr[r + 1]
        entries = sorted(
            (-float(s), int(c))
            for c, s in zip(similarity.indices[lo:hi], similarity.data[lo:hi], strict=True)
            if s > 0 and songs[c] != songs[r]
        )
        seen, position = set(), 0
        for negative, c in entries:
            if songs[c] in seen or position == top_n:
                continue
            seen.add(songs[c])
            indices[r, position], scores[r, position] = c, -negative
            position += 1
    return indices, scores


@pytest.mark.parametrize("seed", [0, 1])
def test_evidence_lists_equal_a_row_by_row_reference_with_ties_and_variants(seed):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n = 300
    songs = rng.integers(0, 220, n)  # many songs with several variants
    dense = rng.choice([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 3.5], size=(n, n)).astype(np.float32)
    dense[rng.random((n, n)) < 0.02] = -0.5  # non-positive scores never count
    model = CoListeningModel()
    model.similarity = sp.csr_matrix(dense)
    expected_indices, expected_scores = _reference_evidence_lists(model.similarity, songs, 25)
    for block_rows in (n, 7, 64):  # one block, and blocks that split the rows unevenly
        indices, scores = model.evidence_lists(songs, top_n=25, block_rows=block_rows)
        assert np.array_equal(indices, expected_indices)
        assert np.array_equal(scores, expected_scores)
