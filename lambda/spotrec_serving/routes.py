"""The route table: the ONE description of the API's routes.

Everything else is derived from ``ROUTES``:

* app.py registers each route function with ``route(NAME)`` (path, method from here) and reads
  integer parameters' ranges from here, so the spec and the checks cannot disagree;
* the OpenAPI 3.1 document (openapi.py), served at GET /v1/openapi.json;
* template.yaml's Api events (``python -m spotrec.api_routes --write`` rewrites them; a test
  checks they agree);
* the local server's resource list (spotrec.apigw_event) and app.py's "known path" (405) logic.

Adding a route = one ``Route`` entry here + one function in app.py decorated with
``@route("Name")`` (DEVELOPERS.md, "Adding a route"). What an entry says (``Param``, ``Route``)
is route_types.py. Stdlib only: this runs in the Lambda.
"""

from __future__ import annotations

from typing import Any

from spotrec_serving.artists import MAX_ARTIST_IDS
from spotrec_serving.items import TRACK_ID_PATTERN
from spotrec_serving.route_types import Param, Route, id_list_schema, int_schema
from spotrec_serving.tuning import ATTRIBUTE_RANGES, PREFIXES
from spotrec_serving.validation import MAX_IDS_PER_REQUEST as MAX_IDS
from spotrec_serving.validation import MAX_QUERY_CHARS, MAX_SEEDS
from spotrec_serving.validation import MAX_RESULTS as MAX_LIMIT

TRACK_ID_REGEX = TRACK_ID_PATTERN.pattern
MAX_AUDIO_FEATURES_IDS = 100  # Spotify's limit for GET /v1/audio-features?ids=


def _tuning_params() -> tuple[Param, ...]:
    """min_*/max_*/target_* for the 14 tunable attributes (spotrec_serving/tuning.py), with
    Spotify's types and ranges."""
    meaning = {
        "min_": "Hard floor: every returned track has {a} >= this.",
        "max_": "Hard ceiling: every returned track has {a} <= this.",
        "target_": "Re-rank by closeness of {a} to this (README: tunable attributes).",
    }
    params = []
    for attribute, (integer, low, high) in ATTRIBUTE_RANGES.items():
        schema: dict[str, Any] = {"type": "integer" if integer else "number"}
        if low is not None:
            schema["minimum"] = low
        if high is not None:
            schema["maximum"] = high
        for prefix in PREFIXES:
            params.append(Param(prefix + attribute, meaning[prefix].format(a=attribute), schema))
    return tuple(params)


NON_EMPTY = {"type": "string", "minLength": 1}
# Sent by spotipy (market on tracks/search/recommendations; country on artist top-tracks) and
# accepted so such clients work; the catalogue has no per-market availability to apply.
MARKET = Param("market", "Accepted and ignored: the catalogue has no per-market availability.")
TRACK_ID = Param(
    "id",
    "A Spotify track id (22 base-62 characters).",
    {"type": "string", "pattern": TRACK_ID_REGEX},
    location="path",
    required=True,
)
ARTIST_ID = Param(
    "id",
    "An artist id (22 base-62 characters, derived from the normalised name; README: artists).",
    {"type": "string", "pattern": TRACK_ID_REGEX},
    location="path",
    required=True,
)
COUNTRY = Param("country", "Accepted and ignored (spotipy sends it to top-tracks).")
SEARCH_TYPE = "^(track|artist)(,(track|artist))?$"

