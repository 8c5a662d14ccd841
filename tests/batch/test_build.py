"""`spotrec build` end to end on small synthetic catalogues: the output contract, sharding,
rejects, holdout and input errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neighbour_contract import assert_neighbour_contract
from spotrec import schema
from spotrec.cli import main
from spotrec.data.synth import write_synthetic_csv


def build(out: Path, *args: str, data: Path | None = None) -> int:
    """Exit code of ``spotrec build [--data DATA] --out OUT ARGS``."""
    data_args = ["--data", str(data)] if data is not None else []
    return main(["build", *data_args, "--out", str(out), *args])


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "catalogue.csv.gz"
    return write_synthetic_csv(path, n_tracks=1500, seed=7)


@pytest.fixture(scope="module")
def cosine_build(synthetic_csv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "out"
    assert build(out, "--models", "cosine", "--top-n", "20", data=synthetic_csv) == 0
    return out


def read_lines(path: Path) -> list[str]:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def test_build_writes_the_output_contract(cosine_build: Path):
    manifest = json.loads((cosine_build / schema.MANIFEST_FILE).read_text())
    tracks = pd.read_parquet(cosine_build / schema.TRACKS_FILE)
    assert list(tracks.columns) == list(schema.TRACK_COLUMNS)
    assert tracks[schema.TRACK_ID].is_unique
    assert manifest["models"] == ["cosine"] and manifest["default_model"] == "cosine"
    assert manifest["top_n"] == 20
    assert manifest["counts"]["tracks"] == len(tracks) == 1500
    assert manifest["counts"]["rows_read"] >= 1500
    assert len(manifest["input"]["sha256"]) == 64
    assert set(manifest["files"]) == {"tracks.parquet", "neighbours/cosine.parquet"}
    assert "ingest" in manifest["timings_s"] and manifest["peak_rss_mb"] > 0
    frame = pd.read_parquet(cosine_build / "neighbours" / "cosine.parquet")
    assert_neighbour_contract(tracks, frame, 20)
    evaluation = manifest["evaluation"]["cosine"]
    assert evaluation["variant_rate"] == 0.0


def test_build_writes_a_store_with_the_current_release(cosine_build: Path):
    manifest = json.loads((cosine_build / schema.MANIFEST_FILE).read_text())
    with sqlite3.connect(cosine_build / schema.STORE_FILE) as db:
        (body,) = db.execute("SELECT body FROM items WHERE pk = 'CURRENT'").fetchone()
        assert json.loads(body)["run_id"] == manifest["run_id"]
        (count,) = db.execute(
            "SELECT COUNT(*) FROM items WHERE pk LIKE ?", (manifest["run_id"] + "#N#cosine#%",)
        ).fetchone()
    assert count == manifest["counts"]["tracks"]


def test_three_shards_union_equals_the_unsharded_result(synthetic_csv, tmp_path):
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    common = ["--models", "cosine", "--top-n", "15"]
    assert build(single, "--stage", "train", *common, data=synthetic_csv) == 0
    shutil.copytree(single, sharded)
    assert build(single, "--stage", "neighbours", *common) == 0
    for shard in range(3):
        shard_args = ["--shard", str(shard), "--num-shards", "3"]
        assert build(sharded, "--stage", "neighbours", *shard_args, *common) == 0
    assert build(sharded, "--stage", "finish", "--no-store", *common) == 0
    expected = pd.read_parquet(single / "neighbours" / "cosine.parquet")
    merged = pd.read_parquet(sharded / "neighbours" / "cosine.parquet")
    key = [schema.NB_TRACK_ID, schema.NB_RANK]
    pd.testing.assert_frame_equal(
        merged.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
    )


def test_shard_index_comes_from_aws_batch_array_index(synthetic_csv, tmp_path, monkeypatch):
    out = tmp_path / "out"
    common = ["--models", "cosine", "--top-n", "5"]
    assert build(out, "--stage", "train", *common, data=synthetic_csv) == 0
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1")
    assert build(out, "--stage", "neighbours", "--num-shards", "2", *common) == 0
    shard_files = sorted(p.name for p in (out / "neighbours" / "shards").iterdir())
    assert shard_files == ["cosine.1-of-2.parquet"]


def test_broken_rows_are_rejected_counted_and_written(synthetic_csv, tmp_path):
    lines = read_lines(synthetic_csv)
    fields = lines[5].split(",")
    fields[1] = "not-an-id"
    lines[5] = ",".join(fields)
    lines[9] = "9,only,three"
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert build(out, "--models", "cosine", "--top-n", "5", data=broken) == 0
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    assert manifest["counts"]["rows_rejected"] == 2
    rejects = pd.read_csv(out / schema.REJECTS_FILE)
    assert len(rejects) == 2
    assert "bad_track_id" in set(rejects[schema.REJECT_REASON])
    assert "rejects.csv" in manifest["files"]


def test_too_many_rejects_fail_the_build_loudly(synthetic_csv, tmp_path, capsys):
    lines = read_lines(synthetic_csv)
    broken = [lines[0]] + [line.replace(",False,", ",maybe,") for line in lines[1:]]
    path = tmp_path / "mostly-broken.csv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    code = build(tmp_path / "o", "--models", "cosine", data=path)
    assert code == 2
    assert "reject" in capsys.readouterr().err.lower()


def test_holdout_tracks_keep_a_list_and_are_counted(synthetic_csv, tmp_path):
    from spotrec.data.ingest import load_catalogue

    catalogue = load_catalogue(synthetic_csv).tracks
    artists = sorted({a for names in catalogue[schema.ARTISTS] for a in names if a})[:5]
    listed = tmp_path / "holdout.txt"
    listed.write_text("\n".join([*artists, "No Such Artist"]) + "\n")
    out = tmp_path / "out"
    holdout_args = ["--holdout-artists", str(listed)]
    assert build(out, "--models", "cosine", "--top-n", "5", *holdout_args, data=synthetic_csv) == 0
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    built = pd.read_parquet(out / schema.TRACKS_FILE)
    held = built[built[schema.HOLDOUT]]
    assert len(held) == manifest["counts"]["holdout_tracks"] > 0
    assert manifest["holdout"]["artists_not_found"] == 1
    frame = pd.read_parquet(out / "neighbours" / "cosine.parquet")
    assert set(held[schema.TRACK_ID]) <= set(frame[schema.NB_TRACK_ID])
    assert "holdout" in manifest["evaluation"]["cosine"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--models", "cosine,nope"], "unknown model"),
        (["--models", "cosine,blend"], "blend needs"),
        (["--top-n", "0"], "--top-n"),
        (["--shard", "1"], "--num-shards"),
        (["--num-shards", "3", "--shard", "3", "--stage", "neighbours"], "not in 0..2"),
    ],
)
def test_bad_arguments_are_named(synthetic_csv, tmp_path, capsys, argv, message):
    code = build(tmp_path / "o", *argv, data=synthetic_csv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_input_names_the_ways_forward(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SPOTREC_DATA", raising=False)
    assert build(tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "--data" in err and "spotrec data synth" in err


# --- listening data (--interactions) ------------------------------------------------------------
def write_events(path: Path, events: pd.DataFrame) -> Path:
    events.loc[:, ["session_id", "track_id", "event", "timestamp"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def listening_build(synthetic_csv, tmp_path_factory):
    """A build with planted-taste sessions, 7 events naming tracks outside the catalogue and 3
    malformed rows."""
    from listening_factories import planted_sessions
    from spotrec.data.ingest import load_catalogue

    tracks = load_catalogue(synthetic_csv).tracks
    rng = np.random.default_rng(0)
    tastes = np.full(len(tracks), -1)
    played = rng.choice(len(tracks), size=600, replace=False)  # only part is ever played
    tastes[played] = np.arange(600) % 6
    events = planted_sessions(tracks[schema.TRACK_ID], tastes, n_sessions=300, seed=1)
    events["timestamp"] = "2026-01-01T00:00:00Z"
    outside = events.head(7).assign(track_id=[f"{'Z' * 21}{i}" for i in range(7)])
    broken = events.head(3).assign(event=["hum", "purr", "hum"])
    folder = tmp_path_factory.mktemp("listening")
    write_events(folder / "events.csv", pd.concat([events, outside, broken]))
    out = tmp_path_factory.mktemp("build") / "out"
    args = ["--models", "cosine,colistening,hybrid", "--top-n", "20", "--heldout-share", "0.2"]
    args += ["--listening-top-n", "20"]  # the contract below: every list exactly 20
    assert build(out, *args, "--interactions", str(folder), data=synthetic_csv) == 0
    return out, tracks, tastes


def test_build_with_interactions_writes_listening_lists_and_counts(listening_build):
    out, tracks, _ = listening_build
    manifest = json.loads((out / schema.MANIFEST_FILE).read_text())
    assert manifest["models"] == ["cosine", "colistening", "hybrid"]
    for name in ("colistening", "hybrid"):
        frame = pd.read_parquet(out / "neighbours" / f"{name}.parquet")
        assert_neighbour_contract(tracks, frame, 20)
    listening = manifest["listening"]
    assert listening["out_of_catalogue"] == 7
    assert listening["rows_rejected"] == 3
    assert listening["rejects_by_reason"] == {"unknown_event": 3}
    rejects = pd.read_csv(out / schema.LISTENING_REJECTS_FILE)
    assert len(rejects) == 3
    # Held-out sessions never reach a model: the model saw exactly the training sessions.
    train = pd.read_parquet(out / schema.LISTENING_TRAIN_FILE)
    heldout = pd.read_parquet(out / schema.LISTENING_HELDOUT_FILE)
    assert not set(train["session_id"]) & set(heldout["session_id"])
    assert 0.1 < listening["heldout_sessions"] / 300 < 0.3
    summary = manifest["model_summaries"]["colistening"]
    assert summary["sessions"] == listening["train_sessions"] == train["session_id"].nunique()


def test_listening_lists_are_deeper_than_content_lists(synthetic_csv, tmp_path):
    """--listening-top-n: co-listening lists reach past --top-n (evidence, then the content
    fill), content lists stay --top-n deep, and the store keeps each list's own depth."""
    from listening_factories import planted_sessions
    from spotrec.data.ingest import load_catalogue
    from spotrec_serving.items import neighbours_key, unpack_list
    from spotrec_serving.sqlite_store import SqliteStore

    tracks = load_catalogue(synthetic_csv).tracks
    tastes = np.arange(len(tracks)) % 3  # three big tastes: plenty of co-listening evidence
    events = planted_sessions(tracks[schema.TRACK_ID], tastes, n_sessions=200, seed=2)
    events["timestamp"] = "2026-01-01T00:00:00Z"
    write_events(tmp_path / "events.csv", events)
    out = tmp_path / "out"
    args = ["--models", "cosine,colistening", "--top-n", "10", "--listening-top-n", "30"]
    assert (
        build(out, *args, "--interactions", str(tmp_path / "events.csv"), data=synthetic_csv) == 0
    )
    sizes = {
        name: pd.read_parquet(out / "neighbours" / f"{name}.parquet")
        .groupby(schema.NB_TRACK_ID)
        .size()
        for name in ("cosine", "colistening")
    }
    assert (sizes["cosine"] == 10).all()
    assert sizes["colistening"].max() == 30 and sizes["colistening"].min() >= 10
    store = SqliteStore(out / schema.STORE_FILE)
    run = store.current_run()
    deepest = sizes["colistening"].idxmax()
    body = store.get_items(run, [neighbours_key("colistening", deepest)])
    assert len(unpack_list(next(iter(body.values())))) == 30
    assert json.loads((out / schema.MANIFEST_FILE).read_text())["listening_top_n"] == 30


