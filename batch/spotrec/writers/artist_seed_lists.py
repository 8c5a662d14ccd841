"""Every artist's seed list (AS#<model>#<artist>, for ``seed_artists``): the reciprocal-rank
fusion of its top tracks' neighbour lists (writers/artists.py documents the definition).
``artist_seed_list`` is that definition with fusion.fuse_ranked_lists (the one RRF);
``seed_list_blocks`` computes the same lists for blocks of artists with numpy, which the build
uses, and the lists are packed with packed_lists.py (byte for byte pack_list).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spotrec.writers.artists import ARTIST_LIST_SIZE, TOP_TRACKS, ArtistTable
from spotrec.writers.packed_lists import packed_rows
from spotrec_serving.fusion import fuse_ranked_lists, rrf_score
from spotrec_serving.items import artist_seed_key

if TYPE_CHECKING:
    from spotrec.writers.items import NeighbourLists
    from spotrec.writers.release_catalogue import ReleaseCatalogue


def artist_seed_list(
    artists: ArtistTable, a: int, table: NeighbourLists, song_ids: list[str]
) -> tuple[list[int], list[float]]:
    """One artist's fused list with fusion.fuse_ranked_lists (the one RRF), as (catalogue
    indexes, RRF scores). The reference that ``artist_seed_lists`` (vectorised, used by the
    build) is tested against."""
    own_songs = {song_ids[t] for t in artists.top[a]}
    lists = []
    for t in artists.top[a]:
        indexes, _ = table.neighbours_of(t)
        lists.append((1.0, [i for i in indexes[:ARTIST_LIST_SIZE] if song_ids[i] not in own_songs]))
    fused = fuse_ranked_lists(lists, group=song_ids.__getitem__, limit=ARTIST_LIST_SIZE)
    return [i for _, i in fused], [round(score, 6) for score, _ in fused]


# Entries (artist top track x neighbour) fused per block: at 1M tracks all ~45M entries at once
# held ~11 GB of int64 temporaries and Python lists; 2M entries keep a block near 0.5 GB.
SEED_LIST_BLOCK_ENTRIES = 2_000_000


def artist_seed_lists(
    artists: ArtistTable,
    table: NeighbourLists,
    song_keys: list[int],
    block_entries: int = SEED_LIST_BLOCK_ENTRIES,
) -> Iterator[tuple[list[int], list[float]]]:
    """Every artist's fused list, in artist order, as Python lists (see ``seed_list_blocks``)."""
    for n_artists, (cands, scores, starts) in seed_list_blocks(
        artists, table, song_keys, block_entries
    ):
        # Python lists once per block (per-artist numpy calls cost ~1 s a model), sliced.
        cands, scores, bounds = cands.tolist(), scores.tolist(), starts.tolist()
        for a in range(n_artists):
            yield cands[bounds[a] : bounds[a + 1]], scores[bounds[a] : bounds[a + 1]]


def seed_list_blocks(
    artists: ArtistTable,
    table: NeighbourLists,
    song_keys: list[int],
    block_entries: int = SEED_LIST_BLOCK_ENTRIES,
) -> Iterator[tuple[int, tuple[Any, Any, Any]]]:
    """(artists in the block, (candidates, scores, starts)) per block of artists, in artist
    order: artist a's fused list is candidates[starts[a]:starts[a+1]] (catalogue indexes) with
    its scores (rounded to 6 places), ``artist_seed_list``'s result, computed for
    a block of artists at a time with numpy (fuse_ranked_lists costs ~5 us an entry in Python,
    ~11 s a model for 5,000 artists; this is the same arithmetic, ``fusion.rrf_score``, and the
    same order: fused score, best single rank, first entry met, with fused scores equal to 1e-12
    counted as ties). Each artist's list depends on its own entries only, so blocks of whole
    artists give the same lists as one block."""
    import numpy as np

    n_tracks = len(artists.track_artists)
    seeds, neighbours, _ = table.pairs(ARTIST_LIST_SIZE)
    starts = np.searchsorted(seeds, np.arange(n_tracks + 1))
    songs = np.asarray(song_keys, dtype=np.int64)
    sizes = np.fromiter((len(top) for top in artists.top), dtype=np.int64, count=len(artists))
    slot_bounds = np.r_[0, np.cumsum(sizes)]
    slot_track = np.fromiter(
        (t for top in artists.top for t in top), dtype=np.int64, count=int(slot_bounds[-1])
    )
    slot_lengths = starts[slot_track + 1] - starts[slot_track]
    entries_before = np.r_[0, np.cumsum(slot_lengths)][slot_bounds]  # per artist boundary
    width = int(songs.max(initial=0)) + 1
    first = 0
    while first < len(artists):
        limit = entries_before[first] + max(1, block_entries)
        # the last boundary within the limit (at most len(artists)), and at least one artist
        last = max(first + 1, int(np.searchsorted(entries_before, limit, side="right")) - 1)
        s0, s1 = slot_bounds[first], slot_bounds[last]
        yield (
            last - first,
            _fused_block(
                last - first,
                np.repeat(np.arange(last - first), sizes[first:last]),
                slot_track[s0:s1],
                slot_lengths[s0:s1],
                starts,
                neighbours,
                songs,
                width,
            ),
        )
        first = last


