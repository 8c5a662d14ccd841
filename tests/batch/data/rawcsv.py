"""Helpers that write tiny catalogues in the raw CSV format (imported by the data tests)."""

from __future__ import annotations

import string

from spotrec import schema

HEADER = ",".join([schema.RAW_INDEX, *schema.RAW_COLUMNS])
BASE_ROW = {
    "track_id": "",
    "artists": "Some Artist",
    "album_name": "Some Album",
    "track_name": "Some Song",
    "popularity": "50",
    "duration_ms": "200000",
    "explicit": "False",
    "danceability": "0.5",
    "energy": "0.6",
    "key": "5",
    "loudness": "-7.5",
    "mode": "1",
    "speechiness": "0.05",
    "acousticness": "0.3",
    "instrumentalness": "1.01e-06",
    "liveness": "0.1",
    "valence": "0.4",
    "tempo": "120.0",
    "time_signature": "4",
    "track_genre": "pop",
}


def make_track_id(n: int) -> str:
    """A valid, distinct 22-character base-62 id for every n."""
    alphabet = string.digits + string.ascii_letters
    digits = []
    for _ in range(22):
        n, r = divmod(n, 62)
        digits.append(alphabet[r])
    return "".join(reversed(digits))


def row_line(index: int | str, **overrides: str) -> str:
    values = {**BASE_ROW, "track_id": make_track_id(int(index) if str(index).isdigit() else 0)}
    values.update(overrides)
    cells = [str(index), *(values[c] for c in schema.RAW_COLUMNS)]
    return ",".join(f'"{v}"' if "," in v else v for v in cells)
