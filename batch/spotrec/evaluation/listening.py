"""Held-out listening: does a recommender bring back the rest of a real session? Pure functions.

Protocol (RecSys Challenge 2018, adapted to 5 seeds as the API takes):
* **Split** by session, never by event (spotrec.data.listening.split_sessions); models and
  baselines see only the training sessions.
* **Cases**: each held-out session's positively weighted tracks (a skip alone is not a target),
  in session order, one per song (variants are one song). A session with at least MIN_TRACKS
  songs gives its first N_SEEDS as seeds; the rest are its targets, so no target is a seed or a
  variant of one.
* **Recommendation**: the API's merge: each seed's neighbour list without the seeds and their
  variants, fused by spotrec_serving.recommend.fuse_reciprocal_rank (one song per slot), K long.
* **Metrics** (a recommended track is relevant when its song is a target song):
  R-precision = relevant in the top |G| / |G|; NDCG@K = DCG / ideal DCG with gains
  1/log2(rank+1); recall@K = relevant in the top K / |G|; hit@HIT_K = any relevant in the top
  HIT_K. Means over cases; K = 100 (the API's maximum), so R-precision of a session with more
  than 100 targets is capped by the list length.
* **Cold start**: the same cases scored only on targets whose song had no listening in training.

Baselines, through the same fusion: the most popular tracks of the training listening, and
each seed's artists' most popular tracks. "Popular" = summed positive weight in training
sessions, ties broken by the catalogue's popularity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening import session_item_weights
from spotrec_serving.recommend import SeedList, fuse_reciprocal_rank

N_SEEDS, MIN_TRACKS, K, HIT_K = 5, 6, 100, 10
LISTENING_METRICS: dict[str, tuple[str, str]] = {
    "ndcg": (f"NDCG@{K}", "0..1, higher is better"),
    "r_precision": ("R-precision", "0..1, higher is better"),
    "recall": (f"recall@{K}", "0..1, higher is better"),
    "hit": (f"hit@{HIT_K}", "0..1, share of sessions with a target in the top 10"),
}
Recommender = Callable[[np.ndarray], np.ndarray]  # seed rows -> ranked catalogue rows
_DISCOUNTS = 1.0 / np.log2(np.arange(2, K + 2))  # NDCG's gain at each rank


@dataclass(frozen=True)
class HeldoutCases:
    session_ids: np.ndarray
    seeds: list[np.ndarray]  # catalogue rows, N_SEEDS each
    targets: list[np.ndarray] = field(default_factory=list)  # catalogue rows, one per song

    def __len__(self) -> int:
        return len(self.seeds)


def heldout_cases(
    heldout_events: pd.DataFrame,
    track_ids,
    song_codes: np.ndarray,
    *,
    max_cases: int | None = None,
    seed: int = 0,
) -> HeldoutCases:
    """Seeds and targets of the held-out sessions (see the module docstring); ``max_cases``
    keeps a seeded random sample of sessions."""
    weights = session_item_weights(heldout_events)
    first = heldout_events.groupby([schema.LS_SESSION_ID, schema.LS_TRACK_ID], sort=False)[
        schema.LS_POSITION
    ].min()
    positive = weights.join(first, on=[schema.LS_SESSION_ID, schema.LS_TRACK_ID])
    positive["row"] = pd.Index(track_ids).get_indexer(positive[schema.LS_TRACK_ID])
    positive = positive[positive["row"] >= 0]
    positive["song"] = song_codes[positive["row"].to_numpy()]
    positive = positive.sort_values([schema.LS_SESSION_ID, schema.LS_POSITION], kind="stable")
    positive = positive.drop_duplicates([schema.LS_SESSION_ID, "song"])
    sizes = positive.groupby(schema.LS_SESSION_ID, sort=False).size()
    sessions = sizes.index[sizes >= MIN_TRACKS].to_numpy()
    if max_cases is not None and len(sessions) > max_cases:
        sessions = np.sort(np.random.default_rng(seed).choice(sessions, max_cases, replace=False))
    kept = positive[positive[schema.LS_SESSION_ID].isin(sessions)]
    groups = kept.groupby(schema.LS_SESSION_ID, sort=True)["row"]
    ids, seeds, targets = [], [], []
    for session, rows in groups:
        rows = rows.to_numpy(dtype=np.int64)
        ids.append(session)
        seeds.append(rows[:N_SEEDS])
        targets.append(rows[N_SEEDS:])
    return HeldoutCases(np.asarray(ids, dtype=object), seeds, targets)


def cold_slice(cases: HeldoutCases, song_codes: np.ndarray, warm_songs: np.ndarray) -> HeldoutCases:
    """The cases scored only on targets whose song had no training listening; cases left with
    no such target are dropped."""
    keep_ids, keep_seeds, keep_targets = [], [], []
    warm = set(np.asarray(warm_songs).tolist())
    for session, seeds, targets in zip(cases.session_ids, cases.seeds, cases.targets, strict=True):
        cold = targets[[song_codes[t] not in warm for t in targets]]
        if len(cold):
            keep_ids.append(session)
            keep_seeds.append(seeds)
            keep_targets.append(cold)
    return HeldoutCases(np.asarray(keep_ids, dtype=object), keep_seeds, keep_targets)


def case_metrics(recommended: np.ndarray, target_songs: np.ndarray, song_codes: np.ndarray):
    """(R-precision, NDCG@K, recall@K, hit@HIT_K) of one ranked list against target songs."""
    songs = song_codes[np.asarray(recommended[:K], dtype=np.int64)]
    # Membership by binary search in the sorted targets: np.isin's setup cost per call was a
    # tenth of the held-out evaluation (same booleans).
    targets = np.sort(target_songs)
    found = np.minimum(np.searchsorted(targets, songs), max(len(targets) - 1, 0))
    relevant = targets[found] == songs if len(targets) else np.zeros(len(songs), dtype=bool)
    n_targets = len(target_songs)
    discounts = _DISCOUNTS
    dcg = float(discounts[: len(relevant)][relevant].sum())
    ideal = float(discounts[: min(n_targets, K)].sum())
    return (
        float(relevant[:n_targets].sum()) / n_targets,
        dcg / ideal,
        float(relevant.sum()) / n_targets,
        float(relevant[:HIT_K].any()),
    )


def evaluate_recommender(
    cases: HeldoutCases, recommend: Recommender, song_codes: np.ndarray
) -> dict[str, float]:
    """Mean LISTENING_METRICS over the cases (NaN when there are none) plus ``cases``."""
    if not len(cases):
        return {**dict.fromkeys(LISTENING_METRICS, float("nan")), "cases": 0}
    scores = np.asarray(
        [
            case_metrics(recommend(seeds), np.unique(song_codes[targets]), song_codes)
            for seeds, targets in zip(cases.seeds, cases.targets, strict=True)
        ]
    )
    means = scores.mean(axis=0)
    return {
        "r_precision": float(means[0]),
        "ndcg": float(means[1]),
        "recall": float(means[2]),
        "hit": float(means[3]),
        "cases": len(cases),
    }


@dataclass(frozen=True, slots=True)
class _Candidate:
    """What fuse_reciprocal_rank reads of a track: its song (and the row to hand back)."""

    id: int
    song_id: int


def fuse_seed_lists(
    seeds: np.ndarray, lists: list[np.ndarray], song_codes: np.ndarray, limit: int = K
) -> np.ndarray:
    """The API's merge of one candidate list per seed (catalogue rows, best first): seeds and
    their variants removed, reciprocal rank fusion, one track per song. Returns ranked rows."""
    seed_songs = set(song_codes[seeds].tolist())
    seed_rows = set(np.asarray(seeds).tolist())
    seed_lists = []
    for seed_row, rows in zip(seeds, lists, strict=True):
        candidates, seen = [], set(seed_songs)
        for r, s in zip(rows.tolist(), song_codes[rows].tolist(), strict=True):
            # stored lists hold one track per song (the neighbour contract); baselines' too
            if r not in seed_rows and s not in seen:
                seen.add(s)
                candidates.append((0.0, _Candidate(r, s)))
        seed_lists.append(SeedList(str(seed_row), "TRACK", len(rows), candidates))
    fused = fuse_reciprocal_rank(seed_lists, limit)
    return np.asarray([candidate.id for _, candidate in fused], dtype=np.int64)


def neighbour_recommender(positions: np.ndarray, song_codes: np.ndarray) -> Recommender:
    """A model's stored lists: ``positions`` (n, width) catalogue rows, padded with n."""
    n = positions.shape[0]

    def recommend(seeds: np.ndarray) -> np.ndarray:
        lists = [row[row < n] for row in positions[seeds]]
        return fuse_seed_lists(seeds, lists, song_codes)

    return recommend


