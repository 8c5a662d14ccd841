"""Artists end to end on tests/artists_build.py's planted build: the batch table and items, then
both stores (store.sqlite, and DynamoDB on a moto server over HTTP after `spotrec publish`'s
code path) answering the artist functions identically. Every expected value is worked out by
hand from the build's neighbour lists."""

from __future__ import annotations

import math
from collections import Counter

import boto3
import pytest

from artists_build import A1, A2, A3, B1, B2, B3, C1, C2, D1, RUN_ID, write_artists_build
from aws_support import REGION, TEMPLATE, moto_server
from spotrec import schema
from spotrec.writers import aws, release
from spotrec.writers.artists import build_artist_table
from spotrec.writers.dynamo_write import PublishError
from spotrec.writers.items import count_items, item_kind, iter_release_items
from spotrec.writers.release_catalogue import load_release_catalogue
from spotrec_serving import artists
from spotrec_serving.dynamodb_store import DynamoDBStore
from spotrec_serving.items import artist_key, artist_seed_key, unpack_list
from spotrec_serving.names import artist_id
from spotrec_serving.recommend import RecommendationRequest, recommend
from spotrec_serving.sqlite_store import SqliteStore

W1, W2, W3 = 1 / 61, 1 / 62, 1 / 63  # RRF weights of ranks 1..3
ADELE, BEYONCE, JAYZ, COLDPLAY, DRAKE = (
    artist_id(n) for n in ("Adele", "Beyoncé", "JAY-Z", "Coldplay", "Drake")
)
NAMES = {ADELE: "Adele", BEYONCE: "Beyoncé", JAYZ: "JAY-Z", COLDPLAY: "Coldplay", DRAKE: "Drake"}
BASE = "http://test"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return write_artists_build(tmp_path_factory.mktemp("artists") / "build")


@pytest.fixture(scope="module")
def items(build_dir) -> dict:
    return dict(iter_release_items(build_dir))


def test_artists_sharing_a_normalised_name_are_one_artist(build_dir):
    table = build_artist_table(load_release_catalogue(build_dir))
    assert table.ids == [BEYONCE, ADELE, JAYZ, COLDPLAY, DRAKE]  # by best track's popularity
    beyonce = table.ids.index(BEYONCE)
    assert artist_id("beyoncé ") == artist_id("BEYONCÉ") == BEYONCE != artist_id("Beyonce")
    # "beyoncé " (B3) joins her: 3 tracks; her name is the spelling on her most popular track
    assert table.row(beyonce) == ["Beyoncé", 90, ["pop", "hip-hop"], 3]
    assert table.row(table.ids.index(JAYZ)) == ["JAY-Z", 70, ["hip-hop", "pop"], 1]


def test_related_artists_are_known_by_construction(items):
    def related(artist):
        ids = items[artist_key(artist)]["related"]
        return [NAMES[ids[i : i + 22]] for i in range(0, len(ids), 22)]

    # Adele's tracks' lists: A1 [C1 B1 A2], A2 [A1 C2 D1], A3 [A1 A2 C1]. Coldplay
    # (W1 + W2 + W3) / sqrt(3 * 2) = .0198 > Drake W3 / sqrt(3) = .0092 > Beyoncé W2 / 3 = .0054;
    # Adele's own tracks never make her related to herself.
    assert related(ADELE) == ["Coldplay", "Drake", "Beyoncé"]
    assert (W1 + W2 + W3) / math.sqrt(6) > W3 / math.sqrt(3) > W2 / 3
    # Beyoncé (B1 [B2 A1 D1], B2 [B1 D1 C1], B3 [B1 B2 A1]): JAY-Z (W1 + W2) / sqrt(3),
    # Drake (W3 + W2) / sqrt(3), Adele (W2 + W3) / 3, Coldplay W3 / sqrt(6).
    assert related(BEYONCE) == ["JAY-Z", "Drake", "Adele", "Coldplay"]
    # JAY-Z (B2 [B1 D1 C1]): Drake W2 > Coldplay W3 / sqrt(2) > Beyoncé W1 / sqrt(3).
    assert related(JAYZ) == ["Drake", "Coldplay", "Beyoncé"]
    assert items[artist_key(ADELE)]["top"] == A1 + A2 + A3


