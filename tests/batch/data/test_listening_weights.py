"""session_item_weights and split_sessions: hand-computed weights, whole-session splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotrec import schema
from spotrec.data.listening import EVENT_WEIGHTS, session_item_weights, split_sessions

T0 = pd.Timestamp("2024-03-01T00:00:00Z")


def events(rows: list[tuple]) -> pd.DataFrame:
    """rows of (session, track, event, days before T0 or None)."""
    return pd.DataFrame(
        {
            schema.LS_SESSION_ID: [r[0] for r in rows],
            schema.LS_TRACK_ID: [r[1] for r in rows],
            schema.LS_EVENT: [r[2] for r in rows],
            schema.LS_TIMESTAMP: pd.Series(
                [pd.NaT if r[3] is None else T0 - pd.Timedelta(days=r[3]) for r in rows],
                dtype="datetime64[ns, UTC]",
            ),
            schema.LS_POSITION: np.arange(len(rows), dtype=np.int32),
        }
    )


def as_dict(weights: pd.DataFrame) -> dict:
    return {
        (s, t): float(w)
        for s, t, w in weights[list(schema.LISTENING_WEIGHT_COLUMNS)].itertuples(index=False)
    }


def test_weights_sum_events_and_drop_skipped_pairs():
    table = events(
        [
            ("s1", "a", "play", 0),
            ("s1", "a", "play", 0),
            ("s1", "b", "like", 0),
            ("s1", "c", "play", 0),
            ("s1", "c", "skip", 0),  # play then skip: 0, not co-listening
            ("s1", "d", "skip", 0),
            ("s2", "a", "save", 0),
            ("s2", "e", "add", None),
        ]
    )
    weights = session_item_weights(table)
    assert list(weights.columns) == list(schema.LISTENING_WEIGHT_COLUMNS)
    assert weights[schema.LS_WEIGHT].dtype == np.float32
    assert as_dict(weights) == {
        ("s1", "a"): 2.0,
        ("s1", "b"): EVENT_WEIGHTS["like"],
        ("s2", "a"): EVENT_WEIGHTS["save"],
        ("s2", "e"): 1.0,
    }


def test_recency_half_life_halves_weight_per_half_life():
    table = events(
        [
            ("s1", "new", "play", 0),
            ("s1", "old", "play", 10),
            ("s1", "older", "like", 20),
            ("s1", "undated", "play", None),
        ]
    )
    weights = as_dict(session_item_weights(table, half_life_days=10))
    assert weights[("s1", "new")] == pytest.approx(1.0)
    assert weights[("s1", "old")] == pytest.approx(0.5)
    assert weights[("s1", "older")] == pytest.approx(2.0 * 0.25)
    assert weights[("s1", "undated")] == pytest.approx(1.0)
    later = as_dict(session_item_weights(table, half_life_days=10, now=T0 + pd.Timedelta(days=10)))
    assert later[("s1", "new")] == pytest.approx(0.5)


def test_split_holds_out_whole_sessions_deterministically():
    rows = [(f"s{i}", f"t{j}", "play", 0) for i in range(2000) for j in range(3)]
    table = events(rows)
    train, heldout = split_sessions(table, heldout_share=0.1, seed=0)
    train_sessions = set(train[schema.LS_SESSION_ID])
    held_sessions = set(heldout[schema.LS_SESSION_ID])
    assert not train_sessions & held_sessions
    assert len(train) + len(heldout) == len(table)
    assert heldout.groupby(schema.LS_SESSION_ID).size().eq(3).all()  # never split by event
    assert 0.08 < len(held_sessions) / 2000 < 0.12
    again = split_sessions(table.sample(frac=1.0, random_state=1), heldout_share=0.1, seed=0)[1]
    assert set(again[schema.LS_SESSION_ID]) == held_sessions  # order does not matter
    more = events([*rows, ("new", "t0", "play", 0)])
    assert held_sessions <= set(split_sessions(more, heldout_share=0.1)[1][schema.LS_SESSION_ID])
    other = set(split_sessions(table, heldout_share=0.1, seed=1)[1][schema.LS_SESSION_ID])
    assert other != held_sessions


def test_build_dir_files_round_trip(tmp_path):
    from spotrec.data.listening import (
        ListeningResult,
        has_listening,
        read_listening,
        read_listening_stats,
        write_listening,
    )

    table = events([(f"s{i}", f"t{i % 7}", "play", i) for i in range(300)])
    result = ListeningResult(table, pd.DataFrame(columns=schema.LISTENING_REJECT_COLUMNS), {})
    assert not has_listening(tmp_path)
    train, heldout = write_listening(tmp_path, result, heldout_share=0.2, seed=3)
    assert has_listening(tmp_path)
    read_train, read_heldout = read_listening(tmp_path)
    pd.testing.assert_frame_equal(read_train, train)
    pd.testing.assert_frame_equal(read_heldout, heldout)
    stats = read_listening_stats(tmp_path)
    assert stats["train_sessions"] + stats["heldout_sessions"] == 300
    assert stats["heldout_sessions"] == heldout[schema.LS_SESSION_ID].nunique() > 0
    assert (tmp_path / schema.LISTENING_REJECTS_FILE).is_file()
