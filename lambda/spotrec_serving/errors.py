"""Errors the API turns into Spotify's error shape {"error": {"status", "message"}}.

``error_body`` is the ONE builder of that shape: the Lambda's responses (app.py), the local
server's own failures (spotrec.server) and the OpenAPI document's error schema all use it.
"""

from __future__ import annotations

import json

# A 503 says when to come back (RFC 9110 Retry-After, in seconds): long enough for a throttled
# table or a publish in progress to settle, short enough for an interactive client.
RETRY_AFTER_SECONDS = 5


def error_body(status: int, message: str) -> dict:
    """Spotify's error object: {"error": {"status": 400, "message": "..."}}."""
    return {"error": {"status": int(status), "message": str(message)}}


def error_json(status: int, message: str) -> str:
    return json.dumps(error_body(status, message))


def error_headers(status: int) -> dict[str, str]:
    """Headers every error response carries (Retry-After on a 503)."""
    headers = {"Content-Type": "application/json"}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None):
    """The powertools Response of an error (both Lambda functions answer errors with it)."""
    from aws_lambda_powertools.event_handler import Response

    return Response(
        status_code=status,
        content_type="application/json",
        body=error_json(status, message),
        headers={**error_headers(status), **(headers or {})},
    )


class ApiError(Exception):
    """A client-visible failure with an HTTP status and a message safe to show."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def body(self) -> dict:
        return error_body(self.status, self.message)


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class ServiceUnavailable(ApiError):
    status = 503
