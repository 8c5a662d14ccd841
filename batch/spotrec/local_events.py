"""`spotrec serve`'s events route: POST /v1/events goes to lambda/events_app.py, as API Gateway
sends it to the separate EventsFunction in AWS; every other request goes to the API handler.

Events land in the SQLite event store beside the release store (``events.sqlite`` next to
``SPOTREC_STORE``), or in ``SPOTREC_EVENTS_TABLE`` when that is set.
"""

from __future__ import annotations

from spotrec.apigw_event import LambdaHandler, load_lambda_handler

EVENTS_PATH = "/v1/events"


def with_events_route(api_handler: LambdaHandler) -> LambdaHandler:
    """A handler sending /v1/events to the events function and the rest to ``api_handler``."""
    events_handler = load_lambda_handler("events_app")  # lambda/events_app.py

    def route(event: dict, context: object) -> dict:
        if event.get("path", "").rstrip("/") == EVENTS_PATH:
            return events_handler(event, context)
        return api_handler(event, context)

    return route
