"""Catalogue order carried from the previous release (writers/release_order.py)."""

from __future__ import annotations

from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec.writers.release_order import TOMBSTONE_ID, carry_order


def catalogue(ids: list[str]) -> ReleaseCatalogue:
    return ReleaseCatalogue(
        ids=list(ids),
        summaries=[[i, f"name {i}", [f"artist {i}"], "", 1000, False, 5, ["pop"], i] for i in ids],
        popularity=[5] * len(ids),
        genres=[["pop"] for _ in ids],
        song_ids=list(ids),
        features=[{"energy": 0.5} for _ in ids],
    )


def test_order_and_tombstone_fields():
    previous = ["a" * 22, "b" * 22, "c" * 22] + [f"{i:022d}" for i in range(20)]
    new = catalogue(["d" * 22, "c" * 22, "a" * 22] + [f"{i:022d}" for i in range(20)])
    carried = carry_order(new, previous)
    assert carried.ids[:4] == ["a" * 22, TOMBSTONE_ID, "c" * 22, f"{0:022d}"]
    assert carried.ids[-1] == "d" * 22 and len(carried.ids) == 24
    assert carried.summaries[2] == new.summaries[1]  # rows travel with their id
    assert carried.genres[1] == [] and carried.summaries[1][1] == ""  # no genre, no words
    assert carried.song_ids[1] not in set(new.song_ids)  # a tombstone is nobody's variant
    assert set(carried.song_ids) >= set(new.song_ids)


def test_too_many_tombstones_start_a_fresh_order():
    previous = [f"{i:022d}" for i in range(10)]
    new = catalogue(previous[2:])  # 2 of 10 slots would be tombstones: over 10%
    assert carry_order(new, previous) is None
    assert carry_order(catalogue(previous[1:]), previous) is not None  # 1 of 10: kept
