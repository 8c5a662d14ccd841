"""`spotrec build`'s driver (see build.py for the overview): a typed BuildConfig, which the CLI
(build.py), the demo and the benchmarks all construct, runs the three stages: train_stage.py,
then list_stages.py's neighbours and finish stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.ann import SearchSettings
from spotrec.build_state import read_state
from spotrec.errors import SpotrecError
from spotrec.list_stages import finish_stage, neighbours_stage
from spotrec.stages import StageTimer
from spotrec.train_stage import train_stage


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
    # --stage all: a model's neighbour search runs in a background process (one core) while
    # the next model trains on the other (background_search.py); False: one after the other.
    concurrent_search: bool = True

    def default_models(self) -> tuple[str, ...]:
        listening = schema.LISTENING_MODELS if self.interactions else ()
        return (*schema.DEFAULT_MODELS, *listening)


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
    searched: list[str] = []  # models whose neighbours stage already ran beside the fits
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
        searched = _train(config, models, timer)
    models = models or read_state(out).get("models", list(schema.DEFAULT_MODELS))
    if config.stage in ("all", "neighbours"):
        remaining = [m for m in models if m not in searched]
        neighbours_stage(out, remaining, config.top_n, config.shard, timer, config.search)
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


def _train(config: BuildConfig, models: list[str], timer: StageTimer) -> list[str]:
    """The train stage; with ``--stage all``, each model's neighbour search starts in the
    background as soon as its embeddings are saved and another fit follows. Returns the models
    whose neighbours stage is done."""
    if config.stage != "all" or not config.concurrent_search:
        train_stage(config, models, timer)
        return []
    from spotrec.background_search import BackgroundSearch

    background = BackgroundSearch(config.out, config.top_n, config.search, timer.started)
    try:
        train_stage(config, models, timer, embeddings_ready=background.start)
    except BaseException:
        background.stop()
        raise
    return background.finish(timer)
