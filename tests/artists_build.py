"""A tiny build for the artist tests, every answer known by construction.

Nine tracks by five artists ("beyoncé " on B3 is the same artist as "Beyoncé": one identity
key, names.identity_key), one model ("cosine") whose neighbour lists are written by hand below.
pandas is imported inside ``write_artists_build`` (via serve_support) only.
"""

from __future__ import annotations

from pathlib import Path


def tid(name: str) -> str:
    return (name + "0" * 22)[:22]


A1, A2, A3, B1, B2, B3, C1, C2, D1 = (
    tid(n)
    for n in ("adele1", "adele2", "adele3", "bey1", "bey2", "bey3", "cold1", "cold2", "drake1")
)
# id: (name, artists, popularity, genres)
TRACKS = {
    A1: ("Hello", ["Adele"], 80, ["soul"]),
    A2: ("Skyfall", ["Adele"], 60, ["soul"]),
    A3: ("Easy on Me", ["Adele"], 40, ["soul"]),
    B1: ("Halo", ["Beyoncé"], 90, ["pop"]),
    B2: ("Crazy in Love", ["Beyoncé", "JAY-Z"], 70, ["pop", "hip-hop"]),
    B3: ("Formation", ["beyoncé "], 30, ["pop"]),
    C1: ("Yellow", ["Coldplay"], 50, ["rock"]),
    C2: ("Clocks", ["Coldplay"], 45, ["rock"]),
    D1: ("Hotline Bling", ["Drake"], 20, ["hip-hop"]),
}
NEIGHBOURS = {  # rank order (rank 1 first)
    A1: [C1, B1, A2],
    A2: [A1, C2, D1],
    A3: [A1, A2, C1],
    B1: [B2, A1, D1],
    B2: [B1, D1, C1],
    B3: [B1, B2, A1],
    C1: [C2, A1, B1],
    C2: [C1, A2, D1],
    D1: [B2, B1, C2],
}
RUN_ID = "20240101T000000Z-artists"


def track_rows() -> list[dict]:
    from spotrec import schema

    rows = []
    for i, (track_id, (name, artists, popularity, genres)) in enumerate(TRACKS.items()):
        features = {f: 0.5 for f in schema.AUDIO_FEATURES}
        features.update(key=i % 12, mode=i % 2, time_signature=4, tempo=100.0 + i, loudness=-5.0)
        rows.append(
            {
                schema.TRACK_ID: track_id,
                schema.NAME: name,
                schema.ARTISTS: artists,
                schema.ALBUM: f"Album {i}",
                schema.POPULARITY: popularity,
                schema.DURATION_MS: 200_000 + 1000 * i,
                schema.EXPLICIT: False,
                **features,
                schema.GENRES: genres,
                schema.SONG_ID: f"song-{i}",
                schema.HOLDOUT: False,
                schema.FIRST_ROW: i,
            }
        )
    return rows


def write_artists_build(out: Path) -> Path:
    """The build directory with its store.sqlite (serve_support.write_build)."""
    from serve_support import write_build

    neighbour_rows = [
        (seed, rank, nb, round(1.0 - 0.1 * rank, 3))
        for seed, nbs in NEIGHBOURS.items()
        for rank, nb in enumerate(nbs, start=1)
    ]
    manifest = {
        "run_id": RUN_ID,
        "created": "2024-01-01T00:00:00Z",
        "top_n": 3,
        "models": ["cosine"],
        "default_model": "cosine",
        "counts": {"tracks": len(TRACKS)},
    }
    return write_build(out, track_rows(), neighbour_rows, manifest)
