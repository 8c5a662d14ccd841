"""Helpers for the Lambda tests: a tiny hand-made release whose recommendations and search
answers are known by construction, and helpers to drive the handler with the real API Gateway
events of tests/events/. No pandas/numpy anywhere here."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

from spotrec.writers.items import ListsByIndex, ReleaseCatalogue, assemble_release
from spotrec_serving.items import genre_key, pack_list

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
RUN_ID = "20240101T000000Z-test0001"


def tid(name: str) -> str:
    """A valid 22-character base-62 id that reads as its name: tid("alpha") = "alpha000..."."""
    return (name + "0" * 22)[:22]


A, A2, B, C, D, E, F, G, H, H2, HG, K = (
    tid(n)
    for n in (
        "alpha",
        "alpha2",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "hotel2",
        "india",
        "kilo",
    )
)
UNKNOWN = tid("zzzunknown")

# id: (name, artists, album, popularity, genres, song, holdout)
TRACKS = {
    A: ("Halo", ["Beyoncé"], "I Am... Sasha Fierce", 90, ["pop"], "song-a", False),
    A2: ("Halo", ["Beyoncé"], "Halo (Single)", 40, ["pop"], "song-a", False),
    B: ("Hello", ["Adele"], "25", 85, ["pop", "soul"], "song-b", False),
    C: (
        "Crazy in Love",
        ["Beyoncé", "JAY-Z"],
        "Dangerously in Love",
        80,
        ["pop", "r-n-b"],
        "song-c",
        False,
    ),
    D: ("Rolling in the Deep", ["Adele"], "21", 75, ["soul"], "song-d", False),
    E: ("Single Ladies", ["Beyoncé"], "I Am... Sasha Fierce", 70, ["pop"], "song-e", False),
    F: ("Someone Like You", ["Adele"], "21", 65, ["soul"], "song-f", False),
    G: ("Hey Jude", ["The Beatles"], "Hey Jude", 60, ["rock"], "song-g", False),
    H: ("Let It Be", ["The Beatles"], "Let It Be", 55, ["rock"], "song-h", False),
    H2: ("Let It Be", ["The Beatles"], "Let It Be... Naked", 50, ["rock"], "song-h", False),
    HG: ("Hello Goodbye", ["The Beatles"], "Magical Mystery Tour", 45, ["rock"], "song-i", False),
    K: ("Zombie", ["The Cranberries"], "No Need to Argue", 95, ["rock"], "song-k", True),
}

# Neighbour lists (rank order) per model; scores fall by 0.1 per rank from 0.9.
NEIGHBOURS = {
    "cosine": {
        A: [C, E, B, H, D],
        A2: [E, C, G],
        B: [D, H2, C, A, F],
        C: [A, E, B],
        E: [A, C, K],
        G: [H, HG, K],
    },
    "blend": {A: [E, D, C], B: [F, D]},
}
GENRE_LISTS = {"rock": [G, H, HG], "pop": [A, C, E, B], "soul": [D, F, B], "r-n-b": [C]}
FEATURES = {
    "danceability": 0.5,
    "energy": 0.7,
    "key": 5,
    "loudness": -6.5,
    "mode": 1,
    "speechiness": 0.05,
    "acousticness": 0.1,
    "instrumentalness": 0.0,
    "liveness": 0.2,
    "valence": 0.4,
    "tempo": 120.0,
    "time_signature": 4,
}


def summary(track_id: str) -> list:
    name, artists, album, popularity, genres, song, holdout = TRACKS[track_id]
    return [
        track_id,
        name,
        artists,
        album,
        200_000,
        False,
        popularity,
        [] if holdout else genres,
        song,
    ]


def catalogue() -> ReleaseCatalogue:
    return ReleaseCatalogue(
        ids=list(TRACKS),
        summaries=[summary(t) for t in TRACKS],
        popularity=[TRACKS[t][3] for t in TRACKS],
        genres=[summary(t)[7] for t in TRACKS],
        song_ids=[TRACKS[t][5] for t in TRACKS],
        features=[dict(FEATURES, energy=0.1 * n) for n in range(len(TRACKS))],
    )


def release_items() -> list[tuple[str, dict | bytes]]:
    """The release the batch writer makes from these lists (assemble_release), with the genre
    lists replaced by the hand-made GENRE_LISTS."""
    position = {track_id: i for i, track_id in enumerate(TRACKS)}

    def table(lists: dict[str, list[str]]):
        scored = {
            position[seed]: (
                [position[t] for t in ranked],
                [0.9 - 0.1 * r for r in range(len(ranked))],
            )
            for seed, ranked in lists.items()
        }
        return lambda: ListsByIndex(scored, len(TRACKS))

    meta = {
        "run_id": RUN_ID,
        "created": "2024-01-01T00:00:00Z",
        "default_model": "cosine",
        "top_n": 5,
    }
    items = dict(
        assemble_release(
            catalogue(),
            {model: table(lists) for model, lists in NEIGHBOURS.items()},
            meta,
            search_max_prefix=10,
            search_cap=200,
            pool_size=0,  # lists as short as written: genre fallback pools in test_pools.py
        )
    )
    for model in NEIGHBOURS:
        for genre, members in GENRE_LISTS.items():
            packed = pack_list(None, [position[t] for t in members], [1.0] * len(members))
            items[genre_key(model, genre)] = packed
    meta_first = sorted(items.items(), key=lambda kv: kv[0] != "META")  # names the run id
    return meta_first


LAMBDA_CONTEXT = SimpleNamespace(
    function_name="spotrec",
    memory_limit_in_mb=256,
    aws_request_id="req-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:spotrec",
)


def response_headers(response: dict) -> dict[str, str]:
    """A REST proxy response's headers (powertools answers in multiValueHeaders)."""
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(values)
    return headers


def with_header(event: dict, name: str, value: str) -> dict:
    """The event with one more header, in both forms API Gateway sends."""
    event = copy.deepcopy(event)
    event["headers"][name] = value
    event["multiValueHeaders"][name] = [value]
    return event


def load_event(name: str) -> dict:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def with_query(event: dict, **params: str | list[str] | None) -> dict:
    """The event with its query replaced (both single- and multi-value forms, as API Gateway
    sends them); a list value is a repeated parameter."""
    event = copy.deepcopy(event)
    single = {k: (v[-1] if isinstance(v, list) else v) for k, v in params.items() if v is not None}
    multi = {k: (v if isinstance(v, list) else [v]) for k, v in params.items() if v is not None}
    event["queryStringParameters"] = single or None
    event["multiValueQueryStringParameters"] = multi or None
    return event


def with_path(event: dict, path: str, **path_parameters: str) -> dict:
    event = copy.deepcopy(event)
    event["path"] = path
    event["requestContext"]["path"] = "/prod" + path
    event["pathParameters"] = path_parameters or None
    return event
