"""A short bounded load run in CI: locust (16 users, 10 s) against `spotrec serve` over a
synthetic build must see 0 errors. Throughput and latency are printed, not asserted: the full
60 s runs and their figures are benchmarks/bench_load.py and docs/performance.md."""

from __future__ import annotations

import pytest

from api_support import write_synthetic_build
from load_support import load_data, run_locust, serve_process


@pytest.mark.integration
def test_a_bounded_load_run_sees_no_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    build = write_synthetic_build(tmp_path / "build", n_tracks=600, n_genres=6)
    with serve_process(build.path, tmp_path / "serve.log") as url:
        result = run_locust(url, load_data(build.track_ids), tmp_path / "locust", seconds=10)
    print(result.line("sqlite"))
    assert result.requests > 0
    assert result.failures == 0
