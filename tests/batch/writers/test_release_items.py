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
from spotrec.writers.sqlite import write_store
from spotrec_serving.items import TrackSummary, search_words
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


def test_meta(items):
    meta = items["META"]
    assert meta["run_id"] == "run-1" and meta["default_model"] == "blend"
    assert meta["models"] == ["cosine", "blend"] and meta["top_n"] == 2
    assert meta["genres"] == ["pop", "r-n-b", "rock", "soul"]
    assert (meta["search_max_prefix"], meta["search_cap"], meta["tracks"]) == (10, 200, 6)


def test_neighbour_lists_in_rank_order_with_summaries(items):
    body = items[f"N#cosine#{T1}"]
    assert TrackSummary.decode(body["seed"]).name == "Halo"
    assert [(round(score, 3), row[0]) for score, row in body["items"]] == [(0.8, T4), (0.7, T3)]
    assert [row[0] for _, row in items[f"N#blend#{T1}"]["items"]] == [T3, T4]


def test_holdout_track_is_unlabeled(items):
    assert TrackSummary.decode(items[f"T#{T5}"]["track"]).genres == ()
    assert items[f"T#{T5}"]["features"]["key"] == 5


def test_genre_lists_by_in_degree_without_holdout_or_variants(items):
    pop = items["G#cosine#pop"]["items"]
    # pop: T4 (in-degree 4), T1 (2); T2 is T1's variant.
    assert [(score, row[0]) for score, row in pop] == [(1.0, T4), (0.5, T1)]
    assert [row[0] for _, row in items["G#cosine#rock"]["items"]] == [T6]  # T5 is holdout


def test_search_index_is_complete_on_known_names(items):
    for track_id, (name, artists, *_rest) in TRACKS.items():
        words = search_words(name) + [w for a in artists for w in search_words(a)]
        for word in words:
            for length in range(1, min(len(word), 10) + 1):
                entry = items[f"S#{word[:length]}"]
                assert track_id in [row[0] for row in entry["items"]], (track_id, word[:length])
    beyonce = items["S#beyonce"]
    assert [row[0] for row in beyonce["items"]] == [T1, T4, T2] and beyonce["total"] == 3


def test_search_cap_keeps_the_most_popular_and_counts_all(build_dir):
    capped = dict(iter_release_items(build_dir, search_cap=1))
    assert capped["S#h"]["total"] == 3  # Halo, Halo, Hello
    assert [row[0] for row in capped["S#h"]["items"]] == [T1]


def test_pre_encoded_bodies_equal_plain_json(items):
    for key, body in items.items():
        assert encode_body(key, body) == json.dumps(
            dict(body), separators=(",", ":"), ensure_ascii=False
        ), key


def test_item_sizes_under_the_limit(items):
    assert max(len(encode_body(k, b).encode()) for k, b in items.items()) < MAX_ITEM_BYTES
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
