"""Ingest: validation with named reasons, malformed lines, thresholds, dedupe and genre sets."""

from __future__ import annotations

import gzip
import hashlib

import pandas as pd
import pytest
from rawcsv import HEADER, make_track_id, row_line

from spotrec import schema
from spotrec.data.ingest import RejectShareError, load_catalogue, write_rejects
from spotrec.errors import SpotrecError


def test_valid_file_folds_rows_into_tracks_with_genre_sets_and_max_popularity(write_csv):
    lines = [
        row_line(0, track_name="Alpha", track_genre="rock", popularity="10"),
        row_line(1, track_name="Beta", artists="A;B", track_genre="jazz"),
        # track 0 again under two more genres, with a higher then a lower popularity
        row_line(0, track_name="Alpha", track_genre="blues", popularity="70"),
        row_line(0, track_name="Alpha", track_genre="acoustic", popularity="30"),
        row_line(0, track_name="Alpha", track_genre="rock", popularity="10"),  # exact repeat
    ]
    # each line's index cell must be its source row: rewrite the first cell to 0..4
    lines = [f"{i}," + line.split(",", 1)[1] for i, line in enumerate(lines)]
    result = load_catalogue(write_csv(lines))

    tracks = result.tracks
    assert list(tracks.columns) == list(schema.TRACK_COLUMNS)
    assert tracks[schema.TRACK_ID].tolist() == [make_track_id(0), make_track_id(1)]
    alpha, beta = tracks.iloc[0], tracks.iloc[1]
    assert alpha[schema.GENRES] == ["acoustic", "blues", "rock"]
    assert alpha[schema.POPULARITY] == 70
    assert alpha[schema.FIRST_ROW] == 0 and beta[schema.FIRST_ROW] == 1
    assert beta[schema.ARTISTS] == ["A", "B"]
    assert not tracks[schema.HOLDOUT].any()
    assert result.counts["rows_read"] == 5
    assert result.counts["rows_rejected"] == 0
    assert result.counts["duplicate_rows"] == 3
    assert result.counts["tracks"] == 2
    assert result.counts["conflicts"] == 0
    assert result.rejects.empty


def test_gzip_and_plain_give_same_tracks_and_hash_of_uncompressed_bytes(write_csv, good_lines):
    plain = write_csv(good_lines)
    gz = plain.with_suffix(".csv.gz")
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = load_catalogue(plain), load_catalogue(gz)
    assert a.sha256 == b.sha256 == hashlib.sha256(plain.read_bytes()).hexdigest()
    pd.testing.assert_frame_equal(a.tracks, b.tracks)


