"""Neighbour files: written as the search streams (with the search report each one carries),
merged from shards, and read back as integer index matrices for the blend and the evaluation.

``write_neighbours`` turns (query rows, indices, scores) batches into
``neighbours/<model>.parquet`` row groups with Arrow string columns taken from the catalogue's
ids. Why not a DataFrame: at 1M tracks x 50 neighbours a frame of Python strings costs ~8 GB;
Arrow ``take`` on one ids array costs the bytes of the ids, and only one batch is held at once.

The search report (method, index parameters, recall@10 on a sample) is JSON in the file's
Parquet metadata, so a shard carries its own; the finish stage merges the shards' reports into
the merged file and the manifest (``neighbour_search``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from spotrec import schema
from spotrec.errors import SpotrecError

SHARDS_DIR = "shards"  # neighbours/shards/<model>.<i>-of-<n>.parquet

NEIGHBOUR_SCHEMA = pa.schema(
    [
        (schema.NB_TRACK_ID, pa.string()),
        (schema.NB_RANK, pa.int32()),
        (schema.NB_NEIGHBOUR_ID, pa.string()),
        (schema.NB_SCORE, pa.float32()),
    ]
)
# Parquet key-value metadata: the report travels with the file (also a shard uploaded alone).
REPORT_KEY = b"spotrec.search"


def batch_table(ids: pa.Array, rows: np.ndarray, indices: np.ndarray, scores: np.ndarray):
    """One batch of lists as a long-format Arrow table, dropping -1 slots."""
    q, top_n = indices.shape
    filled = indices >= 0
    seeds = np.broadcast_to(np.asarray(rows, dtype=np.int64)[:, None], (q, top_n))[filled]
    ranks = np.broadcast_to(np.arange(1, top_n + 1, dtype=np.int32), (q, top_n))[filled]
    return pa.table(
        [ids.take(seeds), pa.array(ranks), ids.take(indices[filled]), pa.array(scores[filled])],
        schema=NEIGHBOUR_SCHEMA,
    )


def write_neighbours(
    path: Path,
    track_ids: np.ndarray,
    batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    report: dict[str, Any],
) -> int:
    """Write the batches to ``path`` (atomically) with ``report`` in the file's metadata, and
    return the number of rows written."""
    ids = pa.array(np.asarray(track_ids).astype(str), type=pa.string())
    tmp = path.with_name(f".{path.name}.tmp")
    written = 0
    try:
        file_schema = NEIGHBOUR_SCHEMA.with_metadata({REPORT_KEY: json.dumps(report)})
        with pq.ParquetWriter(tmp, file_schema) as writer:
            for rows, indices, scores in batches:
                table = batch_table(ids, rows, indices, scores)
                writer.write_table(table.replace_schema_metadata(file_schema.metadata))
                written += table.num_rows
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


def read_report(path: Path) -> dict[str, Any]:
    """The search report a neighbours file carries ({} for files written without one)."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(REPORT_KEY)
    return json.loads(raw) if raw else {}


def with_report(table: pa.Table, report: dict[str, Any]) -> pa.Table:
    return table.replace_schema_metadata({REPORT_KEY: json.dumps(report)})


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's report from its shards' reports: recall weighted by each shard's sample."""
    if not reports or not all(reports):
        return {}
    key = next(k for k in reports[0] if k.startswith("recall_at_"))
    sample = sum(r["recall_sample"] for r in reports)
    recall = sum(r[key] * r["recall_sample"] for r in reports) / max(sample, 1)
    merged = {k: v for k, v in reports[0].items() if k not in ("shard", "query_range")}
    merged.update({key: round(recall, 4), "recall_sample": sample})
    # summed over shards: compute, not wall time
    for timing in ("index_build_s", "recall_s", "index_build_cpu_s", "recall_cpu_s"):
        merged[timing] = round(sum(r.get(timing, 0.0) for r in reports), 2)
    merged["shards"] = len(reports)
    merged["min_shard_" + key] = min(r[key] for r in reports)
    return merged


