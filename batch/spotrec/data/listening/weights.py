"""From events to evidence: per-(session, track) weights, and the held-out split by session.

``session_item_weights`` sums EVENT_WEIGHTS per (session, track): repeated plays add up, a like
or save counts double, a skip subtracts. Pairs whose sum is <= 0 are dropped, because a skipped
track was not co-listened with the rest of the session (negative evidence, never co-listening).
With ``half_life_days`` each event counts 0.5 ** (age / half_life), age measured back from
``now`` (default: the newest timestamp), so a retrain follows trends. Events without a
timestamp (NaT) are not decayed: nothing says they are old.

``split_sessions`` holds out whole sessions (RecSys Challenge 2018: never split by event), chosen
by a keyed hash of session_id, so the split is the same on every machine and in every build, and
a session keeps its side when more sessions are added.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening.columnwise import take_strings

EVENT_WEIGHTS = {"add": 1.0, "play": 1.0, "like": 2.0, "save": 2.0, "skip": -1.0}
_DAY_NS = 86_400 * 10**9


def session_item_weights(
    events: pd.DataFrame,
    *,
    half_life_days: float | None = None,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """DataFrame[session_id, track_id, weight float32], one row per (session, track) with a
    positive summed weight (see the module docstring)."""
    # Map the few kinds, not each of millions of rows (NA stays a kind: its weight is NaN).
    codes, kinds = pd.factorize(events[schema.LS_EVENT], use_na_sentinel=False)
    weight = pd.Series(kinds).map(EVENT_WEIGHTS).to_numpy(dtype=np.float64)[codes]
    if half_life_days is not None:
        if half_life_days <= 0:
            raise ValueError(f"half_life_days must be positive, got {half_life_days}")
        stamps = events[schema.LS_TIMESTAMP]
        reference = pd.Timestamp(now) if now is not None else stamps.max()
        if reference is not pd.NaT and pd.notna(reference):
            reference = (
                reference.tz_localize("UTC") if reference.tzinfo is None else reference
            ).tz_convert("UTC")
            age = (reference - stamps).to_numpy(dtype="timedelta64[ns]").astype(np.float64)
            age_days = np.where(np.isnan(age) | (age < 0), 0.0, age / _DAY_NS)
            age_days[stamps.isna().to_numpy()] = 0.0
            weight = weight * np.power(0.5, age_days / half_life_days)
    # Sum per (session, track) on integer codes: a groupby on millions of strings is slow and
    # memory-hungry. Rows come out in first-seen order of sessions, then of tracks.
    sessions, session_names = pd.factorize(events[schema.LS_SESSION_ID])
    tracks, track_names = pd.factorize(events[schema.LS_TRACK_ID])
    pair = sessions.astype(np.int64) * max(len(track_names), 1) + tracks
    pairs, inverse = np.unique(pair, return_inverse=True)
    summed = np.bincount(inverse, weights=weight, minlength=len(pairs))
    keep = summed > 1e-9  # float noise is not evidence
    pairs = pairs[keep]
    return pd.DataFrame(
        {
            schema.LS_SESSION_ID: take_strings(session_names, pairs // max(len(track_names), 1)),
            schema.LS_TRACK_ID: take_strings(track_names, pairs % max(len(track_names), 1)),
            schema.LS_WEIGHT: summed[keep].astype(np.float32),
        }
    )


def heldout_mask(session_ids, *, heldout_share: float = 0.1, seed: int = 0) -> np.ndarray:
    """Per value of ``session_ids``: whether its session is held out."""
    if not 0 <= heldout_share < 1:
        raise ValueError(f"heldout_share must be in [0, 1), got {heldout_share}")
    ids = session_ids
    if not (isinstance(ids, pd.Series) and pd.api.types.is_string_dtype(ids.dtype)):
        ids = pd.Series(ids, dtype=object)  # an Arrow-backed column factorizes as it is
    codes, uniques = pd.factorize(ids)
    key = f"spotrec-split:{seed}:".encode()
    draws = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(key + str(s).encode(), digest_size=8).digest(), "big")
            / 2.0**64
            for s in uniques
        ),
        dtype=np.float64,
        count=len(uniques),
    )
    return (draws < heldout_share)[codes] if len(codes) else np.zeros(0, dtype=bool)


def split_sessions(
    events: pd.DataFrame, *, heldout_share: float = 0.1, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train_events, heldout_events): whole sessions, by a hash of session_id."""
    held = heldout_mask(events[schema.LS_SESSION_ID], heldout_share=heldout_share, seed=seed)
    return events[~held].reset_index(drop=True), events[held].reset_index(drop=True)
