"""Read the Spotify Tracks CSV (plain or gzip), validate every row, and fold it into a catalogue.

Steps: read bytes (sha256 of the *uncompressed* content) -> split into records with the csv
module, so a malformed line becomes a named reject instead of a crash -> validate the
well-formed rows column by column with vectorised pandas -> one record per track_id with the set
of its genres and the max popularity -> song_id from data/variants.py.

Every refused row gets exactly one reason (the first check it fails, in the order of
``check_row_values``), so ``rows_read == rows_accepted + rows_rejected``. Reasons are stable
names: ``bad_field_count``, ``blank_line``, ``unparseable_line``, ``bad_encoding``,
``bad_row_index``, ``bad_track_id``, ``empty_genre``, ``bad_explicit``, ``missing_value:<col>``,
``not_a_number:<col>``, ``not_an_integer:<col>``, ``out_of_range:<col>``.

This module reads, checks the header, folds and counts; the row checks (record splitting, value
checks, the rejects table) are in data/validation.py.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.ingest_rows import read_rows
from spotrec.data.validation import (
    INTEGER_COLUMNS,
    check_row_values,
    parse_numbers,
    rejects_frame,
)
from spotrec.data.variants import song_keys, variant_group_sizes
from spotrec.errors import SpotrecError

log = logging.getLogger(__name__)

# Fields whose disagreement between rows of one track_id counts as a conflict (first row wins).
# popularity and track_genre legitimately differ between a track's genre rows.
_CONFLICT_COLUMNS = (
    "artists",
    "album_name",
    "track_name",
    "duration_ms",
    "explicit",
    *schema.AUDIO_FEATURES,
)


@dataclass
class IngestResult:
    tracks: pd.DataFrame  # schema.TRACK_COLUMNS, one row per track_id, in source order
    rejects: pd.DataFrame  # schema.REJECT_COLUMNS
    counts: dict = field(default_factory=dict)
    sha256: str = ""


class RejectShareError(SpotrecError):
    """Too many rows were rejected. ``result`` holds what was read, so callers can still write
    the rejects file before failing."""

    def __init__(self, message: str, result: IngestResult):
        super().__init__(message)
        self.result = result


def read_source_bytes(path: Path) -> bytes:
    """The uncompressed bytes of a plain or gzip CSV (gzip detected by its magic number)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SpotrecError(f"cannot read catalogue {path}: {exc.strerror or exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SpotrecError(f"{path} looks gzip-compressed but cannot be read: {exc}") from exc
    return raw


def _check_header(header: list[str], path: Path) -> bool:
    """Validates the header; returns whether it starts with the unnamed index column."""
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise SpotrecError(f"{path}: duplicate column name(s) in header: {', '.join(dupes)}")
    missing = [c for c in schema.RAW_COLUMNS if c not in header]
    if missing:
        raise SpotrecError(
            f"{path}: missing required column(s): {', '.join(missing)} "
            f"(expected {', '.join(schema.RAW_COLUMNS)})"
        )
    extra = [c for c in header if c not in schema.RAW_COLUMNS and c != schema.RAW_INDEX]
    if extra:
        log.warning("%s: ignoring unknown column(s): %s", path, ", ".join(extra))
    return header[0] == schema.RAW_INDEX


def _fold_tracks(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One record per track_id (first row wins, popularity = max, genres = sorted set).

    Everything is keyed by integer track codes (one hashing pass over the ids) and each distinct
    artists cell and genre is handled once: per-row Python here was ~half of ingest at 1M."""
    codes, uniques = pd.factorize(rows["track_id"], sort=False)  # codes in first-seen order
    n_tracks = len(uniques)
    # codes are numbered in first-seen order: a track's first row is where a new code appears
    seen = np.maximum.accumulate(codes) if len(codes) else codes
    first = rows.iloc[np.flatnonzero(np.r_[True, codes[1:] > seen[:-1]])[:n_tracks]]
    repeated = np.bincount(codes, minlength=n_tracks)[codes] > 1
    # A conflict: a track whose rows hold more than one distinct value set (first row wins).
    distinct = rows.loc[repeated, list(_CONFLICT_COLUMNS)].assign(_code=codes[repeated])
    distinct = distinct.drop_duplicates()
    conflicts = int(distinct.loc[distinct["_code"].duplicated(), "_code"].nunique())
    popularity = pd.Series(rows[schema.POPULARITY].to_numpy()).groupby(codes).max().to_numpy()
    tracks = pd.DataFrame(
        {
            schema.TRACK_ID: np.asarray(uniques, dtype=object),
            schema.NAME: first["track_name"].to_numpy(dtype=object),
            schema.ARTISTS: _artist_lists(first["artists"]),
            schema.ALBUM: first["album_name"].to_numpy(dtype=object),
            schema.POPULARITY: popularity,
            schema.DURATION_MS: first[schema.DURATION_MS].to_numpy(),
            schema.EXPLICIT: first["explicit"].to_numpy(dtype=bool),
            **{f: first[f].to_numpy() for f in schema.AUDIO_FEATURES},
            schema.GENRES: _genre_lists(codes, rows["track_genre"], n_tracks),
            schema.HOLDOUT: False,
            schema.FIRST_ROW: first["_source_row"].to_numpy(dtype=np.int64),
        }
    )
    tracks[schema.SONG_ID] = song_keys(
        tracks[schema.NAME].to_list(), tracks[schema.ARTISTS], tracks[schema.TRACK_ID].to_list()
    )
    return tracks[list(schema.TRACK_COLUMNS)], conflicts


def _artist_lists(cells: pd.Series) -> list[list[str]]:
    """Each raw artists cell split on the separator, names stripped, empty names dropped; each
    distinct cell split once (every track gets its own list)."""
    codes, uniques = pd.factorize(cells, sort=False)
    split = [
        [a.strip() for a in str(cell).split(schema.RAW_ARTIST_SEPARATOR) if a.strip()]
        for cell in uniques
    ]
    return [list(split[c]) for c in codes]


def _genre_lists(codes: np.ndarray, genres: pd.Series, n_tracks: int) -> list[list[str]]:
    """Each track's distinct genres, sorted as Python sorts strings."""
    genre_codes, names = pd.factorize(genres, sort=False)
    names = [str(g) for g in names]
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    pairs = np.unique(codes.astype(np.int64) * max(len(names), 1) + rank[genre_codes])
    per_track = np.bincount(pairs // max(len(names), 1), minlength=n_tracks)
    sorted_names = [names[i] for i in order]
    values = iter([sorted_names[r] for r in (pairs % max(len(names), 1)).tolist()])
    return [list(islice(values, k)) for k in per_track.tolist()]


def load_catalogue(
    path: str | os.PathLike,
    *,
    max_reject_share: float = 0.01,
    rejects_path: str | os.PathLike | None = None,
) -> IngestResult:
    """Read, validate and fold the CSV at ``path`` into a catalogue (see module docstring).

    Raises SpotrecError for an unreadable file, a missing required column or no data rows, and
    RejectShareError (a SpotrecError) when more than ``max_reject_share`` of rows are refused.
    ``rejects_path``, when given, receives the rejects CSV, even when the share is exceeded.
    """
    path = Path(path)
    data = read_source_bytes(path)
    sha256 = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    header, rows, bad_lines = read_rows(data, text, path, lambda h: _check_header(h, path))
    del data, text
    has_index = header[0] == schema.RAW_INDEX
    reason, detail, numbers = check_row_values(rows)
    if has_index:
        index = parse_numbers(rows[schema.RAW_INDEX].str.strip())
        rows["_source_row"] = index.fillna(-1).astype(np.int64)
    else:  # no index column: the data record's position stands in for it
        rows["_source_row"] = np.arange(len(rows), dtype=np.int64)
    rejects = rejects_frame(bad_lines, rows, reason, detail)

    good = reason.isna().to_numpy()
    valid = rows.loc[good, ["track_id", "artists", "album_name", "track_name", "_source_row"]]
    valid = valid.assign(track_genre=rows.loc[good, "track_genre"].str.strip())
    for column, values in numbers.items():
        values = values[good]
        valid[column] = values.astype(np.int64 if column in INTEGER_COLUMNS else values.dtype)
    tracks, conflicts = _fold_tracks(valid)

    rows_read = len(rows) + len(bad_lines)
    by_reason = {str(k): int(v) for k, v in rejects[schema.REJECT_REASON].value_counts().items()}
    group_sizes = variant_group_sizes(tracks[schema.SONG_ID])
    counts = {
        "rows_read": rows_read,
        "rows_rejected": len(rejects),
        "rejects_by_reason": by_reason,
        "tracks": len(tracks),
        "songs": int(tracks[schema.SONG_ID].nunique()),
        "variant_tracks": int((group_sizes > 1).sum()),
        "duplicate_rows": int(good.sum()) - len(tracks),
        "conflicts": conflicts,
        "genres": int(valid["track_genre"].nunique()),
    }
    result = IngestResult(tracks=tracks, rejects=rejects, counts=counts, sha256=sha256)
    log.info("ingest %s: %s", path.name, counts)
    if by_reason:
        log.warning("rejected %d of %d rows: %s", len(rejects), rows_read, by_reason)
    if rejects_path is not None:
        write_rejects(rejects, rejects_path)
    if rows_read == 0:
        raise SpotrecError(f"{path} has a header but no data rows")
    share = len(rejects) / rows_read
    if share > max_reject_share:
        raise RejectShareError(
            f"{path}: rejected {len(rejects)} of {rows_read} rows ({share:.2%}), more than the "
            f"allowed {max_reject_share:.2%}; by reason: {by_reason}",
            result,
        )
    return result


def write_rejects(rejects: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the rejects table as CSV (schema.REJECT_COLUMNS), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            rejects.loc[:, list(schema.REJECT_COLUMNS)].to_csv(handle, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
