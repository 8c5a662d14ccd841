"""Track search on the first letters of words, using only the precomputed S# index items.

The batch job wrote, for every prefix (length 1..search_max_prefix) of every normalized word of
a track's name and artists, an item ``S#<prefix>`` holding the catalogue indexes of the most
popular matching tracks (capped at search_cap) and the full match count. A query costs two
get_items calls and no scan:

1. normalize the query into words (case- and accent-insensitive, items.normalize_text);
2. fetch, in ONE get_items call, the prefix items of the (up to) MAX_LOOKUP_WORDS longest
   distinct words, truncated to search_max_prefix;
3. the matches are the tracks of the most selective item (fewest matches) that are also in
   every other word's item, in popularity order;
4. fetch, in ONE more call, the ``T#`` items of the page (or, when a query word is longer than
   search_max_prefix, of the first 100 matches, which are then filtered on the full words).

`total` is exact for a single word of at most search_max_prefix letters (the index counted it).
Otherwise it counts the matches found, which is exact unless an item was capped (then it is a
lower bound: the intersection only sees each word's search_cap most popular tracks). Paging can
reach only the tracks found, so `next` is null once they are exhausted.
"""

from __future__ import annotations

from spotrec_serving.items import (
    TrackSummary,
    normalize_text,
    search_key,
    track_key,
    unpack_search,
)
from spotrec_serving.release import current_release, fetch_items, release_catalogue
from spotrec_serving.spotify import search_page, track_object
from spotrec_serving.store import ItemStore

MAX_LOOKUP_WORDS = 5
MAX_RESULTS_FILTERED = 100  # one get_items call: the matches filtered on words past the prefix


def matches_all(encoded_summary: list, query_words: list[str]) -> bool:
    """Every query word prefixes a word of the name or artists (name at 1, artists at 2)."""
    text = " ".join([encoded_summary[1], *encoded_summary[2]])
    words = normalize_text(text).split()
    return all(any(word.startswith(q) for word in words) for q in query_words)


def search_tracks(
    store: ItemStore, base_url: str, query: str, words: list[str], limit: int, offset: int
) -> dict:
    release = current_release(store)
    max_prefix = int(release.meta["search_max_prefix"])
    distinct = sorted(set(words), key=lambda w: (-len(w), w))
    lookups = {w: search_key(w[:max_prefix]) for w in distinct[:MAX_LOOKUP_WORDS]}
    docs = fetch_items(store, release.run_id, sorted(set(lookups.values())))
    if len(docs) < len(set(lookups.values())):  # some word prefixes nothing in the catalogue
        return search_page([], 0, query, limit, offset, 0, base_url)
    entries = {key: unpack_search(data) for key, data in docs.items()}
    selective_word = min(lookups, key=lambda w: (entries[lookups[w]][0], -len(w), w))
    total, candidates = entries[lookups[selective_word]]
    others = [set(entries[key][1]) for key in set(lookups.values()) - {lookups[selective_word]}]
    matches = [i for i in candidates if all(i in other for other in others)]
    # Words past the indexed prefix length, or past the words looked up, are checked on text.
    if len(distinct) > MAX_LOOKUP_WORDS or any(len(w) > max_prefix for w in distinct):
        shown = _summaries(store, release.run_id, release, matches[:MAX_RESULTS_FILTERED])
        filtered = [s for s in shown if matches_all(s, distinct)]
        page, available = filtered[offset : offset + limit], len(filtered)
        total = available
    else:
        if len(lookups) > 1:
            total = len(matches)
        page = _summaries(store, release.run_id, release, matches[offset : offset + limit])
        available = len(matches)
    items = [track_object(TrackSummary.decode(encoded), base_url) for encoded in page]
    return search_page(items, total, query, limit, offset, available, base_url)


def _summaries(store: ItemStore, run_id: str, release, indexes: list[int]) -> list[list]:
    """The encoded summaries of catalogue indexes, in order (one get_items call)."""
    if not indexes:
        return []
    catalogue = release_catalogue(store, release)
    keys = [track_key(catalogue.track_id(i)) for i in indexes]
    docs = fetch_items(store, run_id, keys)
    return [docs[key]["track"] for key in keys if key in docs]
