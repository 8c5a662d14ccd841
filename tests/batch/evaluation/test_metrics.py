"""Every metric on tiny hand-made tables whose values are worked out by hand below."""

from __future__ import annotations

import numpy as np
import pytest
from eval_tables import SIX_LISTS, SIX_TRACKS, make_neighbours, make_tracks

from spotrec import schema
from spotrec.evaluation import metrics as m


@pytest.fixture
def six():
    return make_tracks(SIX_TRACKS), make_neighbours(SIX_LISTS)


def test_genre_precision_counts_missing_slots_and_multi_genre_seeds(six):
    tracks, neighbours = six
    # A [B pop, C, D rock] -> 2/3 (A is pop+rock); B [C, A pop] -> 1/3 (short list, /k);
    # C 0; D [A rock, B, C] -> 1/3; E 0; F 0.  Mean = (2/3 + 1/3 + 1/3) / 6 = 2/9.
    assert m.genre_precision_at_k(tracks, neighbours, k=3) == pytest.approx(2 / 9)
    # k = 1: A yes, B no, C no, D yes, E no, F no.
    assert m.genre_precision_at_k(tracks, neighbours, k=1) == pytest.approx(2 / 6)


def test_mrr(six):
    tracks, neighbours = six
    # First genre hit: A rank 1, B rank 2, C none, D rank 1, E none, F none.
    assert m.mrr_at_k(tracks, neighbours, k=3) == pytest.approx((1 + 1 / 2 + 1) / 6)


def test_seeds_mask_restricts_per_seed_metrics_only(six):
    tracks, neighbours = six
    only_a_b = tracks[schema.TRACK_ID].isin(["A", "B"]).to_numpy()
    assert m.genre_precision_at_k(tracks, neighbours, 3, only_a_b) == pytest.approx(1 / 2)
    assert m.mrr_at_k(tracks, neighbours, 3, only_a_b) == pytest.approx(3 / 4)
    result = m.evaluate(tracks, neighbours, k=1, seeds_mask=only_a_b)
    assert result["seeds"] == 2
    assert result["genre_precision"] == pytest.approx(1 / 2)  # A->B pop yes, B->C no
    # Coverage still looks at every list: top-1 = B, C, F, A, A, C -> 4 of 6 tracks.
    assert result["coverage"] == pytest.approx(4 / 6)


def test_same_artist_skips_variants_and_tracks_without_artists(six):
    tracks, neighbours = six
    # A: B (X) yes. B: A (X, other song) yes. C: F (Y) yes. D: no artists -> no.
    # E: A shares X but is E's variant -> no; B (X) -> yes. F: C (Y) yes.  -> 5/6.
    assert m.same_artist_at_k(tracks, neighbours, k=3) == pytest.approx(5 / 6)
    # k = 1: A yes (B), B no (C), C yes (F), D no, E no (A is a variant), F yes (C).
    assert m.same_artist_at_k(tracks, neighbours, k=1) == pytest.approx(3 / 6)


def test_tracks_with_empty_artists_never_match_each_other():
    tracks = make_tracks(
        [
            {"id": "P", "genres": ["pop"], "artists": [], "song": "p"},
            {"id": "Q", "genres": ["pop"], "artists": [""], "song": "q"},
        ]
    )
    neighbours = make_neighbours({"P": ["Q"], "Q": ["P"]})
    assert m.same_artist_at_k(tracks, neighbours, k=1) == 0.0


def test_coverage_and_hubness(six):
    tracks, neighbours = six
    # Top-3 occurrences: A in B,C,D,E,F lists = 5; B in A,D,E = 3; C in A,B,D,F = 4;
    # D in A,C = 2; E in F = 1; F in C,E = 2.
    counts = np.array([5, 3, 4, 2, 1, 2], dtype=float)
    np.testing.assert_array_equal(m.k_occurrence(tracks, neighbours, k=3), counts)
    assert m.coverage_at_k(tracks, neighbours, k=3) == 1.0
    centred = counts - counts.mean()  # mean 17/6
    expected_skew = np.mean(centred**3) / np.mean(centred**2) ** 1.5
    skew, top = m.hubness(tracks, neighbours, k=3)
    assert skew == pytest.approx(expected_skew)
    assert skew > 0  # one hub (A) and a long tail: positive skew
    assert top == 5


def test_hubness_is_zero_when_every_track_appears_equally():
    tracks = make_tracks([{"id": t, "genres": ["pop"], "artists": [t], "song": t} for t in "ABC"])
    neighbours = make_neighbours({"A": ["B"], "B": ["C"], "C": ["A"]})
    assert m.hubness(tracks, neighbours, k=1) == (0.0, 1)


