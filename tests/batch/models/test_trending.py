"""Trending now (models/trending.py): a planted rising track surfaces after the next build;
a steadily popular one does not; old rises fade."""

from __future__ import annotations

import pandas as pd

from spotrec.models.trending import trending

START = pd.Timestamp("2026-01-01", tz="UTC")


def day_events(day: int, counts: dict[str, int], event: str = "play") -> list[dict]:
    return [
        {"track_id": track, "event": event, "timestamp": START + pd.Timedelta(days=day, hours=h)}
        for track, n in counts.items()
        for h in range(n)
    ]


def build(events: list[dict], day: int) -> pd.DataFrame:
    now = START + pd.Timedelta(days=day + 1)  # the build runs at the end of `day`
    return trending(pd.DataFrame(events), now=now)


def test_a_planted_rising_track_surfaces_after_the_next_build():
    steady = {"hit": 20, "classic": 12, "rising": 1}
    history = [e for d in range(6) for e in day_events(d, steady)]
    before = build(history, day=5)
    assert "rising" not in set(before["track_id"])  # flat counts: nothing is trending
    # Day 6: the rising track goes from 1 to 15 plays; the hit stays at 20 (more plays, no rise).
    after = build(history + day_events(6, {**steady, "rising": 15}), day=6)
    assert after["track_id"].iloc[0] == "rising"
    assert "hit" not in set(after["track_id"])
    row = after.iloc[0]
    assert (row["recent"], row["previous"]) == (15.0, 1.0)


def test_likes_weigh_more_than_plays_and_skips_are_not_popularity():
    events = day_events(0, {"a": 2, "b": 2}) + day_events(1, {"a": 4})
    events += day_events(1, {"b": 4}, event="like") + day_events(1, {"c": 9}, event="skip")
    ranked = build(events, day=1)
    assert list(ranked["track_id"]) == ["b", "a"]  # b: 2 -> 8 (likes x2), a: 2 -> 4; c: none


def test_an_old_rise_fades_behind_a_new_one():
    events = day_events(0, {"old": 1}) + day_events(1, {"old": 10})
    events += [e for d in range(2, 4) for e in day_events(d, {"old": 10})]
    events += day_events(2, {"new": 1}) + day_events(3, {"new": 6})
    ranked = build(events, day=3)
    assert list(ranked["track_id"]) == ["new", "old"]


def test_no_recent_events_means_no_trend():
    stale = build(day_events(0, {"a": 3}), day=30)
    assert stale.empty and list(stale.columns) == ["track_id", "recent", "previous", "trend"]
