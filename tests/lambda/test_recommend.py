"""Rank fusion, per-seed interleaving, seed/variant exclusion, genre seeds, models."""

from __future__ import annotations

from lambda_fixtures import A2, H2, HG, A, B, C, D, E, F, G, H, K, load_event, with_query

from spotrec_serving.catalogue import Candidate
from spotrec_serving.seed_lists import SeedList, fuse_reciprocal_rank, interleave_per_seed


def recommended(handler, **query) -> list[str]:
    status, body, _ = handler(with_query(load_event("recommend"), **query))
    assert status == 200, body
    return [t["id"] for t in body["tracks"]]


def test_limit_truncates_the_fused_order(handler):
    assert recommended(handler, seed_tracks=f"{A},{B}", limit="2") == [C, D]


def test_per_seed_interleaves_in_seed_order(handler):
    # A's list after filtering: C E H D; B's: D H2 C F.
    assert recommended(handler, seed_tracks=f"{A},{B}", per_seed="2") == [C, D, E, H2]


def test_per_seed_skips_songs_already_taken(handler):
    # Round 3: A's next are H (song of H2, taken) and D (taken), so A is exhausted; B gives F.
    assert recommended(handler, seed_tracks=f"{A},{B}", per_seed="3") == [C, D, E, H2, F]


def test_single_seed_keeps_its_list_order(handler):
    assert recommended(handler, seed_tracks=B) == [D, H2, C, A, F]


def test_variant_of_a_seed_is_never_recommended(handler):
    # A2 is a variant of A (same song): with A2 as a seed, A disappears from B's list too.
    result = recommended(handler, seed_tracks=f"{A2},{B}")
    assert A not in result and A2 not in result and B not in result
    assert result[0] == C  # C is in both lists: 1/62 + 1/63


def test_genre_seed_with_track_seed(handler):
    status, body, _ = handler(load_event("recommend_genres"))
    assert status == 200
    # E's list: A C K; rock's list: G H HG. Equal ranks tie; the track seed (first) wins.
    assert [t["id"] for t in body["tracks"]] == [A, G, C, H, K, HG]
    genre_seed = body["seeds"][1]
    assert genre_seed == {
        "id": "rock",
        "type": "GENRE",
        "href": None,
        "initialPoolSize": 3,
        "afterFilteringSize": 3,
        "afterRelinkingSize": 3,
    }


def test_genre_only_seeds(handler):
    assert recommended(handler, seed_genres="rock", limit="2") == [G, H]


def test_model_parameter_selects_lists(handler):
    assert recommended(handler, seed_tracks=A, model="blend") == [E, D, C]
    default = recommended(handler, seed_tracks=A)
    assert recommended(handler, seed_tracks=A, model="cosine") == default


def track(n: int, song: int | None = None) -> Candidate:
    return Candidate(n, n if song is None else song, catalogue=None)


def seed_list(*numbers: int) -> SeedList:
    return SeedList("x", "TRACK", len(numbers), [(1.0, track(n)) for n in numbers])


def test_fusion_prefers_agreement_between_seeds():
    # 3 is second in both lists; 1 and 2 are first in one list only.
    fused = fuse_reciprocal_rank([seed_list(1, 3), seed_list(2, 3)], limit=10)
    assert [f"t{s.index}" for _, s in fused] == ["t3", "t1", "t2"]
    assert fused[0][0] == 2 / 62


def test_fusion_merges_variants_at_song_level():
    first = SeedList("x", "TRACK", 1, [(1.0, track(1, song=99))])
    second = SeedList("y", "TRACK", 2, [(1.0, track(5)), (1.0, track(2, song=99))])
    fused = fuse_reciprocal_rank([first, second], limit=10)
    assert [f"t{s.index}" for _, s in fused] == [
        "t1",
        "t5",
    ]  # one track for "song", its best-ranked id


def test_per_seed_total_is_capped_at_100():
    lists = [seed_list(*range(s * 100, s * 100 + 50)) for s in range(5)]
    picked = interleave_per_seed(lists, per_seed=30)
    assert len(picked) == 100
    assert [f"t{s.index}" for _, s in picked[:5]] == ["t0", "t100", "t200", "t300", "t400"]


class CountingStore:
    """Wraps a store and records every call, to check the round-trip budget."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def current_run(self):
        self.calls.append("current_run")
        return self.inner.current_run()

    def get_items(self, run_id, keys):
        self.calls.append(("get_items", len(keys)))
        return self.inner.get_items(run_id, keys)


def test_warm_five_seed_request_is_two_get_items_calls(store_file):
    from spotrec_serving.recommend import RecommendationRequest, recommend
    from spotrec_serving.sqlite_store import SqliteStore

    store = CountingStore(SqliteStore(store_file))
    request = RecommendationRequest(seed_tracks=(A, B, C, E), seed_genres=("rock",), limit=3)
    recommend(store, "http://x", request)  # cold: also reads META and the C# blocks once
    assert store.calls[1:3] == [("get_items", 1), ("get_items", 1)]
    store.calls.clear()
    result = recommend(store, "http://x", request)
    # the 5 lists and the 4 track seeds' T# items (for the reasons) in one call, then the 3
    # picked tracks' T# items in one call
    assert store.calls == ["current_run", ("get_items", 9), ("get_items", 3)]
    assert len(result["tracks"]) == 3


def test_every_candidate_has_its_features_within_the_documented_bound(store_file):
    """The merge's per-candidate features (cached catalogue columns, u16 codes) against the
    exact values of the T# items: integers exact, reals within items.feature_bound."""
    from lambda_fixtures import TRACKS

    from spotrec_serving.items import FEATURES, feature_bound, track_key
    from spotrec_serving.release import current_release, release_catalogue
    from spotrec_serving.sqlite_store import SqliteStore

    store = SqliteStore(store_file)
    release = current_release(store)
    catalogue = release_catalogue(store, release)
    docs = store.get_items(release.run_id, [track_key(t) for t in TRACKS])
    ranges = release.meta["feature_ranges"]
    assert ranges["energy"][:2] == [0.0, 1.1] and ranges["key"] == [5, 5, True]
    for index, track_id in enumerate(TRACKS):
        assert catalogue.track_id(index) == track_id
        doc = docs[track_key(track_id)]
        exact = {**doc["features"], "duration_ms": 200_000, "popularity": doc["track"][6]}
        decoded = catalogue.features(index)
        assert set(decoded) == set(FEATURES)
        for name in FEATURES:
            assert abs(decoded[name] - exact[name]) <= feature_bound(*ranges[name]) + 1e-12
        assert decoded["popularity"] == exact["popularity"]  # integer: exact
