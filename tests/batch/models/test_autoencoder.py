"""The autoencoder on a small planted-cluster catalogue (tests/factories.py), plus the shared
training helpers (models/training.py) it relies on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from factories import cluster_recall, planted_catalogue
from spotrec import schema
from spotrec.models.autoencoder import AutoencoderModel
from spotrec.models.embedding_parts import (
    artist_fingerprints,
    compose_embedding,
)
from spotrec.models.training import (
    train_validation_split,
)
from spotrec.neighbours import exact_top_n, to_frame

# Planted clusters differ in genre and audio; a working model puts >= 90% of each track's five
# nearest neighbours in its own cluster (a random embedding gets ~1/6).
CLUSTER_RECALL_AT_5 = 0.9
SETTINGS = {"epochs": 15, "batch_size": 32}


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=3)


@pytest.fixture(scope="module")
def model(catalogue):
    return AutoencoderModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=5)


def recall_at_5(catalogue, embeddings, seeds_mask=None) -> float:
    idx, scores = exact_top_n(embeddings, catalogue.song_ids, 5, progress=False)
    frame = to_frame(catalogue.tracks[schema.TRACK_ID].to_numpy(), idx, scores)
    if seeds_mask is not None:
        seeds = set(catalogue.tracks.loc[seeds_mask, schema.TRACK_ID])
        frame = frame[frame[schema.NB_TRACK_ID].isin(seeds)]
    return cluster_recall(catalogue, frame, k=5)


def test_codes_alone_separate_the_planted_clusters(model, catalogue):
    # The code without the artist fingerprint: the network itself must have learned the clusters.
    codes = model.codes(catalogue.tracks)
    assert codes.shape == (len(catalogue.tracks), model.config.code_dim)
    assert recall_at_5(catalogue, codes) >= CLUSTER_RECALL_AT_5
    holdout = catalogue.tracks[schema.HOLDOUT].to_numpy()
    assert recall_at_5(catalogue, codes, holdout) >= CLUSTER_RECALL_AT_5


def test_embedding_recovers_clusters_and_is_float32(model, catalogue):
    embeddings = model.embed(catalogue.tracks)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    assert recall_at_5(catalogue, embeddings) >= CLUSTER_RECALL_AT_5


def test_holdout_genres_are_hidden(model, catalogue):
    tracks = catalogue.tracks.copy()
    holdout = tracks[schema.HOLDOUT].to_numpy()
    tracks.loc[holdout, schema.GENRES] = pd.Series(
        [["genre05"]] * int(holdout.sum()), index=tracks.index[holdout]
    )
    relabelled = AutoencoderModel(progress=False, **SETTINGS).fit(tracks, seed=5)
    np.testing.assert_array_equal(relabelled.embed(tracks), model.embed(catalogue.tracks))


def test_same_seed_same_embeddings_other_seed_differs(model, catalogue):
    again = AutoencoderModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=5)
    np.testing.assert_array_equal(again.embed(catalogue.tracks), model.embed(catalogue.tracks))
    other = AutoencoderModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=6)
    assert not np.array_equal(other.codes(catalogue.tracks), model.codes(catalogue.tracks))


def test_save_load_round_trip(model, catalogue, tmp_path):
    model.save(tmp_path)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["config.json", "genre_classifier.pt", "scaler.json", "weights.pt"]
    torch.load(tmp_path / "weights.pt", weights_only=True)  # a plain state dict, no pickle
    loaded = AutoencoderModel.load(tmp_path)
    np.testing.assert_array_equal(loaded.embed(catalogue.tracks), model.embed(catalogue.tracks))
    assert loaded.summary() == model.summary()


def test_summary_reports_losses_and_average_similarity(model):
    summary = model.summary()
    json.dumps(summary)
    assert len(summary["train_loss"]) == SETTINGS["epochs"]
    assert len(summary["validation_loss"]) == SETTINGS["epochs"]
    # training reduced the loss, and the kept epoch is the best validation epoch
    assert summary["train_loss"][-1] < summary["train_loss"][0]
    best = summary["best_epoch"]
    assert summary["final_validation_loss"] == min(summary["validation_loss"])
    assert summary["final_validation_loss"] == summary["validation_loss"][best - 1]
    assert 0.5 < summary["average_similarity"] <= 1.0


def test_bad_use_is_a_named_error(catalogue, tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        AutoencoderModel().embed(catalogue.tracks)
    with pytest.raises(ValueError, match="epochs"):
        AutoencoderModel(epochs=0, progress=False).fit(catalogue.tracks)
    with pytest.raises(TypeError):
        AutoencoderModel(no_such_setting=1)
    (tmp_path / "config.json").write_text(json.dumps({"model": "transformer"}))
    with pytest.raises(ValueError, match="not 'autoencoder'"):
        AutoencoderModel.load(tmp_path)


# --- models/training.py ------------------------------------------------------------------------
def test_split_is_disjoint_complete_and_fixed_by_seed():
    train, validation = train_validation_split(100, 0.1, seed=1)
    assert len(validation) == 10
    assert sorted(np.concatenate([train, validation]).tolist()) == list(range(100))
    again = train_validation_split(100, 0.1, seed=1)
    assert np.array_equal(again[1], validation)
    assert not np.array_equal(train_validation_split(100, 0.1, seed=2)[1], validation)
    with pytest.raises(ValueError, match="at least 2"):
        train_validation_split(1, 0.1, seed=0)


def test_artist_fingerprints_match_only_shared_artists():
    prints = artist_fingerprints([["A"], [" a "], ["B"], ["A", "B"], []], dim=64)
    assert prints[0] @ prints[1] == pytest.approx(1.0)  # same artist after case/space folding
    assert abs(prints[0] @ prints[2]) < 0.5  # different artists: near-orthogonal
    assert prints[3] @ prints[0] == pytest.approx(prints[3] @ prints[2])  # both halves
    assert not prints[4].any()  # no artist: zero row


def test_compose_embedding_splits_cosine_into_stated_shares():
    tracks = pd.DataFrame({schema.ARTISTS: [["A"], ["A"]], schema.TRACK_ID: ["x" * 22, "y" * 22]})
    style = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)  # style cosine 0
    emb = compose_embedding(style, tracks, artist_weight=0.2, jitter_weight=0.0, dim=16)
    assert np.linalg.norm(emb, axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)
    assert emb[0] @ emb[1] == pytest.approx(0.2, abs=1e-6)  # all similarity is the artist share
    with pytest.raises(ValueError, match="sum below 1"):
        compose_embedding(style, tracks, artist_weight=0.7, jitter_weight=0.3, dim=16)


def test_compose_embedding_genre_profile_share():
    tracks = pd.DataFrame({schema.ARTISTS: [["A"], ["B"]], schema.TRACK_ID: ["x" * 22, "y" * 22]})
    style = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # style cosine 0
    same_genres = np.array([[0.2, 0.8], [0.2, 0.8]], dtype=np.float32)  # profile cosine 1
    emb = compose_embedding(
        style,
        tracks,
        genres=same_genres,
        genre_weight=0.5,
        artist_weight=0.0,
        jitter_weight=0.0,
        dim=64,
    )
    assert np.linalg.norm(emb, axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)
    assert emb[0] @ emb[1] == pytest.approx(0.5, abs=1e-6)  # all similarity is the genre share
    with pytest.raises(ValueError, match="genre profile"):
        compose_embedding(
            style, tracks, genre_weight=0.5, artist_weight=0.0, jitter_weight=0.0, dim=8
        )
