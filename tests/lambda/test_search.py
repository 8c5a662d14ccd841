"""Search on word prefixes of names and artists, from the S# index items only."""

from __future__ import annotations

from lambda_fixtures import A2, HG, A, B, C, E, load_event, with_query


def search(handler, **query) -> dict:
    status, body, _ = handler(with_query(load_event("search"), type="track", **query))
    assert status == 200, body
    return body["tracks"]


def ids(page: dict) -> list[str]:
    return [t["id"] for t in page["items"]]


def test_accents_and_case_are_ignored(handler):
    assert ids(search(handler, q="BEYONCE")) == [A, C, E, A2]
    assert ids(search(handler, q="beyoncé")) == [A, C, E, A2]


def test_prefix_of_any_word_in_name(handler):
    page = search(handler, q="hel")
    assert ids(page) == [B, HG]  # "Hello" (85) before "Hello Goodbye" (45)
    assert page["total"] == 2


def test_multi_word_query_needs_every_word(handler):
    assert ids(search(handler, q="hello good")) == [HG]
    assert ids(search(handler, q="adele hel")) == [B]
    assert ids(search(handler, q="crazy jay")) == [C]  # "JAY-Z" splits into words jay, z
    assert search(handler, q="hello zzz")["total"] == 0


def test_no_match_is_an_empty_page(handler):
    page = search(handler, q="qwerty")
    assert (page["items"], page["total"], page["next"], page["previous"]) == ([], 0, None, None)


def test_paging_links(handler):
    first = search(handler, q="beyonce", limit="2")
    second = search(handler, q="beyonce", limit="2", offset="2")
    assert ids(first) + ids(second) == [A, C, E, A2]
    assert second["total"] == 4 and second["next"] is None
    assert second["previous"].endswith("/v1/search?q=beyonce&type=track&offset=0&limit=2")
    beyond = search(handler, q="beyonce", limit="2", offset="10")
    assert beyond["items"] == [] and beyond["next"] is None


class DictStore:
    """An in-memory ItemStore over logical keys of one run."""

    def __init__(self, items: dict):
        self.items, self.calls = items, 0

    def current_run(self) -> str:
        return "run"

    def get_items(self, run_id, keys):
        self.calls += 1
        return {k: self.items[k] for k in keys if k in self.items}


def two_track_release(search_max_prefix: int) -> dict:
    """Halo by Beyoncé (90) and Beyond the Sea by Bobby Darin (80), as the writer packs them."""
    from spotrec.writers.items import ListsByIndex, ReleaseCatalogue, assemble_release

    ids = ["1" * 22, "2" * 22]
    summaries = [
        [ids[0], "Halo", ["Beyoncé"], "", 1000, False, 90, [], "s1"],
        [ids[1], "Beyond the Sea", ["Bobby Darin"], "", 1000, False, 80, [], "s2"],
    ]
    features = {name: 0.5 for name in ("acousticness", "danceability", "energy", "valence")}
    features.update(instrumentalness=0.0, key=1, liveness=0.1, loudness=-5.0, mode=1)
    features.update(speechiness=0.1, tempo=100.0, time_signature=4)
    catalogue = ReleaseCatalogue(ids, summaries, [90, 80], [[], []], ["s1", "s2"], [features] * 2)
    items = assemble_release(
        catalogue,
        {"m": lambda: ListsByIndex({}, 2)},
        {"run_id": "run"},
        search_max_prefix=search_max_prefix,
    )
    return dict(items)


def test_query_word_longer_than_indexed_prefix_is_filtered():
    from spotrec_serving.search import search_tracks

    store = DictStore(two_track_release(search_max_prefix=3))
    page = search_tracks(store, "http://x", "beyonce", ["beyonce"], 20, 0)["tracks"]
    assert [t["name"] for t in page["items"]] == ["Halo"] and page["total"] == 1
    page = search_tracks(store, "http://x", "bey", ["bey"], 20, 0)["tracks"]
    assert page["total"] == 2  # a single short word: the index's own count
    store.calls = 0
    page = search_tracks(store, "http://x", "beyo halo", ["beyo", "halo"], 20, 0)["tracks"]
    assert [t["name"] for t in page["items"]] == ["Halo"]
    # both prefix items in one get_items call, the page's T# items in one more (META cached)
    assert store.calls == 2


def test_leaf_pruned_index_answers_like_the_full_index():
    """The fixture catalogue indexed with every prefix (leaf 0) and with leaf pruning (leaf 50,
    which keeps only 1-letter items here): the same answers, totals included."""
    from lambda_fixtures import NEIGHBOURS, RUN_ID, catalogue

    from spotrec.writers.items import ListsByIndex, assemble_release
    from spotrec_serving.search import search_tracks

    def release(leaf: int) -> DictStore:
        tables = {model: (lambda: ListsByIndex({}, 12)) for model in NEIGHBOURS}
        items = assemble_release(catalogue(), tables, {"run_id": RUN_ID}, search_leaf=leaf)
        return DictStore(dict(items))

    full, pruned = release(0), release(50)
    assert len(full.items) > len(pruned.items) + 20
    for query in ("be", "beyonce", "hello good", "let it", "crazy jay", "hello zzz", "z", "qq"):
        words = query.split()
        answers = [search_tracks(s, "http://x", query, words, 3, 0) for s in (full, pruned)]
        assert answers[0] == answers[1], query
