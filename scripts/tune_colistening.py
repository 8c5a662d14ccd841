"""The co-listening and hybrid grids, judged on held-out listening (docs/colistening.md).

    python scripts/tune_colistening.py [--data ../shared/data/spotify_tracks.csv.gz]
        [--sessions 5000] [--max-cases 1000] [--seed 0]

Protocol: synthetic listening with planted cross-genre tastes (data/listening/planted.py) over
the catalogue, read back through load_listening like any user's file, split by session
(split_sessions, 10% held out); every model sees only the training sessions. Held-out
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
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import skew

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.data.listening import load_listening, session_item_weights, split_sessions
from spotrec.data.listening.planted import events_log, generate_sessions
from spotrec.evaluation import listening as heldout
from spotrec.models.blend import evidence_weights, fuse_index_lists
from spotrec.models.colistening import CoListeningModel, complete_lists
from spotrec.models.cosine import CosineModel
from spotrec.neighbours import exact_top_n

REPO = Path(__file__).resolve().parents[1]
DEEP = 200  # the deepest list tried


def positions(indices: np.ndarray) -> np.ndarray:
    """-1 padding -> n padding, as evaluation/listening.neighbour_recommender reads it."""
    return np.where(indices < 0, indices.shape[0], indices)


def scores_of(indices, cases, cold_cases, song_codes) -> dict[str, float]:
    recommend = heldout.neighbour_recommender(positions(indices), song_codes)
    warm = heldout.evaluate_recommender(cases, recommend, song_codes)
    cold = heldout.evaluate_recommender(cold_cases, recommend, song_codes)
    return {**warm, "cold_ndcg": cold["ndcg"], "cold_recall": cold["recall"]}


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
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    song_codes = pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)
    planted = generate_sessions(tracks, args.sessions, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        events_log(tracks, planted).to_csv(path, index=False)
        events = load_listening([path], tracks).events
    train, held = split_sessions(events, heldout_share=0.1, seed=args.seed)
    weights = session_item_weights(train)
    cases = heldout.heldout_cases(
        held, track_ids, song_codes, max_cases=args.max_cases, seed=args.seed
    )
    warm_songs = np.unique(song_codes[pd.Index(track_ids).get_indexer(weights["track_id"])])
    cold_cases = heldout.cold_slice(cases, song_codes, warm_songs)
    print(
        f"{len(tracks):,} tracks; {train[schema.LS_SESSION_ID].nunique():,} training sessions, "
        f"{len(cases):,} held-out cases ({len(cold_cases):,} with cold targets); "
        f"{time.perf_counter() - begin:.0f} s"
    )

    cache = Path(f"/tmp/spotrec-tune-cosine-{len(tracks)}-{DEEP}.npy")
    if cache.is_file():
        cosine = np.load(cache, allow_pickle=False)
    else:
        embeddings = CosineModel().fit(tracks, seed=args.seed).embed(tracks)
        cosine, _ = exact_top_n(embeddings, song_codes, DEEP, progress=False)
        np.save(cache, cosine, allow_pickle=False)
    seeds = np.unique(np.concatenate(cases.seeds))  # only the seeds' lists are scored
    order = heldout.popularity_order(train, tracks)
    print(f"\n### Baselines and content (depth {DEEP})\n\n{HEADER}")
    for label, recommend in (
        ("most popular", heldout.most_popular_recommender(order, song_codes)),
        ("seed artists' most popular", heldout.seed_artist_recommender(tracks, order, song_codes)),
    ):
        figures = heldout.evaluate_recommender(cases, recommend, song_codes)
        cold = heldout.evaluate_recommender(cold_cases, recommend, song_codes)
        print(row(label, {**figures, "cold_ndcg": cold["ndcg"]}))
    played = np.flatnonzero(np.isin(song_codes, warm_songs))
    print(row("cosine", {**scores_of(cosine, cases, cold_cases, song_codes),
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
                **scores_of(full, cases, cold_cases, song_codes),
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
        print(row(f"top-{depth}", scores_of(full[:, :depth], cases, cold_cases, song_codes)))

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
            print(row(label, scores_of(fused, cases, cold_cases, song_codes)))
    print(f"\ntotal {time.perf_counter() - begin:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
