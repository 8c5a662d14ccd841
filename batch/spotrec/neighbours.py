"""Exact top-N neighbours with FAISS, excluding the query's own song and duplicate songs.

Cosine similarity = inner product of L2-normalized rows, searched exactly with
``faiss.IndexFlatIP`` over the WHOLE catalogue, one batch of queries at a time: memory is
O(batch x catalogue) for FAISS's blocked GEMM, never an n x n matrix.

Exclusions (the neighbours contract in DEVELOPERS.md): a list never holds the query itself, a
variant of it (same song_id), or two tracks of one song. FAISS cannot filter by song, so each
batch over-fetches ``top_n + 1 + margin`` candidates, filters them with vectorised numpy, and
re-queries only the few rows still short of ``top_n`` with a doubled ``k`` (up to the whole
catalogue). Of two tracks of one song, the more similar one is kept.

``query_range`` selects a slice of query rows so the search can run as shards (AWS Batch array
jobs); each query's list depends only on that query and the full index, so the union of shards
equals the unsharded result.
"""

from __future__ import annotations

import logging
import os
import time

import faiss
import numpy as np
import pandas as pd

from spotrec import schema

log = logging.getLogger(__name__)

EMPTY_INDEX = -1
EMPTY_SCORE = -np.inf
# Scores closer than this are a tie (float32 GEMM rounding makes exact ties unreliable).
TIE_RESOLUTION = 2.0**-20


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


def _break_ties(
    candidates: np.ndarray, scores: np.ndarray, queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder each row by (score bucket desc, a hash of (query, candidate)).

    Only tied scores move. Why: variants of one song often have identical features, so they tie
    for every seed; FAISS would then always return the same one and the others would never be
    recommended (about 4% of the real catalogue). The hash spreads the choice across seeds,
    deterministically and independently of batches and shards.
    """
    bucket = np.floor(scores.astype(np.float64) / TIE_RESOLUTION)
    with np.errstate(over="ignore"):
        mixed = queries.astype(np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
        mixed = mixed ^ (candidates.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9))
        mixed ^= mixed >> np.uint64(31)
    order = np.lexsort((mixed, -bucket), axis=-1)
    return np.take_along_axis(candidates, order, axis=1), np.take_along_axis(scores, order, axis=1)


def _filter_candidates(
    candidates: np.ndarray,
    scores: np.ndarray,
    queries: np.ndarray,
    song_codes: np.ndarray,
    top_n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep, per row, the first top_n candidates that are neither the query's song nor a song
    already kept earlier in the row. Returns (indices, scores, kept counts)."""
    candidates, scores = _break_ties(candidates, scores, queries)
    query_codes = song_codes[queries]
    rows, k = candidates.shape
    valid = candidates >= 0
    codes = np.where(valid, song_codes[np.where(valid, candidates, 0)], -1)
    keep = valid & (codes != query_codes[:, None])
    # First occurrence of each (row, song): FAISS returns each row sorted by descending score,
    # so np.unique's first index is the most similar track of that song.
    n_codes = np.int64(song_codes.max() + 2)
    row_song = np.arange(rows, dtype=np.int64)[:, None] * n_codes + (codes + 1)
    _, first = np.unique(row_song.ravel(), return_index=True)
    is_first = np.zeros(rows * k, dtype=bool)
    is_first[first] = True
    keep &= is_first.reshape(rows, k)
    # Stable sort moves kept slots to the front of each row, preserving their order.
    order = np.argsort(~keep, axis=1, kind="stable")[:, :top_n]
    kept_counts = np.minimum(keep.sum(axis=1), top_n)
    out_idx = np.take_along_axis(candidates, order, axis=1)
    out_scores = np.take_along_axis(scores, order, axis=1)
    if k < top_n:  # tiny catalogue: pad the slots FAISS could not fill
        pad = top_n - k
        out_idx = np.pad(out_idx, ((0, 0), (0, pad)), constant_values=EMPTY_INDEX)
        out_scores = np.pad(out_scores, ((0, 0), (0, pad)), constant_values=EMPTY_SCORE)
    empty = np.arange(top_n)[None, :] >= kept_counts[:, None]
    out_idx[empty] = EMPTY_INDEX
    out_scores[empty] = EMPTY_SCORE
    return out_idx.astype(np.int64), out_scores.astype(np.float32), kept_counts


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
    song_ids = np.asarray(song_ids)
    start, stop = _validate(embeddings, song_ids, top_n, query_range)
    n, dim = embeddings.shape
    faiss.omp_set_num_threads(available_cores())

    began = time.perf_counter()
    vectors = _normalized(embeddings)
    _, song_codes = np.unique(song_ids.astype(str), return_inverse=True)
    song_codes = song_codes.astype(np.int64)
    eligible = min(top_n, len(np.unique(song_codes)) - 1)  # songs other than the query's own
    index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    log.info("knn: indexed %d x %d in %.2fs", n, dim, time.perf_counter() - began)

    fetch = min(n, top_n + 1 + (top_n if margin is None else margin))
    all_idx = np.empty((stop - start, top_n), dtype=np.int64)
    all_scores = np.empty((stop - start, top_n), dtype=np.float32)
    batches = range(start, stop, batch_size)
    if progress:
        from tqdm import tqdm

        # disable=None: a bar on a terminal, nothing in CI logs (the stage timings are logged).
        batches = tqdm(batches, desc="knn", unit="batch", leave=False, disable=None)
    search_s = filter_s = 0.0
    requeried = 0
    for lo in batches:
        hi = min(lo + batch_size, stop)
        t0 = time.perf_counter()
        scores, candidates = index.search(vectors[lo:hi], fetch)
        t1 = time.perf_counter()
        idx, sc, counts = _filter_candidates(
            candidates, scores, np.arange(lo, hi), song_codes, top_n
        )
        short = np.flatnonzero(counts < eligible)
        k = fetch
        while short.size and k < n:  # rare: a row crowded by many variants of few songs
            requeried += short.size
            k = min(n, k * 2)
            rows = lo + short
            s2, c2 = index.search(vectors[rows], k)
            idx[short], sc[short], counts2 = _filter_candidates(c2, s2, rows, song_codes, top_n)
            short = short[counts2 < eligible]
        all_idx[lo - start : hi - start] = idx
        all_scores[lo - start : hi - start] = sc
        search_s += t1 - t0
        filter_s += time.perf_counter() - t1
    log.info(
        "knn: %d queries, top %d (fetch %d): search %.2fs, filter+requery %.2fs "
        "(%d rows re-queried), total %.2fs",
        stop - start,
        top_n,
        fetch,
        search_s,
        filter_s,
        requeried,
        time.perf_counter() - began,
    )
    return all_idx, all_scores


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
