"""Ingest's fast paths give exactly what their reference gives: pyarrow's CSV split vs the csv
module, one pyarrow cast vs pd.to_numeric, memoised song keys vs song_key per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rawcsv import HEADER, make_track_id, row_line

from spotrec.data import ingest_rows
from spotrec.data.ingest import load_catalogue
from spotrec.data.validation import parse_numbers, split_records
from spotrec.data.variants import song_key, song_keys


def reference_rows(text: str):
    header, records, lines, bad = split_records(text, Path("x.csv"))
    rows = pd.DataFrame(records, columns=header, dtype="str")
    rows["_line"] = np.asarray(lines, dtype=np.int64)
    return header, rows, bad


GOOD = [row_line(i, track_name=f"Song {i}") for i in range(5)]
UNICODE = row_line(5, track_name="Ｈｅｌｌｏ  Wörld\u00a0 ", artists="Beyoncé; Jay-Z ;")
QUOTE_FREE = {
    "plain": HEADER + "\n" + "\n".join(GOOD) + "\n",
    "no final newline": HEADER + "\n" + "\n".join(GOOD),
    "unicode and spaces": HEADER + "\n" + "\n".join([*GOOD, UNICODE]) + "\n",
    "header only": HEADER + "\n",
}
REFUSED_BY_ARROW = {
    "blank line": HEADER + "\n" + GOOD[0] + "\n\n" + GOOD[1] + "\n",
    "short line": HEADER + "\n" + GOOD[0] + "\n" + GOOD[1].rsplit(",", 2)[0] + "\n",
    "long line": HEADER + "\n" + GOOD[0] + ",extra\n" + GOOD[1] + "\n",
    "whitespace line": HEADER + "\n" + GOOD[0] + "\n   \n",
}
CSV_MODULE_ONLY = {
    "quoted field": HEADER + "\n" + GOOD[0].replace("Some Album", '"Live, ""Loud"""') + "\n",
    "carriage returns": HEADER + "\r\n" + GOOD[0] + "\r\n",
}


def read(text: str):
    data = text.encode("utf-8")
    return ingest_rows.read_rows(data, text, Path("x.csv"), lambda header: None)


@pytest.mark.parametrize("name", sorted(QUOTE_FREE))
def test_arrow_split_equals_the_csv_module(name, monkeypatch):
    text = QUOTE_FREE[name]
    expected = reference_rows(text)
    monkeypatch.setattr(ingest_rows, "split_records", None)  # must not be needed
    header, rows, bad = read(text)
    assert header == expected[0] and bad == expected[2] == []
    pd.testing.assert_frame_equal(rows, expected[1])


@pytest.mark.parametrize("name", sorted(REFUSED_BY_ARROW) + sorted(CSV_MODULE_ONLY))
def test_lines_the_csv_module_must_name_go_through_it(name):
    text = {**REFUSED_BY_ARROW, **CSV_MODULE_ONLY}[name]
    header, rows, bad = read(text)
    expected = reference_rows(text)
    assert header == expected[0] and bad == expected[2]
    pd.testing.assert_frame_equal(rows, expected[1])
    assert bool(bad) == (name in REFUSED_BY_ARROW)


def test_byte_order_mark_is_not_part_of_the_first_column(write_csv, tmp_path):
    plain = write_csv(GOOD)
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    pd.testing.assert_frame_equal(load_catalogue(with_bom).tracks, load_catalogue(plain).tracks)


NUMBER_COLUMNS = {
    "integers": ["0", "58", "-0", "007", "123456789012345678"],
    "decimals": ["0.506", "-7.128", "4.37e-05", "1E+05", ".5", "5.", "2", "-0.0"],
    "two-digit exponent": ["1.5e-12", "0.25"],
    "long digits": ["0.12345678901234567890", "1"],
    "19-digit integer": ["1234567890123456789", "1"],
    "specials": ["inf", "nan", "1"],
    "blanks and junk": ["", " 1", "abc", "1_000", "0x10", "+5", "1,5"],
}


@pytest.mark.parametrize("name", sorted(NUMBER_COLUMNS))
def test_parse_numbers_equals_pandas(name):
    raw = pd.Series(
        NUMBER_COLUMNS[name], dtype="str", index=np.arange(10, 10 + len(NUMBER_COLUMNS[name]))
    )
    pd.testing.assert_series_equal(parse_numbers(raw), pd.to_numeric(raw, errors="coerce"))


TRICKY = [
    ("Hello World", ["Ann", "Bob"]),
    ("  hello   WORLD ", ["bob", "ann"]),
    ("Ｈｅｌｌｏ World", "Ann;Bob"),  # fullwidth, raw separator string
    ("HELLO\tworld", ["ANN", " Bob ", "Ann"]),
    ("Straße", ["Kraftwerk"]),
    ("STRASSE", ["KRAFTWERK"]),  # casefold: ß == ss
    ("ﬁre", ["Ann"]),  # ligature, NFKC
    ("Beyonce\u0301", ["Beyoncé"]),  # combining accent composes under NFKC
    ("Song (feat. Bob)", ["Ann"]),
    ("Song (Feat. BOB)", ["ann"]),
    ("Song [Live]", ["Ann"]),
    ("Song - Remastered 2011", ["Ann"]),
    ("", ["Ann"]),
    ("   ", ["Ann"]),
    ("Song", []),
    ("Song", ["", " "]),
    ("Song", "Ann;Bob"),
    ("Song", ["Ann;Bob"]),  # one artist named "Ann;Bob", not two
    ("Song", ("Ann", "Bob")),
    ("Hello World", ["Ann", "Bob"]),  # a repeat: memoised, same key
]


def test_song_keys_equal_song_key_per_row_on_tricky_names():
    names = [n for n, _ in TRICKY]
    artists = [a for _, a in TRICKY]
    ids = [make_track_id(i) for i in range(len(TRICKY))]
    expected = [song_key(t, n, a) for t, n, a in zip(ids, names, artists, strict=True)]
    assert song_keys(names, artists, ids).tolist() == expected
    # and the rule still merges what it should and keeps apart what it should
    keys = dict(zip(range(len(TRICKY)), expected, strict=True))
    assert keys[0] == keys[1] == keys[2] == keys[3] == keys[19]
    assert keys[4] == keys[5] and keys[8] == keys[9] and keys[16] == keys[18]
    assert keys[8] != keys[10] != keys[11] and keys[12] != keys[13] and keys[16] != keys[17]
