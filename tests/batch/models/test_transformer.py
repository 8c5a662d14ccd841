"""The feature-tokenizer transformer on a small planted-cluster catalogue (tests/factories.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from factories import planted_catalogue
from learned_model_checks import (
    FIT_SEED,
    check_holdout_genres_are_hidden,
    check_same_seed_same_embeddings,
    check_save_load_round_trip,
    check_style_separates_clusters,
)
from spotrec.models.transformer import OBJECTIVES, TransformerModel

SETTINGS = {"epochs": 12, "batch_size": 32}


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=4)


@pytest.fixture(scope="module")
def model(catalogue):
    return TransformerModel(progress=False, **SETTINGS).fit(catalogue.tracks, seed=FIT_SEED)


def test_style_vectors_separate_the_planted_clusters(model, catalogue):
    # The CLS vector must place tracks by cluster, holdout tracks (genre token UNKNOWN) too.
    assert model.summary()["mode"] == "self-supervised"
    check_style_separates_clusters(model, catalogue, "style_vectors", model.config.d_model)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_trains_and_embeds(objective, catalogue):
    model = TransformerModel(progress=False, objective=objective, epochs=3, batch_size=64)
    embeddings = model.fit(catalogue.tracks, seed=1).embed(catalogue.tracks)
    assert embeddings.dtype == np.float32 and np.isfinite(embeddings).all()
    losses = model.summary()["train_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_holdout_genres_are_hidden(model, catalogue):
    check_holdout_genres_are_hidden(model, catalogue, SETTINGS)


def test_same_seed_same_embeddings_other_seed_differs(model, catalogue):
    check_same_seed_same_embeddings(model, catalogue, SETTINGS, "style_vectors")


def test_save_load_round_trip(model, catalogue, tmp_path):
    check_save_load_round_trip(model, catalogue, tmp_path)


def test_summary_reports_losses(model):
    summary = model.summary()
    json.dumps(summary)
    assert len(summary["train_loss"]) == len(summary["validation_loss"]) == SETTINGS["epochs"]
    assert summary["train_loss"][-1] < summary["train_loss"][0]
    assert summary["final_validation_loss"] == min(summary["validation_loss"])
    # 6 planted genres, clusters well apart in audio: the genre is readable from audio alone
    assert summary["genre_accuracy_from_audio"] >= 0.8


def test_bad_use_is_a_named_error(catalogue):
    with pytest.raises(ValueError, match="objective"):
        TransformerModel(objective="contrastive")
    with pytest.raises(RuntimeError, match="not fitted"):
        TransformerModel().embed(catalogue.tracks)
    with pytest.raises(ValueError, match="epochs"):
        TransformerModel(epochs=0, progress=False).fit(catalogue.tracks)
