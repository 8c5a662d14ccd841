"""Neighbour files read back batch by batch give the lists that were written."""

from __future__ import annotations

import numpy as np
import pytest

from spotrec.errors import SpotrecError
from spotrec.neighbour_files import read_index_matrix, read_report, write_neighbours


def written_lists(tmp_path, n=23, top_n=4):
    """Known lists: row i's neighbours are i+1..i+top_n (mod n), the last row one short."""
    ids = np.array([f"t{i:03d}" for i in range(n)], dtype=object)
    indices = (np.arange(n)[:, None] + np.arange(1, top_n + 1)[None, :]) % n
    scores = np.tile(np.linspace(1.0, 0.5, top_n, dtype=np.float32), (n, 1))
    indices[-1, -1], scores[-1, -1] = -1, -np.inf
    rows = np.arange(n)
    batches = [
        (rows[lo : lo + 5], indices[lo : lo + 5], scores[lo : lo + 5]) for lo in range(0, n, 5)
    ]
    path = tmp_path / "m.parquet"
    assert write_neighbours(path, ids, batches, {"method": "exact"}) == n * top_n - 1
    return path, ids, indices, scores


@pytest.mark.parametrize("batch_rows", [1, 7, 1 << 20])
def test_read_index_matrix_in_batches_returns_what_was_written(tmp_path, batch_rows):
    path, ids, indices, scores = written_lists(tmp_path)
    got_indices, got_scores = read_index_matrix(path, ids, 4, batch_rows=batch_rows)
    np.testing.assert_array_equal(got_indices, indices)
    np.testing.assert_array_equal(got_scores, scores)
    assert read_report(path) == {"method": "exact"}


def test_read_index_matrix_refuses_ids_outside_the_catalogue(tmp_path):
    path, ids, _, _ = written_lists(tmp_path)
    with pytest.raises(SpotrecError, match=r"not in tracks\.parquet"):
        read_index_matrix(path, ids[:-3], 4, batch_rows=7)
