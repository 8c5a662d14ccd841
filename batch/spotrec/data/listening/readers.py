"""Find listening files and read them as raw chunks, streaming: one bounded chunk at a time.

Formats, by file name:
* ``*.json``: a Spotify Million Playlist Dataset slice (mpd.py);
* ``*.csv`` / ``*.csv.gz``: an events log, read with the csv module so a malformed line is a
  named reject (``bad_field_count``, ``unparseable_line``), not a crash;
* ``*.jsonl`` / ``*.ndjson`` (optionally ``.gz``): an events log, one JSON object per line
  (``bad_json`` for a line that is not one);
* ``*.parquet``: an events log, read in record batches.
A directory is read recursively in sorted order; files of other kinds inside it (READMEs...) are
skipped and listed in the stats, while a file named explicitly must be one of these kinds.
Whole-file problems are one reject each: ``unreadable_file``, ``missing_column:<col>``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from spotrec.data.listening.csv_fast import fast_chunks
from spotrec.data.listening.events import RAW_COLUMNS, REQUIRED_COLUMNS
from spotrec.errors import SpotrecError

CHUNK_ROWS = 250_000
_SUFFIXES = {
    ".json": "mpd",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}


@dataclass
class RawChunk:
    """Rows of one source, as read. ``raw`` has RAW_COLUMNS (those present) and ``_line``;
    ``rejects`` has reason, detail, _line for rows or files refused while reading."""

    source: str
    raw: pd.DataFrame | None
    rejects: list[tuple[int, str, str]]
    rows_read: int
    timestamp_required: bool = True


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None


def discover(paths: list[str | os.PathLike]) -> tuple[list[tuple[Path, str]], list[str]]:
    """(files with their format, skipped files) under ``paths``, in a stable order."""
    found, skipped = [], []
    for given in map(Path, paths):
        if given.is_dir():
            for path in sorted(p for p in given.rglob("*") if p.is_file()):
                if path.name.startswith("."):
                    continue
                kind = file_format(path)
                if kind:
                    found.append((path, kind))
                else:
                    skipped.append(str(path))
        elif given.is_file():
            kind = file_format(given)
            if kind is None:
                raise SpotrecError(
                    f"{given}: unknown listening file kind; expected MPD slices (.json), "
                    "events logs (.csv, .jsonl, .parquet)"
                )
            found.append((given, kind))
        else:
            raise SpotrecError(f"listening data {given} does not exist")
    return found, skipped


def _open_text(path: Path):
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", errors="replace")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace")


def _missing(header: list[str]) -> list[str]:
    return [c for c in REQUIRED_COLUMNS if c not in header]


def file_reject(source: str, reason: str, detail: str) -> RawChunk:
    return RawChunk(source, None, [(0, reason, detail)], rows_read=1)


def read_csv_log(path: Path) -> Iterator[RawChunk]:
    source = str(path)
    try:
        handle = _open_text(path)
        reader = csv.reader(handle, strict=True)
        header = [h.strip() for h in next(reader, [])]
    except (OSError, csv.Error, EOFError) as exc:
        yield file_reject(source, "unreadable_file", str(exc)[:200])
        return
    with handle:
        if missing := _missing(header):
            yield file_reject(source, f"missing_column:{missing[0]}", f"header: {header}")
            return
        wanted = [(header.index(c), c) for c in RAW_COLUMNS if c in header]
        fast = fast_chunks(path, header, wanted, CHUNK_ROWS)
        if fast is not None:  # pyarrow, where it and csv.reader cannot disagree (csv_fast.py)
            for raw, bad in fast:
                yield RawChunk(source, raw, bad, rows_read=len(raw) + len(bad))
            return
        records, lines, bad = [], [], []
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except (csv.Error, OSError, EOFError) as exc:
                bad.append((line, "unparseable_line", f"line {line}: {exc}"[:200]))
                if not isinstance(exc, csv.Error):
                    break
                continue
            if len(record) != len(header):
                if record:  # blank lines are layout, not data
                    detail = f"line {line}: expected {len(header)} fields, got {len(record)}"
                    bad.append((line, "bad_field_count", detail))
                continue
            records.append([record[i] for i, _ in wanted])
            lines.append(line)
            if len(records) >= CHUNK_ROWS:
                yield _chunk(source, records, lines, [c for _, c in wanted], bad)
                records, lines, bad = [], [], []
        if records or bad:
            yield _chunk(source, records, lines, [c for _, c in wanted], bad)


def _chunk(source: str, records: list, lines: list, columns: list, bad: list) -> RawChunk:
    raw = pd.DataFrame(records, columns=columns, dtype=object)
    raw["_line"] = lines
    return RawChunk(source, raw, bad, rows_read=len(records) + len(bad))


def read_jsonl_log(path: Path) -> Iterator[RawChunk]:
    source = str(path)
    try:
        handle = _open_text(path)
    except OSError as exc:
        yield file_reject(source, "unreadable_file", str(exc)[:200])
        return
    records, lines, bad = [], [], []
    with handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    bad.append((line_number, "bad_json", f"line {line_number}: {exc}"[:200]))
                    continue
                if not isinstance(obj, dict):
                    bad.append((line_number, "bad_json", f"line {line_number}: not an object"))
                    continue
                records.append([obj.get(c) for c in RAW_COLUMNS])
                lines.append(line_number)
                if len(records) >= CHUNK_ROWS:
                    yield _chunk(source, records, lines, list(RAW_COLUMNS), bad)
                    records, lines, bad = [], [], []
        except (OSError, EOFError) as exc:  # a truncated gzip stream
            bad.append((0, "unreadable_file", str(exc)[:200]))
    if records or bad:
        yield _chunk(source, records, lines, list(RAW_COLUMNS), bad)


def read_parquet_log(path: Path) -> Iterator[RawChunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = str(path)
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        yield file_reject(source, "unreadable_file", str(exc)[:200])
        return
    names = parquet.schema_arrow.names
    if missing := _missing(names):
        yield file_reject(source, f"missing_column:{missing[0]}", f"columns: {names}")
        return
    start = 1
    for batch in parquet.iter_batches(CHUNK_ROWS, columns=[c for c in RAW_COLUMNS if c in names]):
        raw = batch.to_pandas()
        raw["_line"] = range(start, start + len(raw))
        start += len(raw)
        yield RawChunk(source, raw, [], rows_read=len(raw))


def read_file(path: Path, kind: str, *, names: bool = True) -> Iterator[RawChunk]:
    """Raw chunks of one file; ``names=False`` lets the MPD reader skip the title and artist
    columns, which only name matching needs."""
    from spotrec.data.listening.mpd import read_mpd_slice

    if kind == "mpd":
        yield from read_mpd_slice(path, names=names)
        return
    readers = {
        "csv": read_csv_log,
        "jsonl": read_jsonl_log,
        "parquet": read_parquet_log,
    }
    yield from readers[kind](path)
