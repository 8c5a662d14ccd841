"""Spotify Million Playlist Dataset slice files (``mpd.slice.<a>-<b>.json``), exact format:

    {"info": {"generated_on", "slice", "version"},
     "playlists": [{"pid", "name", "modified_at" (epoch seconds), "num_tracks", ...,
                    "tracks": [{"pos", "track_uri": "spotify:track:ID", "track_name",
                                "artist_name", "album_name", "duration_ms", ...}]}]}

Each playlist is one session ``mpd:<pid>``; each entry is an ``add`` event at the playlist's
``modified_at`` (the only time MPD gives) and position ``pos``. A slice holds 1,000 playlists
(about 30 MB), so a whole file is parsed at once and handed over as one chunk.

Rejects: ``unreadable_file``, ``bad_json`` (the file does not parse), ``bad_mpd_structure`` (no
``playlists`` list), ``bad_playlist`` (a playlist without ``pid`` or a ``tracks`` list; its line
is the playlist's number in the file). Entries then go through events.check_chunk like any log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from spotrec import schema
from spotrec.data.listening.readers import RawChunk, _file_reject


def read_mpd_slice(path: Path) -> Iterator[RawChunk]:
    source = str(path)
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except OSError as exc:
        yield _file_reject(source, "unreadable_file", str(exc)[:200])
        return
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        yield _file_reject(source, "bad_json", str(exc)[:200])
        return
    playlists = document.get("playlists") if isinstance(document, dict) else None
    if not isinstance(playlists, list):
        yield _file_reject(source, "bad_mpd_structure", "no 'playlists' list at the top level")
        return
    sessions, tracks, stamps, positions, names, artists, lines = ([] for _ in range(7))
    bad = []
    for number, playlist in enumerate(playlists, start=1):
        entries = playlist.get("tracks") if isinstance(playlist, dict) else None
        pid = playlist.get("pid") if isinstance(playlist, dict) else None
        if pid is None or not isinstance(entries, list):
            bad.append((number, "bad_playlist", f"playlist {number}: no pid or tracks list"))
            continue
        session = f"{schema.MPD_SESSION_PREFIX}{pid}"
        modified = playlist.get("modified_at")
        stamp = modified * 1000 if isinstance(modified, int | float) else modified
        for order, entry in enumerate(entries):
            if not isinstance(entry, dict):
                entry = {}
            sessions.append(session)
            tracks.append(entry.get("track_uri"))
            stamps.append(stamp)
            positions.append(entry.get("pos", order))
            names.append(entry.get("track_name"))
            artists.append(entry.get("artist_name"))
            lines.append(number)
    raw = pd.DataFrame(
        {
            schema.LS_SESSION_ID: sessions,
            schema.LS_TRACK_ID: tracks,
            schema.LS_EVENT: "add",
            schema.LS_TIMESTAMP: pd.Series(stamps, dtype=object),
            schema.LS_POSITION: positions,
            "track_name": names,
            "artist_name": artists,
            "_line": lines,
        }
    )
    yield RawChunk(source, raw, bad, rows_read=len(raw) + len(bad), timestamp_required=False)
