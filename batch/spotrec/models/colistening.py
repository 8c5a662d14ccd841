"""The co-listening model: tracks are similar when the same sessions (playlists, listening
sessions) hold them. It learns ONLY from listening (the session_item_weights table of training
sessions, see data/listening); it never sees audio features, genres or artists.

How (benfred/implicit's item-item nearest neighbours, not hand-written maths):
1. a sessions x tracks matrix of listening weights (likes count double, skips are already
   dropped by session_item_weights: a skip is never co-listening; a half-life decays old
   sessions there, so a retrain follows trends);
2. the weighting ``weighting``: "cosine" (normalised co-occurrence, the default: it won the
   held-out grid), "bm25" (implicit's bm25_weight: long sessions say less about each pair, a
   popular track's weights saturate) or "tfidf";
3. implicit's all-pairs kNN keeps each track's ``pool`` most similar tracks;
4. an optional popularity discount, as Amazon Personalize's SIMS has: a neighbour's score is
   divided by (sessions holding it) ** ``popularity_discount``. The cosine normalisation already
   divides by both tracks' session counts (a hub in every session tops no list, see the tests),
   and every extra discount tried lowered held-out NDCG (it promotes tracks seen once), so the
   default is 0;
5. the self, the track's variants (same song_id) and repeated songs are removed.

Settings come from a held-out listening grid (scripts/tune_colistening.py, docs/colistening.md).

A track that no training session pairs with another one has no evidence: its evidence list is
empty (or shorter than top_n). ``complete_lists`` fills the rest from a content model's list,
AFTER every evidence-based neighbour, so every track gets a full list; the build uses cosine
(see docs/colistening.md for why that is honest and what it means).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from spotrec import schema

log = logging.getLogger(__name__)

WEIGHTINGS = ("bm25", "tfidf", "cosine")
# Chosen by scripts/tune_colistening.py on held-out synthetic sessions (docs/colistening.md).
DEFAULTS = {"weighting": "cosine", "popularity_discount": 0.0, "pool": 250}
FILL_WEIGHT = 1e-4  # content's rank-fusion weight when it only fills: below any evidence entry
# (the API's "listened together" reason tells evidence from fill by score on this basis:
# spotrec_serving/reasons.evidence_floor, tests/batch/models/test_evidence_floor.py)


class CoListeningModel:
    name = "colistening"

    def __init__(
        self,
        weighting: str = DEFAULTS["weighting"],
        popularity_discount: float = DEFAULTS["popularity_discount"],
        pool: int = DEFAULTS["pool"],
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        num_threads: int = 0,
    ) -> None:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if popularity_discount < 0 or pool < 1:
            raise ValueError("popularity_discount must be >= 0 and pool >= 1")
        self.weighting = weighting
        self.popularity_discount = float(popularity_discount)
        self.pool = int(pool)
        self.bm25_k1, self.bm25_b = float(bm25_k1), float(bm25_b)
        self.num_threads = num_threads
        self.similarity: sp.csr_matrix | None = None  # (n_tracks, n_tracks), discounted
        self.sessions_per_track: np.ndarray | None = None  # int32 (n_tracks,)
        self.figures: dict = {}

    @classmethod
    def for_tests(cls) -> Self:
        return cls(num_threads=1)

    # --- fitting ----------------------------------------------------------------------------
    def fit(self, tracks: pd.DataFrame, *, seed: int = 0, listening: pd.DataFrame | None = None):
        """Learn from ``listening`` (session_id, track_id, weight) of TRAINING sessions.

        ``seed`` is accepted for the shared protocol; the model is deterministic without it.
        Without listening every track simply has no evidence.
        """
        from implicit.nearest_neighbours import (
            ItemItemRecommender,
            bm25_weight,
            normalize,
            tfidf_weight,
        )

        n = len(tracks)
        matrix, unknown = session_matrix(tracks, listening)
        self.sessions_per_track = np.diff(matrix.tocsc().indptr).astype(np.int32)
        if matrix.nnz:
            items = matrix.T.tocoo()  # implicit's weightings work on items x sessions
            if self.weighting == "bm25":
                weighted = bm25_weight(items, K1=self.bm25_k1, B=self.bm25_b)
            elif self.weighting == "tfidf":
                weighted = normalize(tfidf_weight(items))
            else:
                weighted = normalize(items)
            knn = ItemItemRecommender(K=self.pool + 1, num_threads=self.num_threads)
            knn.fit(sp.csr_matrix(weighted.T, dtype=np.float64), show_progress=False)
            similarity = knn.similarity.tocsr().astype(np.float32)
        else:
            similarity = sp.csr_matrix((n, n), dtype=np.float32)
        similarity.setdiag(0)  # the track itself is never its own neighbour
        similarity.eliminate_zeros()
        discount = np.maximum(self.sessions_per_track, 1).astype(np.float32)
        self.similarity = (similarity @ sp.diags(discount**-self.popularity_discount)).tocsr()
        has_evidence = np.diff(self.similarity.indptr) > 0
        self.figures = {
            "sessions": int(matrix.shape[0]),
            "session_track_pairs": int(matrix.nnz),
            "listening_rows_not_in_catalogue": int(unknown),
            "tracks_with_evidence": int(has_evidence.sum()),
            "tracks_without_evidence": int(n - has_evidence.sum()),
        }
        log.info("colistening: %s", self.figures)
        return self

    @property
    def has_evidence(self) -> np.ndarray:
        return np.diff(self._fitted().indptr) > 0

    def _fitted(self) -> sp.csr_matrix:
        if self.similarity is None:
            raise RuntimeError("fit or load the co-listening model first")
        return self.similarity

    # --- lists ------------------------------------------------------------------------------
    def evidence_lists(
        self, song_codes: np.ndarray, top_n: int, block_rows: int = 16384
    ) -> tuple[np.ndarray, np.ndarray]:
        """(indices int64 (n, top_n), scores float32) from listening alone; -1 / -inf where a
        track has fewer than top_n evidence-based neighbours (no variants, no repeated song).
        Each list depends on its own row only, so rows go ``block_rows`` at a time: the whole
        matrix's sort keys were ~1 GB at 100k sessions (docs/performance.md, Session 5)."""
        similarity = self._fitted()
        songs = pd.factorize(np.asarray(song_codes))[0].astype(np.int64)  # ids or codes
        n = len(songs)
        indices = np.full((n, top_n), -1, dtype=np.int64)
        scores = np.full((n, top_n), -np.inf, dtype=np.float32)
        for lo in range(0, similarity.shape[0], block_rows):
            block = similarity[lo : lo + block_rows].tocoo()
            row, col, score = _best_per_song(
                block.row.astype(np.int64) + lo, block.col.astype(np.int64), block.data, songs
            )
            position = np.arange(len(row)) - np.searchsorted(row, row, side="left")
            take = position < top_n
            indices[row[take], position[take]] = col[take]
            scores[row[take], position[take]] = score[take]
        return indices, scores

    # --- artefacts --------------------------------------------------------------------------
    def settings(self) -> dict:
        return {
            "weighting": self.weighting,
            "popularity_discount": self.popularity_discount,
            "pool": self.pool,
            "bm25_k1": self.bm25_k1,
            "bm25_b": self.bm25_b,
        }

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        coo = self._fitted().tocoo()
        pd.DataFrame({"row": coo.row, "col": coo.col, "score": coo.data}).to_parquet(
            directory / "similarity.parquet", index=False
        )
        np.save(directory / "sessions_per_track.npy", self.sessions_per_track, allow_pickle=False)
        meta = {"settings": self.settings(), "figures": self.figures, "n_tracks": coo.shape[0]}
        (directory / "colistening.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Self:
        directory = Path(directory)
        meta = json.loads((directory / "colistening.json").read_text())
        model = cls(**meta["settings"])
        frame = pd.read_parquet(directory / "similarity.parquet")
        n = meta["n_tracks"]
        model.similarity = sp.csr_matrix(
            (frame["score"].to_numpy(np.float32), (frame["row"], frame["col"])), shape=(n, n)
        )
        model.sessions_per_track = np.load(directory / "sessions_per_track.npy")
        model.figures = meta["figures"]
        return model

    def summary(self) -> dict:
        return {"settings": self.settings(), **self.figures}


def session_matrix(
    tracks: pd.DataFrame, listening: pd.DataFrame | None
) -> tuple[sp.csr_matrix, int]:
    """(sessions x catalogue-rows CSR of summed weights, rows naming no catalogue track)."""
    n = len(tracks)
    if listening is None or not len(listening):
        return sp.csr_matrix((0, n), dtype=np.float32), 0
    # Each distinct id looked up once, and session codes from the column as it is: hashing
    # millions of strings one by one was a third of this fit at 100k sessions.
    codes, ids = pd.factorize(listening["track_id"])
    column = np.r_[pd.Index(tracks[schema.TRACK_ID]).get_indexer(np.asarray(ids, object)), -1]
    column = column[codes]
    known = (column >= 0) & (listening["weight"].to_numpy() > 0)
    session = pd.factorize(listening["session_id"][known])[0]
    matrix = sp.csr_matrix(
        (listening["weight"].to_numpy(np.float32)[known], (session, column[known])),
        shape=(int(session.max()) + 1 if len(session) else 0, n),
    )
    matrix.sum_duplicates()
    return matrix, int((column < 0).sum())


def complete_lists(
    evidence: np.ndarray,
    fallback: np.ndarray,
    song_codes: np.ndarray,
    top_n: int,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every evidence-based neighbour in its own order, then the fallback list's songs not yet
    listed: one rank fusion (models/blend.py) in which the fallback's weight is too small to
    reorder or outrank any evidence entry, so it only fills."""
    from spotrec.models.blend import fuse_index_lists

    return fuse_index_lists(
        {"evidence": evidence, "fallback": fallback},
        song_codes,
        top_n,
        weights={"evidence": 1.0, "fallback": FILL_WEIGHT},
        rows=rows,
    )


def _best_per_song(row: np.ndarray, col: np.ndarray, score: np.ndarray, songs: np.ndarray):
    """(row, col, score) of the positive, non-variant entries, each row's list in its final
    order (score desc, then lowest catalogue row), one track per song: its first in that
    order."""
    keep = (songs[row] != songs[col]) & (score > 0)
    row, col, score = row[keep], col[keep], score[keep]
    # Row and score share one int64 key (a positive float32's bits order as it does) so
    # lexsort needs two.
    descending = np.int64(2**31 - 1) - score.astype(np.float32).view(np.int32)
    order = np.lexsort((col, (row << 31) | descending))
    row, col, score = row[order], col[order], score[order]
    _, first = np.unique(row * len(songs) + songs[col], return_index=True)
    first.sort()
    return row[first], col[first], score[first]