def test_artist_seed_list_fuses_its_top_tracks_lists(build_dir, items):
    catalogue_ids = load_release_catalogue(build_dir).ids
    ranked = unpack_list(items[artist_seed_key("cosine", ADELE)])
    # Her top tracks' lists without her top tracks' songs: A1 [C1 B1], A2 [C2 D1], A3 [C1].
    # C1 2 x W1; C2 W1; B1 and D1 tie at W2, B1 met first.
    assert [catalogue_ids[i] for i in ranked.indexes] == [C1, C2, B1, D1]
    assert ranked.seed is None
    assert [round(ranked.score(r), 4) for r in range(4)] == [
        round(v, 4) for v in (2 * W1, W1, W2, W2)
    ]


def test_counts_and_meta(build_dir, items):
    counted = Counter(item_kind(key) for key in items)
    assert counted == count_items(build_dir) == items["META"]["item_counts"]
    assert counted["A"] == counted["AS#cosine"] == items["META"]["artists"] == 5
    assert items["META"]["schema"] == 2  # artist items are optional within schema 2


def moto_target() -> aws.Target:
    return aws.Target(
        table="spotrec-artists",
        bucket="spotrec-artists-bucket",
        dynamodb=boto3.client("dynamodb", region_name=REGION),
        s3=boto3.client("s3", region_name=REGION),
        sleep=lambda _: None,
    )


def test_publish_refuses_a_release_missing_an_artist_item(build_dir):
    short = [(k, b) for k, b in iter_release_items(build_dir) if k != artist_key(DRAKE)]
    with moto_server():
        target = moto_target()
        with pytest.raises(PublishError, match="4 A items, expected 5"):
            aws.publish(build_dir, target, create_missing=True, template_path=TEMPLATE, items=short)


@pytest.fixture(scope="module", params=["sqlite", "dynamodb"])
def store(request, build_dir):
    if request.param == "sqlite":
        yield SqliteStore(build_dir / schema.STORE_FILE)
        return
    with moto_server():
        target = moto_target()
        result = aws.publish(build_dir, target, create_missing=True, template_path=TEMPLATE)
        assert result.action == "published"
        # publish verified these counts against META's before moving CURRENT
        counts = release.read_registry(target.dynamodb, target.table, RUN_ID)["counts"]
        assert counts["A"] == 5 and counts["AS#cosine"] == 5
        yield DynamoDBStore(target.table, current_ttl_seconds=0, client=target.dynamodb)


def test_artist_objects_from_the_store(store):
    artist = artists.get_artist(store, BASE, BEYONCE)
    assert artist == {
        "external_urls": {},
        "followers": {"href": None, "total": 0},
        "genres": ["pop", "hip-hop"],
        "href": f"{BASE}/v1/artists/{BEYONCE}",
        "id": BEYONCE,
        "images": [],
        "name": "Beyoncé",
        "popularity": 90,
        "type": "artist",
        "uri": f"spotify:artist:{BEYONCE}",
        "track_count": 3,
    }
    several = artists.get_artists(store, BASE, f"{DRAKE},{'x' * 22},{ADELE}")["artists"]
    assert [a and a["name"] for a in several] == ["Drake", None, "Adele"]


def test_top_tracks_and_related_from_the_store(store):
    top = artists.top_tracks(store, BASE, BEYONCE)["tracks"]
    assert [t["id"] for t in top] == [B1, B2, B3]  # most popular first
    related = artists.related_artists(store, BASE, BEYONCE)["artists"]
    assert [a["name"] for a in related] == ["JAY-Z", "Drake", "Adele", "Coldplay"]
    assert related[0]["track_count"] == 1


def test_seed_artists_return_the_artists_neighbourhood(store):
    request = RecommendationRequest(seed_artists=(ADELE,), limit=10)
    result = recommend(store, BASE, request)
    assert [t["id"] for t in result["tracks"]] == [C1, C2, B1, D1]
    assert result["seeds"] == [
        {
            "id": ADELE,
            "type": "ARTIST",
            "href": f"{BASE}/v1/artists/{ADELE}",
            "initialPoolSize": 4,
            "afterFilteringSize": 4,
            "afterRelinkingSize": 4,
        }
    ]


def test_search_finds_artists_by_their_own_name(store):
    found = artists.search_artists(store, BASE, "bey", ["bey"], 20, 0)["artists"]
    assert [a["name"] for a in found["items"]] == ["Beyoncé"] and found["total"] == 1
    # "halo" matches a track name, not an artist name
    assert artists.search_artists(store, BASE, "halo", ["halo"], 20, 0)["artists"]["total"] == 0


