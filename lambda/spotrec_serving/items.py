"""The item format shared by the batch writers and the Lambda readers. Defined once, here.

The store is a key -> JSON document map, the same in SQLite and in DynamoDB, so both readers
return identical results for the same build. A release (one build, "run") is a set of items
whose physical key is ``"<run_id>#<logical key>"``; a single ``CURRENT`` item names the run
that readers use. Writing a new run never touches the old one's items, which is what makes a
release all-or-nothing: the pointer moves only after every item of the run is written.

Logical keys
------------
``META``                     release metadata: run_id, models, default_model, top_n, genres, ...
``T#<track_id>``             one track: a TrackSummary plus its audio features
``N#<model>#<track_id>``     the track's neighbour list for one model (denormalized summaries)
``G#<model>#<genre>``        a genre seed's list: the genre's most representative tracks
``S#<prefix>``               search-index entry: tracks whose name/artist has a word starting
                             with <prefix> (normalized), most popular first, capped

Document bodies
---------------
A *TrackSummary* is encoded as a JSON array in SUMMARY_FIELDS order, which keeps a 50-long
neighbour list around 10 KB, far under DynamoDB's 400 KB item limit.

- META: {"run_id", "created", "models": [...], "default_model", "top_n", "genres": [...],
         "tracks": int, "search_max_prefix": int, "search_cap": int}
- T:    {"track": summary, "features": {audio feature: value}}
- N, G: {"seed": summary | null, "items": [[score, summary], ...]}  (rank order, 1 first)
- S:    {"total": int, "items": [summary, ...]}  (total counts all matches, items is capped)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from spotrec_serving.names import search_text as normalize_text  # noqa: F401 (re-export)
from spotrec_serving.names import search_words  # noqa: F401 (re-export)

CURRENT_KEY = "CURRENT"  # physical key of the release pointer: {"run_id", "previous": [...]}
META_KEY = "META"

# DynamoDB attribute names (the SQLite store uses the same names as columns).
ATTR_PK = "pk"  # physical key: "<run_id>#<logical key>", or CURRENT_KEY
ATTR_RUN_ID = "run_id"
ATTR_BODY = "body"  # the JSON document, as a string
ATTR_TTL = "expires_at"  # epoch seconds; DynamoDB TTL deletes expired runs' items
# Writer-only attributes (DynamoDB): "run_part" = "<run_id>#NN" keys the count/list GSI that
# verifies a run without a Scan; "revision" on CURRENT makes pointer moves compare-and-swap; and
# "<run_id>#RELEASE" is the run's registry item (writing -> complete -> expired). See docs/aws.md.

SUMMARY_FIELDS = (
    "id",
    "name",
    "artists",  # list[str]
    "album",
    "duration_ms",
    "explicit",
    "popularity",
    "genres",  # list[str]
    "song_id",  # variant group
)

TRACK_ID_PATTERN = re.compile(r"^[0-9A-Za-z]{22}$")


def track_key(track_id: str) -> str:
    return f"T#{track_id}"


def neighbours_key(model: str, track_id: str) -> str:
    return f"N#{model}#{track_id}"


def genre_key(model: str, genre: str) -> str:
    return f"G#{model}#{genre}"


def search_key(prefix: str) -> str:
    return f"S#{prefix}"


def physical_key(run_id: str, logical_key: str) -> str:
    return f"{run_id}#{logical_key}"


@dataclass(frozen=True, slots=True)
class TrackSummary:
    id: str
    name: str
    artists: tuple[str, ...]
    album: str
    duration_ms: int
    explicit: bool
    popularity: int
    genres: tuple[str, ...]
    song_id: str

    def encode(self) -> list[Any]:
        return [
            self.id,
            self.name,
            list(self.artists),
            self.album,
            self.duration_ms,
            self.explicit,
            self.popularity,
            list(self.genres),
            self.song_id,
        ]

    @classmethod
    def decode(cls, row: list[Any]) -> TrackSummary:
        (id_, name, artists, album, duration_ms, explicit, popularity, genres, song_id) = row
        return cls(
            id=id_,
            name=name,
            artists=tuple(artists),
            album=album,
            duration_ms=int(duration_ms),
            explicit=bool(explicit),
            popularity=int(popularity),
            genres=tuple(genres),
            song_id=song_id,
        )
