"""scripts/scale_plan.py's arithmetic on a tiny fake manifest whose answers are worked by hand."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "scale_plan.py"


@pytest.fixture(scope="module")
def scale_plan():
    spec = importlib.util.spec_from_file_location("scale_plan", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_plan"] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


MANIFEST = {
    "run_id": "fake",
    "models": ["cosine"],
    "counts": {"tracks": 1000},
    "cpu_s": {
        "ingest": 10.0,
        "fit:cosine": 20.0,
        "neighbours:cosine": 100.0,
        "merge": 5.0,
        "evaluate": 3.0,
        "store": 12.0,
    },
    "neighbour_search": {
        "cosine": {
            "index_build_cpu_s": 30.0,
            "recall_cpu_s": 10.0,
            "dim": 8,
            "nlist": 126,
            "nprobe": 20,
            "recall_at_10": 0.97,
        }
    },
    "files": {
        "tracks.parquet": {"bytes": 1_000_000},
        "neighbours/cosine.parquet": {"bytes": 3_000_000},
    },
    "peak_rss_mb": 512.0,
}


def figures(scale_plan, **kwargs):
    found = scale_plan.plan(MANIFEST, target=4000, shards=[2], publish_items_per_s=100.0, **kwargs)
    return {f.what: f.value for f in found}


def test_each_figure_follows_its_scaling_rule(scale_plan):
    # target / measured = 4: linear x4, n^1.5 x8, n^2 x16
    got = figures(scale_plan, kinds={"T": (1000, 400_000, 1000), "N": (1000, 300_000, 1000)})
    assert got["ingest CPU"] == 40.0 and got["store CPU"] == 48.0
    assert got["neighbours:cosine index build, per shard"] == 240.0  # 30 x 8
    assert got["neighbours:cosine recall check, per shard"] == 40.0  # 10 x 4
    assert got["neighbours:cosine search+filter+write"] == 480.0  # (100 - 30 - 10) x 8
    assert got["neighbours:cosine search if recall needs the same share of cells"] == 960.0
    assert got["neighbours:cosine nlist at target"] == 253  # 4 sqrt(4000)
    assert got["neighbours:cosine shard memory (vectors + IVF copy)"] == 2 * 4000 * 8 * 4 / 1e9
    assert got["peak RSS of one build process"] == 2.0  # 512 MiB x 4 in GiB
    # 2 shards: 480 + 2 x (240 + 40) = 1040 CPU s; each shard 240 + 40 + 240 = 520 s on 2 vCPUs
    assert got["2 shards: vCPU-hours"] == pytest.approx(1040 / 3600)
    assert got["2 shards: neighbour wall"] == pytest.approx(520 / 2 / 60)
    task_usd_h = 2 * 0.04048 + 16 * 0.004445
    assert got["2 shards: Fargate cost (2 vCPU / 16 GB tasks)"] == pytest.approx(
        1040 / 3600 / 2 * task_usd_h
    )
    # serial stages (10 + 20 + 5 + 3 + 12) x 4 = 200 CPU s, plus the shard wall 260 s
    assert got["2 shards: build wall (serial stages + neighbours)"] == pytest.approx(460 / 60)
    assert got["S3 bytes per release (Parquet)"] == 0.016  # 4 MB x 4
    assert got["DynamoDB items per release"] == 8000
    assert got["DynamoDB write request units per release"] == 8000
    assert got["DynamoDB on-demand write cost per release"] == pytest.approx(8000 / 1e6 * 0.625)
    assert got["publish wall, one writer at the moto rate"] == pytest.approx(8000 / 100 / 3600)
    assert got["publish wall, 2 writers (one per shard)"] == pytest.approx(8000 / 200 / 3600)


def test_without_a_store_no_dynamodb_figures_are_invented(scale_plan):
    got = figures(scale_plan)
    assert not any(name.startswith(("DynamoDB", "publish")) for name in got)


def test_store_items_are_counted_with_their_write_units(scale_plan, tmp_path):
    store = tmp_path / "store.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE items (pk TEXT PRIMARY KEY, body BLOB)")
        db.executemany(
            "INSERT INTO items VALUES (?, ?)",
            [
                ("r1#T#a", b"x" * 10),
                ("r1#T#b", b"x" * 2000),
                ("r1#N#a", b"y" * 900),
                ("CURRENT", b""),
            ],
        )
    kinds = scale_plan.store_kinds(store)
    # WRU = floor((key + body + 100) / 1024) + 1: 116 -> 1, 2106 -> 3; 1006 -> 1
    assert kinds == {"T": (2, 2022, 4), "N": (1, 906, 1)}


def test_the_command_prints_the_table(scale_plan, tmp_path, capsys, monkeypatch):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST))
    monkeypatch.setattr(
        "sys.argv",
        [
            "scale_plan",
            str(path),
            "--publish-items-per-s",
            "100",
            "--target",
            "4000",
            "--shards",
            "2",
        ],
    )
    scale_plan.main()
    out = capsys.readouterr().out
    assert (
        "| neighbours:cosine search+filter+write | 480 CPU s | n^1.5: x 8.0 | 60.0 CPU s |" in out
    )
    assert "plan for 4,000 tracks" in out


def test_a_staged_build_needs_its_neighbour_cpu_given(scale_plan, tmp_path, capsys, monkeypatch):
    staged = {
        **MANIFEST,
        "cpu_s": {k: v for k, v in MANIFEST["cpu_s"].items() if k != "neighbours:cosine"},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(staged))
    argv = ["scale_plan", str(path), "--publish-items-per-s", "100", "--target", "4000"]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit, match="--neighbours-cpu cosine=SECONDS"):
        scale_plan.main()
    monkeypatch.setattr("sys.argv", [*argv, "--shards", "2", "--neighbours-cpu", "cosine=100"])
    scale_plan.main()
    assert "| neighbours:cosine search+filter+write | 480 CPU s |" in capsys.readouterr().out