def random_release(seed: int, n_tracks: int = 400, depth: int = 30):
    """A random catalogue (shared artists, song variants, ties everywhere) and lists."""
    import random

    from spotrec.writers.items import ListsByIndex
    from spotrec.writers.release_catalogue import ReleaseCatalogue

    rng = random.Random(seed)
    ids = [f"t{i:021d}" for i in range(n_tracks)]
    songs = [f"s{i // 2 if i % 3 == 0 else i}" for i in range(n_tracks)]  # some variants
    artists = [rng.sample([f"Artist {a}" for a in range(40)], rng.choice([1, 1, 2])) for _ in ids]
    popularity = [rng.randrange(0, 101) for _ in ids]
    summaries = [
        [t, "x", artists[i], "", 1, False, popularity[i], ["g"], songs[i]]
        for i, t in enumerate(ids)
    ]
    catalogue = ReleaseCatalogue(
        ids, summaries, popularity, [["g"]] * n_tracks, songs, [{}] * n_tracks
    )
    lists = {}
    for i in range(n_tracks):
        others = [j for j in rng.sample(range(n_tracks), depth + 5) if songs[j] != songs[i]]
        lists[i] = (others[:depth], [1.0] * len(others[:depth]))
    return catalogue, ListsByIndex(lists, n_tracks)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_seed_lists_equal_the_one_fusion(seed):
    from spotrec.writers.artist_seed_lists import artist_seed_list, artist_seed_lists

    catalogue, table = random_release(seed)
    table_of_artists = build_artist_table(catalogue)
    expected = [
        artist_seed_list(table_of_artists, a, table, catalogue.song_ids)
        for a in range(len(table_of_artists))
    ]
    got = list(artist_seed_lists(table_of_artists, table, catalogue.song_keys()))
    assert got == expected
    assert max(len(indexes) for indexes, _ in got) == 50  # deep artists fill the list
    # Small blocks of artists (the memory bound at 1M tracks) give the same lists.
    for block_entries in (1, 37, 500):
        keys = catalogue.song_keys()
        blocked = list(artist_seed_lists(table_of_artists, table, keys, block_entries))
        assert blocked == expected


def test_seed_lists_of_a_catalogue_without_neighbour_entries():
    from spotrec.writers.artist_seed_lists import artist_seed_lists
    from spotrec.writers.items import ListsByIndex

    catalogue, _ = random_release(0, n_tracks=40)
    lists = list(artist_seed_lists(build_artist_table(catalogue), ListsByIndex({}, 40), [0] * 40))
    assert lists and all(pair == ([], []) for pair in lists)


def related_by_plain_loops(people, table) -> list[list[int]]:
    """The related-artists definition (writers/artists.py docstring) as plain loops."""
    from spotrec.writers.artists import RELATED_COUNT, RELATED_DEPTH

    related = []
    for a, tracks in enumerate(people.tracks):
        scores: dict[int, float] = {}
        for t in tracks:
            indexes, _ = table.neighbours_of(t)
            for rank, n in enumerate(indexes[:RELATED_DEPTH], start=1):
                for b in people.track_artists[n]:
                    if b != a:
                        scores[b] = scores.get(b, 0.0) + 1 / (60 + rank)
        normalised = {
            b: round(s / math.sqrt(len(tracks) * len(people.tracks[b])), 9)
            for b, s in scores.items()
        }
        order = sorted(
            normalised, key=lambda b: (-normalised[b], -people.popularity[b], people.ids[b])
        )
        related.append(order[:RELATED_COUNT])
    return related


@pytest.mark.parametrize("seed", [0, 1])
def test_related_artists_sparse_product_equals_plain_loops(seed):
    from spotrec.writers.artists import related_artists

    catalogue, table = random_release(seed, depth=60)  # deeper than RELATED_DEPTH: cut at 50
    people = build_artist_table(catalogue)
    got = related_artists(people, table)
    assert got == related_by_plain_loops(people, table)
    assert max(len(r) for r in got) == 20 and all(a not in r for a, r in enumerate(got))
    # Blocks of artist rows (the memory bound at 1M tracks) give the same answer.
    assert related_artists(people, table, block_artists=7) == got


@pytest.mark.parametrize("scale", [1.0, 1e5])  # 1e5: past the int64 key, the 4-key fallback
def test_fused_order_is_the_four_key_lexsort(scale):
    import numpy as np

    from spotrec.writers.artist_seed_lists import _fused_order

    rng = np.random.default_rng(int(scale))
    n = 5000
    art = np.sort(rng.integers(0, 40, n))
    # RRF-like sums with many exact ties and near-ties below the 12th decimal
    score = rng.integers(1, 6, n) / rng.integers(61, 64, n) * scale
    score[::5] += 1e-14
    best, entry = rng.integers(1, 51, n), rng.permutation(n)
    expected = np.lexsort((entry, best, -np.round(score, 12), art))
    assert np.array_equal(_fused_order(art, score, best, entry), expected)
