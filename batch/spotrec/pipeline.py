"""The three build stages behind `spotrec build` (see build.py for the overview), driven by a
typed BuildConfig: the CLI (build.py), the demo and the benchmarks all construct one."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.ann import SearchSettings
from spotrec.errors import SpotrecError
from spotrec.manifest import describe_files, new_run_id, write_manifest
from spotrec.neighbour_files import SHARDS_DIR, merge_shards, read_index_matrix
from spotrec.stages import StageTimer, peak_rss_mb

log = logging.getLogger("spotrec.build")

STATE_FILE = "build-state.json"  # carries ingest counts and model summaries between stages


@dataclass(frozen=True)
class BuildConfig:
    """Everything one `spotrec build` needs. ``models=None``: the train stage builds the
    default content models (schema.DEFAULT_MODELS) plus the listening models when
    ``interactions`` are given; later stages build what the train stage recorded."""

    out: Path
    data: Path | None = None
    models: tuple[str, ...] | None = None
    top_n: int = schema.DEFAULT_TOP_N
    listening_top_n: int = schema.DEFAULT_LISTENING_TOP_N  # colistening/hybrid list depth
    holdout_artists: Path | None = None
    max_reject_share: float = 0.01
    seed: int = 0
    epochs: int | None = None
    stage: str = "all"  # all | train | neighbours | finish
    shard: tuple[int, int] | None = None  # (index, count), neighbours stage only
    write_store: bool = True
    interactions: tuple[Path, ...] = ()
    match_names: bool = False
    half_life_days: float | None = None
    heldout_share: float = 0.1
    max_listening_reject_share: float = 0.5
    synthetic: bool = False  # made-up ids (the demo): the page shows no Spotify links
    search: SearchSettings = field(default_factory=SearchSettings)  # exact or approximate kNN
    previous: Path | None = None  # the previous build: models keep its feature scaling

    def default_models(self) -> tuple[str, ...]:
        listening = schema.LISTENING_MODELS if self.interactions else ()
        return (*schema.DEFAULT_MODELS, *listening)


def shard_range(n_rows: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Contiguous, balanced query ranges whose union is 0..n_rows."""
    return (n_rows * shard) // num_shards, (n_rows * (shard + 1)) // num_shards


def run_build(config: BuildConfig) -> tuple[dict[str, Any] | None, float]:
    """Run the configured stage(s); (the manifest when the finish stage ran, seconds)."""
    if config.top_n < 1:
        raise SpotrecError(f"--top-n must be at least 1, got {config.top_n}")
    if config.shard and config.stage != "neighbours":
        raise SpotrecError("--shard/--num-shards go with --stage neighbours")
    if not 0 <= config.heldout_share < 1:
        raise SpotrecError(f"--heldout-share must be in [0, 1), got {config.heldout_share}")
    if config.half_life_days is not None and config.half_life_days <= 0:
        raise SpotrecError(f"--half-life-days must be > 0, got {config.half_life_days}")
    if config.previous and config.previous.resolve() == config.out.resolve():
        raise SpotrecError("--previous must be another directory than --out (copy it first)")
    out, timer = config.out, StageTimer()
    models = list(config.models) if config.models else None
    if config.stage in ("all", "train"):
        if config.data is None:
            raise SpotrecError(
                "no input: pass --data PATH (or set SPOTREC_DATA); "
                "`spotrec data download` fetches the real dataset, "
                "`spotrec data synth` makes a synthetic one"
            )
        if not Path(config.data).is_file():
            raise SpotrecError(f"--data {config.data}: no such file")
        models = models or list(config.default_models())
        train_stage(config, models, timer)
    models = models or _read_state(out).get("models", list(schema.DEFAULT_MODELS))
    if config.stage in ("all", "neighbours"):
        neighbours_stage(out, models, config.top_n, config.shard, timer, config.search)
    manifest = None
    if config.stage in ("all", "finish"):
        manifest = finish_stage(
            out,
            models,
            config.top_n,
            timer,
            write_store=config.write_store,
            listening_top_n=max(config.top_n, config.listening_top_n),
        )
    return manifest, timer.total()


def embedding_models(models: list[str]) -> list[str]:
    return [m for m in models if m in schema.ALL_MODELS and m != "blend"]


def _read_state(out: Path) -> dict[str, Any]:
    path = out / STATE_FILE
    if not path.is_file():
        raise SpotrecError(f"{out} has no {STATE_FILE}: run `spotrec build --stage train` first")
    return json.loads(path.read_text())


def _write_state(out: Path, state: dict[str, Any]) -> None:
    (out / STATE_FILE).write_text(json.dumps(state, indent=2, default=str))


def _make_model(name: str, seed: int, epochs: int | None):
    from spotrec.models.registry import get_model_class

    cls = get_model_class(name)
    params = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = {}
    if "seed" in params:
        kwargs["seed"] = seed
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if epochs is not None and ("epochs" in params or takes_any):
        kwargs["epochs"] = epochs
    return cls(**kwargs)


