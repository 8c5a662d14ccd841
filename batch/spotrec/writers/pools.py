"""The fallback pools of a release: ``P#<genre>`` and ``GC#<block>`` items
(lambda/spotrec_serving/pools.py defines them and how a request uses them).

Plain Python over the ReleaseCatalogue, no pandas/numpy, like the rest of the item writer.
"""

from __future__ import annotations

from collections.abc import Iterator

from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec_serving.items import CATALOGUE_BLOCK, pack_list
from spotrec_serving.pools import genre_codes_key, pack_genre_codes, pool_key

# Tracks per genre pool. 1,000 holds about every song of a genre of the Spotify Tracks
# catalogue (~1,000 rows a genre, fewer songs) in a 4 KB item; docs/performance.md "Full pools".
DEFAULT_POOL_SIZE = 1000


def genre_pool(members: list[int], catalogue: ReleaseCatalogue, size: int) -> list[int]:
    """The genre's tracks (already most popular first, ties by id), one per song."""
    chosen, songs = [], set()
    for index in members:
        song = catalogue.song_ids[index]
        if song not in songs:
            songs.add(song)
            chosen.append(index)
            if len(chosen) == size:
                break
    return chosen


def pool_items(
    catalogue: ReleaseCatalogue, members: dict[str, list[int]], size: int
) -> Iterator[tuple[str, bytes]]:
    """One P# item per genre of META ``genres`` (sorted), then the GC# blocks."""
    genres = sorted(members)
    for genre in genres:
        chosen = genre_pool(members[genre], catalogue, size)
        scores = [float(catalogue.popularity[i]) for i in chosen]
        yield pool_key(genre), pack_list(None, chosen, scores)
    code_of = {genre: code for code, genre in enumerate(genres)}
    codes = [[code_of[g] for g in genres_of if g in code_of] for genres_of in catalogue.genres]
    for block, start in enumerate(range(0, len(codes), CATALOGUE_BLOCK)):
        yield genre_codes_key(block), pack_genre_codes(codes[start : start + CATALOGUE_BLOCK])


def genre_code_blocks(tracks: int) -> int:
    return -(-tracks // CATALOGUE_BLOCK)
