"""What the two learned models (autoencoder, transformer) read about a track, and the objective
that maps it onto listening.

Content inputs (``ContentInputs``), one row per track:

* ``audio``: the standardized audio profile (features.FeatureScaler);
* ``genres``: the genre multi-hot, all zero for holdout tracks (their genres are hidden from
  inputs and targets) and for tracks without genres;
* ``artists``: up to ``max_artists`` indices into the model's artist vocabulary (0 = none or
  unknown). The vocabulary is every artist of the catalogue the model was fitted on; an artist
  is a name, not a label, so holdout tracks keep theirs. Each network learns one vector per
  artist (``ArtistEmbedding``), started at zero so an artist that never reaches a training
  target adds nothing rather than noise.

Listening objective (``listening_loss``): the network's prediction for a track against the
track's collaborative vector (models/collaborative.py), either cosine regression or InfoNCE
(each prediction must pick its own track's vector among the batch's, temperature ``tau``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec import schema
from spotrec.models import features
from spotrec_serving.names import identity_key

LISTENING_LOSSES = ("cosine", "infonce")


def artist_vocabulary(tracks: pd.DataFrame) -> list[str]:
    """Sorted normalized artist names of the catalogue (index i + 1 in the artist input)."""
    return sorted({identity_key(str(a)) for names in tracks[schema.ARTISTS] for a in names} - {""})


def artist_indices(
    artists: Sequence[Sequence[str]], vocabulary: Sequence[str], max_artists: int
) -> np.ndarray:
    """int64 (n, max_artists): 1-based vocabulary indices, 0 for padding and unknown artists."""
    index_of = {name: i + 1 for i, name in enumerate(vocabulary)}
    out = np.zeros((len(artists), max_artists), dtype=np.int64)
    for row, names in enumerate(artists):
        keys = [index_of.get(identity_key(str(a)), 0) for a in names]
        known = [k for k in keys if k][:max_artists]
        out[row, : len(known)] = known
    return out


@dataclass
class ContentInputs:
    audio: torch.Tensor  # float32 (n, A)
    genres: torch.Tensor  # float32 (n, G) multi-hot, zero rows = genres unknown / hidden
    artists: torch.Tensor  # int64 (n, max_artists), 0 = none

    @classmethod
    def of(
        cls,
        tracks: pd.DataFrame,
        scaler: features.FeatureScaler,
        genres: Sequence[str],
        artists: Sequence[str],
        max_artists: int,
    ) -> ContentInputs:
        return cls(
            torch.from_numpy(scaler.transform(tracks)),
            torch.from_numpy(features.genre_matrix(tracks, genres)),
            torch.from_numpy(artist_indices(tracks[schema.ARTISTS], artists, max_artists)),
        )

    def __len__(self) -> int:
        return len(self.audio)

    def rows(self, rows: torch.Tensor) -> ContentInputs:
        return ContentInputs(self.audio[rows], self.genres[rows], self.artists[rows])

    def corrupted(self, genre_dropout: float, artist_dropout: float, generator) -> ContentInputs:
        """Genres and artists hidden at random, so the network also learns to place a track
        from what is left (holdout tracks have no genres; new artists have no vector)."""
        n = len(self)
        keep_genre = torch.rand(n, 1, generator=generator) >= genre_dropout
        keep_artist = torch.rand(n, 1, generator=generator) >= artist_dropout
        return ContentInputs(self.audio, self.genres * keep_genre, self.artists * keep_artist)

    def split(self, size: int) -> list[ContentInputs]:
        starts = range(0, len(self), size)
        return [self.rows(torch.arange(i, min(i + size, len(self)))) for i in starts]


class ArtistEmbedding(nn.Module):
    """Mean of a learned vector per known artist; zero for a track with no known artist."""

    def __init__(self, n_artists: int, dim: int):
        super().__init__()
        self.bag = nn.EmbeddingBag(n_artists + 1, dim, mode="mean", padding_idx=0)
        nn.init.zeros_(self.bag.weight)

    def forward(self, artists: torch.Tensor) -> torch.Tensor:
        return self.bag(artists)


def listening_loss(
    predicted: torch.Tensor, target: torch.Tensor, kind: str, tau: float
) -> torch.Tensor:
    predicted = nn.functional.normalize(predicted, dim=1)
    if kind == "cosine":
        return 1.0 - (predicted * target).sum(dim=1).mean()
    if kind == "infonce":
        logits = predicted @ target.T / tau
        return nn.functional.cross_entropy(logits, torch.arange(len(predicted)))
    raise ValueError(f"listening_loss must be one of {LISTENING_LOSSES}, got {kind!r}")


def genre_cross_entropy(logits: torch.Tensor, genres: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy against the multi-hot spread evenly over the track's genres, on the
    rows that have genres (never a holdout row: theirs are zero); 0 when no row has one."""
    labeled = genres.sum(dim=1) > 0
    if not labeled.any():
        return torch.zeros(())
    target = genres[labeled] / genres[labeled].sum(dim=1, keepdim=True)
    return -(target * torch.log_softmax(logits[labeled], dim=1)).sum(dim=1).mean()
