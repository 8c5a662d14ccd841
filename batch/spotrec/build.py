"""`spotrec build`: CSV -> catalogue -> model embeddings -> FAISS top-N -> files -> store.

The build runs in three stages so the retrain job can fan the neighbour search out as an AWS
Batch array job (`--stage neighbours --shard i --num-shards n`); `--stage all` (the default) runs
them back to back on one machine:

  train       ingest + validate + variants, fit each embedding model, save models + embeddings
  neighbours  top-N (exact, or approximate past --ann-threshold) for one query range (a shard)
              or all tracks, per embedding model; recall@10 checked on a sample
  finish      merge shards, blend, evaluate (picks the default model), manifest, SQLite store

Output contract (issue 2 part 4): DIR/manifest.json, DIR/tracks.parquet,
DIR/neighbours/<model>.parquet, DIR/store.sqlite (plus rejects.csv, models/, embeddings/).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from spotrec import schema
from spotrec.errors import SpotrecError

log = logging.getLogger("spotrec.build")

HELP = "build recommendations: ingest, fit models, FAISS top-N, write files and the SQLite store"
STAGES = ("all", "train", "neighbours", "finish")
STATE_FILE = "build-state.json"  # carries ingest counts and model summaries between stages
SHARDS_DIR = "shards"  # neighbours/shards/<model>.<i>-of-<n>.parquet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("SPOTREC_DATA"),
        help="Spotify Tracks CSV, plain or .gz (default: $SPOTREC_DATA)",
    )
    parser.add_argument("--out", type=Path, required=True, help="build directory")
    parser.add_argument(
        "--models",
        default=",".join(schema.ALL_MODELS),
        help=f"comma-separated subset of {','.join(schema.ALL_MODELS)} (default: all)",
    )
    parser.add_argument("--top-n", type=int, default=schema.DEFAULT_TOP_N)
    parser.add_argument("--holdout-artists", type=Path, help="file: one artist name per line")
    parser.add_argument(
        "--max-reject-share",
        type=float,
        default=0.01,
        help="fail when more than this share of rows is rejected (default 0.01)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="override the learned models' epochs")
    parser.add_argument("--stage", choices=STAGES, default="all")
    parser.add_argument("--shard", type=int, help="this shard's index (neighbours stage)")
    parser.add_argument("--num-shards", type=int, help="number of shards (neighbours stage)")
    parser.add_argument("--no-store", action="store_true", help="skip writing store.sqlite")
    add_search_arguments(parser)


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    from spotrec import ann

    parser.add_argument(
        "--ann-threshold",
        type=int,
        default=ann.DEFAULT_ANN_THRESHOLD,
        help="catalogue size from which neighbour search is approximate (default %(default)s)",
    )
    parser.add_argument(
        "--min-recall",
        type=float,
        default=ann.DEFAULT_MIN_RECALL,
        help="fail when approximate search's sampled recall@10 is below this (default "
        "%(default)s; 0 accepts any)",
    )
    parser.add_argument(
        "--ann-nprobe",
        type=int,
        default=ann.DEFAULT_NPROBE,
        help="IVF cells each query scans: more = higher recall, slower (default %(default)s)",
    )


def parse_models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = sorted(set(models) - set(schema.ALL_MODELS))
    if unknown or not models:
        raise SpotrecError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(schema.ALL_MODELS)}"
        )
    if "blend" in models and len([m for m in models if m != "blend"]) < 2:
        raise SpotrecError("the blend needs at least two other models in --models")
    return [m for m in schema.ALL_MODELS if m in models]  # canonical order


def resolve_shard(shard: int | None, num_shards: int | None) -> tuple[int, int] | None:
    """(index, count), reading AWS_BATCH_JOB_ARRAY_INDEX when --shard is not given."""
    if num_shards is None:
        if shard is not None:
            raise SpotrecError("--shard needs --num-shards")
        return None
    if shard is None and "AWS_BATCH_JOB_ARRAY_INDEX" in os.environ:
        shard = int(os.environ["AWS_BATCH_JOB_ARRAY_INDEX"])
    if shard is None:
        raise SpotrecError("--num-shards needs --shard (or AWS_BATCH_JOB_ARRAY_INDEX)")
    if num_shards < 1 or not 0 <= shard < num_shards:
        raise SpotrecError(f"shard {shard} is not in 0..{num_shards - 1}")
    return shard, num_shards


def shard_range(n_rows: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Contiguous, balanced query ranges whose union is 0..n_rows."""
    return (n_rows * shard) // num_shards, (n_rows * (shard + 1)) // num_shards


def run(args: argparse.Namespace) -> int:
    from spotrec.pipeline import finish_stage, neighbours_stage, train_stage
    from spotrec.stages import StageTimer

    if args.top_n < 1:
        raise SpotrecError(f"--top-n must be at least 1, got {args.top_n}")
    models = parse_models(args.models)
    shard = resolve_shard(args.shard, args.num_shards)
    if shard and args.stage != "neighbours":
        raise SpotrecError("--shard/--num-shards go with --stage neighbours")
    out: Path = args.out
    timer = StageTimer()
    if args.stage in ("all", "train"):
        if args.data is None:
            raise SpotrecError(
                "no input: pass --data PATH (or set SPOTREC_DATA); "
                "`spotrec data download` fetches the real dataset, "
                "`spotrec data synth` makes a synthetic one"
            )
        if not Path(args.data).is_file():
            raise SpotrecError(f"--data {args.data}: no such file")
        train_stage(args, models, out, timer)
    if args.stage in ("all", "neighbours"):
        from spotrec.ann import SearchSettings

        search = SearchSettings(
            ann_threshold=args.ann_threshold,
            min_recall=args.min_recall,
            nprobe=args.ann_nprobe,
            seed=args.seed,
        )
        neighbours_stage(out, models, args.top_n, shard, timer, search)
    if args.stage in ("all", "finish"):
        manifest = finish_stage(out, models, args.top_n, timer, write_store=not args.no_store)
        print(json.dumps({k: manifest[k] for k in ("run_id", "models", "default_model")}))
        print(f"build written to {out} in {timer.total():.1f} s")
    return 0
