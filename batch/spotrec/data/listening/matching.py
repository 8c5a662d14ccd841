"""Match a track id the catalogue lacks to a catalogue song by its title and artist.

The rule is the variants rule (data/variants.py, spotrec_serving.names.identity_key): titles and
artist names equal after NFKC, case folding and whitespace collapsing. Two keys, in order:

1. the full song key: title + the set of artists (a log may list them ``;``-separated);
2. title + the primary artist, because MPD's ``artist_name`` names only a track's first artist
   while the catalogue lists every artist of a collaboration.

A matched event goes to the song's most popular catalogue track (the first such in catalogue
order), so every variant of a song collects its listening in one place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.variants import song_key
from spotrec_serving.names import identity_key

_SEPARATOR = "\x1f"


class NameMatcher:
    def __init__(self, tracks: pd.DataFrame) -> None:
        order = np.lexsort(
            (np.arange(len(tracks)), -tracks[schema.POPULARITY].to_numpy(dtype=np.int64))
        )
        self._by_song: dict[str, int] = {}
        self._by_primary: dict[str, int] = {}
        names = tracks[schema.NAME].to_numpy(dtype=object)
        artists = tracks[schema.ARTISTS].to_numpy(dtype=object)
        songs = tracks[schema.SONG_ID].to_numpy(dtype=object)
        for row in order:  # most popular first: setdefault keeps it
            title = identity_key(names[row] or "")
            if not title:
                continue
            self._by_song.setdefault(songs[row], int(row))
            if len(artists[row]):
                key = f"{title}{_SEPARATOR}{identity_key(artists[row][0])}"
                self._by_primary.setdefault(key, int(row))

    def match_one(self, title, artist) -> int:
        """Catalogue row of the song named (title, artist), or -1."""
        if not isinstance(title, str) or not identity_key(title):
            return -1
        artist = artist if isinstance(artist, str) else ""
        names = [a for a in artist.split(schema.RAW_ARTIST_SEPARATOR) if a.strip()]
        if not names:
            return -1
        row = self._by_song.get(song_key("", title, names), -1)
        if row < 0:
            key = f"{identity_key(title)}{_SEPARATOR}{identity_key(names[0])}"
            row = self._by_primary.get(key, -1)
        return row

    def match(self, names: pd.DataFrame) -> np.ndarray:
        """Catalogue row (or -1) per row of a frame with track_name, artist_name; each distinct
        (title, artist) pair is looked up once."""
        titles = names["track_name"].astype(object).fillna("").to_numpy(dtype=object)
        artists = names["artist_name"].astype(object).fillna("").to_numpy(dtype=object)
        codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([titles, artists]))
        rows = np.fromiter(
            (self.match_one(title, artist) for title, artist in pairs),
            dtype=np.int64,
            count=len(pairs),
        )
        return rows[codes] if len(codes) else np.zeros(0, dtype=np.int64)
