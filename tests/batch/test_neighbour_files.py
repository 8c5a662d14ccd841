"""Neighbour files read back batch by batch give the lists that were written."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def write_shards(out, ids, indices, scores, parts, num_shards, batch=3):
    from spotrec import schema
    from spotrec.neighbour_files import SHARDS_DIR

    shard_dir = out / schema.NEIGHBOURS_DIR / SHARDS_DIR
    shard_dir.mkdir(parents=True, exist_ok=True)
    n = len(ids)
    for shard in parts:
        lo, hi = n * shard // num_shards, n * (shard + 1) // num_shards
        rows = np.arange(lo, hi)
        batches = [
            (rows[i : i + batch], indices[rows[i : i + batch]], scores[rows[i : i + batch]])
            for i in range(0, len(rows), batch)
        ]
        report = {"method": "approximate", "recall_at_10": 0.9 + shard / 100, "recall_sample": 10}
        name = f"cosine.{shard}-of-{num_shards}.parquet"
        write_neighbours(shard_dir / name, ids, batches, report)
    return shard_dir


def test_merge_shards_concatenates_parts_in_row_order_and_checks_coverage(tmp_path):
    from spotrec import schema
    from spotrec.neighbour_files import merge_shards

    _, ids, indices, scores = written_lists(tmp_path)
    shard_dir = write_shards(tmp_path, ids, indices, scores, parts=[2, 0, 1], num_shards=3)
    merge_shards(tmp_path, "cosine", len(ids))
    merged = tmp_path / schema.NEIGHBOURS_DIR / "cosine.parquet"
    got_indices, got_scores = read_index_matrix(merged, ids, 4)
    np.testing.assert_array_equal(got_indices, indices)
    np.testing.assert_array_equal(got_scores, scores)
    seeds = pd.read_parquet(merged)[schema.NB_TRACK_ID].to_numpy()
    assert (np.diff([int(s[1:]) for s in seeds]) >= 0).all()  # row order
    assert read_report(merged)["shards"] == 3
    assert read_report(merged)["recall_at_10"] == pytest.approx(0.91)
    assert not list(shard_dir.iterdir())  # parts removed once merged


def test_merge_shards_refuses_parts_that_do_not_cover_the_catalogue(tmp_path):
    from spotrec import schema
    from spotrec.neighbour_files import merge_shards

    _, ids, indices, scores = written_lists(tmp_path)
    shard_dir = write_shards(tmp_path, ids, indices, scores, parts=[0, 1], num_shards=2)
    with pytest.raises(SpotrecError, match=f"shards cover 23 tracks, not {len(ids) + 1}"):
        merge_shards(tmp_path, "cosine", len(ids) + 1)
    assert not (tmp_path / schema.NEIGHBOURS_DIR / "cosine.parquet").exists()
    assert len(list(shard_dir.iterdir())) == 2  # kept for the user to inspect
