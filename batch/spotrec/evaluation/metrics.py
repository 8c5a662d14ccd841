"""Recommendation quality metrics: pure, vectorised functions over long-format neighbour tables.

Inputs are the catalogue (``tracks.parquet``, schema.TRACK_COLUMNS) and a neighbour table
(``neighbours/<model>.parquet``, schema.NEIGHBOUR_COLUMNS). Every metric function accepts either
the DataFrames themselves or their encoded forms, :class:`Catalogue` and :class:`NeighbourLists`;
encode once when computing many metrics or sweeping settings::

    catalogue = Catalogue.from_tracks(tracks)
    lists = NeighbourLists.from_frame(catalogue, neighbours)      # or .from_indices(idx)
    evaluate(catalogue, lists)                                    # all metrics, k = 10

Conventions (the definitions are in DEVELOPERS.md, "Metrics"):
- The seeds are the catalogue's tracks (optionally restricted by ``seeds_mask``, a boolean array
  aligned with the tracks' rows). A track with no list, or with fewer than k neighbours, scores
  the missing slots as not relevant: a short list is never rewarded by a smaller denominator.
- Genre relevance uses the TRUE ``genres`` column, also for holdout tracks.
- Artists are compared as exact names (trimmed); a track without artists never matches.
- Coverage and hubness always look at the whole table: they describe the catalogue, not a seed.

The encodings (:class:`Catalogue`, :class:`NeighbourLists`) and :class:`MetricInputError` live in
encoding.py and are re-exported here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema

# Re-exported: callers import the encodings and the input error from metrics.
from spotrec.evaluation.encoding import Catalogue, MetricInputError, NeighbourLists

DEFAULT_K = 10

# Metric key -> (label, range, direction). The report's legend is built from this.
METRIC_INFO: dict[str, tuple[str, str, str]] = {
    "genre_precision": ("genre precision@k", "0..1", "higher is better"),
    "mrr": ("MRR@k", "0..1", "higher is better"),
    "same_artist": ("same-artist@k", "0..1", "higher is better (finds the artist's other work)"),
    "coverage": ("coverage@k", "0..1", "higher is better (share of catalogue ever recommended)"),
    "hubness_skew": ("hubness skew", "about 0 and up", "lower is better (fewer hub tracks)"),
    "hubness_max": ("hubness max N_k", "0..number of seeds", "lower is better"),
    "intra_list_diversity": ("intra-list diversity", "0..2", "higher means more varied lists"),
    "variant_rate": ("variant rate", "0..1", "must be 0"),
}


Tracks = pd.DataFrame | Catalogue
Neighbours = pd.DataFrame | NeighbourLists


def _prepare(tracks: Tracks, neighbours: Neighbours) -> tuple[Catalogue, NeighbourLists]:
    catalogue = tracks if isinstance(tracks, Catalogue) else Catalogue.from_tracks(tracks)
    if isinstance(neighbours, NeighbourLists):
        if neighbours.sentinel != catalogue.size:
            raise MetricInputError(
                f"neighbour lists cover {neighbours.sentinel} tracks, catalogue has "
                f"{catalogue.size}"
            )
        return catalogue, neighbours
    return catalogue, NeighbourLists.from_frame(catalogue, neighbours)


def _seed_rows(catalogue: Catalogue, seeds_mask) -> np.ndarray:
    if seeds_mask is None:
        return np.arange(catalogue.size)
    mask = np.asarray(seeds_mask)
    if mask.dtype != bool or mask.shape != (catalogue.size,):
        raise MetricInputError(
            f"seeds_mask must be a boolean array of length {catalogue.size} (one per track)"
        )
    return np.flatnonzero(mask)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def genre_hits(catalogue: Catalogue, lists: NeighbourLists, seeds: np.ndarray, k: int):
    """(len(seeds), k) bool: neighbour shares >= 1 true genre with its seed."""
    top, valid = lists.top(k)
    top = top[seeds]
    shared = catalogue.genre_bits[seeds][:, None, :] & catalogue.genre_bits[top]
    return (shared != 0).any(axis=2) & valid[seeds]


def genre_precision_at_k(
    tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K, seeds_mask=None
) -> float:
    """Mean over seeds of (top-k neighbours sharing >= 1 true genre with the seed) / k.
    Range 0..1, higher is better."""
    catalogue, lists = _prepare(tracks, neighbours)
    hits = genre_hits(catalogue, lists, _seed_rows(catalogue, seeds_mask), k)
    return _mean(hits.sum(axis=1) / k)


def mrr_at_k(tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K, seeds_mask=None) -> float:
    """Mean over seeds of 1 / rank of the first genre-sharing neighbour in the top k (0 if none).
    Range 0..1, higher is better."""
    catalogue, lists = _prepare(tracks, neighbours)
    hits = genre_hits(catalogue, lists, _seed_rows(catalogue, seeds_mask), k)
    reciprocal = np.where(hits.any(axis=1), 1.0 / (hits.argmax(axis=1) + 1), 0.0)
    return _mean(reciprocal)


def _csr_gather(ptr: np.ndarray, codes: np.ndarray, rows: np.ndarray):
    """(owner index into rows, code) for every artist of every row in ``rows``."""
    lengths = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    starts = np.repeat(ptr[rows] - (np.cumsum(lengths) - lengths), lengths)
    return owner, codes[starts + np.arange(lengths.sum())]


def same_artist_hits(catalogue: Catalogue, lists: NeighbourLists, seeds: np.ndarray, k: int):
    """(len(seeds), k) bool: neighbour shares an artist with its seed and is not a variant."""
    top, valid = lists.top(k)
    top, valid = top[seeds], valid[seeds]
    seed_of_pair = np.repeat(seeds, k)
    pair_track = top.ravel()
    stride = len(catalogue.artist_codes) + 1  # > any artist code: keys never collide
    seed_owner, seed_artists = _csr_gather(
        catalogue.artist_ptr, catalogue.artist_codes, seed_of_pair
    )
    nb_owner, nb_artists = _csr_gather(catalogue.artist_ptr, catalogue.artist_codes, pair_track)
    # Is each (pair, neighbour artist) key among the (pair, seed artist) keys? A sorted lookup:
    # np.isin's hash path was 1.2 s of the 2 s evaluate() took on the real catalogue.
    seed_keys = np.sort(seed_owner * stride + seed_artists)
    nb_keys = nb_owner * stride + nb_artists
    slot = np.minimum(np.searchsorted(seed_keys, nb_keys), max(len(seed_keys) - 1, 0))
    shared = seed_keys[slot] == nb_keys if len(seed_keys) else np.zeros(len(nb_keys), bool)
    hits = np.zeros(len(pair_track), dtype=bool)
    hits[nb_owner[shared]] = True
    not_variant = catalogue.song_codes[top] != catalogue.song_codes[seeds][:, None]
    return hits.reshape(top.shape) & valid & not_variant


def same_artist_at_k(
    tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K, seeds_mask=None
) -> float:
    """Share of seeds with >= 1 top-k neighbour by a shared artist that is not a variant of the
    seed. Range 0..1, higher is better. Tracks without artists never count."""
    catalogue, lists = _prepare(tracks, neighbours)
    hits = same_artist_hits(catalogue, lists, _seed_rows(catalogue, seeds_mask), k)
    return _mean(hits.any(axis=1).astype(float))


def k_occurrence(tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K) -> np.ndarray:
    """N_k per catalogue track: in how many top-k lists it appears (whole table)."""
    catalogue, lists = _prepare(tracks, neighbours)
    top, valid = lists.top(k)
    return np.bincount(top[valid], minlength=catalogue.size)


def coverage_at_k(tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K) -> float:
    """Distinct tracks in any top-k list / catalogue size, over the whole table.
    Range 0..1, higher is better."""
    counts = k_occurrence(tracks, neighbours, k)
    return float((counts > 0).mean()) if counts.size else float("nan")


def hubness(tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K) -> tuple[float, int]:
    """(skewness of the N_k distribution over all catalogue tracks, max N_k), whole table.
    Skew is ~0 for evenly spread recommendations and grows when a few hub tracks appear in many
    lists: lower is better. Max N_k ranges 0..number of seeds, lower is better."""
    counts = k_occurrence(tracks, neighbours, k).astype(np.float64)
    if counts.size == 0:
        return float("nan"), 0
    centred = counts - counts.mean()
    variance = (centred**2).mean()
    skew = float((centred**3).mean() / variance**1.5) if variance > 0 else 0.0
    return skew, int(counts.max())


def diversity_per_seed(catalogue: Catalogue, lists: NeighbourLists, seeds: np.ndarray, k: int):
    """Mean pairwise (1 - cosine) of standardized audio features in each top-k list; NaN for
    lists with fewer than two neighbours. A zero feature vector counts as cosine 0."""
    top, valid = lists.top(k)
    vectors = catalogue.unit_features[top[seeds]]  # sentinel rows are zero: no masking needed
    summed = vectors.sum(axis=1)
    self_dots = (vectors**2).sum(axis=(1, 2))
    m = valid[seeds].sum(axis=1).astype(np.float64)
    # sum over ordered pairs i != j of u_i . u_j = |sum u|^2 - sum |u_i|^2
    pair_cosines = (summed**2).sum(axis=1) - self_dots
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m >= 2, 1.0 - pair_cosines / (m * (m - 1)), np.nan)


def intra_list_diversity(
    tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K, seeds_mask=None
) -> float:
    """Mean over seeds (with >= 2 neighbours) of the mean pairwise (1 - cosine) distance between
    the top-k neighbours' standardized audio features. Range 0..2, higher = more varied."""
    catalogue, lists = _prepare(tracks, neighbours)
    per_seed = diversity_per_seed(catalogue, lists, _seed_rows(catalogue, seeds_mask), k)
    per_seed = per_seed[~np.isnan(per_seed)]
    return _mean(per_seed)


