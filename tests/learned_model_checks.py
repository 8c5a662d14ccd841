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
SAVED_FILES = ["artists.json", "config.json", "scaler.json", "weights.pt"]
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


# --- listening mode: content -> collaborative (planted_listening.py) ---------------------------
# Planted tastes cut across the genre clusters and follow the artist; cold tracks were never
# played. Plain content finds a cold track's taste among the warm tracks at about chance plus
# the artist's own few tracks (~0.3 here); content -> listening must do far better.
COLD_TASTE_AT_10 = 0.8
LISTENING_SETTINGS = {"listening_dim": 8, "batch_size": 32, "epochs": 30, "learning_rate": 1e-2}


def check_listening_beats_content_on_cold_start(model, listening, plain_content):
    """``model`` was fitted with the planted TRAINING sessions; cold tracks had none."""
    from planted_listening import taste_precision

    assert model.summary()["mode"] == "listening"
    embeddings = model.embed(listening.tracks)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    learned = taste_precision(listening, embeddings, listening.cold)
    content = taste_precision(listening, plain_content, listening.cold)
    assert learned >= COLD_TASTE_AT_10
    assert learned >= content + 0.3


def check_listening_fit_is_deterministic(model, listening, settings: dict):
    tracks = listening.tracks
    again = type(model)(progress=False, **settings).fit(
        tracks, seed=FIT_SEED, listening=listening.train
    )
    np.testing.assert_array_equal(again.embed(tracks), model.embed(tracks))


def check_listening_hides_holdout_genres(model, listening, settings: dict):
    """Relabelling holdout tracks changes neither inputs nor targets: same embeddings."""
    tracks = listening.tracks.copy()
    holdout = tracks[schema.HOLDOUT].to_numpy()
    tracks.loc[holdout, schema.GENRES] = pd.Series(
        [["genre05"]] * int(holdout.sum()), index=tracks.index[holdout]
    )
    relabelled = type(model)(progress=False, **settings).fit(
        tracks, seed=FIT_SEED, listening=listening.train
    )
    np.testing.assert_array_equal(relabelled.embed(tracks), model.embed(listening.tracks))


def check_listening_save_load_round_trip(model, listening, tmp_path):
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == SAVED_FILES
    loaded = type(model).load(tmp_path)
    assert loaded.mode == "listening"
    np.testing.assert_array_equal(loaded.embed(listening.tracks), model.embed(listening.tracks))
    assert loaded.summary() == model.summary()
