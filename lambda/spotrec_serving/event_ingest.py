"""The write path of POST /v1/events: check the tracks against the CURRENT release, enrich the
events with what the read path will need, and store them (events + session summary).

One BatchGetItem reads, for each distinct track, its ``T#`` item (catalogue check, song id) and,
for likes/saves/skips, its neighbour list under the release's default model. Those neighbours
go into the session summary, so GET /v1/recommendations?session_id= never has to look them up.
The lists are packed (items.unpack_list, catalogue indexes): their indexes become track ids
through the run's cached catalogue, because the summary outlives the run that indexes belong to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from spotrec_serving.errors import BadRequest, ServiceUnavailable
from spotrec_serving.event_store import EventStore
from spotrec_serving.events import Event
from spotrec_serving.items import TrackSummary, neighbours_key, track_key, unpack_list
from spotrec_serving.release import current_release, fetch_items, release_catalogue
from spotrec_serving.session_summary import MAX_LIKE_NEIGHBOURS, Enrichment
from spotrec_serving.store import ItemStore, StoreError

logger = logging.getLogger(__name__)
ENRICHED_EVENTS = {"like", "save", "skip"}


def enrich(item_store: ItemStore, events: Sequence[Event]) -> dict[str, Enrichment]:
    """Track id -> Enrichment for every event's track; BadRequest naming unknown tracks."""
    release = current_release(item_store)
    model = release.resolve_model(None)
    tracks = list(dict.fromkeys(e.track_id for e in events))
    with_lists = list(dict.fromkeys(e.track_id for e in events if e.event in ENRICHED_EVENTS))
    keys = [track_key(t) for t in tracks] + [neighbours_key(model, t) for t in with_lists]
    docs = fetch_items(item_store, release.run_id, keys)  # <= 20 keys: one round trip
    unknown = [t for t in tracks if track_key(t) not in docs]
    if unknown:
        raise BadRequest(f"unknown track id(s): {', '.join(unknown[:5])}")
    catalogue = release_catalogue(item_store, release) if with_lists else None
    result = {}
    for track_id in tracks:
        song_id = TrackSummary.decode(docs[track_key(track_id)]["track"]).song_id
        packed = docs.get(neighbours_key(model, track_id))
        neighbours = []
        if packed is not None and catalogue is not None:
            ranked = unpack_list(packed)
            top = ranked.indexes[:MAX_LIKE_NEIGHBOURS]
            neighbours = [[ranked.score(r), catalogue.track_id(i)] for r, i in enumerate(top)]
        result[track_id] = Enrichment(song_id, neighbours)
    return result


def record_events(
    item_store: ItemStore, event_store: EventStore, session_id: str, events: Sequence[Event]
) -> dict:
    """Store a validated batch; the response body of POST /v1/events."""
    enrichment = enrich(item_store, events)
    try:
        written, duplicates = event_store.put_events(session_id, events, enrichment)
    except StoreError as exc:
        logger.warning("event store failure: %s", exc)
        raise ServiceUnavailable("the event store is unavailable; retry later") from exc
    return {
        "session_id": session_id,
        "accepted": written,
        "duplicates": duplicates,
        "event_ids": [event.key for event in events],
    }
