"""`spotrec eval`: evaluate every model of a build and write report/report.md (+ HTML, JSON, PNGs).

Inputs: build_dir/manifest.json (models, holdout, model_summaries), tracks.parquet and
neighbours/<model>.parquet. Optional: a sweep table (CSV with columns model, genre_precision,
coverage and optionally setting), given explicitly or found at build_dir/sweep.csv, adds each
model's tuning settings to the precision-vs-coverage plot.

Outputs in build_dir/report/: report.md, metrics.json (everything, incl. best_model), PNG plots,
and report.html (self-contained: images inlined as base64).

The best model follows spotrec.selection (the same rule picks the API's default model): models
passing every bar rank first; then the best mean rank across the headline metrics wins.
"""

from __future__ import annotations

import base64
import html as html_lib
import json
import logging
import math
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.errors import SpotrecError
from spotrec.evaluation import eda, plots
from spotrec.evaluation.metrics import (
    DEFAULT_K,
    METRIC_INFO,
    Catalogue,
    NeighbourLists,
    evaluate,
    k_occurrence,
)
from spotrec.manifest import read_manifest
from spotrec.selection import (
    BARS,
    HIGHER_IS_BETTER,
    HOLDOUT_BAR,
    LOWER_IS_BETTER,
    bar_results,
    choose_default,
)

log = logging.getLogger(__name__)
REPORT_FILE, METRICS_FILE, HTML_FILE, SWEEP_FILE = (
    "report.md",
    "metrics.json",
    "report.html",
    "sweep.csv",
)
LEARNED_MODELS = ("autoencoder", "transformer")
TABLE_METRICS = (
    "genre_precision",
    "mrr",
    "average_similarity",
    "same_artist",
    "coverage",
    "hubness_skew",
    "hubness_max",
    "intra_list_diversity",
    "variant_rate",
)
# Whole-table metrics: blank in the held-out table, where they would only repeat the first table.
WHOLE_TABLE = ("average_similarity", "coverage", "hubness_skew", "hubness_max")
BAR_METRICS = ("genre_precision", "mrr", "same_artist", "coverage")  # 0..1, drawn as bars


@contextmanager
def _stage(name: str, timings: dict[str, float]):
    start = time.perf_counter()
    log.info("eval: %s ...", name)
    yield
    timings[name] = round(time.perf_counter() - start, 2)
    log.info("eval: %s done in %.2f s", name, timings[name])


def _label(metric: str) -> str:
    if metric == "average_similarity":
        return "avg similarity (AE)"
    return METRIC_INFO[metric][0].replace("@k", f"@{DEFAULT_K}")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _mean_ranks(results: dict[str, dict]) -> dict[str, float]:
    """Mean rank per model over the headline metrics (1 = best), as spotrec.selection ranks."""
    frame = pd.DataFrame(
        {
            m: {k: r.get(k) for k in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER)}
            for m, r in results.items()
        }
    ).T.astype(float)
    ranks = [
        frame[c].rank(ascending=c in LOWER_IS_BETTER, method="min", na_option="bottom")
        for c in frame.columns
    ]
    return pd.concat(ranks, axis=1).mean(axis=1).to_dict()


