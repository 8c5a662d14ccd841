"""`spotrec build --previous`: the feature scaling of the previous build is kept while the
catalogue's statistics barely move, so existing tracks embed exactly as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue
from spotrec import schema
from spotrec.models.cosine import CosineModel
from spotrec.models.features import MAX_SCALER_DRIFT, FeatureScaler


@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return planted_catalogue(n_clusters=5, tracks_per_cluster=40, seed=3).tracks


def grown(tracks: pd.DataFrame, n: int, energy_shift: float = 0.0) -> pd.DataFrame:
    """tracks plus n copies of existing rows under new ids (their artists' other tracks)."""
    extra = tracks.head(n).copy()
    extra[schema.TRACK_ID] = [f"{i:022d}" for i in range(n)]
    extra[schema.SONG_ID] = [f"new-song-{i}" for i in range(n)]
    out = pd.concat([tracks, extra], ignore_index=True)
    out["energy"] = (out["energy"] + energy_shift).clip(0, 1)
    return out


def test_a_one_percent_change_keeps_the_previous_scaler(tracks):
    reference = FeatureScaler.fit(tracks)
    bigger = grown(tracks, 2)
    refit = FeatureScaler.fit(bigger)
    assert 0 < refit.drift_from(reference) <= MAX_SCALER_DRIFT  # moved, but only a little
    assert FeatureScaler.fit(bigger, reference) is reference
    np.testing.assert_array_equal(
        reference.transform(tracks), FeatureScaler.fit(bigger, reference).transform(tracks)
    )


def test_a_drifted_catalogue_gets_a_fresh_scaler(tracks):
    reference = FeatureScaler.fit(tracks)
    shifted = grown(tracks, 2, energy_shift=0.3)
    fitted = FeatureScaler.fit(shifted, reference)
    assert fitted is not reference
    assert fitted.drift_from(reference) > MAX_SCALER_DRIFT


def test_cosine_with_the_previous_scaler_embeds_untouched_tracks_identically(tracks):
    before = CosineModel().fit(tracks)
    bigger = grown(tracks, 2)
    carried = CosineModel()
    carried.reference_scaler = before.scaler
    carried.fit(bigger)
    fresh = CosineModel().fit(bigger)
    assert carried.summary()["scaler"] == "previous build's"
    assert fresh.summary()["scaler"] == "fitted"
    # Tracks whose artists gained no track embed exactly as before with the carried scaler,
    # and not with a refitted one.
    new_artists = {a for names in bigger.tail(2)[schema.ARTISTS] for a in names}
    untouched = tracks[[not set(names) & new_artists for names in tracks[schema.ARTISTS]]]
    assert len(untouched) > len(tracks) // 2
    np.testing.assert_array_equal(carried.embed(untouched), before.embed(untouched))
    assert not np.array_equal(fresh.embed(untouched), before.embed(untouched))
