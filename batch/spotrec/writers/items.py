"""A build directory -> the store items of a release (lambda/spotrec_serving/items.py).

`iter_release_items` yields ``(logical_key, body)`` pairs, body a JSON-able dict or packed bytes
(items.py); the SQLite writer and the DynamoDB publisher both consume it, so both stores hold
the same documents. Pandas is not used and
pyarrow/numpy are imported inside the functions, so `spotrec.writers.sqlite` (which imports this
module for `encode_body`) stays importable without the batch extra.

Choices documented here:

* Holdout tracks are unlabeled in the release: their summaries carry no genres, they never
  represent a genre in a G# list, and a genre only held by holdout tracks is not offered.
* ``G#<model>#<genre>``: the genre's most representative tracks for that model, i.e. the
  genre's tracks that appear most often in the model's neighbour lists (in-degree: the model
  itself considers them central), ties broken by popularity then track id; one track per song;
  ``genre_list_size`` long. The score is the in-degree relative to the list's first track (1.0).
* ``N#<model>#<track>``: the first ``depth`` neighbours (a build setting, default
  DEFAULT_DEPTH; lists are never padded), as catalogue indexes with u8 score codes.
* ``S#<prefix>``: every prefix (1..search_max_prefix letters) of every word of the normalized
  name and artists; tracks most popular first (ties by id), each once, capped at search_cap;
  ``total`` counts every match; prefixes under a parent of <= 50 matches are left out (leaf
  pruning, see search_index.py). The index is built in writers/search_index.py
  (``build_search_index``, re-exported here).
* ``AS#<model>#<artist>`` after each model's lists (writers/artist_seed_lists.py),
  ``A#<artist>`` (related artists from the default model) after the last model:
  writers/artists.py.
* ``C#<block>`` (writers/catalogue_blocks.py) first, then ``T#<track>`` (writers/track_items.py:
  bodies carry their JSON text, made a chunk of tracks at a time), then per model ``N#``/``G#``
  (writers/model_lists.py).
* META is yielded last and carries ``item_counts`` (per kind, as `count_items` returns them), so
  a publisher can check what it wrote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.writers.artist_seed_lists import model_artist_items
from spotrec.writers.artists import artist_items, artist_meta, build_artist_table, related_artists
from spotrec.writers.catalogue_blocks import catalogue_items, feature_columns, live_feature_ranges
from spotrec.writers.model_lists import (  # noqa: F401 (ListsByIndex, NeighbourLists: re-exported)
    ListsByIndex,
    NeighbourLists,
    model_items,
)
from spotrec.writers.pools import DEFAULT_POOL_SIZE, genre_code_blocks, pool_items
from spotrec.writers.release_catalogue import (
    NeighbourTable,
    ReleaseCatalogue,
    load_release_catalogue,
    read_release_manifest,
)
from spotrec.writers.release_order import MAX_TOMBSTONE_SHARE, carry_order
from spotrec.writers.search_index import DEFAULT_SEARCH_LEAF, build_search_index
from spotrec.writers.track_items import track_items
from spotrec_serving.items import (
    CATALOGUE_BLOCK,
    FEATURES,
    META_KEY,
    SCHEMA_VERSION,
    search_key,
)

log = logging.getLogger(__name__)

MAX_ITEM_BYTES = 350_000  # DynamoDB's hard limit is 400 KB for the whole item, keys included
DEFAULT_SEARCH_MAX_PREFIX = 10
DEFAULT_SEARCH_CAP = 1000  # ids only (3 bytes each): deep enough for multi-word intersections
DEFAULT_GENRE_LIST_SIZE = 100
DEFAULT_DEPTH = 200  # neighbours kept per list (docs/performance.md: measured at 50 and 200)


class ItemSizeError(ValueError):
    """An item body would not fit in a DynamoDB item."""


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_body(logical_key: str, body: dict[str, Any] | bytes) -> str | bytes:
    """The stored form of a body (JSON text, or the packed bytes themselves); raises
    ItemSizeError past MAX_ITEM_BYTES (UTF-8)."""
    if isinstance(body, bytes):
        stored: str | bytes = body
        size = len(body)
    else:
        # T# bodies come with their text made a chunk at a time (track_items.py)
        stored = getattr(body, "text", None) or to_json(body)
        size = len(stored) if len(stored) * 4 <= MAX_ITEM_BYTES else len(stored.encode("utf-8"))
    if size > MAX_ITEM_BYTES:
        raise ItemSizeError(f"item {logical_key} is {size} bytes, over {MAX_ITEM_BYTES}")
    return stored


def item_kind(logical_key: str) -> str:
    """Count bucket of a key: META, C, T, S, A, or N#<model> / G#<model> / AS#<model>."""
    parts = logical_key.split("#")
    return "#".join(parts[:2]) if parts[0] in ("N", "G", "AS") else parts[0]


