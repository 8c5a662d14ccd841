"""The C# blocks of a release (lambda/spotrec_serving/catalogue.py) and META's feature ranges,
computed over numpy columns.

``live_feature_ranges`` is ``spotrec_serving.items.feature_ranges`` over the live tracks and
``catalogue_items`` packs what ``catalogue.pack_block`` packs of ``feature_codes`` rows, byte
for byte (tests/batch/writers/test_catalogue_blocks.py checks both against those definitions).
Why: one Python ``encode_feature`` call per track and feature was 14M calls at 1M tracks, and
``feature_ranges`` walked every value twice per release (docs/performance.md, "Session 5: store
stage").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from spotrec.writers.release_order import is_live
from spotrec_serving.catalogue import pack_block
from spotrec_serving.items import _U16_MAX, CATALOGUE_BLOCK, FEATURES, catalogue_key

if TYPE_CHECKING:
    import numpy as np

    from spotrec.writers.release_catalogue import ReleaseCatalogue

# Taken from the summary, not the audio features (ReleaseCatalogue.tunable_rows)
_SUMMARY_FIELDS = {"duration_ms": 4, "popularity": 6}


def feature_columns(catalogue: ReleaseCatalogue) -> dict[str, np.ndarray]:
    """The 14 tunable attributes (items.FEATURES) as float64 columns, catalogue order."""
    import numpy as np

    n = len(catalogue.ids)
    columns = {}
    for name in FEATURES:
        if name in _SUMMARY_FIELDS:
            at = _SUMMARY_FIELDS[name]
            values = (s[at] for s in catalogue.summaries)
        else:
            values = (f[name] for f in catalogue.features)
        columns[name] = np.fromiter(values, dtype=np.float64, count=n)
    return columns


def live_mask(catalogue: ReleaseCatalogue) -> np.ndarray:
    import numpy as np

    return np.fromiter(map(is_live, catalogue.ids), dtype=bool, count=len(catalogue.ids))


def live_feature_ranges(
    catalogue: ReleaseCatalogue,
    columns: dict[str, np.ndarray] | None = None,
    live: np.ndarray | None = None,
) -> dict[str, list]:
    """META feature_ranges over the catalogue's tracks (tombstones left out): [lo, hi, integer]
    per feature, as ``feature_ranges`` defines them."""
    import numpy as np

    columns = feature_columns(catalogue) if columns is None else columns
    live = live_mask(catalogue) if live is None else live
    ranges = {}
    for name in FEATURES:
        values = columns[name][live]
        if not len(values):
            values = np.zeros(1)
        lo, hi = values.min(), values.max()
        integer = bool(np.all(values == np.floor(values))) and hi - lo <= _U16_MAX
        ranges[name] = [int(lo), int(hi), True] if integer else [float(lo), float(hi), False]
    return ranges


def feature_code_matrix(
    columns: dict[str, np.ndarray], ranges: dict[str, list], live: np.ndarray
) -> np.ndarray:
    """(tracks, 14) uint16: ``encode_feature`` of every value (0 for a tombstone)."""
    import numpy as np

    codes = np.zeros((len(live), len(FEATURES)), dtype=np.uint16)
    for k, name in enumerate(FEATURES):
        lo, hi, integer = ranges[name]
        values = columns[name]
        if integer:
            column = values.astype(np.int64) - int(lo)
        elif hi - lo > 0:
            # round(): half to even, as np.rint; the same float64 operations in the same order
            column = np.clip(np.rint((values - lo) / (hi - lo) * _U16_MAX), 0, _U16_MAX)
        else:
            column = np.zeros(len(values))
        codes[:, k] = np.where(live, column, 0)
    return codes


def catalogue_items(
    catalogue: ReleaseCatalogue,
    columns: dict[str, np.ndarray] | None = None,
    ranges: dict[str, list] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """The C# blocks: id, song key and feature codes of every track (catalogue.py); a
    tombstone's codes are 0 (no list names it). ``columns``/``ranges``: feature_columns and
    live_feature_ranges when the caller holds them already."""
    columns = feature_columns(catalogue) if columns is None else columns
    live = live_mask(catalogue)
    ranges = live_feature_ranges(catalogue, columns, live) if ranges is None else ranges
    codes = feature_code_matrix(columns, ranges, live)
    little_endian = codes.astype("<u2")
    songs = catalogue.song_keys()
    for block, start in enumerate(range(0, len(catalogue.ids), CATALOGUE_BLOCK)):
        stop = start + CATALOGUE_BLOCK
        head = pack_block(catalogue.ids[start:stop], songs[start:stop], [])
        yield catalogue_key(block), head + little_endian[start:stop].tobytes()