def _best_reason(best: str, results: dict[str, dict], ranks: dict[str, float]) -> str:
    passing = [m for m, r in results.items() if r["passes_all_bars"]]
    metrics = ", ".join(_label(m) for m in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER))
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
    results, occurrences = {}, {}
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
    ranks = _mean_ranks(results)
    best = choose_default(results)
    for model in models:
        results[model]["mean_rank"] = ranks[model]
    return {
        "manifest": manifest,
        "tracks": tracks,
        "results": results,
        "best": best,
        "reason": _best_reason(best, results, ranks),
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
    table = pd.DataFrame({m: {_label(k): r[k] for k in BAR_METRICS} for m, r in results.items()})
    plots.metric_bars(table.T, out / "metrics_by_model.png")
    plots.k_occurrence(state["occurrences"], out / "hubness.png")
    return [
        ("img", "tradeoff.png", "Precision vs coverage"),
        ("img", "metrics_by_model.png", "Metrics per model"),
        ("img", "hubness.png", "k-occurrence distribution"),
    ]


def _metric_table(results: dict[str, dict], key: str | None = None) -> tuple:
    headers = ["model", *(_label(m) for m in TABLE_METRICS)]
    rows = []
    for model, result in results.items():
        values = result if key is None else {**result[key], **dict.fromkeys(WHOLE_TABLE)}
        rows.append([model, *(_cell(values.get(m)) for m in TABLE_METRICS)])
    return ("table", headers, rows)


def _document(state: dict, evaluation_images: list, charts: list[eda.Chart]) -> list[tuple]:
    results, manifest = state["results"], state["manifest"]
    doc: list[tuple] = [
        ("h1", f"spotrec evaluation: run {manifest.get('run_id', '?')}"),
        (
            "p",
            f"{len(state['tracks']):,} tracks, k = {DEFAULT_K}. Best model: **{state['best']}**."
            f" {state['reason']}",
        ),
        ("h2", "Metrics (all seeds)"),
        _metric_table(results),
        ("h2", "Bars"),
        (
            "table",
            [
                "model",
                *(f"{_label(m)} {op} {t}" for m, (op, t) in BARS.items()),
                "all bars",
                "mean rank",
            ],
            [
                [
                    m,
                    *(_cell(r["bars"][b]) for b in BARS),
                    _cell(r["passes_all_bars"]),
                    _cell(r["mean_rank"]),
                ]
                for m, r in results.items()
            ],
        ),
    ]
    if (blend := state.get("blend_check")) is not None:
        wins = ", ".join(map(_label, blend["beats_every_single_model_on"])) or "none"
        doc.append(
            (
                "p",
                f"Blend bar ({_cell(blend['passes'])}): beats every single model on "
                f"{wins}; needs two such metrics and every bar passed.",
            )
        )
    if state["holdout_tracks"]:
        metric, bar = HOLDOUT_BAR
        doc += [
            ("h2", f"Held-out tracks ({state['holdout_tracks']:,} seeds, genres hidden)"),
            (
                "p",
                "Per-seed metrics over the held-out seeds only, scored on their true genres; "
                "coverage and hubness describe the whole table and are not repeated.",
            ),
            _metric_table(results, key="holdout"),
        ]
        learned = {m: results[m]["holdout"][metric] for m in results if m in LEARNED_MODELS}
        if learned:
            top = max(learned, key=learned.get)
            doc.append(
                (
                    "p",
                    f"Held-out bar ({_cell(learned[top] >= bar)}): the best learned "
                    f"model, {top}, reaches {_label(metric)} {learned[top]:.3f} "
                    f"(bar {bar}).",
                )
            )
    summaries = manifest.get("model_summaries") or {}
    scalars = [
        f"{m}: "
        + ", ".join(
            f"{k} = {_cell(v)}"
            for k, v in s.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        )
        for m, s in summaries.items()
        if isinstance(s, dict)
    ]
    if scalars:
        doc += [("h2", "Training summaries"), ("list", scalars)]
    doc += [
        ("h2", "Legend"),
        (
            "list",
            [
                f"{_label(m)}: range {rng}, {direction}"
                for m, (_, rng, direction) in METRIC_INFO.items()
            ]
            + [
                "avg similarity (AE): the autoencoder's mean cosine between each validation "
                "track's input and its reconstruction, 0..1, higher = more faithful (blank for "
                "other models)"
            ],
        ),
        ("h2", "Plots"),
        *evaluation_images,
        ("h2", "Exploratory data analysis"),
    ]
    for chart in charts:
        doc += [("h3", chart.title), ("p", chart.reading), ("img", chart.file, chart.title)]
    return doc


def _markdown(doc: list[tuple]) -> str:
    lines = []
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + block[1], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "list":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "img":
            lines += [f"![{block[2]}]({block[1]})", ""]
        elif kind == "table":
            lines.append("| " + " | ".join(block[1]) + " |")
            lines.append("|" + "---|" * len(block[1]))
            lines += ["| " + " | ".join(row) + " |" for row in block[2]] + [""]
    return "\n".join(lines)


def _html(doc: list[tuple], out: Path) -> str:
    def esc(text: str) -> str:  # escape, then restore the one markdown emphasis we use
        parts = html_lib.escape(text).split("**")
        return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))

    body = []
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2", "h3", "p"):
            body.append(f"<{kind}>{esc(block[1])}</{kind}>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "img":
            data = base64.b64encode((out / block[1]).read_bytes()).decode()
            body.append(f'<img alt="{esc(block[2])}" src="data:image/png;base64,{data}">')
        elif kind == "table":
            head = "".join(f"<th>{esc(h)}</th>" for h in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in block[2]
            )
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>spotrec report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>"
    )


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
        doc = _document(state, images, charts)
        (out / REPORT_FILE).write_text(_markdown(doc), encoding="utf-8")
        if html:
            (out / HTML_FILE).write_text(_html(doc, out), encoding="utf-8")
        payload = {
            "run_id": state["manifest"].get("run_id"),
            "k": DEFAULT_K,
            "best_model": state["best"],
            "best_model_reason": state["reason"],
            "manifest_default_model": state["manifest"].get("default_model"),
            "bars": {m: list(b) for m, b in BARS.items()},
            "holdout_bar": HOLDOUT_BAR,
            "blend_check": state["blend_check"],
            "models": state["results"],
            "eda": [c.to_dict() for c in charts],
            "timings_s": timings,
        }
        (out / METRICS_FILE).write_text(json.dumps(_json_safe(payload), indent=2))
    return out / REPORT_FILE


def summary_table(report_path: Path) -> str:
    """The report's first table (metrics, all seeds) as markdown, for printing."""
    text = Path(report_path).read_text(encoding="utf-8")
    section = text.split("## Metrics (all seeds)", 1)[-1].split("\n## ", 1)[0]
    return section.strip()
