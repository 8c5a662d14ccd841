"""The blend: fuse the neighbour lists of several models into one list per track.

Weighted reciprocal rank fusion, as defined once in spotrec_serving.fusion (the API merges the
seeds' lists with the same code); here it is vectorised over the whole catalogue, and a test
checks it equals ``fusion.fuse_ranked_lists`` list by list. A candidate's fused
score for a seed is ``sum over models m of weight_m / (k + rank_m)``, summed over the models
whose list holds it. Rank-based, so the models' score scales (cosines of different embeddings)
need no calibration. ``k = 60`` is the paper's value: it damps the gap between rank 1 and 2 so
that agreement between models counts more than one model's first place.

Fusion happens per **song**, not per track: if one model lists variant A of a song and another
lists variant B, that is agreement on the song; its contributions add up and the variant with
the larger single contribution represents it. So the output obeys the neighbours contract: no
seed, no variant of the seed, never two tracks of one song, sorted by rank, scores
non-increasing.

Length: candidates are the union of the models' lists (their top ``depth`` ranks; all ranks by
default), so a fused list is ``top_n`` long whenever any input list is. With a ``depth``
smaller than ``top_n`` the fused candidates can be fewer than ``top_n``; the list is then filled
from the best single model (the highest weight) in its own rank order, after every fused
candidate.

Weights: DEFAULT_WEIGHTS when the blend fuses cosine and the transformer (the build's
default; the autoencoder may be there too), else every model counts 1 unless ``weights`` says
otherwise. They were chosen on held-out listening (scripts/tune_blend.py; grid, protocol and
rule in docs/colistening.md): the transformer carries the list; every cosine weight up to 0.5
and every autoencoder weight tried tie within noise (cosine 1 costs ~15 %), so cosine keeps
0.25 (its old value, which kept coverage up and hubness down on the genre guardrails) and the
autoencoder gets 0.5, its best weight at both depths measured, instead of the old 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.models.fusion_rows import column_orders, fuse_block
from spotrec_serving.fusion import RRF_K, rrf_score

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS: dict[str, float] = {"cosine": 0.25, "autoencoder": 0.5, "transformer": 1.0}


class BlendInputError(ValueError):
    """The neighbour frames cannot be fused (unknown track, self or variant in a list, ...)."""


def _as_song_series(song_ids: Mapping | pd.Series) -> pd.Series:
    series = song_ids if isinstance(song_ids, pd.Series) else pd.Series(dict(song_ids))
    if series.index.has_duplicates:
        raise BlendInputError("song_ids maps some track_id more than once")
    return series.astype(str)


def _resolve_weights(names: list[str], weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        # The tuned weights apply to the default models (cosine + transformer) with or without
        # the autoencoder (built only on request); any other mix counts 1 each.
        shipped = set(names) <= set(DEFAULT_WEIGHTS) and {"cosine", "transformer"} <= set(names)
        weights = {name: DEFAULT_WEIGHTS[name] for name in names} if shipped else {}
    weights = dict(weights)
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise BlendInputError(f"weights for models not given to the blend: {unknown}")
    resolved = {name: float(weights.get(name, 1.0)) for name in names}
    if any(w < 0 for w in resolved.values()) or not any(w > 0 for w in resolved.values()):
        raise BlendInputError(f"blend weights must be >= 0 and not all 0, got {resolved}")
    return resolved


def blend_neighbours(
    frames: Mapping[str, pd.DataFrame],
    song_ids: Mapping | pd.Series,
    top_n: int,
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
    depth: int | None = None,
) -> pd.DataFrame:
    """One fused long-format neighbours frame (schema.NEIGHBOUR_COLUMNS) from per-model frames.

    ``song_ids`` maps every catalogue track_id to its song_id. ``depth`` limits the ranks of
    each model that take part in the fusion (None = all).
    """
    if not frames:
        raise BlendInputError("blend needs at least one model's neighbours")
    if top_n < 1 or k < 1:
        raise BlendInputError(f"top_n and k must be >= 1, got top_n={top_n}, k={k}")
    names = list(frames)
    weight_of = _resolve_weights(names, weights)
    primary = max(names, key=lambda m: (weight_of[m], -names.index(m)))
    songs = _as_song_series(song_ids)
    track_code = pd.Index(songs.index)
    song_code = pd.factorize(songs.to_numpy())[0]

    parts = []
    for order, name in enumerate(names):
        frame = frames[name]
        missing = [c for c in schema.NEIGHBOUR_COLUMNS if c not in frame.columns]
        if missing:
            raise BlendInputError(f"model {name!r} frame lacks column(s) {missing}")
        seed = track_code.get_indexer(frame[schema.NB_TRACK_ID])
        neighbour = track_code.get_indexer(frame[schema.NB_NEIGHBOUR_ID])
        unknown = (seed < 0) | (neighbour < 0)
        if unknown.any():
            first = frame[unknown].iloc[0]
            raise BlendInputError(
                f"model {name!r}: {int(unknown.sum())} row(s) name tracks without a song_id "
                f"(first: {first[schema.NB_TRACK_ID]} -> {first[schema.NB_NEIGHBOUR_ID]})"
            )
        if (song_code[seed] == song_code[neighbour]).any():
            raise BlendInputError(f"model {name!r} lists a seed itself or a variant of it")
        rank = frame[schema.NB_RANK].to_numpy(dtype=np.int64)
        in_depth = np.ones(len(frame), dtype=bool) if depth is None else rank <= depth
        # Candidates: in-depth entries of models with a say, plus the primary's tail (fill).
        keep = (in_depth & (weight_of[name] > 0)) | ((name == primary) & ~in_depth)
        contribution = np.where(in_depth, rrf_score(rank, weight_of[name], k), 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "seed": seed[keep],
                    "song": song_code[neighbour[keep]],
                    "neighbour": neighbour[keep],
                    "contribution": contribution[keep],
                    "fill_rank": np.where(in_depth, 0, rank)[keep],
                    "best_rank": rank[keep],
                    "model_order": order,
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)

    # Representative track of each (seed, song): the one with the largest single contribution.
    rows = rows.sort_values(
        ["seed", "song", "contribution", "model_order", "best_rank"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )
    fused = rows.groupby(["seed", "song"], sort=False).agg(
        neighbour=("neighbour", "first"),
        score=("contribution", "sum"),
        best_rank=("best_rank", "min"),
        fill_rank=("fill_rank", "max"),
    )
    fused["filled"] = fused["score"] == 0.0
    fused.loc[fused["filled"], "score"] = rrf_score(fused["fill_rank"], weight_of[primary], k)
    fused = fused.reset_index().sort_values(
        ["seed", "filled", "score", "best_rank", "neighbour"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )
    fused["rank"] = fused.groupby("seed").cumcount() + 1
    fused = fused[fused["rank"] <= top_n]
    # Filled entries come after every fused one; keep scores non-increasing down each list.
    score = fused.groupby("seed")["score"].cummin()
    log.info(
        "blend: %d seeds from %s (k=%d, weights %s), %d filled slots",
        fused["seed"].nunique(),
        names,
        k,
        weight_of,
        int(fused["filled"].sum()),
    )
    ids = track_code.to_numpy()
    return pd.DataFrame(
        {
            schema.NB_TRACK_ID: ids[fused["seed"].to_numpy()].astype(str),
            schema.NB_RANK: fused["rank"].to_numpy(dtype=np.int32),
            schema.NB_NEIGHBOUR_ID: ids[fused["neighbour"].to_numpy()].astype(str),
            schema.NB_SCORE: score.to_numpy(dtype=np.float32),
        },
        columns=list(schema.NEIGHBOUR_COLUMNS),
    )


def fuse_index_lists(
    indices: Mapping[str, np.ndarray],
    song_codes: np.ndarray,
    top_n: int,
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
    chunk_rows: int = 8192,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The same fusion as blend_neighbours (all ranks, no depth), on (n, L) index matrices.

    The build's path: it never materialises string ids or a pandas groupby over every model's
    rows, so memory stays at a few chunk-sized arrays (the frame version peaked above 5 GB on
    the full catalogue). ``indices[m][i]`` is row i's list from model m (catalogue rows, -1 for
    empty slots); ``song_codes`` gives each row's song as an integer. Returns ``(indices (n,
    top_n) with -1 padding, scores float32 (n, top_n) with -inf padding)``. ``rows`` fuses
    only those rows (the rest stay empty): evaluation needs only its seeds' lists.
    """
    names = list(indices)
    if not names:
        raise BlendInputError("blend needs at least one model's neighbours")
    if top_n < 1 or k < 1:
        raise BlendInputError(f"top_n and k must be >= 1, got top_n={top_n}, k={k}")
    n = len(song_codes)
    weight_rows = _row_weights(names, weights, n)
    if any(m.shape[0] != n for m in indices.values()):
        raise BlendInputError("every model's index matrix must have one row per track")
    # Dense codes 0..n-1 (any integer labels group the same), so they pack into sort keys.
    songs = np.append(pd.factorize(np.asarray(song_codes))[0].astype(np.int64), -1)
    # songs[-1]: the empty slot
    out_idx = np.full((n, top_n), -1, dtype=np.int64)
    out_score = np.full((n, top_n), -np.inf, dtype=np.float32)
    widths = [indices[m].shape[1] for m in names]
    rank = np.concatenate([np.arange(1, w + 1, dtype=np.int64) for w in widths])
    model_of = np.repeat(np.arange(len(names)), widths)
    unit = rrf_score(rank, 1.0, k)
    per_column = np.where(model_of == np.arange(len(names))[:, None], unit, 0.0)  # (models, W)
    todo = np.arange(n) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    for lo in range(0, len(todo), chunk_rows):
        here = todo[lo : lo + chunk_rows]
        cand = np.concatenate([indices[m][here] for m in names], axis=1).astype(np.int64)
        song = songs[cand]  # -1 for empty slots (cand == -1 indexes the sentinel)
        if ((song == songs[here][:, None]) & (cand >= 0)).any():
            raise BlendInputError("a model lists a seed itself or a variant of it")
        model_weights = np.stack([weight_rows[m][here] for m in names], axis=1)
        contrib = np.where(cand >= 0, model_weights[:, model_of] * unit, 0.0)
        order = column_orders(per_column, model_weights)
        out_idx[here], out_score[here] = fuse_block(cand, song, contrib, rank, order, n, top_n)
    log.info("fused %d rows from %s (k=%d)", n, names, k)
    return out_idx, out_score


def _row_weights(
    names: list[str], weights: Mapping[str, float | np.ndarray] | None, n: int
) -> dict[str, np.ndarray]:
    """Each model's weight for each row: a scalar (the blend) or one weight per track (the
    hybrid weighs co-listening by each track's evidence). Every row needs some weight > 0."""
    scalars = {m: w for m, w in (weights or {}).items() if np.ndim(w) == 0}
    arrays = {m: np.asarray(w, dtype=np.float64) for m, w in (weights or {}).items() if np.ndim(w)}
    # Per-row weights are validated below; here they only stand in as "has a say".
    given = None if weights is None else {**scalars, **{m: 1.0 for m in arrays}}
    resolved = _resolve_weights(names, given)
    rows = {m: np.full(n, resolved[m]) for m in names}
    for name, array in arrays.items():
        if name not in rows or array.shape != (n,):
            raise BlendInputError(f"per-row weights for {name!r} need one value per track")
        if (array < 0).any() or not np.isfinite(array).all():
            raise BlendInputError(f"per-row weights for {name!r} must be finite and >= 0")
        rows[name] = array
    if not np.any([rows[m] > 0 for m in names], axis=0).all():
        raise BlendInputError("some tracks have weight 0 in every model")
    return rows
