"""Track search on the first letters of words, using only the precomputed S# index items.

The batch job wrote, for every prefix (length 1..search_max_prefix) of every normalized word of
a track's name and artists, an item ``S#<prefix>`` holding the most popular matching tracks
(capped at search_cap) and the full match count. A query is answered without scanning:

1. normalize the query into words (case- and accent-insensitive, items.normalize_text);
2. fetch, in ONE get_items call, the prefix items of the (up to) MAX_LOOKUP_WORDS longest
   distinct words, truncated to search_max_prefix; long words are usually the most selective;
3. keep the item with the fewest matches (the most selective word) and filter its tracks so
   that EVERY query word prefixes some word of the track's name or artists.

`total` is exact for a single word of at most search_max_prefix letters (the index counted it).
Otherwise it counts the matches found among the selective item's tracks, which is exact unless
that item was capped, in which case it is a lower bound. Paging can reach only the tracks the
index kept, so `next` is null once they are exhausted.
"""

from __future__ import annotations

from spotrec_serving.items import TrackSummary, normalize_text, search_key
from spotrec_serving.release import current_release, fetch_items
from spotrec_serving.spotify import search_page, track_object
from spotrec_serving.store import ItemStore

MAX_LOOKUP_WORDS = 5


def matches_all(encoded_summary: list, query_words: list[str]) -> bool:
    """Every query word prefixes a word of the name or artists. Works on the encoded summary
    (name at 1, artists at 2) with one normalization per track: this is the per-request loop."""
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
    selective_word = min(lookups, key=lambda w: (docs[lookups[w]]["total"], -len(w), w))
    doc = docs[lookups[selective_word]]
    candidates = doc["items"]
    if len(distinct) == 1 and len(selective_word) <= max_prefix:
        matches, total = candidates, int(doc["total"])
    else:
        matches = [s for s in candidates if matches_all(s, distinct)]
        total = len(matches)
    shown = matches[offset : offset + limit]
    page = [track_object(TrackSummary.decode(encoded), base_url) for encoded in shown]
    return search_page(page, total, query, limit, offset, len(matches), base_url)
