"""Tiny hand-written catalogues in the raw CSV format, for the data-layer tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from rawcsv import HEADER, row_line


@pytest.fixture
def write_csv(tmp_path: Path):
    """write_csv(lines, name=...) -> Path of a CSV with the real header and the given lines."""

    def write(lines: list[str], name: str = "catalogue.csv", header: str = HEADER) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def good_lines() -> list[str]:
    """100 valid rows, one distinct track each (ids from make_track_id(0..99))."""
    return [row_line(i, track_name=f"Song {i}") for i in range(100)]
