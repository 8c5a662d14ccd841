"""`spotrec eval`: evaluate every model of a build and write report/report.md (+ HTML, JSON, PNGs).

Inputs: build_dir/manifest.json (models, holdout, model_summaries), tracks.parquet and
neighbours/<model>.parquet. Optional: a sweep table (CSV with columns model, genre_precision,
coverage and optionally setting), given explicitly or found at build_dir/sweep.csv, adds each
model's tuning settings to the precision-vs-coverage plot.

Outputs in build_dir/report/: report.md, metrics.json (everything, incl. best_model), PNG plots,
and report.html (self-contained: images inlined as base64).

The markdown and HTML rendering (the report's document, its tables and labels) is in render.py.

When the build has listening data (listening/heldout.parquet, written by the build from
`--interactions`), the report leads with held-out listening: every model and two baselines on
the held-out sessions, all targets and the cold-start slice (evaluation/listening.py,
heldout_listening.py), with a plot. The genre metrics follow as guardrails, marked circular
for models fed genres, next to the audio-only genre precision.

The best model follows spotrec.selection (the same rule picks the API's default model): with
listening data, the best held-out listening NDCG@100; without, models passing every bar rank
first and then the best mean rank across the genre metrics wins.
"""

from __future__ import annotations

import json
import logging
import math
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening import has_listening, read_listening, read_listening_stats
from spotrec.errors import SpotrecError
from spotrec.evaluation import eda, plots
from spotrec.evaluation.heldout_listening import (
    audio_only_genre_precision,
    evaluate_heldout_listening,
)
from spotrec.evaluation.listening import LISTENING_METRICS
from spotrec.evaluation.metrics import (
    DEFAULT_K,
    Catalogue,
    NeighbourLists,
    evaluate,
    k_occurrence,
)
from spotrec.evaluation.render import (
    LISTENING_HEADING,
    build_document,
    metric_label,
    to_html,
    to_markdown,
)
from spotrec.manifest import read_manifest
from spotrec.selection import (
    BARS,
    HIGHER_IS_BETTER,
    HOLDOUT_BAR,
    LISTENING_METRIC,
    LISTENING_TOLERANCE,
    LOWER_IS_BETTER,
    bar_results,
    choose_default,
    listening_scores,
    mean_ranks,
)

log = logging.getLogger(__name__)
REPORT_FILE, METRICS_FILE, HTML_FILE, SWEEP_FILE = (
    "report.md",
    "metrics.json",
    "report.html",
    "sweep.csv",
)
BAR_METRICS = ("genre_precision", "mrr", "same_artist", "coverage")  # 0..1, drawn as bars


@contextmanager
def _stage(name: str, timings: dict[str, float]):
    start = time.perf_counter()
    log.info("eval: %s ...", name)
    yield
    timings[name] = round(time.perf_counter() - start, 2)
    log.info("eval: %s done in %.2f s", name, timings[name])


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _best_reason(
    best: str, results: dict[str, dict], ranks: dict[str, float], listening: dict | None
) -> str:
    if listening:
        label = LISTENING_METRICS[LISTENING_METRIC][0]
        value = listening["models"][best]["all"][LISTENING_METRIC]
        cold = listening["models"][best]["cold"][LISTENING_METRIC]
        return (
            f"With listening data the listening rule decides (spotrec.selection): the best "
            f"held-out listening {label} among models whose lists hold no variants, gaps under "
            f"{LISTENING_TOLERANCE} counting as ties broken by cold-start {label}: {best} "
            f"({value:.3f}, cold start {cold:.3f}). The genre metrics are guardrails."
        )
    passing = [m for m, r in results.items() if r["passes_all_bars"]]
    metrics = ", ".join(metric_label(m) for m in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER))
    if best in passing:
        return (
            f"{best} passes every bar ({len(passing)} of {len(results)} models do) and has "
            f"the best mean rank among them ({ranks[best]:.2f}; 1 = best) across {metrics}."
        )
    return (
        f"No model passes every bar, so the mean rank across {metrics} decides: {best} "
        f"({ranks[best]:.2f}; 1 = best)."
    )


