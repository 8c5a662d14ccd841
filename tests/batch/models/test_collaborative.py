"""Collaborative vectors (models/collaborative.py) on planted listening (planted_listening.py):
sessions play one planted taste each, and tastes cut across the catalogue's genre clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planted_listening import planted_listening
from spotrec import schema
from spotrec.models.collaborative import collaborative_vectors, session_track_matrix


@pytest.fixture(scope="module")
def listening():
    return planted_listening(seed=2)


@pytest.fixture(scope="module")
def vectors(listening):
    return collaborative_vectors(
        listening.train, listening.tracks[schema.TRACK_ID].to_numpy(), dim=16, seed=3
    )


def same_taste_at_k(vectors, taste, rows, k=10):
    scores = vectors[rows] @ vectors[rows].T
    np.fill_diagonal(scores, -np.inf)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float((taste[rows][top] == taste[rows][:, None]).mean())


def test_vectors_group_tracks_by_planted_taste_not_by_cluster(listening, vectors):
    values, has_evidence = vectors
    assert np.array_equal(has_evidence, listening.warm)
    rows = np.flatnonzero(has_evidence)
    assert same_taste_at_k(values, listening.taste, rows) >= 0.95
    # the genre clusters are NOT what the vectors encode (4 tastes share each cluster)
    clusters = np.asarray(listening.catalogue.clusters)
    assert same_taste_at_k(values, clusters, rows) < 0.5


def test_rows_are_unit_with_evidence_and_zero_without(listening, vectors):
    values, has_evidence = vectors
    assert values.dtype == np.float32 and values.shape == (len(listening.tracks), 16)
    np.testing.assert_allclose(np.linalg.norm(values[has_evidence], axis=1), 1.0, atol=1e-5)
    assert not values[~has_evidence].any()
    assert (~has_evidence).sum() == listening.cold.sum()  # cold tracks were never played


def test_same_seed_same_vectors_other_seed_differs(listening, vectors):
    ids = listening.tracks[schema.TRACK_ID].to_numpy()
    again, _ = collaborative_vectors(listening.train, ids, dim=16, seed=3)
    np.testing.assert_array_equal(again, vectors[0])
    other, _ = collaborative_vectors(listening.train, ids, dim=16, seed=4)
    assert not np.array_equal(other, vectors[0])


def test_skips_and_unknown_tracks_are_not_evidence():
    ids = np.array(["a", "b", "c", "d"], dtype=object)
    weights = pd.DataFrame(
        {
            "session_id": ["s1", "s1", "s2", "s2", "s3"],
            "track_id": ["a", "b", "a", "c", "not-in-catalogue"],
            "weight": np.array([1.0, 2.0, 1.0, -1.0, 1.0], dtype="float32"),
        }
    )
    values, has_evidence = collaborative_vectors(weights, ids, dim=4, seed=0)
    assert has_evidence.tolist() == [True, True, False, False]  # c was only skipped
    assert not values[2:].any()


def test_no_listening_gives_zero_rows_and_bad_input_is_named():
    ids = np.array(["a", "b"], dtype=object)
    empty = pd.DataFrame({"session_id": [], "track_id": [], "weight": []})
    values, has_evidence = collaborative_vectors(empty, ids, dim=8)
    assert values.shape == (2, 8) and not values.any() and not has_evidence.any()
    with pytest.raises(ValueError, match="weight"):
        collaborative_vectors(empty.drop(columns="weight"), ids)
    with pytest.raises(ValueError, match="dim"):
        collaborative_vectors(empty, ids, dim=0)
    with pytest.raises(ValueError, match="unique"):
        collaborative_vectors(empty, np.array(["a", "a"], dtype=object))


@pytest.mark.parametrize(
    "session_ids", [["s10", "s9", "s2", "s10", "s9", "s2", "s1", "s1"], [10, 9, 2, 10, 9, 2, 1, 1]]
)
def test_session_matrix_equals_the_row_by_row_definition(session_ids):
    """Distinct ids are looked up once; the matrix must equal converting every row to str,
    factorising the kept sessions in sorted (string) order and summing duplicates."""
    weights = pd.DataFrame(
        {
            "session_id": session_ids,
            "track_id": ["b", "a", "zz", "b", "c", "a", "a", "b"],
            "weight": [1.0, 2.0, 3.0, 0.5, -1.0, 1.0, 4.0, 0.0],
        }
    )
    track_ids = np.array(["a", "b", "c", "d"])
    matrix, evidence = session_track_matrix(weights, track_ids)
    columns = pd.Index(track_ids.astype(object)).get_indexer(weights["track_id"].astype(str))
    values = weights["weight"].to_numpy(dtype=np.float32)
    keep = (columns >= 0) & (values > 0)
    sessions, _ = pd.factorize(weights["session_id"].astype(str).to_numpy()[keep], sort=True)
    expected = np.zeros((sessions.max() + 1, len(track_ids)), dtype=np.float32)
    np.add.at(expected, (sessions, columns[keep]), values[keep])
    np.testing.assert_array_equal(matrix.toarray(), expected)
    np.testing.assert_array_equal(evidence, np.unique(columns[keep]))
    # "s1" < "s10" < "s2" < "s9": string order, also for integer ids.
    assert matrix.toarray()[0].tolist() == [4.0, 0.0, 0.0, 0.0]
