"""Track features shared by every embedding model: the audio profile and the genre multi-hot.

Audio profile (``AUDIO_PROFILE_COLUMNS``, in this order):

* the 12 Spotify audio features of schema.AUDIO_FEATURES, except that ``key`` (a pitch class
  0..11, or -1 when undetected) is circular: C (0) and B (11) are one semitone apart, so it
  becomes ``key_sin`` / ``key_cos`` on the unit circle, both 0 when undetected;
* ``popularity`` (0..100): part of what a listener hears as "the kind of track" (mainstream
  hit vs deep cut), and the original project used it;
* ``log_duration``: log of duration_ms, because durations are heavy-tailed (a 40-minute
  ambient piece should not dwarf every other difference);
* ``explicit`` as 0/1.

Every column is standardized (z-score) by a ``FeatureScaler`` fitted on the catalogue and saved
as JSON, so a saved model embeds new tracks exactly as it embedded the training ones. Constant
columns get a standard deviation of 1 (they stay 0 instead of dividing by zero). A build given
the previous build (``spotrec build --previous DIR``) keeps that build's scaler while the
statistics drift less than MAX_SCALER_DRIFT, so existing tracks keep their exact features
(docs/aws.md "Incremental publish").

Genres: ``genre_vocabulary`` lists the genres of the non-holdout tracks (sorted);
``genre_matrix`` is the multi-hot over that vocabulary, with the rows of holdout tracks all
zero, because their genres must stay hidden from every model (cold-start evaluation).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema

KEY_COLUMNS = ("key_sin", "key_cos")
AUDIO_PROFILE_COLUMNS: tuple[str, ...] = (
    *(c if c != "key" else KEY_COLUMNS[0] for c in schema.AUDIO_FEATURES),
    KEY_COLUMNS[1],
    "popularity",
    "log_duration",
    "explicit",
)
_SOURCE_COLUMNS = (
    *schema.AUDIO_FEATURES,
    schema.POPULARITY,
    schema.DURATION_MS,
    schema.EXPLICIT,
)


# A previous build's scaler is kept while no column drifts more than this (a quarter of a
# standard deviation, or a 25% change of one). Measured: adding 1% tracks from the same
# distribution drifted 0.12 (one very long track moved log_duration's deviation, the rest
# < 0.01); a real shift (energy +0.3 on every track, tests) drifts over 1.
MAX_SCALER_DRIFT = 0.25


class FeatureError(ValueError):
    """The tracks frame cannot be turned into features (missing column, NaN, unknown genre)."""


def _require_columns(tracks: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in tracks.columns]
    if missing:
        raise FeatureError(f"tracks frame lacks column(s) {missing}")


def raw_audio_profile(tracks: pd.DataFrame) -> np.ndarray:
    """float64 (n, len(AUDIO_PROFILE_COLUMNS)): the audio profile before standardization."""
    _require_columns(tracks, _SOURCE_COLUMNS)
    columns: dict[str, np.ndarray] = {}
    for name in schema.AUDIO_FEATURES:
        values = tracks[name].to_numpy(dtype=np.float64)
        if name == "key":
            detected = values >= 0
            angle = 2.0 * np.pi * values / 12.0
            columns["key_sin"] = np.where(detected, np.sin(angle), 0.0)
            columns["key_cos"] = np.where(detected, np.cos(angle), 0.0)
        else:
            columns[name] = values
    columns["popularity"] = tracks[schema.POPULARITY].to_numpy(dtype=np.float64)
    duration = tracks[schema.DURATION_MS].to_numpy(dtype=np.float64)
    columns["log_duration"] = np.log1p(np.clip(duration, 0.0, None))
    columns["explicit"] = tracks[schema.EXPLICIT].to_numpy(dtype=np.float64)
    matrix = np.column_stack([columns[c] for c in AUDIO_PROFILE_COLUMNS])
    bad_rows = ~np.isfinite(matrix).all(axis=1)
    if bad_rows.any():
        first = tracks.index[np.flatnonzero(bad_rows)[0]]
        raise FeatureError(f"{int(bad_rows.sum())} track(s) have NaN/inf features (first: {first})")
    return matrix


@dataclass
class FeatureScaler:
    """z-score per audio-profile column; JSON-serialisable (no pickle)."""

    columns: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(
        cls,
        tracks: pd.DataFrame,
        reference: FeatureScaler | None = None,
        max_drift: float = MAX_SCALER_DRIFT,
    ) -> FeatureScaler:
        """Fitted on ``tracks``; or ``reference`` (the previous build's scaler) when no column
        drifted by more than ``max_drift`` (drift_from), so a small catalogue change leaves
        every existing track's features, and so its lists, unchanged (incremental publish)."""
        raw = raw_audio_profile(tracks)
        if len(raw) == 0:
            raise FeatureError("cannot fit a FeatureScaler on an empty catalogue")
        std = raw.std(axis=0)
        std[std < 1e-12] = 1.0  # constant column: keep it at 0 rather than divide by zero
        fitted = cls(AUDIO_PROFILE_COLUMNS, raw.mean(axis=0), std)
        comparable = reference is not None and tuple(reference.columns) == AUDIO_PROFILE_COLUMNS
        if comparable and fitted.drift_from(reference) <= max_drift:
            return reference
        return fitted

    def drift_from(self, reference: FeatureScaler) -> float:
        """The largest per-column change: |mean shift| / reference std, or |std ratio - 1|."""
        shift = np.abs(self.mean - reference.mean) / reference.std
        ratio = np.abs(self.std / reference.std - 1.0)
        return float(max(shift.max(), ratio.max()))

    def transform(self, tracks: pd.DataFrame) -> np.ndarray:
        if tuple(self.columns) != AUDIO_PROFILE_COLUMNS:
            raise FeatureError(
                f"scaler was fitted on columns {list(self.columns)}, "
                f"this code builds {list(AUDIO_PROFILE_COLUMNS)}"
            )
        return ((raw_audio_profile(tracks) - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureScaler:
        return cls(
            tuple(data["columns"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["std"], dtype=np.float64),
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: Path) -> FeatureScaler:
        return cls.from_dict(json.loads(Path(path).read_text()))


def audio_matrix(tracks: pd.DataFrame, scaler: FeatureScaler | None = None) -> np.ndarray:
    """float32 (n, len(AUDIO_PROFILE_COLUMNS)) standardized audio profile.

    Without ``scaler`` one is fitted on ``tracks`` itself; pass a fitted (or loaded) scaler to
    embed tracks the way a saved model saw its training data.
    """
    return (scaler or FeatureScaler.fit(tracks)).transform(tracks)


def _holdout_mask(tracks: pd.DataFrame) -> np.ndarray:
    if schema.HOLDOUT not in tracks.columns:
        return np.zeros(len(tracks), dtype=bool)
    return tracks[schema.HOLDOUT].fillna(False).to_numpy(dtype=bool)


def genre_vocabulary(tracks: pd.DataFrame) -> list[str]:
    """Sorted genres of the non-holdout tracks (holdout genres are hidden from models)."""
    _require_columns(tracks, [schema.GENRES])
    visible = tracks.loc[~_holdout_mask(tracks), schema.GENRES]
    return sorted({str(g) for genres in visible for g in genres})


def genre_matrix(tracks: pd.DataFrame, genres: Sequence[str]) -> np.ndarray:
    """float32 (n, len(genres)) multi-hot; holdout rows are all zero.

    A non-holdout track with a genre outside ``genres`` raises FeatureError: silently dropping
    it would make a track look genre-less.
    """
    _require_columns(tracks, [schema.GENRES])
    column_of = {g: i for i, g in enumerate(genres)}
    holdout = _holdout_mask(tracks)
    rows: list[int] = []
    cols: list[int] = []
    unknown: set[str] = set()
    for row, (track_genres, hidden) in enumerate(zip(tracks[schema.GENRES], holdout, strict=True)):
        if hidden:
            continue
        for genre in track_genres:
            col = column_of.get(genre)
            if col is None:
                unknown.add(str(genre))
            else:
                rows.append(row)
                cols.append(col)
    if unknown:
        raise FeatureError(f"genre(s) not in the model's vocabulary: {sorted(unknown)[:10]}")
    matrix = np.zeros((len(tracks), len(genres)), dtype=np.float32)
    matrix[rows, cols] = 1.0
    return matrix
