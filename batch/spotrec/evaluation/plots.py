"""Drawing only: every function takes figures already computed and writes one PNG.

matplotlib runs on the Agg backend (no display; safe in CI and in the batch container). The
callers (eda.py, report.py) compute the numbers and the one-line readings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

DPI = 100
PALETTE = ("#1DB954", "#1E3264", "#E8115B", "#F59B23", "#509BF5", "#8D67AB", "#777777")


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png")
    plt.close(fig)
    return path


def histogram(
    values: np.ndarray,
    path: Path,
    *,
    title: str,
    xlabel: str,
    bins: int = 50,
    marker: float | None = None,
    marker_label: str = "",
) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(values, bins=bins, color=PALETTE[0], edgecolor="white", linewidth=0.3)
    if marker is not None:
        ax.axvline(marker, color=PALETTE[2], linestyle="--", label=marker_label)
        ax.legend()
    ax.set(title=title, xlabel=xlabel, ylabel="tracks")
    return _save(fig, path)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    path: Path,
    *,
    title: str,
    ylabel: str,
    horizontal: bool = False,
) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5 if horizontal else 4))
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    if horizontal:  # long genre names read better down the side, largest on top
        ax.barh(list(labels)[::-1], list(values)[::-1], color=colors[::-1])
        ax.set(title=title, xlabel=ylabel)
    else:
        ax.bar(list(labels), list(values), color=colors)
        ax.set(title=title, ylabel=ylabel)
    return _save(fig, path)


def box_by_group(groups: Mapping[str, np.ndarray], path: Path, *, title: str, ylabel: str) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.boxplot(list(groups.values()), showfliers=False)
    ax.set_xticks(range(1, len(groups) + 1), list(groups))
    ax.set(title=title, ylabel=ylabel)
    return _save(fig, path)


def heatmap(matrix: pd.DataFrame, path: Path, *, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(9, 7.5))
    image = ax.imshow(matrix.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=60, ha="right")
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    for (i, j), value in np.ndenumerate(matrix.to_numpy()):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title(title)
    return _save(fig, path)


def tradeoff(
    points: pd.DataFrame, path: Path, *, precision_bar: float, coverage_bar: float
) -> Path:
    """Genre precision against coverage. ``points`` has columns model, setting (may be empty),
    genre_precision, coverage. Rows without a setting are the shipped models (large markers);
    rows with one are tuning settings (small, faint), labelled only while few enough to read."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, (model, group) in enumerate(points.groupby("model", sort=False)):
        color = PALETTE[i % len(PALETTE)]
        settings = group["setting"].fillna("").astype(str) != "" if "setting" in group else None
        tried = group[settings] if settings is not None else group.iloc[:0]
        shipped = group[~settings] if settings is not None else group
        if len(tried):
            ax.scatter(tried["coverage"], tried["genre_precision"], s=18, color=color, alpha=0.35)
            if len(tried) <= 12:
                for _, row in tried.iterrows():
                    ax.annotate(
                        str(row["setting"]),
                        (row["coverage"], row["genre_precision"]),
                        textcoords="offset points",
                        xytext=(4, -9),
                        fontsize=6,
                        color=color,
                    )
        ax.scatter(
            shipped["coverage"],
            shipped["genre_precision"],
            s=90,
            color=color,
            edgecolor="black",
            label=f"{model} (shipped)" if len(tried) else model,
            zorder=3,
        )
    ax.axhline(precision_bar, color="grey", linestyle=":", label=f"precision bar {precision_bar}")
    ax.axvline(coverage_bar, color="grey", linestyle="--", label=f"coverage bar {coverage_bar}")
    ax.set(
        title="Precision vs coverage (k = 10); faint points = settings tried",
        xlabel="coverage@10",
        ylabel="genre precision@10",
    )
    ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def metric_bars(table: pd.DataFrame, path: Path) -> Path:
    """Grouped bars: one group per metric (0..1 metrics only), one bar per model (rows)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(len(table.index), 1)
    x = np.arange(len(table.columns))
    for i, model in enumerate(table.index):
        ax.bar(
            x + i * width,
            table.loc[model].to_numpy(dtype=float),
            width,
            label=model,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_xticks(x + width * (len(table.index) - 1) / 2, table.columns, rotation=15)
    ax.set(title="Metrics per model (k = 10)", ylim=(0, 1.05), ylabel="value")
    ax.legend(fontsize=8)
    return _save(fig, path)


def k_occurrence(counts: Mapping[str, np.ndarray], path: Path) -> Path:
    """Distribution of N_10 (how many lists each track appears in), per model, log counts."""
    fig, ax = plt.subplots(figsize=(7, 4))
    top = max((int(c.max()) for c in counts.values() if c.size), default=1)
    bins = np.arange(0, top + 2) if top <= 60 else np.linspace(0, top + 1, 61)
    for i, (model, values) in enumerate(counts.items()):
        ax.hist(
            values,
            bins=bins,
            histtype="step",
            linewidth=1.5,
            label=model,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_yscale("log")
    ax.set(
        title="Hubness: k-occurrence distribution (k = 10)",
        xlabel="N_10 (lists a track appears in)",
        ylabel="tracks (log)",
    )
    ax.legend(fontsize=8)
    return _save(fig, path)


def listening_bars(table: pd.DataFrame, path: Path, *, title: str) -> Path:
    """Horizontal grouped bars: one group per recommender (rows, models and baselines), one
    bar per held-out listening metric (columns, 0..1)."""
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.55 * max(len(table.index), 1)))
    height = 0.8 / max(len(table.columns), 1)
    y = np.arange(len(table.index))
    for i, metric in enumerate(table.columns):
        ax.barh(
            y + i * height,
            table[metric].to_numpy(dtype=float),
            height,
            label=metric,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_yticks(y + height * (len(table.columns) - 1) / 2, table.index)
    ax.invert_yaxis()
    ax.set(title=title, xlim=(0, 1), xlabel="value (higher is better)")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)
