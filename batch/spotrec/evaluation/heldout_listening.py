"""Held-out listening for a whole build: every model and both baselines, all targets and the
cold-start slice; plus the honest audio-similarity figure. Used by the build's default-model
choice (selection.py) and by the report, so both score the same cases the same way.

The protocol and the metrics are in evaluation/listening.py.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening import session_item_weights
from spotrec.evaluation import listening as le
from spotrec.evaluation.seed_fusion import batch_recommender

log = logging.getLogger(__name__)
MAX_CASES = 5_000  # a seeded sample of held-out sessions: metric noise ~0.005 at this size
AUDIO_SAMPLE = 5_000
BASELINES = {
    "most popular (baseline)": "the most popular tracks in training listening",
    "seed artists' most popular (baseline)": "each seed's artists' most popular tracks, fused",
}


def _song_codes(tracks: pd.DataFrame) -> np.ndarray:
    return pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)


def evaluate_heldout_listening(
    tracks: pd.DataFrame,
    positions: dict[str, np.ndarray],
    train_events: pd.DataFrame,
    heldout_events: pd.DataFrame,
    *,
    max_cases: int | None = MAX_CASES,
    seed: int = 0,
    baselines: bool = True,
) -> dict:
    """{"cases", "cold_cases", "models": {name: {"all": metrics, "cold": metrics}},
    "baselines": {...same...}}. ``positions``: model -> (n, width) catalogue rows padded with n
    (NeighbourLists.positions)."""
    songs = _song_codes(tracks)
    track_ids = tracks[schema.TRACK_ID]
    cases = le.heldout_cases(heldout_events, track_ids, songs, max_cases=max_cases, seed=seed)
    warm_tracks = session_item_weights(train_events)[schema.LS_TRACK_ID].unique()
    warm_rows = pd.Index(track_ids).get_indexer(warm_tracks)
    cold = le.cold_slice(cases, songs, np.unique(songs[warm_rows[warm_rows >= 0]]))
    recommenders = {
        name: batch_recommender(p, songs, cases.seeds, le.K) for name, p in positions.items()
    }
    extra = {}
    if baselines:
        order = le.popularity_order(train_events, tracks)
        names = list(BASELINES)
        extra[names[0]] = le.most_popular_recommender(order, songs)
        extra[names[1]] = remembered(le.seed_artist_recommender(tracks, order, songs))
    results: dict = {"cases": len(cases), "cold_cases": len(cold), "models": {}, "baselines": {}}
    for group, table in (("models", recommenders), ("baselines", extra)):
        for name, recommend in table.items():
            log.info("held-out listening: %s on %d sessions", name, len(cases))
            results[group][name] = {
                "all": le.evaluate_recommender(cases, recommend, songs),
                "cold": le.evaluate_recommender(cold, recommend, songs),
            }
    return results


def read_evaluation_listening(build_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training events, held-out events) of a build. Of the training events only what the
    evaluation reads (which tracks had listening), as categoricals: at 9M events (100k
    sessions) that is 6 CPU s and 1.2 GB peak instead of 11 CPU s and 1.6 GB for all columns
    as strings (docs/performance.md, Session 5); the warm tracks found are the same."""
    columns = [schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT]
    return (
        pd.read_parquet(
            build_dir / schema.LISTENING_TRAIN_FILE, columns=columns, read_dictionary=columns
        ),
        pd.read_parquet(build_dir / schema.LISTENING_HELDOUT_FILE),
    )


def remembered(recommend: le.Recommender) -> le.Recommender:
    """``recommend`` computed once per seed set: the cold slice's cases are the same sessions
    (same seeds, fewer targets), so their fused lists are the all-target cases' (a third of
    the held-out evaluation's time went to fusing them again)."""
    done: dict[bytes, np.ndarray] = {}

    def recommend_once(seeds: np.ndarray) -> np.ndarray:
        key = np.asarray(seeds, dtype=np.int64).tobytes()
        if key not in done:
            done[key] = recommend(seeds)
        return done[key]

    return recommend_once


