"""Parsing and checking of request parameters. Every failure is a BadRequest naming the
parameter, so a client always learns what to fix."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from spotrec_serving.errors import BadRequest
from spotrec_serving.items import TRACK_ID_PATTERN, search_words

MAX_QUERY_CHARS = 200
MAX_IDS_PER_REQUEST = 50
MAX_SEEDS = 5
MAX_RESULTS = 100  # tracks in one recommendations response (limit, per_seed x seeds)


def single_param(
    params: Mapping[str, str] | None, multi: Mapping[str, list[str]] | None, name: str
) -> str | None:
    """The one value of a query parameter, or None. A repeated parameter is an error, not a
    silent pick of one of its values."""
    values = (multi or {}).get(name)
    if values is not None and len(values) > 1:
        raise BadRequest(f"parameter '{name}' was given {len(values)} times; give it once")
    return (params or {}).get(name)


def parse_int(text: str | None, name: str, *, default: int | None, low: int, high: int) -> int:
    if text is None:
        if default is None:
            raise BadRequest(f"missing parameter '{name}'")
        return default
    stripped = text.strip()
    if not stripped.isascii() or not stripped.lstrip("-").isdigit():
        raise BadRequest(f"invalid '{name}': {text[:40]!r} is not an integer")
    value = int(stripped)
    if not low <= value <= high:
        raise BadRequest(f"invalid '{name}': {value} is outside {low}..{high}")
    return value


def check_track_id(track_id: str) -> str:
    if not TRACK_ID_PATTERN.match(track_id):
        raise BadRequest(f"invalid track id {track_id[:40]!r}: expected 22 base-62 characters")
    return track_id


def split_list(text: str | None, name: str) -> list[str]:
    """A comma-separated parameter as a list; empty entries ("a,,b", trailing comma) are errors."""
    if text is None:
        return []
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise BadRequest(f"invalid '{name}': empty entry in {text[:60]!r}")
    return parts


def parse_track_ids(text: str | None, name: str, *, max_count: int) -> list[str]:
    ids = split_list(text, name)
    if len(ids) > max_count:
        raise BadRequest(f"too many ids in '{name}': {len(ids)} (at most {max_count})")
    return [check_track_id(track_id) for track_id in ids]


def parse_query(text: str | None) -> list[str]:
    """The normalized words of a search query (see items.normalize_text)."""
    if text is None or not text.strip():
        raise BadRequest("missing parameter 'q'")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"query too long: {len(text)} characters (at most {MAX_QUERY_CHARS})")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise BadRequest("query contains control or unassigned characters")
    words = search_words(text)
    if not words:
        raise BadRequest(f"query {text[:40]!r} has no letters or digits to search for")
    return words
