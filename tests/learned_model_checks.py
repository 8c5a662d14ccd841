"""Checks both learned models (autoencoder, transformer; models/learned.py) must pass on a planted
catalogue (factories.planted_catalogue). Each model's test module calls them with its own model
fixture, settings and style method (``codes`` / ``style_vectors``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from factories import PlantedCatalogue, cluster_recall
from spotrec import schema
from spotrec.neighbours import exact_top_n, to_frame

# Planted clusters differ in genre and audio; a working model puts >= 90% of each track's five
# nearest neighbours in its own cluster (a random embedding gets ~1/6).
CLUSTER_RECALL_AT_5 = 0.9
SAVED_FILES = ["config.json", "genre_classifier.pt", "scaler.json", "weights.pt"]
FIT_SEED = 5


def recall_at_5(catalogue: PlantedCatalogue, embeddings, seeds_mask=None) -> float:
    idx, scores = exact_top_n(embeddings, catalogue.song_ids, 5, progress=False)
    frame = to_frame(catalogue.tracks[schema.TRACK_ID].to_numpy(), idx, scores)
    if seeds_mask is not None:
        seeds = set(catalogue.tracks.loc[seeds_mask, schema.TRACK_ID])
        frame = frame[frame[schema.NB_TRACK_ID].isin(seeds)]
    return cluster_recall(catalogue, frame, k=5)


def check_style_separates_clusters(model, catalogue: PlantedCatalogue, style: str, dim: int):
    """The style vectors alone (no artist fingerprint): the network itself must place tracks by
    cluster, holdout tracks (genres hidden) by their audio."""
    vectors = getattr(model, style)(catalogue.tracks)
    assert vectors.shape == (len(catalogue.tracks), dim)
    assert recall_at_5(catalogue, vectors) >= CLUSTER_RECALL_AT_5
    holdout = catalogue.tracks[schema.HOLDOUT].to_numpy()
    assert recall_at_5(catalogue, vectors, holdout) >= CLUSTER_RECALL_AT_5


def check_holdout_genres_are_hidden(model, catalogue: PlantedCatalogue, settings: dict):
    """Giving holdout tracks other genres must not change a single embedding value."""
    tracks = catalogue.tracks.copy()
    holdout = tracks[schema.HOLDOUT].to_numpy()
    tracks.loc[holdout, schema.GENRES] = pd.Series(
        [["genre05"]] * int(holdout.sum()), index=tracks.index[holdout]
    )
    relabelled = type(model)(progress=False, **settings).fit(tracks, seed=FIT_SEED)
    np.testing.assert_array_equal(relabelled.embed(tracks), model.embed(catalogue.tracks))


def check_same_seed_same_embeddings(model, catalogue: PlantedCatalogue, settings: dict, style: str):
    """``model`` was fitted with FIT_SEED: the same seed repeats it, another seed differs."""
    tracks = catalogue.tracks
    again = type(model)(progress=False, **settings).fit(tracks, seed=FIT_SEED)
    np.testing.assert_array_equal(again.embed(tracks), model.embed(tracks))
    other = type(model)(progress=False, **settings).fit(tracks, seed=FIT_SEED + 1)
    assert not np.array_equal(getattr(other, style)(tracks), getattr(model, style)(tracks))


def check_save_load_round_trip(model, catalogue: PlantedCatalogue, tmp_path):
    model.save(tmp_path)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == SAVED_FILES
    torch.load(tmp_path / "weights.pt", weights_only=True)  # a plain state dict, no pickle
    loaded = type(model).load(tmp_path)
    np.testing.assert_array_equal(loaded.embed(catalogue.tracks), model.embed(catalogue.tracks))
    assert loaded.summary() == model.summary()
