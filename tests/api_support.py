"""A small synthetic build for the API's fuzz and load runs (tests and benchmarks/bench_load.py),
and `spotrec serve` on it in a thread.

The catalogue is made by construction: ``n_genres`` genres of equal size, every track's
neighbour list holds the other tracks of its genre (nearest = next ids), so every seed, genre
and id the runs use is known to exist. pandas and the writers are imported inside the
functions (Lambda tests import nothing heavy from the tests' path).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from serve_support import serving, store_environment, write_build


@dataclass(frozen=True)
class SyntheticBuild:
    path: Path
    track_ids: list[str]
    genres: list[str]


def synthetic_track_id(i: int) -> str:
    return f"syn{i:019d}"  # 22 base-62 characters


def write_synthetic_build(out: Path, n_tracks: int = 120, n_genres: int = 6, top_n: int = 10):
    from spotrec import schema

    assert n_tracks % n_genres == 0, "equal genres keep every neighbour list in its genre"
    genres = [f"genre{g}" for g in range(n_genres)]
    ids = [synthetic_track_id(i) for i in range(n_tracks)]
    genre_of = {tid: genres[i % n_genres] for i, tid in enumerate(ids)}
    tracks = [
        {
            schema.TRACK_ID: tid,
            schema.NAME: f"Song {i} {genre_of[tid]}",
            schema.ARTISTS: [f"Artist {i % 17}"],
            schema.ALBUM: f"Album {i % 23}",
            schema.POPULARITY: i % 101,
            schema.DURATION_MS: 120_000 + 1000 * i,
            schema.EXPLICIT: i % 5 == 0,
            **{name: 0.5 for name in schema.AUDIO_FEATURES},
            "tempo": 80.0 + i % 80,
            "loudness": -5.0 - i % 20,
            "key": i % 12,
            "mode": i % 2,
            "time_signature": 4,
            schema.GENRES: [genre_of[tid]],
            schema.SONG_ID: tid,
            schema.HOLDOUT: False,
            schema.FIRST_ROW: i,
        }
        for i, tid in enumerate(ids)
    ]
    neighbours = []
    for i, tid in enumerate(ids):
        # The next tracks of the same genre (ids i + n_genres, i + 2 n_genres, ...), wrapping.
        ordered = [ids[(i + step * n_genres) % n_tracks] for step in range(1, top_n + 1)]
        ordered = list(dict.fromkeys(o for o in ordered if o != tid))
        for rank, other in enumerate(ordered, start=1):
            neighbours.append((tid, rank, other, 1.0 - rank / (top_n + 1)))
    manifest_fields = {
        "run_id": "20240101T000000Z-synthapi",
        "models": ["cosine"],
        "default_model": "cosine",
        "top_n": top_n,
        "counts": {"tracks": n_tracks},
    }
    path = write_build(out, tracks, neighbours, manifest_fields)
    return SyntheticBuild(path, ids, genres)


@contextmanager
def serve(store: Path) -> Iterator[str]:
    """`spotrec serve` on 127.0.0.1 at a free port over a build dir's SQLite store; yields its
    base URL. No serving variable leaks in or out (serve_support.store_environment)."""
    from spotrec import server as srv

    with store_environment(), serving(srv.make_server(store, port=0)) as server:
        yield server.url
