"""The autoencoder on a small planted-cluster catalogue (tests/factories.py), plus the shared
training helpers (models/training.py) it relies on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue
from learned_model_checks import (
    CLUSTER_RECALL_AT_5,
    FIT_SEED,
    check_holdout_genres_are_hidden,
    check_same_seed_same_embeddings,
    check_save_load_round_trip,
    check_style_separates_clusters,
    recall_at_5,
)
from spotrec import schema
from spotrec.models.autoencoder import AutoencoderModel
from spotrec.models.embedding_parts import (
    artist_fingerprints,
    compose_embedding,
)
from spotrec.models.training import (
    train_validation_split,
)

SETTINGS = {"epochs": 15, "batch_size": 32}


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=3)


@pytest.fixture(scope="module")
def model(catalogue):
    return AutoencoderModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=FIT_SEED)


def test_codes_alone_separate_the_planted_clusters(model, catalogue):
    # The code without the artist fingerprint: the network itself must have learned the clusters.
    check_style_separates_clusters(model, catalogue, "codes", model.config.code_dim)


def test_embedding_recovers_clusters_and_is_float32(model, catalogue):
    embeddings = model.embed(catalogue.tracks)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    assert recall_at_5(catalogue, embeddings) >= CLUSTER_RECALL_AT_5


def test_holdout_genres_are_hidden(model, catalogue):
    check_holdout_genres_are_hidden(model, catalogue, SETTINGS)


def test_same_seed_same_embeddings_other_seed_differs(model, catalogue):
    check_same_seed_same_embeddings(model, catalogue, SETTINGS, "codes")


def test_save_load_round_trip(model, catalogue, tmp_path):
    check_save_load_round_trip(model, catalogue, tmp_path)


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
