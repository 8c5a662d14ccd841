"""Choose the hybrid's trend tie-break weight (trend_build.TIE_BREAK_WEIGHT) on a time split.

    python scripts/tune_trend_weight.py [--tracks 3000] [--sessions 6000] [--days 28]
        [--after-days 3] [--weights 0,1,2,3,5,8,13,30] [--seed 0]

Protocol (evaluation/trend_split.py): synthetic listening with planted tastes
(data/listening/planted.py) over a synthetic catalogue, its sessions spread over the last
``--days`` days; sessions starting in the last ``--after-days`` are "after", the rest "before".
The build (cosine, colistening, hybrid; heldout share 0) sees only "before"; the trend is read
at the cutoff from "before"; each weight tie-breaks the same plain hybrid lists and is scored on
the "after" sessions (5 seeds, the rest targets, the API's merge). Two worlds:

* ``rising``: in half the tastes one less popular track catches on: it joins a session of its
  taste with probability 2% until ``--ramp-days`` before the end, then rising linearly to 60%;
* ``steady``: the same sessions with no planted rise (what the tie-break costs when nothing
  real is rising, only noise).

Prints one row per (world, weight): NDCG@100, R-precision, recall@100, hit@10, all and cold;
and where the planted rising tracks land when they are a session's targets (rising_mean_rank in
the merged 100, rising_top10 share; in the steady world the same tracks, which do not rise).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema, trend_build
from spotrec.data.ingest import load_catalogue
from spotrec.data.listening import load_listening
from spotrec.data.listening.planted import END, events_log, generate_sessions
from spotrec.data.synth import write_synthetic_csv
from spotrec.evaluation.trend_split import evaluate_tie_break_weights, split_by_time
from spotrec.neighbour_files import read_index_matrix
from spotrec.pipeline import BuildConfig, run_build

BASE_P, PEAK_P = 0.02, 0.6
LOG_COLUMNS = [schema.LS_SESSION_ID, schema.LS_TRACK_ID, schema.LS_EVENT, schema.LS_TIMESTAMP]


def retime(events: pd.DataFrame, days: float, rng: np.random.Generator) -> pd.DataFrame:
    """Each session moved, whole, to a uniform start in the ``days`` before END."""
    codes = events[schema.LS_SESSION_ID].cat.codes.to_numpy()
    first = events.groupby(codes)[schema.LS_TIMESTAMP].min()
    span = pd.Timedelta(days=days)
    start = END - span + pd.to_timedelta(rng.random(len(first)) * span.total_seconds(), unit="s")
    shift = pd.Series(start, index=first.index) - first  # a Timedelta per session
    return events.assign(timestamp=events[schema.LS_TIMESTAMP] + shift.reindex(codes).array)


def plant_rising(
    events: pd.DataFrame, planted: dict, tracks: pd.DataFrame, ramp_days: float, rng
) -> tuple[pd.DataFrame, list[str]]:
    """In half the tastes, one track from the less popular half of the taste catches on."""
    taste_of_row, session_taste = planted["taste_of_row"], planted["session_taste"]
    n_tastes = len(planted["taste_genres"])
    popularity = tracks[schema.POPULARITY].to_numpy()
    rising_row = {}
    for taste in rng.choice(n_tastes, size=n_tastes // 2, replace=False):
        members = np.flatnonzero(taste_of_row == taste)
        if len(members) >= 10:
            quiet = members[popularity[members] <= np.median(popularity[members])]
            rising_row[int(taste)] = int(rng.choice(quiet))
    codes = events[schema.LS_SESSION_ID].cat.codes.to_numpy()
    first = events.groupby(codes)[schema.LS_TIMESTAMP].min()
    ramp_start = END - pd.Timedelta(days=ramp_days)
    progress = ((first - ramp_start) / pd.Timedelta(days=ramp_days)).clip(lower=0).to_numpy()
    chance = np.where(progress > 0, BASE_P + (PEAK_P - BASE_P) * progress, BASE_P)
    ids = tracks[schema.TRACK_ID].to_numpy()
    added = []
    for session, p in zip(first.index, chance, strict=True):
        taste = int(session_taste[session])
        if taste in rising_row and rng.random() < p:
            rows = np.flatnonzero(codes == session)
            row = events.iloc[int(rng.choice(rows))]
            added.append(
                {
                    schema.LS_SESSION_ID: row[schema.LS_SESSION_ID],
                    schema.LS_TRACK_ID: ids[rising_row[taste]],
                    schema.LS_EVENT: "play",
                    schema.LS_TIMESTAMP: row[schema.LS_TIMESTAMP] + pd.Timedelta(seconds=10),
                }
            )
    log = pd.concat([events[LOG_COLUMNS].astype({schema.LS_EVENT: str}), pd.DataFrame(added)])
    return log.reset_index(drop=True), [ids[r] for r in rising_row.values()]


def evaluate_world(name, log, data, tracks, args, work: Path, focus) -> pd.DataFrame:
    full = work / f"{name}-all.csv"
    log[LOG_COLUMNS].to_csv(full, index=False)
    events = load_listening([full], tracks).events  # positions as any user's file gets them
    cutoff = END - pd.Timedelta(days=args.after_days)
    before, after = split_by_time(events, cutoff)
    before_file = work / f"{name}-before.csv"
    before[LOG_COLUMNS].to_csv(before_file, index=False)
    out = work / name
    trend_build.TIE_BREAK_WEIGHT = 0.0  # the plain hybrid: each weight is applied below
    config = BuildConfig(
        out=out,
        data=data,
        models=("cosine", "colistening", "hybrid"),
        top_n=100,
        interactions=(before_file,),
        heldout_share=0.0,
        seed=args.seed,
        write_store=False,
    )
    run_build(config)
    built = pd.read_parquet(out / schema.TRACKS_FILE)
    ids = built[schema.TRACK_ID].to_numpy()
    indices, scores = read_index_matrix(out / schema.NEIGHBOURS_DIR / "hybrid.parquet", ids, 100)
    result = evaluate_tie_break_weights(
        built,
        indices,
        scores,
        before,
        after,
        args.weights,
        cutoff=cutoff,
        seed=args.seed,
        focus=focus,
    )
    print(
        f"{name}: {result['cases']} after-cutoff sessions ({result['cold_cases']} with cold "
        f"targets), {result['rising_tracks']} tracks rising at the cutoff, "
        f"{before[schema.LS_SESSION_ID].nunique()} sessions before"
    )
    rows = []
    for weight, metrics in result["weights"].items():
        row = {"world": name, "weight": weight}
        row.update({k: metrics["all"][k] for k in ("ndcg", "r_precision", "recall", "hit")})
        row.update({f"cold_{k}": metrics["cold"][k] for k in ("ndcg", "recall")})
        row.update({f"rising_{k}": v for k, v in metrics["focus"].items()})
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=6000)
    parser.add_argument("--days", type=float, default=28)
    parser.add_argument("--after-days", type=float, default=3)
    parser.add_argument("--ramp-days", type=float, default=10)
    parser.add_argument("--weights", default="0,1,2,3,5,8,13,30")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.weights = [float(w) for w in args.weights.split(",")]
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = write_synthetic_csv(work / "catalogue.csv.gz", n_tracks=args.tracks, seed=args.seed)
        tracks = load_catalogue(data).tracks
        planted = generate_sessions(tracks, args.sessions, seed=args.seed)
        steady = retime(events_log(tracks, planted), args.days, rng)
        rising, names = plant_rising(steady, planted, tracks, args.ramp_days, rng)
        print(f"planted {len(names)} rising tracks, {len(rising) - len(steady)} extra plays")
        tables = [
            evaluate_world("rising", rising, data, tracks, args, work, names),
            evaluate_world(
                "steady", steady.astype({schema.LS_EVENT: str}), data, tracks, args, work, names
            ),
        ]
    with pd.option_context("display.width", 160, "display.precision", 4):
        print(pd.concat(tables).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
