"""Artist routes through the handler with real API Gateway events (tests/events/artist*.json),
over the hand-made release of lambda_fixtures.py. Expected answers follow from its tracks and
its "cosine" lists (the default model); the maths of related artists and artist seed lists is
checked on a planted build in tests/batch/writers/test_artist_items.py."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from lambda_fixtures import (
    A2,
    H2,
    LAMBDA_CONTEXT,
    UNKNOWN,
    A,
    B,
    C,
    E,
    load_event,
    release_items,
    response_headers,
    with_path,
    with_query,
)

from spotrec_serving.names import artist_id
from spotrec_serving.openapi import openapi_document

BEYONCE, ADELE, JAYZ, BEATLES, CRANBERRIES = (
    artist_id(n) for n in ("Beyoncé", "Adele", "JAY-Z", "The Beatles", "The Cranberries")
)
BASE = "https://1234567890.execute-api.us-east-1.amazonaws.com/prod"


def conforms(body: dict, schema_name: str) -> bool:
    """The body is valid against the OpenAPI document's schema (refs resolved in the document)."""
    document = openapi_document()
    root = {"components": document["components"], "$ref": f"#/components/schemas/{schema_name}"}
    return Draft202012Validator(root).is_valid(body)


def test_one_artist_in_spotifys_shape(handler):
    status, body, _ = handler(load_event("artist"))
    assert status == 200
    assert body == {
        "external_urls": {},
        "followers": {"href": None, "total": 0},
        "genres": ["pop", "r-n-b"],
        "href": f"{BASE}/v1/artists/{BEYONCE}",
        "id": BEYONCE,
        "images": [],
        "name": "Beyoncé",
        "popularity": 90,  # her best track (Halo)
        "type": "artist",
        "uri": f"spotify:artist:{BEYONCE}",
        "track_count": 4,  # Halo twice (two releases), Crazy in Love, Single Ladies
    }
    assert conforms(body, "Artist")


def test_the_track_objects_artist_ids_open_the_artist(handler):
    status, track, _ = handler(load_event("track"))  # Crazy in Love: Beyoncé, JAY-Z
    assert status == 200
    for simplified in track["artists"]:
        event = with_path(load_event("artist"), f"/v1/artists/{simplified['id']}")
        status, artist, _ = handler(event)
        assert status == 200 and artist["name"] == simplified["name"]


def test_several_artists_with_null_for_unknown_ids(handler):
    ids = f"{ADELE},{UNKNOWN},{BEYONCE},{ADELE}"
    status, body, _ = handler(with_query(load_event("artists"), ids=ids))
    assert status == 200 and conforms(body, "Artists")
    assert [a and a["name"] for a in body["artists"]] == ["Adele", None, "Beyoncé", "Adele"]


def test_top_tracks_accept_and_ignore_country_and_market(handler):
    status, body, _ = handler(load_event("artist_top_tracks"))  # ?country=GB
    assert status == 200 and conforms(body, "TrackList")
    assert [t["id"] for t in body["tracks"]] == [A, C, E]  # one Halo: A2 is its re-release
    plain = handler(with_query(load_event("artist_top_tracks")))
    market = handler(with_query(load_event("artist_top_tracks"), market="ES"))
    assert plain[1] == market[1] == body


def test_related_artists_from_the_default_models_lists(handler):
    status, body, _ = handler(load_event("artist_related"))
    assert status == 200 and conforms(body, "ArtistList")
    # Beyoncé's tracks' cosine lists put JAY-Z's one track at ranks 1, 2, 2, Adele's at 3, 5, 3,
    # the Cranberries' at 3 and the Beatles' at 4 and 3 (normalised by track counts).
    assert [a["name"] for a in body["artists"]] == [
        "JAY-Z",
        "Adele",
        "The Cranberries",
        "The Beatles",
    ]


@pytest.mark.parametrize(
    ("event", "path", "status", "fragment"),
    [
        ("artist", "/v1/artists/short", 400, "invalid artist id"),
        ("artist", f"/v1/artists/{UNKNOWN}", 404, "unknown artist id"),
        ("artist_top_tracks", f"/v1/artists/{UNKNOWN}/top-tracks", 404, "unknown artist"),
        ("artist_related", "/v1/artists/bad!/related-artists", 400, "invalid artist id"),
    ],
)
def test_bad_artist_ids_are_spotify_errors(handler, event, path, status, fragment):
    got, body, _ = handler(with_path(load_event(event), path, id=path.split("/")[3]))
    assert (got, body["error"]["status"]) == (status, status)
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({}, "missing parameter 'ids'"),
        ({"ids": ",".join([ADELE] * 51)}, "too many ids in 'ids': 51"),
        ({"ids": f"{ADELE},nope"}, "invalid 'ids' entry"),
        ({"ids": f"{ADELE},"}, "empty entry"),
    ],
)
def test_bad_artist_id_lists_are_400(handler, query, fragment):
    status, body, _ = handler(with_query(load_event("artists"), **query))
    assert status == 400 and fragment in body["error"]["message"]


def test_seed_artists_recommend_the_artists_neighbourhood(handler):
    status, body, _ = handler(with_query(load_event("recommend"), seed_artists=ADELE))
    assert status == 200 and conforms(body, "Recommendations")
    # Adele's top tracks B, D, F; only B has a cosine list [D H2 C A F], without her own songs
    assert [t["id"] for t in body["tracks"]] == [H2, C, A]
    assert body["seeds"] == [
        {
            "id": ADELE,
            "type": "ARTIST",
            "href": f"{BASE}/v1/artists/{ADELE}",
            "initialPoolSize": 3,
            "afterFilteringSize": 3,
            "afterRelinkingSize": 3,
        }
    ]


