"""The Lambda handler: Spotify-shaped routes over the precomputed release (no model loaded).

Routes parse and validate, call a business function with the store, and respond. Every failure
is Spotify's error shape {"error": {"status", "message"}}: 4xx for bad input, 503 when the store
cannot answer, 500 (logged, no details) for anything unexpected.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from spotrec_serving import artists
from spotrec_serving.config import Config, request_clock
from spotrec_serving.errors import ApiError, BadRequest, error_response
from spotrec_serving.event_store import optional_event_store
from spotrec_serving.events import check_session_id
from spotrec_serving.factory import make_store
from spotrec_serving.items import TrackSummary
from spotrec_serving.openapi import openapi_document
from spotrec_serving.recommend import RecommendationRequest, check_seed_shape, recommend
from spotrec_serving.release import current_release
from spotrec_serving.route_types import Route
from spotrec_serving.routes import MAX_AUDIO_FEATURES_IDS, route_named, routes_matching
from spotrec_serving.search import search_tracks
from spotrec_serving.spotify import audio_features_object, request_base_url, track_object
from spotrec_serving.tracks import documents_for_ids, one_track_document
from spotrec_serving.tuning import parse_tuning
from spotrec_serving.validation import (
    MAX_IDS_PER_REQUEST,
    MAX_SEEDS,
    parse_int,
    parse_query,
    parse_track_ids,
    single_param,
    split_list,
)

# Switched by environment (template.yaml): POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
# POWERTOOLS_TRACE_DISABLED, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_METRICS_DISABLED.
# The service name must not be "spotrec": Logger takes over the stdlib logger of that name, which
# is the batch package's logger when `spotrec serve` loads this module.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "spotrec-api")
logger = Logger(service=SERVICE)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "spotrec")
)
METRICS_ON = not is_metrics_disabled()


def count(name: str) -> None:
    """Add 1 to a metric. Skipped when metrics are disabled: powertools then never flushes, so
    the values would pile up and print every 100 requests anyway."""
    if METRICS_ON:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", max_age=600))
FUNCTION = "ApiFunction"  # this module's routes in the table (POST /v1/events has its own)

# Route functions registered by name: a test checks every routes.ROUTES entry has one.
REGISTERED: dict[str, Callable] = {}


def route(name: str) -> Callable[[Callable], Callable]:
    """Register a route function under its routes.ROUTES entry (path and method from there)."""
    entry = route_named(name)

    def register(function: Callable) -> Callable:
        REGISTERED[name] = function
        return app.route(entry.resolver_path, method=entry.method)(function)

    return register


def instrumented(handler):
    """Metrics (EMF) and powertools' Tracer (X-Ray), each only when switched on.

    Tracing is on in Lambda unless POWERTOOLS_TRACE_DISABLED: constructing a Tracer imports the
    X-Ray SDK (~200 ms), which local runs and tests should not pay."""
    if METRICS_ON:
        handler = metrics.log_metrics(handler, raise_on_empty_metrics=False)
    tracing_off = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in {"1", "true"}
    if tracing_off or "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler(handler)


@instrumented
def lambda_handler(event: dict, context: object) -> dict:
    with request_clock():  # the DynamoDB time budget of this request (config.py)
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        count("Requests")
        return app.resolve(event, context)


# --- request helpers -----------------------------------------------------------------------------


def param(name: str) -> str | None:
    event = app.current_event
    return single_param(
        event.query_string_parameters, event.multi_value_query_string_parameters, name
    )


def int_param(entry: Route, name: str) -> int | None:
    """An integer query parameter, checked against the range the route table (and so the
    OpenAPI document) declares. Absent: its default, or None when it has none."""
    spec = entry.param(name)
    low, high = spec.int_range
    text = param(name)
    if text is None and spec.default is None:
        return None
    return parse_int(text, name, default=spec.default, low=low, high=high)


def base_url() -> str:
    """SPOTREC_BASE_URL, else scheme://host[/stage] of this request."""
    event = app.current_event
    context_path = (event.raw_event.get("requestContext") or {}).get("path") or ""
    configured = Config.from_env().base_url
    return configured or request_base_url(event.headers, event.path, context_path)


def store():
    return make_store(Config.from_env())


# --- routes --------------------------------------------------------------------------------------


