"""Catalogue order carried from the previous release, so a small change leaves most items alone.

Packed items name tracks by catalogue index (items.py). If a release numbered its tracks in
tracks.parquet's order, one track added near the top would shift every later index and so
change every neighbour list, genre list, search entry and catalogue block, even where the
tracks named did not change. An incremental publish therefore numbers the new release's tracks
the way the release it replaces did:

* a track already there keeps its index;
* a new track is appended after the previous release's last slot;
* a removed track leaves a **tombstone**: its slot keeps the id ``TOMBSTONE_ID`` (not a valid
  track id, so no request can ask for it), no T#/N# item, no genre, no search words, and no
  list names it (lists are built from the new catalogue only). Remapping removed slots instead
  would move the indexes of every later track, which is what this avoids.

Tombstones cost 54 bytes each in the C# blocks. Once they would exceed MAX_TOMBSTONE_SHARE of
the slots, the order starts afresh from tracks.parquet (that publish rewrites everything, once).
"""

from __future__ import annotations

from dataclasses import replace

from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec_serving.items import ID_BYTES

TOMBSTONE_ID = "-" * ID_BYTES
MAX_TOMBSTONE_SHARE = 0.10


def is_live(track_id: str) -> bool:
    return track_id != TOMBSTONE_ID


def carry_order(catalogue: ReleaseCatalogue, previous_ids: list[str]) -> ReleaseCatalogue | None:
    """The catalogue numbered after previous_ids (see the module docstring); None when the
    result would hold more than MAX_TOMBSTONE_SHARE tombstones (start a fresh order)."""
    position = {track_id: i for i, track_id in enumerate(catalogue.ids)}
    slots: list[int | None] = [position.get(track_id) for track_id in previous_ids]
    kept = set(previous_ids)
    slots += [i for i, track_id in enumerate(catalogue.ids) if track_id not in kept]
    tombstones = sum(1 for slot in slots if slot is None)
    if tombstones > MAX_TOMBSTONE_SHARE * len(slots):
        return None
    silent = {name: 0 for name in (catalogue.features[0] if catalogue.features else {})}

    def pick(values: list, empty_of) -> list:
        return [values[s] if s is not None else empty_of(n) for n, s in enumerate(slots)]

    return replace(
        catalogue,
        ids=pick(catalogue.ids, lambda n: TOMBSTONE_ID),
        summaries=pick(
            catalogue.summaries,
            lambda n: [TOMBSTONE_ID, "", [], "", 0, False, 0, [], f"tombstone {n}"],
        ),
        popularity=pick(catalogue.popularity, lambda n: 0),
        genres=pick(catalogue.genres, lambda n: []),
        song_ids=pick(catalogue.song_ids, lambda n: f"tombstone {n}"),  # its own song
        features=pick(catalogue.features, lambda n: dict(silent)),
    )
