"""Genre statistics: computed from a catalogue, committed without any rows."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from spotrec.data import stats as stats_module
from spotrec.data.synth import write_synthetic_csv
from spotrec.errors import SpotrecError


def test_compute_stats_summarizes_a_catalogue(tmp_path):
    path = write_synthetic_csv(tmp_path / "s.csv", 600, seed=1)
    stats = stats_module.compute_stats(path)
    assert stats["source"]["tracks"] == 600
    levels = stats["quantile_levels"]
    for genre in stats["genres"].values():
        for feature in genre["features"].values():
            assert len(feature["quantiles"]) == len(levels)
            assert feature["quantiles"] == sorted(feature["quantiles"])
        assert abs(sum(genre["categorical"]["mode"].values()) - 1) < 1e-3
    assert sum(g["rows"] for g in stats["genres"].values()) == stats["source"]["rows"]
    assert 0 < stats["catalogue"]["multi_genre_rate"] < 1
    assert stats["catalogue"]["empty_name_tracks"] == 1


def test_write_and_load_round_trip_through_the_cli(tmp_path):
    data = write_synthetic_csv(tmp_path / "s.csv", 300, seed=2)
    out = tmp_path / "stats.json"
    parser = argparse.ArgumentParser()
    stats_module.add_arguments(parser)
    assert stats_module.run(parser.parse_args(["--data", str(data), "--out", str(out)])) == 0
    loaded = stats_module.load_stats(out)
    assert loaded == json.loads(out.read_text())
    assert loaded["source"]["tracks"] == 300


def test_load_stats_refuses_unknown_format(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": 99}')
    with pytest.raises(SpotrecError, match="unsupported stats format"):
        stats_module.load_stats(path)


def test_committed_stats_cover_the_real_catalogue_and_hold_no_rows():
    text = stats_module.DEFAULT_STATS_PATH.read_text(encoding="utf-8")
    stats = json.loads(text)
    assert stats["source"]["rows"] == 114_000 and stats["source"]["tracks"] == 89_741
    assert len(stats["genres"]) == 114
    # no track ids (22-character base-62 tokens) anywhere
    assert not re.search(r"(?<![0-9A-Za-z])[0-9A-Za-z]{22}(?![0-9A-Za-z])", text)
    assert len(text) < 400_000
