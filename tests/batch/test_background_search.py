"""The neighbour search that runs beside the fits (background_search.py): same lists as the
sequential build, truthful stage timings, and a failure on either side fails the build."""

from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from spotrec import schema
from spotrec.ann import SearchSettings
from spotrec.data.synth import write_synthetic_csv
from spotrec.errors import SpotrecError
from spotrec.pipeline import BuildConfig, run_build

MODELS = ("cosine", "transformer", "blend")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Path:
    return write_synthetic_csv(tmp_path_factory.mktemp("synth") / "c.csv.gz", n_tracks=1200, seed=3)


def config(out: Path, data: Path, **changes) -> BuildConfig:
    base = BuildConfig(out=out, data=data, models=MODELS, top_n=15, epochs=1, write_store=False)
    return dataclasses.replace(base, **changes)


def lists(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / schema.NEIGHBOURS_DIR / f"{name}.parquet")


def test_concurrent_build_gives_the_sequential_lists_and_timings(catalogue, tmp_path, caplog):
    caplog.set_level("INFO")
    concurrent, _ = run_build(config(tmp_path / "concurrent", catalogue))
    sequential, _ = run_build(config(tmp_path / "sequential", catalogue, concurrent_search=False))
    for name in MODELS:
        pd.testing.assert_frame_equal(
            lists(tmp_path / "concurrent", name), lists(tmp_path / "sequential", name)
        )
    assert concurrent["evaluation"] == sequential["evaluation"]
    # The background search's own stage figures reach the manifest, in stage order ...
    for figures in (concurrent["timings_s"], concurrent["cpu_s"]):
        stages = list(figures)
        assert stages.index("fit:transformer") < stages.index("neighbours:cosine")
        assert stages.index("neighbours:cosine") < stages.index("neighbours:transformer")
        assert figures["neighbours:cosine"] > 0
    # ... and its log lines reach the build's log (relayed from the worker process).
    relayed = [r for r in caplog.records if r.processName == "spotrec-background-search"]
    assert any("stage neighbours:cosine: started" in r.getMessage() for r in relayed)
    # The last model's search waits for the fits to end and runs here, on every core.
    assert not any("neighbours:transformer" in r.getMessage() for r in relayed)
    assert any("stage neighbours:transformer: started" in r.getMessage() for r in caplog.records)
    assert not multiprocessing.active_children()


def test_a_failing_background_search_fails_the_build_with_its_reason(catalogue, tmp_path):
    # Exact search measures recall 1.0: a floor above it fails the cosine search, which runs in
    # the background process while the transformer trains.
    strict = SearchSettings(min_recall=1.5)
    with pytest.raises(SpotrecError, match=r"neighbours:cosine \(background search\).*recall"):
        run_build(config(tmp_path / "out", catalogue, search=strict))
    assert not multiprocessing.active_children()


def test_a_failing_fit_stops_the_background_search(catalogue, tmp_path, monkeypatch):
    import spotrec.train_stage as train_stage_module

    real_fit = train_stage_module._fit

    def fit(name, *args):
        if name == "transformer":
            raise SpotrecError("transformer fit broke")
        return real_fit(name, *args)

    monkeypatch.setattr(train_stage_module, "_fit", fit)
    with pytest.raises(SpotrecError, match="transformer fit broke"):
        run_build(config(tmp_path / "out", catalogue))
    assert not multiprocessing.active_children()
