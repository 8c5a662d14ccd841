"""Neighbour files between the build stages: merging a model's shard files, and reading a
neighbours parquet back as an integer index matrix for the blend and the evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spotrec import schema
from spotrec.errors import SpotrecError

SHARDS_DIR = "shards"  # neighbours/shards/<model>.<i>-of-<n>.parquet


def merge_shards(out: Path, name: str, n_tracks: int) -> None:
    """Concatenate a model's shard files into neighbours/<model>.parquet, checking coverage."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shard_dir = out / schema.NEIGHBOURS_DIR / SHARDS_DIR
    parts = sorted(shard_dir.glob(f"{name}.*-of-*.parquet"))
    if not parts:
        return  # built unsharded
    counts = {int(p.name.rsplit("-of-", 1)[1].split(".")[0]) for p in parts}
    if len(counts) != 1 or len(parts) != counts.pop():
        raise SpotrecError(
            f"{name}: incomplete shard set in {shard_dir}: {[p.name for p in parts]}"
        )
    # Shard i holds queries i*n/N..(i+1)*n/N: in index order, the concatenation is in row order.
    parts.sort(key=lambda p: int(p.name.split(".")[1].split("-of-")[0]))
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    covered = pc.count_distinct(table[schema.NB_TRACK_ID]).as_py()
    if covered != n_tracks:
        raise SpotrecError(f"{name}: shards cover {covered} tracks, not {n_tracks}")
    pq.write_table(table, out / schema.NEIGHBOURS_DIR / f"{name}.parquet")
    for part in parts:
        part.unlink()


def read_index_matrix(
    path: Path, track_ids: np.ndarray, top_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """A neighbours parquet as (n, top_n) catalogue-row indices (-1 = empty) and scores.

    Integer matrices instead of a DataFrame of string ids: 4.5 M rows of Python strings per
    model cost ~1 GB each, and the blend and evaluation only need rows.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    catalogue = pa.array(track_ids)
    seed = pc.index_in(table[schema.NB_TRACK_ID], value_set=catalogue)
    neighbour = pc.index_in(table[schema.NB_NEIGHBOUR_ID], value_set=catalogue)
    if seed.null_count or neighbour.null_count:
        raise SpotrecError(f"{path} names tracks that are not in tracks.parquet")
    rank = table[schema.NB_RANK].to_numpy()
    if len(rank) and (rank.min() < 1 or rank.max() > top_n):
        raise SpotrecError(f"{path} has ranks outside 1..{top_n}")
    indices = np.full((len(track_ids), top_n), -1, dtype=np.int64)
    scores = np.full((len(track_ids), top_n), -np.inf, dtype=np.float32)
    seed_rows = seed.to_numpy()
    indices[seed_rows, rank - 1] = neighbour.to_numpy()
    scores[seed_rows, rank - 1] = table[schema.NB_SCORE].to_numpy()
    return indices, scores
