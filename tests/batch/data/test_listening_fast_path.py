"""The fast CSV path (pyarrow) and the column-wise checks give exactly the csv.reader path's and
the row-wise checks' outcome: same events, same rejects in the same order, same counts."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from listening_support import tiny_catalogue
from rawcsv import make_track_id

from spotrec import schema
from spotrec.data.listening import csv_fast, readers, session_item_weights
from spotrec.data.listening.columnwise import distinct, spread, valid_track_ids
from spotrec.data.listening.events import parse_timestamps, strip_track_uri
from spotrec.data.listening.load import load_listening
from spotrec.data.listening.weights import heldout_mask

C = [make_track_id(i) for i in range(10)]
OUTSIDE = make_track_id(1000)
HEADER = "session_id,track_id,event,timestamp,track_name"

# (line text, its reject reason or None): every kind of bad row a log can hold.
ROWS = [
    (f"s1,{C[0]},play,2024-01-01T10:00:00Z,a", None),
    (f"s1,spotify:track:{C[1]},like,1704103500000,b", None),
    (f"s1,{C[2]},dance,2024-01-01T10:05:00Z,c", "unknown_event"),
    (f"s1,{C[3]},play,yesterday,d", "bad_timestamp"),
    (f",{C[4]},play,2024-01-01T10:00:00Z,e", "missing_value:session_id"),
    (f"s1,{C[5]},play", "bad_field_count"),
    (f"s1,{C[5]},play,2024-01-01T10:00:00Z,x,extra", "bad_field_count"),
    ("", None),  # a blank line is layout, not a row
    (f"s2,{C[6]},SKIP ,2024-01-02T00:00:00+01:00,f", None),
    (f"s2,{C[7]},play,2023-02-29T00:00:00Z,g", "bad_timestamp"),  # not a leap year
    (f"s2,{C[7]},play,2024-02-29T00:00:00Z,g", None),
    (f"s2,{C[8]},save,2024-13-01T00:00:00Z,h", "bad_timestamp"),
    (f"s2,{C[8]},save,2024-01-01T24:00:00Z,h", "bad_timestamp"),
    (f"s2,{C[8]},save,2024-01-01T23:59:60Z,h", "bad_timestamp"),
    (f"s2,{C[8]},add,2024-01-01 08:00:00,h", None),
    (f"s2,{C[8]},add,2024-01-01T08:00:00.250Z,h", None),
    (f"s2,{C[8]},play, -1000 ,h", None),
    (f"s2,{C[9]},play,,i", "bad_timestamp"),
    (f"s3,{C[9][:21]},play,2024-01-01T10:00:00Z,j", "bad_track_id"),
    (f"s3,{C[9][:21]}é,play,2024-01-01T10:00:00Z,j", "bad_track_id"),
    (f"s3,spotify:track:{C[9]}x,play,2024-01-01T10:00:00Z,j", "bad_track_id"),
    (f"s3,{OUTSIDE},play,2024-01-01T10:00:00Z,k", None),  # out of the catalogue
    (f"  s3 ,{C[0]},Play,1704103200000,l", None),
    (f"s4,{C[1]},skip,2024-03-01T00:00:00Z,m", None),
    (f"s4,{C[2]},play,2024-02-01T00:00:00Z,n", None),
]


def _write(path, rows, *, newline="\n", bom=False, final_newline=True, zipped=False) -> None:
    text = newline.join([HEADER, *rows]) + (newline if final_newline else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if zipped else data)


def _load(path, monkeypatch, *, fast: bool, chunk_rows: int):
    monkeypatch.setattr(readers, "CHUNK_ROWS", chunk_rows)
    used = []

    def spy(*args):
        chunks = csv_fast.fast_chunks(*args) if fast else None
        used.append(chunks is not None)
        return chunks

    monkeypatch.setattr(readers, "fast_chunks", spy)
    result = load_listening(path, tiny_catalogue(), max_reject_share=0.9)
    return result, used


@pytest.mark.parametrize(
    "layout",
    [
        {},
        {"newline": "\r\n", "bom": True},
        {"final_newline": False},
        {"zipped": True},
    ],
    ids=["plain", "crlf-bom", "no-final-newline", "gzip"],
)
@pytest.mark.parametrize("chunk_rows", [1, 4, 250_000])
@pytest.mark.parametrize("block_bytes", [50, 2**25], ids=["tiny-blocks", "one-block"])
def test_fast_csv_path_gives_the_csv_reader_outcome(
    tmp_path, monkeypatch, layout, chunk_rows, block_bytes
):
    monkeypatch.setattr(csv_fast, "_BLOCK_BYTES", block_bytes)
    path = tmp_path / ("log.csv.gz" if layout.get("zipped") else "log.csv")
    _write(path, [text for text, _ in ROWS], **layout)
    fast, used_fast = _load(path, monkeypatch, fast=True, chunk_rows=chunk_rows)
    slow, used_slow = _load(path, monkeypatch, fast=False, chunk_rows=chunk_rows)
    assert used_fast == [True] and used_slow == [False]
    pd.testing.assert_frame_equal(fast.events, slow.events)
    pd.testing.assert_frame_equal(fast.rejects, slow.rejects)  # same rows, same order
    assert fast.stats == slow.stats
    # ... and that outcome is the one the rows were built to give
    expected = pd.Series([r for _, r in ROWS if r]).value_counts().to_dict()
    assert fast.stats["rejects_by_reason"] == expected
    assert fast.stats["rows_read"] == len(ROWS) - 1  # the blank line is not a row
    assert fast.stats["out_of_catalogue"] == 1
    reject_lines = [n for n, (_, r) in enumerate(ROWS, start=2) if r]
    assert sorted(fast.rejects[schema.LS_REJECT_LINE]) == reject_lines


@pytest.mark.parametrize("block_bytes", [50, 2**25], ids=["tiny-blocks", "one-block"])
def test_a_log_without_bad_lines_reads_the_same_either_way(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(csv_fast, "_BLOCK_BYTES", block_bytes)
    path = tmp_path / "log.csv"
    fine = [text for text, reason in ROWS if text and reason != "bad_field_count"]
    _write(path, fine * 3)
    fast, used_fast = _load(path, monkeypatch, fast=True, chunk_rows=7)
    slow, _ = _load(path, monkeypatch, fast=False, chunk_rows=7)
    assert used_fast == [True]
    pd.testing.assert_frame_equal(fast.events, slow.events)
    pd.testing.assert_frame_equal(fast.rejects, slow.rejects)
    assert fast.stats == slow.stats and fast.stats["rows_read"] == 3 * len(fine)


@pytest.mark.parametrize(
    "content",
    [
        f'"s1",{C[0]},play,2024-01-01T10:00:00Z,a',  # quoting: csv.reader's rules
        f"s1,{C[0]},play,2024-01-01T10:00:00Z,a\rs2",  # a lone carriage return
        f"s1,{C[0]},play,2024-01-01T10:00:00Z,a\x00",
        f"s1,{C[0]},play,2024-01-01T10:00:00Z,\xff",  # not UTF-8 (written as latin-1)
        f"s1,{C[0]},play,2024-01-01T10:00:00Z,{'x' * 131_073}",  # over csv's field limit
    ],
    ids=["quote", "lone-cr", "nul", "bad-utf8", "long-field"],
)
def test_lines_only_csv_reader_handles_send_the_file_to_it(tmp_path, monkeypatch, content):
    path = tmp_path / "log.csv"
    rows = [text for text, _ in ROWS[:3]] + [content]
    path.write_bytes("\n".join([HEADER, *rows]).encode("latin-1", errors="strict"))
    _, used = _load(path, monkeypatch, fast=True, chunk_rows=250_000)
    assert used == [False]


def test_a_truncated_gzip_goes_to_csv_reader_and_is_named(tmp_path, monkeypatch):
    path = tmp_path / "log.csv.gz"
    _write(path, [text for text, _ in ROWS] * 50, zipped=True)
    path.write_bytes(path.read_bytes()[:-40])
    result, used = _load(path, monkeypatch, fast=True, chunk_rows=250_000)
    assert used == [False]
    assert result.stats["rejects_by_reason"].get("unparseable_line") == 1


EPOCH = r"\s*-?\d+(\.\d*)?\s*"


def _row_wise_timestamps(values: pd.Series) -> pd.Series:
    """The row-wise rule the column-wise parse_timestamps must equal (Python's Unicode regex,
    pandas' ISO 8601 parser)."""
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    numeric = text.str.fullmatch(EPOCH).fillna(False).astype(bool)
    numbers = pd.to_numeric(text[numeric], errors="coerce")
    numbers = numbers.where(numbers.abs() < 9.2e15)
    out[numeric] = pd.to_datetime(numbers, unit="ms", utc=True, errors="coerce")
    iso = ~numeric & text.notna() & (text != "")
    parsed = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce")
    out[iso] = parsed.astype("datetime64[ns, UTC]")
    return out


def test_column_wise_timestamps_equal_the_row_wise_rule():
    rng = np.random.default_rng(5)
    n = 3000
    fields = [
        rng.choice([1699, 1700, 1970, 2023, 2024, 2200, 2201], n),
        rng.integers(0, 14, n),
        rng.integers(0, 33, n),
        rng.integers(0, 25, n),
        rng.integers(0, 61, n),
        rng.integers(0, 61, n),
    ]
    drawn = [
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
        for y, mo, d, h, mi, s in zip(*fields, strict=True)
    ]
    odd = [
        "2024-01-01T10:00:00z",
        "2024-01-01t10:00:00Z",
        " 2024-01-01T10:00:00Z ",
        "2024-01-01T10:00:00+02:00",
        "2024-01-01T1a:00:00Z",
        "２024-01-01T10:00:00Z",
        "1704103200000",
        "-5",
        "1.5",
        "12.",
        "\u0661\u0667\u0660\u0664",  # Arabic-Indic digits: Python's \d takes them
        "\u2003123\u2003",
        "\x1c12\x1c",
        "1e5",
        "99999999999999999999",
        "",
        None,
        "2024-01-01",
    ]
    values = pd.Series(drawn + odd, dtype=object)
    for dtype in (object, "string", "str"):
        column = values.astype(dtype)
        pd.testing.assert_series_equal(parse_timestamps(column), _row_wise_timestamps(column))
    assert parse_timestamps(values).notna().sum() > 1000  # most drawn dates are real ones


def test_column_wise_track_ids_equal_the_regex():
    ids = [
        C[0],
        f"spotify:track:{C[1]}",
        C[0][:21],
        C[0] + "x",
        C[0][:21] + "é",
        "Ａ" + C[0][1:],
        C[0][:21] + "\u0663",
        C[0][:21] + "\n",
        C[0][:10] + " " + C[0][11:],
        "",
        None,
    ]
    track = strip_track_uri(pd.Series(ids, dtype=object))
    expected = track.str.fullmatch(r"[0-9A-Za-z]{22}").fillna(False).astype(bool)
    assert valid_track_ids(track).tolist() == expected.tolist() == [True, True] + [False] * 9


def test_weights_and_split_do_not_depend_on_the_string_storage():
    events = pd.DataFrame(
        {
            schema.LS_SESSION_ID: ["a", "a", "a", "b", "b", "c"],
            schema.LS_TRACK_ID: [C[0], C[0], C[1], C[1], C[2], C[3]],
            schema.LS_EVENT: ["play", "like", "skip", "play", "save", "skip"],
            schema.LS_TIMESTAMP: pd.Timestamp("2024-01-01", tz="UTC"),
        }
    )
    by_object = events.astype({schema.LS_SESSION_ID: object, schema.LS_TRACK_ID: object})
    weights = session_item_weights(events)
    pd.testing.assert_frame_equal(weights, session_item_weights(by_object))
    assert weights[schema.LS_WEIGHT].tolist() == [3.0, 1.0, 2.0]  # skips drop a1, c3
    many = pd.Series([f"s{i}" for i in range(2000)] * 2, dtype="str")
    held = heldout_mask(many)
    assert (held == heldout_mask(many.astype(object).tolist())).all()
    assert 100 < held[:2000].sum() < 300 and (held[:2000] == held[2000:]).all()


@pytest.mark.parametrize("kind", ["object", "str", "category"])
def test_rules_per_distinct_value_equal_the_rules_per_row(kind):
    mixed = [" s1", "s1", 1, 1.0, True, None, f"spotify:track:{C[0]}", C[0], "PLAY ", "s1", 1]
    strings = [" s1", "s1", None, f"spotify:track:{C[0]}", C[0], "PLAY ", "play", "s1"]
    column = {
        "object": pd.Series(mixed, dtype=object),  # 1, 1.0 and True hash alike: "1", "1.0"...
        "str": pd.Series(strings, dtype="str"),
        "category": pd.Series(strings, dtype="category"),
    }[kind]
    rules = [
        lambda v: v.astype("string").str.strip().str.lower(),
        strip_track_uri,
        lambda v: valid_track_ids(strip_track_uri(v)),
    ]
    codes, values = distinct(column)
    assert len(values) < len(column)
    for rule in rules:
        expected = rule(column)
        got = spread(rule(values), codes, column.index)
        assert (
            got.astype(object).where(got.notna(), None).tolist()
            == expected.astype(object).where(expected.notna(), None).tolist()
        )


@pytest.mark.parametrize("dtype", [object, "str"])
def test_session_matrix_counts_unknown_ids_and_keeps_positive_weights(dtype):
    from spotrec.models.colistening import session_matrix

    listening = pd.DataFrame(
        {
            schema.LS_SESSION_ID: pd.Series(["b", "b", "a", "a", "a", "c"], dtype=dtype),
            schema.LS_TRACK_ID: pd.Series([C[2], OUTSIDE, C[0], C[2], OUTSIDE, C[1]], dtype=dtype),
            schema.LS_WEIGHT: np.array([1.0, 2.0, 3.0, 0.0, 1.0, 2.0], dtype=np.float32),
        }
    )
    matrix, unknown = session_matrix(tiny_catalogue(), listening)
    assert unknown == 2  # rows naming no catalogue track, whatever their weight
    # sessions in first-seen order of the kept rows: b, a, c; a's zero weight is not evidence
    assert matrix.toarray()[:, :3].tolist() == [[0, 0, 1], [3, 0, 0], [0, 2, 0]]
    assert matrix.shape == (3, 10) and matrix.nnz == 3
