"""A fixed number of training rows per epoch (models/training.py ``rows_per_epoch``, the learned
models' ``listening_rows_per_epoch``): each epoch sees exactly that many distinct training rows,
drawn afresh and reproducibly, and a capped listening fit still learns the planted tastes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learned_model_checks import (
    FIT_SEED,
    LISTENING_SETTINGS,
    check_listening_beats_content_on_cold_start,
    check_listening_fit_is_deterministic,
)
from planted_listening import planted_listening
from spotrec.models.cosine import CosineModel
from spotrec.models.training import EpochLoopSettings, run_epochs
from spotrec.models.transformer import TransformerModel


def rows_seen_per_epoch(train_rows: np.ndarray, rows_per_epoch: int | None, epochs: int = 3):
    """(rows each training epoch passed to the loss, final weights) of a 1-weight regression."""
    network = torch.nn.Linear(1, 1)
    seen: list[list[int]] = []

    def loss_fn(net, rows, generator, training):
        if training:
            if not seen or len(seen[-1]) >= per_epoch:  # the previous epoch is complete
                seen.append([])
            seen[-1].extend(rows.tolist())
        return (net(rows[:, None].float() / 100) - 1.0).pow(2).mean()

    per_epoch = min(len(train_rows), rows_per_epoch or len(train_rows))
    settings = EpochLoopSettings(
        epochs=epochs,
        batch_size=16,
        learning_rate=0.01,
        progress=False,
        rows_per_epoch=rows_per_epoch,
    )
    torch.manual_seed(0)
    run_epochs(network, loss_fn, train_rows, np.array([0, 1]), settings, seed=3)
    return seen, network.weight.detach().clone()


def test_each_epoch_draws_the_cap_of_distinct_training_rows_afresh():
    train = np.arange(2, 202)  # 200 training rows
    seen, _ = rows_seen_per_epoch(train, rows_per_epoch=50)
    assert [len(epoch) for epoch in seen] == [50, 50, 50]
    for epoch in seen:
        assert len(set(epoch)) == 50 and set(epoch) <= set(train.tolist())
    assert set(seen[0]) != set(seen[1])  # a new draw each epoch, not the same 50 rows
    again, _ = rows_seen_per_epoch(train, rows_per_epoch=50)
    assert again == seen  # seeded: the same draws every run


def test_a_cap_at_or_above_the_row_count_trains_exactly_as_no_cap():
    train = np.arange(2, 102)
    seen_uncapped, uncapped = rows_seen_per_epoch(train, rows_per_epoch=None)
    seen_capped, capped = rows_seen_per_epoch(train, rows_per_epoch=1000)
    assert [len(epoch) for epoch in seen_uncapped] == [100, 100, 100]
    assert seen_capped == seen_uncapped
    torch.testing.assert_close(capped, uncapped, rtol=0, atol=0)


def test_a_bad_cap_is_a_named_error():
    with pytest.raises(ValueError, match="rows_per_epoch"):
        rows_seen_per_epoch(np.arange(10), rows_per_epoch=0)


CAPPED = {**LISTENING_SETTINGS, "listening_rows_per_epoch": 96}


@pytest.fixture(scope="module")
def listening():
    return planted_listening(seed=2)


@pytest.fixture(scope="module")
def capped_model(listening):
    model = TransformerModel(progress=False, **CAPPED)
    return model.fit(listening.tracks, seed=FIT_SEED, listening=listening.train)


def test_capped_listening_fit_still_learns_the_planted_tastes(capped_model, listening):
    # ~150 training tracks with listening: the cap of 96 really bites.
    assert capped_model.summary()["tracks_with_listening"] * 0.9 > 96 * 1.4
    content = CosineModel().fit(listening.tracks, seed=0).embed(listening.tracks)
    check_listening_beats_content_on_cold_start(capped_model, listening, content)


def test_capped_listening_fit_is_deterministic(capped_model, listening):
    check_listening_fit_is_deterministic(capped_model, listening, CAPPED)
