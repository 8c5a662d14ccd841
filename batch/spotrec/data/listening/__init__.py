"""Listening data: playlists and play/like/save/skip/add events that users bring.

Readers (MPD slice files; CSV, JSON Lines and Parquet events logs) -> validation with named
rejects -> catalogue mapping (optionally by name) -> the events table (schema.LISTENING_COLUMNS).
See docs/listening-data.md for the formats and the contract shared with the models.
"""

from spotrec.data.listening.files import (
    has_listening,
    read_listening,
    read_listening_stats,
    write_listening,
)
from spotrec.data.listening.load import ListeningResult, load_listening
from spotrec.data.listening.weights import (
    EVENT_WEIGHTS,
    heldout_mask,
    session_item_weights,
    split_sessions,
)

__all__ = [
    "EVENT_WEIGHTS",
    "ListeningResult",
    "has_listening",
    "heldout_mask",
    "load_listening",
    "read_listening",
    "read_listening_stats",
    "session_item_weights",
    "split_sessions",
    "write_listening",
]
