"""Synthetic catalogues in tracks.parquet shape (schema.TRACK_COLUMNS) with planted structure.

``planted_catalogue`` makes ``n_clusters`` clusters. Every track of a cluster shares the
cluster's genre and draws its audio features around the cluster's own centroid, so any sensible
model should find a track's neighbours inside its cluster: tests measure that recall against
the planted labels. On top of that it plants:

* artists: each cluster has a few artists, each with several tracks (same-artist discovery);
* song variants: copies of some tracks under new track_ids, same title and artists, near-identical
  audio (the same song_id), which must never be recommended for each other;
* multi-genre tracks: some tracks also carry a shared "crossover" genre;
* holdout tracks: every track of one artist per cluster, flagged ``holdout``.

pandas/numpy are imported inside the functions: this module sits on the tests' import path
and Lambda tests must be able to run without the batch extra installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CROSSOVER_GENRE = "crossover"


@dataclass
class PlantedCatalogue:
    tracks: Any  # pd.DataFrame, schema.TRACK_COLUMNS
    clusters: Any  # np.ndarray int, the planted cluster of each row

    @property
    def song_ids(self):
        return self.tracks["song_id"].to_numpy()


def track_ids(count: int, rng) -> list[str]:
    """Distinct 22-character base-62 ids."""
    ids: set[str] = set()
    while len(ids) < count:
        ids.add("".join(rng.choice(list(BASE62), size=22)))
    # Sort first: a set's order follows Python's per-process string hashing, which would make
    # the shuffle (and so every test catalogue) differ between runs.
    return sorted(sorted(ids), key=lambda _: rng.random())


def planted_catalogue(
    n_clusters: int = 6,
    tracks_per_cluster: int = 40,
    artists_per_cluster: int = 4,
    variant_share: float = 0.1,
    crossover_share: float = 0.1,
    holdout: bool = True,
    seed: int = 0,
) -> PlantedCatalogue:
    import numpy as np
    import pandas as pd

    from spotrec import schema
    from spotrec.data.variants import song_keys

    rng = np.random.default_rng(seed)
    unit_features = [
        f for f, (lo, hi) in schema.AUDIO_FEATURE_RANGES.items() if (lo, hi) == (0.0, 1.0)
    ]
    rows: list[dict] = []
    clusters: list[int] = []
    for c in range(n_clusters):
        centre = {f: rng.uniform(0.1, 0.9) for f in unit_features}
        loudness, tempo = rng.uniform(-20, -4), rng.uniform(70, 180)
        popularity, duration = rng.uniform(10, 90), rng.uniform(120_000, 400_000)
        key, mode = int(rng.integers(0, 12)), int(rng.integers(0, 2))
        explicit = bool(c % 2)
        for i in range(tracks_per_cluster):
            artist = f"Artist {c}-{i % artists_per_cluster}"
            genres = [f"genre{c:02d}"]
            if rng.random() < crossover_share:
                genres = sorted([*genres, CROSSOVER_GENRE])
            row = {
                schema.NAME: f"Song {c}-{i}",
                schema.ARTISTS: [artist],
                schema.ALBUM: f"Album {c}-{i % 3}",
                schema.POPULARITY: int(np.clip(rng.normal(popularity, 4), 0, 100)),
                schema.DURATION_MS: int(max(30_000, rng.normal(duration, 10_000))),
                schema.EXPLICIT: explicit,
                **{f: float(np.clip(rng.normal(m, 0.04), 0, 1)) for f, m in centre.items()},
                "key": key,
                "loudness": float(np.clip(rng.normal(loudness, 1.0), -60, 5)),
                "mode": mode,
                "tempo": float(np.clip(rng.normal(tempo, 4.0), 1, 300)),
                "time_signature": 4,
                schema.GENRES: genres,
                schema.HOLDOUT: holdout and i % artists_per_cluster == 0,
            }
            rows.append(row)
            clusters.append(c)
            if rng.random() < variant_share:  # a re-release: same song, a hair different
                variant = dict(row)
                variant[schema.POPULARITY] = max(0, row[schema.POPULARITY] - 1)
                variant["energy"] = float(np.clip(row["energy"] + 0.001, 0, 1))
                rows.append(variant)
                clusters.append(c)

    tracks = pd.DataFrame(rows)
    tracks.insert(0, schema.TRACK_ID, track_ids(len(tracks), rng))
    tracks[schema.SONG_ID] = song_keys(
        tracks[schema.NAME].tolist(), tracks[schema.ARTISTS].tolist(), tracks[schema.TRACK_ID]
    )
    tracks[schema.FIRST_ROW] = np.arange(len(tracks))
    tracks = tracks[list(schema.TRACK_COLUMNS)].reset_index(drop=True)
    return PlantedCatalogue(tracks=tracks, clusters=np.asarray(clusters))


def cluster_recall(catalogue: PlantedCatalogue, neighbours, k: int) -> float:
    """Share of the top-k neighbours (long-format frame) that sit in the seed's planted cluster."""
    cluster_of = dict(zip(catalogue.tracks["track_id"], catalogue.clusters, strict=True))
    top = neighbours[neighbours["rank"] <= k]
    same = top["track_id"].map(cluster_of) == top["neighbour_id"].map(cluster_of)
    return float(same.mean())


def random_song_lists(rng, songs, width: int, empty_share: float = 0.0):
    """(n, width) neighbour lists of catalogue rows with distinct songs, never the row's own
    song; with ``empty_share`` > 0 that share of rows is cut short (-1 in the empty slots)."""
    import numpy as np

    n = len(songs)
    out = np.full((n, width), -1)
    for i in range(n):
        chosen, seen = [], {songs[i]}
        for j in rng.permutation(n):
            if songs[j] not in seen:
                seen.add(songs[j])
                chosen.append(j)
            if len(chosen) == width:
                break
        out[i, : len(chosen)] = chosen
    if empty_share > 0:
        cut = rng.random(n) < empty_share
        lengths = np.where(cut, rng.integers(1, width, n), width)
        out[np.arange(width)[None, :] >= lengths[:, None]] = -1
    return out
