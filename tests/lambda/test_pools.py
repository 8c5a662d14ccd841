"""Full pools (spotrec_serving/pools.py) on a planted catalogue, in both stores.

Planted by construction: genres rock and jazz, N tracks each; the i-th track of a genre has
energy i / N and popularity 100 - i // 2, every other feature equal (so closeness of sound is
closeness of energy). SEED (rock, energy 0.913) has a stored list only 5 deep (LIST); a
min_energy filter leaves it short, so the request must deepen from rock's pool, never jazz's.
"""

from __future__ import annotations

import json

import pytest

from spotrec.writers.items import ListsByIndex, ReleaseCatalogue, assemble_release
from spotrec.writers.sqlite import write_store
from spotrec_serving.items import genre_key, pack_list
from spotrec_serving.recommend import RecommendationRequest, recommend
from spotrec_serving.sqlite_store import SqliteStore
from spotrec_serving.tuning import Tuning

N = 150
RUN = "20240101T000000Z-pools001"
AUDIO = {
    "danceability": 0.5,
    "key": 5,
    "loudness": -6.5,
    "mode": 1,
    "speechiness": 0.05,
    "acousticness": 0.1,
    "instrumentalness": 0.0,
    "liveness": 0.2,
    "valence": 0.4,
    "tempo": 120.0,
    "time_signature": 4,
}


def tid(name: str) -> str:
    return (name + "0" * 22)[:22]


