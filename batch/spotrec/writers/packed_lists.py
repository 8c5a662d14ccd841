"""Every N# list of one model packed in one pass with numpy, byte for byte what
``spotrec_serving.items.pack_list`` writes (the format has one definition, there; this is its
vectorised writer for the batch, checked against it in tests/batch/writers/test_packed_lists.py).

Why: pack_list quantises each score with a Python ``round()``; over six models of the real
catalogue (50-200 neighbours a track) that was ~50M calls and about a third of the store stage.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from spotrec_serving.items import LIST_HEADER, NO_SEED

# Rows packed per chunk: each row's bytes depend on that row alone, and the whole table at once
# held ~2.5 GB of temporaries at 1M tracks x 50 (the store stage's peak).
CHUNK_ROWS = 65_536


def packed_rows(
    neighbour_idx: np.ndarray,
    scores: np.ndarray,
    starts: np.ndarray,
    depth: int,
    chunk_rows: int = CHUNK_ROWS,
    *,
    seeded: bool = True,
) -> Iterator[tuple[int, bytes]]:
    """(row, packed list) for every row of a grouped table: row i's neighbours are
    ``neighbour_idx[starts[i]:starts[i+1]]`` in rank order, cut to the first ``depth``; the
    header names row i as the seed, or no seed when not ``seeded`` (pack_list(None, ...): the
    G#/AS# lists)."""
    starts = np.asarray(starts, dtype=np.int64)
    rows, step = len(starts) - 1, max(1, chunk_rows)
    for first in range(0, rows, step):
        last = min(rows, first + step)
        lo, hi = starts[first], starts[last]
        chunk = starts[first : last + 1] - lo
        yield from _packed_chunk(neighbour_idx[lo:hi], scores[lo:hi], chunk, depth, first, seeded)


def _packed_chunk(
    neighbour_idx: np.ndarray,
    scores: np.ndarray,
    starts: np.ndarray,
    depth: int,
    first_row: int,
    seeded: bool,
) -> Iterator[tuple[int, bytes]]:
    lengths = np.diff(starts)
    rows = len(lengths)
    rank0 = np.arange(len(neighbour_idx)) - np.repeat(starts[:-1], lengths)
    keep = rank0 < depth
    indexes = np.asarray(neighbour_idx, dtype=np.int64)[keep]
    kept_scores = np.asarray(scores, dtype=np.float64)[keep]
    if indexes.size and (indexes.min() < 0 or indexes.max() > NO_SEED):
        raise ValueError("catalogue index outside 0..16,777,215")
    kept = np.minimum(lengths, depth)
    bounds = np.concatenate([[0], np.cumsum(kept)])
    row_of = np.repeat(np.arange(rows), kept)

    hi, lo = np.zeros(rows), np.zeros(rows)
    filled = kept > 0
    if filled.any():  # reduceat over the non-empty rows: each segment ends where the next begins
        hi[filled] = np.maximum.reduceat(kept_scores, bounds[:-1][filled])
        lo[filled] = np.minimum.reduceat(kept_scores, bounds[:-1][filled])
    # the header stores float32, and codes are computed from the stored values, as the reader will
    hi = hi.astype(np.float32).astype(np.float64)
    lo = lo.astype(np.float32).astype(np.float64)
    span = hi - lo
    scale = np.divide(255.0, span, out=np.zeros(rows), where=span > 0)
    codes = np.rint((kept_scores - lo[row_of]) * scale[row_of])  # rint: half to even, as round()
    codes = np.where(span[row_of] > 0, codes, 255).astype(np.uint8).tobytes()
    u24 = np.ascontiguousarray(indexes.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3])
    packed_indexes = u24.tobytes()

    edges, highs, lows = bounds.tolist(), hi.tolist(), lo.tolist()
    no_seed = NO_SEED.to_bytes(3, "little")
    for row in range(rows):
        a, b = edges[row], edges[row + 1]
        seed = (first_row + row).to_bytes(3, "little") if seeded else no_seed
        header = LIST_HEADER.pack(seed, highs[row], lows[row])
        yield first_row + row, header + packed_indexes[3 * a : 3 * b] + codes[a:b]
