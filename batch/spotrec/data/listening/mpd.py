"""Spotify Million Playlist Dataset slice files (``mpd.slice.<a>-<b>.json``), exact format:

    {"info": {"generated_on", "slice", "version"},
     "playlists": [{"pid", "name", "modified_at" (epoch seconds), "num_tracks", ...,
                    "tracks": [{"pos", "track_uri": "spotify:track:ID", "track_name",
                                "artist_name", "album_name", "duration_ms", ...}]}]}

Each playlist is one session ``mpd:<pid>``; each entry is an ``add`` event at the playlist's
``modified_at`` (the only time MPD gives) and position ``pos``. A slice holds 1,000 playlists
(about 30 MB), so a whole file is parsed at once and handed over as one chunk.

Rejects: ``unreadable_file``, ``bad_json`` (the file does not parse), ``bad_mpd_structure`` (no
``playlists`` list), ``bad_playlist`` (no ``pid``, no ``tracks`` list, or a ``modified_at`` that
is not a number; its line is the playlist's number in the file). Entries then go through
events.check_chunk like any log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from spotrec import schema
from spotrec.data.listening.readers import RawChunk, file_reject


def read_mpd_slice(path: Path, *, names: bool = True) -> Iterator[RawChunk]:
    source = str(path)
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        yield file_reject(source, "unreadable_file", str(exc)[:200])
        return
    except orjson.JSONDecodeError as exc:  # also invalid UTF-8
        yield file_reject(source, "bad_json", str(exc)[:200])
        return
    playlists = document.get("playlists") if isinstance(document, dict) else None
    if not isinstance(playlists, list):
        yield file_reject(source, "bad_mpd_structure", "no 'playlists' list at the top level")
        return
    sessions, tracks, stamps, positions, titles, artists, lines = ([] for _ in range(7))
    bad = []
    for number, playlist in enumerate(playlists, start=1):
        entries = playlist.get("tracks") if isinstance(playlist, dict) else None
        pid = playlist.get("pid") if isinstance(playlist, dict) else None
        modified = playlist.get("modified_at") if isinstance(playlist, dict) else None
        numeric = isinstance(modified, int | float) and not isinstance(modified, bool)
        if pid is None or not isinstance(entries, list) or not (numeric or modified is None):
            detail = f"playlist {number}: needs pid, a tracks list, numeric modified_at"
            bad.append((number, "bad_playlist", detail))
            continue
        entries = [e if isinstance(e, dict) else {} for e in entries]
        count = len(entries)
        sessions.append((f"{schema.MPD_SESSION_PREFIX}{pid}", count))
        stamps.append((modified * 1000.0 if numeric else np.nan, count))
        tracks.extend([e.get("track_uri") for e in entries])
        positions.extend([e.get("pos", order) for order, e in enumerate(entries)])
        if names:  # only name matching reads them
            titles.extend([e.get("track_name") for e in entries])
            artists.extend([e.get("artist_name") for e in entries])
        lines.append((number, count))
    raw = pd.DataFrame(
        {
            schema.LS_SESSION_ID: _repeat(sessions, object),
            schema.LS_TRACK_ID: tracks,
            schema.LS_EVENT: "add",
            schema.LS_TIMESTAMP: _repeat(stamps, np.float64),
            schema.LS_POSITION: positions,
            "_line": _repeat(lines, np.int64),
        }
    )
    if names:
        raw["track_name"], raw["artist_name"] = titles, artists
    yield RawChunk(source, raw, bad, rows_read=len(raw) + len(bad), timestamp_required=False)


def _repeat(pairs: list[tuple], dtype) -> np.ndarray:
    """[(value, count), ...] -> each value repeated count times."""
    values = np.asarray([v for v, _ in pairs], dtype=dtype)
    return np.repeat(values, [c for _, c in pairs])
