"""Model 1, cosine similarity: each track's profile is one vector, and FAISS finds the tracks whose
profiles point the same way (inner product of L2-normalized vectors).

The profile is the weighted concatenation of two blocks plus an artist pull, each scaled to
unit expected norm before its weight is applied, so the weights read as "how much of the
similarity comes from this block":

* **audio**: the standardized audio profile of features.py (12 Spotify audio features with key
  on the circle, popularity, log duration, explicit), with per-feature multipliers, divided by
  the norm of the multipliers;
* **genre**: the genre multi-hot divided by its row norm, so a track listed under 3 genres is
  not 3x more "genre" than a single-genre one (holdout tracks: all zero);
* **artist**: the mean of the (audio + genre) blocks of all catalogue tracks by the same
  artist(s), ADDED to the track's own blocks with its weight (shrinkage toward the artist's
  style; same dimensions, so it costs FAISS nothing). A track's style is partly its artist's
  style; the pull brings an artist's tracks together (same-artist discovery) without an
  identity code, so two different artists with the same sound still match. A diverse artist's
  mean is short, so it pulls less. Artists unseen at fit time add nothing.

With ``center`` the catalogue's mean profile is subtracted before FAISS normalizes (a standard
hubness reduction: the non-negative genre block otherwise makes every vector lean the same
way, and a few tracks near that shared direction become everyone's neighbour).

The defaults come from the sweep in docs/cosine-weighting.md (full real catalogue, k = 10).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.models.features import (
    AUDIO_PROFILE_COLUMNS,
    FeatureScaler,
    genre_matrix,
    genre_vocabulary,
)

CONFIG_FILE = "cosine.json"
ARTIST_PROFILES_FILE = "artist_profiles.npy"
MEAN_FILE = "mean.npy"

DEFAULT_AUDIO_WEIGHT = 1.0
DEFAULT_GENRE_WEIGHT = 0.35
DEFAULT_ARTIST_WEIGHT = 0.5
DEFAULT_FEATURE_WEIGHTS: dict[str, float] = {}  # column -> multiplier; absent = 1.0
DEFAULT_CENTER = False
WEIGHTING_RATIONALE = (
    "Lowest-hubness setting that clears every bar with margin on the full catalogue (k=10): "
    "genre 0.35 keeps lists mostly in-genre without locking them there (0.5+ gives 0.95-0.99 "
    "precision), the artist pull 0.5 lifts same-artist from 0.38 to 0.58. "
    "Sweep: docs/cosine-weighting.md"
)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _exploded_artists(artists: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(track position, artist name) of every artist entry, in track then list order."""
    lengths = np.fromiter((len(names) for names in artists), dtype=np.int64, count=len(artists))
    positions = np.repeat(np.arange(len(artists)), lengths)
    names = pd.Series([name for names in artists for name in names], dtype=object)
    return positions, names