def merge_shards(out: Path, name: str, n_tracks: int) -> None:
    """Concatenate a model's shard files into neighbours/<model>.parquet, checking coverage."""
    import pyarrow.compute as pc

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
    report = merge_reports([read_report(p) for p in parts])
    # Copied row group by row group: the whole table at once is ~2.6 GB of Arrow strings at 1M
    # tracks x 50 (26 GB at 10M). Coverage is counted on each part's distinct seeds.
    target = out / schema.NEIGHBOURS_DIR / f"{name}.parquet"
    tmp = target.with_name(f".{target.name}.tmp")
    seeds = []
    try:
        file_schema = NEIGHBOUR_SCHEMA.with_metadata({REPORT_KEY: json.dumps(report)})
        with pq.ParquetWriter(tmp, file_schema) as writer:
            for part in parts:
                reader = pq.ParquetFile(part)
                for group in range(reader.num_row_groups):
                    table = reader.read_row_group(group).cast(NEIGHBOUR_SCHEMA)
                    writer.write_table(table.replace_schema_metadata(file_schema.metadata))
                    seeds.append(pc.unique(table.column(schema.NB_TRACK_ID)))
        covered = pc.count_distinct(pa.chunked_array(seeds, type=pa.string())).as_py()
        if covered != n_tracks:
            raise SpotrecError(f"{name}: shards cover {covered} tracks, not {n_tracks}")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    for part in parts:
        part.unlink()


def read_index_matrix(
    path: Path, track_ids: np.ndarray, top_n: int, *, batch_rows: int = 1 << 22
) -> tuple[np.ndarray, np.ndarray]:
    """A neighbours parquet as (n, top_n) catalogue-row indices (-1 = empty) and scores.

    Integer matrices instead of a DataFrame of string ids: 4.5 M rows of Python strings per
    model cost ~1 GB each, and the blend and evaluation only need rows. Read whole row groups,
    about ``batch_rows`` rows at a time, with the two id columns dictionary-encoded (as Parquet
    stores them): only each row group's distinct ids are looked up, and the catalogue's hash
    table is built once per window rather than once per column per row group, which cost
    ~0.4 CPU s each time at 1M tracks, most of the merge stage (docs/performance.md, Session 5).
    A window holds ~40 bytes a row plus its distinct ids while it is read: ~0.2 GB at the default.
    """
    import pyarrow.compute as pc

    catalogue = pa.array(np.asarray(track_ids).astype(str), type=pa.string())
    lookup = pc.SetLookupOptions(value_set=catalogue)
    indices = np.full((len(track_ids), top_n), -1, dtype=np.int64)
    scores = np.full((len(track_ids), top_n), -np.inf, dtype=np.float32)
    columns = [schema.NB_TRACK_ID, schema.NB_RANK, schema.NB_NEIGHBOUR_ID, schema.NB_SCORE]
    file = pq.ParquetFile(path, read_dictionary=[schema.NB_TRACK_ID, schema.NB_NEIGHBOUR_ID])
    for groups in _row_group_windows(file.metadata, batch_rows):
        table = file.read_row_groups(groups, columns=columns)
        seed_rows, neighbour_rows = _catalogue_rows(
            [table.column(schema.NB_TRACK_ID), table.column(schema.NB_NEIGHBOUR_ID)], lookup
        )
        if (seed_rows < 0).any() or (neighbour_rows < 0).any():
            raise SpotrecError(f"{path} names tracks that are not in tracks.parquet")
        rank = table.column(schema.NB_RANK).to_numpy()
        if len(rank) and (rank.min() < 1 or rank.max() > top_n):
            raise SpotrecError(f"{path} has ranks outside 1..{top_n}")
        indices[seed_rows, rank - 1] = neighbour_rows
        scores[seed_rows, rank - 1] = table.column(schema.NB_SCORE).to_numpy()
    return indices, scores


def _row_group_windows(metadata: pq.FileMetaData, rows: int) -> Iterator[list[int]]:
    """Consecutive row groups, at least ``rows`` rows per window (but the last)."""
    window: list[int] = []
    size = 0
    for group in range(metadata.num_row_groups):
        window.append(group)
        size += metadata.row_group(group).num_rows
        if size >= rows:
            yield window
            window, size = [], 0
    if window:
        yield window


def _catalogue_rows(columns: list[pa.ChunkedArray], lookup) -> list[np.ndarray]:
    """Each dictionary-encoded id column as catalogue rows (-1 = not in the catalogue), with one
    ``index_in`` call (one hash table of the catalogue) for all their dictionaries."""
    import pyarrow.compute as pc

    chunks = [[chunk for chunk in column.chunks] for column in columns]
    dictionaries = [chunk.dictionary.cast(pa.string()) for column in chunks for chunk in column]
    if not dictionaries:
        return [np.zeros(0, dtype=np.int64) for _ in columns]
    found = pc.index_in(pa.concat_arrays(dictionaries), options=lookup)
    rows = found.fill_null(-1).to_numpy().astype(np.int64)
    starts = np.cumsum([0] + [len(d) for d in dictionaries])
    out, k = [], 0
    for column in chunks:
        parts = []
        for chunk in column:
            parts.append(rows[starts[k] : starts[k + 1]][chunk.indices.to_numpy()])
            k += 1
        out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
    return out
