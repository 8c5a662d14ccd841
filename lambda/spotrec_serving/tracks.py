"""The tracks routes' look-ups: T# documents by track id, one or several (GET /v1/tracks,
/v1/audio-features). One get_items per request; the CURRENT pointer comes from the cache."""

from __future__ import annotations

from spotrec_serving.errors import BadRequest, NotFound
from spotrec_serving.items import track_key
from spotrec_serving.release import current_release, fetch_items
from spotrec_serving.store import ItemStore
from spotrec_serving.validation import check_track_id, parse_track_ids


def track_documents(store: ItemStore, track_ids: list[str]) -> dict[str, dict]:
    """The T# documents of these ids, keyed by T# key (an unknown id is absent)."""
    release = current_release(store)
    distinct = list(dict.fromkeys(track_key(t) for t in track_ids))
    return fetch_items(store, release.run_id, distinct)


def one_track_document(store: ItemStore, track_id: str) -> dict:
    """The T# document of one well-formed, known track id (400 / 404 otherwise)."""
    check_track_id(track_id)
    document = track_documents(store, [track_id]).get(track_key(track_id))
    if document is None:
        raise NotFound(f"unknown track id {track_id}")
    return document


def documents_for_ids(store: ItemStore, ids_text: str | None, max_count: int) -> list[dict | None]:
    """The T# documents of a required `ids` parameter, in its order; None for an unknown id
    (Spotify answers null in its place)."""
    if ids_text is None:
        raise BadRequest("missing parameter 'ids'")
    track_ids = parse_track_ids(ids_text, "ids", max_count=max_count)
    documents = track_documents(store, track_ids)
    return [documents.get(track_key(t)) for t in track_ids]
