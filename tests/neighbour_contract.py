"""The neighbours/<model>.parquet contract (issue 2 part 4), asserted on a whole table."""

from __future__ import annotations

import pandas as pd

from spotrec import schema


def assert_neighbour_contract(tracks: pd.DataFrame, frame: pd.DataFrame, top_n: int) -> None:
    assert list(frame.columns) == list(schema.NEIGHBOUR_COLUMNS)
    assert frame[schema.NB_SCORE].dtype == "float32"
    assert set(frame[schema.NB_TRACK_ID]) == set(tracks[schema.TRACK_ID])
    sizes = frame.groupby(schema.NB_TRACK_ID).size()
    assert (sizes == top_n).all()
    ranks = frame.groupby(schema.NB_TRACK_ID)[schema.NB_RANK].apply(list)
    assert all(r == list(range(1, top_n + 1)) for r in ranks)
    song = tracks.set_index(schema.TRACK_ID)[schema.SONG_ID]
    seed_song = frame[schema.NB_TRACK_ID].map(song)
    neighbour_song = frame[schema.NB_NEIGHBOUR_ID].map(song)
    assert neighbour_song.notna().all(), "every neighbour is a catalogue track"
    assert not (frame[schema.NB_TRACK_ID] == frame[schema.NB_NEIGHBOUR_ID]).any()
    assert not (seed_song == neighbour_song).any(), "a variant of the seed was recommended"
    per_list = pd.DataFrame({"seed": frame[schema.NB_TRACK_ID], "song": neighbour_song})
    assert not per_list.duplicated().any(), "a list holds two variants of one song"
