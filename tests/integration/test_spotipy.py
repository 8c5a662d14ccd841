"""spotipy, used as a new user would, against `spotrec serve` on loopback over the synthetic build
of tests/api_support.py: tuned recommendations, several audio features, and artists (artist,
artists, top tracks, related artists, seed_artists, search type=artist).

Known by construction: track i (``synthetic_track_id(i)``) has tempo 80 + i % 80, key i % 12,
and seed 0's neighbour list is tracks 6, 12, ..., 60 in that order (6 genres, top_n 10)."""

from __future__ import annotations

import pytest
import spotipy

from api_support import serve, synthetic_track_id, write_synthetic_build

# spotipy warns that Spotify closed these endpoints: that is why this project serves them.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
T = synthetic_track_id


@pytest.fixture(scope="module")
def sp(tmp_path_factory):
    build = write_synthetic_build(tmp_path_factory.mktemp("spotipy") / "build")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SPOTREC_TABLE", raising=False)
        patch.delenv("SPOTREC_BASE_URL", raising=False)
        with serve(build.path) as url:
            client = spotipy.Spotify(auth="local-token", requests_timeout=10, retries=0)
            client.prefix = f"{url}/v1/"  # spotipy's own base-URL attribute
            yield client


def ids(result: dict) -> list[str]:
    return [t["id"] for t in result["tracks"]]


def test_recommendations_with_filters(sp):
    plain = sp.recommendations(seed_tracks=[T(0)], country="GB")
    assert ids(plain)[:10] == [T(i) for i in range(6, 61, 6)]  # the 10-deep list first
    assert sorted(ids(plain)[10:]) == [T(i) for i in range(66, 120, 6)]  # then genre0's pool
    # tempo >= 100 keeps 24..60; key <= 5 then keeps the multiples of 12. The list is short of
    # 20, so genre0's pool adds its other passing tracks after them (full pools, pools.py):
    # 108 (tempo 108, loudness -13) sounds closer to the seed (80, -5) than 72 (152, -17).
    tuned = sp.recommendations(seed_tracks=[T(0)], min_tempo=100, max_key=5)
    assert ids(tuned) == [T(24), T(36), T(48), T(60), T(108), T(72)]
    seed = tuned["seeds"][0]
    assert (seed["initialPoolSize"], seed["afterFilteringSize"]) == (10 + 9, 4 + 2)


def test_a_target_re_ranks(sp):
    tuned = sp.recommendations(seed_tracks=[T(0)], min_tempo=100, max_key=5, target_tempo=140)
    # tempo 140, 128, 116, 104; then the fallback tier, re-ranked on its own: 152 before 108
    assert ids(tuned) == [T(60), T(48), T(36), T(24), T(72), T(108)]


def test_several_audio_features(sp):
    features = sp.audio_features([T(0), T(7)])
    assert [(f["id"], f["tempo"], f["key"]) for f in features] == [(T(0), 80.0, 0), (T(7), 87.0, 7)]


def test_bad_tuning_is_a_spotify_error_naming_the_parameter(sp):
    with pytest.raises(spotipy.SpotifyException) as caught:
        sp.recommendations(seed_tracks=[T(0)], min_energy=1.5)
    assert caught.value.http_status == 400 and "min_energy" in caught.value.msg


# --- artists. In this build track i is by "Artist {i % 17}" with popularity i % 101 and genre
# i % 6, so Artist 0 has tracks 0, 17, ..., 119 (8 tracks), and its best is track 85.
def artist_zero(sp) -> str:
    """Artist 0's id, found as a client would: from a track object."""
    (artist,) = sp.track(T(0))["artists"]
    assert artist["name"] == "Artist 0"
    return artist["id"]


def test_artist_and_artists(sp):
    artist = sp.artist(artist_zero(sp))
    assert (artist["name"], artist["type"], artist["popularity"]) == ("Artist 0", "artist", 85)
    assert artist["track_count"] == 8 and artist["followers"] == {"href": None, "total": 0}
    # genre0 and genre5 hold two of its tracks each, the others one
    assert artist["genres"] == ["genre0", "genre5", "genre1", "genre2", "genre3", "genre4"]
    one = sp.track(T(1))["artists"][0]["id"]
    several = sp.artists([one, artist["id"]])["artists"]
    assert [a["name"] for a in several] == ["Artist 1", "Artist 0"]


def test_artist_top_tracks_with_country(sp):
    top = sp.artist_top_tracks(artist_zero(sp), country="US")["tracks"]
    # popularity i % 101: 85, 68, 51, 34, 18 (track 119), 17, 1 (track 102), 0
    assert [t["id"] for t in top] == [T(i) for i in (85, 68, 51, 34, 119, 17, 102, 0)]


def test_artist_related_artists(sp):
    artist = artist_zero(sp)
    related = sp.artist_related_artists(artist)["artists"]
    assert 0 < len(related) <= 16 and artist not in {a["id"] for a in related}
    assert all(a["type"] == "artist" and a["name"].startswith("Artist ") for a in related)


def test_recommendations_from_an_artist_seed(sp):
    artist = artist_zero(sp)
    result = sp.recommendations(seed_artists=[artist], limit=20)
    assert result["seeds"][0]["id"] == artist and result["seeds"][0]["type"] == "ARTIST"
    assert len(result["tracks"]) == 20
    # its seed list fuses the lists of its top tracks (all 8 here), without their songs
    assert all(t["artists"][0]["name"] != "Artist 0" for t in result["tracks"])


def test_search_artists(sp):
    found = sp.search(q="artist 16", type="artist")["artists"]
    assert [a["name"] for a in found["items"]] == ["Artist 16"] and found["total"] == 1
    both = sp.search(q="artist 16", type="track,artist")
    assert both["artists"]["items"][0]["name"] == "Artist 16"
    assert {t["artists"][0]["name"] for t in both["tracks"]["items"]} == {"Artist 16"}
