"""What the trend signal (models/trending.py) does to neighbour lists: the ``trending`` model's
lists and the hybrid's trend tie-breaker. Pure functions over (n, width) index/score matrices
(catalogue rows, -1 = empty slot); the build glue is spotrec/trend_build.py.

Neither learns similarity. The trend is a popularity-of-CHANGE signal: a track's decayed rise in
interactions per day, ending at the newest event of the training listening.

* ``trending_lists``: per track, a list it already has (the hybrid's) re-ordered so that
  the neighbours whose interactions are rising come first, most rising first; the others keep
  their order after them. It answers "what is rising among tracks like this one", no more: no
  track enters or leaves the list, and a track none of whose neighbours is rising keeps exactly
  its hybrid list. Score = the neighbour's trend share (its trend / the catalogue's largest
  trend; 0 = not rising).
* ``tie_break``: each neighbour's score gains ``weight * trend share * step``, where step is the
  list's mean score gap between neighbouring ranks, so the catalogue's most rising track moves
  up about ``weight`` places and a less rising one proportionally fewer: fewer at the head of a
  fused list (where its scores are far apart), more in the tail (where the hybrid is nearly
  indifferent, which is what a tie-breaker is for); exact ties go to the more rising track.
  Again no track enters or leaves the list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.models.trending import trending


def trend_table(events: pd.DataFrame, *, now=None) -> pd.DataFrame:
    """models/trending.py's table (track_id, recent, previous, trend; rising tracks only) of
    listening events (schema.LISTENING_COLUMNS), ending at ``now`` (default: newest event)."""
    ids = events[schema.LS_TRACK_ID]
    # Strings stay Arrow-backed: an object copy of 9M ids cost ~0.6 GB at the build's peak.
    frame = pd.DataFrame(
        {
            "track_id": ids if pd.api.types.is_string_dtype(ids) else ids.astype(str),
            "event": events[schema.LS_EVENT],
            "timestamp": pd.to_datetime(events[schema.LS_TIMESTAMP], utc=True),
        },
        copy=False,
    )
    return trending(frame, now=now, top_n=None)


def trend_share(table: pd.DataFrame, track_ids) -> np.ndarray:
    """Per catalogue row (``track_ids`` order): trend / the largest trend in ``table``
    (trend_table), in [0, 1]; 0 for a track that is not rising."""
    share = np.zeros(len(track_ids), dtype=np.float64)
    if table.empty:
        return share
    rows = pd.Index(track_ids).get_indexer(table["track_id"])
    found = rows >= 0
    trend = table["trend"].to_numpy(dtype=np.float64)
    share[rows[found]] = trend[found] / trend.max()
    return share


def _share_of_slots(indices: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = indices >= 0
    return valid, np.where(valid, share[np.where(valid, indices, 0)], 0.0)


def trending_lists(
    indices: np.ndarray, share: np.ndarray, block_rows: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores float32): each row's neighbours, rising ones first by trend share, the
    rest in their given order; empty slots stay last (-1 / -inf). Rows go ``block_rows`` at a
    time (each row on its own): whole-matrix temporaries were ~0.8 GB at depth 200."""
    out_idx = np.empty_like(indices)
    out_score = np.empty(indices.shape, dtype=np.float32)
    for lo in range(0, len(indices), block_rows):
        block = slice(lo, lo + block_rows)
        out_idx[block], out_score[block] = _trending_block(indices[block], share)
    return out_idx, out_score


def _trending_block(indices: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid, slot_share = _share_of_slots(indices, share)
    key = np.where(valid, -slot_share, 1.0)  # empty slots after every neighbour
    order = np.argsort(key, axis=1, kind="stable")  # stable: the given order breaks ties
    reordered = np.take_along_axis(indices, order, axis=1)
    scores = np.where(valid, slot_share, -np.inf)
    return reordered, np.take_along_axis(scores, order, axis=1).astype(np.float32)


def tie_break(
    indices: np.ndarray, scores: np.ndarray, share: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores float32): the lists re-sorted by score + weight * share * step (see the
    module docstring); weight 0 returns them unchanged."""
    if weight < 0:
        raise ValueError(f"the trend tie-break weight must be >= 0, got {weight}")
    if weight == 0 or not share.any():
        return indices, scores
    valid, slot_share = _share_of_slots(indices, share)
    base = np.where(valid, scores.astype(np.float64), np.nan)
    filled = valid.sum(axis=1)
    spread = np.nanmax(base, axis=1, initial=-np.inf, where=valid) - np.nanmin(
        base, axis=1, initial=np.inf, where=valid
    )
    step = np.where(filled > 1, spread / np.maximum(filled - 1, 1), 0.0)
    adjusted = np.where(valid, base + weight * slot_share * step[:, None], -np.inf)
    # Sort by adjusted score, then by trend share (exact ties), then by the given order.
    position = np.broadcast_to(np.arange(indices.shape[1]), indices.shape)
    order = np.lexsort((position, -slot_share, -adjusted), axis=1)
    return (
        np.take_along_axis(indices, order, axis=1),
        np.take_along_axis(adjusted, order, axis=1).astype(np.float32),
    )
