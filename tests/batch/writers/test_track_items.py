"""T# bodies made a chunk at a time are byte for byte what to_json writes of the same dict."""

from __future__ import annotations

import math
import random

import pytest

from spotrec.writers.items import ItemSizeError, encode_body, to_json
from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec.writers.release_order import TOMBSTONE_ID
from spotrec.writers.track_items import feature_texts, track_items


def catalogue_of(features: list[dict]) -> ReleaseCatalogue:
    ids = [TOMBSTONE_ID if k % 7 == 3 else f"{k:022d}" for k in range(len(features))]
    summaries = [[i, 'Ñame "q"', ["A, b"], "", 1, True, 5, ["pop"], "s"] for i in ids]
    return ReleaseCatalogue(
        ids=ids,
        summaries=summaries,
        popularity=[5] * len(ids),
        genres=[["pop"]] * len(ids),
        song_ids=[f"s{k}" for k in range(len(ids))],
        features=features,
    )


def rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    values = [0.0, -0.0, 1e-05, 1e16, 0.1, 2.5, 1 / 3, -6.009, 123456.789]
    return [
        {
            "danceability": rng.choice(values),
            "key": rng.randint(0, 11),
            "tempo": rng.random() * 200,
            "100%é": rng.choice(values),  # a key that needs care in a format string / JSON
        }
        for _ in range(n)
    ]


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_texts_equal_to_json(chunk):
    features = rows(40, seed=chunk)
    catalogue = catalogue_of(features)
    items = list(track_items(catalogue, chunk=chunk))
    live = [k for k, i in enumerate(catalogue.ids) if i != TOMBSTONE_ID]
    assert [key for key, _ in items] == [f"T#{catalogue.ids[k]}" for k in live]
    for (_, body), k in zip(items, live, strict=True):
        expected = {"track": catalogue.summaries[k], "features": features[k]}
        assert body == expected
        assert body.text == to_json(expected)  # made column-wise, not by json.dumps
        assert encode_body("T#x", body) == to_json(expected)
    assert "-0.0" in "".join(body.text for _, body in items)  # -0.0 kept apart from 0.0


def test_columns_json_must_judge_go_to_json():
    mixed = [{"a": 1, "b": 0.5}, {"a": 2.0, "b": 0.5}]  # int and float in one column
    assert feature_texts(mixed) is None
    assert feature_texts([{"a": True}]) is None and feature_texts([{"a": None}]) is None
    assert feature_texts([{"a": 1}, {"b": 1}]) is None  # different keys
    assert feature_texts([{"a": 1, "b": 2}, {"b": 2, "a": 1}]) is None  # different order
    assert feature_texts([{"a": 1, "b": 2.0}]) == ['{"a":1,"b":2.0}']
    (_, body), *_ = track_items(catalogue_of(mixed))
    assert not hasattr(body, "text") and encode_body("T#x", body) == to_json(body)
    (_, body), *_ = track_items(catalogue_of([{"a": math.nan}]))
    with pytest.raises(ValueError, match="JSON compliant"):  # json.dumps' own refusal, as before
        encode_body("T#x", body)


def test_size_limit_still_applies():
    (_, body), *_ = track_items(catalogue_of([{"a": 0.5}]), chunk=1)
    body.text = "x" * 400_000
    with pytest.raises(ItemSizeError):
        encode_body("T#x", body)
