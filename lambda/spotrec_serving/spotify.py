"""Spotify Web API shaped objects, built from the store's TrackSummary documents.

Only the fields we can fill truthfully are present; `genres` and `score` are ours.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from spotrec_serving.items import TrackSummary
from spotrec_serving.names import artist_id

OPEN_SPOTIFY_TRACK = "https://open.spotify.com/track/"


def request_base_url(headers: dict[str, str], path: str, context_path: str) -> str:
    """scheme://host[/stage] of a request: API Gateway's requestContext.path is the stage
    prefix followed by the resource path (used when SPOTREC_BASE_URL is not set)."""
    host = headers.get("host") or "localhost"
    scheme = headers.get("x-forwarded-proto") or "https"
    stage_prefix = context_path[: -len(path)] if context_path.endswith(path) else ""
    return f"{scheme}://{host}{stage_prefix}".rstrip("/")


def track_href(base_url: str, track_id: str) -> str:
    return f"{base_url}/v1/tracks/{track_id}"


def artist_href(base_url: str, artist: str) -> str:
    return f"{base_url}/v1/artists/{artist}"


@functools.lru_cache(maxsize=65536)
def cached_artist_id(name: str) -> str:
    """names.artist_id (a SHA-256) once per name and process: a 100-track page names ~130."""
    return artist_id(name)


def simplified_artist(name: str, base_url: str) -> dict:
    """Spotify's simplified artist object; the id is derived from the name (names.artist_id)."""
    id_ = cached_artist_id(name)
    return {
        "id": id_,
        "name": name,
        "uri": f"spotify:artist:{id_}",
        "href": artist_href(base_url, id_),
        "type": "artist",
        # no external_urls: the id is ours, not Spotify's, so an open.spotify.com link is dead
    }


def track_object(summary: TrackSummary, base_url: str, score: float | None = None) -> dict:
    return {
        "id": summary.id,
        "name": summary.name,
        "uri": f"spotify:track:{summary.id}",
        "type": "track",
        "href": track_href(base_url, summary.id),
        "external_urls": {"spotify": OPEN_SPOTIFY_TRACK + summary.id},
        "artists": [simplified_artist(name, base_url) for name in summary.artists],
        "album": {"name": summary.album, "type": "album"},
        "duration_ms": summary.duration_ms,
        "explicit": summary.explicit,
        "popularity": summary.popularity,
        "is_local": False,
        "genres": list(summary.genres),
        "score": None if score is None else round(float(score), 6),
    }


def audio_features_object(track_doc: dict[str, Any], base_url: str) -> dict:
    summary = TrackSummary.decode(track_doc["track"])
    return {
        **track_doc["features"],
        "type": "audio_features",
        "id": summary.id,
        "uri": f"spotify:track:{summary.id}",
        "track_href": track_href(base_url, summary.id),
        "analysis_url": None,  # we hold no audio analysis
        "duration_ms": summary.duration_ms,
    }


def seed_object(
    seed_id: str, seed_type: str, href: str | None, pool: int, after_filtering: int
) -> dict:
    return {
        "id": seed_id,
        "type": seed_type,
        "href": href,
        "initialPoolSize": pool,
        "afterFilteringSize": after_filtering,
        # Spotify relinks tracks for a market; we do not, so nothing changes at that step.
        "afterRelinkingSize": after_filtering,
    }


def artist_object(artist: str, fields: list[Any], base_url: str) -> dict:
    """Spotify's full artist object from an A# item's fields [name, popularity, genres,
    track_count]. ``track_count`` is ours. The data has no followers, images or Spotify artist
    ids: followers.total is 0, images is [], and external_urls is empty (an open.spotify.com
    link to our derived id would be dead)."""
    name, popularity, genres, track_count = fields
    return {
        "external_urls": {},
        "followers": {"href": None, "total": 0},
        "genres": list(genres),
        "href": artist_href(base_url, artist),
        "id": artist,
        "images": [],
        "name": name,
        "popularity": int(popularity),
        "type": "artist",
        "uri": f"spotify:artist:{artist}",
        "track_count": int(track_count),
    }


def search_href(base_url: str, query: str, limit: int, offset: int, kind: str = "track") -> str:
    params = urlencode({"q": query, "type": kind, "offset": offset, "limit": limit})
    return f"{base_url}/v1/search?{params}"


def search_page(
    items: list[dict],
    total: int,
    query: str,
    limit: int,
    offset: int,
    available: int,
    base_url: str,
    kind: str = "track",
) -> dict:
    """A paging object. `next` exists only while more items can really be served (`available`,
    which may be below `total` because the index keeps the most popular matches only)."""
    has_next = offset + limit < available
    has_previous = offset > 0
    return {
        f"{kind}s": {
            "href": search_href(base_url, query, limit, offset, kind),
            "items": items,
            "total": total,
            "limit": limit,
            "offset": offset,
            "next": search_href(base_url, query, limit, offset + limit, kind) if has_next else None,
            "previous": (
                search_href(base_url, query, limit, max(0, offset - limit), kind)
                if has_previous
                else None
            ),
        }
    }
