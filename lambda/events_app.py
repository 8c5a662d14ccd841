"""The event write path: POST /v1/events, its own Lambda with its own least-privilege role.

Shaped like Amazon Personalize's PutEvents (see spotrec_serving/events.py for the body). The
read API (app.py) stays read-only; this function may write the events table and read the
items table's CURRENT release only to check tracks and enrich the session summary.
"""

from __future__ import annotations

import base64
import binascii
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from spotrec_serving.config import Config, request_clock
from spotrec_serving.errors import ApiError, BadRequest, error_response
from spotrec_serving.event_ingest import record_events
from spotrec_serving.event_store import make_event_store
from spotrec_serving.events import check_content_type, parse_events_body
from spotrec_serving.factory import make_store

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "spotrec-events")
logger = Logger(service=SERVICE)
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin="*", max_age=600))


def lambda_handler(event: dict, context: object) -> dict:
    with request_clock():  # this request's DynamoDB time budget (config.py)
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        return app.resolve(event, context)


@app.post("/v1/events")
def post_events():
    request = app.current_event
    check_content_type(request.headers.get("content-type"))
    body: str | bytes | None = request.body
    if request.is_base64_encoded and body:
        try:
            body = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    events = parse_events_body(body)
    store = make_store(Config.from_env())
    return record_events(store, make_event_store(), events[0].session_id, events)


@app.exception_handler(ApiError)
def handle_api_error(error: ApiError) -> Response:
    if error.status >= 500:
        logger.warning("service unavailable", extra={"reason": error.message})
    return error_response(error.status, error.message)


@app.not_found
def handle_not_found(_: NotFoundError) -> Response:
    request = app.current_event
    if request.path.rstrip("/") == "/v1/events":
        message = f"method {request.http_method} is not allowed on /v1/events"
        return error_response(405, message, {"Allow": "POST, OPTIONS"})
    return error_response(404, f"no such endpoint: {request.http_method} {request.path[:100]}")


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response:
    logger.exception("unhandled error")
    return error_response(500, "internal server error")
