"""The fast path of the CSV events-log reader: the same chunks as readers.read_csv_log, parsed
by pyarrow instead of one ``csv.reader`` row at a time (a 100,000-session log is 8.9M rows).

It applies only to files where the two parsers cannot disagree: no quote character, no NUL, no
carriage return other than in ``\\r\\n``, no line longer than csv's field size limit, valid
UTF-8 throughout, and a stream that reads to its end (a truncated gzip fails). Then a line is a
record, its fields are its commas' gaps, and ``csv.reader`` (excel dialect, universal newlines)
would split it the same way. A pre-scan of the bytes (memchr-speed; it reads the file once more)
decides before any row is handed over; anything else goes to the ``csv.reader`` loop, which
names every malformed line.

The chunks are cut where the csv.reader loop cuts them (every CHUNK_ROWS good records, with the
bad lines met since the previous cut), so the rejects come out in the same order.
"""

from __future__ import annotations

import codecs
import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

_BLOCK_BYTES = 32 * 2**20
_BOM = codecs.BOM_UTF8


def _open_binary(path: Path):
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    return (gzip.GzipFile(fileobj=raw), True) if magic == b"\x1f\x8b" else (raw, False)


def _blocks(path: Path) -> Iterator[bytes]:
    """The decoded-to-bytes stream in blocks that end at a newline (the last one at EOF), with
    ``\\r\\n`` turned into ``\\n`` as universal newlines do; a plain file's BOM dropped, as the
    utf-8-sig text reader does (a gzip file is read as utf-8: its BOM stays, as before)."""
    handle, zipped = _open_binary(path)
    with handle:
        rest, first = b"", True
        while True:
            data = handle.read(_BLOCK_BYTES)
            if first and not zipped and data.startswith(_BOM):
                data = data[len(_BOM) :]
            first = False
            if not data:
                if rest:
                    yield _lf(rest)
                return
            data = rest + data if rest else data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield _lf(data[:cut] if cut < len(data) else data)


def _lf(block: bytes) -> bytes:
    return block.replace(b"\r\n", b"\n") if b"\r" in block else block


def _parseable(path: Path) -> bool:
    """Whether every block is free of what only csv.reader handles (see the module docstring)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    limit = csv.field_size_limit()  # csv.reader refuses longer fields; pyarrow has no limit
    try:
        for block in _blocks(path):
            if b'"' in block or b"\r" in block or b"\x00" in block:
                return False
            if len(block) > limit and _longest_line(block) > limit:
                return False
            if not block.isascii():  # ASCII is UTF-8; else decode (raises if invalid)
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except (OSError, EOFError, UnicodeDecodeError):
        return False
    return True


def _longest_line(block: bytes) -> int:
    ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
    return int(np.diff(np.r_[-1, ends, len(block)]).max()) - 1


def fast_chunks(path: Path, header: list[str], wanted: list[tuple[int, str]], chunk_rows: int):
    """Iterator of (raw, bad) per chunk: ``raw`` holds the ``wanted`` (index, name) columns as
    strings plus ``_line``; ``bad`` the bad_field_count lines. None when the file needs
    csv.reader. ``header``: the first line as csv.reader parsed it (the caller checked it)."""
    if not _parseable(path):
        return None
    return _read(path, len(header), wanted, chunk_rows)


def _read(path: Path, n_fields: int, wanted, chunk_rows: int) -> Iterator:
    import pyarrow.csv as pacsv

    names = [f"f{i}" for i in range(n_fields)]
    columns = [names[i] for i, _ in wanted]
    read_options = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 26)
    parse_options = pacsv.ParseOptions(quote_char=False, double_quote=False, escape_char=False)
    convert_options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        include_columns=columns,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )
    pending_tables: list = []
    pending_lines: list[np.ndarray] = []
    pending_good = 0
    bad: list[tuple[int, str, str]] = []
    line_offset = 0  # physical lines before the block
    first = True

    def parse(text: bytes):
        return pacsv.read_csv(
            pa.py_buffer(text),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )

    for block in _blocks(path):
        if first:  # the header line (the caller parsed it)
            block = block[block.find(b"\n") + 1 :] if b"\n" in block else b""
            line_offset, first = 1, False
        table, good_lines, bad_lines, bad_fields = _lines(block, line_offset, n_fields, parse)
        line_offset += block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)
        taken = 0
        while pending_good + (len(good_lines) - taken) >= chunk_rows:
            need = chunk_rows - pending_good
            last_line = good_lines[taken + need - 1]
            cut = int(np.searchsorted(bad_lines, last_line))
            bad.extend(_bad(bad_lines[:cut], bad_fields[:cut], n_fields))
            bad_lines, bad_fields = bad_lines[cut:], bad_fields[cut:]
            pending_tables.append(table.slice(taken, need))
            pending_lines.append(good_lines[taken : taken + need])
            yield _frame(pending_tables, pending_lines, wanted), bad
            pending_tables, pending_lines, pending_good, bad = [], [], 0, []
            taken += need
        if taken < len(good_lines):
            pending_tables.append(table.slice(taken))
            pending_lines.append(good_lines[taken:])
            pending_good += len(good_lines) - taken
        bad.extend(_bad(bad_lines, bad_fields, n_fields))
    if pending_good or bad:
        yield _frame(pending_tables, pending_lines, wanted), bad


def _lines(block: bytes, offset: int, n_fields: int, parse):
    """(table of the good lines, their numbers, bad lines' numbers, their field counts)."""
    lines = block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)
    numbers = np.arange(offset + 1, offset + 1 + lines)
    none = np.zeros(0, dtype=np.int64)
    if not block:  # the first block held the header alone
        return None, none, none, none
    if b"\n\n" not in block and not block.startswith(b"\n"):
        try:  # most blocks: no blank line, and pyarrow refuses a line with other field counts
            table = parse(block)
        except pa.ArrowInvalid:
            table = None
        if table is not None and table.num_rows == lines:
            return table, numbers, none, none
    buffer = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    if len(ends) == 0 or ends[-1] != len(buffer) - 1:  # the last line has no newline
        ends = np.r_[ends, len(buffer)]
    starts = np.r_[0, ends[:-1] + 1]
    commas = np.flatnonzero(buffer == 44)  # positions: a cumulative count is 8 B a byte
    fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    blank = ends == starts
    good = ~blank & (fields == n_fields)
    wrong = ~blank & ~good
    text = b"".join(block[s : e + 1] for s, e in zip(starts[good], ends[good], strict=True))
    table = parse(text) if good.any() else None
    if table is not None and table.num_rows != int(good.sum()):
        raise AssertionError(f"pyarrow read {table.num_rows} rows, not {good.sum()}")
    return table, numbers[good], numbers[wrong], fields[wrong]


def _bad(lines: np.ndarray, fields: np.ndarray, expected: int) -> list[tuple[int, str, str]]:
    return [
        (int(line), "bad_field_count", f"line {line}: expected {expected} fields, got {got}")
        for line, got in zip(lines.tolist(), fields.tolist(), strict=True)
    ]


def _frame(tables: list, lines: list[np.ndarray], wanted) -> pd.DataFrame:
    names = [c for _, c in wanted]
    if not tables:
        raw = pd.DataFrame({c: pd.Series(dtype=object) for c in names})
        raw["_line"] = pd.Series(dtype=np.int64)
        return raw
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    raw = pd.DataFrame(
        {name: table.column(i).to_pandas() for i, name in enumerate(names)},
    )
    raw["_line"] = np.concatenate(lines).astype(np.int64)
    return raw
