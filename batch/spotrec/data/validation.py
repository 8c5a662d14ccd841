"""Row-level validation of the Spotify Tracks CSV: malformed lines, bad values, the rejects table.

``split_records`` splits the text into well-formed records and names every malformed line
(``bad_field_count``, ``blank_line``, ``unparseable_line``, ``bad_encoding``).
``check_row_values`` gives each well-formed row its first failing reason, in this order:
``bad_row_index``, ``bad_track_id``, ``empty_genre``, ``bad_explicit``, then per numeric column
(NUMERIC_RANGES, in source order) ``missing_value:<col>``, ``not_a_number:<col>``,
``not_an_integer:<col>``, ``out_of_range:<col>``. ``rejects_frame`` joins both into the rejects
table (schema.REJECT_COLUMNS). ingest.py drives these checks and folds the valid rows.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.errors import SpotrecError

TRACK_ID_REGEX = r"[0-9A-Za-z]{22}"  # same rule as spotrec_serving.items.TRACK_ID_PATTERN
_INF = float("inf")
# Numeric columns in source order with their inclusive valid ranges.
NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    schema.POPULARITY: (0, 100),
    schema.DURATION_MS: (0, _INF),
    **schema.AUDIO_FEATURE_RANGES,
}
INTEGER_COLUMNS = (schema.POPULARITY, schema.DURATION_MS, *schema.INTEGER_FEATURES)
_EXPLICIT_VALUES = {"true": True, "false": False}
# Left in the text by errors="surrogateescape" where the bytes are not UTF-8.
_SURROGATE = re.compile("[\udc80-\udcff]")
_FIELD_JOIN = "\x1f"


def split_records(text: str, path: Path) -> tuple[list[str], list[list[str]], list[int], list]:
    """(header, well-formed records, their line numbers, malformed-line rejects)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise SpotrecError(f"{path} is empty: no header line") from None
    except csv.Error as exc:
        raise SpotrecError(f"{path}: the header line cannot be parsed ({exc})") from exc
    records, lines, bad = [], [], []
    # Bytes that are not UTF-8 were decoded to lone surrogates; look per record only if any exist.
    check_encoding = _SURROGATE.search(text) is not None
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append((start, "unparseable_line", f"line {start}: {exc}"))
            continue
        if not record:
            bad.append((start, "blank_line", f"line {start}: blank line"))
        elif len(record) != len(header):
            detail = f"line {start}: expected {len(header)} fields, got {len(record)}"
            bad.append((start, "bad_field_count", detail))
        elif check_encoding and _SURROGATE.search(_FIELD_JOIN.join(record)):
            bad.append((start, "bad_encoding", f"line {start}: bytes that are not UTF-8"))
        else:
            records.append(record)
            lines.append(start)
    return header, records, lines, bad


def check_row_values(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, dict[str, pd.Series]]:
    """Per row: first failing reason (None if valid), its detail, and the parsed numbers."""
    reason = pd.Series(None, index=df.index, dtype=object)
    detail = pd.Series(None, index=df.index, dtype=object)

    def flag(mask: pd.Series, name: str, column: str) -> None:
        new = mask & reason.isna()
        if new.any():
            reason[new] = name
            detail[new] = column + "=" + df.loc[new, column].str.slice(0, 80)

    if schema.RAW_INDEX in df:
        flag(~df[schema.RAW_INDEX].str.fullmatch(r"\s*\d+\s*"), "bad_row_index", schema.RAW_INDEX)
    flag(~df["track_id"].str.fullmatch(TRACK_ID_REGEX), "bad_track_id", "track_id")
    flag(df["track_genre"].str.strip() == "", "empty_genre", "track_genre")
    explicit = df["explicit"].str.strip().str.lower()
    flag(~explicit.isin(list(_EXPLICIT_VALUES)), "bad_explicit", "explicit")
    numbers: dict[str, pd.Series] = {}
    for column, (low, high) in NUMERIC_RANGES.items():
        raw = df[column].str.strip()
        value = parse_numbers(raw)
        flag(raw == "", f"missing_value:{column}", column)
        flag(value.isna(), f"not_a_number:{column}", column)
        if column in INTEGER_COLUMNS:
            flag(np.isfinite(value) & (value % 1 != 0), f"not_an_integer:{column}", column)
        flag(~value.between(low, high), f"out_of_range:{column}", column)
        numbers[column] = value
    numbers["explicit"] = explicit.map(_EXPLICIT_VALUES)
    return reason, detail, numbers


# Plain decimals that pyarrow's cast and pandas' parser read alike: an integer of at most 18
# digits (int64, as pandas gives for an all-integer column), or at most 16 characters with an
# exponent of at most 9 ("4.37e-05"): <= 15 significant digits scaled by an exactly
# representable power of ten (<= 10^22), which both parsers round correctly, so alike.
_PLAIN_INTEGER = r"^-?[0-9]{1,18}$"
_PLAIN_DECIMAL = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?0?[0-9])?$"


def parse_numbers(raw: pd.Series) -> pd.Series:
    """``pd.to_numeric(raw, errors="coerce")``, with the same values and dtype, without its
    per-value Python objects when every value is a plain decimal (one pyarrow cast; a column
    with anything else, blanks included, goes through pandas as before). At 1M tracks
    pd.to_numeric over 14 columns was a quarter of ingest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(raw, from_pandas=True)  # the str column's Arrow data, not Python objects
    if text.null_count == 0:
        try:
            if pc.all(pc.match_substring_regex(text, _PLAIN_INTEGER)).as_py() is not False:
                return pd.Series(pc.cast(text, pa.int64()).to_numpy(), index=raw.index)
            plain = pc.match_substring_regex(text, _PLAIN_DECIMAL)
            short = pc.less_equal(pc.utf8_length(text), 16)
            if pc.all(pc.and_(plain, short)).as_py() is not False:
                return pd.Series(pc.cast(text, pa.float64()).to_numpy(), index=raw.index)
        except pa.ArrowInvalid:  # a value pyarrow reads differently: pandas decides
            pass
    return pd.to_numeric(raw, errors="coerce")


def rejects_frame(
    bad_lines: list, rows: pd.DataFrame, reason: pd.Series, detail: pd.Series
) -> pd.DataFrame:
    """The rejects table (schema.REJECT_COLUMNS) of the malformed lines and the refused rows,
    sorted by source row."""
    refused = reason.notna()
    line_part = pd.DataFrame(
        {
            schema.REJECT_ROW: [line for line, _, _ in bad_lines],
            schema.REJECT_REASON: [r for _, r, _ in bad_lines],
            schema.REJECT_DETAIL: [d for _, _, d in bad_lines],
        }
    )
    # Rows whose index column is broken are identified by line number instead.
    row_ids = rows["_source_row"].where(rows["_source_row"] >= 0, rows["_line"])
    value_part = pd.DataFrame(
        {
            schema.REJECT_ROW: row_ids[refused],
            schema.REJECT_REASON: reason[refused],
            schema.REJECT_DETAIL: "line "
            + rows.loc[refused, "_line"].astype(str)
            + ": "
            + detail[refused],
        }
    )
    frames = [f for f in (line_part, value_part) if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in schema.REJECT_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out[schema.REJECT_ROW] = out[schema.REJECT_ROW].astype(np.int64)
    return out.sort_values(schema.REJECT_ROW, kind="stable").reset_index(drop=True)
