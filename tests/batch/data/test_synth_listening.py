"""Synthetic listening: planted tastes cut across genres and artists; both formats read back."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from spotrec import schema
from spotrec.data import synth, synth_listening
from spotrec.data.ingest import load_catalogue
from spotrec.data.listening import load_listening
from spotrec.data.listening.planted import GENRES_PER_TASTE

N_TRACKS, N_SESSIONS = 3000, 1200


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_listening")
    csv = synth.write_synthetic_csv(root / "catalogue.csv", N_TRACKS, seed=3)
    tracks = load_catalogue(csv).tracks
    truth = synth_listening.write_synthetic_listening(
        tracks, root / "listening", n_sessions=N_SESSIONS, seed=5
    )
    return tracks, root / "listening", truth


def test_both_formats_read_back_with_zero_rejects_and_the_same_sessions(written):
    tracks, out, truth = written
    log = load_listening(out / "events.csv", tracks, max_reject_share=0.0)
    mpd = load_listening(out / "mpd", tracks, max_reject_share=0.0)
    assert log.stats["sessions"] == mpd.stats["sessions"] == N_SESSIONS == truth["sessions"]
    assert len(list((out / "mpd").glob("mpd.slice.*.json"))) == 2  # 1,000 playlists a slice
    assert log.stats["out_of_catalogue"] == mpd.stats["out_of_catalogue"] == 0
    kinds = log.stats["events_by_type"]
    assert {"play", "like", "save", "skip"} <= set(kinds) and kinds["play"] > kinds["skip"]
    assert set(mpd.stats["events_by_type"]) == {"add"}
    # an MPD playlist is its log session minus the skipped-only tracks
    weights = log.events.assign(w=log.events[schema.LS_EVENT].ne("skip"))
    kept = weights[weights["w"]].groupby(schema.LS_SESSION_ID)[schema.LS_TRACK_ID].nunique()
    lengths = mpd.events.groupby(schema.LS_SESSION_ID).size()
    assert sorted(kept.to_numpy()) == sorted(lengths.to_numpy())
    assert 40 <= lengths.median() <= 60  # MPD-like
    assert lengths.max() <= 250


def test_only_part_of_the_catalogue_is_ever_played_with_skewed_popularity(written):
    tracks, out, truth = written
    events = load_listening(out / "mpd", tracks).events
    counts = events[schema.LS_TRACK_ID].value_counts()
    assert 0.2 < len(counts) / len(tracks) < 0.8
    assert len(counts) <= truth["played_tracks"]
    top = counts.iloc[: max(1, len(counts) // 10)].sum() / counts.sum()
    assert top > 0.3  # the top 10% of played tracks take far more than 10% of plays


def test_planted_tastes_cut_across_genres_and_artists(written):
    tracks, _, truth = written
    genres = dict(zip(tracks[schema.TRACK_ID], tracks[schema.GENRES], strict=True))
    artists = dict(zip(tracks[schema.TRACK_ID], tracks[schema.ARTISTS], strict=True))
    taste_of_artist: dict[str, set[int]] = {}
    for taste in truth["tastes"]:
        primary = {genres[t][0] for t in taste["tracks"]}
        assert len(primary) >= GENRES_PER_TASTE  # a taste mixes several genres
        assert len(taste["artists"]) >= 2 * GENRES_PER_TASTE
        for track in taste["tracks"]:
            taste_of_artist.setdefault(artists[track][0], set()).add(taste["taste"])
    split = sum(len(t) > 1 for t in taste_of_artist.values()) / len(taste_of_artist)
    assert split > 0.1  # some artists' songs sit in two tastes
    # genre does not explain a taste: most same-taste pairs share no genre
    rng = np.random.default_rng(0)
    shared = []
    for taste in truth["tastes"]:
        members = np.asarray(taste["tracks"])
        for a, b in rng.choice(members, size=(200, 2)):
            shared.append(bool(set(genres[a]) & set(genres[b])))
    assert np.mean(shared) < 0.5


def test_sessions_follow_their_planted_taste(written):
    tracks, out, truth = written
    events = load_listening(out / "mpd", tracks).events
    taste_of = {t: taste["taste"] for taste in truth["tastes"] for t in taste["tracks"]}
    pid = events[schema.LS_SESSION_ID].str.removeprefix("mpd:").astype(int)
    planted = np.asarray(truth["session_tastes"])[pid.to_numpy()]
    observed = events[schema.LS_TRACK_ID].map(taste_of).to_numpy()
    assert (observed == planted).mean() > 0.8  # the rest is popular noise from anywhere


def test_same_seed_same_bytes_and_the_cli_runs(written, tmp_path):
    tracks, out, _ = written
    again = tmp_path / "again"
    synth_listening.write_synthetic_listening(
        tracks, again, n_sessions=N_SESSIONS, seed=5, formats=("events",)
    )
    assert (again / "events.csv").read_bytes() == (out / "events.csv").read_bytes()
    assert not (again / "mpd").exists()
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    csv = tmp_path / "small.csv"
    args = parser.parse_args(["--out", str(csv), "--tracks", "300", "--sessions", "50"])
    assert synth.run(args) == 0
    truth = json.loads((tmp_path / "small-listening" / "tastes.json").read_text())
    assert truth["sessions"] == 50 and len(truth["session_tastes"]) == 50
    assert len(pd.read_csv(tmp_path / "small-listening" / "events.csv")) > 50 * 4


def test_rare_tracks_are_heard_in_exactly_one_session(written):
    tracks, out, truth = written
    events = load_listening(out / "mpd", tracks).events
    sessions_per_track = events.groupby(schema.LS_TRACK_ID)[schema.LS_SESSION_ID].nunique()
    heard_rare = sessions_per_track.reindex(truth["rare_tracks"]).dropna()
    assert len(heard_rare) > 0.05 * truth["played_tracks"]
    assert (heard_rare == 1).all()


def _top_lists(similarity: np.ndarray, width: int = 50) -> np.ndarray:
    """Rows' top-``width`` columns by similarity (self excluded), padded with n where <= 0."""
    n = similarity.shape[0]
    np.fill_diagonal(similarity, -np.inf)
    top = np.argsort(-similarity, axis=1)[:, :width]
    return np.where(np.take_along_axis(similarity, top, axis=1) > 0, top, n)


