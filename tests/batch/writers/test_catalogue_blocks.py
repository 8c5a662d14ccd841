"""The numpy C# blocks and feature ranges against their definitions (spotrec_serving)."""

from __future__ import annotations

import random

import pytest

from spotrec import schema
from spotrec.writers.catalogue_blocks import catalogue_items, live_feature_ranges
from spotrec.writers.release_catalogue import ReleaseCatalogue
from spotrec.writers.release_order import TOMBSTONE_ID, is_live
from spotrec_serving.catalogue import feature_codes, pack_block
from spotrec_serving.items import CATALOGUE_BLOCK, catalogue_key, feature_ranges


def make_catalogue(n: int, tombstones: int, seed: int) -> ReleaseCatalogue:
    rng = random.Random(seed)
    ids, summaries, features = [], [], []
    for k in range(n):
        track_id = TOMBSTONE_ID if k % max(1, n // max(1, tombstones)) == 1 else f"{k:022d}"
        ids.append(track_id)
        feature = {}
        for name in schema.AUDIO_FEATURES:
            if name in schema.INTEGER_FEATURES:
                feature[name] = rng.randint(0, 11)
            elif name == "liveness":
                feature[name] = 0.5  # a constant column: span 0, every code 0
            else:  # quarter steps: exact halves after scaling, where round() goes to even
                feature[name] = rng.randint(0, 8) / 4 - (60 if name == "loudness" else 0)
        # a tombstone's features must not widen the ranges
        features.append({**feature, "tempo": 999.0} if not is_live(track_id) else feature)
        duration, popularity = rng.randint(1000, 400_000), rng.randint(0, 100)
        summaries.append([track_id, "", [], "", duration, False, popularity, [], f"s{k}"])
    return ReleaseCatalogue(
        ids=ids,
        summaries=summaries,
        popularity=[s[6] for s in summaries],
        genres=[[] for _ in ids],
        song_ids=[f"song{k // 3}" for k in range(n)],  # variants share a song key
        features=features,
    )


def reference_blocks(catalogue):
    rows = catalogue.tunable_rows()
    live_rows = [row for row, i in zip(rows, catalogue.ids, strict=True) if is_live(i)]
    ranges = feature_ranges(live_rows)
    songs = catalogue.song_keys()
    blocks = []
    for block, start in enumerate(range(0, len(catalogue.ids), CATALOGUE_BLOCK)):
        stop = start + CATALOGUE_BLOCK
        codes = [
            feature_codes(row, ranges) if is_live(i) else [0] * 14
            for row, i in zip(rows[start:stop], catalogue.ids[start:stop], strict=True)
        ]
        blocks.append(
            (catalogue_key(block), pack_block(catalogue.ids[start:stop], songs[start:stop], codes))
        )
    return ranges, blocks


@pytest.mark.parametrize("n, tombstones", [(2 * CATALOGUE_BLOCK + 17, 30), (5, 0), (1, 0)])
def test_blocks_and_ranges_match_the_definitions(n, tombstones):
    catalogue = make_catalogue(n, tombstones, seed=n)
    ranges, blocks = reference_blocks(catalogue)
    assert live_feature_ranges(catalogue) == ranges
    assert [type(v) for r in live_feature_ranges(catalogue).values() for v in r] == [
        type(v) for r in ranges.values() for v in r
    ]
    assert list(catalogue_items(catalogue)) == blocks
    if n > 100:  # the cases the test is for really occur
        assert ranges["liveness"] == [0, 0, True] or ranges["liveness"][0] == 0.5
        assert ranges["key"][2] is True and ranges["energy"][2] is False
        assert ranges["tempo"][1] < 999
