"""Track search on the first letters of words, using only the precomputed S# index items.

The batch job wrote, for every prefix (length 1..search_max_prefix) of every normalized word of
a track's name and artists, an item ``S#<prefix>`` holding the catalogue indexes of the most
popular matching tracks (capped at search_cap) and the full match count. A query costs two
get_items calls and no scan:

1. normalize the query into words (case- and accent-insensitive, items.normalize_text);
2. fetch, in ONE get_items call, every prefix item of the (up to) MAX_LOOKUP_WORDS longest
   distinct words, truncated to search_max_prefix (<= 50 keys); a word's list is its longest
   prefix present. The writer leaves out prefixes under a parent of <= search_leaf matches
   (leaf pruning): a word resolved to such a shorter "leaf" prefix is checked on text below,
   and a longer prefix absent under a non-leaf parent means no track matches;
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

from array import array
from dataclasses import dataclass

from spotrec_serving.items import (
    TrackSummary,
    normalize_text,
    search_key,
    track_key,
    unpack_search,
)
from spotrec_serving.release import Release, current_release, fetch_items, release_catalogue
from spotrec_serving.spotify import search_page, track_object
from spotrec_serving.store import ItemStore

MAX_LOOKUP_WORDS = 5
MAX_RESULTS_FILTERED = 100  # one get_items call: the matches filtered on words past the prefix


def matches_all(encoded_summary: list, query_words: list[str]) -> bool:
    """Every query word prefixes a word of the name or artists (name at 1, artists at 2)."""
    text = " ".join([encoded_summary[1], *encoded_summary[2]])
    words = normalize_text(text).split()
    return all(any(word.startswith(q) for word in words) for q in query_words)


@dataclass(frozen=True, slots=True)
class Matches:
    """The tracks matching a query, most popular first (catalogue indexes)."""

    indexes: list[int]
    total: int  # the index's count (see the module docstring for when it is exact)
    needs_text_check: bool  # some words must still be checked on the tracks' text


NO_MATCHES = Matches([], 0, False)


def match_tracks(store: ItemStore, release: Release, words: list[str]) -> Matches:
    """Steps 1-3 of the module docstring: one get_items of the words' prefix items."""
    max_prefix = int(release.meta["search_max_prefix"])
    leaf = int(release.meta.get("search_leaf", 0))
    distinct = sorted(set(words), key=lambda w: (-len(w), w))
    looked_up = distinct[:MAX_LOOKUP_WORDS]
    # Every prefix of each word (<= 5 x 10 keys): the longest one present is the word's list.
    prefixes = {w: [w[:n] for n in range(1, min(len(w), max_prefix) + 1)] for w in looked_up}
    keys = sorted({search_key(p) for ps in prefixes.values() for p in ps})
    docs = fetch_items(store, release.run_id, keys)
    resolved: dict[str, tuple[str, int, array]] = {}
    for word, word_prefixes in prefixes.items():
        present = [p for p in word_prefixes if search_key(p) in docs]
        if not present:
            return NO_MATCHES
        total, indexes = unpack_search(docs[search_key(present[-1])])
        if present[-1] != word_prefixes[-1] and total > leaf:  # a longer prefix matches nothing
            return NO_MATCHES
        resolved[word] = (present[-1], total, indexes)
    selective_word = min(resolved, key=lambda w: (resolved[w][1], -len(w), w))
    _, total, candidates = resolved[selective_word]
    others = [
        set(resolved[w][2]) for w in resolved if resolved[w][0] != resolved[selective_word][0]
    ]
    matches = [i for i in candidates if all(i in other for other in others)]
    # Words the index cannot check exactly (past the prefix length or the words looked up, or
    # resolved to a shorter "leaf" prefix) are checked on the tracks' text.
    needs_text_check = (
        len(distinct) > MAX_LOOKUP_WORDS
        or any(len(w) > max_prefix for w in distinct)
        or any(resolved[w][0] != w for w in resolved)
    )
    return Matches(matches, total if len(resolved) == 1 else len(matches), needs_text_check)


def search_tracks(
    store: ItemStore, base_url: str, query: str, words: list[str], limit: int, offset: int
) -> dict:
    release = current_release(store)
    found = match_tracks(store, release, words)
    matches, total = found.indexes, found.total
    if found.needs_text_check:
        distinct = sorted(set(words))
        shown = summaries(store, release, matches[:MAX_RESULTS_FILTERED])
        filtered = [s for s in shown if matches_all(s, distinct)]
        page, available = filtered[offset : offset + limit], len(filtered)
        total = available
    else:
        page = summaries(store, release, matches[offset : offset + limit])
        available = len(matches)
    items = [track_object(TrackSummary.decode(encoded), base_url) for encoded in page]
    return search_page(items, total, query, limit, offset, available, base_url)


def summaries(store: ItemStore, release: Release, indexes: list[int]) -> list[list]:
    """The encoded summaries of catalogue indexes, in order (one get_items call)."""
    if not indexes:
        return []
    catalogue = release_catalogue(store, release)
    keys = [track_key(catalogue.track_id(i)) for i in indexes]
    docs = fetch_items(store, release.run_id, keys)
    return [docs[key]["track"] for key in keys if key in docs]