ROUTES: tuple[Route, ...] = (
    Route(
        "Recommendations",
        "GET",
        "/v1/recommendations",
        "Tracks like up to 5 seeds (tracks, artists, genres), merged from precomputed lists.",
        (
            Param(
                "seed_tracks",
                f"Comma-separated track ids. At least one seed in total, at most {MAX_SEEDS} with "
                "seed_artists and seed_genres.",
                id_list_schema(MAX_SEEDS),
            ),
            Param(
                "seed_artists",
                "Comma-separated artist ids (GET /v1/artists/{id}); counted within the 5 seeds.",
                id_list_schema(MAX_SEEDS),
            ),
            Param(
                "seed_genres",
                "Comma-separated genres from /v1/recommendations/available-genre-seeds.",
                NON_EMPTY,
            ),
            Param(
                "limit",
                "How many tracks in total (reciprocal rank fusion).",
                int_schema(1, MAX_LIMIT, 20),
            ),
            Param(
                "per_seed",
                "Instead of limit: this many tracks per seed, interleaved in seed order.",
                int_schema(1, MAX_LIMIT),
            ),
            Param(
                "model",
                "A model from available-genre-seeds' `models` (default: the best).",
                NON_EMPTY,
            ),
            MARKET,
            *_tuning_params(),
        ),
        ("Recommendations", "Recommendations"),
        errors=(400, 404, 503),
    ),
    Route(
        "GenreSeeds",
        "GET",
        "/v1/recommendations/available-genre-seeds",
        "The genres usable as seed_genres, and the models of the current release.",
        response=("Genres", "GenreSeeds"),
        errors=(503,),
    ),
    Route(
        "Search",
        "GET",
        "/v1/search",
        "Search tracks (words of name and artists) and artists (words of their name).",
        (
            Param(
                "q",
                "The query: words matched as prefixes of the name, artists and album words.",
                {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
                required=True,
            ),
            Param(
                "type",
                "`track`, `artist`, or both comma-separated (one paging object each).",
                {"type": "string", "pattern": SEARCH_TYPE},
                required=True,
            ),
            Param("limit", "Page size.", int_schema(1, 50, 20)),
            Param("offset", "Index of the first item.", int_schema(0, 1000, 0)),
            MARKET,
        ),
        ("A page of tracks", "SearchResult"),
    ),
    Route(
        "Track",
        "GET",
        "/v1/tracks/{id}",
        "One track.",
        (TRACK_ID, MARKET),
        ("A track", "Track"),
        errors=(400, 404, 503),
    ),
    Route(
        "Tracks",
        "GET",
        "/v1/tracks",
        "Several tracks (null in place of an unknown id).",
        (
            Param(
                "ids",
                f"Comma-separated track ids (at most {MAX_IDS}).",
                id_list_schema(MAX_IDS),
                required=True,
            ),
            MARKET,
        ),
        ("Tracks", "Tracks"),
    ),
    Route(
        "AudioFeatures",
        "GET",
        "/v1/audio-features/{id}",
        "The audio features of one track.",
        (TRACK_ID,),
        ("Audio features", "AudioFeatures"),
        errors=(400, 404, 503),
    ),
    Route(
        "AudioFeaturesSeveral",
        "GET",
        "/v1/audio-features",
        "The audio features of several tracks (null in place of an unknown id).",
        (
            Param(
                "ids",
                f"Comma-separated track ids (at most {MAX_AUDIO_FEATURES_IDS}).",
                id_list_schema(MAX_AUDIO_FEATURES_IDS),
                required=True,
            ),
        ),
        ("Audio features", "AudioFeaturesList"),
    ),
    Route(
        "Artist",
        "GET",
        "/v1/artists/{id}",
        "One artist: name, genres, popularity and track count.",
        (ARTIST_ID, MARKET),
        ("An artist", "Artist"),
        errors=(400, 404, 503),
    ),
    Route(
        "Artists",
        "GET",
        "/v1/artists",
        "Several artists (null in place of an unknown id).",
        (
            Param(
                "ids",
                f"Comma-separated artist ids (at most {MAX_ARTIST_IDS}).",
                id_list_schema(MAX_ARTIST_IDS),
                required=True,
            ),
            MARKET,
        ),
        ("Artists", "Artists"),
    ),
    Route(
        "ArtistTopTracks",
        "GET",
        "/v1/artists/{id}/top-tracks",
        "The artist's 10 most popular tracks, one per song.",
        (ARTIST_ID, MARKET, COUNTRY),
        ("Tracks", "TrackList"),
        errors=(400, 404, 503),
    ),
    Route(
        "ArtistRelatedArtists",
        "GET",
        "/v1/artists/{id}/related-artists",
        "Up to 20 artists whose tracks the default model puts next to this artist's.",
        (ARTIST_ID,),
        ("Artists", "ArtistList"),
        errors=(400, 404, 503),
    ),
    Route(
        "OpenApi",
        "GET",
        "/v1/openapi.json",
        "This document: the OpenAPI 3.1 description of the API.",
        response=("The OpenAPI document", "Object"),
        errors=(),
    ),
    Route(
        "PostEvents",
        "POST",
        "/v1/events",
        "Record plays, likes, saves and skips of one session (shaped like Personalize PutEvents).",
        response=("Accepted (duplicates of earlier events are counted once)", "EventsAccepted"),
        errors=(400, 404, 413, 415, 503),
        description=(
            "Served by its own function (EventsFunction) with a write-only role. Idempotent: an "
            "event's key is its event_id, else a hash of session, track, event and timestamp."
        ),
        function="EventsFunction",
        request_body="EventsRequest",
    ),
)

ROUTES_BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}


def routes_of(function: str) -> tuple[Route, ...]:
    """The routes one template function serves (app.py serves "ApiFunction")."""
    return tuple(r for r in ROUTES if r.function == function)


def route_named(name: str) -> Route:
    return ROUTES_BY_NAME[name]


def routes_matching(path: str) -> list[Route]:
    """The routes whose path pattern matches a concrete path (any method)."""
    return [r for r in ROUTES if r.pattern.match(path)]
