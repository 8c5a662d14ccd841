"""Fixtures shared by every test folder. Keep this file free of pandas/numpy imports so the
Lambda tests run without the batch extra installed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Shared assertion helpers: let pytest rewrite their asserts so failures show the values.
pytest.register_assert_rewrite("learned_model_checks", "serve_support", "neighbour_contract")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_CSV = Path(
    os.environ.get(
        "SPOTREC_REAL_CSV", REPO_ROOT.parent / "shared" / "data" / "spotify_tracks.csv.gz"
    )
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_csv() -> Path:
    """The real Spotify Tracks CSV beside the repo; skips when it is not there."""
    if not REAL_CSV.is_file():
        pytest.skip(f"real dataset not found at {REAL_CSV} (set SPOTREC_REAL_CSV to point at it)")
    return REAL_CSV