def test_intra_list_diversity_on_known_geometry():
    # After standardizing, only danceability and energy vary, giving unit vectors
    # T0 = (1, 0), T1 = (-1, 0), T2 = (0, 1), T3 = (0, -1).
    values = [(0.6, 0.5), (0.4, 0.5), (0.5, 0.6), (0.5, 0.4)]
    tracks = make_tracks(
        [
            {
                "id": f"T{i}",
                "genres": ["pop"],
                "artists": ["X"],
                "song": f"s{i}",
                "features": {"danceability": d, "energy": e},
            }
            for i, (d, e) in enumerate(values)
        ]
    )
    neighbours = make_neighbours(
        {
            "T0": ["T1", "T2"],  # 1 - cos(T1, T2) = 1
            "T1": ["T0"],  # one neighbour: no pairs, left out of the mean
            "T2": ["T3", "T0", "T1"],  # pair distances 1, 1, 2 -> 4/3
            "T3": ["T0", "T1"],  # opposite vectors: 2
        }
    )
    expected = (1 + 4 / 3 + 2) / 3
    assert m.intra_list_diversity(tracks, neighbours, k=3) == pytest.approx(expected)


def test_variant_rate_and_violations(six):
    tracks, neighbours = six
    # E lists A (its own variant); F lists A then E, two tracks of song s1.
    assert m.variant_rate(tracks, neighbours) == pytest.approx(2 / 6)
    found = m.variant_violations(tracks, neighbours)
    got = sorted(
        zip(
            found[schema.NB_TRACK_ID],
            found[schema.NB_RANK],
            found[schema.NB_NEIGHBOUR_ID],
            found["violation"],
            strict=True,
        )
    )
    assert got == [("E", 1, "A", "seed_variant"), ("F", 3, "E", "duplicate_song")]
    assert set(found.columns) == {*schema.NEIGHBOUR_COLUMNS, "violation"}


def test_clean_table_has_no_violations(six):
    tracks, _ = six
    clean = make_neighbours({"A": ["B", "C"], "B": ["A", "C"], "C": ["A", "B"]})
    assert m.variant_rate(tracks, clean) == 0.0
    assert m.variant_violations(tracks, clean).empty


def test_evaluate_matches_the_single_metrics(six):
    tracks, neighbours = six
    result = m.evaluate(tracks, neighbours, k=3)
    assert set(m.METRIC_INFO) <= set(result)
    assert result["genre_precision"] == pytest.approx(2 / 9)
    assert result["mrr"] == pytest.approx(2.5 / 6)
    assert result["same_artist"] == pytest.approx(5 / 6)
    assert result["coverage"] == 1.0
    assert result["hubness_max"] == 5
    assert result["variant_rate"] == pytest.approx(2 / 6)
    assert result["seeds"] == 6 and result["seeds_without_list"] == 0


def test_a_track_without_a_list_scores_zero(six):
    tracks, neighbours = six
    without_a = neighbours[neighbours[schema.NB_TRACK_ID] != "A"]
    result = m.evaluate(tracks, without_a, k=3)
    assert result["seeds_without_list"] == 1
    assert result["genre_precision"] == pytest.approx((1 / 3 + 1 / 3) / 6)


def test_encoded_inputs_and_unsorted_tables_give_the_same_answer(six):
    tracks, neighbours = six
    catalogue = m.Catalogue.from_tracks(tracks)
    shuffled = neighbours.sample(frac=1.0, random_state=3)
    lists = m.NeighbourLists.from_frame(catalogue, shuffled)
    assert m.evaluate(catalogue, lists, k=3) == m.evaluate(tracks, neighbours, k=3)
    # Same lists as an exact_top_n-style index matrix (row order = tracks, -1 = empty slot).
    position = {t: i for i, t in enumerate(tracks[schema.TRACK_ID])}
    indices = np.full((6, 3), -1)
    for seed, ids in SIX_LISTS.items():
        indices[position[seed], : len(ids)] = [position[t] for t in ids]
    from_matrix = m.NeighbourLists.from_indices(indices)
    assert m.evaluate(catalogue, from_matrix, k=3) == m.evaluate(tracks, neighbours, k=3)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda nb: nb.assign(neighbour_id=nb["neighbour_id"].replace("B", "nope")),
            "not in the catalogue",
        ),
        (lambda nb: nb.assign(rank=1), "repeats a \\(track_id, rank\\) pair"),
        (lambda nb: nb.assign(rank=0), "ranks must be >= 1"),
        (lambda nb: nb.drop(columns=["rank"]), "lacks column"),
    ],
)
def test_bad_neighbour_tables_are_named_errors(six, mutate, message):
    tracks, neighbours = six
    with pytest.raises(m.MetricInputError, match=message):
        m.evaluate(tracks, mutate(neighbours))


def test_bad_tracks_and_masks_are_named_errors(six):
    tracks, neighbours = six
    with pytest.raises(m.MetricInputError, match="seeds_mask"):
        m.evaluate(tracks, neighbours, seeds_mask=np.ones(5, dtype=bool))
    with pytest.raises(m.MetricInputError, match="duplicate track_id"):
        m.evaluate(tracks.assign(track_id="A"), neighbours)
    with pytest.raises(m.MetricInputError, match="lists of strings"):
        m.evaluate(tracks.assign(genres="pop"), neighbours)
