"""Transformer epochs against held-out listening, on a finished listening build's files.

    python scripts/eval_transformer_epochs.py --build DIR --epochs 4 5
    python scripts/eval_transformer_epochs.py --build DIR --epochs 6 --rows-per-epoch 0 32768

Refits the transformer (content -> listening) on the build's TRAINING listening with each
epoch count (same seed), searches exact top-50 lists for the held-out cases' seeds only, and
scores them with the build's held-out protocol (evaluation/listening.py); the build's own
stored transformer lists are scored alongside as the reference. ``--rows-per-epoch`` adds the
listening-mode cap of training rows per epoch (0: no cap) to the grid. Prints fit+embed CPU seconds,
the validation figures and NDCG/recall (all targets and cold). docs/performance.md, "Session 4:
build speed", has a run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening import read_listening, session_item_weights
from spotrec.evaluation import listening as le
from spotrec.evaluation.heldout_listening import MAX_CASES, evaluate_heldout_listening, seed_top_n
from spotrec.models.transformer import TransformerModel
from spotrec.neighbour_files import read_index_matrix

DEPTH = 50  # the build's content list depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a build with --interactions")
    parser.add_argument("--epochs", type=int, nargs="+", default=[4, 5])
    parser.add_argument("--rows-per-epoch", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    tracks = pd.read_parquet(args.build / schema.TRACKS_FILE)
    ids = tracks[schema.TRACK_ID].to_numpy()
    train, held = read_listening(args.build)
    songs = pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)
    cases = le.heldout_cases(held, ids, songs, max_cases=MAX_CASES, seed=0)
    seeds = np.unique(np.concatenate(cases.seeds))
    stored = args.build / schema.NEIGHBOURS_DIR / "transformer.parquet"
    lists = {"build (stored lists)": read_index_matrix(stored, ids, DEPTH)[0]}
    weights = session_item_weights(train)
    grid = [(epochs, cap) for epochs in args.epochs for cap in args.rows_per_epoch]
    for epochs, cap in grid:
        label = f"{epochs} epochs" + (f", {cap} rows/epoch" if cap else "")
        begin = time.process_time()
        model = TransformerModel(
            seed=0, progress=False, epochs=epochs, listening_rows_per_epoch=cap or None
        )
        model.fit(tracks, seed=0, listening=weights)
        embeddings = np.ascontiguousarray(model.embed(tracks), dtype=np.float32)
        figures = {
            k: model.figures[k] for k in ("validation_loss", "validation_cosine_to_own_listening")
        }
        print(f"{label}: fit+embed {time.process_time() - begin:.1f} CPU s, {figures}", flush=True)
        lists[label] = seed_top_n(embeddings, songs, seeds, DEPTH)
    positions = {name: np.where(x < 0, len(tracks), x) for name, x in lists.items()}
    result = evaluate_heldout_listening(tracks, positions, train, held, baselines=False)
    for name, r in result["models"].items():
        every, cold = r["all"], r["cold"]
        print(
            f"{name:36s} NDCG@100 {every['ndcg']:.4f} recall {every['recall']:.4f}  "
            f"cold NDCG {cold['ndcg']:.4f} cold recall {cold['recall']:.4f}  "
            f"({every['cases']} cases, {cold['cases']} cold)"
        )


if __name__ == "__main__":
    main()