def test_co_listening_recovers_the_tastes_and_content_cannot(written):
    """The planted structure is there for a model of co-listening, not for audio or artists."""
    import scipy.sparse as sp

    from spotrec.data.listening import session_item_weights, split_sessions
    from spotrec.evaluation.heldout_listening import evaluate_heldout_listening
    from spotrec.evaluation.metrics import Catalogue

    tracks, out, _ = written
    train, heldout = split_sessions(load_listening(out / "mpd", tracks).events, heldout_share=0.2)
    weights = session_item_weights(train)
    rows = pd.Index(tracks[schema.TRACK_ID]).get_indexer(weights[schema.LS_TRACK_ID])
    sessions = pd.factorize(weights[schema.LS_SESSION_ID])[0]
    plays = sp.csr_matrix(
        (np.ones(len(rows)), (sessions, rows)), shape=(sessions.max() + 1, len(tracks))
    )
    counts = (plays.T @ plays).toarray()
    heard = np.sqrt(np.maximum(np.diag(counts), 1.0))
    co_listening = _top_lists(counts / heard[:, None] / heard[None, :])
    unit = Catalogue.from_tracks(tracks).unit_features[: len(tracks)]
    audio = _top_lists(unit @ unit.T + 1.0)  # shifted: every pair is a candidate
    result = evaluate_heldout_listening(
        tracks, {"co-listening": co_listening, "audio": audio}, train, heldout, max_cases=None
    )
    ndcg = {name: r["all"]["ndcg"] for name, r in result["models"].items()}
    ndcg.update({name: r["all"]["ndcg"] for name, r in result["baselines"].items()})
    assert result["cases"] > 100
    assert ndcg["co-listening"] > 0.5
    assert ndcg["co-listening"] > 3 * ndcg["audio"]
    assert ndcg["co-listening"] > 2 * ndcg["seed artists' most popular (baseline)"]
    assert ndcg["co-listening"] > 2 * ndcg["most popular (baseline)"]


@pytest.mark.parametrize("events_format", ["jsonl", "parquet"])
def test_every_events_format_reads_back_cleanly(written, tmp_path, events_format):
    tracks, _, _ = written
    synth_listening.write_synthetic_listening(
        tracks, tmp_path, n_sessions=40, seed=1, formats=("events",), events_format=events_format
    )
    csv_dir = tmp_path / "csv"
    synth_listening.write_synthetic_listening(
        tracks, csv_dir, n_sessions=40, seed=1, formats=("events",)
    )
    read = load_listening(tmp_path / f"events.{events_format}", tracks, max_reject_share=0.0)
    from_csv = load_listening(csv_dir / "events.csv", tracks, max_reject_share=0.0)
    pd.testing.assert_frame_equal(read.events, from_csv.events)


def test_synth_listening_command_over_a_catalogue_csv(tmp_path, capsys):
    from spotrec.cli import main

    csv = synth.write_synthetic_csv(tmp_path / "c.csv", 300, seed=2)
    out = tmp_path / "listening"
    argv = ["data", "synth-listening", "--data", str(csv), "--out", str(out), "--sessions", "30"]
    assert main([*argv, "--formats", "mpd"]) == 0
    assert "wrote 30 sessions" in capsys.readouterr().out
    assert list((out / "mpd").iterdir()) == [out / "mpd" / "mpd.slice.0-29.json"]
    assert not (out / "events.csv").exists()
    assert main([*argv, "--formats", "nope"]) == 2
    assert "--formats takes events and/or mpd" in capsys.readouterr().err


def test_mpd_playlist_summaries_match_their_tracks(written):
    """num_tracks, num_albums, num_artists and duration_ms say what each playlist holds (the
    entries are serialised once per track and spliced in; the summaries are counted apart)."""
    _, out, _ = written
    playlists = [
        p
        for path in sorted((out / "mpd").glob("mpd.slice.*.json"))
        for p in json.loads(path.read_text())["playlists"]
    ]
    assert [p["pid"] for p in playlists] == list(range(N_SESSIONS))
    for playlist in playlists:
        entries = playlist["tracks"]
        assert [e["pos"] for e in entries] == list(range(len(entries)))
        assert playlist["num_tracks"] == len(entries) >= 1
        assert playlist["num_albums"] == len({e["album_uri"] for e in entries})
        assert playlist["num_artists"] == len({e["artist_uri"] for e in entries})
        assert playlist["duration_ms"] == sum(e["duration_ms"] for e in entries)
        assert all(e["track_uri"].startswith("spotify:track:") for e in entries)
