"""Synthetic listening with planted tastes, for the co-listening and build tests.

Each taste takes the same share of every planted cluster (tests/factories.py: a cluster shares
genre AND audio), so a taste cuts across genres and artists: content alone cannot tell which
tracks a listener of a taste plays, and co-listening can. Sessions draw tracks of one taste,
with a skewed popularity inside the taste.

pandas/numpy are imported inside the functions (see factories.py).
"""

from __future__ import annotations

from typing import Any


def assign_tastes(clusters, n_tastes: int, seed: int = 0):
    """Planted taste of every catalogue row: each cluster's tracks dealt round-robin in a
    random order, so every taste holds tracks of every cluster."""
    import numpy as np

    rng = np.random.default_rng(seed)
    tastes = np.empty(len(clusters), dtype=np.int64)
    for cluster in np.unique(clusters):
        rows = np.flatnonzero(clusters == cluster)
        rng.shuffle(rows)
        tastes[rows] = np.arange(len(rows)) % n_tastes
    return tastes


def planted_sessions(
    track_ids,
    tastes,
    n_sessions: int = 400,
    length: tuple[int, int] = (8, 16),
    seed: int = 0,
    prefix: str = "s",
) -> Any:
    """Events (session_id, track_id, event="add", position) of sessions of one taste each."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    track_ids = np.asarray(track_ids)
    members = [np.flatnonzero(tastes == t) for t in range(int(tastes.max()) + 1)]
    rows = []
    for s in range(n_sessions):
        pool = members[s % len(members)]
        popularity = 1.0 / np.arange(1, len(pool) + 1) ** 0.6  # skewed within the taste
        size = min(int(rng.integers(*length)), len(pool))
        picked = rng.choice(pool, size=size, replace=False, p=popularity / popularity.sum())
        for position, row in enumerate(picked):
            rows.append((f"{prefix}{s:05d}", track_ids[row], "add", position))
    return pd.DataFrame(rows, columns=["session_id", "track_id", "event", "position"])


def as_weights(events) -> Any:
    """The session_item_weights shape (session_id, track_id, weight float32) for "add" events,
    without the listening package: one unit of weight per (session, track)."""
    import numpy as np

    grouped = events.groupby(["session_id", "track_id"], sort=False).size()
    frame = grouped.rename("weight").reset_index()
    frame["weight"] = frame["weight"].astype(np.float32)
    return frame