BAD_VALUES = [
    ("track_id", "tooShort123", "bad_track_id"),
    ("track_id", "5SuOikwiRyPMVoIQDJUg-V", "bad_track_id"),
    ("track_genre", "", "empty_genre"),
    ("explicit", "yes", "bad_explicit"),
    ("tempo", "", "missing_value:tempo"),
    ("danceability", "abc", "not_a_number:danceability"),
    ("energy", "nan", "not_a_number:energy"),
    ("danceability", "1.5", "out_of_range:danceability"),
    ("loudness", "-61", "out_of_range:loudness"),
    ("key", "12", "out_of_range:key"),
    ("key", "3.5", "not_an_integer:key"),
    ("popularity", "101", "out_of_range:popularity"),
    ("duration_ms", "-1", "out_of_range:duration_ms"),
    ("tempo", "inf", "out_of_range:tempo"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_VALUES)
def test_each_bad_value_is_rejected_with_its_named_reason(
    write_csv, good_lines, column, value, reason
):
    bad = row_line(100, **{column: value})
    result = load_catalogue(write_csv([*good_lines, bad]), max_reject_share=0.05)
    assert result.counts["rejects_by_reason"] == {reason: 1}
    assert result.rejects[schema.REJECT_ROW].tolist() == [100]
    assert result.rejects[schema.REJECT_REASON].tolist() == [reason]
    assert column in result.rejects[schema.REJECT_DETAIL].iloc[0]
    assert result.counts["tracks"] == 100


def test_undetected_tempo_and_time_signature_zero_are_valid(write_csv, good_lines):
    line = row_line(100, tempo="0", time_signature="0", explicit="True")
    result = load_catalogue(write_csv([*good_lines, line]), max_reject_share=0.0)
    track = result.tracks.iloc[-1]
    assert (track["tempo"], track["time_signature"], track[schema.EXPLICIT]) == (0.0, 0, True)


def test_malformed_lines_are_named_rejects_not_crashes(write_csv, good_lines):
    lines = [
        *good_lines[:50],
        row_line(50) + ",extra",  # line 52: one field too many
        "51,onlytwo",  # line 53
        "",  # line 54: blank
        '52,"unclosed"x,rest',  # line 55: bad quoting
        *good_lines[60:],
    ]
    result = load_catalogue(write_csv(lines), max_reject_share=0.1)
    assert result.counts["rejects_by_reason"] == {
        "bad_field_count": 2,
        "blank_line": 1,
        "unparseable_line": 1,
    }
    rejects = result.rejects.set_index(schema.REJECT_ROW)
    assert rejects.loc[52, schema.REJECT_REASON] == "bad_field_count"
    assert rejects.loc[55, schema.REJECT_REASON] == "unparseable_line"
    assert result.counts["rows_read"] == 94
    assert result.counts["tracks"] == 90


def test_bytes_that_are_not_utf8_are_a_named_reject(tmp_path, good_lines):
    path = tmp_path / "latin1.csv"
    bad = row_line(100, track_name="Caf\udce9", artists="X").encode("utf-8", "surrogateescape")
    path.write_bytes("\n".join([HEADER, *good_lines]).encode() + b"\n" + bad + b"\n")
    result = load_catalogue(path, max_reject_share=0.05)
    assert result.counts["rejects_by_reason"] == {"bad_encoding": 1}


def test_every_reason_is_counted_together(write_csv, good_lines):
    bad = [row_line(100 + i, **{c: v}) for i, (c, v, _) in enumerate(BAD_VALUES)]
    result = load_catalogue(write_csv([*good_lines, *bad]), max_reject_share=0.2)
    expected: dict[str, int] = {}
    for _, _, reason in BAD_VALUES:
        expected[reason] = expected.get(reason, 0) + 1
    assert result.counts["rejects_by_reason"] == expected
    assert result.counts["rows_rejected"] == len(BAD_VALUES)
    assert result.counts["rows_read"] == 100 + len(BAD_VALUES)


def test_missing_required_column_is_an_error_naming_it(write_csv, good_lines):
    header = HEADER.replace(",valence", "")
    lines = [",".join(c for i, c in enumerate(line.split(",")) if i != 17) for line in good_lines]
    with pytest.raises(SpotrecError, match=r"missing required column.*valence"):
        load_catalogue(write_csv(lines, header=header))


def test_reject_share_over_threshold_fails_loudly_but_still_writes_rejects(
    write_csv, good_lines, tmp_path
):
    bad = [row_line(100 + i, danceability="2") for i in range(2)]
    path = write_csv([*good_lines, *bad])
    rejects_path = tmp_path / "out" / schema.REJECTS_FILE
    with pytest.raises(RejectShareError, match="out_of_range:danceability") as info:
        load_catalogue(path, max_reject_share=0.01, rejects_path=rejects_path)
    assert info.value.result.counts["rows_rejected"] == 2
    written = pd.read_csv(rejects_path)
    assert list(written.columns) == list(schema.REJECT_COLUMNS)
    assert written[schema.REJECT_ROW].tolist() == [100, 101]
    # exactly at the threshold is allowed
    assert load_catalogue(path, max_reject_share=2 / 102).counts["rows_rejected"] == 2


def test_empty_name_artists_and_album_are_kept(write_csv, good_lines):
    line = row_line(100, track_name="", artists="", album_name="")
    result = load_catalogue(write_csv([*good_lines, line]), max_reject_share=0.0)
    track = result.tracks.iloc[-1]
    assert (track[schema.NAME], track[schema.ALBUM], track[schema.ARTISTS]) == ("", "", [])
    assert isinstance(track[schema.SONG_ID], str) and track[schema.SONG_ID]


def test_rows_of_one_track_that_disagree_on_features_are_counted_as_conflicts(write_csv):
    lines = [row_line(0, track_genre="a"), row_line(0, track_genre="b", energy="0.9")]
    lines[1] = "1," + lines[1].split(",", 1)[1]
    result = load_catalogue(write_csv(lines))
    assert result.counts["conflicts"] == 1
    assert result.tracks.iloc[0]["energy"] == 0.6  # the first row wins


def test_unreadable_inputs_are_clear_errors(tmp_path, write_csv):
    with pytest.raises(SpotrecError, match="cannot read catalogue"):
        load_catalogue(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SpotrecError, match="empty"):
        load_catalogue(tmp_path / "empty.csv")
    with pytest.raises(SpotrecError, match="no data rows"):
        load_catalogue(write_csv([]))


def test_write_rejects_round_trips(tmp_path):
    rejects = pd.DataFrame(
        {
            schema.REJECT_ROW: [3],
            schema.REJECT_REASON: ["bad_track_id"],
            schema.REJECT_DETAIL: ["line 5: track_id=x, y"],
        }
    )
    path = write_rejects(rejects, tmp_path / "sub" / "rejects.csv")
    pd.testing.assert_frame_equal(pd.read_csv(path), rejects, check_dtype=False)


def test_file_without_index_column_uses_record_position_as_source_row(write_csv):
    header = ",".join(schema.RAW_COLUMNS)
    lines = [row_line(i, track_genre=g).split(",", 1)[1] for i, g in ((5, "a"), (6, "b"))]
    result = load_catalogue(write_csv(lines, header=header))
    assert result.tracks[schema.FIRST_ROW].tolist() == [0, 1]
    assert result.tracks[schema.TRACK_ID].tolist() == [make_track_id(5), make_track_id(6)]


def test_duplicate_header_column_is_an_error(write_csv):
    with pytest.raises(SpotrecError, match=r"duplicate column.*tempo"):
        load_catalogue(write_csv([], header=HEADER + ",tempo"))