def popularity_order(train_events: pd.DataFrame, tracks: pd.DataFrame) -> np.ndarray:
    """Catalogue rows by training listening (summed positive weight), then catalogue
    popularity, most popular first."""
    weights = session_item_weights(train_events)
    listened = weights.groupby(schema.LS_TRACK_ID)[schema.LS_WEIGHT].sum()
    score = listened.reindex(tracks[schema.TRACK_ID]).fillna(0.0).to_numpy()
    popularity = tracks[schema.POPULARITY].to_numpy(dtype=np.float64)
    return np.lexsort((np.arange(len(tracks)), -popularity, -score))


def most_popular_recommender(order: np.ndarray, song_codes: np.ndarray) -> Recommender:
    """The same list for every session: the most popular songs, seeds' songs left out."""
    _, first = np.unique(song_codes[order], return_index=True)
    by_song = order[np.sort(first)][: K + 2 * N_SEEDS]

    def recommend(seeds: np.ndarray) -> np.ndarray:  # one list: fusion would keep its order
        return by_song[~np.isin(song_codes[by_song], song_codes[seeds])][:K]

    return recommend


def seed_artist_recommender(
    tracks: pd.DataFrame, order: np.ndarray, song_codes: np.ndarray
) -> Recommender:
    """Each seed's list = the tracks of the seed's artists, most popular first; then fused."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    by_artist: dict[str, list[int]] = {}
    for row in order:
        for artist in tracks[schema.ARTISTS].iat[row]:
            by_artist.setdefault(artist, []).append(int(row))
    artists = tracks[schema.ARTISTS].to_numpy(dtype=object)

    def recommend(seeds: np.ndarray) -> np.ndarray:
        lists = []
        for seed in seeds:
            rows = {r for a in artists[seed] for r in by_artist.get(a, [])[: 2 * K]}
            lists.append(np.asarray(sorted(rows, key=rank.__getitem__), dtype=np.int64))
        return fuse_seed_lists(seeds, lists, song_codes)

    return recommend
