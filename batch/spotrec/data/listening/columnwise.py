"""Column-wise forms of the row checks in events.py, each equal to the row-wise rule it replaces
(tests/batch/data/test_listening_fast_path.py holds them to it): a 100,000-session log is 8.9M
rows, and pandas runs some of these rules in Python, one row at a time.

* ``distinct``/``spread``: a column's rule computed once per distinct value (ids repeat ~90
  times at 100k sessions) and spread back by the codes.
* ``valid_track_ids``, ``epoch_numbers``, ``plain_utc_seconds``: Arrow and numpy instead of
  Python's ``re`` and pandas' ISO parser, where the outcome is the same by construction.
* ``take_strings``: millions of repeated ids built by Arrow, not as Python strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct values) of a column, NA included as a value. The rules applied to the
    values must start with ``astype("string")`` and work value by value."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        categories = pd.Series(values.cat.categories.array).astype("string")
        if len(codes) and codes.min() < 0:  # NA: one more value
            categories = pd.concat([categories, pd.Series([None], dtype="string")])
            codes = np.where(codes < 0, len(categories) - 1, codes)
        return codes, categories.reset_index(drop=True)
    if not isinstance(values.dtype, pd.StringDtype):
        # Every rule starts with astype("string"), so doing it first changes nothing; and it
        # must come first: an object column's 1, 1.0 and True hash alike but read differently.
        values = values.astype("string")
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, pd.Series(uniques)


def spread(per_value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The per-distinct-value results back on every row (see ``distinct``). Strings come back
    categorical, so later steps group the rows by their codes instead of hashing strings."""
    if isinstance(per_value.dtype, pd.StringDtype):
        kept, categories = pd.factorize(per_value)  # cleaning may merge values; NA: -1
        return pd.Series(pd.Categorical.from_codes(kept[codes], categories), index=index)
    return pd.Series(per_value.array.take(codes), index=index)


def valid_track_ids(track: pd.Series) -> pd.Series:
    """``track.str.fullmatch(TRACK_ID_REGEX)`` ([0-9A-Za-z]{22}) computed by Arrow: 22
    characters, all ASCII letters or digits (pandas runs that regex in Python, row by row).
    NA is False (check_chunk refuses NA either way)."""
    import pyarrow.compute as pc

    array = pa_strings(track)
    valid = pc.and_(pc.equal(pc.utf8_length(array), 22), pc.ascii_is_alnum(array))
    return pd.Series(valid.fill_null(False).to_numpy(zero_copy_only=False), index=track.index)


def epoch_numbers(text: pd.Series) -> pd.Series:
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
        numeric[unsure] = text[unsure].str.fullmatch(EPOCH_NUMBER).fillna(False).to_numpy(bool)
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


EPOCH_NUMBER = r"\s*-?\d+(\.\d*)?\s*"
