"""The evaluation report as a document, and its two renderings: markdown and self-contained HTML.

``build_document`` turns report.evaluate_build's state (plus the plot images and EDA charts) into
a list of blocks: ("h1"|"h2"|"h3"|"p", text), ("list", items), ("img", file, title) and
("table", headers, rows). ``to_markdown`` renders them as report.md; ``to_html`` as report.html,
with every image inlined as base64. The one markdown emphasis used in text is ``**bold**``.
"""

from __future__ import annotations

import base64
import html as html_lib
import math
from pathlib import Path

from spotrec.evaluation import eda
from spotrec.evaluation.listening import HIT_K, LISTENING_METRICS, MIN_TRACKS, N_SEEDS, K
from spotrec.evaluation.metrics import DEFAULT_K, METRIC_INFO
from spotrec.selection import BARS, HOLDOUT_BAR

LEARNED_MODELS = ("autoencoder", "transformer")
# Models that never see a genre label: their genre metrics are not circular. Every other model
# (cosine, autoencoder, transformer, blend and content-to-listening models) takes genres in.
GENRE_FREE_MODELS = ("colistening",)
LISTENING_TITLE = "Held-out listening (headline)"
LISTENING_HEADING = f"## {LISTENING_TITLE}"
LISTENING_PROTOCOL = (
    f"Protocol (RecSys Challenge 2018): listening split by session; each held-out session with "
    f"at least {MIN_TRACKS} catalogue songs gives its first {N_SEEDS} as seeds, and the rest of "
    f"the session, minus variants of a seed, are the targets. Each recommender's {N_SEEDS} seed "
    f"lists are merged exactly as the API merges them (reciprocal rank fusion, seeds and their "
    f"variants excluded, one track per song) into {K} tracks. A hit is a target song. Models "
    f"and baselines saw only the training sessions. Baselines use no model: the most popular "
    f"tracks of the training listening, and each seed's artists' most popular tracks."
)
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


def metric_label(metric: str) -> str:
    """The metric's display name at k = DEFAULT_K (e.g. "MRR@10")."""
    if metric == "average_similarity":
        return "avg similarity (AE)"
    return METRIC_INFO[metric][0].replace("@k", f"@{DEFAULT_K}")


