"""Time-split evaluation of the hybrid's trend tie-breaker: does lifting the tracks that were
rising at build time bring back what listeners play AFTER the build? Pure functions.

Why not the held-out listening protocol (evaluation/listening.py): it holds out sessions at
random across the whole log, so the held-out sessions share the training sessions' days. A
trend read at the end of the log cannot be judged on them: a track rising in the training
sessions is rising in the held-out ones by construction, whether or not the rise goes on. A
trend is a forecast, so it is judged on the future:

* **Split by time, by whole session**: a session whose first event is at or after ``cutoff``
  is "after", every other session "before" (``split_by_time``). The build is made from the
  "before" sessions only, and the trend is read at the cutoff from the same sessions.
* **Cases**: the "after" sessions, exactly as evaluation/listening.py makes them (first 5
  songs seeds, the rest of the session targets; ``max_cases`` a seeded sample).
* **Per weight**: the build's plain hybrid lists tie-broken with that weight
  (models/trend_lists.tie_break), merged as the API merges seeds; NDCG@100, R-precision,
  recall@100, hit@10, all targets and the cold slice (targets with no "before" listening).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening import session_item_weights
from spotrec.evaluation import listening as le
from spotrec.models.trend_lists import tie_break, trend_share, trend_table


def split_by_time(events: pd.DataFrame, cutoff) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(before, after): whole sessions, by the time of each session's first event. Sessions
    without any timestamp stay "before" (nothing says they are recent)."""
    cutoff = pd.Timestamp(cutoff)
    cutoff = cutoff.tz_localize("UTC") if cutoff.tzinfo is None else cutoff
    first = events.groupby(schema.LS_SESSION_ID, observed=True)[schema.LS_TIMESTAMP].transform(
        "min"
    )
    after = (first >= cutoff).to_numpy()
    return events[~after].reset_index(drop=True), events[after].reset_index(drop=True)


def evaluate_tie_break_weights(
    tracks: pd.DataFrame,
    indices: np.ndarray,
    scores: np.ndarray,
    before: pd.DataFrame,
    after: pd.DataFrame,
    weights,
    *,
    cutoff,
    max_cases: int | None = 2_000,
    seed: int = 0,
    focus=(),
) -> dict:
    """{"cases", "cold_cases", "rising_tracks", "weights": {weight: {"all": metrics, "cold":
    metrics, "focus": focus_ranks}}}. ``indices``/``scores``: the plain hybrid lists of a build
    made from ``before`` (catalogue rows, -1 = empty slot). ``focus``: track ids (e.g. tracks
    planted to rise) whose rank in the merged lists is reported where they are targets."""
    track_ids = tracks[schema.TRACK_ID]
    songs = pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)
    share = trend_share(trend_table(before, now=pd.Timestamp(cutoff)), track_ids)
    cases = le.heldout_cases(after, track_ids, songs, max_cases=max_cases, seed=seed)
    warm = pd.Index(track_ids).get_indexer(
        session_item_weights(before)[schema.LS_TRACK_ID].unique()
    )
    cold = le.cold_slice(cases, songs, np.unique(songs[warm[warm >= 0]]))
    n = len(tracks)
    focus_rows = pd.Index(track_ids).get_indexer(list(focus))
    result: dict = {
        "cases": len(cases),
        "cold_cases": len(cold),
        "rising_tracks": int((share > 0).sum()),
        "weights": {},
    }
    for weight in weights:
        broken, _ = tie_break(indices, scores, share, float(weight))
        recommend = le.neighbour_recommender(np.where(broken >= 0, broken, n), songs)
        result["weights"][float(weight)] = {
            "all": le.evaluate_recommender(cases, recommend, songs),
            "cold": le.evaluate_recommender(cold, recommend, songs),
            "focus": focus_ranks(cases, recommend, focus_rows[focus_rows >= 0]),
        }
    return result


def focus_ranks(cases: le.HeldoutCases, recommend: le.Recommender, rows: np.ndarray) -> dict:
    """Where the ``rows`` land when they are a case's targets: mean rank in the merged list
    (K + 1 when missing), share in the top 10, and how many (case, track) pairs were scored."""
    ranks = []
    for seeds, targets in zip(cases.seeds, cases.targets, strict=True):
        wanted = np.intersect1d(targets, rows)
        if len(wanted):
            listed = recommend(seeds)
            for row in wanted:
                at = np.flatnonzero(listed == row)
                ranks.append(int(at[0]) + 1 if len(at) else le.K + 1)
    if not ranks:
        return {"pairs": 0, "mean_rank": float("nan"), "top10": float("nan")}
    ranks = np.asarray(ranks)
    return {
        "pairs": len(ranks),
        "mean_rank": float(ranks.mean()),
        "top10": float((ranks <= 10).mean()),
    }