def assemble_release(
    catalogue: ReleaseCatalogue,
    tables: dict[str, Callable[[], NeighbourLists]],
    meta: dict[str, Any],
    *,
    search_max_prefix: int = DEFAULT_SEARCH_MAX_PREFIX,
    search_cap: int = DEFAULT_SEARCH_CAP,
    genre_list_size: int = DEFAULT_GENRE_LIST_SIZE,
    depth: int = DEFAULT_DEPTH,
    search_leaf: int = DEFAULT_SEARCH_LEAF,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> Iterator[tuple[str, dict | bytes]]:
    """Every item of a release, META last; `tables` loads one model's lists at a time;
    `pool_size` 0 writes no fallback pools (writers/pools.py)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if pool_size < 0:
        raise ValueError(f"pool_size must be at least 0, got {pool_size}")
    members = catalogue.genre_members()
    artists = build_artist_table(catalogue)
    default_model = meta.get("default_model") if meta.get("default_model") in tables else None
    default_model = default_model or next(iter(tables))
    related: list[list[int]] = []
    counts: dict[str, int] = {}

    def counted(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        for key, body in items:
            counts[item_kind(key)] = counts.get(item_kind(key), 0) + 1
            yield key, body

    columns = feature_columns(catalogue)
    ranges = live_feature_ranges(catalogue, columns)
    yield from counted(catalogue_items(catalogue, columns, ranges))
    del columns
    live = 0
    for item in track_items(catalogue):
        live += 1
        yield item
    counts["T"] = live
    for model, load in tables.items():
        table = load()
        yield from counted(model_items(model, table, catalogue, members, genre_list_size, depth))
        yield from counted(model_artist_items(model, artists, table, catalogue))
        if model == default_model:
            related = related_artists(artists, table)
        del table  # free the model's arrays before the next model is read
    yield from counted(artist_items(artists, related, catalogue))
    if pool_size:
        yield from counted(pool_items(catalogue, members, pool_size))
    index = build_search_index(catalogue, search_max_prefix, search_cap, search_leaf)
    for prefix, body in index.packed():
        yield search_key(prefix), body
    counts["S"] = len(index)
    counts["META"] = 1
    yield (
        META_KEY,
        {
            **meta,
            "schema": SCHEMA_VERSION,
            "models": list(tables),
            "depth": depth,
            "genres": sorted(members),
            "tracks": live,
            "catalogue_blocks": counts.get("C", 0),
            "feature_ranges": ranges,
            "features": list(FEATURES),
            "search_max_prefix": search_max_prefix,
            "search_cap": search_cap,
            "search_leaf": search_leaf,
            "genre_list_size": genre_list_size,
            **artist_meta(artists),
            "fallback_pool_size": pool_size,  # P#/GC# items (spotrec_serving/pools.py)
            "genre_code_blocks": genre_code_blocks(len(catalogue.ids)) if pool_size else 0,
            "item_counts": counts,
        },
    )


def iter_release_items(
    build_dir: Path,
    *,
    run_id: str | None = None,
    search_max_prefix: int = DEFAULT_SEARCH_MAX_PREFIX,
    search_cap: int = DEFAULT_SEARCH_CAP,
    genre_list_size: int = DEFAULT_GENRE_LIST_SIZE,
    depth: int = DEFAULT_DEPTH,
    order: list[str] | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> Iterator[tuple[str, dict | bytes]]:
    """Every item of the build's release, lazily; META last (see the module docstring).
    ``order``: the previous release's catalogue ids, to number tracks as it did
    (release_order.py; an incremental publish passes it)."""
    manifest = read_release_manifest(build_dir)
    models = list(manifest["models"])
    catalogue = load_release_catalogue(build_dir)
    if order is not None:
        carried = carry_order(catalogue, order)
        if carried is None:
            log.info("over %.0f%% tombstones: numbering tracks afresh", 100 * MAX_TOMBSTONE_SHARE)
        catalogue = carried or catalogue

    def loader(model: str) -> Callable[[], NeighbourLists]:
        path = Path(build_dir) / schema.NEIGHBOURS_DIR / f"{model}.parquet"
        # the listening models' lists run deeper than content's (schema.DEFAULT_LISTENING_TOP_N)
        listening = model in schema.LISTENING_MODELS and manifest.get("listening_top_n")
        depth = manifest.get("listening_top_n") if listening else manifest.get("top_n")
        return lambda: NeighbourTable(path, catalogue, depth)

    meta = {
        "run_id": run_id or manifest["run_id"],
        "created": manifest.get("created"),
        "default_model": manifest.get("default_model") or models[0],
        "top_n": manifest.get("top_n"),
        "synthetic": bool(manifest.get("synthetic")),  # made-up ids: the page hides Spotify links
    }
    yield from assemble_release(
        catalogue,
        {model: loader(model) for model in models},
        meta,
        search_max_prefix=search_max_prefix,
        search_cap=search_cap,
        genre_list_size=genre_list_size,
        depth=depth,
        pool_size=pool_size,
    )


def count_items(
    build_dir: Path,
    *,
    search_max_prefix: int = DEFAULT_SEARCH_MAX_PREFIX,
    search_cap: int = DEFAULT_SEARCH_CAP,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> dict[str, int]:
    """Items per kind that iter_release_items yields for this build, without encoding them."""
    manifest = read_release_manifest(build_dir)
    catalogue = load_release_catalogue(build_dir)
    genres = len(catalogue.genre_members())
    artists = len(build_artist_table(catalogue))
    counts = {"T": len(catalogue.ids), "C": -(-len(catalogue.ids) // CATALOGUE_BLOCK)}
    for model in manifest["models"]:
        counts[f"N#{model}"] = len(catalogue.ids)
        counts[f"G#{model}"] = genres
        counts[f"AS#{model}"] = artists
    counts["A"] = artists
    counts["S"] = len(build_search_index(catalogue, search_max_prefix, search_cap))
    if pool_size and genres:  # the fallback pools (writers/pools.py), one per genre
        counts["P"] = genres
    if pool_size and catalogue.ids:
        counts["GC"] = genre_code_blocks(len(catalogue.ids))
    counts["META"] = 1
    return counts