def _violation_masks(catalogue: Catalogue, lists: NeighbourLists, seeds: np.ndarray, k):
    """(seed_variant, duplicate_song) masks (len(seeds), width). duplicate_song marks every
    occurrence of a song after its first in the list."""
    top, valid = lists.top(k)
    top, valid = top[seeds], valid[seeds]
    songs = catalogue.song_codes[top]
    seed_variant = valid & (songs == catalogue.song_codes[seeds][:, None])
    # Give padding distinct negative codes so that padding never looks like a duplicate.
    width = top.shape[1]
    slot = np.arange(width)
    songs = np.where(valid, songs, -1 - slot)
    # One key per slot, (song, slot), unique within a row: a plain in-place sort orders each
    # song's slots by rank (a stable argsort of the songs did the same at ~3x the CPU).
    key = songs * width + slot
    key.sort(axis=1)
    ordered = key // width
    repeat_sorted = np.zeros_like(valid)
    repeat_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    duplicate = np.zeros_like(valid)
    np.put_along_axis(duplicate, key - ordered * width, repeat_sorted, axis=1)
    return seed_variant, duplicate & valid


def _rows_with_violations(catalogue: Catalogue, lists: NeighbourLists, seeds, block=16384):
    """Per seed: does its whole list break the variant rule? In blocks of seeds: the masks and
    sort keys of 200-deep lists over the catalogue were ~0.7 GB at once."""
    parts = [np.zeros(0, dtype=bool)]
    for lo in range(0, len(seeds), block):
        seed_variant, duplicate = _violation_masks(catalogue, lists, seeds[lo : lo + block], None)
        parts.append((seed_variant | duplicate).any(axis=1))
    return np.concatenate(parts)