SEED, SEED_VARIANT, BOTH = tid("seed"), tid("seedv"), tid("both")
ROCK = [tid(f"r{i:03d}x") for i in range(N)]
JAZZ = [tid(f"j{i:03d}x") for i in range(N)]
ENERGY = {
    **{t: i / N for i, t in enumerate(ROCK)},
    **{t: i / N for i, t in enumerate(JAZZ)},
    SEED: 0.913,
    SEED_VARIANT: 0.913,
    BOTH: 0.2,
}
GENRES = {
    **{t: ["rock"] for t in ROCK},
    **{t: ["jazz"] for t in JAZZ},
    SEED: ["rock"],
    SEED_VARIANT: ["rock"],
    BOTH: ["jazz", "rock"],
}
POPULARITY = {
    **{t: 100 - i // 2 for i, t in enumerate(ROCK)},
    **{t: 100 - i // 2 for i, t in enumerate(JAZZ)},
    SEED: 100,
    SEED_VARIANT: 10,
    BOTH: 50,
}
IDS = [SEED, SEED_VARIANT, BOTH, *ROCK, *JAZZ]
LIST = [ROCK[15], ROCK[30], ROCK[45], ROCK[100], ROCK[120]]  # SEED's stored list (0.1 .. 0.8)


def catalogue() -> ReleaseCatalogue:
    song = {t: ("song-seed" if t in (SEED, SEED_VARIANT) else f"song-{t}") for t in IDS}
    return ReleaseCatalogue(
        ids=IDS,
        summaries=[
            [t, t[:5], ["Artist"], "Album", 200_000, False, POPULARITY[t], GENRES[t], song[t]]
            for t in IDS
        ],
        popularity=[POPULARITY[t] for t in IDS],
        genres=[sorted(GENRES[t]) for t in IDS],
        song_ids=[song[t] for t in IDS],
        features=[dict(AUDIO, energy=ENERGY[t]) for t in IDS],
    )


def release(pool_size: int = 1000, top_n: int = 5) -> list[tuple[str, dict | bytes]]:
    position = {t: i for i, t in enumerate(IDS)}
    lists = {
        position[SEED]: ([position[t] for t in LIST], [0.9 - 0.1 * r for r in range(5)]),
        position[BOTH]: ([position[JAZZ[3]]], [0.5]),
    }
    meta = {"run_id": RUN, "created": "2024-01-01T00:00:00Z", "default_model": "cosine"}
    items = dict(
        assemble_release(
            catalogue(),
            {"cosine": lambda: ListsByIndex(lists, len(IDS))},
            meta | {"top_n": top_n},
            depth=top_n,
            pool_size=pool_size,
        )
    )
    jazz_list = [position[t] for t in JAZZ[:100]]  # a genre seed's list: 100 deep
    items[genre_key("cosine", "jazz")] = pack_list(None, jazz_list, [1.0] * 100)
    return sorted(items.items(), key=lambda kv: kv[0] != "META")


class CountingStore:
    """An ItemStore that counts get_items round trips."""

    def __init__(self, store):
        self.store, self.calls = store, 0

    def current_run(self) -> str:
        return self.store.current_run()

    def get_items(self, run_id, keys):
        self.calls += 1
        return self.store.get_items(run_id, keys)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    return SqliteStore(write_store(tmp_path_factory.mktemp("pools"), release()))


@pytest.fixture(scope="module")
def dynamodb_store():
    """The same release published to DynamoDB on a moto server over HTTP (127.0.0.1)."""
    import boto3

    from aws_support import REGION, create_template_table, moto_server
    from spotrec.writers.dynamo_write import to_dynamo_item, write_items
    from spotrec_serving.dynamodb_store import DynamoDBStore

    with moto_server() as endpoint:
        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
        create_template_table(client, "pools")
        items = [to_dynamo_item(RUN, key, body, 2**31) for key, body in release()]
        write_items(client, "pools", items, workers=1)
        pointer = json.dumps({"run_id": RUN, "previous": []})
        client.put_item(
            TableName="pools",
            Item={"pk": {"S": "CURRENT"}, "run_id": {"S": RUN}, "body": {"S": pointer}},
        )
        yield DynamoDBStore("pools", client=client)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    return CountingStore(request.getfixturevalue(f"{request.param}_store"))


def ask(store, **kwargs) -> dict:
    minimums = kwargs.pop("minimums", {})
    targets = kwargs.pop("targets", {})
    tuning = Tuning(minimums=minimums, targets=targets)
    kwargs.setdefault("seed_tracks", (SEED,))
    request = RecommendationRequest(tuning=tuning, model="cosine", **kwargs)
    return recommend(store, "http://x", request)


def ids(answer: dict) -> list[str]:
    return [t["id"] for t in answer["tracks"]]


def by_closeness(tracks: list[str], energy: float) -> list[str]:
    """The fallback order: closest energy to the seed first, then the pool's popularity order."""
    return sorted(tracks, key=lambda t: (abs(ENERGY[t] - energy), -POPULARITY[t], t))


def test_a_filter_the_list_cannot_fill_falls_back_to_the_seeds_genre(store):
    answer = ask(store, minimums={"energy": 0.6})
    passing = [t for t in ROCK if ENERGY[t] >= 0.6]  # 60 rock tracks; jazz never drawn
    real = [t for t in LIST if ENERGY[t] >= 0.6]  # ROCK[100], ROCK[120]
    fallback = by_closeness([t for t in passing if t not in real], ENERGY[SEED])
    assert ids(answer) == real + fallback[:18]  # the full limit, real neighbours first
    assert all(ENERGY[t] >= 0.6 for t in ids(answer))
    scores = [t["score"] for t in answer["tracks"]]
    assert scores == sorted(scores, reverse=True)
    seed = answer["seeds"][0]
    pool = len(ROCK) + 1 - len(LIST)  # rock songs (+ BOTH) minus the seed's song and its list
    assert seed["initialPoolSize"] == len(LIST) + pool
    assert seed["afterFilteringSize"] == seed["afterRelinkingSize"] == len(passing)


def test_limit_100_with_one_seed_returns_100_without_the_seeds_variant(store):
    answer = ask(store, limit=100)
    got = ids(answer)
    assert len(got) == len(set(got)) == 100
    assert got[:5] == LIST and SEED_VARIANT not in got and SEED not in got
    assert set(got) <= set(ROCK) | {BOTH}


def test_a_warm_request_that_falls_back_costs_two_round_trips(store):
    ask(store, minimums={"energy": 0.6})  # warms META, catalogue columns and genre codes
    store.calls = 0
    assert len(ids(ask(store, minimums={"energy": 0.5}, limit=50))) == 50
    assert store.calls == 2  # seed list + pools in one read, then the picked T# items


def test_a_seed_with_two_genres_draws_from_both(store):
    answer = ask(store, seed_tracks=(BOTH,), minimums={"energy": 0.9}, limit=100)
    expected = {t for t in ROCK + JAZZ if ENERGY[t] >= 0.9} | {SEED}  # SEED: rock, 0.913
    assert set(ids(answer)) == expected


def test_a_genre_seed_is_deepened_from_its_pool_and_never_invents_tracks(store):
    answer = ask(store, seed_tracks=(), seed_genres=("jazz",), minimums={"energy": 0.9})
    assert set(ids(answer)) == {t for t in JAZZ if ENERGY[t] >= 0.9}  # 15: all there are
    assert answer["seeds"][0]["afterFilteringSize"] == 15


def test_targets_rerank_each_tier_but_real_neighbours_stay_first(store):
    answer = ask(store, minimums={"energy": 0.6}, targets={"energy": 0.95})
    got = ids(answer)
    assert got[:2] == [ROCK[120], ROCK[100]]  # the real tier, re-ranked: 0.8 is closer to 0.95
    plain = ids(ask(store, minimums={"energy": 0.6}))
    assert set(got[2:]) <= set(ROCK) - set(LIST) and len(got) == 20

    def off(tracks: list[str]) -> float:
        return sum(abs(ENERGY[t] - 0.95) for t in tracks) / len(tracks)

    assert off(got[2:]) < off(plain[2:])  # the fallback tier moved towards the target
    scores = [t["score"] for t in answer["tracks"]]
    assert scores == sorted(scores, reverse=True)


def test_per_seed_mode_is_filled_from_the_fallback_after_the_list(store):
    answer = ask(store, per_seed=10, minimums={"energy": 0.6})
    assert ids(answer)[:2] == [ROCK[100], ROCK[120]] and len(ids(answer)) == 10


def test_without_filters_a_full_list_reads_no_pools(tmp_path):
    """limit 2 of a 5-deep list: no pool is read, the seed reports its list only."""
    store = CountingStore(SqliteStore(write_store(tmp_path, release())))
    answer = ask(store, limit=2)
    assert ids(answer) == LIST[:2]
    assert answer["seeds"][0]["initialPoolSize"] == len(LIST)


def test_a_release_without_pools_returns_what_its_lists_hold(tmp_path):
    store = SqliteStore(write_store(tmp_path, release(pool_size=0)))
    answer = ask(store, minimums={"energy": 0.6})
    assert ids(answer) == [ROCK[100], ROCK[120]]
    assert answer["seeds"][0]["initialPoolSize"] == len(LIST)


def test_a_track_inside_the_quantisation_bound_costs_no_extra_read(store):
    """A floor a hair above ROCK[100]'s energy: its 16-bit code cannot tell, so the exact T#
    value decides; the read of the picked tracks already holds one more, so still 2 reads."""
    ask(store, minimums={"energy": 0.6})  # warm
    store.calls = 0
    answer = ask(store, minimums={"energy": ENERGY[ROCK[100]] + 1e-9})
    assert ROCK[100] not in ids(answer) and len(ids(answer)) == 20
    assert ids(answer)[0] == ROCK[120]
    assert store.calls == 2
    passing_edge = ask(store, minimums={"energy": ENERGY[ROCK[100]] - 1e-9}, limit=5)
    assert ids(passing_edge)[:2] == [ROCK[100], ROCK[120]] and len(ids(passing_edge)) == 5


def test_a_page_the_exact_check_leaves_short_is_filled_from_the_pools(store):
    """limit 2: the list's 2 candidates fill the page by their codes, but ROCK[100] fails on its
    exact value; the fallback fills the page (one more read, only in this case)."""
    answer = ask(store, minimums={"energy": ENERGY[ROCK[100]] + 1e-9}, limit=2)
    passing = [t for t in ROCK if ENERGY[t] > ENERGY[ROCK[100]] and t not in LIST]
    assert ids(answer) == [ROCK[120], by_closeness(passing, ENERGY[SEED])[0]]


def test_genre_codes_round_trip_across_blocks():
    from spotrec_serving.pools import GenreCodes, pack_genre_codes

    first, second = [[0], [], [2, 5]], [[1, 3, 4], [7]]
    codes = GenreCodes()
    codes.add_block(pack_genre_codes(first))
    codes.add_block(pack_genre_codes(second))
    assert [codes.of(i) for i in range(5)] == first + second


def test_a_list_shorter_than_the_release_promised_reads_its_pools_late(tmp_path):
    """META says lists are 50 deep (a listening list with little evidence can be shorter): limit
    20 reads no pools up front, finds SEED's 5-deep list short, and reads them in one more call."""
    store = CountingStore(SqliteStore(write_store(tmp_path, release(top_n=50))))
    ask(store)  # warm: META, catalogue columns, genre codes
    store.calls = 0
    answer = ask(store)
    assert ids(answer)[:5] == LIST and len(ids(answer)) == 20
    assert store.calls == 3


def test_fallback_picks_carry_a_reason_from_their_seed(store):
    answer = ask(store, minimums={"energy": 0.6})
    fallback = [t for t in answer["tracks"] if t["id"] not in LIST]
    assert fallback  # the page was filled from the seed's genre pool
    for track in fallback:
        (reason,) = track["reasons"]
        real = [t for t in LIST if ENERGY[t] >= 0.6]  # what the filter left of the list
        assert reason["seed"] == SEED and reason["rank"] > len(real)
        assert "shared_genre" in reason["kinds"]  # a rock pool track of a rock seed
