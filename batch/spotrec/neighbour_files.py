"""Neighbour files written as the search streams, and the search report each one carries.

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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from spotrec import schema

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
    for timing in ("index_build_s", "recall_s"):  # summed over shards: compute, not wall time
        merged[timing] = round(sum(r.get(timing, 0.0) for r in reports), 2)
    merged["shards"] = len(reports)
    merged["min_shard_" + key] = min(r[key] for r in reports)
    return merged
