"""Every bad input gets Spotify's error shape with the right status and a message naming the
problem; nothing leaks a stack trace."""

from __future__ import annotations

import pytest
from lambda_fixtures import UNKNOWN, A, B, C, D, E, F, load_event, with_path, with_query

SIX = ",".join([A, B, C, D, E, F])


def assert_error(response, status: int, fragment: str) -> None:
    got_status, body, _ = response
    assert got_status == status, body
    assert body == {"error": {"status": status, "message": body["error"]["message"]}}
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize(
    ("event_name", "status", "fragment"),
    [
        ("bad_recommend_no_seed", 400, "at least one seed"),
        ("bad_recommend_limit", 400, "'limit': 101"),
        ("bad_track_malformed", 400, "invalid track id"),
        ("bad_track_unknown", 404, UNKNOWN),
        ("bad_search_control", 400, "control"),
        ("bad_unknown_route", 404, "no such endpoint"),
        ("bad_method", 405, "POST"),
    ],
)
def test_bad_event_files(handler, event_name, status, fragment):
    assert_error(handler(load_event(event_name)), status, fragment)


RECOMMEND_CASES = [
    ({"limit": "5"}, 400, "at least one seed"),
    ({"seed_tracks": SIX}, 400, "too many seeds: 6"),
    ({"seed_tracks": ",".join([A, B, C]), "seed_genres": "pop,rock,soul"}, 400, "too many seeds"),
    ({"seed_tracks": "abc"}, 400, "invalid track id 'abc'"),
    ({"seed_tracks": f"{A},"}, 400, "empty entry"),
    ({"seed_tracks": f"{A},{A}"}, 400, "duplicate"),
    ({"seed_tracks": UNKNOWN}, 404, UNKNOWN),
    ({"seed_tracks": A, "limit": "0"}, 400, "'limit': 0"),
    ({"seed_tracks": A, "limit": "101"}, 400, "'limit': 101"),
    ({"seed_tracks": A, "limit": "ten"}, 400, "not an integer"),
    ({"seed_tracks": A, "limit": "2.5"}, 400, "not an integer"),
    ({"seed_tracks": A, "limit": ["5", "6"]}, 400, "given 2 times"),
    ({"seed_tracks": A, "per_seed": "0"}, 400, "'per_seed': 0"),
    ({"seed_tracks": A, "per_seed": "x"}, 400, "per_seed"),
    ({"seed_tracks": A, "per_seed": "2", "limit": "5"}, 400, "not both"),
    ({"seed_tracks": A, "model": "nope"}, 400, "unknown model 'nope'"),
    ({"seed_genres": "polka"}, 400, "unknown genre 'polka'"),
]


@pytest.mark.parametrize(("query", "status", "fragment"), RECOMMEND_CASES)
def test_bad_recommendation_requests(handler, query, status, fragment):
    assert_error(handler(with_query(load_event("recommend"), **query)), status, fragment)


SEARCH_CASES = [
    ({"type": "track"}, 400, "missing parameter 'q'"),
    ({"q": "   ", "type": "track"}, 400, "missing parameter 'q'"),
    ({"q": "x" * 201, "type": "track"}, 400, "too long"),
    ({"q": "?!.", "type": "track"}, 400, "no letters"),
    ({"q": "a\x00b", "type": "track"}, 400, "control"),
    ({"q": "halo"}, 400, "missing parameter 'type'"),
    ({"q": "halo", "type": "album"}, 400, "use track, artist or both"),
    ({"q": "halo", "type": "artist,artist"}, 400, "use track, artist or both"),
    ({"q": "halo", "type": "track", "limit": "51"}, 400, "'limit': 51"),
    ({"q": "halo", "type": "track", "offset": "1001"}, 400, "'offset': 1001"),
    ({"q": "halo", "type": "track", "offset": "-1"}, 400, "'offset': -1"),
]


@pytest.mark.parametrize(("query", "status", "fragment"), SEARCH_CASES)
def test_bad_search_requests(handler, query, status, fragment):
    assert_error(handler(with_query(load_event("search"), **query)), status, fragment)


def test_tracks_list_errors(handler):
    tracks = load_event("tracks")
    assert_error(handler(with_query(tracks)), 400, "missing parameter 'ids'")
    assert_error(handler(with_query(tracks, ids=",".join([A] * 51))), 400, "at most 50")
    assert_error(handler(with_query(tracks, ids=f"{A},bad")), 400, "'bad'")


def test_id_with_characters_outside_the_route_pattern(handler):
    event = with_path(load_event("track"), "/v1/tracks/a%zz", id="a%zz")
    assert_error(handler(event), 400, "invalid track id")


def test_other_methods_on_known_paths_are_405(handler):
    event = load_event("track")
    event["httpMethod"] = "DELETE"
    assert_error(handler(event), 405, "DELETE")


def test_audio_features_errors(handler):
    event = load_event("audio_features")
    assert_error(handler(with_path(event, "/v1/audio-features/x", id="x")), 400, "invalid")
    unknown = with_path(event, f"/v1/audio-features/{UNKNOWN}", id=UNKNOWN)
    assert_error(handler(unknown), 404, UNKNOWN)


def test_no_store_configured_is_503(handler, monkeypatch):
    monkeypatch.delenv("SPOTREC_STORE")
    assert_error(handler(load_event("genres")), 503, "no store is configured")


def test_missing_store_file_is_503(handler, monkeypatch, tmp_path):
    monkeypatch.setenv("SPOTREC_STORE", str(tmp_path / "absent.sqlite"))
    assert_error(handler(load_event("recommend")), 503, "unavailable")


def test_store_without_release_is_503(handler, monkeypatch, tmp_path):
    import sqlite3

    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (pk TEXT PRIMARY KEY, run_id TEXT, body TEXT)")
    monkeypatch.setenv("SPOTREC_STORE", str(path))
    assert_error(handler(load_event("search")), 503, "no release")


def test_unexpected_failure_is_a_bare_500(handler, monkeypatch):
    import spotrec_serving.search as search

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr("app.search_tracks", explode)
    status, body, _ = handler(load_event("search"))
    assert (status, body) == (500, {"error": {"status": 500, "message": "internal server error"}})
    assert search.search_tracks is not explode


def store_with_meta(tmp_path, meta_changes: dict):
    """The fixture release with META edited (a release another spotrec version wrote)."""
    from lambda_fixtures import release_items

    from spotrec.writers.sqlite import write_store

    items = [
        (key, {**body, **meta_changes} if key == "META" else body) for key, body in release_items()
    ]
    return write_store(tmp_path, items)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"schema": 1}, "uses item schema 1; this API reads schema 2"),
        ({"schema": 3}, "uses item schema 3"),
        ({"expires_at": 1_000_000_000}, "has expired"),
    ],
)
def test_a_release_this_code_cannot_read_is_a_503_on_every_route(
    handler, monkeypatch, tmp_path, changes, fragment
):
    monkeypatch.setenv("SPOTREC_STORE", str(store_with_meta(tmp_path, changes)))
    for event in ("recommend", "search", "genres", "track"):
        assert_error(handler(load_event(event)), 503, fragment)


def test_a_release_without_a_schema_field_is_the_old_layout_and_refused(monkeypatch, tmp_path):
    from spotrec_serving.errors import ServiceUnavailable
    from spotrec_serving.release import current_release

    class OldStore:
        def current_run(self):
            return "old-run"

        def get_items(self, run_id, keys):
            return {"META": {"run_id": run_id, "models": ["cosine"], "genres": []}}

    with pytest.raises(ServiceUnavailable, match="schema 1"):
        current_release(OldStore())