def _artist_factors(artists: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(track position, artist code, sorted artist names) of every non-empty artist entry."""
    positions, names = _exploded_artists(artists)
    keep = (names.notna() & (names.astype(str) != "")).to_numpy()
    codes, uniques = pd.factorize(names[keep].astype(str), sort=True)
    return positions[keep], codes, [str(a) for a in uniques]


def _artist_codes(artists: pd.Series, known: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(track position, row in ``known`` or -1) of every artist entry."""
    positions, names = _exploded_artists(artists)
    return positions, known.get_indexer(names)


class CosineModel:
    name = "cosine"

    def __init__(
        self,
        *,
        audio_weight: float = DEFAULT_AUDIO_WEIGHT,
        genre_weight: float = DEFAULT_GENRE_WEIGHT,
        artist_weight: float = DEFAULT_ARTIST_WEIGHT,
        feature_weights: dict[str, float] | None = None,
        center: bool = DEFAULT_CENTER,
    ):
        weights = {"audio": audio_weight, "genre": genre_weight, "artist": artist_weight}
        if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
            raise ValueError(f"block weights must be >= 0 and not all 0, got {weights}")
        self.audio_weight = float(audio_weight)
        self.genre_weight = float(genre_weight)
        self.artist_weight = float(artist_weight)
        fw = dict(DEFAULT_FEATURE_WEIGHTS if feature_weights is None else feature_weights)
        unknown = sorted(set(fw) - set(AUDIO_PROFILE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown feature weight column(s) {unknown}")
        self.feature_weights = fw
        self.center = bool(center)
        self.mean = np.zeros(0, dtype=np.float32)
        self.scaler: FeatureScaler | None = None
        self.reference_scaler: FeatureScaler | None = None  # the previous build's (fit keeps it
        # while the catalogue's statistics barely moved: features.MAX_SCALER_DRIFT)
        self.genres: list[str] = []
        self.artists: list[str] = []
        self.artist_profiles = np.zeros((0, 0), dtype=np.float32)

    # --- profile blocks ------------------------------------------------------------------------
    def _feature_multipliers(self) -> np.ndarray:
        return np.array([self.feature_weights.get(c, 1.0) for c in AUDIO_PROFILE_COLUMNS])

    def _style_blocks(self, tracks: pd.DataFrame) -> np.ndarray:
        """[audio | genre] blocks, each at unit expected norm times its weight."""
        multipliers = self._feature_multipliers()
        scale = np.linalg.norm(multipliers) or 1.0
        audio = self.scaler.transform(tracks) * (multipliers / scale).astype(np.float32)
        genre = _unit_rows(genre_matrix(tracks, self.genres))
        return np.hstack([self.audio_weight * audio, self.genre_weight * genre]).astype(np.float32)

    def _artist_block(self, tracks: pd.DataFrame) -> np.ndarray:
        """Mean style of each track's artists (zero for artists unseen at fit time).

        Vectorised by artist slot: the j-th known artist of every track is added in one step,
        in list order, in float32, then divided by the count, so each row is bit-identical to
        ``artist_profiles[rows].mean(axis=0)`` over that row's known artists (the per-row loop
        it replaces cost about two thirds of fit:cosine at 1M tracks)."""
        block = np.zeros((len(tracks), self.artist_profiles.shape[1]), dtype=np.float32)
        if self.artist_weight == 0 or not self.artists:
            return block
        positions, codes = _artist_codes(tracks[schema.ARTISTS], pd.Index(self.artists))
        known = codes >= 0
        positions, codes = positions[known], codes[known]
        # slot = how many known artists of the same track come before this one
        first = np.r_[True, positions[1:] != positions[:-1]] if len(positions) else positions
        run_start = np.maximum.accumulate(np.where(first, np.arange(len(positions)), 0))
        slot = np.arange(len(positions)) - run_start
        for j in range(int(slot.max()) + 1 if len(slot) else 0):
            at = slot == j
            block[positions[at]] += self.artist_profiles[codes[at]]
        # ndarray.mean divides the float32 sum by an integer count in float64, then rounds to
        # float32; a count of 1 is exact, so only shared tracks need the float64 step.
        counts = np.bincount(positions, minlength=len(tracks))
        shared = np.flatnonzero(counts > 1)
        block[shared] = (block[shared] / counts[shared, None].astype(np.float64)).astype(np.float32)
        return block

    # --- EmbeddingModel ------------------------------------------------------------------------
    def fit(self, tracks: pd.DataFrame, *, seed: int = 0) -> Self:
        self.scaler = FeatureScaler.fit(tracks, self.reference_scaler)
        self.genres = genre_vocabulary(tracks)
        style = self._style_blocks(tracks)
        # Artist profile = mean style of the artist's tracks: float64 sums column by column with
        # bincount, which adds in input order like the np.add.at it replaces (same bits), without
        # its per-element overhead or a (track-artists x dims) copy of the style matrix.
        positions, codes, self.artists = _artist_factors(tracks[schema.ARTISTS])
        sums = np.empty((len(self.artists), style.shape[1]), dtype=np.float64)
        for column in range(style.shape[1]):
            sums[:, column] = np.bincount(
                codes, weights=style[positions, column], minlength=len(self.artists)
            )
        counts = np.bincount(codes, minlength=len(self.artists))[:, None]
        self.artist_profiles = (sums / np.maximum(counts, 1)).astype(np.float32)
        self.mean = np.zeros(style.shape[1], dtype=np.float32)
        if self.center:
            self.mean = self._uncentered(tracks).mean(axis=0, dtype=np.float64).astype(np.float32)
        return self

    def _uncentered(self, tracks: pd.DataFrame) -> np.ndarray:
        style = self._style_blocks(tracks)
        if self.artist_weight == 0:
            return style
        return (style + self.artist_weight * self._artist_block(tracks)).astype(np.float32)

    def embed(self, tracks: pd.DataFrame) -> np.ndarray:
        if self.scaler is None:
            raise RuntimeError("CosineModel.embed called before fit or load")
        return (self._uncentered(tracks) - self.mean).astype(np.float32)

    def _config(self) -> dict:
        return {
            "audio_weight": self.audio_weight,
            "genre_weight": self.genre_weight,
            "artist_weight": self.artist_weight,
            "feature_weights": self.feature_weights,
            "center": self.center,
        }

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {
            "model": self.name,
            "config": self._config(),
            "scaler": self.scaler.to_dict(),
            "genres": self.genres,
            "artists": self.artists,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=1))
        np.save(directory / ARTIST_PROFILES_FILE, self.artist_profiles, allow_pickle=False)
        np.save(directory / MEAN_FILE, self.mean, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> Self:
        directory = Path(directory)
        state = json.loads((directory / CONFIG_FILE).read_text())
        if state.get("model") != cls.name:
            raise ValueError(f"{directory} holds a {state.get('model')!r} model, not 'cosine'")
        model = cls(**state["config"])
        model.scaler = FeatureScaler.from_dict(state["scaler"])
        model.genres = list(state["genres"])
        model.artists = list(state["artists"])
        model.artist_profiles = np.load(directory / ARTIST_PROFILES_FILE, allow_pickle=False)
        model.mean = np.load(directory / MEAN_FILE, allow_pickle=False)
        return model

    def summary(self) -> dict:
        return {
            "weights": self._config(),
            "audio_columns": list(AUDIO_PROFILE_COLUMNS),
            "n_genres": len(self.genres),
            "n_artists": len(self.artists),
            "scaler": "previous build's" if self.scaler is self.reference_scaler else "fitted",
            "why": WEIGHTING_RATIONALE,
        }
