"""Trends in the build (trend_build.py, models/trend_lists.py): a planted rising track surfaces
after the next build, first in the ``trending`` lists of the tracks whose hybrid list holds it
(and through the API's model=trending), and higher in the tie-broken hybrid; a week without a
rise leaves it where it was. By construction: six tastes of 60 tracks, 40 sessions a day of
one taste each; the rising track is taste 0's least played member, heard about once a day for
six days, then in every taste-0 session of day 6."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from neighbour_contract import assert_neighbour_contract
from spotrec import schema
from spotrec.cli import main
from spotrec.data.synth import write_synthetic_csv

DAY0 = pd.Timestamp("2026-03-01", tz="UTC")
SESSIONS_PER_DAY, TOP_N = 42, 20
MODELS = "cosine,colistening,hybrid,trending"


def timed_sessions(track_ids, tastes, day: int, seed: int) -> pd.DataFrame:
    from listening_factories import planted_sessions

    events = planted_sessions(
        track_ids, tastes, n_sessions=SESSIONS_PER_DAY, seed=seed, prefix=f"d{day}-"
    )
    session_no = events["session_id"].str.split("-").str[1].astype(int)
    minutes = pd.to_timedelta(30 * session_no + events["position"], unit="min")  # within the day
    return events.assign(event="play", timestamp=DAY0 + pd.Timedelta(days=day) + minutes)


def with_rising(events: pd.DataFrame, rising: str, sessions: list[str]) -> pd.DataFrame:
    """One play of ``rising`` at the end of each of ``sessions`` that does not hold it yet."""
    last = events[events["session_id"].isin(sessions)].groupby("session_id").tail(1)
    last = last[~last["session_id"].isin(events.loc[events["track_id"] == rising, "session_id"])]
    added = last.assign(
        track_id=rising,
        position=last["position"] + 1,
        timestamp=last["timestamp"] + pd.Timedelta("3min"),
    )
    return pd.concat([events, added], ignore_index=True)


def build(out: Path, data: Path, events: pd.DataFrame) -> dict:
    log = out.parent / f"{out.name}-events.csv"
    events.loc[:, ["session_id", "track_id", "event", "timestamp"]].to_csv(log, index=False)
    args = ["--models", MODELS, "--top-n", str(TOP_N), "--listening-top-n", str(TOP_N)]
    args += ["--heldout-share", "0"]
    argv = ["build", "--data", str(data), "--out", str(out), *args, "--interactions", str(log)]
    assert main(argv) == 0
    return json.loads((out / schema.MANIFEST_FILE).read_text())


def lists(out: Path, model: str) -> pd.DataFrame:
    return pd.read_parquet(out / schema.NEIGHBOURS_DIR / f"{model}.parquet")


def ranks_of(frame: pd.DataFrame, track: str) -> pd.Series:
    """Rank of ``track`` in each list holding it, by seed."""
    hits = frame[frame[schema.NB_NEIGHBOUR_ID] == track]
    return hits.set_index(schema.NB_TRACK_ID)[schema.NB_RANK]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from spotrec.data.ingest import load_catalogue

    root = tmp_path_factory.mktemp("trend")
    data = write_synthetic_csv(root / "catalogue.csv.gz", n_tracks=900, seed=5)
    tracks = load_catalogue(data).tracks
    ids = tracks[schema.TRACK_ID].to_numpy()
    rng = np.random.default_rng(3)
    tastes = np.full(len(tracks), -1)
    tastes[rng.choice(len(tracks), size=360, replace=False)] = np.arange(360) % 6
    rising = ids[np.flatnonzero(tastes == 0)[-1]]  # the least played member of taste 0
    week = pd.concat([timed_sessions(ids, tastes, d, seed=d) for d in range(7)], ignore_index=True)
    taste0 = [s for s in week["session_id"].unique() if int(s.split("-")[1]) % 6 == 0]
    steady = [s for s in taste0 if not s.startswith("d6-")][::7]  # ~1 session a day
    flat = with_rising(week, rising, steady)
    rise = with_rising(flat, rising, [s for s in taste0 if s.startswith("d6-")])
    before = build(root / "before", data, flat)
    after = build(root / "after", data, rise)
    return {
        "root": root,
        "data": data,
        "tracks": tracks,
        "rising": rising,
        "before": before,
        "after": after,
    }


def test_trending_is_a_model_of_the_release_but_never_the_default(world):
    for manifest in (world["before"], world["after"]):
        assert manifest["models"] == ["cosine", "colistening", "hybrid", "trending"]
        assert manifest["default_model"] != "trending"
    for model in ("hybrid", "trending"):
        assert_neighbour_contract(world["tracks"], lists(world["root"] / "after", model), TOP_N)


def test_the_rising_track_tops_the_trend_table_only_after_it_rises(world):
    after = pd.read_parquet(world["root"] / "after" / "listening" / "trending.parquet")
    assert after["track_id"].iloc[0] == world["rising"]
    assert after["recent"].iloc[0] >= 3 * max(after["previous"].iloc[0], 1)
    before = pd.read_parquet(world["root"] / "before" / "listening" / "trending.parquet")
    assert world["rising"] not in set(before["track_id"].head(5))


def test_trending_lists_put_the_rising_track_first_among_the_same_neighbours(world):
    out, rising = world["root"] / "after", world["rising"]
    hybrid, trending = lists(out, "hybrid"), lists(out, "trending")
    holders = ranks_of(hybrid, rising)
    assert len(holders) >= 10
    assert (ranks_of(trending, rising).reindex(holders.index) == 1).all()
    same = hybrid.groupby(schema.NB_TRACK_ID)[schema.NB_NEIGHBOUR_ID].apply(frozenset)
    assert same.equals(
        trending.groupby(schema.NB_TRACK_ID)[schema.NB_NEIGHBOUR_ID].apply(frozenset)
    )
    before = ranks_of(lists(world["root"] / "before", "trending"), rising)
    assert (before > 1).mean() > 0.8  # without the rise it is not put first


def test_the_tie_breaker_lifts_the_rising_track_in_the_hybrid(world, monkeypatch, tmp_path):
    import shutil

    from spotrec import trend_build

    ranks = {}
    for weight in (0.0, 3.0):  # the same build's finish stage, without and with the tie-break
        out = tmp_path / f"w{weight}"
        shutil.copytree(world["root"] / "after", out)
        monkeypatch.setattr(trend_build, "TIE_BREAK_WEIGHT", weight)
        assert main(["build", "--out", str(out), "--stage", "finish"]) == 0
        ranks[weight] = ranks_of(lists(out, "hybrid"), world["rising"])
    plain, tied = ranks[0.0], ranks[3.0]
    assert set(tied.index) == set(plain.index)  # no list gained or lost it
    moved = plain - tied.reindex(plain.index)
    assert (moved >= 0).all() and (moved > 0).sum() >= 5
    # A light touch: about 3 places on average (the step is a list's mean gap between ranks,
    # so it moves further in a list's tail, where the hybrid's scores are closer together).
    assert moved.mean() <= 3.5 and moved.max() <= 10


def test_the_api_answers_model_trending_with_the_rising_track_first(world, monkeypatch):
    context = SimpleNamespace(
        function_name="spotrec",
        memory_limit_in_mb=256,
        aws_request_id="req-1",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:spotrec",
    )
    out, rising = world["root"] / "after", world["rising"]
    seed = ranks_of(lists(out, "trending"), rising).index[0]
    monkeypatch.setenv("SPOTREC_STORE", str(out / "store.sqlite"))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    import app

    events = Path(__file__).resolve().parents[1] / "events"
    event = json.loads((events / "recommend.json").read_text())
    query = {"seed_tracks": seed, "limit": "5", "model": "trending"}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    response = app.lambda_handler(event, context)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["tracks"][0]["id"] == rising


@pytest.mark.parametrize("stamp", [pd.NaT, DAY0])
def test_trending_is_built_only_from_timestamped_listening(tmp_path, stamp):
    from spotrec.errors import SpotrecError
    from spotrec.trend_build import plan_trending

    (tmp_path / "listening").mkdir()
    train = pd.DataFrame({schema.LS_TIMESTAMP: pd.Series([stamp] * 3, dtype="datetime64[ns, UTC]")})
    train.to_parquet(tmp_path / schema.LISTENING_TRAIN_FILE)
    models = ["cosine", "colistening", "hybrid", "trending"]
    if pd.isna(stamp):  # an MPD slice without times: nothing can be seen rising
        assert plan_trending(models, tmp_path, explicit=False) == models[:3]
        with pytest.raises(SpotrecError, match="timestamps"):
            plan_trending(models, tmp_path, explicit=True)
    else:
        assert plan_trending(models, tmp_path, explicit=True) == models
