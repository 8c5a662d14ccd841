"""The transformer model: a feature-tokenizer transformer (FT-Transformer, Gorishniy et al. 2021).

Tokens, each ``d_model`` wide:
* one per audio-profile column: value * w_j + b_j (a per-feature linear embedding);
* one genre token: the mean of the track's genre embeddings, or a learned UNKNOWN token when
  the genres are hidden (holdout tracks, and labeled tracks whose genre is dropped in training);
* a learned CLS token, whose output (after a final LayerNorm) is the track's style vector.

Objectives (``objective``), chosen by evaluation (docs/learned-models.md):
* ``genre``: predict the genre distribution from the CLS vector, with the genre token replaced
  by UNKNOWN for a random ``genre_dropout`` share of labeled tracks, so the CLS vector learns
  to place a track by its audio when no label is there;
* ``masked``: masked-feature reconstruction: a random ``mask_rate`` share of audio tokens
  become a MASK token and their values are predicted from the output tokens;
* ``mix``: the sum of both.
Holdout tracks are always UNKNOWN and never a genre target; they still serve ``masked``.

The embedding joins the style vector (genre token UNKNOWN for every track, so labeled and
unlabeled tracks share one space) with the genre profile of a separate audio -> genre
classifier, the artist fingerprint and the tie-breaking jitter (embedding_parts.compose_embedding).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec.models.learned import LearnedConfig, LearnedModel
from spotrec.models.training import LossFn, TrainingHistory, deterministic_torch

log = logging.getLogger("spotrec.models.transformer")

OBJECTIVES = ("genre", "masked", "mix")


@dataclass(frozen=True)
class TransformerConfig(LearnedConfig):
    objective: str = "genre"
    d_model: int = 32
    heads: int = 4
    layers: int = 2
    feedforward: int = 64
    epochs: int = 6
    mask_rate: float = 0.25


class FeatureTokenizerTransformer(nn.Module):
    def __init__(self, audio_dim: int, genre_dim: int, cfg: TransformerConfig):
        super().__init__()
        d = cfg.d_model
        self.feature_weight = nn.Parameter(torch.randn(audio_dim, d) * 0.5)
        self.feature_bias = nn.Parameter(torch.zeros(audio_dim, d))
        self.genre_embedding = nn.Parameter(torch.randn(genre_dim, d) * 0.5)
        self.unknown_genre = nn.Parameter(torch.randn(d) * 0.5)
        self.mask_token = nn.Parameter(torch.randn(d) * 0.5)
        self.cls = nn.Parameter(torch.randn(d) * 0.5)
        layer = nn.TransformerEncoderLayer(
            d, cfg.heads, cfg.feedforward, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.output_norm = nn.LayerNorm(d)
        self.genre_head = nn.Linear(d, genre_dim)
        self.value_head = nn.Linear(d, 1)

    def forward(self, audio, genres, genre_known, feature_masked=None):
        """(style vectors (b, d), genre logits (b, G), predicted audio values (b, A)).

        genre_known (b,) bool: False -> the genre token is UNKNOWN whatever ``genres`` holds.
        feature_masked (b, A) bool or None: True -> that audio token becomes MASK.
        """
        tokens = audio[:, :, None] * self.feature_weight + self.feature_bias
        if feature_masked is not None:
            mask_tokens = self.mask_token + self.feature_bias  # keep the position information
            tokens = torch.where(feature_masked[:, :, None], mask_tokens, tokens)
        counts = genres.sum(dim=1, keepdim=True).clamp(min=1.0)
        genre_token = (genres @ self.genre_embedding) / counts
        known = genre_known[:, None] & (genres.sum(dim=1, keepdim=True) > 0)
        genre_token = torch.where(known, genre_token, self.unknown_genre)
        cls = self.cls.expand(len(audio), -1)
        sequence = torch.cat([cls[:, None], genre_token[:, None], tokens], dim=1)
        out = self.output_norm(self.encoder(sequence))
        style = out[:, 0]
        values = self.value_head(out[:, 2:]).squeeze(-1)
        return style, self.genre_head(style), values


class TransformerModel(LearnedModel):
    """EmbeddingModel (models/base.py): ``TransformerModel(epochs=2, seed=0).fit(tracks)``.
    Fit skeleton, genre profile, embedding and persistence: models/learned.py."""

    name = "transformer"
    config_class = TransformerConfig
    network: FeatureTokenizerTransformer | None

    def __init__(self, *, seed: int = 0, progress: bool = True, **overrides) -> None:
        super().__init__(seed=seed, progress=progress, **overrides)
        if self.config.objective not in OBJECTIVES:
            objective = self.config.objective
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")

    def _new_network(self, audio_dim: int, genre_dim: int) -> FeatureTokenizerTransformer:
        return FeatureTokenizerTransformer(audio_dim, genre_dim, self.config)

    def _loss_fn(self, audio: torch.Tensor, genres: torch.Tensor) -> LossFn:
        cfg = self.config
        labeled = genres.sum(dim=1) > 0
        use_genre = cfg.objective in ("genre", "mix")
        use_masked = cfg.objective in ("masked", "mix")

        def loss_fn(net, rows, generator, training):
            audio_in, genre_in, has_genre = audio[rows], genres[rows], labeled[rows]
            keep = torch.rand(len(rows), generator=generator) >= cfg.genre_dropout
            masked = None
            if use_masked:
                masked = torch.rand(audio_in.shape, generator=generator) < cfg.mask_rate
            _, logits, values = net(audio_in, genre_in, keep, masked)
            loss = torch.zeros(())
            if use_masked and masked.any():
                loss = loss + nn.functional.mse_loss(values[masked], audio_in[masked])
            if use_genre and has_genre.any():
                target = genre_in[has_genre] / genre_in[has_genre].sum(1, keepdim=True)
                log_probs = torch.log_softmax(logits[has_genre], dim=1)
                loss = loss - (target * log_probs).sum(dim=1).mean()
            return loss

        return loss_fn

    def _figures(self, history: TrainingHistory, audio, genres, validation_rows) -> dict:
        return {**history.to_dict(), **self._genre_accuracy(audio, genres, validation_rows)}

    @torch.no_grad()
    def _genre_accuracy(self, audio, genres, validation_rows) -> dict:
        """Top-1 genre accuracy from audio alone (genre token UNKNOWN) on validation tracks."""
        rows = torch.as_tensor(validation_rows, dtype=torch.long)
        genre_in = genres[rows]
        labeled = genre_in.sum(dim=1) > 0
        if not labeled.any():
            return {"genre_accuracy_from_audio": None}
        unknown = torch.zeros(len(rows), dtype=torch.bool)
        _, logits, _ = self.network(audio[rows], genre_in, unknown)
        top = logits[labeled].argmax(dim=1)
        hits = genre_in[labeled].gather(1, top[:, None]).squeeze(1)
        return {"genre_accuracy_from_audio": round(float(hits.mean()), 4)}

    @torch.no_grad()
    def style_vectors(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, d_model): the CLS output (genre token UNKNOWN for holdout rows, and for
        every row when ``style_from_audio_only``)."""
        network = self._require_fitted()
        audio, genres = self._inputs(tracks)
        # holdout rows are all-zero, so UNKNOWN either way
        known = torch.full((len(tracks),), not self.config.style_from_audio_only)
        with deterministic_torch(self.seed):
            batches = zip(audio.split(4096), genres.split(4096), known.split(4096), strict=True)
            parts = [network(a, g, k)[0] for a, g, k in batches]
        return torch.cat(parts).numpy() if parts else np.zeros((0, self.config.d_model), "f4")

    def _style(self, tracks: pd.DataFrame) -> np.ndarray:
        return self.style_vectors(tracks)
