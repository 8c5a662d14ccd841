"""Cold-start holdout by whole collaboration components: no held-out artist on a labelled track."""

from __future__ import annotations

import pandas as pd
import pytest

from spotrec import schema
from spotrec.data import synth
from spotrec.data.ingest import load_catalogue
from spotrec.holdout import apply_holdout, collaboration_components, sample_holdout_artists


def catalogue(artist_lists: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.TRACK_ID: [f"t{i}" for i in range(len(artist_lists))],
            schema.ARTISTS: artist_lists,
            schema.HOLDOUT: False,
        }
    )


# A+B share t0, so B's solo t1 would carry A's genre in B's artist profile; C-D-E is a chain.
PLANTED = [["A", "B"], ["B"], ["C", "D"], ["D", "E"], ["F"], ["G"], [], ["e"]]


def leaking_tracks(tracks: pd.DataFrame) -> int:
    """Held-out tracks that share an artist with a labelled track (the issue-7 leak)."""
    held = tracks[schema.HOLDOUT].to_numpy()
    labelled_artists = {a.casefold() for artists in tracks[schema.ARTISTS][~held] for a in artists}
    return sum(
        bool({a.casefold() for a in artists} & labelled_artists)
        for artists in tracks[schema.ARTISTS][held]
    )


def test_a_listed_artist_brings_its_whole_collaboration_component():
    tracks = catalogue(PLANTED)
    result = apply_holdout(tracks, ["a"])  # identity key: case does not matter
    assert tracks[schema.HOLDOUT].tolist() == [True, True] + [False] * 6
    assert result.artists_added_by_collaboration == 1  # B
    assert result.tracks_held_out == 2 and leaking_tracks(tracks) == 0

    result = apply_holdout(tracks, ["E", "Nobody"])  # the chain E-D-C; "e" is E's spelling
    assert tracks[schema.HOLDOUT].tolist() == [False, False, True, True, False, False, False, True]
    assert result.artists_added_by_collaboration == 2 and result.artists_not_found == ["nobody"]
    assert leaking_tracks(tracks) == 0


def test_artist_by_artist_holdout_would_have_leaked_on_the_same_catalogue():
    tracks = catalogue(PLANTED)
    tracks[schema.HOLDOUT] = [bool({"A"} & set(a)) for a in PLANTED]  # the old rule
    assert leaking_tracks(tracks) == 1  # t0's co-artist B keeps a labelled track


def test_components_link_artists_through_shared_tracks():
    keys, component, _ = collaboration_components(catalogue(PLANTED))
    by_key = dict(zip(keys, component, strict=True))
    assert by_key["a"] == by_key["b"] != by_key["c"]
    assert by_key["c"] == by_key["d"] == by_key["e"]
    assert len(set(component)) == 4  # {a,b}, {c,d,e}, {f}, {g}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_holdout_has_no_leak_and_about_the_asked_share(tmp_path, seed):
    csv = synth.write_synthetic_csv(tmp_path / "c.csv", 2000, seed=seed)
    tracks = load_catalogue(csv).tracks
    keys, component, _ = collaboration_components(tracks)
    assert len(set(component)) < len(keys)  # the synthetic catalogue has collaborations
    artists = sample_holdout_artists(tracks, 0.1, seed=seed)
    assert 0.08 * len(keys) <= len(artists) <= 0.1 * len(keys) + 0.5
    result = apply_holdout(tracks, artists)
    assert result.artists_added_by_collaboration == 0  # sampled as whole components already
    assert result.tracks_held_out > 0 and leaking_tracks(tracks) == 0
    assert sample_holdout_artists(tracks, 0.1, seed=seed) == artists  # reproducible
