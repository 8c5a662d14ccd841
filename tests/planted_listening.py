"""Synthetic listening with a planted taste that content alone cannot explain (tests only).

``planted_listening`` takes a planted catalogue (factories.planted_catalogue: clusters that
differ in genre and audio) and gives every ARTIST a taste, ``(cluster + artist) % n_tastes``, so
each taste mixes artists of several clusters (genres) and a cluster holds every taste. Each
training session picks one taste and plays tracks of that taste only. A share of each artist's
tracks is never played in training (``cold``): their taste is predictable from their artist
(the artist's other tracks are listened to), not from how they sound or their genre.

So, by construction:
* co-listening vectors of warm tracks group by taste;
* plain content (audio, genre) groups by cluster, which says nothing about taste: at k
  neighbours it finds the same taste about 1 / n_tastes of the time, plus the artist's own
  few tracks;
* a model mapping content (with the artist) onto co-listening should find a cold track's
  taste among the warm tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factories import PlantedCatalogue, planted_catalogue


@dataclass
class PlantedListening:
    catalogue: PlantedCatalogue
    taste: Any  # np.ndarray int (n,), the planted taste of each track row
    train: Any  # pd.DataFrame[session_id, track_id, weight]: session_item_weights shape
    warm: Any  # np.ndarray bool (n,): the track is in at least one training session
    cold: Any  # np.ndarray bool (n,): never played in training (its taste is still planted)

    @property
    def tracks(self):
        return self.catalogue.tracks


def planted_listening(
    *,
    n_clusters: int = 6,
    tracks_per_cluster: int = 40,
    artists_per_cluster: int = 8,
    n_tastes: int = 4,
    sessions: int = 400,
    session_length: int = 12,
    cold_share: float = 0.3,
    seed: int = 0,
) -> PlantedListening:
    import numpy as np
    import pandas as pd

    from spotrec import schema

    catalogue = planted_catalogue(
        n_clusters=n_clusters,
        tracks_per_cluster=tracks_per_cluster,
        artists_per_cluster=artists_per_cluster,
        seed=seed,
    )
    tracks = catalogue.tracks
    rng = np.random.default_rng(seed + 1000)
    # "Artist c-j" -> taste (c + j) % n_tastes: tastes cut across clusters and genres.
    artist_index = [int(names[0].rsplit("-", 1)[1]) for names in tracks[schema.ARTISTS]]
    taste = (np.asarray(catalogue.clusters) + np.asarray(artist_index)) % n_tastes
    cold = rng.random(len(tracks)) < cold_share
    ids = tracks[schema.TRACK_ID].to_numpy()
    rows = []
    for session in range(sessions):
        pool = np.flatnonzero((taste == session % n_tastes) & ~cold)
        picks = rng.choice(pool, size=min(session_length, len(pool)), replace=False)
        rows += [(f"s{session:05d}", ids[i], float(rng.choice([1.0, 2.0]))) for i in picks]
    train = pd.DataFrame(rows, columns=["session_id", "track_id", "weight"])
    train["weight"] = train["weight"].astype("float32")
    warm = np.isin(ids, train["track_id"].unique())
    return PlantedListening(catalogue, taste, train, warm, cold)


def taste_precision(listening: PlantedListening, embeddings, rows, k: int = 10) -> float:
    """Mean share of each ``rows`` track's k nearest WARM tracks (cosine) with its planted taste."""
    import numpy as np

    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    candidates = np.flatnonzero(listening.warm)
    scores = unit[np.flatnonzero(rows)] @ unit[candidates].T
    top = candidates[np.argsort(-scores, axis=1, kind="stable")[:, :k]]
    return float((listening.taste[top] == listening.taste[rows][:, None]).mean())
