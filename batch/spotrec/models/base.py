"""The shared model interface. One module per model implements it (cosine, autoencoder,
transformer); the blend fuses neighbour lists instead and has its own small interface.

A model turns the catalogue (tracks.parquet as a DataFrame, see schema.py) into one float32
embedding per track. FAISS (neighbours.py) turns embeddings into top-N lists, the same way for
every model, by composition: models know nothing about search.

Rules every model follows:
- tracks with ``holdout == True`` have their genres hidden from inputs *and* training targets;
- ``fit`` with the same data and seed gives the same embeddings (deterministic);
- ``save`` writes no pickle: JSON, .npy, or a torch state dict loaded with weights_only=True.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Self, runtime_checkable

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
