"""The parts both learned models join to their style vectors: the audio-only genre classifier and
the predicted genre profile it gives, the artist fingerprint, the tie-breaking jitter, and
compose_embedding, which weighs them into one embedding (see docs/learned-models.md)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from spotrec import schema
from spotrec.models.training import (
    EpochLoopSettings,
    TrainingHistory,
    run_epochs,
    train_validation_split,
)
from spotrec_serving.names import identity_key

log = logging.getLogger("spotrec.models.training")


class AudioGenreClassifier(nn.Module):
    """Audio profile -> genre logits. It never sees a genre as input, so its prediction for a
    track without labels (cold start) is made exactly as for a labeled one."""

    def __init__(self, audio_dim: int, genre_dim: int, hidden_dim: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(audio_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, genre_dim),
        )

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.layers(audio)


def fit_audio_genre_classifier(
    audio: torch.Tensor,
    genres: torch.Tensor,
    settings: EpochLoopSettings,
    *,
    hidden_dim: int,
    validation_fraction: float,
    seed: int,
) -> tuple[AudioGenreClassifier, TrainingHistory | None]:
    """Supervised audio -> genre (softmax cross-entropy against the multi-hot spread evenly
    over the track's genres), trained on the labeled rows only: holdout rows (all-zero genre
    rows) are never a target. Call inside ``deterministic_torch``. With fewer than 2 labeled
    rows there is nothing to learn: the untrained classifier is returned with no history."""
    classifier = AudioGenreClassifier(audio.shape[1], genres.shape[1], hidden_dim)
    labeled_rows = np.flatnonzero((genres.sum(dim=1) > 0).numpy())
    if len(labeled_rows) < 2 or genres.shape[1] == 0:
        classifier.eval()
        return classifier, None
    train, validation = train_validation_split(len(labeled_rows), validation_fraction, seed)
    targets = genres / genres.sum(dim=1, keepdim=True).clamp(min=1.0)

    def loss_fn(net, rows, generator, training):
        log_probs = torch.log_softmax(net(audio[rows]), dim=1)
        return -(targets[rows] * log_probs).sum(dim=1).mean()

    history = run_epochs(
        classifier, loss_fn, labeled_rows[train], labeled_rows[validation], settings, seed
    )
    return classifier, history


@torch.no_grad()
def genre_profile(
    classifier: AudioGenreClassifier, audio: torch.Tensor, genres: torch.Tensor, label_share: float
) -> np.ndarray:
    """float32 (n, G) probability rows: ``label_share`` * true genre distribution +
    (1 - label_share) * the classifier's prediction for labeled rows; the prediction alone for
    rows without labels (holdout). Mixing keeps labeled and unlabeled tracks in one space: a
    pure multi-hot would sit at the simplex corners, far from any (soft) prediction."""
    if not 0.0 <= label_share <= 1.0:
        raise ValueError(f"label_share must be in [0, 1], got {label_share}")
    classifier.eval()
    parts = [torch.softmax(classifier(a), dim=1) for a in audio.split(8192)]
    predicted = torch.cat(parts) if parts else torch.zeros(genres.shape)
    labeled = genres.sum(dim=1, keepdim=True) > 0
    truth = genres / genres.sum(dim=1, keepdim=True).clamp(min=1.0)
    mixed = label_share * truth + (1.0 - label_share) * predicted
    return torch.where(labeled, mixed, predicted).numpy().astype(np.float32)


def _hashed_unit_vector(key: str, dim: int, salt: str) -> np.ndarray:
    """A fixed random unit vector per key, seeded by a hash of the key (stable across runs)."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    vector = np.random.default_rng(int.from_bytes(digest, "little")).standard_normal(dim)
    return vector / np.linalg.norm(vector)


def artist_fingerprints(artists: Sequence[Sequence[str]], dim: int) -> np.ndarray:
    """float32 (n, dim) unit vectors: the normalized sum of a fixed random unit vector per artist.

    This is a random projection of the artist multi-hot: with dim = 64, two different artists'
    vectors have cosine ~N(0, 1/64), the same artist's exactly 1. Each artist's vector is
    seeded by a hash of its normalized name, so a track's fingerprint depends only on its own
    artists (embedding a subset of the catalogue gives the same rows). A track without
    artists gets a zero row.
    """
    cache: dict[str, np.ndarray] = {}
    out = np.zeros((len(artists), dim), dtype=np.float64)
    for row, names in enumerate(artists):
        for name in names:
            key = identity_key(str(name))
            if key:
                if key not in cache:
                    cache[key] = _hashed_unit_vector(key, dim, "artist")
                out[row] += cache[key]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def track_jitter(track_ids: Sequence[str], dim: int) -> np.ndarray:
    """float32 (n, dim): a fixed random unit vector per track id (see compose_embedding)."""
    return np.array([_hashed_unit_vector(str(t), dim, "track") for t in track_ids], np.float32)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def compose_embedding(
    style: np.ndarray,
    tracks: pd.DataFrame,
    *,
    artist_weight: float,
    jitter_weight: float,
    dim: int,
    genres: np.ndarray | None = None,
    genre_weight: float = 0.0,
) -> np.ndarray:
    """[sqrt(1-g-a-j) * unit(style), sqrt(g) * unit(genre profile), sqrt(a) * artist
    fingerprint, sqrt(j) * track jitter].

    The cosine of two such rows is (1-g-a-j) * style cosine + g * genre-profile cosine
    + a * artist cosine + j * jitter cosine, so g, a and j are shares of the similarity:

    * genre profile (g): the predicted / mixed genre distribution (``genre_profile``); learned
      from audio, it is what places a track without labels among the right genres.

    * artist (a): tracks sharing an artist get +a, which brings the artist's other work into
      the list (same-artist@10) without any genre input: it also works for unlabeled tracks.
    * jitter (j): variants of one song (and other exact duplicates) have near-identical
      style vectors, so without it every seed would pick the same variant id and the others
      would never be recommended (coverage). A tiny per-track random term (std j/sqrt(dim))
      breaks these ties differently for each seed; it is far below real style differences.
    """
    weights = (genre_weight, artist_weight, jitter_weight)
    if min(weights) < 0 or sum(weights) >= 1:
        raise ValueError(
            f"genre_weight ({genre_weight}), artist_weight ({artist_weight}) and jitter_weight "
            f"({jitter_weight}) must be >= 0 with a sum below 1"
        )
    if genre_weight > 0 and genres is None:
        raise ValueError("genre_weight > 0 needs the genre profile rows")
    parts = [np.sqrt(1.0 - sum(weights)) * _unit_rows(style)]
    if genre_weight > 0:
        parts.append(np.sqrt(genre_weight) * _unit_rows(genres))
    if artist_weight > 0:
        parts.append(np.sqrt(artist_weight) * artist_fingerprints(tracks[schema.ARTISTS], dim))
    if jitter_weight > 0:
        parts.append(np.sqrt(jitter_weight) * track_jitter(tracks[schema.TRACK_ID], dim))
    return np.hstack(parts).astype(np.float32)
