"""The hybrid's route for tracks without listening (models/hybrid.py) on planted listening
(tests/planted_listening.py): tastes cut across the genre clusters and follow the artist, and
``cold`` tracks were never played, so co-listening can never name them. Answers by construction:
* a planted content-to-listening list that ranks a cold track first for some warm seeds must
  bring it into exactly those seeds' hybrid lists, and never without the unplayed input;
* with the real transformer (content -> listening), the cold tracks that reach warm seeds'
  lists mostly share the seed's planted taste, which plain content cannot see.
"""

from __future__ import annotations

import numpy as np
import pytest

from learned_model_checks import FIT_SEED, LISTENING_SETTINGS
from planted_listening import planted_listening
from spotrec import schema
from spotrec.listening_build import HYBRID, listening_lists
from spotrec.models.blend import fuse_index_lists
from spotrec.models.colistening import CoListeningModel
from spotrec.models.cosine import CosineModel
from spotrec.models.hybrid import (
    UNPLAYED,
    UNPLAYED_SHARE_BY_DEPTH,
    evidence_weights,
    unplayed_candidates,
    unplayed_share_for,
)
from spotrec.models.transformer import TransformerModel
from spotrec.neighbours import exact_top_n

TOP_N = 50  # the build's default list depth, at which the shares were chosen


@pytest.fixture(scope="module")
def world():
    listening = planted_listening(tracks_per_cluster=100, artists_per_cluster=10, seed=4)
    song_codes = np.unique(listening.catalogue.song_ids, return_inverse=True)[1]
    colistening = CoListeningModel.for_tests().fit(listening.tracks, listening=listening.train)
    return listening, song_codes, colistening


@pytest.fixture(scope="module")
def build_dir(world, tmp_path_factory):
    """A build directory holding the fitted co-listening model, as the train stage leaves it."""
    _, _, colistening = world
    out = tmp_path_factory.mktemp("build")
    model_dir = out / schema.MODELS_DIR / "colistening"
    model_dir.mkdir(parents=True)
    colistening.save(model_dir)
    return out


def content_lists(listening, song_codes, model) -> np.ndarray:
    embeddings = model.embed(listening.tracks)
    return exact_top_n(embeddings, song_codes, TOP_N, progress=False)[0]


@pytest.fixture(scope="module")
def cosine(world):
    listening, song_codes, _ = world
    return content_lists(listening, song_codes, CosineModel().fit(listening.tracks, seed=0))


def test_unplayed_candidates_blank_played_tracks_and_prefer_content_to_listening():
    lists = np.array([[1, 2, 3, 4, -1], [0, 3, 2, 1, 4]])
    has_evidence = np.array([True, False, True, False, False])
    songs = np.array([0, 1, 2, 3, 2])  # track 4: an unplayed variant of played track 2's song
    got = unplayed_candidates({"cosine": lists[::-1], "transformer": lists}, has_evidence, songs)
    np.testing.assert_array_equal(got[UNPLAYED], [[1, -1, 3, -1, -1], [-1, 3, -1, 1, -1]])
    assert unplayed_candidates({"cosine": lists}, has_evidence, songs) == {}  # cannot place it
    weights = evidence_weights(np.array([0, 3]), ["cosine"], unplayed_share=0.5, with_unplayed=True)
    np.testing.assert_allclose(weights[UNPLAYED], [0.0, 0.5])  # unplayed seeds: content already
    shallow, deep = (UNPLAYED_SHARE_BY_DEPTH[d] for d in (50, 200))
    assert [unplayed_share_for(d) for d in (10, 50, 100, 150, 500)] == [shallow] * 3 + [deep] * 2


def test_a_planted_cold_track_reaches_exactly_the_warm_lists_that_rank_it_first(
    world, build_dir, cosine
):
    listening, song_codes, colistening = world
    cold_track = int(np.flatnonzero(listening.cold)[0])
    warm = np.flatnonzero(listening.warm)
    chosen = warm[:20]  # the warm seeds whose content-to-listening list names it first
    # The planted content-to-listening lists: cosine's, without the cold track anywhere but
    # first in the chosen seeds' lists.
    planted = np.full_like(cosine, -1)
    for row in range(len(cosine)):
        rest = cosine[row][cosine[row] != cold_track]
        planted[row, : len(rest)] = rest
        if row in chosen:
            planted[row] = np.r_[cold_track, rest[: TOP_N - 1]]
    made = listening_lists(
        build_dir, [HYBRID], {"cosine": cosine, "transformer": planted}, song_codes, TOP_N
    )
    hybrid = made[HYBRID][0]
    assert (hybrid[chosen] == cold_track).any(axis=1).all()
    assert not (hybrid[np.setdiff1d(warm, chosen)] == cold_track).any()
    # Co-listening still leads: content only breaks near-ties, so every warm list's top 10
    # comes from its evidence list's top 20.
    evidence, _ = colistening.evidence_lists(song_codes, TOP_N)
    head = (hybrid[warm, :10, None] == evidence[warm, None, :20]).any(axis=2)
    assert head.all()
    # Without the content-to-listening model there is no unplayed route: cosine cannot place it.
    plain = listening_lists(build_dir, [HYBRID], {"cosine": planted}, song_codes, TOP_N)[HYBRID]
    assert not (plain[0][warm] == cold_track).any()


def test_cold_tracks_in_warm_lists_share_the_seeds_taste(world, build_dir, cosine):
    listening, song_codes, _ = world
    model = TransformerModel(progress=False, **LISTENING_SETTINGS)
    model.fit(listening.tracks, seed=FIT_SEED, listening=listening.train)
    transformer = content_lists(listening, song_codes, model)
    lists = {"cosine": cosine, "transformer": transformer}
    hybrid = listening_lists(build_dir, [HYBRID], lists, song_codes, TOP_N)[HYBRID][0]
    warm = np.flatnonzero(listening.warm)
    picked = np.where(np.isin(hybrid[warm], np.flatnonzero(listening.cold)), hybrid[warm], -1)
    seed_of = np.broadcast_to(warm[:, None], picked.shape)[picked >= 0]
    cold_picks = picked[picked >= 0]
    assert (picked >= 0).any(axis=1).mean() > 0.9  # nearly every warm list names a cold track
    same_taste = (listening.taste[cold_picks] == listening.taste[seed_of]).mean()
    # Plain content's cold picks for the same seeds: near chance (1 / 4 tastes).
    cosine_cold = np.where(np.isin(cosine[warm], np.flatnonzero(listening.cold)), cosine[warm], -1)
    cosine_seed = np.broadcast_to(warm[:, None], cosine_cold.shape)[cosine_cold >= 0]
    cosine_taste = listening.taste[cosine_cold[cosine_cold >= 0]] == listening.taste[cosine_seed]
    assert cosine_taste.mean() < 0.45
    assert same_taste > 0.7
    # A seed nobody played gets the content blend itself: the transformer first, then cosine.
    cold = np.flatnonzero(listening.cold)
    blend, _ = fuse_index_lists(lists, song_codes, TOP_N)
    np.testing.assert_array_equal(hybrid[cold], blend[cold])
