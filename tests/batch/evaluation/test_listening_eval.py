"""Held-out listening evaluation: hand-computed metrics, cases, the API's fusion, baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spotrec import schema
from spotrec.evaluation import listening as le


def events(rows: list[tuple]) -> pd.DataFrame:
    """rows of (session, track, event); position = order within the session."""
    frame = pd.DataFrame(rows, columns=[schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT])
    frame[schema.LS_TIMESTAMP] = pd.Timestamp("2024-01-01", tz="UTC")
    frame[schema.LS_POSITION] = frame.groupby(schema.LS_SESSION_ID).cumcount().astype("int32")
    return frame


def test_case_metrics_match_hand_computed_values():
    songs = np.arange(20)
    r_prec, ndcg, recall, hit = le.case_metrics(np.array([3, 7, 1, 9]), np.array([7, 9, 12]), songs)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert r_prec == pytest.approx(1 / 3)  # top 3 hold one of the 3 targets
    assert ndcg == pytest.approx(dcg / ideal) and ndcg == pytest.approx(0.49819, abs=1e-5)
    assert recall == pytest.approx(2 / 3)
    assert hit == 1.0
    assert le.case_metrics(np.array([1, 2]), np.array([5]), songs) == (0.0, 0.0, 0.0, 0.0)
    assert le.case_metrics(np.array([5, 1]), np.array([5]), songs) == (1.0, 1.0, 1.0, 1.0)


def test_relevance_is_by_song_so_a_targets_variant_counts():
    songs = np.array([0, 1, 2, 2])  # rows 2 and 3 are one song
    assert le.case_metrics(np.array([3]), np.array([2]), songs)[1] == 1.0


def test_cases_take_five_seeds_and_leave_out_skips_and_seed_variants():
    ids = [f"t{i}" for i in range(12)]
    songs = np.arange(12)
    songs[5] = songs[1]  # t5 is a variant of seed t1
    rows = [("a", t, "play") for t in ("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8")]
    rows += [("a", "t2", "skip"), ("a", "t2", "skip")]  # t2: play + 2 skips < 0: not a target
    rows += [("b", t, "add") for t in ("t0", "t1", "t2", "t3", "t4", "t9")]
    rows += [("c", t, "add") for t in ("t0", "t1", "t2", "t3", "t4")]  # 5 tracks: no case
    cases = le.heldout_cases(events(rows), ids, songs)
    assert cases.session_ids.tolist() == ["a", "b"]
    assert cases.seeds[0].tolist() == [0, 1, 3, 4, 6]
    assert cases.targets[0].tolist() == [7, 8]
    assert cases.seeds[1].tolist() == [0, 1, 2, 3, 4] and cases.targets[1].tolist() == [9]
    assert len(le.heldout_cases(events(rows), ids, songs, max_cases=1)) == 1


def test_fusion_is_the_apis_reciprocal_rank_fusion():
    songs = np.arange(8)
    songs[5] = songs[0]  # row 5 is a variant of seed 0
    n = 8
    positions = np.full((n, 4), n)
    positions[0] = [2, 3, 1, 4]  # seed 1 is dropped: 2, 3, 4 at ranks 1, 2, 3
    positions[1] = [3, 5, 6, n]  # the seed's variant 5 is dropped: 3, 6 at ranks 1, 2
    recommend = le.neighbour_recommender(positions, songs)
    # 3: 1/62 + 1/61; 2: 1/61; 6: 1/62; 4: 1/63
    assert recommend(np.array([0, 1])).tolist() == [3, 2, 6, 4]


def test_evaluate_scores_an_oracle_perfectly_and_the_cold_slice_keeps_unheard_targets():
    songs = np.arange(10)
    cases = le.HeldoutCases(
        np.array(["a", "b"], dtype=object),
        [np.arange(5), np.arange(5)],
        [np.array([5, 6]), np.array([7])],
    )
    oracle = {0: np.array([5, 6]), 1: np.array([7])}
    calls = iter(range(2))
    result = le.evaluate_recommender(cases, lambda seeds: oracle[next(calls)], songs)
    assert result == {"r_precision": 1.0, "ndcg": 1.0, "recall": 1.0, "hit": 1.0, "cases": 2}
    cold = le.cold_slice(cases, songs, warm_songs=np.array([5, 7]))
    assert cold.session_ids.tolist() == ["a"] and cold.targets[0].tolist() == [6]
    empty = le.evaluate_recommender(le.cold_slice(cases, songs, np.arange(10)), None, songs)
    assert empty["cases"] == 0 and math.isnan(empty["ndcg"])


def test_baselines_rank_by_training_listening_and_by_seed_artists():
    tracks = pd.DataFrame(
        {
            schema.TRACK_ID: [f"t{i}" for i in range(6)],
            schema.ARTISTS: [["A"], ["A"], ["B"], ["A", "B"], ["C"], ["A"]],
            schema.POPULARITY: [10, 90, 50, 20, 99, 80],
        }
    )
    songs = np.array([0, 1, 2, 3, 4, 1])  # t5 is a variant of t1
    train = events([("x", "t3", "play"), ("y", "t3", "play"), ("y", "t2", "like")])
    order = le.popularity_order(train, tracks)
    assert order.tolist() == [2, 3, 4, 1, 5, 0]  # t2 (2.0), t3 (2.0, less popular)... then pop
    assert le.most_popular_recommender(order, songs)(np.array([2])).tolist() == [3, 4, 1, 0]
    by_artist = le.seed_artist_recommender(tracks, order, songs)
    # seed t0 (artist A): A's tracks t3, t1 (t5 is t1's variant: one per song) by popularity
    assert by_artist(np.array([0])).tolist() == [3, 1]


def _two_taste_build():
    """12 tracks in two planted tastes (rows 0-5, 6-11) that share no genre or artist pattern;
    model "good" lists a track's taste-mates, "bad" the other taste."""
    from eval_tables import make_tracks

    rows = [
        {"id": f"T{i:02d}", "genres": [f"g{i % 3}"], "artists": [f"a{i}"], "song": f"s{i}"}
        for i in range(12)
    ]
    tracks = make_tracks(rows)
    taste = np.arange(12) // 6
    good = np.array([[j for j in range(12) if taste[j] == taste[i] and j != i] for i in range(12)])
    bad = np.array([[j for j in range(12) if taste[j] != taste[i]][:5] for i in range(12)])
    ids = tracks[schema.TRACK_ID].tolist()
    heldout = events(
        [(f"h{s}", ids[(s + j) % 6 + 6 * (s % 2)], "play") for s in range(8) for j in range(6)]
    )
    train = events([("t0", ids[0], "play"), ("t0", ids[1], "play")])
    return tracks, {"good": good, "bad": bad}, train, heldout


