"""The OpenAPI 3.1 document, derived from the route table (routes.ROUTES).

The named response schemas are openapi_schemas.py's (fields clients rely on; more allowed).
Every error is Spotify's shape, built by errors.error_body; a 503 also carries ``Retry-After``.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from spotrec_serving.openapi_schemas import SCHEMAS
from spotrec_serving.route_types import Route
from spotrec_serving.routes import ROUTES

TITLE = "spotrec"
VERSION = "1.0.0"
ERROR_DESCRIPTIONS = {
    400: "Bad request: a parameter is missing, malformed or out of range",
    404: "Unknown id",
    405: "Method not allowed",
    413: "The body is over 16 KB",
    415: "The body is not application/json",
    503: "The store cannot answer (no release yet, throttled, timed out); retry later",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(route: Route) -> dict[str, Any]:
    description, schema = route.response
    responses: dict[str, Any] = {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": _ref(schema)}},
        }
    }
    for status in route.errors:
        response: dict[str, Any] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        if status == 503:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        responses[str(status)] = response
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "responses": responses,
    }
    if route.description:
        operation["description"] = route.description
    if route.request_body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(route.request_body)}},
        }
    if route.parameters:
        operation["parameters"] = [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required or p.location == "path",
                "description": p.description,
                "schema": copy.deepcopy(p.schema),
            }
            for p in route.parameters
        ]
    return operation


@functools.cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Spotify Web API shaped recommendations from precomputed neighbours. Errors are "
                'Spotify\'s shape {"error": {"status", "message"}}.'
            ),
        },
        "paths": paths,
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The document; ``server_url`` (this API's base URL) goes into ``servers``."""
    document = copy.deepcopy(_document())
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
