"""The original project's exploratory charts, regenerated from the catalogue.

Each chart comes with a one-line reading whose numbers are computed from the data it draws, so
the sentence stays true for any catalogue (real, synthetic, or a future dataset).
Counts are per unique track (tracks.parquet), not per CSV row; a track listed under several
genres counts once in each of them for the genre chart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.errors import SpotrecError
from spotrec.evaluation import plots

NUMERIC_COLUMNS = (schema.POPULARITY, schema.DURATION_MS, *schema.AUDIO_FEATURES)
POPULAR_THRESHOLD = 70


@dataclass(frozen=True)
class Chart:
    title: str
    file: str  # PNG file name, relative to the output directory
    reading: str

    def to_dict(self) -> dict:
        return asdict(self)


def popularity(tracks: pd.DataFrame, out: Path) -> Chart:
    values = tracks[schema.POPULARITY].to_numpy(dtype=float)
    median = float(np.median(values))
    plots.histogram(
        values,
        out / "eda_popularity.png",
        title="Popularity",
        xlabel="popularity",
        bins=50,
        marker=median,
        marker_label=f"median {median:.0f}",
    )
    reading = (
        f"Median popularity is {median:.0f}/100; {np.mean(values == 0):.1%} of tracks have "
        f"popularity 0 and {np.mean(values >= POPULAR_THRESHOLD):.1%} reach "
        f"{POPULAR_THRESHOLD} or more."
    )
    return Chart("Popularity histogram", "eda_popularity.png", reading)


def explicit_counts(tracks: pd.DataFrame, out: Path) -> Chart:
    explicit = tracks[schema.EXPLICIT].astype(bool)
    counts = {"non-explicit": int((~explicit).sum()), "explicit": int(explicit.sum())}
    plots.bar_chart(
        list(counts),
        list(counts.values()),
        out / "eda_explicit.png",
        title="Explicit vs non-explicit",
        ylabel="tracks",
    )
    reading = (
        f"{counts['explicit']:,} tracks ({explicit.mean():.1%}) are explicit and "
        f"{counts['non-explicit']:,} are not."
    )
    return Chart("Explicit vs non-explicit", "eda_explicit.png", reading)


def top_genres(tracks: pd.DataFrame, out: Path, n: int = 10) -> Chart:
    per_genre = tracks[schema.GENRES].explode().dropna().value_counts()
    # Ties are common (the source lists the same number of rows per genre): break them by name
    # so the chart does not change from run to run.
    per_genre = per_genre.sort_index().sort_values(ascending=False, kind="stable")
    top = per_genre.head(n)
    plots.bar_chart(
        [str(g) for g in top.index],
        top.to_numpy(),
        out / "eda_top_genres.png",
        title=f"Top {len(top)} genres",
        ylabel="tracks",
        horizontal=True,
    )
    multi = tracks[schema.GENRES].map(len).gt(1).mean()
    tied = int((per_genre == per_genre.iloc[0]).sum())
    if tied > 1:
        lead = (
            f"{tied} of {len(per_genre)} genres tie for the most tracks "
            f"({int(per_genre.iloc[0]):,} each), so the top {len(top)} is alphabetical"
        )
    else:
        lead = (
            f"The largest genre is {top.index[0]} with {int(top.iloc[0]):,} tracks; the top "
            f"{len(top)} span {int(top.iloc[-1]):,}–{int(top.iloc[0]):,} tracks out of "
            f"{len(per_genre)} genres"
        )
    reading = f"{lead}; {multi:.1%} of tracks carry more than one genre."
    return Chart(f"Top {len(top)} genres", "eda_top_genres.png", reading)


def loudness(tracks: pd.DataFrame, out: Path) -> Chart:
    values = tracks["loudness"].to_numpy(dtype=float)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    plots.histogram(
        values,
        out / "eda_loudness.png",
        title="Loudness",
        xlabel="loudness (dB)",
        bins=60,
        marker=median,
        marker_label=f"median {median:.1f} dB",
    )
    reading = (
        f"Median loudness is {median:.1f} dB; half of all tracks lie between {q1:.1f} and "
        f"{q3:.1f} dB, with {np.mean(values < -20):.1%} quieter than -20 dB."
    )
    return Chart("Loudness distribution", "eda_loudness.png", reading)


def danceability_by_mode(tracks: pd.DataFrame, out: Path) -> Chart:
    mode = tracks["mode"].to_numpy()
    dance = tracks["danceability"].to_numpy(dtype=float)
    groups = {"minor (0)": dance[mode == 0], "major (1)": dance[mode == 1]}
    plots.box_by_group(
        groups,
        out / "eda_danceability_mode.png",
        title="Danceability by mode",
        ylabel="danceability",
    )
    medians = {k: float(np.median(v)) if v.size else float("nan") for k, v in groups.items()}
    minor, major = medians["minor (0)"], medians["major (1)"]
    reading = (
        f"Median danceability is {major:.2f} in major mode ({len(groups['major (1)']):,} tracks) "
        f"and {minor:.2f} in minor mode ({len(groups['minor (0)']):,}): a difference of "
        f"{minor - major:+.2f} for minor."
    )
    return Chart("Danceability by mode", "eda_danceability_mode.png", reading)


def correlations(tracks: pd.DataFrame, out: Path) -> Chart:
    matrix = tracks[list(NUMERIC_COLUMNS)].astype(float).corr()
    plots.heatmap(matrix, out / "eda_correlations.png", title="Correlation of numeric features")
    # Strongest positive and negative pairs, each pair once (upper triangle only).
    upper = matrix.where(np.triu(np.ones(matrix.shape, dtype=bool), k=1)).stack().dropna()
    if upper.empty:  # constant columns have no correlation at all
        reading = "No two numeric features vary together in this catalogue."
    else:
        high, low = upper.idxmax(), upper.idxmin()
        reading = (
            f"The strongest positive correlation is {high[0]}–{high[1]} "
            f"(r = {upper[high]:+.2f}) and the strongest negative is {low[0]}–{low[1]} "
            f"(r = {upper[low]:+.2f})."
        )
    return Chart("Correlation heatmap", "eda_correlations.png", reading)


CHARTS = (popularity, explicit_counts, top_genres, loudness, danceability_by_mode, correlations)


def run_eda(tracks: pd.DataFrame, out: Path) -> list[Chart]:
    """Draw every chart into ``out``; returns them with their readings, in report order."""
    missing = [
        c for c in (*NUMERIC_COLUMNS, schema.EXPLICIT, schema.GENRES) if c not in tracks.columns
    ]
    if missing:
        raise SpotrecError(f"cannot draw the EDA charts: tracks lack {', '.join(missing)}")
    if tracks.empty:
        raise SpotrecError("cannot draw the EDA charts: the catalogue is empty")
    out.mkdir(parents=True, exist_ok=True)
    return [chart(tracks, out) for chart in CHARTS]
