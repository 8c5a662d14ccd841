"""spotipy, used as a new user would, against `spotrec serve` on loopback over the synthetic build
of tests/api_support.py: tuned recommendations and several audio features.

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