@route("Recommendations")
def get_recommendations():
    entry = route_named("Recommendations")
    if param("per_seed") is not None and param("limit") is not None:
        raise BadRequest("give either 'limit' (total) or 'per_seed' (per seed), not both")
    request = RecommendationRequest(
        seed_tracks=tuple(
            parse_track_ids(param("seed_tracks"), "seed_tracks", max_count=MAX_IDS_PER_REQUEST)
        ),
        seed_genres=tuple(split_list(param("seed_genres"), "seed_genres")),
        seed_artists=tuple(
            artists.parse_artist_ids(param("seed_artists"), "seed_artists", max_count=MAX_SEEDS)
        ),
        limit=int_param(entry, "limit"),
        per_seed=int_param(entry, "per_seed"),
        model=param("model"),
        session_id=session_param(),  # events: session-aware (spotrec_serving/session.py)
        tuning=parse_tuning(param),  # min_*/max_*/target_* (spotrec_serving/tuning.py)
    )
    check_seed_shape(request)  # before any store read: bad input is a 400 even with no release
    count("Recommendations")
    events = optional_event_store() if request.session_id else None
    return recommend(store(), base_url(), request, events)


def session_param() -> str | None:
    session_id = param("session_id")
    return None if session_id is None else check_session_id(session_id, "session_id")


@route("GenreSeeds")
def get_genre_seeds():
    release = current_release(store())
    # Spotify's object is {"genres": [...]}; the models are our addition, for the web page.
    return {
        "genres": release.genres,
        "models": release.models,
        "default_model": release.resolve_model(None),
        "synthetic": bool(release.meta.get("synthetic")),  # the page hides dead Spotify links
    }


@route("Search")
def get_search():
    entry = route_named("Search")
    query = param("q")
    words = parse_query(query)
    kinds = split_list(param("type"), "type")
    if not kinds:
        raise BadRequest("missing parameter 'type' (track, artist or track,artist)")
    if not set(kinds) <= {"track", "artist"} or len(set(kinds)) != len(kinds):
        raise BadRequest(f"unsupported type {param('type')[:40]!r}: use track, artist or both")
    limit, offset = int_param(entry, "limit"), int_param(entry, "offset")
    found = {}  # one paging object per type: {"tracks": ..., "artists": ...}
    for kind in kinds:
        search = search_tracks if kind == "track" else artists.search_artists
        found.update(search(store(), base_url(), query, words, limit, offset))
    return found


@route("Track")
def get_track(id: str):
    document = one_track_document(store(), id)
    return track_object(TrackSummary.decode(document["track"]), base_url())


@route("Tracks")
def get_tracks():
    url = base_url()
    return {
        "tracks": [
            track_object(TrackSummary.decode(doc["track"]), url) if doc else None
            for doc in documents_for_ids(store(), param("ids"), MAX_IDS_PER_REQUEST)
        ]
    }


@route("AudioFeatures")
def get_audio_features(id: str):
    return audio_features_object(one_track_document(store(), id), base_url())


@route("AudioFeaturesSeveral")
def get_several_audio_features():
    url = base_url()
    return {
        "audio_features": [
            audio_features_object(doc, url) if doc else None
            for doc in documents_for_ids(store(), param("ids"), MAX_AUDIO_FEATURES_IDS)
        ]
    }


@route("Artist")
def get_artist(id: str):
    return artists.get_artist(store(), base_url(), id)


@route("Artists")
def get_artists():
    return artists.get_artists(store(), base_url(), param("ids"))


@route("ArtistTopTracks")
def get_artist_top_tracks(id: str):
    return artists.top_tracks(store(), base_url(), id)  # market/country: accepted, ignored


@route("ArtistRelatedArtists")
def get_related_artists(id: str):
    return artists.related_artists(store(), base_url(), id)


@route("OpenApi")
def get_openapi():
    return openapi_document(base_url())


# --- errors --------------------------------------------------------------------------------------


@app.exception_handler(ApiError)
def handle_api_error(error: ApiError) -> Response:
    kind = "ClientErrors" if error.status < 500 else "StoreUnavailable"
    count(kind)
    if error.status >= 500:
        logger.warning("service unavailable", extra={"reason": error.message})
    return error_response(error.status, error.message)


@app.not_found
def handle_not_found(_: NotFoundError) -> Response:
    event = app.current_event
    matching = [r for r in routes_matching(event.path) if r.function == FUNCTION]
    methods = sorted({entry.method for entry in matching})
    if matching and event.http_method not in methods:
        allowed = ", ".join([*methods, "OPTIONS"])
        message = f"method {event.http_method} is not allowed on {event.path[:100]}"
        return error_response(405, message, {"Allow": allowed})
    if matching:  # the route's pattern matched but the resolver refused the path parameter
        return error_response(400, f"invalid path parameter in {event.path[:100]!r}")
    return error_response(404, f"no such endpoint: {event.http_method} {event.path[:100]}")


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response:
    logger.exception("unhandled error")
    return error_response(500, "internal server error")
