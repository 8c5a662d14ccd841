"""The autoencoder on a small planted-cluster catalogue (tests/factories.py) without listening,
on planted listening (tests/planted_listening.py) with it, plus the shared training helpers
(models/training.py, models/content_inputs.py) it relies on."""

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
from spotrec.models.content_inputs import artist_indices, artist_vocabulary, listening_loss
from spotrec.models.training import train_validation_split

SETTINGS = {"epochs": 15, "batch_size": 32}


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=3)


@pytest.fixture(scope="module")
def model(catalogue):
    return AutoencoderModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=FIT_SEED)


def test_codes_separate_the_planted_clusters(model, catalogue):
    assert model.summary()["mode"] == "self-supervised"
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


def test_artist_input_folds_names_and_marks_unknown_artists():
    tracks = pd.DataFrame({schema.ARTISTS: [["A"], [" a ", "B"], []]})
    vocabulary = artist_vocabulary(tracks)
    assert vocabulary == ["a", "b"]
    indices = artist_indices([["A"], ["B", "a"], ["nobody"], []], vocabulary, max_artists=2)
    assert indices.tolist() == [[1, 0], [2, 1], [0, 0], [0, 0]]


def test_listening_losses_are_zero_only_on_the_target():
    import torch

    target = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=1)
    assert float(listening_loss(target * 3, target, "cosine", 0.1)) == pytest.approx(0.0)
    assert float(listening_loss(target.flip(0), target, "cosine", 0.1)) == pytest.approx(1.0)
    right = float(listening_loss(target, target, "infonce", 0.1))
    wrong = float(listening_loss(target.flip(0), target, "infonce", 0.1))
    assert right < 0.01 < 5 < wrong
    with pytest.raises(ValueError, match="listening_loss"):
        listening_loss(target, target, "triplet", 0.1)


def test_too_little_listening_falls_back_to_self_supervised(catalogue):
    few = catalogue.tracks[schema.TRACK_ID].iloc[:3]
    weights = pd.DataFrame({"session_id": "s", "track_id": few, "weight": np.float32(1.0)})
    model = AutoencoderModel(progress=False, epochs=1).fit(catalogue.tracks, listening=weights)
    assert model.summary()["mode"] == "self-supervised"
    assert model.summary()["tracks_with_listening"] == 3
