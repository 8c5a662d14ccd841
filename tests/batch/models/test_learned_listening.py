"""Both learned models (autoencoder, transformer) in listening mode: content -> collaborative,
on planted listening (tests/planted_listening.py) whose tastes cut across the genre clusters.
One parametrised module, so the two models are held to the same checks."""

from __future__ import annotations

import numpy as np
import pytest

from learned_model_checks import (
    FIT_SEED,
    LISTENING_SETTINGS,
    check_listening_beats_content_on_cold_start,
    check_listening_fit_is_deterministic,
    check_listening_hides_holdout_genres,
)
from planted_listening import planted_listening
from spotrec.models.autoencoder import AutoencoderModel
from spotrec.models.cosine import CosineModel
from spotrec.models.transformer import TransformerModel


@pytest.fixture(scope="module")
def listening():
    return planted_listening(seed=2)


@pytest.fixture(scope="module", params=[AutoencoderModel, TransformerModel], ids=lambda c: c.name)
def listening_model(request, listening):
    model = request.param(progress=False, **LISTENING_SETTINGS)
    return model.fit(listening.tracks, seed=FIT_SEED, listening=listening.train)


def test_listening_beats_plain_content_on_cold_start_tracks(listening_model, listening):
    content = CosineModel().fit(listening.tracks, seed=0).embed(listening.tracks)
    check_listening_beats_content_on_cold_start(listening_model, listening, content)


def test_listening_fit_is_deterministic(listening_model, listening):
    check_listening_fit_is_deterministic(listening_model, listening, LISTENING_SETTINGS)


def test_listening_fit_hides_holdout_genres(listening_model, listening):
    check_listening_hides_holdout_genres(listening_model, listening, LISTENING_SETTINGS)


def test_listening_model_save_load_round_trip(listening_model, listening, tmp_path):
    listening_model.save(tmp_path)
    loaded = type(listening_model).load(tmp_path)
    assert loaded.mode == "listening"
    np.testing.assert_array_equal(
        loaded.embed(listening.tracks), listening_model.embed(listening.tracks)
    )
