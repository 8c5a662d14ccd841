"""Errors the API turns into Spotify's error shape {"error": {"status", "message"}}."""

from __future__ import annotations


class ApiError(Exception):
    """A client-visible failure with an HTTP status and a message safe to show."""

    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def body(self) -> dict:
        return {"error": {"status": self.status, "message": self.message}}


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class ServiceUnavailable(ApiError):
    status = 503
