"""The autoencoder model: each track's audio profile and genres compressed into a small code.

Input: the standardized audio profile (features.audio_matrix) and the genre multi-hot
(features.genre_matrix, all zero for holdout tracks). The encoder maps them to a ``code_dim``
code; the decoder rebuilds the audio profile (mean squared error) and the genres (softmax
cross-entropy against the multi-hot spread evenly over the track's genres).

Denoising by genre dropout: during training each labeled track's genre input is zeroed with
probability ``genre_dropout`` while its genre target stays, so the code must also work out the
genre from audio alone. That is what makes the code useful for tracks without genre labels
(holdout tracks, whose genres are neither input nor target).

Embedding: the code computed with the genre input hidden for every track (so labeled and
unlabeled tracks share one space), joined with the genre profile of a separate audio -> genre
classifier, the artist fingerprint and the per-track tie-breaking jitter
(embedding_parts.compose_embedding) at ``genre_weight`` / ``artist_weight`` /
``jitter_weight`` shares of the cosine. See docs/learned-models.md for the evaluation behind
these settings and for what the "average similarity" figure means.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec.models.learned import LearnedConfig, LearnedModel
from spotrec.models.training import LossFn, TrainingHistory, deterministic_torch

log = logging.getLogger("spotrec.models.autoencoder")


@dataclass(frozen=True)
class AutoencoderConfig(LearnedConfig):
    code_dim: int = 32
    hidden_dim: int = 256
    epochs: int = 12
    genre_loss_weight: float = 1.0


class AutoencoderNetwork(nn.Module):
    def __init__(self, audio_dim: int, genre_dim: int, hidden_dim: int, code_dim: int):
        super().__init__()
        self.audio_dim = audio_dim
        self.encoder = nn.Sequential(
            nn.Linear(audio_dim + genre_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, audio_dim + genre_dim),
        )

    def forward(self, audio: torch.Tensor, genres: torch.Tensor):
        code = self.encoder(torch.cat([audio, genres], dim=1))
        out = self.decoder(code)
        return code, out[:, : self.audio_dim], out[:, self.audio_dim :]


def genre_targets(genres: torch.Tensor) -> torch.Tensor:
    """Multi-hot -> distribution over the track's genres (rows with no genre stay zero)."""
    return genres / genres.sum(dim=1, keepdim=True).clamp(min=1.0)


class AutoencoderModel(LearnedModel):
    """EmbeddingModel (models/base.py): ``AutoencoderModel(epochs=2, seed=0).fit(tracks)``.
    Fit skeleton, genre profile, embedding and persistence: models/learned.py."""

    name = "autoencoder"
    config_class = AutoencoderConfig
    network: AutoencoderNetwork | None

    # --- training ------------------------------------------------------------------------------
    def _new_network(self, audio_dim: int, genre_dim: int) -> AutoencoderNetwork:
        cfg = self.config
        return AutoencoderNetwork(audio_dim, genre_dim, cfg.hidden_dim, cfg.code_dim)

    def _loss_fn(self, audio: torch.Tensor, genres: torch.Tensor) -> LossFn:
        cfg = self.config
        labeled = genres.sum(dim=1) > 0  # holdout rows are all zero: no genre input or target

        def loss_fn(net, rows, generator, training):
            audio_in, genre_in, has_genre = audio[rows], genres[rows], labeled[rows]
            drop = torch.rand(len(rows), 1, generator=generator) < cfg.genre_dropout
            _, audio_out, genre_logits = net(audio_in, genre_in * (~drop))
            loss = nn.functional.mse_loss(audio_out, audio_in)
            if has_genre.any():
                target = genre_targets(genre_in[has_genre])
                log_probs = torch.log_softmax(genre_logits[has_genre], dim=1)
                genre_loss = -(target * log_probs).sum(dim=1).mean()
                loss = loss + cfg.genre_loss_weight * genre_loss
            return loss

        return loss_fn

    def fit(self, tracks: pd.DataFrame, *, seed: int | None = None) -> Self:
        super().fit(tracks, seed=seed)
        log.info("autoencoder: %s", {k: v for k, v in self.figures.items() if "loss" in k})
        return self

    @torch.no_grad()
    def _figures(self, history: TrainingHistory, audio, genres, validation_rows) -> dict:
        """Losses plus the average similarity (see docs/learned-models.md)."""
        rows = torch.as_tensor(validation_rows, dtype=torch.long)
        audio_in, genre_in = audio[rows], genres[rows]
        labeled = genre_in.sum(dim=1) > 0
        _, audio_out, logits = self.network(audio_in, genre_in)
        inputs = torch.cat([audio_in, genre_in], dim=1)
        rebuilt = torch.cat([audio_out, torch.softmax(logits, dim=1) * genre_in.sum(1, True)], 1)
        similarity = nn.functional.cosine_similarity(inputs, rebuilt, dim=1)
        _, audio_blind, logits_blind = self.network(audio_in, torch.zeros_like(genre_in))
        audio_similarity = nn.functional.cosine_similarity(audio_in, audio_blind, dim=1)
        top_genre = logits_blind[labeled].argmax(dim=1)
        hits = genre_in[labeled].gather(1, top_genre[:, None]).squeeze(1)
        return {
            **history.to_dict(),
            "validation_audio_mse": round(float(nn.functional.mse_loss(audio_out, audio_in)), 5),
            "average_similarity": round(float(similarity.mean()), 4),
            "average_audio_similarity_genre_hidden": round(float(audio_similarity.mean()), 4),
            "genre_accuracy_from_audio": round(float(hits.mean()), 4) if labeled.any() else None,
            "validation_tracks": len(rows),
        }

    # --- embedding -----------------------------------------------------------------------------
    @torch.no_grad()
    def codes(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, code_dim): the code of each track (genres hidden for holdout rows)."""
        network = self._require_fitted()
        audio, genres = self._inputs(tracks)
        if self.config.style_from_audio_only:
            genres = torch.zeros_like(genres)
        with deterministic_torch(self.seed):
            parts = [
                network(a, g)[0] for a, g in zip(audio.split(8192), genres.split(8192), strict=True)
            ]
        return torch.cat(parts).numpy() if parts else np.zeros((0, self.config.code_dim), "f4")

    def _style(self, tracks: pd.DataFrame) -> np.ndarray:
        return self.codes(tracks)
