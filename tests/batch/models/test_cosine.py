"""The cosine model and the shared features (models/features.py), on data with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from factories import planted_catalogue
from spotrec import schema
from spotrec.models.cosine import CosineModel
from spotrec.models.features import (
    AUDIO_PROFILE_COLUMNS,
    FeatureError,
    FeatureScaler,
    audio_matrix,
    genre_matrix,
    genre_vocabulary,
    raw_audio_profile,
)
from spotrec.neighbours import exact_top_n


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=5, tracks_per_cluster=30, seed=2)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


# --- features ------------------------------------------------------------------------------------
def test_audio_matrix_is_standardized(catalogue):
    matrix = audio_matrix(catalogue.tracks)
    assert matrix.dtype == np.float32
    assert matrix.shape == (len(catalogue.tracks), len(AUDIO_PROFILE_COLUMNS))
    varying = raw_audio_profile(catalogue.tracks).std(axis=0) > 0
    np.testing.assert_allclose(matrix.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(matrix.std(axis=0)[varying], 1, atol=1e-4)
    # time_signature is 4 everywhere in the factory: constant, so 0 (no division by zero).
    assert (matrix[:, AUDIO_PROFILE_COLUMNS.index("time_signature")] == 0).all()


def test_key_sits_on_a_circle_and_undetected_key_is_the_origin(catalogue):
    tracks = catalogue.tracks.head(3).copy()
    tracks["key"] = [0, 11, -1]  # C, B (one semitone from C), undetected
    raw = raw_audio_profile(tracks)
    sin, cos = (AUDIO_PROFILE_COLUMNS.index(c) for c in ("key_sin", "key_cos"))
    c_major, b, undetected = raw[:, [sin, cos]]
    assert np.linalg.norm(c_major - b) == pytest.approx(2 * np.sin(np.pi / 12))
    assert (undetected == 0).all()


def test_scaler_json_round_trip(catalogue, tmp_path):
    scaler = FeatureScaler.fit(catalogue.tracks)
    scaler.save(tmp_path / "scaler.json")
    json.loads((tmp_path / "scaler.json").read_text())
    loaded = FeatureScaler.load(tmp_path / "scaler.json")
    np.testing.assert_array_equal(
        loaded.transform(catalogue.tracks), scaler.transform(catalogue.tracks)
    )


def test_genre_matrix_hides_holdout_genres(catalogue):
    tracks = catalogue.tracks
    vocabulary = genre_vocabulary(tracks)
    assert vocabulary == sorted(vocabulary)
    matrix = genre_matrix(tracks, vocabulary)
    holdout = tracks[schema.HOLDOUT].to_numpy()
    assert holdout.any() and (matrix[holdout] == 0).all()
    visible_counts = tracks.loc[~holdout, schema.GENRES].map(len).to_numpy()
    np.testing.assert_array_equal(matrix[~holdout].sum(axis=1), visible_counts)


def test_vocabulary_ignores_genres_only_holdout_tracks_carry(catalogue):
    tracks = catalogue.tracks.copy()
    first_holdout = np.flatnonzero(tracks[schema.HOLDOUT])[0]
    tracks.at[first_holdout, schema.GENRES] = ["secret-genre"]
    assert "secret-genre" not in genre_vocabulary(tracks)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns=["tempo"]), "lacks column"),
        (lambda t: t.assign(energy=np.nan), "NaN"),
    ],
)
def test_bad_feature_input_is_a_named_error(catalogue, change, message):
    with pytest.raises(FeatureError, match=message):
        audio_matrix(change(catalogue.tracks))


def test_genre_outside_the_vocabulary_is_a_named_error(catalogue):
    with pytest.raises(FeatureError, match="not in the model's vocabulary"):
        genre_matrix(catalogue.tracks, ["genre00"])


# --- the cosine model ---------------------------------------------------------------------------
def test_genre_weight_zero_ignores_genres(catalogue):
    tracks = catalogue.tracks
    relabelled = tracks.assign(**{schema.GENRES: [["genre00"]] * len(tracks)})
    model = CosineModel(genre_weight=0.0)
    np.testing.assert_array_equal(
        model.fit(tracks).embed(tracks)[:, : len(AUDIO_PROFILE_COLUMNS)],
        CosineModel(genre_weight=0.0)
        .fit(relabelled)
        .embed(relabelled)[:, : len(AUDIO_PROFILE_COLUMNS)],
    )


def test_audio_only_tracks_of_one_genre_are_identical():
    # With the audio weight at 0 only genres remain: two single-genre tracks of the same genre
    # point the same way (cosine 1), tracks of different genres are orthogonal (cosine 0).
    catalogue = planted_catalogue(
        n_clusters=2, tracks_per_cluster=6, crossover_share=0.0, holdout=False
    )
    tracks = catalogue.tracks
    emb = (
        CosineModel(audio_weight=0.0, genre_weight=1.0, artist_weight=0.0).fit(tracks).embed(tracks)
    )
    same = np.flatnonzero(catalogue.clusters == 0)
    other = np.flatnonzero(catalogue.clusters == 1)
    assert cosine(emb[same[0]], emb[same[1]]) == pytest.approx(1.0)
    assert cosine(emb[same[0]], emb[other[0]]) == pytest.approx(0.0, abs=1e-6)


def test_multi_genre_tracks_are_not_louder_in_the_genre_block(catalogue):
    tracks = catalogue.tracks
    model = CosineModel(audio_weight=0.0, genre_weight=1.0, artist_weight=0.0).fit(tracks)
    norms = np.linalg.norm(model.embed(tracks), axis=1)
    visible = ~tracks[schema.HOLDOUT].to_numpy()
    np.testing.assert_allclose(norms[visible], 1.0, rtol=1e-5)


def test_artist_pull_brings_an_artists_tracks_together(catalogue):
    tracks = catalogue.tracks
    artist = tracks[schema.ARTISTS].str[0].to_numpy()

    def same_artist_share(model: CosineModel) -> float:
        idx, _ = exact_top_n(model.fit(tracks).embed(tracks), catalogue.song_ids, 3, progress=False)
        return float((artist[idx] == artist[:, None]).mean())

    without = same_artist_share(CosineModel(artist_weight=0.0))
    with_pull = same_artist_share(CosineModel(artist_weight=2.0))
    assert with_pull > without + 0.2


def test_centering_removes_the_catalogue_mean(catalogue):
    tracks = catalogue.tracks
    emb = CosineModel(center=True).fit(tracks).embed(tracks)
    np.testing.assert_allclose(emb.mean(axis=0), 0, atol=1e-5)


def test_unseen_artist_embeds_without_the_artist_pull(catalogue):
    tracks = catalogue.tracks
    model = CosineModel(artist_weight=1.0).fit(tracks)
    stranger = tracks.head(1).assign(**{schema.ARTISTS: [["Nobody Known"]]})
    no_pull = CosineModel(artist_weight=0.0).fit(tracks)
    np.testing.assert_allclose(model.embed(stranger), no_pull.embed(stranger), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"audio_weight": -1.0},
        {"audio_weight": 0.0, "genre_weight": 0.0, "artist_weight": 0.0},
        {"feature_weights": {"not_a_feature": 2.0}},
    ],
)
def test_bad_settings_are_named_errors(kwargs):
    with pytest.raises(ValueError):
        CosineModel(**kwargs)


def test_summary_states_the_weights(catalogue):
    summary = CosineModel(genre_weight=0.4).fit(catalogue.tracks).summary()
    assert summary["weights"]["genre_weight"] == 0.4
    assert "why" in summary
    json.dumps(summary)


def test_load_refuses_another_models_directory(catalogue, tmp_path):
    CosineModel().fit(catalogue.tracks).save(tmp_path)
    state = json.loads((tmp_path / "cosine.json").read_text())
    state["model"] = "autoencoder"
    (tmp_path / "cosine.json").write_text(json.dumps(state))
    with pytest.raises(ValueError, match="not 'cosine'"):
        CosineModel.load(tmp_path)


def test_fit_ignores_frame_index(catalogue):
    tracks = catalogue.tracks
    shuffled_index = tracks.set_axis(pd.Index(np.arange(len(tracks))[::-1] * 7))
    model = CosineModel(artist_weight=1.0)
    np.testing.assert_array_equal(
        model.fit(shuffled_index).embed(shuffled_index),
        CosineModel(artist_weight=1.0).fit(tracks).embed(tracks),
    )


def test_artist_profiles_and_pull_match_the_per_track_definition(catalogue):
    """The vectorised artist block equals, bit for bit, the definition it implements: the
    float32 mean of the profiles of each track's known artists in list order (duplicates
    counted, unseen names skipped), and each profile the mean style of the artist's tracks."""
    tracks = catalogue.tracks.copy()
    names = [list(a) for a in tracks[schema.ARTISTS]]
    names[0] = [names[1][0], names[2][0], names[3][0]]  # three artists
    names[4] = [names[5][0], "Nobody Known", names[5][0]]  # unseen name, duplicate artist
    names[6] = []  # no artist at all
    names[7] = ["", names[8][0]]  # an empty name is not an artist
    tracks[schema.ARTISTS] = names
    model = CosineModel(artist_weight=0.5).fit(tracks)
    style = model._style_blocks(tracks)

    artists = sorted({a for row in names for a in row if a})
    assert model.artists == artists
    for a in (artists[0], names[0][1], names[5][0]):
        rows = [r for r, row in enumerate(names) if a in row]
        weights = [sum(x == a for x in names[r]) for r in rows]  # a track listing it twice
        expected = np.repeat(style[rows], weights, axis=0).astype(np.float64).mean(axis=0)
        np.testing.assert_allclose(model.artist_profiles[artists.index(a)], expected, rtol=1e-6)

    block = model._artist_block(tracks)
    row_of = {a: i for i, a in enumerate(model.artists)}
    for r, row in enumerate(names):
        known = [row_of[a] for a in row if a in row_of]
        expected = model.artist_profiles[known].mean(axis=0) if known else np.zeros(block.shape[1])
        assert block[r].tobytes() == expected.astype(np.float32).tobytes(), r
    assert not block[6].any()
