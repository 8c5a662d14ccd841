"""The response and request body schemas of the OpenAPI document (openapi.py), by name.

A route names its response (and request body) schema here (routes.py); openapi.py references
them under ``#/components/schemas``. They state the fields clients rely on and allow more
(``additionalProperties`` is left open), so adding a field does not break the contract.
"""

from __future__ import annotations

from typing import Any

from spotrec_serving.errors import error_body
from spotrec_serving.reasons import KINDS as REASON_KINDS

_STRINGS = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STRING = {"type": ["string", "null"]}

_TRACK_ID = {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}


def _paging(item: str) -> dict[str, Any]:
    """Spotify's paging object of ``item`` objects."""
    return {
        "type": "object",
        "required": ["items", "total", "limit", "offset", "next", "previous"],
        "properties": {
            "href": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next": _NULLABLE_STRING,
            "previous": _NULLABLE_STRING,
        },
    }


def _list_of(key: str, item: str, nullable: bool = False) -> dict[str, Any]:
    """{key: [item, ...]}; with ``nullable``, null stands in for an unknown id."""
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{item}"}
    items = {"oneOf": [ref, {"type": "null"}]} if nullable else ref
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": items}},
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "Object": {"type": "object"},
    "EventsRequest": {
        "type": "object",
        "required": ["session_id", "events"],
        "properties": {
            "session_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,128}$"},
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "required": ["track_id", "event"],
                    "properties": {
                        "track_id": _TRACK_ID,
                        "event": {"enum": ["play", "like", "skip", "save"]},
                        "timestamp": {"type": "string", "format": "date-time"},
                        "event_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
                        "impression": {"type": "array", "maxItems": 50, "items": _TRACK_ID},
                        "context": {"type": "object"},
                    },
                },
            },
        },
    },
    "EventsAccepted": {
        "type": "object",
        "required": ["session_id", "accepted", "duplicates", "event_ids"],
        "properties": {
            "session_id": {"type": "string"},
            "accepted": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 0},
            "event_ids": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "message": {"type": "string"},
                },
            }
        },
        "examples": [error_body(400, "missing parameter 'q'")],
    },
    "Track": {
        "type": "object",
        "required": ["id", "name", "uri", "type", "href", "artists", "album", "popularity"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "uri": {"type": "string", "pattern": "^spotify:track:"},
            "type": {"const": "track"},
            "href": {"type": "string"},
            "external_urls": {"type": "object"},
            "artists": {
                "type": "array",
                "items": {"type": "object", "required": ["name"]},
            },
            "album": {"type": "object", "required": ["name"]},
            "duration_ms": {"type": "integer"},
            "explicit": {"type": "boolean"},
            "popularity": {"type": "integer", "minimum": 0, "maximum": 100},
            "is_local": {"type": "boolean"},
            "genres": _STRINGS,
            "score": {
                "type": ["number", "null"],
                "description": "Ours: the fused (or per-seed) score of a recommendation.",
            },
            "reasons": {
                "type": "array",
                "description": "Ours, recommendations only: the seeds whose lists hold this "
                "track, best rank first, and what it shares with each (reasons.py).",
                "items": {
                    "type": "object",
                    "required": ["seed", "seed_type", "rank", "kinds", "text"],
                    "properties": {
                        "seed": {"type": "string"},
                        "seed_type": {"enum": ["TRACK", "ARTIST", "GENRE", "SESSION"]},
                        "rank": {"type": "integer", "minimum": 1},
                        "kinds": {"type": "array", "items": {"enum": list(REASON_KINDS)}},
                        "text": {"type": "string"},
                    },
                },
            },
        },
    },
    "Seed": {
        "type": "object",
        "required": ["id", "type", "initialPoolSize", "afterFilteringSize"],
        "properties": {
            "id": {"type": "string"},
            "type": {"enum": ["TRACK", "GENRE", "ARTIST"]},
            "href": _NULLABLE_STRING,
            "initialPoolSize": {"type": "integer", "minimum": 0},
            "afterFilteringSize": {"type": "integer", "minimum": 0},
            "afterRelinkingSize": {"type": "integer", "minimum": 0},
        },
    },
    "Recommendations": {
        "type": "object",
        "required": ["seeds", "tracks"],
        "properties": {
            "seeds": {"type": "array", "items": {"$ref": "#/components/schemas/Seed"}},
            "tracks": {"type": "array", "items": {"$ref": "#/components/schemas/Track"}},
        },
    },
    "GenreSeeds": {
        "type": "object",
        "required": ["genres"],
        "properties": {"genres": _STRINGS, "models": _STRINGS, "default_model": {}},
    },
    "SearchResult": {
        "type": "object",
        "description": "One paging object per requested type: `tracks` and/or `artists`.",
        "minProperties": 1,
        "properties": {"tracks": _paging("Track"), "artists": _paging("Artist")},
    },
    "Artist": {
        "type": "object",
        "required": [
            *("external_urls", "followers", "genres", "href", "id", "images", "name"),
            *("popularity", "type", "uri"),
        ],
        "properties": {
            "external_urls": {"type": "object"},
            "followers": {
                "type": "object",
                "properties": {"href": {"type": "null"}, "total": {"type": "integer"}},
            },
            "genres": _STRINGS,
            "href": {"type": "string"},
            "id": _TRACK_ID,
            "images": {"type": "array", "maxItems": 0},
            "name": {"type": "string"},
            "popularity": {"type": "integer", "minimum": 0, "maximum": 100},
            "type": {"const": "artist"},
            "uri": {"type": "string", "pattern": "^spotify:artist:"},
            "track_count": {
                "type": "integer",
                "minimum": 1,
                "description": "Ours: the artist's tracks in the catalogue.",
            },
        },
    },
    "Artists": _list_of("artists", "Artist", nullable=True),
    "ArtistList": _list_of("artists", "Artist"),
    "TrackList": _list_of("tracks", "Track"),
    "Tracks": _list_of("tracks", "Track", nullable=True),
    "AudioFeatures": {
        "type": "object",
        "required": ["id", "type", "uri", "track_href", "duration_ms"],
        "properties": {
            "id": {"type": "string"},
            "type": {"const": "audio_features"},
            "uri": {"type": "string"},
            "track_href": {"type": "string"},
            "analysis_url": _NULLABLE_STRING,
            "duration_ms": {"type": "integer"},
        },
    },
    "AudioFeaturesList": _list_of("audio_features", "AudioFeatures", nullable=True),
}
