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

REQUIRED_COLUMNS = (schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT, schema.LS_TIMESTAMP)
# Optional columns a log may carry: names for --match-names, and an explicit order.
NAME_COLUMNS = ("track_name", "artist_name")
RAW_COLUMNS = (*REQUIRED_COLUMNS, schema.LS_POSITION, *NAME_COLUMNS)
_EPOCH_NUMBER = r"\s*-?\d+(\.\d*)?\s*"
_DETAIL_CHARS = 80


def strip_track_uri(values: pd.Series) -> pd.Series:
    """``spotify:track:ID`` -> ``ID``; other values unchanged (stripped of spaces)."""
    text = values.astype("string").str.strip()
    return text.str.removeprefix(schema.SPOTIFY_TRACK_URI_PREFIX)


def valid_track_ids(track: pd.Series) -> pd.Series:
    """``track.str.fullmatch(TRACK_ID_REGEX)`` ([0-9A-Za-z]{22}) computed by Arrow: 22
    characters, all ASCII letters or digits (pandas runs that regex in Python, row by row).
    NA is False (check_chunk refuses NA either way)."""
    import pyarrow.compute as pc

    array = pa_strings(track)
    valid = pc.and_(pc.equal(pc.utf8_length(array), 22), pc.ascii_is_alnum(array))
    return pd.Series(valid.fill_null(False).to_numpy(zero_copy_only=False), index=track.index)


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
        numeric[~canonical] = _epoch_numbers(text[~canonical])
    if numeric.any():
        out[numeric] = _from_epoch_ms(pd.to_numeric(text[numeric], errors="coerce"))
    iso = ~numeric & ~canonical & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
    if iso.any():
        parsed = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce")
        out[iso] = parsed.astype("datetime64[ns, UTC]")
    return out


def _epoch_numbers(text: pd.Series) -> pd.Series:
    """text.str.fullmatch(_EPOCH_NUMBER), i.e. with Python's Unicode \\s and \\d, without running
    Python's regex on every row: the ASCII form is matched by Arrow, and a value holding an
    ASCII letter, ``:`` or ``/`` (an ISO date, say) cannot match; Python decides the rest."""
    import pyarrow.compute as pc

    array = pa_strings(text)
    plain = pc.match_substring_regex(array, r"^-?[0-9]+(\.[0-9]*)?$").fill_null(False)
    excluded = pc.match_substring_regex(array, "[A-Za-z:/]").fill_null(True)
    numeric = plain.to_numpy(zero_copy_only=False)
    unsure = ~numeric & ~excluded.to_numpy(zero_copy_only=False)
    if unsure.any():
        numeric[unsure] = text[unsure].str.fullmatch(_EPOCH_NUMBER).fillna(False).to_numpy(bool)
    return pd.Series(numeric, index=text.index)


def take_strings(names, codes: np.ndarray) -> pd.Series:
    """``pd.Series(np.asarray(names, dtype=object)[codes])`` (pandas' ``str`` dtype), built by
    Arrow: millions of repeated ids are not turned into Python strings one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = np.asarray(names, dtype=object)
    if not len(codes) or pd.api.types.infer_dtype(names, skipna=False) != "string":
        return pd.Series(names[codes])  # pandas picks the dtype, as it always did
    dictionary = pa.array(names, type=pa.large_string())
    return pd.Series(pc.take(dictionary, pa.array(codes)).to_pandas())


def pa_strings(text: pd.Series):
    """The pyarrow string array behind a ``string`` Series (one chunk)."""
    import pyarrow as pa

    array = pa.array(text.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def plain_utc_seconds(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(mask, datetime64[ns] values) for values of the one form most logs write,
    ``YYYY-MM-DDTHH:MM:SSZ``, with every field in range (years 1700-2200, the day within its
    month): exactly what pandas' ISO 8601 parser gives them, computed column-wise. The rest
    (other forms, out-of-range fields) go to pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa_strings(text)
    width = 20
    sized = pc.equal(pc.binary_length(array), width).fill_null(False).to_numpy(zero_copy_only=False)
    mask = np.zeros(len(text), dtype=bool)
    values = np.full(len(text), np.datetime64("NaT", "ns"))
    if not sized.any():
        return mask, values
    chosen = pc.filter(array, sized)
    wide = pa.types.is_large_string(chosen.type)
    offsets = np.frombuffer(chosen.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[chosen.offset : chosen.offset + len(chosen) + 1]
    data = np.frombuffer(chosen.buffers()[2], dtype=np.uint8)
    chars = data[offsets[0] : offsets[0] + width * len(chosen)].reshape(-1, width)
    digits = chars[:, _DIGIT_COLUMNS] - np.uint8(ord("0"))  # not a digit: wraps past 9
    ok = (digits <= 9).all(1) & (chars[:, _FIXED_COLUMNS] == _FIXED_CHARS).all(1)
    digits = digits.astype(np.int32)

    def number(*columns: int) -> np.ndarray:
        out = digits[:, columns[0]].copy()
        for column in columns[1:]:
            out = out * 10 + digits[:, column]
        return out

    year, month, day = number(0, 1, 2, 3), number(4, 5), number(6, 7)
    hour, minute, second = number(8, 9), number(10, 11), number(12, 13)
    ok &= (year >= 1700) & (year <= 2200) & (month >= 1) & (month <= 12)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59) & (day >= 1)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first_day = months.astype("datetime64[D]")
    ok &= day - 1 < ((months + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    seconds = (hour * 60 + minute) * 60 + second
    stamps = (first_day + np.where(ok, day - 1, 0)).astype("datetime64[ns]") + seconds.astype(
        "timedelta64[s]"
    )
    rows = np.flatnonzero(sized)
    mask[rows[ok]] = True
    values[rows[ok]] = stamps[ok]
    return mask, values


_DIGIT_COLUMNS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_FIXED_COLUMNS = [4, 7, 10, 13, 16, 19]
_FIXED_CHARS = np.frombuffer(b"--T::Z", dtype=np.uint8)


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

    session = raw[schema.LS_SESSION_ID].astype("string").str.strip()
    flag(session.isna() | (session == ""), "missing_value:session_id", "session_id", session)
    track = strip_track_uri(raw[schema.LS_TRACK_ID])
    flag(~valid_track_ids(track), "bad_track_id", "track_id", raw[schema.LS_TRACK_ID])
    event = raw[schema.LS_EVENT].astype("string").str.strip().str.lower()
    flag(~event.isin(schema.LISTENING_EVENTS), "unknown_event", "event", raw[schema.LS_EVENT])
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
