"""Row checks for listening events: every raw row either becomes a clean event or a named reject.

Readers (readers.py, mpd.py) hand over raw chunks: a DataFrame with the columns of RAW_COLUMNS
(strings as read; ``timestamp`` may already be datetimes or epoch numbers from Parquet/MPD) plus
``_line``, the row's line or record number in its source. ``check_chunk`` gives each row its
first failing reason, in this order:

* ``missing_value:session_id`` -- empty session id;
* ``bad_track_id`` -- not 22 base-62 characters, after stripping a ``spotify:track:`` prefix;
* ``unknown_event`` -- not one of schema.LISTENING_EVENTS (case and spaces ignored);
* ``bad_timestamp`` -- neither ISO 8601 nor epoch milliseconds (an empty value is refused too:
  a log must say when; MPD playlists use their ``modified_at``).

Whole-file problems (``unreadable_file``, ``bad_json``, ``missing_column:<col>``,
``bad_mpd_structure``, ``bad_playlist``) are named by the readers themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening.columnwise import (
    distinct,
    epoch_numbers,
    plain_utc_seconds,
    spread,
    valid_track_ids,
)

REQUIRED_COLUMNS = (schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT, schema.LS_TIMESTAMP)
# Optional columns a log may carry: names for --match-names, and an explicit order.
NAME_COLUMNS = ("track_name", "artist_name")
RAW_COLUMNS = (*REQUIRED_COLUMNS, schema.LS_POSITION, *NAME_COLUMNS)
_DETAIL_CHARS = 80


def strip_track_uri(values: pd.Series) -> pd.Series:
    """``spotify:track:ID`` -> ``ID``; other values unchanged (stripped of spaces)."""
    text = values.astype("string").str.strip()
    return text.str.removeprefix(schema.SPOTIFY_TRACK_URI_PREFIX)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """datetime64[ns, UTC] from ISO 8601 strings, epoch-millisecond numbers (or digit strings)
    or datetimes (naive ones are taken as UTC); NaT where the value cannot be read."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
        return out.astype("datetime64[ns, UTC]")
    if pd.api.types.is_numeric_dtype(values):
        return _from_epoch_ms(pd.to_numeric(values, errors="coerce"))
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    # The common form first: such a value is never an epoch number (it holds a "T").
    canonical, stamps = plain_utc_seconds(text)
    if canonical.any():
        utc = pd.DatetimeIndex(stamps[canonical]).tz_localize("UTC")
        out[canonical] = pd.Series(utc, index=out.index[canonical])
    numeric = np.zeros(len(text), dtype=bool)
    if not canonical.all():
        numeric[~canonical] = epoch_numbers(text[~canonical])
    if numeric.any():
        out[numeric] = _from_epoch_ms(pd.to_numeric(text[numeric], errors="coerce"))
    iso = ~numeric & ~canonical & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
    if iso.any():
        parsed = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce")
        out[iso] = parsed.astype("datetime64[ns, UTC]")
    return out


def _from_epoch_ms(numbers: pd.Series) -> pd.Series:
    # Beyond year ~2262 datetime64[ns] overflows: such values are bad timestamps, not crashes.
    numbers = numbers.where(numbers.abs() < 9.2e15)
    return pd.to_datetime(numbers, unit="ms", utc=True, errors="coerce").astype(
        "datetime64[ns, UTC]"
    )


def check_chunk(
    raw: pd.DataFrame, *, timestamp_required: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean rows, rejects) of one raw chunk (see the module docstring). With
    ``timestamp_required=False`` (MPD) a missing timestamp is NaT; a malformed one is refused.

    Clean rows have session_id (str), track_id (22-char id, maybe not in the catalogue), event
    (lower case), timestamp (datetime64[ns, UTC]), position (float, NaN = by order),
    track_name/artist_name (str or NA) and _line. Rejects have reason, detail and _line.
    """
    reason = pd.Series(None, index=raw.index, dtype=object)
    detail = pd.Series(None, index=raw.index, dtype=object)

    def flag(mask: pd.Series, name: str, column: str, shown: pd.Series) -> None:
        new = mask.fillna(True).astype(bool) & reason.isna()
        if new.any():
            reason[new] = name
            detail[new] = (
                column + "=" + shown[new].astype("string").fillna("").str.slice(0, _DETAIL_CHARS)
            )

    # Ids and event names repeat: each rule runs once per distinct value (columnwise.py).
    codes, values = distinct(raw[schema.LS_SESSION_ID])
    session = values.astype("string").str.strip()
    missing = spread(session.isna() | (session == ""), codes, raw.index)
    session = spread(session, codes, raw.index)
    flag(missing, "missing_value:session_id", "session_id", session)
    codes, values = distinct(raw[schema.LS_TRACK_ID])
    track = strip_track_uri(values)
    valid = spread(valid_track_ids(track), codes, raw.index)
    track = spread(track, codes, raw.index)
    flag(~valid, "bad_track_id", "track_id", raw[schema.LS_TRACK_ID])
    codes, values = distinct(raw[schema.LS_EVENT])
    event = values.astype("string").str.strip().str.lower()
    known = spread(event.isin(schema.LISTENING_EVENTS), codes, raw.index)
    event = spread(event, codes, raw.index)
    flag(~known, "unknown_event", "event", raw[schema.LS_EVENT])
    timestamp = parse_timestamps(raw[schema.LS_TIMESTAMP])
    given = raw[schema.LS_TIMESTAMP].notna()
    unreadable = timestamp.isna() if timestamp_required else timestamp.isna() & given
    flag(unreadable, "bad_timestamp", "timestamp", raw[schema.LS_TIMESTAMP])

    good = reason.isna().to_numpy()
    position = raw.get(schema.LS_POSITION, np.nan)
    clean = pd.DataFrame(
        {
            schema.LS_SESSION_ID: session,
            schema.LS_TRACK_ID: track,
            schema.LS_EVENT: event,
            schema.LS_TIMESTAMP: timestamp,
            schema.LS_POSITION: pd.to_numeric(position, errors="coerce"),
            **{c: raw[c].astype("string") if c in raw else pd.NA for c in NAME_COLUMNS},
            "_line": raw["_line"],
        },
        index=raw.index,
    )[good]
    rejects = pd.DataFrame(
        {
            schema.REJECT_REASON: reason[~good],
            schema.REJECT_DETAIL: detail[~good],
            "_line": raw.loc[~good, "_line"],
        }
    )
    return clean.reset_index(drop=True), rejects.reset_index(drop=True)