def _blend_check(results: dict[str, dict]) -> dict | None:
    """Issue 3's blend bar: beats every single model on >= 2 metrics and fails no bar."""
    singles = [m for m in results if m != "blend"]
    if "blend" not in results or not singles:
        return None
    blend, wins = results["blend"], []
    for metric in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        sign = -1 if metric in LOWER_IS_BETTER else 1
        if all(sign * blend[metric] > sign * results[m][metric] for m in singles):
            wins.append(metric)
    return {
        "beats_every_single_model_on": wins,
        "passes": len(wins) >= 2 and blend["passes_all_bars"],
    }


def _load_sweep(path: Path | None) -> pd.DataFrame | None:
    if path is None or not path.is_file():
        return None
    sweep = pd.read_csv(path)
    missing = {"model", "genre_precision", "coverage"} - set(sweep.columns)
    if missing:
        raise SpotrecError(f"sweep table {path} lacks column(s): {', '.join(sorted(missing))}")
    return sweep.assign(setting=sweep.get("setting", "")).fillna({"setting": ""})


def evaluate_build(build_dir: Path, holdout: bool | None, timings: dict) -> dict:
    """Metrics for every model of the build (see write_report for ``holdout``)."""
    manifest = read_manifest(build_dir)
    models = list(manifest.get("models") or [])
    if not models:
        raise SpotrecError(f"{build_dir}/manifest.json lists no models to evaluate")
    paths = {m: build_dir / schema.NEIGHBOURS_DIR / f"{m}.parquet" for m in models}
    if missing := [str(p) for p in paths.values() if not p.is_file()]:
        raise SpotrecError(f"neighbour table(s) missing from the build: {', '.join(missing)}")
    with _stage("read catalogue", timings):
        tracks = pd.read_parquet(build_dir / schema.TRACKS_FILE)
        catalogue = Catalogue.from_tracks(tracks)
    held = tracks[schema.HOLDOUT].to_numpy(dtype=bool) if schema.HOLDOUT in tracks else None
    if holdout and (held is None or not held.any()):
        raise SpotrecError("--holdout asked for, but no track in the build has holdout=True")
    use_holdout = held is not None and held.any() and holdout is not False
    summaries = manifest.get("model_summaries") or {}
    results, occurrences, positions = {}, {}, {}
    for model in models:
        with _stage(f"evaluate {model}", timings):
            lists = NeighbourLists.from_frame(catalogue, pd.read_parquet(paths[model]))
            result = evaluate(catalogue, lists, k=DEFAULT_K)
            result["average_similarity"] = (summaries.get(model) or {}).get("average_similarity")
            result["bars"] = bar_results(result)
            result["passes_all_bars"] = all(result["bars"].values())
            if use_holdout:
                result["holdout"] = evaluate(catalogue, lists, k=DEFAULT_K, seeds_mask=held)
            results[model] = result
            occurrences[model] = k_occurrence(catalogue, lists, DEFAULT_K)
            positions[model] = lists.positions
    listening = None
    if has_listening(build_dir):
        with _stage("held-out listening", timings):
            train, heldout = read_listening(build_dir)
            listening = evaluate_heldout_listening(tracks, positions, train, heldout)
            listening["stats"] = read_listening_stats(build_dir)
            del train, heldout
    del positions
    with _stage("audio-only genre precision", timings):
        audio_only = audio_only_genre_precision(tracks)
    ranks = mean_ranks(results)
    scores = listening_scores(listening["models"]) if listening else None
    best = choose_default(results, scores)
    for model in models:
        results[model]["mean_rank"] = ranks[model]
    return {
        "manifest": manifest,
        "tracks": tracks,
        "results": results,
        "best": best,
        "reason": _best_reason(best, results, ranks, listening),
        "listening": listening,
        "audio_only": audio_only,
        "occurrences": occurrences,
        "holdout_tracks": int(held.sum()) if use_holdout else 0,
    }


