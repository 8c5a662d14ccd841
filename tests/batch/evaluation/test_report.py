"""The report end to end on a tiny build directory written by the test itself."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest
from eval_tables import SIX_LISTS, SIX_TRACKS, make_neighbours, make_tracks, varied_features

from spotrec import schema
from spotrec.cli import main
from spotrec.evaluation import eda
from spotrec.evaluation.metrics import evaluate
from spotrec.evaluation.report import write_report
from spotrec.selection import choose_default

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A second, clean model: no variants, every track recommended.
CLEAN_LISTS = {
    "A": ["B", "D", "C"],
    "B": ["A", "C", "D"],
    "C": ["E", "F", "A"],
    "D": ["A", "B", "E"],
    "E": ["C", "F", "B"],
    "F": ["C", "E", "D"],
}


def _six_rows() -> list[dict]:
    return [
        dict(row, holdout=row["id"] in ("C", "F"), features=varied_features(i))
        for i, row in enumerate(SIX_TRACKS)
    ]


@pytest.fixture
def build_dir(tmp_path):
    tracks = make_tracks(_six_rows())
    tracks.to_parquet(tmp_path / schema.TRACKS_FILE)
    (tmp_path / schema.NEIGHBOURS_DIR).mkdir()
    make_neighbours(SIX_LISTS).to_parquet(tmp_path / schema.NEIGHBOURS_DIR / "cosine.parquet")
    make_neighbours(CLEAN_LISTS).to_parquet(
        tmp_path / schema.NEIGHBOURS_DIR / "autoencoder.parquet"
    )
    manifest = {
        "run_id": "test-run",
        "models": ["cosine", "autoencoder"],
        "model_summaries": {
            "autoencoder": {"average_similarity": 0.9969, "final_validation_loss": 0.0012}
        },
    }
    (tmp_path / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    return tmp_path


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC and plt.imread(path).ndim == 3


def test_report_files_rows_and_values(build_dir):
    report = write_report(build_dir)
    out = build_dir / schema.REPORT_DIR
    assert report == out / "report.md"
    text = report.read_text()
    metrics_section = text.split("## Metrics (all seeds)")[1].split("\n## ")[0]
    assert [
        line.split("|")[1].strip()
        for line in metrics_section.splitlines()
        if line.startswith("| ") and "model" not in line
    ] == ["cosine", "autoencoder"]
    assert "## Held-out tracks (2 seeds" in text

    saved = json.loads((out / "metrics.json").read_text())
    tracks = make_tracks(_six_rows())
    direct = {
        "cosine": evaluate(tracks, make_neighbours(SIX_LISTS)),
        "autoencoder": evaluate(tracks, make_neighbours(CLEAN_LISTS)),
    }
    for model, expected in direct.items():
        for key, value in expected.items():
            assert saved["models"][model][key] == pytest.approx(value), (model, key)
    held = tracks[schema.HOLDOUT].to_numpy()
    held_direct = evaluate(tracks, make_neighbours(CLEAN_LISTS), seeds_mask=held)
    assert saved["models"]["autoencoder"]["holdout"]["genre_precision"] == pytest.approx(
        held_direct["genre_precision"]
    )
    assert saved["models"]["autoencoder"]["average_similarity"] == 0.9969
    assert saved["models"]["cosine"]["average_similarity"] is None
    assert saved["models"]["cosine"]["bars"]["variant_rate"] is False  # cosine holds variants
    assert saved["best_model"] == choose_default(direct)

    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} >= {
        "tradeoff.png",
        "metrics_by_model.png",
        "hubness.png",
        "eda_popularity.png",
        "eda_explicit.png",
        "eda_top_genres.png",
        "eda_loudness.png",
        "eda_danceability_mode.png",
        "eda_correlations.png",
    }
    assert all(_is_png(p) for p in pngs)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(pngs)


def test_sweep_table_and_no_holdout(build_dir):
    sweep = build_dir / "sweep.csv"
    sweep.write_text("model,setting,genre_precision,coverage\ncosine,w=1,0.5,0.9\n")
    write_report(build_dir, holdout=False, html=False)
    out = build_dir / schema.REPORT_DIR
    assert "Held-out" not in (out / "report.md").read_text()
    assert not (out / "report.html").exists()
    sweep.write_text("model,precision\ncosine,0.5\n")
    with pytest.raises(Exception, match="lacks column"):
        write_report(build_dir)


def test_cli_prints_table_and_path(build_dir, capsys):
    assert main(["eval", "--out", str(build_dir), "--no-html"]) == 0
    printed = capsys.readouterr().out
    assert "| cosine |" in printed and "| autoencoder |" in printed
    assert str(build_dir / schema.REPORT_DIR / "report.md") in printed


def test_cli_names_a_missing_neighbour_table(build_dir, capsys):
    (build_dir / schema.NEIGHBOURS_DIR / "cosine.parquet").unlink()
    assert main(["eval", "--out", str(build_dir)]) == 2
    assert "cosine.parquet" in capsys.readouterr().err


def test_eda_readings_are_computed_from_the_data(tmp_path):
    rows = [
        {"id": "A", "genres": ["pop", "rock"], "artists": ["X"], "song": "a", "explicit": True},
        {"id": "B", "genres": ["pop"], "artists": ["X"], "song": "b", "explicit": True},
        {"id": "C", "genres": ["pop"], "artists": ["Y"], "song": "c", "explicit": False},
        {"id": "D", "genres": ["jazz"], "artists": ["Y"], "song": "d", "explicit": True},
    ]
    rows = [dict(row, features=varied_features(i)) for i, row in enumerate(rows)]
    charts = {c.file: c.reading for c in eda.run_eda(make_tracks(rows), tmp_path)}
    assert charts["eda_explicit.png"].startswith("3 tracks (75.0%) are explicit and 1 are not")
    # pop has 3 tracks, then jazz 1 and rock 1; one track in four carries two genres.
    assert "largest genre is pop with 3 tracks" in charts["eda_top_genres.png"]
    assert "out of 3 genres; 25.0% of tracks carry" in charts["eda_top_genres.png"]
    assert all(_is_png(tmp_path / name) for name in charts)


def test_eda_reading_names_a_tie_for_the_largest_genre(tmp_path):
    rows = [
        {"id": t, "genres": [genre], "artists": ["X"], "song": t, "features": varied_features(i)}
        for i, (t, genre) in enumerate([("A", "rock"), ("B", "pop"), ("C", "jazz")])
    ]
    reading = eda.top_genres(make_tracks(rows), tmp_path).reading
    assert reading.startswith("3 of 3 genres tie for the most tracks (1 each)")


def test_blend_check_counts_metrics_where_the_blend_beats_every_single_model():
    from spotrec.evaluation.report import _blend_check

    base = {
        "genre_precision": 0.9,
        "mrr": 0.95,
        "same_artist": 0.5,
        "coverage": 0.96,
        "intra_list_diversity": 0.3,
        "hubness_skew": 2.0,
        "passes_all_bars": True,
    }
    results = {
        "cosine": base,
        "autoencoder": {**base, "coverage": 0.97},
        "blend": {**base, "genre_precision": 0.92, "coverage": 0.97, "hubness_skew": 1.5},
    }
    # coverage only ties the autoencoder, so it does not count.
    check = _blend_check(results)
    assert check == {
        "beats_every_single_model_on": ["genre_precision", "hubness_skew"],
        "passes": True,
    }
    results["blend"]["passes_all_bars"] = False
    assert _blend_check(results)["passes"] is False
    assert _blend_check({"cosine": base}) is None
