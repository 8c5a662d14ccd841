"""The shared model interface. One module per model implements it (cosine, autoencoder,
transformer); the blend fuses neighbour lists instead and has its own small interface.

Listening data: a model that learns from listening takes it as an optional keyword,
``fit(tracks, *, seed=0, listening=None)``, where ``listening`` is the session_item_weights
table (session_id, track_id, weight) of TRAINING sessions only. A model whose ``fit`` has no
``listening`` parameter never sees it (``fit_model``). Held-out sessions never reach a model.
The co-listening model (models/colistening.py) learns from listening alone and gives lists,
not embeddings: ``ListeningModel`` below.

A model turns the catalogue (tracks.parquet as a DataFrame, see schema.py) into one float32
embedding per track. FAISS (neighbours.py) turns embeddings into top-N lists, the same way for
every model, by composition: models know nothing about search.

Rules every model follows:
- tracks with ``holdout == True`` have their genres hidden from inputs *and* training targets;
- ``fit`` with the same data and seed gives the same embeddings (deterministic);
- ``save`` writes no pickle: JSON, .npy, or a torch state dict loaded with weights_only=True.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd


@runtime_checkable
class EmbeddingModel(Protocol):
    name: str

    def fit(self, tracks: pd.DataFrame, *, seed: int = 0) -> Self:
        """Learn from the catalogue. Returns self."""
        ...

    def embed(self, tracks: pd.DataFrame) -> np.ndarray:
        """float32 array (len(tracks), dim), row i = tracks.iloc[i]. Need not be normalized."""
        ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Self: ...

    def summary(self) -> dict:
        """JSON-able training figures for the manifest and report (losses, settings)."""
        ...


@runtime_checkable
class ListeningModel(Protocol):
    """A model whose output is neighbour lists learned from listening (no embedding)."""

    name: str

    def fit(
        self, tracks: pd.DataFrame, *, seed: int = 0, listening: pd.DataFrame | None = None
    ) -> Self: ...

    def evidence_lists(self, song_codes: np.ndarray, top_n: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices int64 (n, top_n), scores float32): -1 / -inf where evidence runs out."""
        ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Self: ...

    def summary(self) -> dict: ...


def takes_listening(model: Any) -> bool:
    return "listening" in inspect.signature(model.fit).parameters


def fit_model(model: Any, tracks: pd.DataFrame, seed: int, listening: pd.DataFrame | None):
    """``model.fit(tracks, seed=seed)``, plus ``listening=`` when the model takes it."""
    if takes_listening(model):
        return model.fit(tracks, seed=seed, listening=listening)
    return model.fit(tracks, seed=seed)
