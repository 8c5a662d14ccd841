"""The report leads with held-out listening when the build has listening data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from eval_tables import make_neighbours, make_tracks

from spotrec import schema
from spotrec.cli import main
from spotrec.evaluation.render import LISTENING_HEADING
from spotrec.evaluation.report import write_report


def _events(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT])
    frame[schema.LS_TIMESTAMP] = pd.Timestamp("2024-01-01", tz="UTC")
    frame[schema.LS_POSITION] = frame.groupby(schema.LS_SESSION_ID).cumcount().astype("int32")
    return frame


@pytest.fixture
def build_dir(tmp_path):
    """12 tracks in two planted tastes (T00-T05, T06-T11). autoencoder lists taste-mates,
    cosine lists the other taste; held-out sessions are whole tastes."""
    ids = [f"T{i:02d}" for i in range(12)]
    rows = [
        {"id": ids[i], "genres": [f"g{i % 3}"], "artists": [f"a{i}"], "song": f"s{i}"}
        for i in range(12)
    ]
    make_tracks(rows).to_parquet(tmp_path / schema.TRACKS_FILE)
    taste = [i // 6 for i in range(12)]
    mates = {
        ids[i]: [ids[j] for j in range(12) if taste[j] == taste[i] and j != i] for i in range(12)
    }
    others = {ids[i]: [ids[j] for j in range(12) if taste[j] != taste[i]][:5] for i in range(12)}
    (tmp_path / schema.NEIGHBOURS_DIR).mkdir()
    make_neighbours(others).to_parquet(tmp_path / schema.NEIGHBOURS_DIR / "cosine.parquet")
    make_neighbours(mates).to_parquet(tmp_path / schema.NEIGHBOURS_DIR / "autoencoder.parquet")
    manifest = {"run_id": "listening-run", "models": ["cosine", "autoencoder"]}
    (tmp_path / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    (tmp_path / schema.LISTENING_DIR).mkdir()
    heldout = [
        (f"h{s}", ids[(s + j) % 6 + 6 * (s % 2)], "play") for s in range(6) for j in range(6)
    ]
    _events(heldout).to_parquet(tmp_path / schema.LISTENING_HELDOUT_FILE)
    _events([("t0", ids[0], "play"), ("t0", ids[1], "play")]).to_parquet(
        tmp_path / schema.LISTENING_TRAIN_FILE
    )
    stats = {"sessions": 7, "train_sessions": 1, "heldout_sessions": 6, "rows_rejected": 0}
    (tmp_path / schema.LISTENING_STATS_FILE).write_text(json.dumps(stats))
    return tmp_path


def test_report_leads_with_heldout_listening_and_picks_the_listening_winner(build_dir):
    report = write_report(build_dir, html=False)
    text = report.read_text()
    assert text.index(LISTENING_HEADING) < text.index("## Metrics (all seeds)")
    listening = text.split(LISTENING_HEADING)[1].split("\n## ")[0]
    table = [line.split("|")[1:6] for line in listening.splitlines() if line.startswith("| ")]
    by_name = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in table}
    assert by_name["autoencoder"][0] == "1.000"  # NDCG@100: the one target ranked first
    assert by_name["cosine"][0] == "0.000"
    assert "most popular (baseline)" in by_name
    assert "seed artists' most popular (baseline)" in by_name
    assert "Cold start" in listening
    assert "circular" in text and "audio-only genre precision@10" in text
    saved = json.loads((build_dir / schema.REPORT_DIR / "metrics.json").read_text())
    assert saved["selection_rule"] == "listening"
    assert saved["best_model"] == "autoencoder"
    assert saved["listening"]["cases"] == 6
    assert (build_dir / schema.REPORT_DIR / "listening.png").read_bytes()[:4] == b"\x89PNG"


def test_without_listening_the_report_is_as_before(build_dir, capsys):
    for name in (schema.LISTENING_TRAIN_FILE, schema.LISTENING_HELDOUT_FILE):
        (build_dir / name).unlink()
    assert main(["eval", "--out", str(build_dir), "--no-html"]) == 0
    printed = capsys.readouterr().out
    assert "NDCG@100" not in printed and "| cosine |" in printed
    saved = json.loads((build_dir / schema.REPORT_DIR / "metrics.json").read_text())
    assert saved["selection_rule"] == "genre" and saved["listening"] is None
    assert LISTENING_HEADING not in (build_dir / schema.REPORT_DIR / "report.md").read_text()
