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

from spotrec_serving.fusion import RRF_K
from spotrec_serving.items import artist_key
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
    # ties: more popular first, then by id; one int key (popularity is 0..100), Python's order
    id_rank = np.empty(n_artists, dtype=np.int64)
    id_rank[sorted(range(n_artists), key=artists.ids.__getitem__)] = np.arange(n_artists)
    tie_key = (100 - np.asarray(artists.popularity, dtype=np.int64)) * n_artists + id_rank
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
            order = np.lexsort((tie_key[others], -values))
            related.append(others[order][:RELATED_COUNT].tolist())
    return related


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
