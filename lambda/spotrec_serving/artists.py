"""Artist routes in Spotify's shapes, over the precomputed ``A#<artist_id>`` items.

Artist ids are ``names.artist_id`` of the normalised name, so artists who share a name are one
artist here (the catalogue has names only and cannot tell them apart; README). The batch job
(batch/spotrec/writers/artists.py) writes one JSON item per artist:

    {"artist": [name, popularity, genres, track_count],
     "top": "<22-char track id><22-char track id>...",      # up to 10, most popular first
     "related": "<22-char artist id>..."}                   # up to 20, best first

Ids are concatenated without separators (fixed width), which is all the reader needs. Each
route costs one read of the A# item(s) plus, for top tracks and related artists, one read of
the items they name (<= 10 T#, <= 20 A#). A release whose META has no ``artists`` was written
before artists existed: its artist routes answer 404 saying so.

Search (``type=artist``) reuses the track search index (S# items, search.py): the artists of
the first MAX_SEARCH_TRACKS matching tracks (most popular first) whose own name matches every
query word, in that order, which is the artists' popularity order (an artist's popularity is
its best track's). ``total`` counts the artists found that way: a lower bound when more tracks
match than were read.
"""

from __future__ import annotations

from spotrec_serving.errors import BadRequest, NotFound
from spotrec_serving.items import ID_BYTES, TRACK_ID_PATTERN, TrackSummary, artist_key, track_key
from spotrec_serving.names import search_words
from spotrec_serving.release import Release, current_release, fetch_items
from spotrec_serving.search import match_tracks, summaries
from spotrec_serving.spotify import artist_object, cached_artist_id, search_page, track_object
from spotrec_serving.store import ItemStore
from spotrec_serving.validation import split_list

MAX_ARTIST_IDS = 50  # Spotify's limit for GET /v1/artists?ids=
MAX_SEARCH_TRACKS = 100  # matching tracks read to find artists (one get_items call)


def check_artist_id(value: str, name: str = "artist id") -> str:
    if not TRACK_ID_PATTERN.match(value):
        raise BadRequest(f"invalid {name} {value[:40]!r}: expected 22 base-62 characters")
    return value


def parse_artist_ids(text: str | None, name: str, *, max_count: int) -> list[str]:
    ids = split_list(text, name)
    if len(ids) > max_count:
        raise BadRequest(f"too many ids in '{name}': {len(ids)} (at most {max_count})")
    return [check_artist_id(a, f"'{name}' entry") for a in ids]


def split_ids(packed: str) -> list[str]:
    return [packed[i : i + ID_BYTES] for i in range(0, len(packed), ID_BYTES)]


def artist_documents(store: ItemStore, release: Release, ids: list[str]) -> dict[str, dict]:
    """A# documents by artist id (absent when unknown)."""
    keys = list(dict.fromkeys(artist_key(a) for a in ids))
    docs = fetch_items(store, release.run_id, keys)
    return {key[2:]: doc for key, doc in docs.items()}


def one_artist(store: ItemStore, artist: str) -> tuple[Release, dict]:
    """The release and the A# document of one well-formed, known artist id (400 / 404)."""
    check_artist_id(artist)
    release = current_release(store)
    document = artist_documents(store, release, [artist]).get(artist)
    if document is None:
        if "artists" not in release.meta:
            raise NotFound(
                f"unknown artist id {artist}: the current release was published without artists"
            )
        raise NotFound(f"unknown artist id {artist}")
    return release, document


def get_artist(store: ItemStore, base_url: str, artist: str) -> dict:
    _, document = one_artist(store, artist)
    return artist_object(artist, document["artist"], base_url)


def get_artists(store: ItemStore, base_url: str, ids_text: str | None) -> dict:
    if ids_text is None:
        raise BadRequest("missing parameter 'ids'")
    ids = parse_artist_ids(ids_text, "ids", max_count=MAX_ARTIST_IDS)
    documents = artist_documents(store, current_release(store), ids)
    return {  # Spotify answers null in place of an unknown id
        "artists": [
            artist_object(a, documents[a]["artist"], base_url) if a in documents else None
            for a in ids
        ]
    }


def top_tracks(store: ItemStore, base_url: str, artist: str) -> dict:
    release, document = one_artist(store, artist)
    keys = [track_key(t) for t in split_ids(document["top"])]
    docs = fetch_items(store, release.run_id, keys)
    return {
        "tracks": [
            track_object(TrackSummary.decode(docs[key]["track"]), base_url)
            for key in keys
            if key in docs
        ]
    }


def related_artists(store: ItemStore, base_url: str, artist: str) -> dict:
    release, document = one_artist(store, artist)
    related = split_ids(document["related"])
    documents = artist_documents(store, release, related) if related else {}
    return {
        "artists": [
            artist_object(b, documents[b]["artist"], base_url) for b in related if b in documents
        ]
    }


def search_artists(
    store: ItemStore, base_url: str, query: str, words: list[str], limit: int, offset: int
) -> dict:
    """{"artists": paging object} (module docstring)."""
    release = current_release(store)
    found = match_tracks(store, release, words)
    artists: dict[str, None] = {}  # artist ids in order of their best matching track
    for encoded in summaries(store, release, found.indexes[:MAX_SEARCH_TRACKS]):
        for name in encoded[2]:
            names = search_words(name)
            if all(any(n.startswith(w) for n in names) for w in words):
                artists.setdefault(cached_artist_id(name))
    ordered = list(artists)
    page = ordered[offset : offset + limit]
    documents = artist_documents(store, release, page) if page else {}
    items = [artist_object(a, documents[a]["artist"], base_url) for a in page if a in documents]
    return search_page(items, len(ordered), query, limit, offset, len(ordered), base_url, "artist")
