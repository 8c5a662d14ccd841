"""The vectorised search index against the per-track loop it replaced (the definition)."""

from __future__ import annotations

import random

import pytest

from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec.writers.search_index import build_search_index
from spotrec_serving.items import pack_search, search_words


def reference_index(catalogue, max_prefix, cap, leaf):
    """The session-4 loop: every track's set of prefixes, most popular track first."""
    totals, kept = {}, {}
    for i in catalogue.popularity_order():
        summary = catalogue.summaries[i]
        words = set(search_words(summary[1]))
        for artist in summary[2]:
            words.update(search_words(artist))
        prefixes = {w[:n] for w in words for n in range(1, min(len(w), max_prefix) + 1)}
        for prefix in prefixes:
            count = totals.get(prefix, 0)
            totals[prefix] = count + 1
            if count == 0:
                kept[prefix] = [i]
            elif count < cap:
                kept[prefix].append(i)
    return {p: (totals[p], kept[p]) for p in totals if len(p) == 1 or totals[p[:-1]] > leaf}


def make_catalogue(n: int, seed: int) -> ReleaseCatalogue:
    rng = random.Random(seed)
    # shared stems so that prefixes collide across words ("lov" of love/lovely/Løve), accents,
    # punctuation, repeated words in one name, artists sharing words with names, ties in
    # popularity (broken by id), blank names and tracks without artists.
    vocab = ["love", "lovely", "Løve", "låve", "Beyoncé", "beyond", "night", "nights", "a", "x"]
    vocab += ["東京", "rock'n'roll", "o", "ocean", "oceanic", "supercalifragilistic"]
    ids = [f"t{k:05d}".ljust(22, "0") for k in range(n)]
    rng.shuffle(ids)
    summaries = []
    for k, track_id in enumerate(ids):
        name = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 4)))
        artists = [" ".join(rng.sample(vocab, 2)) for _ in range(rng.randint(0, 2))]
        popularity = rng.randint(0, 5)
        summaries.append([track_id, name, artists, "", 0, False, popularity, [], f"s{k}"])
    return ReleaseCatalogue(
        ids=ids,
        summaries=summaries,
        popularity=[s[6] for s in summaries],
        genres=[[] for _ in ids],
        song_ids=[s[8] for s in summaries],
        features=[{} for _ in ids],
    )


@pytest.mark.parametrize(
    "n, max_prefix, cap, leaf", [(300, 10, 1000, 50), (300, 4, 7, 3), (40, 2, 1, 0), (0, 10, 5, 1)]
)
def test_same_index_as_the_per_track_loop(n, max_prefix, cap, leaf):
    catalogue = make_catalogue(n, seed=n + cap)
    expected = reference_index(catalogue, max_prefix, cap, leaf)
    index = build_search_index(catalogue, max_prefix, cap, leaf)
    assert len(index) == len(expected)
    assert {p: index[p] for p in index} == expected
    assert list(index) == sorted(expected)
    # the packed bodies are pack_search's, in sorted prefix order
    assert list(index.packed()) == [(p, pack_search(*expected[p])) for p in sorted(expected)]
    if n:  # pruning and the cap really happened in the small settings
        assert any(total > len(kept) for total, kept in expected.values()) == (cap < n)


def test_popularity_order_is_popularity_then_id():
    catalogue = make_catalogue(500, seed=3)  # popularity 0..5: many ties
    catalogue.ids[7] = catalogue.ids[9] = "-" * 22  # tombstones share one id: index order
    expected = sorted(range(500), key=lambda i: (-catalogue.popularity[i], catalogue.ids[i]))
    assert catalogue.popularity_order() == expected
    catalogue.popularity_order().reverse()  # callers get a copy
    assert catalogue.popularity_order() == expected
