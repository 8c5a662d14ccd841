"""stages.peak_rss_mb: a process's own peak, not one inherited from the process that started it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spotrec.stages import peak_rss_mb

BATCH = Path(__file__).resolve().parents[2] / "batch"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc (VmHWM)")
def test_a_child_started_by_a_big_process_reports_its_own_peak():
    ballast = np.ones(400 * 1024 * 1024 // 8)  # 400 MiB touched in this (parent) process
    assert peak_rss_mb() > 400
    child = subprocess.run(
        [sys.executable, "-c", "from spotrec.stages import peak_rss_mb; print(peak_rss_mb())"],
        env={"PYTHONPATH": str(BATCH)},
        capture_output=True,
        text=True,
        check=True,
    )
    # ru_maxrss survives exec: the child would report the parent's >400 MiB.
    assert float(child.stdout) < 200
    del ballast
