"""Collaborative track vectors: where each track sits in "how people listen" space.

``collaborative_vectors`` factorises the TRAINING sessions' (session x track) weights (the
listening contract's ``session_item_weights`` table) with implicit's alternating least squares
(Hu, Koren & Volinsky 2008, the library's standard implicit-feedback recipe), after BM25
weighting (implicit.nearest_neighbours.bm25_weight), which damps very long sessions and very
popular tracks so hubs do not dominate every direction. Two tracks get close vectors when the
same sessions hold them; audio and genre play no part.

They are the TARGET the learned models (autoencoder, transformer) map content onto
(content -> collaborative): a track that nobody has played yet is then placed where tracks that
sound / are labelled / are credited like it are listened to.

Only tracks that appear in at least one session with a positive weight get a vector
(``has_evidence``); every other row is zero. Same data and seed give the same vectors: the
sessions and tracks are ordered by id, ALS starts from ``seed`` and BLAS runs single-threaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import bm25_weight
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits

log = logging.getLogger("spotrec.models.collaborative")

WEIGHT_COLUMNS = ("session_id", "track_id", "weight")


@dataclass(frozen=True)
class CollaborativeSettings:
    """ALS settings: implicit's defaults, except a stronger regulariser, which keeps a track seen
    in few sessions from getting a direction of its own (planted tastes: same-taste cosine 0.15
    at 0.05, 0.36 at 1.0, dim 32), and 8 iterations instead of 15: on the 100,000-session
    benchmark the 8-iteration vectors have median cosine 0.9996 (10th percentile 0.9989) with
    the 15-iteration ones and share 94.5% of each track's top 20, for 11 s less of a build at
    that size (docs/performance.md, "Session 5 reruns")."""

    iterations: int = 8
    regularization: float = 1.0
    bm25_k1: float = 100.0
    bm25_b: float = 0.8
    threads: int = 2


def session_track_matrix(
    weights: pd.DataFrame, track_ids: np.ndarray
) -> tuple[csr_matrix, np.ndarray]:
    """(CSR (n_sessions, n_tracks) summed positive weights, column index of each kept track).

    Rows of ``weights`` naming a track outside ``track_ids`` or with weight <= 0 (a skip is
    negative evidence, never co-listening) are left out. Sessions are ordered by id."""
    missing = [c for c in WEIGHT_COLUMNS if c not in weights.columns]
    if missing:
        raise ValueError(f"listening weights lack column(s) {missing}; need {list(WEIGHT_COLUMNS)}")
    column_of = pd.Index(np.asarray(track_ids, dtype=object))
    if not column_of.is_unique:
        raise ValueError("track_ids must be unique")
    # Each distinct id is converted and looked up once (millions of rows, ~100k distinct ids).
    track_codes, track_values = pd.factorize(weights["track_id"], use_na_sentinel=False)
    distinct_columns = column_of.get_indexer(_as_str_objects(track_values))
    columns = distinct_columns[track_codes] if len(track_codes) else track_codes
    values = weights["weight"].to_numpy(dtype=np.float32)
    keep = (columns >= 0) & (values > 0)
    session_codes = _codes_in_sorted_order(weights["session_id"], keep)
    matrix = csr_matrix(
        (values[keep], (session_codes, columns[keep])),
        shape=(int(session_codes.max()) + 1 if len(session_codes) else 0, len(column_of)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    return matrix, np.unique(columns[keep])


def _as_str_objects(values) -> np.ndarray:
    """The values as Python str objects, as ``Series.astype(str)`` would give them."""
    return np.asarray(values).astype(str).astype(object)


def _codes_in_sorted_order(ids: pd.Series, keep: np.ndarray) -> np.ndarray:
    """``pd.factorize(ids.astype(str)[keep], sort=True)[0]``, sorting only the distinct ids."""
    codes, distinct = pd.factorize(ids, use_na_sentinel=False)
    kept = codes[keep]
    present = np.unique(kept)
    order = np.argsort(np.asarray(distinct).astype(str)[present], kind="stable")
    rank = np.zeros(len(distinct), dtype=np.int64)
    rank[present[order]] = np.arange(len(present))
    return rank[kept]


def collaborative_vectors(
    weights: pd.DataFrame,
    track_ids: np.ndarray,
    *,
    dim: int = 64,
    seed: int = 0,
    settings: CollaborativeSettings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(float32 (n, dim) vectors, bool (n,) has_evidence), row i = track_ids[i].

    Rows with evidence are L2-normalised ALS item factors; rows without are zero."""
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    settings = settings or CollaborativeSettings()
    matrix, evidence_columns = session_track_matrix(weights, track_ids)
    vectors = np.zeros((len(track_ids), dim), dtype=np.float32)
    has_evidence = np.zeros(len(track_ids), dtype=bool)
    if matrix.nnz == 0:
        return vectors, has_evidence
    # Factorise only the tracks with evidence: the others would get (near) zero factors anyway.
    item_sessions = matrix[:, evidence_columns].T.tocsr()
    weighted = bm25_weight(item_sessions, K1=settings.bm25_k1, B=settings.bm25_b).tocsr()
    # bm25's idf can reach <= 0 for a session holding most of a tiny catalogue; ALS would read
    # that as dislike, so keep every observed pair a (weak) positive.
    weighted.data = np.maximum(weighted.data, 1e-3).astype(np.float32)
    # implicit parallelises over rows itself; a BLAS thread pool on top only slows it down.
    with threadpool_limits(limits=1, user_api="blas"):
        als = AlternatingLeastSquares(
            factors=dim,
            regularization=settings.regularization,
            iterations=settings.iterations,
            num_threads=settings.threads,
            random_state=seed,
            use_gpu=False,
        )
        als.fit(weighted.T.tocsr(), show_progress=False)  # implicit: rows are users (sessions)
    factors = np.asarray(als.item_factors, dtype=np.float32)
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    vectors[evidence_columns] = factors / np.where(norms > 0, norms, 1.0)
    has_evidence[evidence_columns] = norms[:, 0] > 0
    log.info(
        "collaborative vectors: %d sessions, %d of %d tracks with evidence, dim %d",
        matrix.shape[0],
        int(has_evidence.sum()),
        len(track_ids),
        dim,
    )
    return vectors, has_evidence
