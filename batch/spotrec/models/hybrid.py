"""The hybrid's per-track weights: co-listening where listening says something, the
content-to-listening model where it cannot, plain content last.

The hybrid is the blend's one rank fusion (models/blend.fuse_index_lists) with a weight per
model AND per track. Its inputs, for a track with ``n`` training sessions:

* ``colistening``: the co-listening evidence list, weighed ``trust = n / (n + evidence_scale)``
  (a step, any session = full trust, when ``evidence_scale`` is 0);
* each content model (cosine, transformer, ...): its blend weight (blend.DEFAULT_WEIGHTS for
  the shipped models) x ``(1 - trust) + content_share x trust``: a track nobody played gets the
  content blend, led by the content-to-listening transformer; a much-played one gets
  co-listening with content as a tie-breaker (and the fill of a short evidence list);
* ``unplayed``: the content-to-listening model's list keeping only tracks WITHOUT listening
  evidence, weighed ``unplayed_share x trust``. Why: a co-listening list can never name a
  track nobody played, and at a small content share those tracks rank below every evidence
  entry, so a cold song never reached a warm seed's list (cold-start NDCG 0.002). This input
  lets the transformer's best unplayed guesses into every list at a set strength, without
  letting its guesses about played tracks (where co-listening knows better) move anything.

Every setting was chosen on held-out listening (scripts/tune_blend.py; docs/colistening.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from spotrec.models.blend import _resolve_weights

UNPLAYED = "unplayed"
# The models that map content into the listening space, in the order the hybrid prefers them
# as the source of unplayed candidates (plain cosine cannot place a track by listening).
CONTENT_TO_LISTENING = ("transformer", "autoencoder")

HYBRID_EVIDENCE_SCALE = 0.0  # 0 = a step: any training session gives co-listening full trust
HYBRID_CONTENT_SHARE = 0.05  # content's weight relative to co-listening at full evidence
# The unplayed candidates' weight relative to co-listening, chosen per stored list depth: in
# reciprocal rank fusion the share that lets unplayed songs in, and what they displace, depend
# on the depth (docs/colistening.md has both grids). Other depths use the nearest measured one.
UNPLAYED_SHARE_BY_DEPTH = {50: 0.6, 200: 1.0}
HYBRID_UNPLAYED_SHARE = UNPLAYED_SHARE_BY_DEPTH[50]  # the build's default depth (top_n 50)
MIN_CONTENT_SHARE = 1e-4  # content always keeps a say, so short evidence lists are filled


def unplayed_share_for(top_n: int) -> float:
    """The unplayed share chosen at the measured depth nearest ``top_n`` (by ratio; a tie goes
    to the shallower depth, whose share is the smaller, more cautious one)."""
    depths = sorted(UNPLAYED_SHARE_BY_DEPTH)
    nearest = min(depths, key=lambda d: (abs(np.log(top_n / d)), d))
    return UNPLAYED_SHARE_BY_DEPTH[nearest]


def unplayed_candidates(
    content_lists: Mapping[str, np.ndarray], has_evidence: np.ndarray, song_codes: np.ndarray
) -> dict[str, np.ndarray]:
    """{"unplayed": the first CONTENT_TO_LISTENING model's (n, L) index lists with every track
    whose SONG has listening evidence (any variant of it) blanked to -1}, or {} when no such
    model was built. By song, because the fusion is by song: an unplayed variant of a played
    song would otherwise add its weight to the played song. Blanked slots keep the others'
    ranks: a cold track's rank is its rank in the model's own list."""
    source = next((m for m in CONTENT_TO_LISTENING if m in content_lists), None)
    if source is None:
        return {}
    lists = np.asarray(content_lists[source])
    songs = np.asarray(song_codes, dtype=np.int64)
    played_songs = np.zeros(songs.max() + 1, dtype=bool)
    played_songs[songs[np.asarray(has_evidence, dtype=bool)]] = True
    unplayed = np.append(~played_songs[songs], False)  # [-1]: an empty slot stays empty
    return {UNPLAYED: np.where(unplayed[lists], lists, -1)}


def evidence_weights(
    sessions_per_track: np.ndarray,
    content_models: list[str],
    *,
    evidence_scale: float = HYBRID_EVIDENCE_SCALE,
    content_share: float = HYBRID_CONTENT_SHARE,
    unplayed_share: float = HYBRID_UNPLAYED_SHARE,
    with_unplayed: bool = False,
    content_weights: Mapping[str, float] | None = None,
    listening_model: str = "colistening",
) -> dict[str, np.ndarray]:
    """Per-track fusion weights for the hybrid (the module docstring has the formulas).
    ``with_unplayed`` adds the ``unplayed`` input's weights (see unplayed_candidates);
    ``content_weights`` overrides the content models' blend weights (tuning only)."""
    n = np.asarray(sessions_per_track, dtype=np.float64)
    trust = n / (n + evidence_scale) if evidence_scale > 0 else (n > 0).astype(np.float64)
    base = _resolve_weights(content_models, content_weights)
    top = max(base.values())
    factor = np.maximum((1.0 - trust) + content_share * trust, MIN_CONTENT_SHARE)
    weights = {listening_model: trust, **{m: base[m] / top * factor for m in content_models}}
    if with_unplayed:
        weights[UNPLAYED] = unplayed_share * trust
    return weights
