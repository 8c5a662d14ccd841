"""models/trend_lists.py on hand-made lists: the trending order and the tie-breaker's reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotrec.models.trend_lists import tie_break, trend_share, trend_table, trending_lists

# Two lists over a catalogue of 6 rows; row 1's second list has an empty slot.
INDICES = np.array([[1, 2, 3, 4, 5], [0, 5, 4, 3, -1]])
SCORES = np.array([[0.9, 0.8, 0.7, 0.6, 0.5], [0.5, 0.4, 0.3, 0.2, -np.inf]], dtype=np.float32)
SHARE = np.array([0.0, 0.0, 0.0, 0.5, 0.0, 1.0])  # rows 5 (most) and 3 are rising


def test_trending_lists_put_rising_neighbours_first_and_keep_the_rest_in_order():
    indices, scores = trending_lists(INDICES, SHARE)
    assert indices.tolist() == [[5, 3, 1, 2, 4], [5, 3, 0, 4, -1]]
    assert scores[0].tolist() == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert scores[1, -1] == -np.inf


def test_the_tie_breaker_moves_a_track_about_weight_places_and_never_changes_the_set():
    # Step = 0.1 per rank in list 0: row 5 (share 1) gains 0.1 * weight.
    for weight, expected in (
        (0.0, [1, 2, 3, 4, 5]),
        (1.5, [1, 2, 3, 5, 4]),
        (3.5, [1, 3, 5, 2, 4]),
    ):
        indices, scores = tie_break(INDICES, SCORES, SHARE, weight)
        assert indices[0].tolist() == expected
        assert sorted(indices[1].tolist()) == sorted(INDICES[1].tolist())
        assert indices[1, -1] == -1  # the empty slot stays last
        valid = indices >= 0
        assert all(np.all(np.diff(s[v]) <= 0) for s, v in zip(scores, valid, strict=True))


def test_exact_ties_go_to_the_rising_track():
    tied = np.full((1, 3), 0.5, dtype=np.float32)
    indices, _ = tie_break(np.array([[0, 1, 3]]), tied, SHARE, 1.0)
    assert indices.tolist() == [[3, 0, 1]]


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        tie_break(INDICES, SCORES, SHARE, -1.0)


def test_trend_share_scales_by_the_largest_rise_and_ignores_unknown_tracks():
    day = pd.Timestamp("2026-01-01", tz="UTC")
    plays = [("a", 0, 1), ("a", 1, 5), ("b", 0, 1), ("b", 1, 3), ("zz", 0, 0), ("zz", 1, 9)]
    events = pd.DataFrame(
        [
            {"track_id": t, "event": "play", "timestamp": day + pd.Timedelta(days=d, hours=h)}
            for t, d, n in plays
            for h in range(n)
        ]
    )
    table = trend_table(events, now=day + pd.Timedelta(days=2))
    share = trend_share(table, ["b", "a", "c"])
    assert share.tolist() == pytest.approx([2 / 9, 4 / 9, 0.0])  # zz (9) is not in the catalogue


def test_trending_lists_in_row_blocks_equal_one_block():
    rng = np.random.default_rng(0)
    n, width = 97, 12
    indices = rng.integers(0, n, (n, width))
    indices[rng.random((n, width)) < 0.15] = -1
    share = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    share[:5] = 0.5  # exact ties keep the given order
    whole = trending_lists(indices, share, block_rows=n)
    for block_rows in (1, 10, 64):
        blocked = trending_lists(indices, share, block_rows=block_rows)
        np.testing.assert_array_equal(blocked[0], whole[0])
        np.testing.assert_array_equal(blocked[1], whole[1])
    assert (whole[0] >= 0).sum() == (indices >= 0).sum()  # no neighbour enters or leaves