def _fused_block(n_artists, slot_artist, slot_track, lengths, starts, neighbours, songs, width):
    """The fused lists of one block of ``n_artists`` artists (numbered 0.. within the block)."""
    import numpy as np

    slot = np.repeat(np.arange(len(slot_track)), lengths)  # each entry's (artist, list) slot
    offsets = np.arange(len(slot)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cand = neighbours[starts[slot_track][slot] + offsets].astype(np.int64)
    art, song = slot_artist[slot], songs[cand]
    # the artist's top tracks' songs, at most TOP_TRACKS per artist: one comparison per column
    # of a padded (artist x TOP_TRACKS) table costs less than np.isin's sort of every entry
    own = np.full((n_artists, TOP_TRACKS), -1, dtype=np.int64)
    own_column = np.arange(len(slot_artist)) - np.searchsorted(slot_artist, slot_artist)
    own[slot_artist, own_column] = songs[slot_track]
    keep = np.ones(len(song), dtype=bool)
    for column in own.T:
        keep &= column[art] != song
    slot, cand, art, song = slot[keep], cand[keep], art[keep], song[keep]
    rank = np.arange(len(slot)) - np.searchsorted(slot, slot) + 1  # re-ranked after the drop
    order_in_artist = slot - np.searchsorted(slot_artist, slot_artist[slot])
    contrib = rrf_score(rank.astype(np.float64))
    entry = np.arange(len(slot))  # enumeration order within each artist
    # Per (artist, song) group the representative comes first: largest contribution (= best
    # rank: every list weighs 1), then earlier list (fuse_ranked_lists' rule). One int64 key
    # (a song is at most once per list): a 5-key lexsort took 4x longer.
    lists = TOP_TRACKS + 1
    key = ((art * width + song) * (ARTIST_LIST_SIZE + 1) + rank) * lists + order_in_artist
    by_group = np.argsort(key, kind="stable")
    art_s, song_s = art[by_group], song[by_group]
    changes = (art_s[1:] != art_s[:-1]) | (song_s[1:] != song_s[:-1])
    firsts = np.flatnonzero(np.r_[len(art_s) > 0, changes])  # no entry at all: no group
    g_art, g_cand, g_entry = art_s[firsts], cand[by_group][firsts], entry[by_group][firsts]
    g_score = np.add.reduceat(contrib[by_group], firsts) if len(firsts) else contrib[:0]
    g_best = np.minimum.reduceat(rank[by_group], firsts) if len(firsts) else rank[:0]
    ranked = _fused_order(g_art, g_score, g_best, g_entry)
    g_art, g_cand, g_score = g_art[ranked], g_cand[ranked], g_score[ranked]
    # each artist's first ARTIST_LIST_SIZE, as flat arrays cut by `starts`
    bounds = np.searchsorted(g_art, np.arange(n_artists + 1))
    keep = np.arange(len(g_art)) - bounds[g_art] < ARTIST_LIST_SIZE
    kept = np.minimum(np.diff(bounds), ARTIST_LIST_SIZE)
    return g_cand[keep], np.round(g_score[keep], 6), np.r_[0, np.cumsum(kept)]


def model_artist_items(
    model: str, artists: ArtistTable, table: NeighbourLists, catalogue: ReleaseCatalogue
) -> Iterator[tuple[str, bytes]]:
    """AS#<model>#<artist>: every artist's seed list for this model (packed like G#)."""
    ids = iter(artists.ids)
    for _, (cands, scores, starts) in seed_list_blocks(artists, table, catalogue.song_keys()):
        # packed with numpy (packed_lists.py), byte for byte pack_list(None, ...)
        for _, body in packed_rows(cands, scores, starts, ARTIST_LIST_SIZE, seeded=False):
            yield artist_seed_key(model, next(ids)), body


def _fused_order(g_art, g_score, g_best, g_entry):
    """np.lexsort((g_entry, g_best, -np.round(g_score, 12), g_art)) with two int64 keys (a
    4-key lexsort was the block's slowest step). np.round(x, 12) is rint(x * 1e12) / 1e12, and
    distinct integers below 2**53 stay distinct and in order after the division, so ordering by
    the integer is ordering by the rounded score."""
    import numpy as np

    scaled = np.rint(g_score * 1e12)
    top = float(scaled.max(initial=0.0))
    n_art = int(g_art.max(initial=0)) + 1
    if scaled.min(initial=0.0) < 0 or top >= 2**52 or n_art * (top + 1) >= 2**62:
        return np.lexsort((g_entry, g_best, -np.round(g_score, 12), g_art))
    top_int = int(top)
    primary = g_art.astype(np.int64) * (top_int + 1) + (top_int - scaled.astype(np.int64))
    secondary = g_best.astype(np.int64) * (len(g_entry) + 1) + g_entry
    return np.lexsort((secondary, primary))
