"""The build's train stage: ingest the catalogue (and listening data), fit each embedding model,
save it and its embeddings, and record what the later stages need (build_state.py)."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.build_state import embedding_models, write_state
from spotrec.errors import SpotrecError
from spotrec.manifest import new_run_id
from spotrec.stages import StageTimer

if TYPE_CHECKING:
    from spotrec.pipeline import BuildConfig

log = logging.getLogger("spotrec.build")


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


def train_stage(
    config: BuildConfig,
    models: list[str],
    timer: StageTimer,
    embeddings_ready: Callable[[str], None] | None = None,
) -> None:
    """``embeddings_ready(model)`` is called once a model's embeddings are saved while another
    embedding model is still to be fitted, so its neighbour search can run beside that fit
    (pipeline.py)."""
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
    fits = embedding_models(models)
    for position, name in enumerate(fits):
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
        # Only beside another embedding fit: the co-listening fit after them takes seconds,
        # and the last model's search is better run on both cores once the fits are done.
        if embeddings_ready is not None and position + 1 < len(fits):
            embeddings_ready(name)
    if "colistening" in models:
        from spotrec.listening_build import fit_colistening

        with timer.stage("fit:colistening"):
            summaries["colistening"] = fit_colistening(tracks, listening, out, config.seed)
    sha = result.sha256
    write_state(
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
