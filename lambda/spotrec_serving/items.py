"""The item format shared by the batch writers and the Lambda readers. Defined once, here.

The store is a key -> document map, the same in SQLite and in DynamoDB, so both readers return
identical results for the same build. A document is either a JSON object or packed bytes (SQLite
keeps TEXT or BLOB in the ``body`` column; DynamoDB keeps an ``S`` or a ``B`` attribute).
A release (one build, "run") is a set of items whose physical key is ``"<run_id>#<logical
key>"``; a single ``CURRENT`` item names the run that readers use. Writing a new run never
touches the old one's items, which is what makes a release all-or-nothing: the pointer moves only
after every item of the run is written and verified.

Schema version ``SCHEMA_VERSION`` (2, "compact"): META carries ``"schema": 2``; a reader that
meets any other version (1 = the denormalised layout, which had no field) refuses the release
with a 503 rather than misreading it.

Logical keys
------------
``META``                     release metadata (JSON), cached per run by the reader
``C#<block>``                catalogue columns of tracks block*BLOCK..: id, song, 14 features
                             (packed; the reader caches them per run, see catalogue.py)
``T#<track_id>``             one track (JSON): a TrackSummary plus its exact audio features
``N#<model>#<track_id>``     the track's neighbour list for one model (packed indexes)
``G#<model>#<genre>``        a genre seed's list: the genre's most representative tracks (packed)
``S#<prefix>``               search index: tracks with a word starting with <prefix> (packed);
                             not written under a parent prefix of <= META search_leaf matches
``A#<artist_id>``            one artist (JSON): fields, top tracks, related artists
``AS#<model>#<artist_id>``   the artist's seed list for seed_artists (packed like G#)
``P#<genre>``, ``GC#<block>``  fallback pools per genre and every track's genre codes (packed;
                             defined in pools.py, META fallback_pool_size / genre_code_blocks)

A# and AS# are optional within schema 2: META ``artists`` (their count) says they were written;
a release without it serves no artist routes (404) but everything else (spotrec_serving/
artists.py has the A# body; batch/spotrec/writers/artists.py how both are computed).

A track is named inside packed items by its *catalogue index*, its row in the C# blocks (the
order of tracks.parquet, or, in an incremental DynamoDB publish, the previous release's order
with new tracks appended and removed ones left as tombstones). Display fields live once per
track, in T#. An incrementally published release may keep unchanged items under older run
ids: META's ``parts`` map says where (parts.py); readers resolve keys through it.

Packed bodies (little endian; u24 = 3-byte unsigned, so up to 16.7M tracks; codecs: packed.py)
--------------------------------------------------------------------------------------------
- N, G: u24 seed index (NO_SEED for G) | f32 score_hi | f32 score_lo | n x u24 index |
  n x u8 score code. score = score_lo + code / 255 * (score_hi - score_lo): exact at both ends,
  at most (score_hi - score_lo) / 510 off in between (half a step). RRF uses ranks only.
- S: u32 total matches | n x u24 index (most popular first, capped at META search_cap).
- C: u32 count n | n x 22-byte ASCII id | n x i32 song key | n x 14 x u16 feature codes in
  FEATURES order. Integer features with a range under 65,536 (key, mode, popularity,
  time_signature) are exact; a real feature of catalogue range [lo, hi] (META
  "feature_ranges") is at most (hi - lo) / 131070 off: e.g. +-40 ms of duration on a 5.2M ms
  range, +-0.002 BPM of tempo, under 1e-5 for the 0..1 features.

JSON bodies
-----------
- META: {"schema", "run_id", "created", "models", "default_model", "top_n", "depth",
         "genres", "tracks", "catalogue_blocks", "feature_ranges": {name: [lo, hi, integer]},
         "search_max_prefix", "search_cap", "search_leaf", "genre_list_size", "item_counts",
         "expires_at" (DynamoDB only: the run's TTL; readers refuse the run after it),
         "parts" (DynamoDB incremental releases only: parts.py)}
- T:    {"track": summary (SUMMARY_FIELDS order), "features": {audio feature: exact value}}

Session items (the feedback issue) are meant to live beside a run's keys as ``U#<session>``
(not run-scoped), read in the same BatchGetItem as the lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from spotrec_serving.names import search_text as normalize_text  # noqa: F401 (re-export)
from spotrec_serving.names import search_words  # noqa: F401 (re-export)

# The packed bodies' codecs (packed.py), part of this schema's one import surface: writers and
# readers import them from here.
from spotrec_serving.packed import (  # noqa: F401 (re-export)
    LIST_HEADER,
    NO_SEED,
    RankedList,
    pack_list,
    pack_search,
    pack_u24,
    unpack_list,
    unpack_search,
    unpack_u24,
)

SCHEMA_VERSION = 2
CURRENT_KEY = "CURRENT"  # physical key of the release pointer: {"run_id", "previous": [...]}
META_KEY = "META"
CATALOGUE_BLOCK = 4096  # tracks per C# item: 4096 x 54 B = 221 KB, under DynamoDB's 400 KB

# DynamoDB attribute names (the SQLite store uses the same names as columns).
ATTR_PK = "pk"  # physical key: "<run_id>#<logical key>", or CURRENT_KEY
ATTR_RUN_ID = "run_id"
ATTR_BODY = "body"  # the JSON document (S) or the packed bytes (B)
ATTR_TTL = "expires_at"  # epoch seconds, written with every item of a run (see docs/aws.md)

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
# Spotify's tunable track attributes (/recommendations min_*, max_*, target_*), in its order.
FEATURES = (
    "acousticness",
    "danceability",
    "duration_ms",
    "energy",
    "instrumentalness",
    "key",
    "liveness",
    "loudness",
    "mode",
    "popularity",
    "speechiness",
    "tempo",
    "time_signature",
    "valence",
)

TRACK_ID_PATTERN = re.compile(r"^[0-9A-Za-z]{22}$")
ID_BYTES = 22
_U16_MAX = 65535


def track_key(track_id: str) -> str:
    return f"T#{track_id}"


def neighbours_key(model: str, track_id: str) -> str:
    return f"N#{model}#{track_id}"


def genre_key(model: str, genre: str) -> str:
    return f"G#{model}#{genre}"


def search_key(prefix: str) -> str:
    return f"S#{prefix}"


def artist_key(artist_id: str) -> str:
    return f"A#{artist_id}"


def artist_seed_key(model: str, artist_id: str) -> str:
    return f"AS#{model}#{artist_id}"


def catalogue_key(block: int) -> str:
    return f"C#{block}"


def physical_key(run_id: str, logical_key: str) -> str:
    return f"{run_id}#{logical_key}"


class SchemaError(ValueError):
    """A release written in an item schema this code does not understand."""


def check_schema(meta: dict[str, Any]) -> None:
    version = meta.get("schema", 1)
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"release {meta.get('run_id')} uses item schema {version}; this API reads schema "
            f"{SCHEMA_VERSION} only (publish the release with a matching spotrec version)"
        )


# --- feature codes ----------------------------------------------------------------------------


def feature_ranges(rows: list[dict[str, Any]]) -> dict[str, list]:
    """[lo, hi, integer] per FEATURES name over the catalogue (written to META)."""
    ranges = {}
    for name in FEATURES:
        values = [row[name] for row in rows] or [0]
        lo, hi = min(values), max(values)
        integer = all(float(v).is_integer() for v in values) and hi - lo <= _U16_MAX
        ranges[name] = [int(lo), int(hi), True] if integer else [float(lo), float(hi), False]
    return ranges


def encode_feature(value: float, lo: float, hi: float, integer: bool) -> int:
    if integer:
        return int(value) - int(lo)
    span = hi - lo
    return min(_U16_MAX, max(0, round((value - lo) / span * _U16_MAX))) if span > 0 else 0


def decode_feature(code: int, lo: float, hi: float, integer: bool) -> float | int:
    return int(lo) + code if integer else lo + code * (hi - lo) / _U16_MAX


def feature_bound(lo: float, hi: float, integer: bool) -> float:
    """The largest |decoded - exact| of a feature (half a quantisation step; 0 if exact)."""
    return 0.0 if integer else (hi - lo) / (2 * _U16_MAX)


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