@dataclass(frozen=True)
class SyntheticListening:
    """Planted synthetic listening over a catalogue, split by session and turned into held-out
    cases: the setup the tuning scripts share (scripts/tune_*.py, eval_learned_listening.py)."""

    tracks: pd.DataFrame
    song_codes: np.ndarray
    train: pd.DataFrame  # training events
    heldout: pd.DataFrame  # held-out events
    weights: pd.DataFrame  # session_item_weights(train): all any model may see
    cases: le.HeldoutCases
    cold_cases: le.HeldoutCases  # the same cases, scored on targets without training listening
    warm_songs: np.ndarray

    @property
    def seeds(self) -> np.ndarray:
        """The catalogue rows whose lists the cases read (lists for others are never needed)."""
        return np.unique(np.concatenate(self.cases.seeds))

    def score(self, indices: np.ndarray) -> dict[str, float]:
        """All-target metrics plus ``cold_*`` ones of (n, width) lists (-1 = empty slot)."""
        positions = np.where(indices < 0, indices.shape[0], indices)
        return self.score_recommender(
            batch_recommender(positions, self.song_codes, self.cases.seeds, le.K)
        )

    def score_recommender(self, recommend: le.Recommender) -> dict[str, float]:
        recommend = remembered(recommend)  # the cold cases reuse the all-target cases' lists
        every = le.evaluate_recommender(self.cases, recommend, self.song_codes)
        cold = le.evaluate_recommender(self.cold_cases, recommend, self.song_codes)
        return {**every, **{f"cold_{k}": v for k, v in cold.items()}}


def synthetic_listening(
    tracks: pd.DataFrame,
    sessions: int,
    *,
    seed: int = 0,
    heldout_share: float = 0.1,
    max_cases: int | None = MAX_CASES,
) -> SyntheticListening:
    """Plant ``sessions`` listening sessions over ``tracks`` (data/listening/planted.py), write
    them as an events log and read it back through load_listening (as a user's file is), split
    by session, and build the held-out cases and their cold slice."""
    from spotrec.data.listening import load_listening, split_sessions
    from spotrec.data.listening.planted import events_log, generate_sessions

    planted = generate_sessions(tracks, sessions, seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        events_log(tracks, planted).to_csv(path, index=False)
        events = load_listening([path], tracks).events
    train, held = split_sessions(events, heldout_share=heldout_share, seed=seed)
    weights = session_item_weights(train)
    songs = _song_codes(tracks)
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    cases = le.heldout_cases(held, track_ids, songs, max_cases=max_cases, seed=seed)
    warm_rows = pd.Index(track_ids).get_indexer(weights[schema.LS_TRACK_ID].unique())
    warm_songs = np.unique(songs[warm_rows[warm_rows >= 0]])
    cold = le.cold_slice(cases, songs, warm_songs)
    return SyntheticListening(tracks, songs, train, held, weights, cases, cold, warm_songs)


def seed_top_n(
    embeddings: np.ndarray, song_codes: np.ndarray, seeds: np.ndarray, depth: int
) -> np.ndarray:
    """(n, depth) catalogue rows, -1 padded: exact top-``depth`` lists (variants excluded, as
    the build's) of the ``seeds`` rows only; every other row stays empty."""
    from spotrec.neighbours import exact_top_n

    n = len(embeddings)
    order = np.concatenate([seeds, np.setdiff1d(np.arange(n), seeds)])  # seeds first: 1 range
    found, _ = exact_top_n(
        embeddings[order], song_codes[order], depth, query_range=(0, len(seeds)), progress=False
    )
    lists = np.full((n, depth), -1, dtype=np.int64)
    lists[seeds] = np.where(found >= 0, order[np.clip(found, 0, None)], -1)
    return lists


def audio_only_genre_precision(
    tracks: pd.DataFrame, k: int = 10, sample: int = AUDIO_SAMPLE, seed: int = 0
) -> dict:
    """Genre precision@k of plain cosine over the standardized audio features alone (no genre,
    no artist input), on a seeded sample of seeds: the honest audio-similarity figure. Self and
    variants (same song) are excluded, as in every stored list."""
    from spotrec.evaluation.metrics import Catalogue

    catalogue = Catalogue.from_tracks(tracks)
    n = catalogue.size
    features = catalogue.unit_features[:n].astype(np.float32)
    songs = catalogue.song_codes[:n]
    rng = np.random.default_rng(seed)
    seeds = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    hits = []
    for start in range(0, len(seeds), 512):
        batch = seeds[start : start + 512]
        similarity = features[batch] @ features.T
        similarity[songs[batch][:, None] == songs[None, :]] = -np.inf  # self and variants
        width = min(k, n - 1)
        top = np.argpartition(-similarity, width - 1, axis=1)[:, :width]
        shared = (catalogue.genre_bits[batch][:, None, :] & catalogue.genre_bits[top]).any(axis=2)
        valid = np.take_along_axis(similarity, top, axis=1) > -np.inf
        hits.append((shared & valid).sum(axis=1) / k)
    return {"genre_precision": float(np.concatenate(hits).mean()), "seeds": len(seeds), "k": k}
