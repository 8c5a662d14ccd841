"""Synthetic catalogue: raw format, ingests cleanly, has the real file's quirks, seeded."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from spotrec import schema
from spotrec.data import synth
from spotrec.data.ingest import load_catalogue
from spotrec.data.stats import load_stats
from spotrec.errors import SpotrecError

N_TRACKS = 1500


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = synth.write_synthetic_csv(tmp_path_factory.mktemp("synth") / "s.csv", N_TRACKS, seed=7)
    return path, load_catalogue(path, max_reject_share=0.0)


def test_raw_format_matches_the_real_header_and_index(synthetic):
    path, _ = synthetic
    header = path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == ",".join([schema.RAW_INDEX, *schema.RAW_COLUMNS])
    raw = pd.read_csv(path, index_col=0, keep_default_na=False)
    assert raw.index.tolist() == list(range(len(raw)))
    assert set(raw["explicit"].astype(str)) == {"True", "False"}


def test_ingests_with_zero_rejects_and_the_requested_track_count(synthetic):
    _, result = synthetic
    assert result.counts["rows_rejected"] == 0
    assert result.counts["tracks"] == N_TRACKS
    assert result.counts["rows_read"] > N_TRACKS  # multi-genre tracks have several rows


def test_has_multi_genre_tracks_with_known_genres(synthetic):
    _, result = synthetic
    genre_counts = result.tracks[schema.GENRES].map(len)
    assert 0.08 < (genre_counts > 1).mean() < 0.35  # real: 0.18
    known = set(load_stats()["genres"])
    assert set().union(*result.tracks[schema.GENRES]) <= known


def test_has_song_variants_with_distinct_albums(synthetic):
    _, result = synthetic
    tracks = result.tracks
    assert 0.05 < result.counts["variant_tracks"] / N_TRACKS < 0.3  # real: 0.148
    groups = tracks.groupby(schema.SONG_ID)
    multi = [g for _, g in groups if len(g) > 1]
    assert multi
    for group in multi:
        assert group[schema.TRACK_ID].is_unique
        assert group[schema.NAME].nunique() == 1
        assert group[schema.ALBUM].nunique() > 1 or len(group) > 4


def test_exactly_one_track_with_empty_name_artists_and_album(synthetic):
    _, result = synthetic
    empty = result.tracks[result.tracks[schema.NAME] == ""]
    assert len(empty) == 1
    assert empty.iloc[0][schema.ARTISTS] == [] and empty.iloc[0][schema.ALBUM] == ""


def test_artists_have_several_tracks_mostly_within_one_genre(synthetic):
    _, result = synthetic
    rows = result.tracks.explode(schema.ARTISTS).dropna(subset=[schema.ARTISTS])
    per_artist = rows.groupby(schema.ARTISTS)
    assert per_artist.size().max() >= 5
    shares_a_genre = per_artist[schema.GENRES].agg(lambda gs: bool(set.intersection(*map(set, gs))))
    sizes = per_artist.size()
    assert shares_a_genre[sizes > 1].mean() > 0.8


def test_features_follow_the_genre_statistics(synthetic):
    _, result = synthetic
    stats = load_stats()
    tracks = result.tracks.assign(primary=result.tracks[schema.GENRES].str[0])
    # compare the whole catalogue's feature means with the stats' row-weighted means
    for feature in ("danceability", "energy", "acousticness", "loudness", "tempo"):
        expected = np.average(
            [g["features"][feature]["mean"] for g in stats["genres"].values()],
            weights=[g["rows"] for g in stats["genres"].values()],
        )
        spread = np.mean([g["features"][feature]["std"] for g in stats["genres"].values()])
        assert abs(tracks[feature].mean() - expected) < 0.15 * spread, feature
    for feature, (low, high) in schema.AUDIO_FEATURE_RANGES.items():
        assert tracks[feature].between(low, high).all(), feature


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = synth.write_synthetic_csv(tmp_path / "a.csv.gz", 200, seed=3)
    b = synth.write_synthetic_csv(tmp_path / "b.csv.gz", 200, seed=3)
    c = synth.write_synthetic_csv(tmp_path / "c.csv.gz", 200, seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert load_catalogue(a, max_reject_share=0.0).counts["tracks"] == 200


def test_too_few_tracks_is_a_clear_error(tmp_path):
    with pytest.raises(SpotrecError, match="at least"):
        synth.write_synthetic_csv(tmp_path / "x.csv", 3)


def test_cli_run_writes_the_file(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    out = tmp_path / "cli.csv"
    assert synth.run(parser.parse_args(["--out", str(out), "--tracks", "100", "--seed", "1"])) == 0
    assert load_catalogue(out).counts["tracks"] == 100
    assert "100 tracks" in capsys.readouterr().out
