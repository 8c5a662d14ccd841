"""The blend's weights and the hybrid's shape, chosen on held-out listening (docs/colistening.md,
"Blend weights and hybrid shape").

    python scripts/tune_blend.py [--data ../shared/data/spotify_tracks.csv.gz] [--sessions 5000]
        [--seed 1] [--depths 50,200] [--out grid.csv]

Protocol: evaluation/heldout_listening.synthetic_listening: planted cross-genre tastes over the
catalogue (data/listening/planted.py), read back through load_listening, split by session (10%
held out); every model sees only the training sessions. Held-out sessions give 5 seeds and the
rest as targets; the 5 seeds' lists are merged as the API merges them; NDCG@100, R-precision,
recall@100, hit@10 (evaluation/listening.py); "cold" scores only targets with no training
listening. The default ``--seed 1`` draws OTHER tastes and sessions than the README's build
(seed 0), so the settings are not chosen on the sessions the README reports.

Grids (each at every depth = the stored list length):
* blend: cosine x autoencoder weights against transformer 1; prints the best NDCG@100 and the
  settings within NDCG_TOLERANCE of it (ties on this evidence; docs say which was kept);
* hybrid: evidence scale x unplayed share (models/hybrid.py), content = the best-NDCG blend;
  chosen: highest cold NDCG@100 among settings within NDCG_TOLERANCE of the best NDCG@100.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec.data.ingest import load_catalogue
from spotrec.evaluation.heldout_listening import seed_top_n, synthetic_listening
from spotrec.models.base import fit_model
from spotrec.models.blend import fuse_index_lists
from spotrec.models.colistening import CoListeningModel, complete_lists
from spotrec.models.hybrid import HYBRID_CONTENT_SHARE, evidence_weights, unplayed_candidates
from spotrec.models.registry import get_model_class

REPO = Path(__file__).resolve().parents[1]
CONTENT = ("cosine", "autoencoder", "transformer")
COSINE_GRID = (0.0, 0.1, 0.25, 0.5, 1.0)
AUTOENCODER_GRID = (0.0, 0.25, 0.5)
EVIDENCE_SCALES = (0.0, 2.0)
UNPLAYED_SHARES = (0.0, 0.5, 0.6, 0.7, 0.8, 1.0)
NDCG_TOLERANCE = 0.01  # absolute: about the noise of NDCG@100 over ~500 held-out sessions
KEYS = ("ndcg", "r_precision", "recall", "hit", "cold_ndcg", "cold_recall")
HEADER = (
    "| setting | NDCG@100 | R-prec | recall@100 | hit@10 | cold NDCG@100 | cold recall@100 |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def line(label: str, figures: dict) -> str:
    return "| " + " | ".join([label, *(f"{figures[k]:.3f}" for k in KEYS)]) + " |"


def pick_hybrid(rows: list[dict]) -> dict:
    """The documented rule: best cold NDCG among settings within tolerance of the best NDCG."""
    best = max(r["ndcg"] for r in rows)
    eligible = [r for r in rows if r["ndcg"] >= best - NDCG_TOLERANCE]
    return max(eligible, key=lambda r: (r["cold_ndcg"], r["ndcg"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--depths", default="50,200")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sample", type=int, help="a seeded sample of tracks (smoke runs only)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    begin = time.perf_counter()
    depths = sorted(int(d) for d in args.depths.split(","))

    tracks = load_catalogue(args.data).tracks
    if args.sample:
        tracks = tracks.sample(args.sample, random_state=args.seed).reset_index(drop=True)
    world = synthetic_listening(tracks, args.sessions, seed=args.seed)
    songs, seeds = world.song_codes, world.seeds
    print(
        f"{len(tracks):,} tracks; {world.weights['session_id'].nunique():,} training sessions; "
        f"{len(world.cases):,} held-out cases ({len(world.cold_cases):,} with cold targets); "
        f"seed {args.seed}",
        flush=True,
    )
    deep: dict[str, np.ndarray] = {}
    for name in CONTENT:
        started = time.perf_counter()
        model = get_model_class(name)(**({} if name == "cosine" else {"progress": False}))
        embeddings = fit_model(model, tracks, args.seed, world.weights).embed(tracks)
        deep[name] = seed_top_n(embeddings, songs, seeds, depths[-1])
        print(f"{name}: fitted in {time.perf_counter() - started:.0f} s", flush=True)
    colistening = CoListeningModel().fit(tracks, seed=args.seed, listening=world.weights)
    deep_evidence, _ = colistening.evidence_lists(songs, depths[-1])
    sessions = np.where(colistening.has_evidence, colistening.sessions_per_track, 0)

    table = []
    for depth in depths:
        lists = {m: deep[m][:, :depth] for m in CONTENT}
        evidence = deep_evidence[:, :depth]

        def record(grid: str, setting: str, indices: np.ndarray, depth: int = depth) -> dict:
            row = {"grid": grid, "depth": depth, "setting": setting, **world.score(indices)}
            table.append(row)
            print(line(setting, row), flush=True)
            return row

        print(f"\n### Single models, depth {depth}\n\n{HEADER}")
        for name in CONTENT:
            record("single", name, lists[name])
        full, _ = complete_lists(evidence, lists["cosine"], songs, depth, rows=seeds)
        record("single", "colistening", full)

        print(f"\n### Blend (transformer 1), depth {depth}\n\n{HEADER}")
        blends = []
        for cos, ae in itertools.product(COSINE_GRID, AUTOENCODER_GRID):
            if cos == ae == 0:
                continue  # the transformer alone: a single-model row above
            weights = {"cosine": cos, "autoencoder": ae, "transformer": 1.0}
            fused, _ = fuse_index_lists(lists, songs, depth, weights=weights, rows=seeds)
            blends.append((record("blend", f"cosine {cos:g}, autoencoder {ae:g}", fused), weights))
        best_row, best_weights = max(blends, key=lambda b: b[0]["ndcg"])
        floor = best_row["ndcg"] - NDCG_TOLERANCE
        ties = [row["setting"] for row, _ in blends if row["ndcg"] >= floor]
        print(f"\nbest NDCG@100: {best_row['setting']}; within {NDCG_TOLERANCE}: {ties}")

        print(f"\n### Hybrid (content = the best-NDCG blend), depth {depth}\n\n{HEADER}")
        content = {m: lists[m] for m, w in best_weights.items() if w > 0}
        content_weights = {m: best_weights[m] for m in content}
        unplayed = unplayed_candidates(content, colistening.has_evidence, songs)
        hybrids = []
        for scale, share in itertools.product(EVIDENCE_SCALES, UNPLAYED_SHARES):
            weights = evidence_weights(
                sessions,
                list(content),
                evidence_scale=scale,
                content_share=HYBRID_CONTENT_SHARE,
                unplayed_share=share,
                with_unplayed=True,
                content_weights=content_weights,
            )
            inputs = {"colistening": evidence, **content, **unplayed}
            fused, _ = fuse_index_lists(inputs, songs, depth, weights=weights, rows=seeds)
            hybrids.append(record("hybrid", f"scale {scale:g}, unplayed {share:g}", fused))
        print(f"\nchosen hybrid: {pick_hybrid(hybrids)['setting']}")
    print(f"\ntotal {time.perf_counter() - begin:.0f} s (shared machine: wall time is load)")
    if args.out:
        pd.DataFrame(table).to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