def _draw_evaluation(state: dict, out: Path, sweep: pd.DataFrame | None) -> list[tuple]:
    results = state["results"]
    points = pd.DataFrame(
        [
            {
                "model": m,
                "setting": "",
                "genre_precision": r["genre_precision"],
                "coverage": r["coverage"],
            }
            for m, r in results.items()
        ]
    )
    if sweep is not None:
        points = pd.concat([sweep[list(points.columns)], points], ignore_index=True)
    plots.tradeoff(
        points,
        out / "tradeoff.png",
        precision_bar=BARS["genre_precision"][1],
        coverage_bar=BARS["coverage"][1],
    )
    table = pd.DataFrame(
        {m: {metric_label(k): r[k] for k in BAR_METRICS} for m, r in results.items()}
    )
    plots.metric_bars(table.T, out / "metrics_by_model.png")
    plots.k_occurrence(state["occurrences"], out / "hubness.png")
    images = []
    if listening := state.get("listening"):
        rows = {**listening["models"], **listening["baselines"]}
        table = pd.DataFrame(
            {
                name: {LISTENING_METRICS[m][0]: r["all"][m] for m in ("ndcg", "hit")}
                for name, r in rows.items()
            }
        ).T
        title = f"Held-out listening ({listening['cases']:,} sessions, 5 seeds each)"
        plots.listening_bars(table, out / "listening.png", title=title)
        images.append(("img", "listening.png", "Held-out listening per model and baseline"))
    return [
        *images,
        ("img", "tradeoff.png", "Precision vs coverage"),
        ("img", "metrics_by_model.png", "Metrics per model"),
        ("img", "hubness.png", "k-occurrence distribution"),
    ]


def write_report(
    build_dir: Path, *, holdout: bool | None = None, html: bool = True, sweep: Path | None = None
) -> Path:
    """Evaluate the build and write its report; returns the path of report.md.

    ``holdout``: None = add the held-out table when any track has holdout=True; True = require
    held-out tracks (error if none); False = leave it out.
    """
    build_dir, timings = Path(build_dir), {}
    out = build_dir / schema.REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    state = evaluate_build(build_dir, holdout, timings)
    state["blend_check"] = _blend_check(state["results"])
    with _stage("evaluation plots", timings):
        images = _draw_evaluation(state, out, _load_sweep(sweep or build_dir / SWEEP_FILE))
    with _stage("EDA charts", timings):
        charts = eda.run_eda(state["tracks"], out)
    with _stage("write report", timings):
        doc = build_document(state, images, charts)
        (out / REPORT_FILE).write_text(to_markdown(doc), encoding="utf-8")
        if html:
            (out / HTML_FILE).write_text(to_html(doc, out), encoding="utf-8")
        payload = {
            "run_id": state["manifest"].get("run_id"),
            "k": DEFAULT_K,
            "best_model": state["best"],
            "best_model_reason": state["reason"],
            "manifest_default_model": state["manifest"].get("default_model"),
            "bars": {m: list(b) for m, b in BARS.items()},
            "holdout_bar": HOLDOUT_BAR,
            "blend_check": state["blend_check"],
            "selection_rule": "listening" if state["listening"] else "genre",
            "listening": state["listening"],
            "audio_only_genre_precision": state["audio_only"],
            "models": state["results"],
            "eda": [c.to_dict() for c in charts],
            "timings_s": timings,
        }
        (out / METRICS_FILE).write_text(json.dumps(_json_safe(payload), indent=2))
    return out / REPORT_FILE


def summary_table(report_path: Path) -> str:
    """The report's headline table as markdown, for printing: held-out listening when the
    build has listening data, else the genre metrics (all seeds)."""
    text = Path(report_path).read_text(encoding="utf-8")
    heading = LISTENING_HEADING if LISTENING_HEADING in text else "## Metrics (all seeds)"
    section = text.split(heading, 1)[-1].split("\n## ", 1)[0]
    return section.strip()
