"""The learned models with and without listening, judged on held-out listening
(docs/learned-models.md).

    python scripts/eval_learned_listening.py [--data ../shared/data/spotify_tracks.csv.gz]
        [--sessions 5000] [--max-cases 1000] [--seed 0] [--models cosine,autoencoder,transformer]

Protocol (the same as scripts/tune_colistening.py): synthetic listening with planted
cross-genre tastes (data/listening/planted.py) over the catalogue, read back through
load_listening, split by session (10% held out); models see only the training sessions.
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
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.data.listening import load_listening, session_item_weights, split_sessions
from spotrec.data.listening.planted import events_log, generate_sessions
from spotrec.evaluation import listening as heldout
from spotrec.models.registry import get_model_class
from spotrec.neighbours import exact_top_n

REPO = Path(__file__).resolve().parents[1]
DEPTH = heldout.K


def seed_lists(embeddings: np.ndarray, song_codes: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(n, DEPTH) catalogue rows, padded with n: the top-DEPTH lists of the seed rows only (the
    only lists the held-out cases read), seed rows moved first so one query range covers them."""
    n = len(embeddings)
    order = np.concatenate([seeds, np.setdiff1d(np.arange(n), seeds)])
    indices, _ = exact_top_n(
        embeddings[order], song_codes[order], DEPTH, query_range=(0, len(seeds)), progress=False
    )
    positions = np.full((n, DEPTH), n, dtype=np.int64)
    positions[seeds] = np.where(indices >= 0, order[np.clip(indices, 0, None)], n)
    return positions


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: kB


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
    seeds = np.unique(np.concatenate(cases.seeds))
    print(
        f"{len(tracks):,} tracks; {train[schema.LS_SESSION_ID].nunique():,} training sessions "
        f"({weights['track_id'].nunique():,} tracks played); {len(cases):,} held-out cases "
        f"({len(cold_cases):,} with cold targets)\n"
    )
    print(
        "| model | mode | NDCG@100 | R-prec | recall@100 | hit@10 | cold NDCG | cold recall@100 "
        "| fit+embed s | CPU s | peak RSS GB |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    order = heldout.popularity_order(train, tracks)
    for label, recommend in (
        ("most popular", heldout.most_popular_recommender(order, song_codes)),
        ("seed artists' most popular", heldout.seed_artist_recommender(tracks, order, song_codes)),
    ):
        warm = heldout.evaluate_recommender(cases, recommend, song_codes)
        cold = heldout.evaluate_recommender(cold_cases, recommend, song_codes)
        print(
            f"| {label} | baseline | {warm['ndcg']:.3f} | {warm['r_precision']:.3f} | "
            f"{warm['recall']:.3f} | {warm['hit']:.3f} | {cold['ndcg']:.3f} | "
            f"{cold['recall']:.3f} | | | |"
        )
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
            recommend = heldout.neighbour_recommender(
                seed_lists(embeddings, song_codes, seeds), song_codes
            )
            warm = heldout.evaluate_recommender(cases, recommend, song_codes)
            cold = heldout.evaluate_recommender(cold_cases, recommend, song_codes)
            mode = model.summary().get("mode", "content")
            print(
                f"| {name} | {mode} | {warm['ndcg']:.3f} | {warm['r_precision']:.3f} | "
                f"{warm['recall']:.3f} | {warm['hit']:.3f} | {cold['ndcg']:.3f} | "
                f"{cold['recall']:.3f} | {seconds:.0f} | {cpu_seconds:.0f} | {peak_rss_gb():.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
