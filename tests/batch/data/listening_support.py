"""A tiny catalogue frame and writers of listening files, for the listening-data tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rawcsv import make_track_id

from spotrec import schema
from spotrec.data.variants import song_keys


def tiny_catalogue(n: int = 10) -> pd.DataFrame:
    """n tracks "Song i" by "Artist i" (popularity i); track 9 is a variant of track 8
    (same title and artist, lower popularity) when n >= 10."""
    names = [f"Song {i}" for i in range(n)]
    artists = [[f"Artist {i}"] for i in range(n)]
    if n >= 10:
        names[9], artists[9] = names[8], list(artists[8])
    ids = [make_track_id(i) for i in range(n)]
    tracks = pd.DataFrame(
        {
            schema.TRACK_ID: ids,
            schema.NAME: names,
            schema.ARTISTS: artists,
            schema.POPULARITY: list(range(n)),
            schema.GENRES: [["pop"]] * n,
            schema.HOLDOUT: False,
        }
    )
    tracks[schema.SONG_ID] = song_keys(names, artists, ids)
    return tracks


def mpd_playlist(pid: int, track_ids: list[str], modified_at: int = 1_500_000_000) -> dict:
    return {
        "name": f"playlist {pid}",
        "collaborative": "false",
        "pid": pid,
        "modified_at": modified_at,
        "num_tracks": len(track_ids),
        "tracks": [
            {
                "pos": pos,
                "artist_name": "Someone",
                "track_uri": f"spotify:track:{track}",
                "artist_uri": "spotify:artist:0000000000000000000000",
                "track_name": f"Unknown {pos}",
                "album_uri": "spotify:album:0000000000000000000000",
                "duration_ms": 200000,
                "album_name": "Album",
            }
            for pos, track in enumerate(track_ids)
        ],
    }


def write_mpd(path: Path, playlists: list) -> Path:
    document = {"info": {"generated_on": "2017-12-03", "slice": "0-999", "version": "v1"}}
    path.write_text(json.dumps({**document, "playlists": playlists}), encoding="utf-8")
    return path
