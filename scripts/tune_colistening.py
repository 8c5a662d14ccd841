"""The co-listening and hybrid grids, judged on held-out listening (docs/colistening.md).

    python scripts/tune_colistening.py [--data ../shared/data/spotify_tracks.csv.gz]
        [--sessions 5000] [--max-cases 1000] [--seed 0]

Protocol (evaluation/heldout_listening.synthetic_listening, shared with the other scripts):
synthetic listening with planted cross-genre tastes (data/listening/planted.py) over the
catalogue, read back through load_listening like any user's file, split by session (10% held
out); every model sees only the training sessions. Held-out
sessions give 5 seeds and their other tracks as targets; the 5 seeds' lists are merged as the
API merges them; R-precision, NDCG@100, recall@100 and hit@10 (evaluation/listening.py). The
cold slice scores only targets that had no training listening.

Prints: baselines; every co-listening setting (weighting x popularity discount) with coverage
and hubness of its top-10 lists; the list depth the 5-seed merge needs (50 vs 200); the hybrid
shapes (evidence scale x content share), all and cold.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from scipy.stats import skew

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.evaluation import listening as heldout
from spotrec.evaluation.heldout_listening import synthetic_listening
from spotrec.models.blend import fuse_index_lists
from spotrec.models.colistening import CoListeningModel, complete_lists
from spotrec.models.cosine import CosineModel
from spotrec.models.hybrid import evidence_weights
from spotrec.neighbours import exact_top_n

REPO = Path(__file__).resolve().parents[1]
DEEP = 200  # the deepest list tried


def list_shape(indices: np.ndarray, rows: np.ndarray, k: int = 10) -> dict[str, float]:
    """Over the given seed rows (the played tracks): coverage@10 = share of them that appear in
    some of their top-10 lists; hubness = skew and max of N10 (k-occurrence)."""
    top = indices[rows, :k]
    top = top[top >= 0]
    counts = np.bincount(top, minlength=indices.shape[0])[rows]
    return {
        "coverage": float((counts > 0).mean()),
        "hub_skew": float(skew(counts)),
        "hub_max": int(counts.max()),
    }


def row(label: str, figures: dict) -> str:
    keys = ("ndcg", "r_precision", "recall", "hit", "cold_ndcg", "coverage", "hub_skew", "hub_max")
    cells = [
        f"{figures[k]:.3f}" if isinstance(figures.get(k), float) else str(figures.get(k, ""))
        for k in keys
    ]
    return "| " + " | ".join([label, *cells]) + " |"


HEADER = (
    "| setting | NDCG@100 | R-prec | recall@100 | hit@10 | cold NDCG | coverage@10 | hub skew "
    "| max N10 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--max-cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    begin = time.perf_counter()

    tracks = load_catalogue(args.data).tracks
    world = synthetic_listening(tracks, args.sessions, seed=args.seed, max_cases=args.max_cases)
    song_codes, weights, warm_songs = world.song_codes, world.weights, world.warm_songs
    print(
        f"{len(tracks):,} tracks; {world.train[schema.LS_SESSION_ID].nunique():,} training "
        f"sessions, {len(world.cases):,} held-out cases ({len(world.cold_cases):,} with cold "
        f"targets); {time.perf_counter() - begin:.0f} s"
    )

    cache = Path(f"/tmp/spotrec-tune-cosine-{len(tracks)}-{DEEP}.npy")
    if cache.is_file():
        cosine = np.load(cache, allow_pickle=False)
    else:
        embeddings = CosineModel().fit(tracks, seed=args.seed).embed(tracks)
        cosine, _ = exact_top_n(embeddings, song_codes, DEEP, progress=False)
        np.save(cache, cosine, allow_pickle=False)
    seeds = world.seeds  # only the seeds' lists are scored
    order = heldout.popularity_order(world.train, tracks)
    print(f"\n### Baselines and content (depth {DEEP})\n\n{HEADER}")
    for label, recommend in (
        ("most popular", heldout.most_popular_recommender(order, song_codes)),
        ("seed artists' most popular", heldout.seed_artist_recommender(tracks, order, song_codes)),
    ):
        print(row(label, world.score_recommender(recommend)))
    played = np.flatnonzero(np.isin(song_codes, warm_songs))
    print(row("cosine", {**world.score(cosine),
                         **list_shape(cosine, played)}))  # fmt: skip

    print(f"\n### Co-listening (evidence, then cosine), depth {DEEP}\n\n{HEADER}")
    best, best_ndcg, evidence_of = None, -1.0, {}
    for weighting in ("bm25", "cosine"):  # tfidf sits between them (idf only, no saturation)
        for discount in (0.0, 0.25, 0.5):
            model = CoListeningModel(weighting=weighting, popularity_discount=discount)
            model.fit(tracks, listening=weights)
            evidence, _ = model.evidence_lists(song_codes, DEEP)
            full, _ = complete_lists(evidence, cosine, song_codes, DEEP, rows=seeds)
            figures = {
                **world.score(full),
                **list_shape(evidence, np.flatnonzero(model.has_evidence)),
            }
            print(row(f"{weighting}, discount {discount}", figures))
            evidence_of[(weighting, discount)] = (model, evidence)
            if figures["ndcg"] > best_ndcg:
                best, best_ndcg = (weighting, discount), figures["ndcg"]
    model, evidence = evidence_of[best]
    print(f"\nbest: {best}")

    print(f"\n### List depth for the 5-seed merge ({best})\n\n{HEADER}")
    full, _ = complete_lists(evidence, cosine, song_codes, DEEP, rows=seeds)
    for depth in (50, DEEP):
        print(row(f"top-{depth}", world.score(full[:, :depth])))

    print(f"\n### Hybrid: co-listening x cosine by evidence (depth {DEEP})\n\n{HEADER}")
    sessions = np.where(model.has_evidence, model.sessions_per_track, 0)
    for scale in (0.0, 2.0, 10.0):
        for share in (0.0, 0.05, 0.3):
            fused, _ = fuse_index_lists(
                {"colistening": evidence, "cosine": cosine},
                song_codes,
                DEEP,
                rows=seeds,
                weights=evidence_weights(
                    sessions, ["cosine"], evidence_scale=scale, content_share=share
                ),
            )
            label = f"scale {scale:g}, content {share:g}"
            print(row(label, world.score(fused)))
    print(f"\ntotal {time.perf_counter() - begin:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