def variant_rate(
    tracks: Tracks, neighbours: Neighbours, k: int | None = None, seeds_mask=None
) -> float:
    """Share of seeds whose list holds the seed itself or a variant of it (same song_id), or two
    tracks of one song. Checks the whole list by default (k=None), as the build contract forbids
    variants at any rank. Range 0..1, must be 0."""
    catalogue, lists = _prepare(tracks, neighbours)
    seed_variant, duplicate = _violation_masks(
        catalogue, lists, _seed_rows(catalogue, seeds_mask), k
    )
    return _mean((seed_variant | duplicate).any(axis=1).astype(float))


def variant_violations(
    tracks: Tracks, neighbours: pd.DataFrame, k: int | None = None, seeds_mask=None
) -> pd.DataFrame:
    """The neighbour rows that break the variant rule, with a ``violation`` column:
    ``seed_variant`` (the seed itself or a variant of it) or ``duplicate_song`` (a song already
    listed at a better rank). Empty when the table is clean."""
    catalogue, lists = _prepare(tracks, neighbours)
    seeds = _seed_rows(catalogue, seeds_mask)
    seed_variant, duplicate = _violation_masks(catalogue, lists, seeds, k)
    rows, slots = np.nonzero(seed_variant | duplicate)
    top, _ = lists.top(k)
    found = pd.DataFrame(
        {
            schema.NB_TRACK_ID: catalogue.track_ids[seeds[rows]],
            "_neighbour": catalogue.track_ids[top[seeds[rows], slots]],
            "_slot": slots,
            "violation": np.where(seed_variant[rows, slots], "seed_variant", "duplicate_song"),
        }
    )
    # Join back to the original rows (by seed and list position) to return them unchanged.
    original = neighbours[neighbours[schema.NB_TRACK_ID].isin(found[schema.NB_TRACK_ID])]
    original = original.sort_values([schema.NB_TRACK_ID, schema.NB_RANK], kind="stable")
    original = original.assign(_slot=original.groupby(schema.NB_TRACK_ID).cumcount())
    original[schema.NB_TRACK_ID] = original[schema.NB_TRACK_ID].astype(str)
    merged = original.merge(found, on=[schema.NB_TRACK_ID, "_slot"], how="inner")
    return merged.drop(columns=["_slot", "_neighbour"]).reset_index(drop=True)