def format_cell(value) -> str:
    """A table cell: 3 decimals for floats, pass/FAIL for bools, blank for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def genre_input_label(model: str) -> str:
    return "no" if model in GENRE_FREE_MODELS else "yes: circular"


def metric_table(results: dict[str, dict], key: str | None = None) -> tuple:
    """A table block of TABLE_METRICS per model; ``key`` picks a sub-result (e.g. "holdout"),
    whose whole-table metrics are left blank. The last column says whether genre is an input
    (then genre precision and MRR are circular: guardrails, not quality)."""
    headers = ["model", *(metric_label(m) for m in TABLE_METRICS), "genre is an input"]
    rows = []
    for model, result in results.items():
        values = result if key is None else {**result[key], **dict.fromkeys(WHOLE_TABLE)}
        cells = [format_cell(values.get(m)) for m in TABLE_METRICS]
        rows.append([model, *cells, genre_input_label(model)])
    return ("table", headers, rows)


def listening_table(listening: dict, part: str) -> tuple:
    """Models and baselines side by side on held-out listening (``part``: "all" or "cold")."""
    headers = ["recommender", *(label for label, _ in LISTENING_METRICS.values()), "sessions"]
    rows = [
        [name, *(format_cell(r[part][m]) for m in LISTENING_METRICS), str(r[part]["cases"])]
        for group in ("models", "baselines")
        for name, r in listening[group].items()
    ]
    return ("table", headers, rows)


def listening_blocks(listening: dict) -> list[tuple]:
    stats = listening.get("stats") or {}

    def count(key: str) -> str:
        value = stats.get(key)
        return f"{value:,}" if isinstance(value, int) else "?"

    source = (
        f"Listening data: {count('sessions')} sessions read ({count('train_sessions')} for "
        f"training, {count('heldout_sessions')} held out), {count('out_of_catalogue')} events "
        f"outside the catalogue, {count('rows_rejected')} rows rejected."
        if stats
        else ""
    )
    return [
        ("h2", LISTENING_TITLE),
        ("p", f"{LISTENING_PROTOCOL} {source} {listening['cases']:,} sessions scored."),
        listening_table(listening, "all"),
        (
            "h3",
            f"Cold start: targets with no listening in training ({listening['cold_cases']:,} "
            "sessions)",
        ),
        (
            "p",
            "The same sessions, scored only on target songs that no training session holds: "
            "what a model offers where listening cannot help.",
        ),
        listening_table(listening, "cold")
        if listening["cold_cases"]
        else ("p", "No held-out target lacks training listening: nothing to score here."),
    ]


def guardrail_blocks(state: dict) -> list[tuple]:
    audio = state.get("audio_only") or {}
    circular = [m for m in state["results"] if m not in GENRE_FREE_MODELS]
    text = (
        "Genre metrics are guardrails. Genre is an input to "
        + (", ".join(circular) or "no model")
        + ", so their genre precision and MRR are circular: they score a label the model was "
        "fed, and are never the headline."
    )
    if audio:
        text += (
            f" The honest audio-similarity figure is audio-only genre precision@{audio['k']}: "
            f"plain cosine over the 12 standardized audio features, no genre or artist input, "
            f"= {audio['genre_precision']:.3f} ({audio['seeds']:,} sampled seeds, self and "
            "variants excluded)."
        )
    return [("p", text)]


def build_document(state: dict, evaluation_images: list, charts: list[eda.Chart]) -> list[tuple]:
    """The report's blocks, in order (see the module docstring for the block kinds)."""
    results, manifest = state["results"], state["manifest"]
    doc: list[tuple] = [
        ("h1", f"spotrec evaluation: run {manifest.get('run_id', '?')}"),
        (
            "p",
            f"{len(state['tracks']):,} tracks, k = {DEFAULT_K}. Best model: **{state['best']}**."
            f" {state['reason']}",
        ),
        *(listening_blocks(state["listening"]) if state.get("listening") else []),
        ("h2", "Metrics (all seeds)"),
        *guardrail_blocks(state),
        metric_table(results),
        ("h2", "Bars"),
        (
            "table",
            [
                "model",
                *(f"{metric_label(m)} {op} {t}" for m, (op, t) in BARS.items()),
                "all bars",
                "mean rank",
            ],
            [
                [
                    m,
                    *(format_cell(r["bars"][b]) for b in BARS),
                    format_cell(r["passes_all_bars"]),
                    format_cell(r["mean_rank"]),
                ]
                for m, r in results.items()
            ],
        ),
    ]
    if (blend := state.get("blend_check")) is not None:
        wins = ", ".join(map(metric_label, blend["beats_every_single_model_on"])) or "none"
        doc.append(
            (
                "p",
                f"Blend bar ({format_cell(blend['passes'])}): beats every single model on "
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
            metric_table(results, key="holdout"),
        ]
        learned = {m: results[m]["holdout"][metric] for m in results if m in LEARNED_MODELS}
        if learned:
            top = max(learned, key=learned.get)
            doc.append(
                (
                    "p",
                    f"Held-out bar ({format_cell(learned[top] >= bar)}): the best learned "
                    f"model, {top}, reaches {metric_label(metric)} {learned[top]:.3f} "
                    f"(bar {bar}).",
                )
            )
    summaries = manifest.get("model_summaries") or {}
    scalars = [
        f"{m}: "
        + ", ".join(
            f"{k} = {format_cell(v)}"
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
                f"{metric_label(m)}: range {rng}, {direction}"
                for m, (_, rng, direction) in METRIC_INFO.items()
            ]
            + [
                f"{label}: range {meaning} (held-out listening, {N_SEEDS} seeds, "
                f"hit@{HIT_K} = any target in the top {HIT_K})"
                for label, meaning in LISTENING_METRICS.values()
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


def to_markdown(doc: list[tuple]) -> str:
    """report.md: the blocks as markdown, images linked by file name."""
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


def to_html(doc: list[tuple], out: Path) -> str:
    """report.html: one self-contained page, the images of ``out`` inlined as base64."""

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
