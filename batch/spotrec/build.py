"""`spotrec build`: CSV -> catalogue -> model embeddings -> FAISS top-N -> files -> store.

The build runs in three stages so the retrain job can fan the neighbour search out as an AWS
Batch array job (`--stage neighbours --shard i --num-shards n`); `--stage all` (the default) runs
them on one machine, a model's neighbour search starting in a background process as soon as its
embeddings are saved, beside the next model's fit (background_search.py):

  train       ingest + validate + variants, fit each embedding model, save models + embeddings
  neighbours  exact top-N for one query range (a shard) or all tracks, per embedding model
  finish      merge shards, blend, evaluate (picks the default model), manifest, SQLite store

With ``--interactions PATH ...`` the train stage also reads listening data (data/listening),
splits it by session into training and held-out sessions (held-out sessions never reach a
model), fits the co-listening model and the learned models on the training sessions, and the
finish stage adds the co-listening lists and the evidence-weighted hybrid.

Output contract (issue 2 part 4): DIR/manifest.json, DIR/tracks.parquet,
DIR/neighbours/<model>.parquet, DIR/store.sqlite (plus rejects.csv, models/, embeddings/,
listening/ when listening data was given).

This module only parses: it turns the arguments into a pipeline.BuildConfig and runs it.
Nothing imports it back (demo, benchmarks and the retrain job build a BuildConfig or call the
command).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from spotrec import schema
from spotrec.errors import SpotrecError

HELP = "build recommendations: ingest, fit models, FAISS top-N, write files and the SQLite store"
STAGES = ("all", "train", "neighbours", "finish")
KNOWN_MODELS = (*schema.ALL_MODELS, *schema.LISTENING_MODELS)


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
        help=f"comma-separated subset of {','.join(KNOWN_MODELS)} (default: "
        f"{','.join(schema.DEFAULT_MODELS)}, plus {','.join(schema.LISTENING_MODELS)} with "
        "--interactions; later stages default to the train stage's models)",
    )
    parser.add_argument("--top-n", type=int, default=schema.DEFAULT_TOP_N)
    parser.add_argument(
        "--previous",
        type=Path,
        help="the previous build dir: keep its feature scaling while the catalogue's "
        "statistics barely moved, so unchanged tracks keep their lists (incremental publish)",
    )
    parser.add_argument(
        "--listening-top-n",
        type=int,
        default=schema.DEFAULT_LISTENING_TOP_N,
        help="list depth of the listening models, colistening and hybrid (default "
        f"{schema.DEFAULT_LISTENING_TOP_N}; never below --top-n)",
    )
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
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="the catalogue is synthetic (made-up ids): the page shows no Spotify links",
    )
    add_search_arguments(parser)
    listening = parser.add_argument_group("listening data")
    listening.add_argument(
        "--interactions",
        type=Path,
        nargs="+",
        default=[],
        metavar="PATH",
        help="listening data: MPD slice files (mpd.slice.*.json), events logs (.csv, .jsonl, "
        ".parquet: session_id, track_id, event, timestamp) or directories of them",
    )
    listening.add_argument(
        "--match-names",
        action="store_true",
        help="match ids the catalogue lacks by normalised title + artist",
    )
    listening.add_argument(
        "--half-life-days",
        type=float,
        help="recency weighting: a session this many days older than the newest counts half "
        "(default: off, every session counts the same)",
    )
    listening.add_argument(
        "--heldout-share",
        type=float,
        default=0.1,
        help="share of sessions held out for evaluation, never seen by a model (default 0.1)",
    )
    listening.add_argument(
        "--max-listening-reject-share",
        type=float,
        default=0.5,
        help="fail when more than this share of listening rows is rejected (default 0.5)",
    )


def parse_models(text: str | None, *, listening: bool) -> tuple[str, ...] | None:
    """The models to build, in canonical order; None = the default for the stage."""
    if text is None:
        return None
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = sorted(set(models) - set(KNOWN_MODELS))
    if unknown or not models:
        raise SpotrecError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(KNOWN_MODELS)}"
        )
    content = [m for m in models if m in schema.ALL_MODELS and m != "blend"]
    if "blend" in models and len(content) < 2:
        raise SpotrecError("the blend needs at least two other models in --models")
    if set(models) & set(schema.LISTENING_MODELS):
        if not listening:
            raise SpotrecError(
                f"{', '.join(sorted(set(models) & set(schema.LISTENING_MODELS)))} learn from "
                "listening data: pass --interactions PATH"
            )
        if not content:
            raise SpotrecError(
                "the co-listening models need a content model (e.g. cosine) in --models: it "
                "gives tracks without listening data their lists"
            )
        if "hybrid" in models and "colistening" not in models:
            raise SpotrecError("the hybrid needs colistening in --models")
        if "trending" in models and "hybrid" not in models:
            raise SpotrecError("trending re-orders the hybrid's lists: add hybrid to --models")
    return tuple(m for m in KNOWN_MODELS if m in models)  # canonical order


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


def config_from_args(args: argparse.Namespace):
    from spotrec.ann import SearchSettings
    from spotrec.pipeline import BuildConfig

    # Later stages may not repeat --interactions: the train stage recorded whether it had any.
    listening = bool(args.interactions) or args.stage in ("neighbours", "finish")
    return BuildConfig(
        out=args.out,
        data=Path(args.data) if args.data else None,
        models=parse_models(args.models, listening=listening),
        top_n=args.top_n,
        previous=args.previous,
        listening_top_n=args.listening_top_n,
        holdout_artists=args.holdout_artists,
        max_reject_share=args.max_reject_share,
        seed=args.seed,
        epochs=args.epochs,
        stage=args.stage,
        shard=resolve_shard(args.shard, args.num_shards),
        write_store=not args.no_store,
        interactions=tuple(args.interactions),
        match_names=args.match_names,
        half_life_days=args.half_life_days,
        heldout_share=args.heldout_share,
        max_listening_reject_share=args.max_listening_reject_share,
        synthetic=args.synthetic,
        search=SearchSettings(
            ann_threshold=args.ann_threshold,
            min_recall=args.min_recall,
            nprobe=args.ann_nprobe,
            seed=args.seed,
        ),
    )


def run(args: argparse.Namespace) -> int:
    from spotrec.pipeline import run_build

    manifest, seconds = run_build(config_from_args(args))
    if manifest is not None:
        print(json.dumps({k: manifest[k] for k in ("run_id", "models", "default_model")}))
        print(f"build written to {args.out} in {seconds:.1f} s")
    return 0
