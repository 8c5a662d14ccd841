"""evaluation/trend_split.py: whole sessions split by time; a tie-break weight judged on the
sessions after the cutoff (a hand-made world where the answer is known)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.evaluation.trend_split import evaluate_tie_break_weights, split_by_time

DAY = pd.Timestamp("2026-02-01", tz="UTC")
N, RISING = 20, 15


def events(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    """(session, track row, hours after DAY) -> play events with positions in time order."""
    frame = pd.DataFrame(rows, columns=["session_id", "row", "hours"])
    return pd.DataFrame(
        {
            schema.LS_SESSION_ID: frame["session_id"],
            schema.LS_TRACK_ID: [f"t{r:02d}" for r in frame["row"]],
            schema.LS_EVENT: "play",
            schema.LS_TIMESTAMP: DAY + pd.to_timedelta(frame["hours"], unit="h"),
            schema.LS_POSITION: frame.groupby("session_id").cumcount().astype(np.int32),
        }
    )


def test_sessions_stay_whole_on_the_side_of_their_first_event():
    log = events([("a", 0, 1), ("a", 1, 30), ("b", 2, 25), ("c", 3, 23.5), ("c", 4, 24.5)])
    before, after = split_by_time(log, DAY + pd.Timedelta(hours=24))
    assert set(before["session_id"]) == {"a", "c"} and list(after["session_id"]) == ["b"]
    assert len(before) == 4  # a's and c's late events stay with their sessions


def test_a_weight_that_lifts_the_rising_target_scores_better_after_the_cutoff():
    tracks = pd.DataFrame(
        {
            schema.TRACK_ID: [f"t{r:02d}" for r in range(N)],
            schema.SONG_ID: [f"s{r}" for r in range(N)],
        }
    )
    # Every track's plain list: the other tracks in row order, fused scores falling with rank.
    indices = np.array([[r for r in range(N) if r != row] for row in range(N)])
    scores = np.tile(1.0 / (60 + np.arange(1, N)), (N, 1)).astype(np.float32)
    # Before: RISING goes from 1 play on day 0 to 4 on day 1; row 19 is steady.
    plays = [("x", RISING, 1), ("x", 19, 2)] + [(f"y{i}", RISING, 26 + i) for i in range(4)]
    before = events([*plays, ("z", 19, 27)])
    # After: one session, seeds 0-4, targets RISING and 19.
    after = events([("after", r, 49 + r / 10) for r in (0, 1, 2, 3, 4, RISING, 19)])
    result = evaluate_tie_break_weights(
        tracks,
        indices,
        scores,
        before,
        after,
        [0, 8],
        cutoff=DAY + pd.Timedelta(hours=48),
        focus=[f"t{RISING:02d}"],
    )
    assert result["cases"] == 1 and result["rising_tracks"] == 1
    plain, tied = result["weights"][0.0], result["weights"][8.0]
    assert plain["focus"]["mean_rank"] == RISING - 5 + 1  # after rows 5..14 of the merge
    assert tied["focus"]["mean_rank"] < plain["focus"]["mean_rank"]
    assert tied["all"]["ndcg"] > plain["all"]["ndcg"]
