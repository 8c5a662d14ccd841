"""Listening on the real catalogue: synthetic sessions over all 89,741 tracks read back in both
formats, and the cold-start holdout leaves no collaboration leak."""

from __future__ import annotations

import pytest

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.data.listening import load_listening
from spotrec.data.synth_listening import write_synthetic_listening
from spotrec.holdout import apply_holdout, collaboration_components, sample_holdout_artists

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.integration]


@pytest.fixture(scope="module")
def real_tracks(real_csv):
    return load_catalogue(real_csv).tracks


def test_synthetic_listening_over_the_real_catalogue_reads_back(real_tracks, tmp_path):
    truth = write_synthetic_listening(real_tracks, tmp_path, n_sessions=1500, seed=0)
    assert truth["catalogue_tracks"] == 89_741
    assert 0.3 * 89_741 < truth["played_tracks"] < 0.8 * 89_741
    mpd = load_listening(tmp_path / "mpd", real_tracks, max_reject_share=0.0)
    log = load_listening(tmp_path / "events.csv", real_tracks, max_reject_share=0.0)
    assert mpd.stats["sessions"] == log.stats["sessions"] == 1500
    assert mpd.stats["out_of_catalogue"] == log.stats["out_of_catalogue"] == 0
    lengths = mpd.events.groupby(schema.LS_SESSION_ID).size()
    assert 40 <= lengths.median() <= 60


def test_real_holdout_has_no_collaboration_leak(real_tracks):
    tracks = real_tracks.copy()
    keys, component, _ = collaboration_components(tracks)
    artists = sample_holdout_artists(tracks, 0.1, seed=0)
    assert 0.09 * len(keys) <= len(artists) <= 0.1 * len(keys) + 0.5
    result = apply_holdout(tracks, artists)
    held = tracks[schema.HOLDOUT].to_numpy()
    labelled = {a for names in tracks[schema.ARTISTS][~held] for a in names}
    assert sum(bool(set(names) & labelled) for names in tracks[schema.ARTISTS][held]) == 0
    assert result.tracks_held_out == int(held.sum()) > 5_000
    assert len(set(component)) < len(keys)


def test_unknown_ids_with_real_titles_match_by_name(real_tracks, tmp_path):
    import json

    from spotrec_serving.names import identity_key

    sample = real_tracks[real_tracks[schema.ARTISTS].map(len) > 0].sample(200, random_state=0)
    entries = [
        {
            "pos": pos,
            "track_uri": f"spotify:track:{i:022d}",  # well-formed, not in the catalogue
            # spacing only: upper-casing is lossy ("ı".upper() is "I"); case is unit-tested
            "track_name": f"  {name} ",
            "artist_name": f"{artists[0]}  ",
        }
        for pos, (i, name, artists) in enumerate(
            zip(range(200), sample[schema.NAME], sample[schema.ARTISTS], strict=True)
        )
    ]
    playlist = {"pid": 1, "modified_at": 1_500_000_000, "tracks": entries}
    (tmp_path / "mpd.slice.0-999.json").write_text(json.dumps({"playlists": [playlist]}))
    result = load_listening(tmp_path, real_tracks, match_names=True)
    assert result.stats["out_of_catalogue"] == 0 and result.stats["matched_by_name"] == 200
    names = dict(zip(real_tracks[schema.TRACK_ID], real_tracks[schema.NAME], strict=True))
    matched = [identity_key(names[t]) for t in result.events[schema.LS_TRACK_ID]]
    assert matched == [identity_key(n) for n in sample[schema.NAME]]
