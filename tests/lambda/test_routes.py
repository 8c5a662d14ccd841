"""Every route, driven by the real API Gateway events in tests/events/."""

from __future__ import annotations

from lambda_fixtures import (
    H2,
    LAMBDA_CONTEXT,
    A,
    B,
    C,
    D,
    E,
    F,
    K,
    load_event,
    response_headers,
    with_header,
    with_path,
    with_query,
)

from spotrec_serving.names import artist_id

BASE = "https://1234567890.execute-api.us-east-1.amazonaws.com/prod"


def ids(tracks: list[dict | None]) -> list[str | None]:
    return [t and t["id"] for t in tracks]


def test_recommend_event_fuses_two_seeds(handler):
    status, body, _ = handler(load_event("recommend"))
    assert status == 200
    # Seeds A, B. After removing the seeds, A's list is C E H D and B's is D H2 C F.
    # RRF (k=60): C 1/61+1/63, D 1/64+1/61, song-h 1/63+1/62 (represented by H2, rank 2 in
    # B's list, better than H's rank 3 in A's), E 1/62, F 1/64.
    assert ids(body["tracks"]) == [C, D, H2, E, F]
    assert body["tracks"][0]["score"] == round(1 / 61 + 1 / 63, 6)


def test_cors_headers_for_the_web_page(handler):
    event = with_header(load_event("recommend"), "Origin", "http://127.0.0.1:8000")
    _, _, headers = handler(event)
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_recommend_seed_objects(handler):
    _, body, _ = handler(load_event("recommend"))
    seed_a, seed_b = body["seeds"]
    assert seed_a == {
        "id": A,
        "type": "TRACK",
        "href": f"{BASE}/v1/tracks/{A}",
        "initialPoolSize": 5,
        "afterFilteringSize": 4,  # B, a seed, removed
        "afterRelinkingSize": 4,
    }
    assert (seed_b["id"], seed_b["initialPoolSize"], seed_b["afterFilteringSize"]) == (B, 5, 4)


def artist(name: str) -> dict:
    id_ = artist_id(name)
    assert len(id_) == 22 and id_.isalnum()
    return {
        "id": id_,
        "name": name,
        "uri": f"spotify:artist:{id_}",
        "href": f"{BASE}/v1/artists/{id_}",
        "type": "artist",
    }


def test_track_object_shape(handler):
    status, body, _ = handler(load_event("track"))
    assert status == 200
    assert body == {
        "id": C,
        "name": "Crazy in Love",
        "uri": f"spotify:track:{C}",
        "type": "track",
        "href": f"{BASE}/v1/tracks/{C}",
        "external_urls": {"spotify": f"https://open.spotify.com/track/{C}"},
        "artists": [artist("Beyoncé"), artist("JAY-Z")],
        "album": {"name": "Dangerously in Love", "type": "album"},
        "duration_ms": 200_000,
        "explicit": False,
        "popularity": 80,
        "is_local": False,
        "genres": ["pop", "r-n-b"],
        "score": None,
    }


def test_tracks_unknown_id_is_null_in_place(handler):
    status, body, _ = handler(load_event("tracks"))
    assert status == 200
    assert ids(body["tracks"]) == [A, None, B]


def test_tracks_repeated_id_is_returned_twice(handler):
    _, body, _ = handler(with_query(load_event("tracks"), ids=f"{C},{C}"))
    assert ids(body["tracks"]) == [C, C]


def test_holdout_track_shows_no_genres(handler):
    _, body, _ = handler(with_path(load_event("track"), f"/v1/tracks/{K}", id=K))
    assert body["name"] == "Zombie" and body["genres"] == []


def test_audio_features(handler):
    status, body, _ = handler(load_event("audio_features"))
    assert status == 200
    assert body["id"] == C and body["type"] == "audio_features"
    assert body["tempo"] == 120.0 and body["key"] == 5 and body["duration_ms"] == 200_000
    assert body["track_href"] == f"{BASE}/v1/tracks/{C}"


def test_available_genre_seeds(handler):
    status, body, _ = handler(load_event("genres"))
    assert status == 200
    assert body["genres"] == ["pop", "r-n-b", "rock", "soul"]
    # Our addition for the web page: which models this release serves, and the default.
    assert set(body["models"]) >= {body["default_model"]}


def test_search_event_pages_beyonce(handler):
    status, body, _ = handler(load_event("search"))
    assert status == 200
    page = body["tracks"]
    # Beyoncé tracks by popularity: A 90, C 80, E 70, A2 40.
    assert ids(page["items"]) == [A, C]
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 0)
    assert page["previous"] is None
    assert page["next"] == f"{BASE}/v1/search?q=beyonce&type=track&offset=2&limit=2"


def test_base_url_from_environment(handler, monkeypatch):
    monkeypatch.setenv("SPOTREC_BASE_URL", "http://127.0.0.1:8000/")
    _, body, _ = handler(load_event("track"))
    assert body["href"] == f"http://127.0.0.1:8000/v1/tracks/{C}"


def test_cors_preflight(handler):
    event = with_header(load_event("recommend"), "Origin", "http://127.0.0.1:8000")
    event["httpMethod"] = "OPTIONS"
    from app import lambda_handler

    response = lambda_handler(event, LAMBDA_CONTEXT)
    assert response["statusCode"] == 204
    assert "GET" in response_headers(response)["Access-Control-Allow-Methods"]