def test_listening_lists_follow_the_planted_tastes(listening_build):
    out, tracks, tastes = listening_build
    row_of = {t: i for i, t in enumerate(tracks[schema.TRACK_ID])}
    sessions = np.load(out / schema.MODELS_DIR / "colistening" / "sessions_per_track.npy")
    # Co-listening: every played track; the hybrid: tracks with real evidence (it leans on
    # content where a track sits in only a session or two); content cannot see tastes at all.
    for name, floor, evidence in (
        ("colistening", 0.9, sessions >= 1),
        ("hybrid", 0.9, sessions >= 8),
        ("cosine", None, sessions >= 1),
    ):
        frame = pd.read_parquet(out / "neighbours" / f"{name}.parquet")
        top = frame[frame[schema.NB_RANK] <= 5]
        seed = top[schema.NB_TRACK_ID].map(row_of).to_numpy()
        neighbour = top[schema.NB_NEIGHBOUR_ID].map(row_of).to_numpy()
        scored = evidence[seed] & (tastes[seed] >= 0)
        assert scored.sum() > 100
        same = (tastes[seed] == tastes[neighbour])[scored].mean()
        if floor is None:
            assert same < 0.3
        else:
            assert same > floor, name


def test_next_build_follows_a_planted_shift_with_a_half_life(synthetic_csv, tmp_path):
    from spotrec.data.ingest import load_catalogue

    ids = load_catalogue(synthetic_csv).tracks[schema.TRACK_ID].to_numpy()
    a, old_friend, new_friend = ids[0], ids[1], ids[2]
    rows = [
        (f"old{i}", t, "play", "2025-01-01T00:00:00Z") for i in range(30) for t in (a, old_friend)
    ]
    rows += [
        (f"new{i}", t, "play", "2026-01-01T00:00:00Z") for i in range(10) for t in (a, new_friend)
    ]
    events = write_events(
        tmp_path / "events.csv",
        pd.DataFrame(rows, columns=["session_id", "track_id", "event", "timestamp"]),
    )
    common = ["--models", "cosine,colistening", "--top-n", "5", "--heldout-share", "0"]
    first = {}
    for label, extra in (("plain", []), ("recent", ["--half-life-days", "30"])):
        out = tmp_path / label
        assert build(out, *common, "--interactions", str(events), *extra, data=synthetic_csv) == 0
        frame = pd.read_parquet(out / "neighbours" / "colistening.parquet")
        first[label] = frame[(frame[schema.NB_TRACK_ID] == a) & (frame[schema.NB_RANK] == 1)]
    assert first["plain"][schema.NB_NEIGHBOUR_ID].item() == old_friend
    assert first["recent"][schema.NB_NEIGHBOUR_ID].item() == new_friend


def test_listening_models_without_listening_data_are_a_named_error(synthetic_csv, tmp_path, capsys):
    assert build(tmp_path / "o", "--models", "cosine,colistening", data=synthetic_csv) == 2
    assert "--interactions" in capsys.readouterr().err
