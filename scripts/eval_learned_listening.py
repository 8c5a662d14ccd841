"""The learned models with and without listening, judged on held-out listening
(docs/learned-models.md).

    python scripts/eval_learned_listening.py [--data ../shared/data/spotify_tracks.csv.gz]
        [--sessions 5000] [--max-cases 1000] [--seed 0] [--models cosine,autoencoder,transformer]

Protocol (evaluation/heldout_listening.synthetic_listening, shared with scripts/tune_*.py):
synthetic listening with planted cross-genre tastes (data/listening/planted.py) over the
catalogue, read back through load_listening, split by session (10% held out); models see only
the training sessions.
Held-out sessions give 5 seeds and their other tracks as targets; each seed's top-100 list
(FAISS exact, variants excluded) is merged as the API merges them; R-precision, NDCG@100,
recall@100, hit@10 (evaluation/listening.py). "cold" scores only targets that had no training
listening: there, only content can place a track.

Prints one row per model and mode with its fit + embed wall time, the CPU seconds it used (all
threads; on a shared machine the wall time mostly measures the other jobs) and the process's
peak RSS so far.
"""

from __future__ import annotations

import argparse
import logging
import resource
import time
from pathlib import Path

from spotrec.data.ingest import load_catalogue
from spotrec.evaluation import listening as heldout
from spotrec.evaluation.heldout_listening import seed_top_n, synthetic_listening
from spotrec.models.registry import get_model_class

REPO = Path(__file__).resolve().parents[1]
DEPTH = heldout.K


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: kB


def row(label: str, mode: str, figures: dict, tail: str = " | | |") -> str:
    cells = [figures[k] for k in ("ndcg", "r_precision", "recall", "hit", "cold_ndcg")]
    cells.append(figures["cold_recall"])
    return f"| {label} | {mode} | " + " | ".join(f"{c:.3f}" for c in cells) + f" |{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--max-cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="cosine,autoencoder,transformer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    tracks = load_catalogue(args.data).tracks
    world = synthetic_listening(tracks, args.sessions, seed=args.seed, max_cases=args.max_cases)
    weights, song_codes = world.weights, world.song_codes
    print(
        f"{len(tracks):,} tracks; {weights['session_id'].nunique():,} training sessions "
        f"({weights['track_id'].nunique():,} tracks played); {len(world.cases):,} held-out cases "
        f"({len(world.cold_cases):,} with cold targets)\n"
    )
    print(
        "| model | mode | NDCG@100 | R-prec | recall@100 | hit@10 | cold NDCG | cold recall@100 "
        "| fit+embed s | CPU s | peak RSS GB |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    order = heldout.popularity_order(world.train, tracks)
    for label, recommend in (
        ("most popular", heldout.most_popular_recommender(order, song_codes)),
        ("seed artists' most popular", heldout.seed_artist_recommender(tracks, order, song_codes)),
    ):
        print(row(label, "baseline", world.score_recommender(recommend)))
    for name in args.models.split(","):
        modes = [None] if name == "cosine" else [None, weights]
        for listening in modes:
            began, cpu_began = time.perf_counter(), time.process_time()
            model = get_model_class(name)(**({} if name == "cosine" else {"progress": False}))
            if listening is None:
                model.fit(tracks, seed=args.seed)
            else:
                model.fit(tracks, seed=args.seed, listening=listening)
            embeddings = model.embed(tracks)
            seconds = time.perf_counter() - began
            cpu_seconds = time.process_time() - cpu_began
            figures = world.score(seed_top_n(embeddings, song_codes, world.seeds, DEPTH))
            mode = model.summary().get("mode", "content")
            tail = f" {seconds:.0f} | {cpu_seconds:.0f} | {peak_rss_gb():.2f} |"
            print(row(name, mode, figures, tail), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
