"""The T#<track> items of a release, with their JSON text made a chunk of tracks at a time.

A T# body is ``{"track": <summary>, "features": <12 audio features>}`` (items.py). Both stores
keep ``items.to_json(body)``; json.dumps spent most of its time on the twelve feature values
(float repr, ~14 us a track: ~14 s at 1M tracks). Here each chunk's features are written column
by column: one repr per distinct value (catalogues repeat rounded values a lot), put in place
with one format string per row. The text is byte for byte ``to_json``'s (tests compare), and a
chunk whose features are not plain finite floats/ints with the same keys in the same order is
left to json.dumps, which then applies its own rules (e.g. refusing NaN).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spotrec.writers.release_order import is_live
from spotrec_serving.items import track_key

if TYPE_CHECKING:
    from spotrec.writers.release_catalogue import ReleaseCatalogue

CHUNK_TRACKS = 65_536  # texts held at once: ~20 MB at 1M tracks


class EncodedBody(dict):
    """A body dict that carries its JSON text (items.encode_body stores ``text`` as is)."""

    __slots__ = ("text",)


def _column_text(values: list[Any]) -> list[str] | None:
    """Each value as json.dumps writes it, or None when the column is not all finite floats or
    all ints (bool and None included: those go through json.dumps)."""
    import numpy as np

    kinds = set(map(type, values))
    if kinds == {int}:
        return list(map(int.__repr__, values))
    if kinds != {float}:
        return None
    column = np.asarray(values, dtype=np.float64)
    if not np.isfinite(column).all():
        return None
    # distinct bit patterns, so 0.0 and -0.0 keep their own text
    bits, inverse = np.unique(column.view(np.int64), return_inverse=True)
    texts = np.array([float.__repr__(v) for v in bits.view(np.float64).tolist()], dtype=object)
    return texts[inverse].tolist()


def feature_texts(features: list[dict[str, Any]]) -> list[str] | None:
    """The JSON text of every features dict of a chunk, or None (json.dumps them instead)."""
    if not features:
        return []
    keys = list(features[0])
    if any(list(row) != keys for row in features):
        return None
    columns = []
    for key in keys:
        texts = _column_text([row[key] for row in features])
        if texts is None:
            return None
        columns.append(texts)
    names = (json.dumps(k, ensure_ascii=False).replace("%", "%%") for k in keys)
    template = "{" + ",".join(f"{name}:%s" for name in names) + "}"
    return [template % row for row in zip(*columns, strict=True)]


def track_items(
    catalogue: ReleaseCatalogue, chunk: int = CHUNK_TRACKS
) -> Iterator[tuple[str, Any]]:
    """(T# key, body) of every live track, catalogue order; bodies carry their JSON text."""
    from spotrec.writers.items import to_json

    ids, summaries, features = catalogue.ids, catalogue.summaries, catalogue.features
    for start in range(0, len(ids), max(1, chunk)):
        stop = start + max(1, chunk)
        texts = feature_texts(features[start:stop])
        for offset, track_id in enumerate(ids[start:stop]):
            if not is_live(track_id):
                continue
            i = start + offset
            body = EncodedBody(track=summaries[i], features=features[i])
            if texts is not None:
                body.text = f'{{"track":{to_json(summaries[i])},"features":{texts[offset]}}}'
            yield track_key(track_id), body
