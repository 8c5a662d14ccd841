"""The build's trend steps (issue 8 part 5): the ``trending`` model's lists and the hybrid's trend
tie-breaker, from the trend signal of the TRAINING sessions' timestamped events.

train stage:  ``plan_trending`` keeps ``trending`` among the models only when the training
              listening has timestamps (an MPD slice without them has no "per day" to rise in).
finish stage: ``apply_trends`` (one call at the end of listening_build.listening_lists) turns
              the plain hybrid lists into the tie-broken hybrid and the trending lists
              (models/trend_lists.py says what each means). It also writes the trend table,
              listening/trending.parquet, so anyone can see which tracks were rising.

TIE_BREAK_WEIGHT was chosen on a time-split evaluation (evaluation/trend_split.py,
scripts/tune_trend_weight.py; figures and protocol in docs/models.md "Trending"): the held-out
listening protocol splits sessions at random across the whole log, so its held-out sessions
share the training sessions' days and cannot tell a trend that continues from one that stops.
The evaluation chose 0 (off): no weight from 1 to 30 raised NDCG@100 on the sessions after the
cutoff beyond noise, 30 lowered it, and every weight moved the planted rising tracks DOWN,
because day-to-day count noise of popular tracks outranks a real but gentle rise in the trend
signal. The mechanism stays (tested with a weight set by hand) for data where it pays.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.errors import SpotrecError

log = logging.getLogger("spotrec.build")

TRENDING = "trending"
HYBRID, COLISTENING = "hybrid", "colistening"
TREND_TABLE_FILE = "listening/trending.parquet"
# In "places": the catalogue's most rising track moves up about this many ranks in a hybrid
# list; 0 turns the tie-breaker off. 0 is what the evaluation chose (module docstring).
TIE_BREAK_WEIGHT = 0.0


def has_timestamps(events: pd.DataFrame) -> bool:
    return bool(len(events)) and bool(events[schema.LS_TIMESTAMP].notna().any())


def plan_trending(models: list[str], out: Path, *, explicit: bool) -> list[str]:
    """``models`` without ``trending`` when the training listening has no timestamps (a named
    error when the user asked for it by name)."""
    if TRENDING not in models:
        return models
    train = out / schema.LISTENING_TRAIN_FILE
    columns = [schema.LS_TIMESTAMP]
    if train.is_file() and has_timestamps(pd.read_parquet(train, columns=columns)):
        return models
    if explicit:
        raise SpotrecError(
            "trending needs listening events with timestamps (--interactions): the listening "
            "data given has none, so no track can be seen rising"
        )
    log.info("trending: not built, the listening data has no timestamps")
    return [m for m in models if m != TRENDING]


def apply_trends(
    out: Path, models: list[str], made: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"hybrid": tie-broken lists, "trending": lists} for those of them this build makes.
    ``made`` holds the plain listening lists (listening_build.listening_lists)."""
    from spotrec.models.trend_lists import tie_break, trend_share, trend_table, trending_lists

    if TRENDING not in models and not (HYBRID in made and TIE_BREAK_WEIGHT):
        return {}
    # Only what the trend reads: the session ids would add ~0.5 GB at 100k sessions for nothing.
    columns = [schema.LS_TRACK_ID, schema.LS_EVENT, schema.LS_TIMESTAMP]
    train = pd.read_parquet(out / schema.LISTENING_TRAIN_FILE, columns=columns)
    track_ids = pd.read_parquet(out / schema.TRACKS_FILE, columns=[schema.TRACK_ID])
    table = trend_table(train)
    table.to_parquet(out / TREND_TABLE_FILE, index=False)
    share = trend_share(table, track_ids[schema.TRACK_ID])
    log.info("trending: %d tracks rising in the training listening", int((share > 0).sum()))
    result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if TRENDING in models:
        base = made.get(HYBRID) or made.get(COLISTENING)
        if base is None:
            raise SpotrecError("trending re-orders the hybrid's lists: add hybrid to --models")
        result[TRENDING] = trending_lists(base[0], share)
    if HYBRID in made:
        result[HYBRID] = tie_break(*made[HYBRID], share, TIE_BREAK_WEIGHT)
    return result