def evaluate(tracks: Tracks, neighbours: Neighbours, k: int = DEFAULT_K, seeds_mask=None) -> dict:
    """Every metric in one pass (keys = METRIC_INFO plus k, seeds, seeds_without_list).
    ``seeds_mask`` restricts the per-seed metrics; coverage and hubness use the whole table;
    the variant rate checks whole lists."""
    catalogue, lists = _prepare(tracks, neighbours)
    seeds = _seed_rows(catalogue, seeds_mask)
    hits = genre_hits(catalogue, lists, seeds, k)
    reciprocal = np.where(hits.any(axis=1), 1.0 / (hits.argmax(axis=1) + 1), 0.0)
    skew, max_count = hubness(catalogue, lists, k)
    diversity = diversity_per_seed(catalogue, lists, seeds, k)
    has_violation = _rows_with_violations(catalogue, lists, seeds)
    has_list = (lists.positions != lists.sentinel).any(axis=1)
    return {
        "k": k,
        "seeds": len(seeds),
        "seeds_without_list": int(len(seeds) - has_list[seeds].sum()),
        "genre_precision": _mean(hits.sum(axis=1) / k),
        "mrr": _mean(reciprocal),
        "same_artist": _mean(same_artist_hits(catalogue, lists, seeds, k).any(axis=1) * 1.0),
        "coverage": coverage_at_k(catalogue, lists, k),
        "hubness_skew": skew,
        "hubness_max": max_count,
        "intra_list_diversity": _mean(diversity[~np.isnan(diversity)]),
        "variant_rate": _mean(has_violation * 1.0),
    }
