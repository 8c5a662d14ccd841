"""One contract test for every registered embedding model (models/registry.py).

A model is picked up as soon as its module exists. How the test builds a model:

* if the class has a ``for_tests()`` classmethod, that (small, fast settings);
* else, if its constructor accepts ``epochs=``, ``cls(epochs=TEST_EPOCHS)``: **learned models
  must accept an ``epochs=`` constructor kwarg**, and take their seed through
  ``fit(tracks, seed=...)`` as models/base.py says;
* else ``cls()``.

The data (tests/factories.py) plants clusters that differ in genre AND audio, with some
holdout artists whose genres are hidden; a model must put a track's nearest neighbours in its
planted cluster with recall >= CLUSTER_RECALL_AT_5.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from factories import cluster_recall, planted_catalogue
from spotrec import schema
from spotrec.models.base import EmbeddingModel
from spotrec.models.registry import (
    LISTENING_MODELS,
    get_model_class,
    implemented_embedding_models,
)
from spotrec.neighbours import exact_top_n, to_frame

TEST_EPOCHS = 5
CLUSTER_RECALL_AT_5 = 0.85
SAFE_SUFFIXES = {".json", ".npy", ".parquet", ".pt", ".faiss", ".index", ".txt", ".md"}


def new_model(name: str):
    cls = get_model_class(name)
    if hasattr(cls, "for_tests"):
        return cls.for_tests()
    if "epochs" in inspect.signature(cls).parameters:
        return cls(epochs=TEST_EPOCHS)
    return cls()


@pytest.fixture(scope="module")
def catalogue():
    return planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=11)


def neighbours_of(catalogue, embeddings: np.ndarray, top_n: int = 5):
    idx, scores = exact_top_n(embeddings, catalogue.song_ids, top_n, progress=False)
    return to_frame(catalogue.tracks[schema.TRACK_ID].to_numpy(), idx, scores)


@pytest.fixture(scope="module", params=implemented_embedding_models())
def fitted(request, catalogue):
    model = new_model(request.param).fit(catalogue.tracks, seed=7)
    return request.param, model, model.embed(catalogue.tracks)


def test_model_follows_the_protocol(fitted, catalogue):
    name, model, embeddings = fitted
    assert isinstance(model, EmbeddingModel)
    assert model.name == name
    assert embeddings.dtype == np.float32
    assert embeddings.shape[0] == len(catalogue.tracks) and embeddings.ndim == 2
    assert np.isfinite(embeddings).all()
    json.dumps(model.summary())  # JSON-able for the manifest and report


def test_neighbours_recover_the_planted_clusters(fitted, catalogue):
    _, _, embeddings = fitted
    recall = cluster_recall(catalogue, neighbours_of(catalogue, embeddings), k=5)
    assert recall >= CLUSTER_RECALL_AT_5


def test_holdout_tracks_are_placed_by_audio_alone(fitted, catalogue):
    _, _, embeddings = fitted
    holdout = catalogue.tracks[schema.HOLDOUT].to_numpy()
    assert holdout.any()
    frame = neighbours_of(catalogue, embeddings)
    seeds = set(catalogue.tracks.loc[holdout, schema.TRACK_ID])
    recall = cluster_recall(catalogue, frame[frame[schema.NB_TRACK_ID].isin(seeds)], k=5)
    assert recall >= CLUSTER_RECALL_AT_5


def test_same_seed_gives_identical_neighbours(fitted, catalogue):
    name, _, embeddings = fitted
    again = new_model(name).fit(catalogue.tracks, seed=7).embed(catalogue.tracks)
    first = neighbours_of(catalogue, embeddings)
    second = neighbours_of(catalogue, again)
    assert first[schema.NB_NEIGHBOUR_ID].tolist() == second[schema.NB_NEIGHBOUR_ID].tolist()


def test_holdout_genres_never_reach_the_model(fitted, catalogue):
    # Relabel every holdout track with another cluster's genre: a model that hides holdout
    # genres from its inputs and training targets cannot tell the difference.
    name, _, embeddings = fitted
    tracks = catalogue.tracks.copy()
    holdout = tracks[schema.HOLDOUT].to_numpy()
    tracks.loc[holdout, schema.GENRES] = tracks.loc[holdout, schema.GENRES].map(
        lambda genres: ["genre00"] if genres != ["genre00"] else ["genre01"]
    )
    relabelled = new_model(name).fit(tracks, seed=7).embed(tracks)
    np.testing.assert_array_equal(relabelled, embeddings)


def test_save_load_round_trip_without_pickle(fitted, catalogue, tmp_path: Path):
    name, model, embeddings = fitted
    model.save(tmp_path)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files, "save wrote nothing"
    for path in files:
        assert path.suffix in SAFE_SUFFIXES, f"{path.name}: not a pickle-free format"
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".pt":
            import torch

            torch.load(path, weights_only=True)
    loaded = get_model_class(name).load(tmp_path)
    np.testing.assert_array_equal(loaded.embed(catalogue.tracks), embeddings)


# --- the registry ---------------------------------------------------------------------------------
def test_registry_orders_the_blend_last_and_names_unknown_models():
    from spotrec.models.registry import UnknownModelError, parse_model_names

    assert parse_model_names("blend, cosine,cosine") == ["cosine", "blend"]
    with pytest.raises(UnknownModelError, match="knn"):
        parse_model_names("cosine,knn")
    with pytest.raises(UnknownModelError, match="fuses other models"):
        parse_model_names("blend")
    with pytest.raises(UnknownModelError, match="blend fuses"):
        get_model_class("blend")
    assert get_model_class("cosine").__name__ == "CosineModel"


# --- models learned from listening (models/base.py ListeningModel) ------------------------------
LISTENING_TOP_N = 5


@pytest.fixture(scope="module", params=sorted(LISTENING_MODELS))
def listening_fitted(request, catalogue):
    """Sessions that pair each track with its planted cluster-mates (so the answer is known)."""
    import pandas as pd

    ids = catalogue.tracks[schema.TRACK_ID].to_numpy()
    rng = np.random.default_rng(5)
    rows = []
    for s in range(300):
        members = np.flatnonzero(catalogue.clusters == s % (catalogue.clusters.max() + 1))
        for row in rng.choice(members, size=8, replace=False):
            rows.append((f"s{s}", ids[row], 1.0))
    weights = pd.DataFrame(rows, columns=["session_id", "track_id", "weight"])
    model = new_model(request.param).fit(catalogue.tracks, seed=7, listening=weights)
    return request.param, model, weights


def test_listening_model_follows_the_protocol(listening_fitted, catalogue):
    from spotrec.models.base import ListeningModel

    name, model, _ = listening_fitted
    assert isinstance(model, ListeningModel) and model.name == name
    indices, scores = model.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)
    assert indices.shape == scores.shape == (len(catalogue.tracks), LISTENING_TOP_N)
    assert indices.dtype == np.int64 and scores.dtype == np.float32
    json.dumps(model.summary())


def test_listening_model_lists_recover_the_sessions_clusters(listening_fitted, catalogue):
    _, model, _ = listening_fitted
    indices, _ = model.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)
    played = indices[:, 0] >= 0
    assert played.sum() > 0.5 * len(indices)
    lists = indices[played]
    same = catalogue.clusters[np.where(lists >= 0, lists, 0)] == catalogue.clusters[played, None]
    assert same[lists >= 0].mean() >= CLUSTER_RECALL_AT_5


def test_listening_model_is_deterministic_and_blind_to_genres(listening_fitted, catalogue):
    name, model, weights = listening_fitted
    tracks = catalogue.tracks.copy()
    tracks[schema.GENRES] = [["genre00"]] * len(tracks)  # genres are no input at all
    again = new_model(name).fit(tracks, seed=7, listening=weights)
    np.testing.assert_array_equal(
        again.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)[0],
        model.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)[0],
    )


def test_listening_model_save_load_round_trip_without_pickle(listening_fitted, catalogue, tmp_path):
    name, model, _ = listening_fitted
    model.save(tmp_path)
    for path in tmp_path.rglob("*"):
        assert path.suffix in SAFE_SUFFIXES, f"{path.name}: not a pickle-free format"
    loaded = get_model_class(name).load(tmp_path)
    np.testing.assert_array_equal(
        loaded.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)[0],
        model.evidence_lists(catalogue.song_ids, LISTENING_TOP_N)[0],
    )
