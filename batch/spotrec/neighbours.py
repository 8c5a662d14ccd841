"""Top-N neighbours with FAISS, excluding the query's own song and duplicate songs.

Cosine similarity = inner product of L2-normalized rows, searched over the WHOLE catalogue one
batch of queries at a time: exactly with ``faiss.IndexFlatIP`` (memory O(batch x catalogue) for
FAISS's blocked GEMM, never an n x n matrix), or, past ``SearchSettings.ann_threshold`` rows,
with the approximate index of spotrec.ann, whose recall against exact search is measured.

Exclusions (the neighbours contract in DEVELOPERS.md): a list never holds the query itself, a
variant of it (same song_id), or two tracks of one song. FAISS cannot filter by song, so each
batch over-fetches ``top_n + 1 + margin`` candidates, filters them with vectorised numpy, and
re-queries only the few rows still short of ``top_n`` with a doubled ``k`` (up to the whole
catalogue). Of two tracks of one song, the more similar one is kept.

``query_range`` selects a slice of query rows so the search can run as shards (AWS Batch array
jobs); each query's list depends only on that query and the full index, so the union of shards
equals the unsharded result (every shard trains the same seeded approximate index; the test
holds it to the recall the build measures).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator

import faiss
import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.ann import (
    RECALL_AT,
    SearchSettings,
    build_ivf_flat,
    recall_at,
    sample_queries,
)
from spotrec.candidate_filter import filter_candidates
from spotrec.stages import cpu_seconds

log = logging.getLogger(__name__)

# FAISS's exact search computes inner products one block of 1024 catalogue rows at a time
# (cvar distance_compute_blas_database_bs), with a BLAS call and a parallel heap update per
# block: at 89k tracks that synchronisation cost more than the maths (32-d: 67 CPU s at 1024,
# 40 at 8192, for 89k queries x 89k rows). 8192 rows x 4096 queries = a 128 MB block buffer.
EXACT_DATABASE_BLOCK = 8192


def available_cores() -> int:
    """Cores this process may use (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _normalized(embeddings: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(embeddings, dtype=np.float32).copy()
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # An all-zero row stays zero: similarity 0 with everything, rather than NaN.
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def _validate(embeddings, song_ids, top_n, query_range) -> tuple[int, int]:
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, d), got shape {embeddings.shape}")
    n = embeddings.shape[0]
    if len(song_ids) != n:
        raise ValueError(f"song_ids has {len(song_ids)} entries for {n} embeddings")
    if top_n < 1:
        raise ValueError(f"top_n must be >= 1, got {top_n}")
    if not np.isfinite(embeddings).all():
        raise ValueError("embeddings contain NaN or inf")
    start, stop = (0, n) if query_range is None else query_range
    if not 0 <= start <= stop <= n:
        raise ValueError(f"query_range {query_range} outside 0..{n}")
    return start, stop


class NeighbourSearch:
    """Top-N search over one model's embeddings: exact, or approximate past
    ``settings.ann_threshold`` rows (spotrec.ann). The index is built once; ``batches`` then
    streams any set of query rows, so a caller can write each batch and hold only one.

    Every list passes the same variant filtering. Rows the first pass leaves short (crowded by
    variants, or an approximate index whose probed cells ran out) are re-queried exactly with a
    doubled ``k``, so every list is full whatever the index.
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        song_ids: np.ndarray,
        top_n: int,
        *,
        settings: SearchSettings | None = None,
        margin: int | None = None,
    ) -> None:
        embeddings = np.asarray(embeddings)
        song_ids = np.asarray(song_ids)
        _validate(embeddings, song_ids, top_n, None)
        faiss.omp_set_num_threads(available_cores())
        block = faiss.cvar.distance_compute_blas_database_bs
        faiss.cvar.distance_compute_blas_database_bs = max(block, EXACT_DATABASE_BLOCK)
        began, began_cpu = time.perf_counter(), cpu_seconds()
        self.n, dim = embeddings.shape
        self.top_n = top_n
        self.vectors = _normalized(embeddings)
        _, codes = np.unique(song_ids.astype(str), return_inverse=True)
        self.song_codes = codes.astype(np.int64)
        # Songs other than the query's own: a list can hold at most this many.
        self.eligible = min(top_n, len(np.unique(self.song_codes)) - 1)
        self.fetch = min(self.n, top_n + 1 + (top_n if margin is None else margin))
        self.settings = settings or SearchSettings()
        self.requeried = 0
        if self.settings.approximate(self.n):
            self.index, params, self.probes = build_ivf_flat(self.vectors, self.settings)
            self.info = {"method": "approximate", **params}
        else:
            self.probes = None
            self.index = faiss.IndexFlatIP(dim)
            self.index.add(self.vectors)
            self.info = {"method": "exact", "index": "Flat"}
        self.info.update(rows=self.n, dim=dim, top_n=top_n, fetch=self.fetch)
        self.info["index_build_s"] = round(time.perf_counter() - began, 2)
        self.info["index_build_cpu_s"] = round(cpu_seconds() - began_cpu, 2)
        log.info(
            "knn: %s index over %d x %d in %.2fs",
            self.info["index"],
            self.n,
            dim,
            self.info["index_build_s"],
        )

    @property
    def approximate(self) -> bool:
        return self.info["method"] == "approximate"

    def _exact_search(self, queries: np.ndarray, k: int):
        return faiss.knn(queries, self.vectors, k, metric=faiss.METRIC_INNER_PRODUCT)

    def _exact_rows(self, rows: np.ndarray, k: int):
        return self._exact_search(self.vectors[rows], k)

    def _first_pass(self, rows: np.ndarray, k: int):
        if self.probes is None:
            return self.index.search(self.vectors[rows], k)
        from faiss.contrib.ivf_tools import search_preassigned

        # The probes the index would compute for these rows, computed once at build time.
        return search_preassigned(self.index, self.vectors[rows], k, self.probes[rows])

    def batches(
        self, rows: np.ndarray, *, batch_size: int = 4096, progress: bool = False, exact=False
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (query rows, indices (b, top_n), scores (b, top_n)) batch by batch."""
        first_pass = self._first_pass if not exact else self._exact_rows
        starts = range(0, len(rows), batch_size)
        # Off a terminal (CI, AWS Batch) a log line every ~5% instead of a bar: at 1M tracks the
        # search runs for many minutes (docs/performance.md, "1M tracks").
        log_every = max(1, len(starts) // 20) if progress and not sys.stderr.isatty() else 0
        began = time.perf_counter()
        if progress:
            from tqdm import tqdm

            # disable=None: a bar on a terminal, nothing in CI logs (stage timings are logged).
            starts = tqdm(starts, desc="knn", unit="batch", leave=False, disable=None)
        for done, lo in enumerate(starts):
            if log_every and done and done % log_every == 0:
                log.info(
                    "knn: %d of %d queries in %.0f s", lo, len(rows), time.perf_counter() - began
                )
            queries = np.asarray(rows[lo : lo + batch_size], dtype=np.int64)
            scores, candidates = first_pass(queries, self.fetch)
            idx, sc, counts = filter_candidates(
                candidates, scores, queries, self.song_codes, self.top_n
            )
            short = np.flatnonzero(counts < self.eligible)
            k = self.fetch
            while short.size and k < self.n:  # rare: a row crowded by many variants of few songs
                self.requeried += short.size
                k = min(self.n, k * 2)
                s2, c2 = self._exact_search(self.vectors[queries[short]], k)
                idx[short], sc[short], counts2 = filter_candidates(
                    c2, s2, queries[short], self.song_codes, self.top_n
                )
                short = short[counts2 < self.eligible]
            yield queries, idx, sc

    def collect(self, rows: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """All lists for ``rows`` as (indices int64 (q, top_n), scores float32 (q, top_n))."""
        out_idx = np.empty((len(rows), self.top_n), dtype=np.int64)
        out_scores = np.empty((len(rows), self.top_n), dtype=np.float32)
        done = 0
        for queries, idx, sc in self.batches(rows, **kwargs):
            out_idx[done : done + len(queries)] = idx
            out_scores[done : done + len(queries)] = sc
            done += len(queries)
        return out_idx, out_scores

    def measure_recall(self, start: int, stop: int) -> dict:
        """recall@10 of this search against exact search on a seeded sample of start..stop.

        Exact search is recall 1 by definition; it is still measured, which checks the
        comparison itself on every small build."""
        s = self.settings
        rows = sample_queries(start, stop, s.recall_sample, s.seed)
        began, began_cpu = time.perf_counter(), cpu_seconds()
        _, found = self.collect(rows)
        _, exact = self.collect(rows, exact=True)
        recall = recall_at(found, exact)
        log.info("knn: recall@%d %.4f on %d sampled queries", RECALL_AT, recall, len(rows))
        return {
            f"recall_at_{RECALL_AT}": round(recall, 4),
            "recall_sample": len(rows),
            "recall_s": round(time.perf_counter() - began, 2),
            "recall_cpu_s": round(cpu_seconds() - began_cpu, 2),
        }


def exact_top_n(
    embeddings: np.ndarray,
    song_ids: np.ndarray,
    top_n: int,
    *,
    query_range: tuple[int, int] | None = None,
    batch_size: int = 4096,
    progress: bool = True,
    margin: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(indices int64 (q, top_n), scores float32 (q, top_n)) for the queries in query_range
    (default: all rows), by inner product on L2-normalized rows (= cosine), exact
    (faiss.IndexFlatIP), excluding self, the query's variants and duplicate songs. Slots that
    cannot be filled (tiny catalogues) are -1 / -inf.

    ``margin`` is how many extra candidates to over-fetch per query (default: top_n); rows
    still short after filtering are re-queried with a larger k, so it only affects speed.
    """
    embeddings = np.asarray(embeddings)
    start, stop = _validate(embeddings, np.asarray(song_ids), top_n, query_range)
    exact = SearchSettings(ann_threshold=embeddings.shape[0] + 1)
    search = NeighbourSearch(embeddings, song_ids, top_n, settings=exact, margin=margin)
    began = time.perf_counter()
    result = search.collect(np.arange(start, stop), batch_size=batch_size, progress=progress)
    log.info(
        "knn: %d queries, top %d (fetch %d): %.2fs (%d rows re-queried)",
        stop - start,
        top_n,
        search.fetch,
        time.perf_counter() - began,
        search.requeried,
    )
    return result


def to_frame(
    track_ids: np.ndarray, indices: np.ndarray, scores: np.ndarray, query_offset: int = 0
) -> pd.DataFrame:
    """Long-format neighbours frame (schema.NEIGHBOUR_COLUMNS), dropping -1 slots.

    Row i of ``indices`` is the list of ``track_ids[query_offset + i]``; indices point into
    ``track_ids`` (the whole catalogue).
    """
    track_ids = np.asarray(track_ids)
    indices = np.asarray(indices)
    if indices.shape != np.shape(scores):
        raise ValueError(f"indices {indices.shape} and scores {np.shape(scores)} differ")
    q, top_n = indices.shape
    if query_offset < 0 or query_offset + q > len(track_ids):
        raise ValueError(f"queries {query_offset}..{query_offset + q} outside 0..{len(track_ids)}")
    filled = indices >= 0
    query_rows = np.repeat(np.arange(query_offset, query_offset + q), top_n).reshape(q, top_n)
    ranks = np.broadcast_to(np.arange(1, top_n + 1, dtype=np.int32), (q, top_n))
    return pd.DataFrame(
        {
            schema.NB_TRACK_ID: track_ids[query_rows[filled]].astype(str),
            schema.NB_RANK: ranks[filled].astype(np.int32),
            schema.NB_NEIGHBOUR_ID: track_ids[indices[filled]].astype(str),
            schema.NB_SCORE: np.asarray(scores, dtype=np.float32)[filled],
        },
        columns=list(schema.NEIGHBOUR_COLUMNS),
    )
