"""Listening readers: every format, every reject reason counted exactly, catalogue mapping."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from listening_support import mpd_playlist, tiny_catalogue, write_mpd
from rawcsv import make_track_id

from spotrec import schema
from spotrec.data.listening import load_listening
from spotrec.errors import SpotrecError

C = [make_track_id(i) for i in range(10)]
OUTSIDE = make_track_id(1000)  # well-formed, not in the catalogue


@pytest.fixture
def listening_dir(tmp_path):
    """Every format and every reject reason; counts are in the tests below."""
    root = tmp_path / "listening"
    (root / "nested").mkdir(parents=True)
    write_mpd(
        root / "mpd.slice.0-999.json",
        [mpd_playlist(7, [C[0], C[1], OUTSIDE, "short"]), {"name": "no pid", "tracks": []}],
    )
    (root / "mpd.slice.1000-1999.json").write_text("{not json", encoding="utf-8")
    (root / "other.json").write_text(json.dumps({"info": {}}), encoding="utf-8")
    (root / "log.csv").write_text(
        "session_id,track_id,event,timestamp\n"
        f"s1,{C[2]},play,2024-01-01T10:00:00Z\n"
        f"s1,spotify:track:{C[3]},like,1704103500000\n"
        f"s1,{C[4]},dance,2024-01-01T10:05:00Z\n"
        f"s1,{C[5]},play,yesterday\n"
        f",{C[6]},play,2024-01-01T10:00:00Z\n"
        f"s1,{C[7]},play\n"
        f"s2,{C[1]},SKIP,2024-01-02T00:00:00+01:00\n",
        encoding="utf-8",
    )
    (root / "nested" / "log.jsonl").write_text(
        json.dumps(
            {
                "session_id": "s3",
                "track_id": f"spotify:track:{C[8]}",
                "event": "save",
                "timestamp": 1704103200000,
            }
        )
        + "\n{bad\n"
        + json.dumps({"session_id": "s3", "event": "play", "timestamp": "2024-01-01T00:00:00Z"})
        + "\n",
        encoding="utf-8",
    )
    pd.DataFrame({"session_id": ["s9"], "track_id": [C[0]], "event": ["play"]}).to_parquet(
        root / "nested" / "missing.parquet"
    )
    pd.DataFrame(
        {
            "session_id": ["s4", "s4"],
            "track_id": [C[0], C[9]],
            "event": ["play", "play"],
            "timestamp": pd.to_datetime(["2024-02-01 12:00", "2024-02-01 11:00"]),
        }
    ).to_parquet(root / "nested" / "good.parquet")
    (root / "README.txt").write_text("not data", encoding="utf-8")
    return root


EXPECTED_REJECTS = {
    "bad_track_id": 2,  # MPD "spotify:track:short", the JSON line without track_id
    "bad_playlist": 1,
    "bad_json": 2,  # the broken MPD file, the broken JSON line
    "bad_mpd_structure": 1,
    "unknown_event": 1,
    "bad_timestamp": 1,
    "missing_value:session_id": 1,
    "bad_field_count": 1,
    "missing_column:timestamp": 1,
}


def test_every_reject_reason_is_counted_exactly(listening_dir, tmp_path):
    rejects_path = tmp_path / "rejects.csv"
    result = load_listening(
        [listening_dir], tiny_catalogue(), max_reject_share=0.6, rejects_path=rejects_path
    )
    stats = result.stats
    assert stats["rejects_by_reason"] == EXPECTED_REJECTS
    assert stats["rows_read"] == 20
    assert stats["rows_rejected"] == 11 == len(result.rejects)
    assert stats["events_kept"] == 8 == len(result.events)
    assert stats["out_of_catalogue"] == 1 and stats["out_of_catalogue_tracks"] == 1
    assert stats["rows_read"] == (
        stats["events_kept"] + stats["out_of_catalogue"] + stats["rows_rejected"]
    )
    assert stats["files_read"] == 7
    assert stats["files_skipped"] == [str(listening_dir / "README.txt")]
    written = pd.read_csv(rejects_path)
    assert list(written.columns) == list(schema.LISTENING_REJECT_COLUMNS)
    assert written["reason"].value_counts().to_dict() == EXPECTED_REJECTS
    bad_event = written[written["reason"] == "unknown_event"].iloc[0]
    assert bad_event["source"].endswith("log.csv") and bad_event["line"] == 4
    assert bad_event["detail"] == "event=dance"


def test_events_keep_session_identity_order_and_types(listening_dir):
    events = load_listening([listening_dir], tiny_catalogue(), max_reject_share=0.6).events
    assert list(events.columns) == list(schema.LISTENING_COLUMNS)
    assert str(events[schema.LS_TIMESTAMP].dtype) == "datetime64[ns, UTC]"
    assert events[schema.LS_POSITION].dtype == "int32"
    sessions = {s: g for s, g in events.groupby(schema.LS_SESSION_ID)}
    assert set(sessions) == {"mpd:7", "s1", "s2", "s3", "s4"}
    mpd = sessions["mpd:7"]
    assert mpd[schema.LS_TRACK_ID].tolist() == [C[0], C[1]]
    assert set(mpd[schema.LS_EVENT]) == {"add"}
    assert (mpd[schema.LS_TIMESTAMP] == pd.Timestamp(1_500_000_000, unit="s", tz="UTC")).all()
    assert sessions["s1"][schema.LS_TRACK_ID].tolist() == [C[2], C[3]]  # URI stripped
    assert sessions["s1"][schema.LS_EVENT].tolist() == ["play", "like"]
    assert sessions["s2"][schema.LS_EVENT].tolist() == ["skip"]
    assert sessions["s2"][schema.LS_TIMESTAMP].iloc[0] == pd.Timestamp("2024-01-01 23:00Z")
    # the log's session s4 is ordered by timestamp, not by file order
    assert sessions["s4"][schema.LS_TRACK_ID].tolist() == [C[9], C[0]]
    assert sessions["s4"][schema.LS_POSITION].tolist() == [0, 1]


def test_reject_share_over_the_limit_fails_loudly_after_writing_rejects(listening_dir, tmp_path):
    rejects_path = tmp_path / "rejects.csv"
    with pytest.raises(SpotrecError, match=r"rejected 11 of 20 rows.*'bad_json': 2"):
        load_listening([listening_dir], tiny_catalogue(), rejects_path=rejects_path)
    assert len(pd.read_csv(rejects_path)) == 11


def test_name_matching_maps_unknown_ids_by_the_variants_rule(tmp_path):
    playlist = mpd_playlist(1, [make_track_id(2001), make_track_id(2002), make_track_id(2003)])
    entries = playlist["tracks"]
    entries[0].update(track_name="  SONG 3 ", artist_name="artist   3")  # case and spacing
    entries[1].update(track_name="Song 8", artist_name="Artist 8")  # song with a variant
    entries[2].update(track_name="Song 3", artist_name="Artist 4")  # wrong artist: no match
    path = write_mpd(tmp_path / "mpd.slice.0-999.json", [playlist])
    plain = load_listening(path, tiny_catalogue())
    assert plain.stats["out_of_catalogue"] == 3 and plain.stats["matched_by_name"] == 0
    assert plain.stats["sessions_read"] == 1 and plain.stats["sessions"] == 0
    matched = load_listening(path, tiny_catalogue(), match_names=True)
    assert matched.stats["matched_by_name"] == 2 == matched.stats["matched_by_name_tracks"]
    assert matched.stats["out_of_catalogue"] == 1
    # Song 8 goes to its more popular variant, track 9
    assert matched.events[schema.LS_TRACK_ID].tolist() == [C[3], C[9]]


def test_an_explicit_file_of_unknown_kind_or_a_missing_path_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SpotrecError, match="unknown listening file kind"):
        load_listening(tmp_path / "notes.txt", tiny_catalogue())
    with pytest.raises(SpotrecError, match="does not exist"):
        load_listening(tmp_path / "nope", tiny_catalogue())
