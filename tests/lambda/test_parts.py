"""The part map of an incremental release (spotrec_serving/parts.py)."""

from __future__ import annotations

import pytest

from spotrec_serving.parts import PartMap, encode_parts, part_of


def test_keys_resolve_to_the_run_holding_their_part_of_their_kind():
    holders = {"T": ["old", "new"] * 4, "N": ["new", "old"]}  # T: even parts carried
    meta = {"parts": encode_parts(holders, {"old": 100, "new": 200})}
    parts = PartMap.from_meta("new", meta)
    for key in ("T#" + "a" * 22, "T#" + "c" * 22, "T#" + "d" * 22):
        expected = "old" if part_of(key, 8) % 2 == 0 else "new"
        assert parts.physical(key) == f"{expected}#{key}"
    for key in ("N#cosine#" + "b" * 22, "N#autoencoder#" + "b" * 22):
        expected = "new" if part_of(key, 2) == 0 else "old"
        assert parts.physical(key) == f"{expected}#{key}"
    assert parts.physical("S#ab") == "new#S#ab"  # a kind without a map: the release's own
    assert parts.physical("META") == "new#META"  # META always under the release's own run
    assert dict(zip(parts.runs, parts.expiries, strict=True)) == {"old": 100, "new": 200}


def test_a_release_without_a_map_holds_every_key_itself():
    assert PartMap.from_meta("r1", {"schema": 2}).physical("T#x") == "r1#T#x"


def test_an_inconsistent_map_is_refused():
    meta = {"parts": encode_parts({"T": ["a"] * 4}, {"a": 1})}
    meta["parts"]["kinds"]["T"]["count"] = 5
    with pytest.raises(ValueError, match="inconsistent"):
        PartMap.from_meta("a", meta)