def _fit(name: str, config: BuildConfig, tracks: pd.DataFrame, listening) -> Any:
    """Fit one embedding model; listening (training sessions only) reaches it only when its
    fit takes a ``listening`` keyword (models/base.py)."""
    from spotrec.models.base import fit_model

    model = _make_model(name, config.seed, config.epochs)
    saved = config.previous / schema.MODELS_DIR / name if config.previous else None
    if saved is not None and hasattr(model, "reference_scaler") and saved.is_dir():
        model.reference_scaler = type(model).load(saved).scaler  # incremental publish: docs/aws.md
    return fit_model(model, tracks, config.seed, listening)


def train_stage(config: BuildConfig, models: list[str], timer: StageTimer) -> None:
    from spotrec.data.ingest import load_catalogue
    from spotrec.holdout import apply_holdout, read_holdout_artists

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    # A rebuild must not leave another run's neighbours, shards or listening models behind.
    shutil.rmtree(out / schema.NEIGHBOURS_DIR, ignore_errors=True)
    shutil.rmtree(out / schema.MODELS_DIR, ignore_errors=True)
    with timer.stage("ingest"):
        rejects_path = out / schema.REJECTS_FILE
        rejects_path.unlink(missing_ok=True)
        # The rejects file is written even when the share is exceeded, so the user can see why.
        result = load_catalogue(
            config.data, max_reject_share=config.max_reject_share, rejects_path=rejects_path
        )
        if not len(result.rejects):
            rejects_path.unlink(missing_ok=True)
        tracks = result.tracks
        holdout_info = None
        if config.holdout_artists:
            held = apply_holdout(tracks, read_holdout_artists(config.holdout_artists))
            holdout_info = {
                "file": str(config.holdout_artists),
                "artists_listed": held.artists_listed,
                "artists_matched": held.artists_matched,
                "artists_not_found": len(held.artists_not_found),
                "tracks_held_out": held.tracks_held_out,
            }
        tracks.to_parquet(out / schema.TRACKS_FILE, index=False)
    counts = {**result.counts, "holdout_tracks": int(tracks[schema.HOLDOUT].sum())}
    listening, listening_stats = None, None
    if config.interactions:
        from spotrec.listening_build import prepare_listening
        from spotrec.trend_build import plan_trending

        with timer.stage("listening"):
            listening, listening_stats = prepare_listening(config, tracks)
        models[:] = plan_trending(models, out, explicit=config.models is not None)
    else:
        shutil.rmtree(out / schema.LISTENING_DIR, ignore_errors=True)
    summaries: dict[str, Any] = {}
    for name in embedding_models(models):
        with timer.stage(f"fit:{name}"):
            model = _fit(name, config, tracks, listening)
            embeddings = np.ascontiguousarray(model.embed(tracks), dtype=np.float32)
            if embeddings.shape[0] != len(tracks) or not np.isfinite(embeddings).all():
                raise SpotrecError(f"model {name} produced invalid embeddings {embeddings.shape}")
            model_dir = out / schema.MODELS_DIR / name
            model_dir.mkdir(parents=True)
            model.save(model_dir)
            (out / schema.EMBEDDINGS_DIR).mkdir(exist_ok=True)
            np.save(out / schema.EMBEDDINGS_DIR / f"{name}.npy", embeddings, allow_pickle=False)
            summaries[name] = model.summary()
    if "colistening" in models:
        from spotrec.listening_build import fit_colistening

        with timer.stage("fit:colistening"):
            summaries["colistening"] = fit_colistening(tracks, listening, out, config.seed)
    sha = result.sha256
    _write_state(
        out,
        {
            "run_id": new_run_id(sha),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "input": {
                "path": str(config.data),
                "sha256": sha,
                "bytes": Path(config.data).stat().st_size,
            },
            "seed": config.seed,
            "synthetic": config.synthetic,  # the page hides dead links
            "models": models,
            "counts": counts,
            "holdout": holdout_info,
            "listening": listening_stats,
            "model_summaries": summaries,
            "timings_s": dict(timer.seconds),
            "cpu_s": dict(timer.cpu),
        },
    )


def _song_codes(tracks: pd.DataFrame) -> np.ndarray:
    return pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)


