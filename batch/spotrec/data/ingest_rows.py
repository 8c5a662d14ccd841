"""The CSV's records as a frame of strings (one column per header name, plus ``_line``), and its
malformed lines as named rejects.

The csv module (validation.split_records) is the reference: it names every malformed line, and
it is what a file with quoting, carriage returns, NUL bytes or bytes that are not UTF-8 goes
through. A file without any of those is a plain comma-split of ``\\n``-separated lines, where
pyarrow's CSV reader gives exactly the same records, several times faster (at 1M tracks the
csv module and the frame of its records were ~40% of ingest's CPU). Arrow must refuse any line
the csv module would name (a wrong field count: no invalid-row handler; a field over the csv
module's size limit); a file with a blank line is left to the csv module (arrow reads it as a
row of empty fields); the record count must equal the file's line count; any failure falls
back to the csv module, so the rejects are the same too.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec.data.validation import split_records

# Characters whose csv-module meaning pyarrow does not share byte for byte (quoting, a lone
# carriage return ending a record, NUL); text with any of them takes the csv module.
_CSV_MODULE_ONLY = ('"', "\r", "\x00")


def read_rows(
    data: bytes, text: str, path: Path, check_header
) -> tuple[list[str], pd.DataFrame, list]:
    """(header, rows as "str" columns + ``_line``, malformed-line rejects) of the CSV whose
    bytes are ``data`` and decoded text is ``text`` (BOM removed). ``check_header(header)``
    runs before the records are read, so a bad header fails first either way."""
    # A blank line (arrow reads it as a row of empty fields) is the csv module's to name.
    plain = "\n" in text and not text.startswith("\n") and "\n\n" not in text
    if plain and not any(c in text for c in _CSV_MODULE_ONLY):
        header = next(csv.reader(io.StringIO(text[: text.index("\n")])))
        check_header(header)
        rows = _arrow_rows(data, header)
        # One record per line after the header, or something was skipped: the csv module decides.
        records = text.count("\n") - (1 if text.endswith("\n") else 0)
        if rows is not None and len(rows) == records:
            return header, rows, []
    header, records, lines, bad_lines = split_records(text, path)
    check_header(header)
    rows = pd.DataFrame(records, columns=header, dtype="str")
    del records
    rows["_line"] = np.asarray(lines, dtype=np.int64)
    return header, rows, bad_lines


def _arrow_rows(data: bytes, header: list[str]) -> pd.DataFrame | None:
    """The records read by pyarrow, or None where the csv module must decide."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    body = memoryview(data)[3:] if data.startswith(b"\xef\xbb\xbf") else memoryview(data)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                quote_char=False, escape_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # a blank line, a wrong field count, bad UTF-8: the csv module names it
    limit = csv.field_size_limit()
    for column in table.columns:
        longest = pc.max(pc.utf8_length(column)).as_py()
        if longest is not None and longest > limit:
            return None
    rows = pd.DataFrame(
        {name: pd.array(table.column(i), dtype="str") for i, name in enumerate(header)}
    )
    # No record spans two lines here: data record k sits on line k + 2 (line 1 is the header).
    rows["_line"] = np.arange(2, len(rows) + 2, dtype=np.int64)
    return rows
