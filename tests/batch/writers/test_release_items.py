"""Cross-boundary: a tiny build directory -> batch items -> store.sqlite -> Lambda readers."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from spotrec import schema
from spotrec.writers.items import (
    MAX_ITEM_BYTES,
    ItemSizeError,
    count_items,
    encode_body,
    item_kind,
    iter_release_items,
)
from spotrec.writers.release_catalogue import load_release_catalogue
from spotrec.writers.search_index import build_search_index
from spotrec.writers.sqlite import write_store
from spotrec_serving.catalogue import Catalogue
from spotrec_serving.items import (
    FEATURES,
    SCHEMA_VERSION,
    TrackSummary,
    feature_bound,
    search_words,
    unpack_list,
    unpack_search,
)
from spotrec_serving.recommend import RecommendationRequest, recommend
from spotrec_serving.search import search_tracks
from spotrec_serving.sqlite_store import SqliteStore


def tid(n: int) -> str:
    return f"track{n}".ljust(22, "0")


T1, T2, T3, T4, T5, T6 = (tid(n) for n in range(1, 7))
# id: name, artists, popularity, genres, song, holdout
TRACKS = {
    T1: ("Halo", ["Beyoncé"], 90, ["pop"], "s1", False),
    T2: ("Halo", ["Beyoncé"], 40, ["pop"], "s1", False),  # variant of T1
    T3: ("Hello", ["Adele"], 85, ["soul"], "s3", False),
    T4: ("Crazy in Love", ["Beyoncé", "JAY-Z"], 80, ["pop", "r-n-b"], "s4", False),
    T5: ("Zombie", ["The Cranberries"], 95, ["grunge", "rock"], "s5", True),  # holdout
    T6: ("", ["Unknown Artist"], 10, ["rock"], "s6", False),  # empty name
}
NEIGHBOURS = {  # rank order; in-degree: T4 4, T3 4, T1 2, T5 1, T6 1, T2 0
    T1: [T4, T3],
    T2: [T4, T3],
    T3: [T4, T1],
    T4: [T1, T3],
    T5: [T6, T3],
    T6: [T5, T4],
}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    rows = []
    for i, (track_id, (name, artists, popularity, genres, song, holdout)) in enumerate(
        TRACKS.items()
    ):
        features = {f: 0.5 for f in schema.AUDIO_FEATURES}
        features.update(key=5, mode=1, time_signature=4, tempo=120.0, loudness=-5.0)
        rows.append(
            {
                schema.TRACK_ID: track_id,
                schema.NAME: name,
                schema.ARTISTS: artists,
                schema.ALBUM: f"Album {i}",
                schema.POPULARITY: popularity,
                schema.DURATION_MS: 180_000 + i,
                schema.EXPLICIT: i % 2 == 0,
                **features,
                schema.GENRES: genres,
                schema.SONG_ID: song,
                schema.HOLDOUT: holdout,
                schema.FIRST_ROW: i,
            }
        )
    pd.DataFrame(rows, columns=list(schema.TRACK_COLUMNS)).to_parquet(out / schema.TRACKS_FILE)
    (out / schema.NEIGHBOURS_DIR).mkdir()
    for model, reverse in (("cosine", False), ("blend", True)):
        long = [
            (seed, rank, nb, 0.9 - 0.1 * rank)
            for seed, nbs in reversed(NEIGHBOURS.items())  # file order must not matter
            for rank, nb in enumerate(reversed(nbs) if reverse else nbs, start=1)
        ]
        frame = pd.DataFrame(long, columns=list(schema.NEIGHBOUR_COLUMNS))
        frame = frame.astype({schema.NB_RANK: "int32", schema.NB_SCORE: "float32"})
        frame.to_parquet(out / schema.NEIGHBOURS_DIR / f"{model}.parquet")
    manifest = {
        "run_id": "run-1",
        "created": "2024-01-01T00:00:00Z",
        "top_n": 2,
        "models": ["cosine", "blend"],
        "default_model": "blend",
    }
    (out / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    return out


@pytest.fixture(scope="module")
def items(build_dir) -> dict[str, dict]:
    return dict(iter_release_items(build_dir))


@pytest.fixture(scope="module")
def store(build_dir) -> SqliteStore:
    write_store(build_dir)
    return SqliteStore(build_dir / schema.STORE_FILE)


def test_counts_match_the_items_and_meta(build_dir, items):
    counted = Counter(item_kind(key) for key in items)
    assert counted == count_items(build_dir) == items["META"]["item_counts"]
    assert counted["T"] == counted["N#cosine"] == counted["N#blend"] == 6
    assert counted["G#cosine"] == 4  # grunge is held only by a holdout track
    assert counted["C"] == 1


def test_meta(items):
    meta = items["META"]
    assert meta["run_id"] == "run-1" and meta["default_model"] == "blend"
    assert meta["models"] == ["cosine", "blend"] and meta["top_n"] == 2
    assert meta["genres"] == ["pop", "r-n-b", "rock", "soul"]
    assert (meta["search_max_prefix"], meta["search_cap"], meta["tracks"]) == (10, 1000, 6)
    assert meta["schema"] == SCHEMA_VERSION and meta["catalogue_blocks"] == 1


def catalogue_of(items) -> Catalogue:
    return Catalogue.from_blocks([items["C#0"]], items["META"]["feature_ranges"])


def ids_of(items, key: str) -> list[str]:
    catalogue = catalogue_of(items)
    return [catalogue.track_id(i) for i in unpack_list(items[key]).indexes]


def test_neighbour_lists_in_rank_order(items):
    ranked = unpack_list(items[f"N#cosine#{T1}"])
    assert catalogue_of(items).track_id(ranked.seed) == T1
    assert ids_of(items, f"N#cosine#{T1}") == [T4, T3]
    assert [round(ranked.score(r), 6) for r in range(2)] == [0.8, 0.7]  # both ends exact
    assert ids_of(items, f"N#blend#{T1}") == [T3, T4]


def test_depth_truncates_lists(build_dir):
    shallow = dict(iter_release_items(build_dir, depth=1))
    assert ids_of(shallow, f"N#cosine#{T1}") == [T4] and shallow["META"]["depth"] == 1


def test_catalogue_columns_carry_song_keys_and_features(items):
    catalogue = catalogue_of(items)
    assert [catalogue.track_id(i) for i in range(6)] == list(TRACKS)
    assert catalogue.song(0) == catalogue.song(1) != catalogue.song(2)  # T2 is T1's variant
    exact = items[f"T#{T3}"]["features"]
    decoded = catalogue.features(2)
    assert set(decoded) == set(FEATURES)
    ranges = items["META"]["feature_ranges"]
    for name in FEATURES:
        want = {"duration_ms": 180_002, "popularity": 85}.get(name, exact.get(name))
        assert abs(decoded[name] - want) <= feature_bound(*ranges[name]) + 1e-9, name
    assert decoded["key"] == 5 and decoded["popularity"] == 85  # integers are exact


def test_holdout_track_is_unlabeled(items):
    assert TrackSummary.decode(items[f"T#{T5}"]["track"]).genres == ()
    assert items[f"T#{T5}"]["features"]["key"] == 5


def test_genre_lists_by_in_degree_without_holdout_or_variants(items):
    pop = unpack_list(items["G#cosine#pop"])
    # pop: T4 (in-degree 4), T1 (2); T2 is T1's variant.
    assert ids_of(items, "G#cosine#pop") == [T4, T1]
    assert [pop.score(r) for r in range(2)] == pytest.approx([1.0, 0.5])
    assert ids_of(items, "G#cosine#rock") == [T6]  # T5 is holdout


def search_ids(items, prefix: str) -> tuple[int, list[str]]:
    catalogue = catalogue_of(items)
    total, indexes = unpack_search(items[f"S#{prefix}"])
    return total, [catalogue.track_id(i) for i in indexes]


def test_search_index_is_complete_on_known_names(items):
    """Every prefix of every word resolves (longest indexed prefix) to a list holding the track."""
    for track_id, (name, artists, *_rest) in TRACKS.items():
        words = search_words(name) + [w for a in artists for w in search_words(a)]
        for word in words:
            for length in range(1, min(len(word), 10) + 1):
                prefix = word[:length]
                while f"S#{prefix}" not in items:
                    prefix = prefix[:-1]
                assert track_id in search_ids(items, prefix)[1], (track_id, word[:length])
    assert search_ids(items, "b") == (3, [T1, T4, T2])  # Beyoncé x3


def test_leaf_pruning_keeps_prefixes_under_a_parent_with_more_matches(build_dir):
    # 6 tracks: with leaf 50 no parent has more matches, so only 1-letter prefixes are written.
    assert {len(key) - 2 for key in dict(iter_release_items(build_dir)) if key[:2] == "S#"} == {1}
    index = build_search_index(load_release_catalogue(build_dir), 10, 1000, leaf=2)
    assert "h" in index and "ha" in index and "hal" not in index  # "ha": Halo x2 (<= 2)
    assert index["ha"][0] == 2 and index["h"][0] == 3


def test_search_cap_keeps_the_most_popular_and_counts_all(build_dir):
    capped = dict(iter_release_items(build_dir, search_cap=1))
    assert search_ids(capped, "h") == (3, [T1])  # Halo, Halo, Hello


def test_json_and_packed_bodies(items):
    for key, body in items.items():
        stored = encode_body(key, body)
        if key.startswith(("N#", "G#", "S#", "C#", "AS#", "P#", "GC#")):
            assert isinstance(stored, bytes) and stored == body, key
        else:
            assert json.loads(stored) == body, key


def test_item_sizes_under_the_limit(items):
    assert max(len(encode_body(k, b)) for k, b in items.items()) < MAX_ITEM_BYTES
    with pytest.raises(ItemSizeError, match="S#x"):
        encode_body("S#x", {"items": ["é" * 200_000]})


def test_lambda_reads_what_batch_wrote(store):
    assert store.current_run() == "run-1"
    request = RecommendationRequest(seed_tracks=(T1,), model="cosine")
    assert [t["id"] for t in recommend(store, "http://h", request)["tracks"]] == [T4, T3]
    # T2 and T3 as seeds: T1 (T2's variant) and the seeds go; only T4 remains.
    request = RecommendationRequest(seed_tracks=(T2, T3), model="cosine")
    assert [t["id"] for t in recommend(store, "http://h", request)["tracks"]] == [T4]
    default = recommend(store, "http://h", RecommendationRequest(seed_tracks=(T1,)))
    assert [t["id"] for t in default["tracks"]] == [T3, T4]  # blend, the manifest's default
    genre = recommend(store, "http://h", RecommendationRequest(seed_genres=("pop",)))
    assert [t["id"] for t in genre["tracks"]] == [T4, T1]  # blend in-degrees equal cosine's


def test_search_through_lambda_code(store):
    page = search_tracks(store, "http://h", "crazy beyon", ["crazy", "beyon"], 20, 0)["tracks"]
    assert [t["id"] for t in page["items"]] == [T4]
    page = search_tracks(store, "http://h", "unknown", ["unknown"], 20, 0)["tracks"]
    assert [t["id"] for t in page["items"]] == [T6] and page["items"][0]["name"] == ""
