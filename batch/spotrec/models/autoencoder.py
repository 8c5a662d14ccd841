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

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec.models import features
from spotrec.models.embedding_parts import (
    AudioGenreClassifier,
    compose_embedding,
    fit_audio_genre_classifier,
    genre_profile,
)
from spotrec.models.training import (
    EpochLoopSettings,
    TrainingHistory,
    deterministic_torch,
    run_epochs,
    train_validation_split,
)

log = logging.getLogger("spotrec.models.autoencoder")

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
SCALER_FILE = "scaler.json"
CLASSIFIER_FILE = "genre_classifier.pt"


@dataclass(frozen=True)
class AutoencoderConfig:
    code_dim: int = 32
    hidden_dim: int = 256
    epochs: int = 12
    batch_size: int = 512
    learning_rate: float = 3e-3
    genre_dropout: float = 0.5
    genre_loss_weight: float = 1.0
    # Predicted genre profile (embedding_parts.genre_profile): its share of the cosine, the share of
    # the true labels in a labeled track's profile, and the audio -> genre classifier's size.
    genre_weight: float = 0.5
    genre_label_share: float = 0.5
    classifier_epochs: int = 16
    classifier_hidden: int = 256
    # Style vector from the audio-only pathway (genre input hidden) for EVERY track, so labeled
    # and unlabeled tracks share one space; labels enter the embedding via the genre profile.
    style_from_audio_only: bool = True
    artist_weight: float = 0.15
    jitter_weight: float = 0.01
    fingerprint_dim: int = 64
    validation_fraction: float = 0.1


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


class AutoencoderModel:
    """EmbeddingModel (models/base.py): ``AutoencoderModel(epochs=2, seed=0).fit(tracks)``."""

    name = "autoencoder"

    def __init__(self, *, seed: int = 0, progress: bool = True, **overrides) -> None:
        self.config = replace(AutoencoderConfig(), **overrides)
        self.seed = seed
        self.progress = progress
        self.network: AutoencoderNetwork | None = None
        self.scaler: features.FeatureScaler | None = None
        self.genres: list[str] = []
        self.genre_classifier: AudioGenreClassifier | None = None
        self.figures: dict = {}

    # --- training ------------------------------------------------------------------------------
    def fit(self, tracks: pd.DataFrame, *, seed: int | None = None) -> Self:
        seed = self.seed if seed is None else seed
        self.seed = seed
        cfg = self.config
        self.scaler = features.FeatureScaler.fit(tracks)
        self.genres = features.genre_vocabulary(tracks)
        audio = torch.from_numpy(self.scaler.transform(tracks))
        genres = torch.from_numpy(features.genre_matrix(tracks, self.genres))
        labeled = genres.sum(dim=1) > 0  # holdout rows are all zero: no genre input or target
        with deterministic_torch(seed):
            self.network = AutoencoderNetwork(
                audio.shape[1], genres.shape[1], cfg.hidden_dim, cfg.code_dim
            )

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

            train_rows, validation_rows = train_validation_split(
                len(tracks), cfg.validation_fraction, seed
            )
            history = run_epochs(
                self.network,
                loss_fn,
                train_rows,
                validation_rows,
                EpochLoopSettings(
                    epochs=cfg.epochs,
                    batch_size=cfg.batch_size,
                    learning_rate=cfg.learning_rate,
                    progress=self.progress,
                    description=self.name,
                ),
                seed,
            )
            self.figures = self._figures(history, audio, genres, validation_rows)
            self.genre_classifier, classifier_history = fit_audio_genre_classifier(
                audio,
                genres,
                EpochLoopSettings(
                    epochs=cfg.classifier_epochs,
                    batch_size=cfg.batch_size,
                    learning_rate=cfg.learning_rate,
                    progress=self.progress,
                    description=f"{self.name} genre classifier",
                ),
                hidden_dim=cfg.classifier_hidden,
                validation_fraction=cfg.validation_fraction,
                seed=seed,
            )
            self.figures["genre_classifier"] = (
                classifier_history.to_dict() if classifier_history else None
            )
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
    def _require_fitted(self) -> AutoencoderNetwork:
        if self.network is None or self.scaler is None or self.genre_classifier is None:
            raise RuntimeError("AutoencoderModel is not fitted: call fit() or load() first")
        return self.network

    @torch.no_grad()
    def genre_profiles(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, G) genre distributions (embedding_parts.genre_profile): predicted from audio,
        mixed with the true labels for labeled tracks; the prediction alone for holdout rows."""
        self._require_fitted()
        audio = torch.from_numpy(self.scaler.transform(tracks))
        genres = torch.from_numpy(features.genre_matrix(tracks, self.genres))
        with deterministic_torch(self.seed):
            return genre_profile(
                self.genre_classifier, audio, genres, self.config.genre_label_share
            )

    @torch.no_grad()
    def codes(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, code_dim): the code of each track (genres hidden for holdout rows)."""
        network = self._require_fitted()
        audio = torch.from_numpy(self.scaler.transform(tracks))
        genres = torch.from_numpy(features.genre_matrix(tracks, self.genres))
        if self.config.style_from_audio_only:
            genres = torch.zeros_like(genres)
        with deterministic_torch(self.seed):
            parts = [
                network(a, g)[0] for a, g in zip(audio.split(8192), genres.split(8192), strict=True)
            ]
        return torch.cat(parts).numpy() if parts else np.zeros((0, self.config.code_dim), "f4")

    def embed(self, tracks: pd.DataFrame) -> np.ndarray:
        cfg = self.config
        return compose_embedding(
            self.codes(tracks),
            tracks,
            genres=self.genre_profiles(tracks),
            genre_weight=cfg.genre_weight,
            artist_weight=cfg.artist_weight,
            jitter_weight=cfg.jitter_weight,
            dim=cfg.fingerprint_dim,
        )

    # --- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        network = self._require_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(network.state_dict(), directory / WEIGHTS_FILE)
        torch.save(self.genre_classifier.state_dict(), directory / CLASSIFIER_FILE)
        self.scaler.save(directory / SCALER_FILE)
        meta = {
            "model": self.name,
            "seed": self.seed,
            "config": asdict(self.config),
            "genres": self.genres,
            "figures": self.figures,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Self:
        directory = Path(directory)
        meta = json.loads((directory / CONFIG_FILE).read_text())
        if meta.get("model") != cls.name:
            raise ValueError(f"{directory} holds a {meta.get('model')!r} model, not {cls.name!r}")
        model = cls(seed=meta["seed"], progress=False, **meta["config"])
        model.genres = list(meta["genres"])
        model.figures = meta["figures"]
        model.scaler = features.FeatureScaler.load(directory / SCALER_FILE)
        cfg = model.config
        model.network = AutoencoderNetwork(
            len(model.scaler.columns), len(model.genres), cfg.hidden_dim, cfg.code_dim
        )
        state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
        model.network.load_state_dict(state)
        model.network.eval()
        model.genre_classifier = AudioGenreClassifier(
            len(model.scaler.columns), len(model.genres), model.config.classifier_hidden
        )
        classifier_state = torch.load(directory / CLASSIFIER_FILE, weights_only=True)
        model.genre_classifier.load_state_dict(classifier_state)
        model.genre_classifier.eval()
        return model

    def summary(self) -> dict:
        return {"model": self.name, "seed": self.seed, **asdict(self.config), **self.figures}
