"""The artists of a release, computed in batch: the A# and AS# items (lambda/spotrec_serving/
artists.py documents their bodies and serves them).

Identity: an artist is a normalised name (``spotrec_serving.names.identity_key``, the one name
normaliser) and its id is ``names.artist_id`` of that name: 22 base-62 characters, stable across
builds. Artists who share a normalised name are ONE artist here: the catalogue has names only
and cannot tell two bands called "Nirvana" apart. The displayed name is the spelling on the
artist's most popular track.

Per artist:

* ``tracks``: its tracks, most popular first (ties by track id); ``track_count`` counts them all;
* ``popularity``: the MAXIMUM over its tracks (0..100): an artist with one hit and many obscure
  album tracks is a popular artist, and a mean would punish deep catalogues;
* ``genres``: the visible genres of its tracks (holdout tracks show none), most frequent first,
  ties by name, at most MAX_GENRES;
* ``top tracks``: its TOP_TRACKS most popular tracks, one per song (a re-release is not a second
  hit);
* ``related artists`` (default model): b is related to a by

      score(a, b) = sum over a's tracks t, over t's neighbours n at rank r <= RELATED_DEPTH by b,
                    of 1 / (RRF_K + r),   divided by sqrt(|a's tracks| * |b's tracks|)

  i.e. how often and how high the model puts b's tracks next to a's, normalised like a cosine
  so that prolific artists do not become everyone's neighbour. It is one sparse product,
  artist x track @ track x track @ track x artist (scipy). Top RELATED_COUNT by score (ties by
  popularity, then id), never a itself;
* ``seed list`` (AS#, one per model, for ``seed_artists``): the reciprocal-rank fusion
  (spotrec_serving.fusion, the one RRF) of its top tracks' neighbour lists, each cut to
  ARTIST_LIST_SIZE, one track per song, ARTIST_LIST_SIZE long. The top tracks' own songs are
  left out (as a track seed never recommends itself); the artist's other tracks may appear
  when the model puts them there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spotrec_serving.fusion import RRF_K, fuse_ranked_lists, rrf_score
from spotrec_serving.items import artist_key, artist_seed_key, pack_list
from spotrec_serving.names import artist_id, identity_key

if TYPE_CHECKING:
    from spotrec.writers.items import NeighbourLists
    from spotrec.writers.release_catalogue import ReleaseCatalogue

MAX_GENRES = 10
TOP_TRACKS = 10
RELATED_COUNT = 20
RELATED_DEPTH = 50  # ranks of each track's list that count towards related artists
ARTIST_LIST_SIZE = 50


@dataclass
class ArtistTable:
    ids: list[str]
    names: list[str]
    tracks: list[list[int]]  # catalogue indexes, most popular first
    popularity: list[int]
    genres: list[list[str]]
    top: list[list[int]]  # top tracks: catalogue indexes, one per song
    track_artists: list[list[int]]  # per catalogue track: its artists' positions in this table

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, a: int) -> list[Any]:
        """The artist fields of an A# item: [name, popularity, genres, track_count]."""
        return [self.names[a], self.popularity[a], self.genres[a], len(self.tracks[a])]


def build_artist_table(catalogue: ReleaseCatalogue) -> ArtistTable:
    """Every artist of the catalogue, most popular first (ties: its best track's id)."""
    position: dict[str, int] = {}
    names: list[str] = []
    tracks: list[list[int]] = []
    track_artists: list[list[int]] = [[] for _ in catalogue.ids]
    keys: dict[str, str] = {}  # name -> identity_key: names repeat on every track of an artist
    for i in catalogue.popularity_order():
        for name in catalogue.summaries[i][2]:
            key = keys.get(name)
            if key is None:
                key = keys[name] = identity_key(name)
            if not key:  # a blank artist name names no artist
                continue
            a = position.setdefault(key, len(names))
            if a == len(names):
                names.append(name)
                tracks.append([])
            if a not in track_artists[i]:  # "Adele, adele" on one track is one artist
                track_artists[i].append(a)
                tracks[a].append(i)
    genres = []
    for members in tracks:
        counted = Counter(g for i in members for g in catalogue.genres[i])
        ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
        genres.append([g for g, _ in ranked[:MAX_GENRES]])
    return ArtistTable(
        ids=[artist_id(name) for name in names],
        names=names,
        tracks=tracks,
        popularity=[catalogue.popularity[members[0]] for members in tracks],
        genres=genres,
        top=[_top_tracks(members, catalogue.song_ids) for members in tracks],
        track_artists=track_artists,
    )


def _top_tracks(members: list[int], song_ids: list[str]) -> list[int]:
    chosen, songs = [], set()
    for i in members:
        if song_ids[i] not in songs:
            songs.add(song_ids[i])
            chosen.append(i)
            if len(chosen) == TOP_TRACKS:
                break
    return chosen


# Artists scored per block of the artist x artist product: at 1M tracks the whole product and
# its operands peaked at ~7.5 GB; blocks of rows give the same rows (each row's sums are the same
# sums in the same order) in bounded memory.
RELATED_BLOCK_ARTISTS = 20_000


