"""The catalogue columns of a release (C# items): what the merge needs per candidate.

Neighbour lists name tracks by catalogue index only, so the merge needs, for every candidate and
without another round trip, its track id, its song key (variants: one track per song, never a
seed's variant) and the 14 tunable audio features (min_*/max_*/target_* filters). These columns
are small (54 bytes a track: 4.8 MB for 89,741 tracks) and immutable per run, so a process
fetches them once per run (one get_items of every C# block) and caches them; a warm request
reads them from memory. The packed layout is in items.py.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

from spotrec_serving.items import FEATURES, ID_BYTES, decode_feature, encode_feature

_COUNT = struct.Struct("<I")
_WIDTH, _POSITION = len(FEATURES), {name: i for i, name in enumerate(FEATURES)}


def pack_block(ids: list[str], songs: list[int], features: list[list[int]]) -> bytes:
    """One C# block: ids (22 ASCII bytes), song keys (i32), feature codes (14 x u16 each)."""
    if any(len(i) != ID_BYTES for i in ids):
        raise ValueError(f"track ids must be {ID_BYTES} characters")
    codes = array("H", [code for row in features for code in row])
    return (
        _COUNT.pack(len(ids))
        + "".join(ids).encode("ascii")
        + array("i", songs).tobytes()
        + codes.tobytes()
    )


def feature_codes(row: dict[str, Any], ranges: dict[str, list]) -> list[int]:
    return [encode_feature(row[name], *ranges[name]) for name in FEATURES]


class Candidate:
    """A track in a seed's list, known by catalogue index; its id and `features` are decoded on
    demand from the cached catalogue (features quantised, see items.py for the bound). A plain
    slotted class: a 5-seed request makes up to 1,000 of them."""

    __slots__ = ("catalogue", "index", "song_id")

    def __init__(self, index: int, song_id: int, catalogue: Catalogue | None):
        self.index = index
        self.song_id = song_id  # the song key: variants share it
        self.catalogue = catalogue

    @property
    def id(self) -> str:
        return self.catalogue.track_id(self.index)

    @property
    def features(self) -> dict[str, float | int]:
        return self.catalogue.features(self.index)

    def __repr__(self) -> str:
        return f"Candidate(index={self.index}, song_id={self.song_id})"


@dataclass
class Catalogue:
    """Every track's id, song key and feature codes, by catalogue index."""

    ids: str  # concatenated 22-character ids
    songs: array  # i32 song key per track
    codes: array  # u16, len(FEATURES) per track
    ranges: dict[str, list]  # META feature_ranges: name -> [lo, hi, integer]
    made: dict[int, Candidate] = field(default_factory=dict)  # made once per process and run
    positions: dict[str, int] | None = None  # track id -> index, built on first index_of

    def candidate(self, index: int) -> Candidate:
        """The merge's candidate object for a track, made once per process and run (a warm
        5-seed request at depth 200 then allocates nothing per candidate)."""
        made = self.made.get(index)
        if made is None:
            made = self.made[index] = Candidate(index, self.songs[index], self)
        return made

    @classmethod
    def from_blocks(cls, blocks: list[bytes], ranges: dict[str, list]) -> Catalogue:
        ids, songs, codes = [], array("i"), array("H")
        width = len(FEATURES)
        for data in blocks:
            (count,) = _COUNT.unpack_from(data)
            start = _COUNT.size
            ids.append(data[start : start + ID_BYTES * count].decode("ascii"))
            start += ID_BYTES * count
            songs.frombytes(data[start : start + 4 * count])
            start += 4 * count
            codes.frombytes(data[start : start + 2 * width * count])
        return cls("".join(ids), songs, codes, ranges)

    def __len__(self) -> int:
        return len(self.songs)

    def track_id(self, index: int) -> str:
        return self.ids[index * ID_BYTES : (index + 1) * ID_BYTES]

    def index_of(self, track_id: str) -> int | None:
        """The catalogue index of a track id (None if the run lacks it). The map is built on
        first use only (session-aware requests: session summaries name tracks by id, which
        outlive a run's indexes), then cached with the catalogue."""
        if self.positions is None:
            ids = self.ids
            self.positions = {
                ids[i : i + ID_BYTES]: i // ID_BYTES for i in range(0, len(ids), ID_BYTES)
            }
        return self.positions.get(track_id)

    def song(self, index: int) -> int:
        return self.songs[index]

    def feature(self, index: int, name: str) -> float | int:
        """One tunable attribute of a track, decoded (reasons.py needs two, not all 14)."""
        code = self.codes[index * _WIDTH + _POSITION[name]]
        return decode_feature(code, *self.ranges[name])

    def features(self, index: int) -> dict[str, float | int]:
        """The 14 tunable attributes of a track, decoded (bound: items.feature_bound)."""
        width = len(FEATURES)
        row = self.codes[index * width : (index + 1) * width]
        return {
            name: decode_feature(code, *self.ranges[name])
            for name, code in zip(FEATURES, row, strict=True)
        }
