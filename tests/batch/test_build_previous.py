"""`spotrec build --previous DIR`: the cosine model keeps the previous build's feature scaling
(incremental publish, docs/aws.md), and names the misuse of building over the previous one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec.cli import main
from spotrec.data.synth import write_synthetic_csv


def build(out: Path, data: Path, *args: str) -> int:
    argv = ["build", "--data", str(data), "--out", str(out), "--models", "cosine"]
    return main([*argv, "--top-n", "20", "--no-store", *args])


def cosine_summary(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())["model_summaries"]["cosine"]


def test_previous_build_scaling_is_kept_and_unchanged_tracks_embed_identically(tmp_path, capsys):
    base = write_synthetic_csv(tmp_path / "a.csv", n_tracks=300, seed=1)
    extra = pd.read_csv(write_synthetic_csv(tmp_path / "x.csv", n_tracks=20, seed=9))
    new_ids = list(dict.fromkeys(extra["track_id"]))[:3]  # 1% more tracks
    grown = tmp_path / "b.csv"
    pd.concat([pd.read_csv(base), extra[extra["track_id"].isin(new_ids)]]).to_csv(
        grown, index=False
    )
    assert build(tmp_path / "a", base) == 0
    assert build(tmp_path / "fresh", grown) == 0
    assert build(tmp_path / "carried", grown, "--previous", str(tmp_path / "a")) == 0
    assert cosine_summary(tmp_path / "a")["scaler"] == "fitted"
    assert cosine_summary(tmp_path / "fresh")["scaler"] == "fitted"
    assert cosine_summary(tmp_path / "carried")["scaler"] == "previous build's"

    def style(out: Path) -> dict[str, np.ndarray]:
        ids = pd.read_parquet(out / "tracks.parquet", columns=["track_id"])["track_id"]
        return dict(zip(ids, np.load(out / "embeddings" / "cosine.npy"), strict=True))

    before, carried, fresh = (
        style(tmp_path / "a"),
        style(tmp_path / "carried"),
        style(tmp_path / "fresh"),
    )
    same = [t for t in before if np.array_equal(before[t], carried[t])]
    assert len(same) > 0.9 * len(before)  # all but the new tracks' artists' tracks
    assert not any(np.array_equal(before[t], fresh[t]) for t in same)


def test_previous_must_not_be_the_output_directory(tmp_path, capsys):
    base = write_synthetic_csv(tmp_path / "a.csv", n_tracks=100, seed=1)
    assert build(tmp_path / "a", base, "--previous", str(tmp_path / "a")) == 2
    assert "--previous" in capsys.readouterr().err
