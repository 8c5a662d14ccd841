"""What the two learned models (autoencoder.py, transformer.py) share: one fit skeleton (scaler,
genre vocabulary, the network's epoch loop, then the audio -> genre classifier), the genre
profile, the composed embedding (embedding_parts.compose_embedding), and persistence.

A subclass sets ``name`` and ``config_class`` (a frozen dataclass extending LearnedConfig with
its network's settings and ``epochs``) and implements ``_new_network``, ``_loss_fn``,
``_figures`` and ``_style``.

Saved files: config.json (name, seed, config, genre vocabulary, figures), scaler.json, and two
torch state dicts (weights.pt, genre_classifier.pt) loaded with ``weights_only=True``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import ClassVar, Self, TypeVar

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
    LossFn,
    TrainingHistory,
    deterministic_torch,
    run_epochs,
    train_validation_split,
)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
SCALER_FILE = "scaler.json"
CLASSIFIER_FILE = "genre_classifier.pt"

ModuleT = TypeVar("ModuleT", bound=nn.Module)


@dataclass(frozen=True)
class LearnedConfig:
    """The settings both learned models share: training loop and the embedding's parts."""

    batch_size: int = 512
    learning_rate: float = 3e-3
    genre_dropout: float = 0.5
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


class LearnedModel:
    """Base of AutoencoderModel and TransformerModel (EmbeddingModel, models/base.py)."""

    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, *, seed: int = 0, progress: bool = True, **overrides) -> None:
        self.config = replace(self.config_class(), **overrides)
        self.seed = seed
        self.progress = progress
        self.network: nn.Module | None = None
        self.scaler: features.FeatureScaler | None = None
        self.genres: list[str] = []
        self.genre_classifier: AudioGenreClassifier | None = None
        self.figures: dict = {}

    # --- what each model defines ---------------------------------------------------------------
    def _new_network(self, audio_dim: int, genre_dim: int) -> nn.Module:
        raise NotImplementedError

    def _loss_fn(self, audio: torch.Tensor, genres: torch.Tensor) -> LossFn:
        raise NotImplementedError

    def _figures(self, history: TrainingHistory, audio, genres, validation_rows) -> dict:
        raise NotImplementedError

    def _style(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, d): the network's style vector of each track."""
        raise NotImplementedError

    # --- training ------------------------------------------------------------------------------
    def _inputs(self, tracks: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        """(standardized audio (n, A), genre multi-hot (n, G); all zero for holdout rows)."""
        audio = torch.from_numpy(self.scaler.transform(tracks))
        genres = torch.from_numpy(features.genre_matrix(tracks, self.genres))
        return audio, genres

    def _loop_settings(self, epochs: int, description: str) -> EpochLoopSettings:
        cfg = self.config
        return EpochLoopSettings(
            epochs=epochs,
            batch_size=cfg.batch_size,
            learning_rate=cfg.learning_rate,
            progress=self.progress,
            description=description,
        )

    def fit(self, tracks: pd.DataFrame, *, seed: int | None = None) -> Self:
        seed = self.seed if seed is None else seed
        self.seed = seed
        cfg = self.config
        self.scaler = features.FeatureScaler.fit(tracks)
        self.genres = features.genre_vocabulary(tracks)
        audio, genres = self._inputs(tracks)
        with deterministic_torch(seed):
            self.network = self._new_network(audio.shape[1], genres.shape[1])
            loss_fn = self._loss_fn(audio, genres)
            train_rows, validation_rows = train_validation_split(
                len(tracks), cfg.validation_fraction, seed
            )
            history = run_epochs(
                self.network,
                loss_fn,
                train_rows,
                validation_rows,
                self._loop_settings(cfg.epochs, self.name),
                seed,
            )
            self.figures = self._figures(history, audio, genres, validation_rows)
            self.genre_classifier, classifier_history = fit_audio_genre_classifier(
                audio,
                genres,
                self._loop_settings(cfg.classifier_epochs, f"{self.name} genre classifier"),
                hidden_dim=cfg.classifier_hidden,
                validation_fraction=cfg.validation_fraction,
                seed=seed,
            )
            self.figures["genre_classifier"] = (
                classifier_history.to_dict() if classifier_history else None
            )
        return self

    # --- embedding -----------------------------------------------------------------------------
    def _require_fitted(self) -> nn.Module:
        if self.network is None or self.scaler is None or self.genre_classifier is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load() first")
        return self.network

    @torch.no_grad()
    def genre_profiles(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, G) genre distributions (embedding_parts.genre_profile): predicted from audio,
        mixed with the true labels for labeled tracks; the prediction alone for holdout rows."""
        self._require_fitted()
        audio, genres = self._inputs(tracks)
        with deterministic_torch(self.seed):
            return genre_profile(
                self.genre_classifier, audio, genres, self.config.genre_label_share
            )

    def embed(self, tracks: pd.DataFrame) -> np.ndarray:
        cfg = self.config
        return compose_embedding(
            self._style(tracks),
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
        audio_dim, genre_dim = len(model.scaler.columns), len(model.genres)
        model.network = _load_state(
            model._new_network(audio_dim, genre_dim), directory / WEIGHTS_FILE
        )
        model.genre_classifier = _load_state(
            AudioGenreClassifier(audio_dim, genre_dim, model.config.classifier_hidden),
            directory / CLASSIFIER_FILE,
        )
        return model

    def summary(self) -> dict:
        return {"model": self.name, "seed": self.seed, **asdict(self.config), **self.figures}


def _load_state(module: ModuleT, path: Path) -> ModuleT:
    """``module`` with the plain state dict at ``path`` (no pickle: weights_only), in eval mode."""
    module.load_state_dict(torch.load(path, weights_only=True))
    module.eval()
    return module