def test_seed_artists_mix_with_tracks_and_count_within_five(handler):
    status, body, _ = handler(
        with_query(load_event("recommend"), seed_tracks=B, seed_artists=f"{BEYONCE},{JAYZ}")
    )
    assert status == 200
    assert [(s["id"], s["type"]) for s in body["seeds"]] == [
        (B, "TRACK"),
        (BEYONCE, "ARTIST"),
        (JAYZ, "ARTIST"),
    ]
    six = with_query(
        load_event("recommend"),
        seed_tracks=f"{A},{B},{C}",
        seed_artists=f"{ADELE},{BEYONCE}",
        seed_genres="pop",
    )
    status, body, _ = handler(six)
    assert status == 400 and "too many seeds: 6" in body["error"]["message"]


@pytest.mark.parametrize(
    ("seed_artists", "status", "fragment"),
    [
        (UNKNOWN, 404, "unknown artist id(s)"),
        ("short", 400, "invalid 'seed_artists' entry"),
        (f"{ADELE},{ADELE}", 400, "duplicate entry in seed_artists"),
    ],
)
def test_bad_seed_artists(handler, seed_artists, status, fragment):
    got, body, _ = handler(with_query(load_event("recommend"), seed_artists=seed_artists))
    assert got == status and fragment in body["error"]["message"]


def test_search_artists_by_their_own_name(handler):
    query = with_query(load_event("search"), q="the be", type="artist")
    status, body, _ = handler(query)
    assert status == 200 and conforms(body, "SearchResult") and set(body) == {"artists"}
    page = body["artists"]
    assert [a["id"] for a in page["items"]] == [BEATLES] and page["total"] == 1
    assert "type=artist" in page["href"]
    # "the" alone: both "The" artists, most popular first (the Cranberries' Zombie is 95)
    status, body, _ = handler(with_query(load_event("search"), q="the", type="artist"))
    assert [a["id"] for a in body["artists"]["items"]] == [CRANBERRIES, BEATLES]
    # a track title is not an artist name
    status, body, _ = handler(with_query(load_event("search"), q="halo", type="artist"))
    assert status == 200 and body["artists"]["items"] == [] and body["artists"]["total"] == 0


def test_search_tracks_and_artists_together(handler):
    status, body, _ = handler(with_query(load_event("search"), q="beyonce", type="track,artist"))
    assert status == 200 and conforms(body, "SearchResult")
    assert [a["name"] for a in body["artists"]["items"]] == ["Beyoncé"]
    assert [t["id"] for t in body["tracks"]["items"]] == [A, C, E, A2]  # by popularity


@pytest.fixture
def pre_artist_handler(tmp_path, monkeypatch):
    """The handler over the same release written without artist items (an older schema-2
    release: META has no ``artists``)."""
    import json

    from spotrec.writers.sqlite import write_store

    items = [
        (key, {k: v for k, v in body.items() if k != "artists"} if key == "META" else body)
        for key, body in release_items()
        if not key.startswith(("A#", "AS#"))
    ]
    monkeypatch.setenv("SPOTREC_STORE", str(write_store(tmp_path, items)))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    import app

    def invoke(event):
        response = app.lambda_handler(event, LAMBDA_CONTEXT)
        return response["statusCode"], json.loads(response["body"]), response_headers(response)

    return invoke


def test_a_release_without_artists_says_so_and_serves_the_rest(pre_artist_handler):
    status, body, _ = pre_artist_handler(load_event("artist"))
    assert status == 404 and "published without artists" in body["error"]["message"]
    status, body, _ = pre_artist_handler(with_query(load_event("recommend"), seed_artists=ADELE))
    assert status == 404 and "unknown artist" in body["error"]["message"]
    assert pre_artist_handler(load_event("track"))[0] == 200


def test_seed_artists_in_a_session(store_file, tmp_path):
    """A session-aware request with an artist seed (a new session: nothing to react to yet)."""
    from spotrec_serving.recommend import RecommendationRequest, recommend
    from spotrec_serving.sqlite_event_store import SqliteEventStore
    from spotrec_serving.sqlite_store import SqliteStore

    request = RecommendationRequest(seed_artists=(ADELE,), session_id="listener-0001")
    events = SqliteEventStore(tmp_path / "events.sqlite")
    result = recommend(SqliteStore(store_file), BASE, request, events)
    assert [t["id"] for t in result["tracks"]] == [H2, C, A]
    assert result["seeds"][0]["type"] == "ARTIST"


def test_artist_seed_reasons_name_the_artist_not_its_id(handler):
    status, body, _ = handler(with_query(load_event("recommend"), seed_artists=BEYONCE))
    assert status == 200 and conforms(body, "Recommendations")
    reasons = [r for t in body["tracks"] for r in t["reasons"]]
    assert reasons and all(r["seed"] == BEYONCE and r["seed_type"] == "ARTIST" for r in reasons)
    assert all(r["text"].startswith("From “Beyoncé”: ") for r in reasons)
    # a shared genre can only be one of hers (pop, r-n-b), read from her A# item
    for reason in reasons:
        if "shared_genre" in reason["kinds"]:
            assert "pop" in reason["text"] or "r-n-b" in reason["text"]
