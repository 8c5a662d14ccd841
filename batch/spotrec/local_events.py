"""`spotrec serve`'s events route: POST /v1/events goes to lambda/events_app.py, as API Gateway
sends it to the separate EventsFunction in AWS; every other request goes to the API handler.

Events land in the SQLite event store beside the release store (``events.sqlite`` next to
``SPOTREC_STORE``), or in ``SPOTREC_EVENTS_TABLE`` when that is set.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from spotrec.apigw_event import LAMBDA_DIR, LambdaHandler, load_lambda_handler

EVENTS_PATH = "/v1/events"


def load_events_handler(lambda_dir: Path = LAMBDA_DIR) -> LambdaHandler:
    """`lambda_handler` of lambda/events_app.py (imported by file path, like app.py)."""
    load_lambda_handler(lambda_dir)  # puts lambda/ on sys.path, as for the API
    app_file = lambda_dir / "events_app.py"
    loaded = sys.modules.get("events_app")
    if loaded is None or Path(getattr(loaded, "__file__", "")).resolve() != app_file:
        spec = importlib.util.spec_from_file_location("events_app", app_file)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["events_app"] = loaded
        spec.loader.exec_module(loaded)
    return loaded.lambda_handler


def with_events_route(api_handler: LambdaHandler) -> LambdaHandler:
    """A handler sending /v1/events to the events function and the rest to ``api_handler``."""
    events_handler = load_events_handler()

    def route(event: dict, context: object) -> dict:
        if event.get("path", "").rstrip("/") == EVENTS_PATH:
            return events_handler(event, context)
        return api_handler(event, context)

    return route
