"""Song variants: known groups by construction."""

from __future__ import annotations

import pytest
from rawcsv import make_track_id, row_line

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.data.variants import normalize_text, song_key, song_keys, variant_group_sizes


def test_case_spacing_unicode_and_artist_order_do_not_split_a_song():
    names = ["Hello World", "  hello   WORLD ", "Ｈｅｌｌｏ World", "HELLO\tworld"]
    artists = [["Ann", "Bob"], ["bob", "ann"], "Ann;Bob", ["ANN", " Bob ", "Ann"]]
    ids = [make_track_id(i) for i in range(4)]
    keys = song_keys(names, artists, ids)
    assert len(set(keys)) == 1


def test_different_title_or_artists_are_different_songs():
    names = ["Song", "Song - Remastered", "Song", "Song"]
    artists = [["Ann"], ["Ann"], ["Ann", "Bob"], ["Bob"]]
    keys = song_keys(names, artists, [make_track_id(i) for i in range(4)])
    assert len(set(keys)) == 4


def test_empty_title_is_its_own_song_even_with_same_artists():
    ids = [make_track_id(i) for i in range(3)]
    keys = song_keys(["", "  ", ""], [[], [], []], ids)
    assert len(set(keys)) == 3
    # and stable: the same track always gets the same id
    assert keys[0] == song_key(ids[0], "", [])


def test_song_id_is_a_short_stable_string():
    key = song_key(make_track_id(1), "Comedy", ["Gen Hoshino"])
    assert key == song_key(make_track_id(2), "comedy", "gen hoshino")
    assert len(key) == 16 and int(key, 16) >= 0


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="lengths differ"):
        song_keys(["a"], [["b"]], [])


def test_normalize_text():
    assert normalize_text("  Ｃａｆé \u00a0 Del  MAR\n") == "café del mar"


def test_ingest_groups_variants_and_counts_them(write_csv):
    lines = [
        row_line(0, track_name="Same Song", artists="X;Y", album_name="Album"),
        row_line(1, track_name="same  song", artists="Y;X", album_name="Single"),
        row_line(2, track_name="Same Song", artists="X;Y", album_name="Deluxe"),
        row_line(3, track_name="Same Song", artists="X"),
        row_line(4, track_name="", artists="X;Y"),
        row_line(5, track_name="", artists="X;Y"),
    ]
    result = load_catalogue(write_csv(lines))
    songs = result.tracks[schema.SONG_ID].tolist()
    assert songs[0] == songs[1] == songs[2]
    assert len(set(songs[2:])) == 4
    assert result.counts["songs"] == 4
    assert result.counts["variant_tracks"] == 3
    assert variant_group_sizes(songs).tolist() == [3, 3, 3, 1, 1, 1]
