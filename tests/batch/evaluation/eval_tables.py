"""Tiny hand-made catalogues and neighbour tables for the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema


def make_tracks(rows: list[dict]) -> pd.DataFrame:
    """A tracks table (schema.TRACK_COLUMNS) from a few fields per row; the rest get defaults.
    Each row needs id, genres, artists, song; optional features dict and holdout."""
    records = []
    for i, row in enumerate(rows):
        features = {name: 0.5 for name in schema.AUDIO_FEATURES}
        features.update(
            {"key": 1, "mode": 1, "tempo": 120.0, "loudness": -8.0, "time_signature": 4}
        )
        features.update(row.get("features", {}))
        records.append(
            {
                schema.TRACK_ID: row["id"],
                schema.NAME: row.get("name", f"song {row['song']}"),
                schema.ARTISTS: list(row["artists"]),
                schema.ALBUM: "album",
                schema.POPULARITY: row.get("popularity", 10 * i),
                schema.DURATION_MS: 200_000,
                schema.EXPLICIT: row.get("explicit", i % 2 == 0),
                **features,
                schema.GENRES: sorted(row["genres"]),
                schema.SONG_ID: row["song"],
                schema.HOLDOUT: row.get("holdout", False),
                schema.FIRST_ROW: i,
            }
        )
    return pd.DataFrame(records, columns=list(schema.TRACK_COLUMNS))


def make_neighbours(lists: dict[str, list[str]]) -> pd.DataFrame:
    """Long-format neighbours from {seed: [nearest, next, ...]}, scores decreasing with rank."""
    rows = [
        (seed, rank, neighbour, np.float32(1.0 - 0.1 * rank))
        for seed, ids in lists.items()
        for rank, neighbour in enumerate(ids, start=1)
    ]
    frame = pd.DataFrame(rows, columns=list(schema.NEIGHBOUR_COLUMNS))
    return frame.astype({schema.NB_RANK: "int32", schema.NB_SCORE: "float32"})


# Six tracks. E is a variant of A (same song s1). D has no artists. A is multi-genre.
SIX_TRACKS = [
    {"id": "A", "genres": ["pop", "rock"], "artists": ["X"], "song": "s1"},
    {"id": "B", "genres": ["pop"], "artists": ["X"], "song": "s2"},
    {"id": "C", "genres": ["jazz"], "artists": ["Y"], "song": "s3"},
    {"id": "D", "genres": ["rock"], "artists": [], "song": "s4"},
    {"id": "E", "genres": ["jazz"], "artists": ["X"], "song": "s1"},
    {"id": "F", "genres": ["metal"], "artists": ["Y", "Z"], "song": "s5"},
]


def varied_features(i: int) -> dict:
    """Audio features that differ from track to track (for charts and correlations)."""
    return {
        "danceability": 0.1 + 0.13 * (i % 7),
        "energy": 0.9 - 0.11 * (i % 5),
        "loudness": -3.0 - 2.5 * i,
        "tempo": 90.0 + 7 * i,
        "mode": i % 2,
        "valence": 0.2 + 0.05 * i,
    }


# k = 3. B's list is short (2). E lists its own variant A; F lists A and E, two tracks of s1.
SIX_LISTS = {
    "A": ["B", "C", "D"],
    "B": ["C", "A"],
    "C": ["F", "D", "A"],
    "D": ["A", "B", "C"],
    "E": ["A", "B", "F"],
    "F": ["C", "A", "E"],
}