def test_heldout_listening_scores_models_and_baselines_and_drives_the_default():
    from spotrec.evaluation.heldout_listening import evaluate_heldout_listening
    from spotrec.selection import evaluate_models

    tracks, lists, train, heldout = _two_taste_build()
    result = evaluate_heldout_listening(tracks, lists, train, heldout)
    assert result["cases"] == 8
    assert result["models"]["good"]["all"]["ndcg"] == 1.0  # the one target is ranked first
    assert result["models"]["bad"]["all"]["ndcg"] == 0.0
    assert set(result["baselines"]) == {
        "most popular (baseline)",
        "seed artists' most popular (baseline)",
    }
    # cold slice: targets never heard in training; session h2's target is T01, heard in t0
    assert result["cold_cases"] == 7
    evaluations, default = evaluate_models(tracks, lists, listening=(train, heldout))
    assert default == "good"
    assert evaluations["good"]["listening"]["ndcg"] == 1.0
    assert evaluations["bad"]["listening"]["cold"]["cases"] == 7


def test_audio_only_genre_precision_on_planted_features():
    from eval_tables import make_tracks

    from spotrec.evaluation.heldout_listening import audio_only_genre_precision

    # genre g0 sounds one way, g1 the other: audio alone finds the genre
    rows = [
        {
            "id": f"T{i:02d}",
            "genres": [f"g{i % 2}"],
            "artists": [f"a{i}"],
            "song": f"s{i}",
            "features": {"energy": 0.9 if i % 2 else 0.1},
        }
        for i in range(30)
    ]
    result = audio_only_genre_precision(make_tracks(rows), k=10)
    assert result["genre_precision"] == 1.0 and result["seeds"] == 30


def test_the_cold_slice_reuses_each_sessions_fused_list_and_scores_the_same():
    from spotrec.evaluation.heldout_listening import evaluate_heldout_listening, remembered

    calls = []

    def recommend(seeds):
        calls.append(tuple(seeds))
        return np.array([int(seeds.sum()) % 7, 9])

    once = remembered(recommend)
    first = once(np.array([1, 2]))
    assert once(np.array([1, 2])) is first and once(np.array([2, 1])).tolist() == [3, 9]
    assert calls == [(1, 2), (2, 1)]  # one call per distinct seed list (order matters)

    tracks, lists, train, heldout = _two_taste_build()
    result = evaluate_heldout_listening(tracks, lists, train, heldout)
    songs = pd.factorize(tracks[schema.SONG_ID])[0]
    cases = le.heldout_cases(heldout, tracks[schema.TRACK_ID], songs, max_cases=None)
    cold = le.cold_slice(cases, songs, warm_songs=songs[:2])  # t0 played T00, T01
    for name in ("good", "bad"):  # sessions alternate tastes: a wrong reuse would show
        plain = le.neighbour_recommender(np.asarray(lists[name]), songs)  # not remembered
        assert result["models"][name]["cold"] == le.evaluate_recommender(cold, plain, songs)
        assert result["models"][name]["all"] == le.evaluate_recommender(cases, plain, songs)


def test_the_builds_reduced_listening_read_scores_the_same_as_the_full_frames(tmp_path):
    """read_evaluation_listening keeps three training columns as categoricals: the warm
    tracks, hence the cold slice and every figure, must not change."""
    from spotrec.evaluation.heldout_listening import (
        evaluate_heldout_listening,
        read_evaluation_listening,
    )

    tracks, lists, train, heldout = _two_taste_build()
    (tmp_path / schema.LISTENING_DIR).mkdir()
    train.to_parquet(tmp_path / schema.LISTENING_TRAIN_FILE, index=False)
    heldout.to_parquet(tmp_path / schema.LISTENING_HELDOUT_FILE, index=False)
    read_train, read_heldout = read_evaluation_listening(tmp_path)
    assert isinstance(read_train[schema.LS_TRACK_ID].dtype, pd.CategoricalDtype)
    expected = evaluate_heldout_listening(tracks, lists, train, heldout)
    got = evaluate_heldout_listening(tracks, lists, read_train, read_heldout)
    assert got == expected and got["cold_cases"] == 7
