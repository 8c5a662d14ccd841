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

from spotrec_serving.fusion import RRF_K, fuse_ranked_lists
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
    for i in catalogue.popularity_order():
        for name in catalogue.summaries[i][2]:
            key = identity_key(name)
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


def related_artists(artists: ArtistTable, table: NeighbourLists) -> list[list[int]]:
    """Per artist, its related artists' positions, best first (module docstring)."""
    import numpy as np
    from scipy import sparse

    n_tracks, n_artists = len(artists.track_artists), len(artists)
    rows = [i for i, owners in enumerate(artists.track_artists) for _ in owners]
    cols = [a for owners in artists.track_artists for a in owners]
    incidence = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(n_tracks, n_artists)
    )  # track x artist
    seeds, neighbours, ranks = table.pairs(RELATED_DEPTH)
    near = sparse.csr_matrix(
        (1.0 / (RRF_K + ranks), (seeds, neighbours)), shape=(n_tracks, n_tracks)
    )  # track x track: RRF weight of each neighbour
    scale = sparse.diags(1.0 / np.sqrt([max(1, len(t)) for t in artists.tracks]))
    scores = (scale @ (incidence.T @ near @ incidence) @ scale).tocsr()  # artist x artist
    scores.setdiag(0)  # never related to itself
    scores.eliminate_zeros()
    popularity = np.asarray(artists.popularity)
    ids = np.asarray(artists.ids)
    related = []
    for a in range(n_artists):
        lo, hi = scores.indptr[a], scores.indptr[a + 1]
        values, others = np.round(scores.data[lo:hi], 9), scores.indices[lo:hi]
        if len(values) > RELATED_COUNT:  # keep all tied with the 20th best, then order fully
            cut = np.partition(values, len(values) - RELATED_COUNT)[len(values) - RELATED_COUNT]
            keep = values >= cut
            values, others = values[keep], others[keep]
        order = np.lexsort((ids[others], -popularity[others], -values))
        related.append(others[order][:RELATED_COUNT].tolist())
    return related


def artist_seed_list(
    artists: ArtistTable, a: int, table: NeighbourLists, song_ids: list[str]
) -> tuple[list[int], list[float]]:
    """The fused list of one artist (module docstring): (catalogue indexes, RRF scores)."""
    own_songs = {song_ids[t] for t in artists.top[a]}
    lists = []
    for t in artists.top[a]:
        indexes, _ = table.neighbours_of(t)
        lists.append((1.0, [i for i in indexes[:ARTIST_LIST_SIZE] if song_ids[i] not in own_songs]))
    fused = fuse_ranked_lists(lists, group=song_ids.__getitem__, limit=ARTIST_LIST_SIZE)
    return [i for _, i in fused], [round(score, 6) for score, _ in fused]


def model_artist_items(
    model: str, artists: ArtistTable, table: NeighbourLists, catalogue: ReleaseCatalogue
) -> Iterator[tuple[str, bytes]]:
    """AS#<model>#<artist>: every artist's seed list for this model (packed like G#)."""
    for a, artist in enumerate(artists.ids):
        indexes, scores = artist_seed_list(artists, a, table, catalogue.song_ids)
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
