"""make_store(config): the ItemStore the handler uses, built once per process and config.

DynamoDB when SPOTREC_TABLE is set (imported lazily, so a SQLite deployment never loads the
DynamoDB code), else the SQLite store named by SPOTREC_STORE.
"""

from __future__ import annotations

import functools

from spotrec_serving.config import Config
from spotrec_serving.errors import ServiceUnavailable
from spotrec_serving.store import ItemStore


@functools.lru_cache(maxsize=4)
def make_store(config: Config) -> ItemStore:
    if config.table:
        from spotrec_serving.dynamodb_store import DynamoDBStore

        return DynamoDBStore(config.table, current_ttl_seconds=config.current_ttl_seconds)
    if config.store_path:
        from spotrec_serving.sqlite_store import SqliteStore

        return SqliteStore(config.store_path, current_ttl_seconds=config.current_ttl_seconds)
    raise ServiceUnavailable("no store is configured (set SPOTREC_TABLE or SPOTREC_STORE)")
