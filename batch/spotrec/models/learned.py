"""What the two learned models (autoencoder.py, transformer.py) share: the fit skeleton, the two
training modes, the embedding and persistence. docs/learned-models.md says what each learns.

Inputs (models/content_inputs.py): audio profile, genres when known (never for holdout tracks),
the artist. Two modes, chosen by what ``fit`` is given:

* ``listening`` (``fit(tracks, listening=weights)``, the session_item_weights table of training
  sessions): content -> collaborative. The target of each track that was listened to is its
  collaborative vector (models/collaborative.py); the network's style vector goes through a
  linear ``listening_head`` to predict it (cosine regression or InfoNCE, ``listening_loss``),
  with genres and artists hidden at random so it also works without them. Then EVERY track,
  listened to or not, is embedded by the network: a track nobody has played gets neighbours
  shaped by how people listen to tracks whose content resembles it. The autoencoder also keeps its
  reconstruction objective, weighted by ``reconstruction_weight``.
* ``self-supervised`` (no listening): each model's own objective (autoencoder: reconstruction;
  transformer: genre prediction / masked features); the embedding is the style vector.

Saved files: config.json (name, seed, mode, config, genre vocabulary, figures), artists.json
(artist vocabulary), scaler.json, weights.pt (a torch state dict, loaded with weights_only=True).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec import schema
from spotrec.models import features
from spotrec.models.collaborative import collaborative_vectors
from spotrec.models.content_inputs import (
    LISTENING_LOSSES,
    ContentInputs,
    artist_vocabulary,
    listening_loss,
)
from spotrec.models.training import (
    EpochLoopSettings,
    LossFn,
    deterministic_torch,
    run_epochs,
    train_validation_split,
)

CONFIG_FILE = "config.json"
ARTISTS_FILE = "artists.json"
WEIGHTS_FILE = "weights.pt"
SCALER_FILE = "scaler.json"
LISTENING, SELF_SUPERVISED = "listening", "self-supervised"
EMBED_BATCH = 4096


@dataclass(frozen=True)
class LearnedConfig:
    """The settings both learned models share."""

    batch_size: int = 512
    learning_rate: float = 3e-3
    genre_dropout: float = 0.5
    artist_dropout: float = 0.25
    artist_dim: int = 32
    max_artists: int = 4
    # content -> collaborative (listening mode)
    listening_dim: int = 32
    listening_loss: str = "cosine"  # beat InfoNCE on planted tastes (docs/learned-models.md)
    tau: float = 0.1
    min_listened_tracks: int = 20  # fewer tracks with listening: self-supervised instead
    # Listening mode: training rows (tracks with listening) drawn afresh each epoch; None: all.
    # The count of tracks with listening grows with the sessions (40k at 5,000, 50k at
    # 100,000 on the real catalogue), so without a cap an epoch costs more the more people
    # listen; with one, the fit's cost is fixed (docs/performance.md, "Session 5").
    listening_rows_per_epoch: int | None = None
    validation_fraction: float = 0.1


class LearnedModel:
    """Base of AutoencoderModel and TransformerModel (EmbeddingModel, models/base.py)."""

    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, *, seed: int = 0, progress: bool = True, **overrides) -> None:
        self.config = replace(self.config_class(), **overrides)
        if self.config.listening_loss not in LISTENING_LOSSES:
            kind = self.config.listening_loss
            raise ValueError(f"listening_loss must be one of {LISTENING_LOSSES}, got {kind!r}")
        self.seed = seed
        self.progress = progress
        self.mode = SELF_SUPERVISED
        self.network: nn.Module | None = None
        self.scaler: features.FeatureScaler | None = None
        self.genres: list[str] = []
        self.artists: list[str] = []
        self.figures: dict = {}

    # --- what each model defines ---------------------------------------------------------------
    def _new_network(self, audio_dim: int, genre_dim: int, n_artists: int) -> nn.Module:
        """A module with ``style_dim`` and ``style(ContentInputs) -> (b, style_dim)``."""
        raise NotImplementedError

    def _self_supervised_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor:
        raise NotImplementedError

    def _auxiliary_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor | None:
        """An extra term added in listening mode (autoencoder: reconstruction); None: none."""
        return None

    @torch.no_grad()
    def _self_supervised_figures(self, inputs: ContentInputs, validation: torch.Tensor) -> dict:
        return {}

    # --- training ------------------------------------------------------------------------------
    def _inputs(self, tracks: pd.DataFrame) -> ContentInputs:
        return ContentInputs.of(
            tracks, self.scaler, self.genres, self.artists, self.config.max_artists
        )

    def _build_network(self) -> nn.Module:
        network = self._new_network(len(self.scaler.columns), len(self.genres), len(self.artists))
        if self.mode == LISTENING:
            network.listening_head = nn.Linear(network.style_dim, self.config.listening_dim)
        return network

    def _listening_targets(self, tracks, listening, seed) -> tuple[torch.Tensor | None, np.ndarray]:
        """(collaborative vectors or None when there is too little listening, has_evidence)."""
        if listening is None or len(listening) == 0:
            return None, np.zeros(len(tracks), dtype=bool)
        vectors, has_evidence = collaborative_vectors(
            listening, tracks[schema.TRACK_ID].to_numpy(), dim=self.config.listening_dim, seed=seed
        )
        if has_evidence.sum() < max(2, self.config.min_listened_tracks):
            return None, has_evidence
        return torch.from_numpy(vectors), has_evidence

    def _listening_loss_fn(self, inputs: ContentInputs, targets: torch.Tensor) -> LossFn:
        cfg = self.config

        def loss_fn(net, rows, generator, training):
            batch = inputs.rows(rows)
            corrupted = batch.corrupted(cfg.genre_dropout, cfg.artist_dropout, generator)
            predicted = net.listening_head(net.style(corrupted))
            loss = listening_loss(predicted, targets[rows], cfg.listening_loss, cfg.tau)
            auxiliary = self._auxiliary_loss(net, batch, generator)
            return loss if auxiliary is None else loss + auxiliary

        return loss_fn

    def fit(
        self,
        tracks: pd.DataFrame,
        *,
        seed: int | None = None,
        listening: pd.DataFrame | None = None,
    ) -> Self:
        seed = self.seed if seed is None else seed
        self.seed = seed
        cfg = self.config
        self.scaler = features.FeatureScaler.fit(tracks)
        self.genres = features.genre_vocabulary(tracks)
        self.artists = artist_vocabulary(tracks)
        inputs = self._inputs(tracks)
        targets, has_evidence = self._listening_targets(tracks, listening, seed)
        self.mode = LISTENING if targets is not None else SELF_SUPERVISED
        rows = np.flatnonzero(has_evidence) if targets is not None else np.arange(len(tracks))
        with deterministic_torch(seed):
            self.network = self._build_network()
            if targets is not None:
                loss_fn = self._listening_loss_fn(inputs, targets)
            else:
                loss_fn = lambda net, batch_rows, generator, training: (  # noqa: E731
                    self._self_supervised_loss(net, inputs.rows(batch_rows), generator)
                )
            train, validation = train_validation_split(len(rows), cfg.validation_fraction, seed)
            settings = EpochLoopSettings(
                epochs=cfg.epochs,
                batch_size=cfg.batch_size,
                learning_rate=cfg.learning_rate,
                progress=self.progress,
                description=f"{self.name} ({self.mode})",
                rows_per_epoch=cfg.listening_rows_per_epoch if targets is not None else None,
            )
            history = run_epochs(
                self.network, loss_fn, rows[train], rows[validation], settings, seed
            )
            validation_rows = torch.as_tensor(rows[validation], dtype=torch.long)
            self.figures = {
                "mode": self.mode,
                "tracks_with_listening": int(has_evidence.sum()),
                **history.to_dict(),
                **(
                    self._listening_figures(inputs, targets, validation_rows)
                    if targets is not None
                    else self._self_supervised_figures(inputs, validation_rows)
                ),
            }
        return self

    @torch.no_grad()
    def _listening_figures(self, inputs, targets, validation: torch.Tensor) -> dict:
        """Validation tracks' listening was never a training target: how close the network puts
        them to their own collaborative vector, against another track's (chance level)."""
        predicted = nn.functional.normalize(
            self.network.listening_head(self.network.style(inputs.rows(validation))), dim=1
        )
        own = (predicted * targets[validation]).sum(dim=1)
        other = (predicted * targets[validation.roll(1)]).sum(dim=1)
        return {
            "validation_cosine_to_own_listening": round(float(own.mean()), 4),
            "validation_cosine_to_other_listening": round(float(other.mean()), 4),
            "validation_tracks": len(validation),
        }

    # --- embedding -----------------------------------------------------------------------------
    def _require_fitted(self) -> nn.Module:
        if self.network is None or self.scaler is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() or load() first")
        return self.network

    @torch.no_grad()
    def style_vectors(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 (n, style_dim): the network's style vector (code / CLS output) of each track,
        from its audio, genres when known (never for holdout tracks) and artists."""
        network = self._require_fitted()
        inputs = self._inputs(tracks)
        with deterministic_torch(self.seed):
            parts = [network.style(batch) for batch in inputs.split(EMBED_BATCH)]
        return torch.cat(parts).numpy() if parts else np.zeros((0, network.style_dim), "f4")

    @torch.no_grad()
    def embed(self, tracks: pd.DataFrame) -> np.ndarray:
        """Listening mode: the predicted collaborative vector (unit rows) of every track;
        self-supervised: the style vector."""
        style = torch.from_numpy(self.style_vectors(tracks))
        if self.mode != LISTENING:
            return style.numpy()
        with deterministic_torch(self.seed):
            predicted = self.network.listening_head(style)
        return nn.functional.normalize(predicted, dim=1).numpy().astype(np.float32)

    # --- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        network = self._require_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(network.state_dict(), directory / WEIGHTS_FILE)
        self.scaler.save(directory / SCALER_FILE)
        (directory / ARTISTS_FILE).write_text(json.dumps(self.artists))
        meta = {
            "model": self.name,
            "seed": self.seed,
            "mode": self.mode,
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
        model.mode = meta["mode"]
        model.genres = list(meta["genres"])
        model.figures = meta["figures"]
        model.artists = json.loads((directory / ARTISTS_FILE).read_text())
        model.scaler = features.FeatureScaler.load(directory / SCALER_FILE)
        network = model._build_network()
        # weights_only: a plain state dict of tensors, no pickled objects
        network.load_state_dict(torch.load(directory / WEIGHTS_FILE, weights_only=True))
        model.network = network.eval()
        return model

    def summary(self) -> dict:
        return {"model": self.name, "seed": self.seed, **asdict(self.config), **self.figures}
