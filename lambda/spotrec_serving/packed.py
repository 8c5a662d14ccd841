"""Codecs of the packed item bodies: u24 index arrays, N#/G#/AS# ranked lists, S# search entries.

The layouts are the item schema's (items.py docstring, "Packed bodies"); items.py re-exports
these names, so writers and readers import them from there. Stdlib only.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

NO_SEED = 0xFFFFFF
_LIST_HEADER = struct.Struct("<3sff")
LIST_HEADER = _LIST_HEADER  # the batch's vectorised writer (writers/packed_lists.py) packs it too
assert array("I").itemsize == 4 and array("i").itemsize == 4 and array("H").itemsize == 2


# --- u24 index arrays: C-level slicing both ways, no per-element Python loop ------------------


def pack_u24(values: list[int]) -> bytes:
    if values and (min(values) < 0 or max(values) > NO_SEED):
        raise ValueError("catalogue index outside 0..16,777,215")
    wide = array("I", values).tobytes()
    packed = bytearray(3 * len(values))
    for offset in range(3):
        packed[offset::3] = wide[offset::4]
    return bytes(packed)


def unpack_u24(data: bytes | memoryview) -> array:
    count = len(data) // 3
    wide = bytearray(4 * count)
    for offset in range(3):
        wide[offset::4] = data[offset::3]
    out = array("I")
    out.frombytes(bytes(wide))
    return out


# --- N#/G# lists -------------------------------------------------------------------------------


def pack_list(seed: int | None, indexes: list[int], scores: list[float]) -> bytes:
    """A ranked list (best first) of catalogue indexes with their scores (items.py docstring)."""
    if len(indexes) != len(scores):
        raise ValueError("indexes and scores differ in length")
    hi = max(scores) if scores else 0.0
    lo = min(scores) if scores else 0.0
    hi, lo = struct.unpack("<ff", struct.pack("<ff", hi, lo))  # round once, as the reader will
    span = hi - lo
    if span > 0:
        scale = 255 / span
        codes = bytes([round((s - lo) * scale) for s in scores])
    else:
        codes = b"\xff" * len(scores)
    seed_bytes = (NO_SEED if seed is None else seed).to_bytes(3, "little")
    return _LIST_HEADER.pack(seed_bytes, hi, lo) + pack_u24(indexes) + codes


@dataclass(frozen=True, slots=True)
class RankedList:
    seed: int | None  # the seed track's catalogue index (None for a genre list)
    indexes: array  # catalogue indexes, rank order
    codes: bytes  # u8 score codes, rank order
    score_hi: float
    score_lo: float

    def score(self, rank0: int) -> float:
        return self.score_lo + self.codes[rank0] * (self.score_hi - self.score_lo) / 255

    def __len__(self) -> int:
        return len(self.indexes)


def unpack_list(data: bytes) -> RankedList:
    seed_bytes, hi, lo = _LIST_HEADER.unpack_from(data)
    count = (len(data) - _LIST_HEADER.size) // 4
    start = _LIST_HEADER.size
    indexes = unpack_u24(memoryview(data)[start : start + 3 * count])
    seed = int.from_bytes(seed_bytes, "little")
    codes = data[start + 3 * count :]
    return RankedList(None if seed == NO_SEED else seed, indexes, codes, hi, lo)


# --- S# search entries ---------------------------------------------------------------------------


def pack_search(total: int, indexes: list[int]) -> bytes:
    return struct.pack("<I", total) + pack_u24(indexes)


def unpack_search(data: bytes) -> tuple[int, array]:
    return struct.unpack_from("<I", data)[0], unpack_u24(memoryview(data)[4:])
