"""Trending now: which tracks' interactions are rising fastest, from recent listening events.

In Amazon Personalize's sense ("Trending-Now"): not the most popular tracks, but the ones whose
interaction count grows most from one interval to the next. Computed at each build from the
events log (the `spotrec events export` output, or any log `--interactions` reads).

What it learns and from what: nothing about similarity. It is a per-build popularity lookup
over the last few intervals of events; it knows nothing of audio or genre, and a track with no
recent events has no trend. It must not be presented as a similarity model.

Definition, with interval length I (default 1 day) ending at ``now``:

    count_k(track) = sum of event weights in interval k (k = 0 is the newest: (now - I, now])
    trend(track)   = sum over k = 0 .. n-2 of DECAY**k * (count_k - count_{k+1})

so a rise in the newest interval counts fully and older rises fade (time decay). Weights:
play/add 1, like/save 2 (listening-contract EVENT_WEIGHTS); skips count 0 here, since a skip is
an interaction the listener did not want, not popularity. Tracks with trend <= 0 are dropped,
and a log whose events all fall in one interval has no trend.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

POPULARITY_WEIGHTS = {"add": 1.0, "play": 1.0, "like": 2.0, "save": 2.0, "skip": 0.0}
DEFAULT_INTERVAL = timedelta(days=1)
DEFAULT_INTERVALS = 7
DECAY = 0.5
TREND_COLUMNS = ("track_id", "recent", "previous", "trend")


def trending(
    events: pd.DataFrame,
    *,
    now: datetime | pd.Timestamp | None = None,
    interval: timedelta = DEFAULT_INTERVAL,
    intervals: int = DEFAULT_INTERVALS,
    decay: float = DECAY,
    top_n: int | None = 100,
) -> pd.DataFrame:
    """Tracks by decayed increase in interactions per interval, best first.

    ``events``: columns track_id, event, timestamp (datetime64 UTC; NaT rows are ignored, as
    they cannot be placed in an interval). ``now`` defaults to the newest timestamp. Returns
    TREND_COLUMNS: recent = count_0, previous = count_1, trend as in the module doc.
    """
    if intervals < 2:
        raise ValueError("trending needs at least 2 intervals to see an increase")
    # Integer codes and one bincount instead of a pivot table over the events' string ids: at
    # 9M events (100k sessions) the pivot and its object strings held ~3 GB at the build's
    # peak (docs/performance.md, Session 5). Weights are small integers (POPULARITY_WEIGHTS),
    # so every count and rise is exact whatever the summation order: the table is the same.
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    known = stamps.notna().to_numpy()
    if not known.any():
        return _empty()
    end = pd.Timestamp(now) if now is not None else stamps.max()
    if end.tzinfo is None:
        end = end.tz_localize("UTC")
    age = ((end - stamps) / pd.Timedelta(interval)).to_numpy(dtype="float64")[known]
    # An event exactly at `now` is in interval 0; (now - I, now] -> 0, (now - 2I, now - I] -> 1.
    bucket = np.ceil(age).astype("int64") - 1
    bucket[age == 0] = 0
    del age
    track_codes, track_names = pd.factorize(events["track_id"])
    track_codes = track_codes[known]
    keep = (bucket >= 0) & (bucket < intervals) & (track_codes >= 0)
    if not keep.any():
        return _empty()
    event_codes, event_names = pd.factorize(events["event"])
    per_event = pd.Index(event_names).map(POPULARITY_WEIGHTS).to_numpy(dtype="float64")
    per_event = np.append(np.nan_to_num(per_event, nan=0.0), 0.0)  # [-1]: a missing event
    weights = per_event[event_codes[known][keep]]
    track_codes, bucket = track_codes[keep], bucket[keep]
    # Intervals older than the log's first event were not observed: a track is not "rising"
    # from the nothing before the log began, so rises are taken within the observed span only;
    # a log inside one interval shows no change at all (its counts are popularity, not trend).
    observed = int(bucket.max()) + 1
    if observed < 2:
        return _empty()
    present = np.unique(track_codes)  # tracks with a kept event, as the pivot's rows were
    row = np.searchsorted(present, track_codes)
    matrix = np.bincount(
        row * observed + bucket, weights=weights, minlength=len(present) * observed
    ).reshape(len(present), observed)
    rises = matrix[:, :-1] - matrix[:, 1:]
    trend = rises @ (decay ** np.arange(matrix.shape[1] - 1))
    result = pd.DataFrame(
        {
            "track_id": np.asarray(track_names)[present],
            "recent": matrix[:, 0],
            "previous": matrix[:, 1],
            "trend": trend,
        }
    )
    result = result[result["trend"] > 0].sort_values(
        ["trend", "recent", "track_id"], ascending=[False, False, True]
    )
    return result.head(top_n).reset_index(drop=True) if top_n else result.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in TREND_COLUMNS}).astype(
        {"track_id": "object"}
    )
