"""One model's items: N#<model>#<track> (the neighbour lists, packed) and G#<model>#<genre>
(the genre's most representative tracks); items.py documents both. Also the NeighbourLists
interface the writers read lists through, and ListsByIndex, its plain-list form for tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from spotrec.writers.packed_lists import packed_rows
from spotrec.writers.release_catalogue import NeighbourTable, ReleaseCatalogue
from spotrec.writers.release_order import is_live
from spotrec_serving.items import genre_key, neighbours_key, pack_list


def genre_list(
    members: list[int], in_degree: list[int], catalogue: ReleaseCatalogue, size: int
) -> tuple[list[int], list[float]]:
    ranked = sorted(members, key=lambda i: -in_degree[i])  # stable: keeps popularity order
    chosen, songs = [], set()
    for i in ranked:
        if catalogue.song_ids[i] not in songs:
            songs.add(catalogue.song_ids[i])
            chosen.append(i)
            if len(chosen) == size:
                break
    top = in_degree[chosen[0]] if chosen else 0
    return chosen, [round(in_degree[i] / top, 6) if top else 0.0 for i in chosen]


def model_items(
    model: str,
    table: NeighbourLists,
    catalogue: ReleaseCatalogue,
    members: dict[str, list[int]],
    size: int,
    depth: int,
) -> Iterator[tuple[str, bytes]]:
    """N# (one per track, first `depth` neighbours) and G# items of one model."""
    if isinstance(table, NeighbourTable):  # numpy, byte-identical to pack_list (packed_lists.py)
        for i, body in packed_rows(table.neighbour_idx, table.scores, table.starts, depth):
            if is_live(catalogue.ids[i]):
                yield neighbours_key(model, catalogue.ids[i]), body
    else:
        for i, track_id in enumerate(catalogue.ids):
            if is_live(track_id):
                indexes, scores = table.neighbours_of(i)
                yield neighbours_key(model, track_id), pack_list(i, indexes[:depth], scores[:depth])
    in_degree = list(table.in_degree)
    for genre in sorted(members):
        chosen, scores = genre_list(members[genre], in_degree, catalogue, size)
        yield genre_key(model, genre), pack_list(None, chosen, scores)


class NeighbourLists(Protocol):
    in_degree: Any  # per catalogue index: how many lists name the track

    def neighbours_of(self, i: int) -> tuple[list[int], list[float]]: ...

    def pairs(self, depth: int) -> tuple[Any, Any, Any]: ...  # numpy: seeds, neighbours, ranks


class ListsByIndex:
    """NeighbourLists from plain lists (tests, tools): {index: ([indexes], [scores])}."""

    def __init__(self, lists: dict[int, tuple[list[int], list[float]]], tracks: int):
        self.lists = lists
        self.in_degree = [0] * tracks
        for indexes, _ in lists.values():
            for j in indexes:
                self.in_degree[j] += 1

    def neighbours_of(self, i: int) -> tuple[list[int], list[float]]:
        return self.lists.get(i, ([], []))

    def pairs(self, depth: int) -> tuple[Any, Any, Any]:
        import numpy as np

        entries = [
            (seed, j, rank)
            for seed, (indexes, _) in sorted(self.lists.items())
            for rank, j in enumerate(indexes[:depth], start=1)
        ]
        columns = np.array(entries, dtype=np.int64).reshape(-1, 3)
        return columns[:, 0], columns[:, 1], columns[:, 2]