def related_artists(
    artists: ArtistTable, table: NeighbourLists, block_artists: int = RELATED_BLOCK_ARTISTS
) -> list[list[int]]:
    """Per artist, its related artists' positions, best first (module docstring)."""
    import numpy as np
    from scipy import sparse

    n_tracks, n_artists = len(artists.track_artists), len(artists)
    rows = [i for i, owners in enumerate(artists.track_artists) for _ in owners]
    cols = [a for owners in artists.track_artists for a in owners]
    incidence = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(n_tracks, n_artists)
    )  # track x artist
    by_artist = incidence.T.tocsr()  # artist x track
    seeds, neighbours, ranks = table.pairs(RELATED_DEPTH)
    # track x track: RRF weight of each neighbour; seeds come grouped, so the rows' bounds are
    # searched rather than converted from (row, column) pairs (~1 GB of copies at 1M tracks).
    indptr = np.searchsorted(seeds, np.arange(n_tracks + 1))
    near = sparse.csr_matrix((1.0 / (RRF_K + ranks), neighbours, indptr), (n_tracks, n_tracks))
    near.sort_indices()  # the canonical order a (row, column) build gives: same sums, same order
    del seeds, neighbours, ranks
    inverse_root = 1.0 / np.sqrt([max(1, len(t)) for t in artists.tracks])
    column_scale = sparse.diags(inverse_root)
    popularity = np.asarray(artists.popularity)
    ids = np.asarray(artists.ids)
    related = []
    step = max(1, block_artists)
    for first in range(0, n_artists, step):
        last = min(n_artists, first + step)
        row_scale = sparse.diags(inverse_root[first:last])
        product = by_artist[first:last] @ near @ incidence  # artist block x artist
        scores = (row_scale @ product @ column_scale).tocsr()
        own = np.repeat(np.arange(first, last), np.diff(scores.indptr)) == scores.indices
        scores.data[own] = 0  # never related to itself
        scores.eliminate_zeros()
        for a in range(last - first):
            lo, hi = scores.indptr[a], scores.indptr[a + 1]
            values, others = np.round(scores.data[lo:hi], 9), scores.indices[lo:hi]
            if len(values) > RELATED_COUNT:  # keep all tied with the 20th best, then order fully
                cut = np.partition(values, len(values) - RELATED_COUNT)
                keep = values >= cut[len(values) - RELATED_COUNT]
                values, others = values[keep], others[keep]
            order = np.lexsort((ids[others], -popularity[others], -values))
            related.append(others[order][:RELATED_COUNT].tolist())
    return related


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
    """Every artist's fused list, in artist order: ``artist_seed_list``'s result, computed for
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
        yield from _fused_block(
            last - first,
            np.repeat(np.arange(last - first), sizes[first:last]),
            slot_track[s0:s1],
            slot_lengths[s0:s1],
            starts,
            neighbours,
            songs,
            width,
        )
        first = last


def _fused_block(n_artists, slot_artist, slot_track, lengths, starts, neighbours, songs, width):
    """The fused lists of one block of ``n_artists`` artists (numbered 0.. within the block)."""
    import numpy as np

    slot = np.repeat(np.arange(len(slot_track)), lengths)  # each entry's (artist, list) slot
    offsets = np.arange(len(slot)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cand = neighbours[starts[slot_track][slot] + offsets].astype(np.int64)
    art, song = slot_artist[slot], songs[cand]
    own = slot_artist * width + songs[slot_track]  # the artist's top tracks' songs
    keep = ~np.isin(art * width + song, own)
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
    ranked = np.lexsort((g_entry, g_best, -np.round(g_score, 12), g_art))
    g_art, g_cand, g_score = g_art[ranked], g_cand[ranked], g_score[ranked]
    bounds = np.searchsorted(g_art, np.arange(n_artists + 1)).tolist()
    # Python lists once per block (per-artist numpy calls cost ~1 s a model), sliced.
    cands, scores = g_cand.tolist(), np.round(g_score, 6).tolist()
    for a in range(n_artists):
        lo, hi = bounds[a], min(bounds[a + 1], bounds[a] + ARTIST_LIST_SIZE)
        yield cands[lo:hi], scores[lo:hi]


def model_artist_items(
    model: str, artists: ArtistTable, table: NeighbourLists, catalogue: ReleaseCatalogue
) -> Iterator[tuple[str, bytes]]:
    """AS#<model>#<artist>: every artist's seed list for this model (packed like G#)."""
    lists = artist_seed_lists(artists, table, catalogue.song_keys())
    for artist, (indexes, scores) in zip(artists.ids, lists, strict=True):
        yield artist_seed_key(model, artist), pack_list(None, indexes, scores)


def artist_items(
    artists: ArtistTable, related: list[list[int]], catalogue: ReleaseCatalogue
) -> Iterator[tuple[str, dict]]:
    """A#<artist>: the artist's fields, top track ids and related artist ids (concatenated
    22-character ids: no separators to store)."""
    ids = catalogue.ids
    for a, artist in enumerate(artists.ids):
        yield (
            artist_key(artist),
            {
                "artist": artists.row(a),
                "top": "".join(ids[i] for i in artists.top[a]),
                "related": "".join(artists.ids[b] for b in related[a]),
            },
        )


def artist_meta(artists: ArtistTable) -> dict[str, int]:
    return {
        "artists": len(artists),
        "artist_list_size": ARTIST_LIST_SIZE,
        "related_artists": RELATED_COUNT,
    }