def neighbours_stage(
    out: Path,
    models: list[str],
    top_n: int,
    shard: tuple[int, int] | None,
    timer: StageTimer,
    search: SearchSettings | None = None,
) -> None:
    """Per model: build the index, measure recall on a sample (failing below the setting before
    the long search), then stream the lists of this shard's queries to Parquet."""
    from spotrec.ann import check_recall
    from spotrec.neighbour_files import write_neighbours
    from spotrec.neighbours import NeighbourSearch

    search = search or SearchSettings()
    tracks = pd.read_parquet(out / schema.TRACKS_FILE, columns=[schema.TRACK_ID, schema.SONG_ID])
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    songs = _song_codes(tracks)
    start, stop = shard_range(len(tracks), *shard) if shard else (0, len(tracks))
    target = out / schema.NEIGHBOURS_DIR / (SHARDS_DIR if shard else "")
    target.mkdir(parents=True, exist_ok=True)
    for name in embedding_models(models):
        with timer.stage(f"neighbours:{name}"):
            embeddings = np.load(out / schema.EMBEDDINGS_DIR / f"{name}.npy", allow_pickle=False)
            searcher = NeighbourSearch(embeddings, songs, top_n, settings=search)
            del embeddings  # the searcher holds its normalized copy
            filename = f"{name}.{shard[0]}-of-{shard[1]}.parquet" if shard else f"{name}.parquet"
            report = {**searcher.info, **searcher.measure_recall(start, stop)}
            report.update(shard=list(shard) if shard else None, query_range=[start, stop])
            log.info("%s: %s", name, report)
            check_recall(name, report, search)
            batches = searcher.batches(np.arange(start, stop), progress=True)
            write_neighbours(target / filename, track_ids, batches, report)
            log.info("%s: %d rows re-queried exactly", name, searcher.requeried)
            del searcher


def _write_lists(
    out: Path, name: str, track_ids: np.ndarray, indices: np.ndarray, scores: np.ndarray
) -> np.ndarray:
    from spotrec.neighbour_files import write_neighbours

    # Streamed in row chunks with Arrow strings: one pandas frame of Python string ids peaked
    # ~2 GB over the full catalogue at the listening models' depth 200 (docs/performance.md).
    chunk = 8192
    batches = (
        (
            np.arange(lo, min(lo + chunk, len(indices))),
            indices[lo : lo + chunk],
            scores[lo : lo + chunk],
        )
        for lo in range(0, len(indices), chunk)
    )
    write_neighbours(out / schema.NEIGHBOURS_DIR / f"{name}.parquet", track_ids, batches, {})
    return indices


def finish_stage(
    out: Path,
    models: list[str],
    top_n: int,
    timer: StageTimer,
    *,
    write_store: bool = True,
    listening_top_n: int | None = None,
) -> dict[str, Any]:
    from spotrec.neighbour_files import read_report
    from spotrec.selection import evaluate_models

    state = _read_state(out)
    tracks = pd.read_parquet(out / schema.TRACKS_FILE)
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    lists: dict[str, np.ndarray] = {}
    search: dict[str, Any] = {}  # per model: exact or approximate, recall@10 (manifest)
    with timer.stage("merge"):
        for name in embedding_models(models):
            merge_shards(out, name, len(tracks))
            path = out / schema.NEIGHBOURS_DIR / f"{name}.parquet"
            if not path.is_file():
                raise SpotrecError(f"{path} is missing: run the neighbours stage for {name}")
            search[name] = read_report(path)
            lists[name] = read_index_matrix(path, track_ids, top_n)[0]
        shutil.rmtree(out / schema.NEIGHBOURS_DIR / SHARDS_DIR, ignore_errors=True)
    content_lists = dict(lists)
    if "blend" in models:
        from spotrec.models.blend import fuse_index_lists

        with timer.stage("blend"):
            indices, scores = fuse_index_lists(content_lists, _song_codes(tracks), top_n)
            lists["blend"] = _write_lists(out, "blend", track_ids, indices, scores)
    if set(models) & set(schema.LISTENING_MODELS):
        from spotrec.listening_build import listening_lists

        with timer.stage("colistening"):
            depth = listening_top_n or top_n  # deeper than content's (schema.py says why)
            made = listening_lists(out, models, content_lists, _song_codes(tracks), depth)
            for name, (indices, scores) in made.items():
                lists[name] = _write_lists(out, name, track_ids, indices, scores)
    with timer.stage("evaluate"):
        from spotrec.data.listening import has_listening, read_listening

        # With listening data the default is the held-out listening winner (selection.py).
        listening = read_listening(out) if has_listening(out) else None
        evaluation, default_model = evaluate_models(tracks, lists, listening=listening)
        del listening
    manifest = {
        **{k: state[k] for k in ("run_id", "created", "input", "seed", "counts", "holdout")},
        "listening": state.get("listening"),
        "models": models,
        "default_model": default_model,
        "top_n": top_n,
        "listening_top_n": listening_top_n or top_n,
        "synthetic": state.get("synthetic", False),
        "model_summaries": state["model_summaries"],
        "neighbour_search": search,
        "evaluation": evaluation,
        "files": describe_files(out),
    }
    write_manifest(out, {**manifest, "timings_s": {**state["timings_s"], **timer.seconds}})
    # The store reads the files again, one model at a time: at 1M tracks these matrices and the
    # catalogue frame are ~0.4 GB per model plus ~1 GB, held for nothing through the store stage.
    del lists, content_lists, tracks, track_ids
    if write_store:
        from spotrec.writers.sqlite import write_store as write_sqlite

        with timer.stage("store"):
            write_sqlite(out)
    timings = {**state["timings_s"], **timer.seconds}
    manifest["timings_s"] = timings
    manifest["cpu_s"] = {**state.get("cpu_s", {}), **timer.cpu}  # load-independent cost
    manifest["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_manifest(out, manifest)
    return manifest
