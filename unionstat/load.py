"""Parse and load stage: stored snapshots not yet loaded become raw rows, each carrying its snapshot's sha256."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from scrapers.base import Connector, NativeLoad, SnapshotMeta
from unionstat.errors import ParseError
from unionstat.snapshots import SnapshotStore

LOG = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """Rows loaded per raw table and the snapshots they came from; parse failures per source."""

    rows: dict[str, int] = field(default_factory=dict)
    snapshots: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def load_pending(
    con: duckdb.DuckDBPyConnection, store: SnapshotStore, connectors: list[Connector], run_id: str
) -> LoadResult:
    """Load every snapshot of these sources that has no load record yet. Loading twice changes nothing."""
    result = LoadResult()
    for connector in connectors:
        try:
            for meta in pending_snapshots(con, connector):
                loaded = load_snapshot(con, store, connector, meta, run_id)
                result.rows[loaded.table] = result.rows.get(loaded.table, 0) + loaded.rows
                result.snapshots.setdefault(loaded.table, []).append(meta.sha256)
        except ParseError as exc:
            # Stop this source, keep the others: its rows of this run are taken back.
            for table in connector.config.raw_tables:
                for sha in result.snapshots.pop(table, []):
                    connector.unload(con, table, sha)
                    con.execute("delete from raw.loads where sha256 = ? and raw_table = ?", [sha, table])
                result.rows.pop(table, None)
            result.errors[connector.name] = str(exc)
            LOG.error("parse failed: %s", exc)
    return result


def pending_snapshots(con: duckdb.DuckDBPyConnection, connector: Connector) -> list[SnapshotMeta]:
    rows = con.execute(
        """
        select sha256, source, dataset, min(request_url), any_value(content_type), max(release_date)
        from raw.snapshots s
        where source = ?
          and not exists (select 1 from raw.loads l where l.sha256 = s.sha256 and list_contains(?, l.raw_table))
        group by sha256, source, dataset
        order by min(fetched_at), sha256
        """,
        [connector.name, list(connector.config.raw_tables)],
    ).fetchall()
    return [SnapshotMeta(*row) for row in rows]


def load_snapshot(
    con: duckdb.DuckDBPyConnection,
    store: SnapshotStore,
    connector: Connector,
    meta: SnapshotMeta,
    run_id: str,
) -> NativeLoad:
    """Load one snapshot (natively where the connector reads the file itself) and record it in raw.loads."""
    native = connector.load_native(con, store.verified_path(meta.sha256), meta)
    if native is None:
        table = connector.config.raw_table
        rows = _insert_parsed(con, store, connector, meta, table)
    else:
        table, rows = native.table, native.rows
    con.execute(
        "insert into raw.loads values (?, ?, ?, ?, ?)",
        [meta.sha256, table, rows, datetime.now(UTC), run_id],
    )
    LOG.info("loaded %d rows into %s from snapshot %s", rows, table, meta.sha256[:12])
    return NativeLoad(table, rows)


def _insert_parsed(
    con: duckdb.DuckDBPyConnection, store: SnapshotStore, connector: Connector, meta: SnapshotMeta, table: str
) -> int:
    """Small formats (HTML, XLSX, JSON pages): the connector parses in Python, DuckDB takes the frame."""
    frame = connector.parse(store.read(meta.sha256), meta)
    if frame.empty:
        raise ParseError(connector.name, meta.request_url, "at least one row", "zero rows")
    frame.insert(0, "row_number", range(1, len(frame) + 1))
    frame.insert(0, "snapshot_sha256", meta.sha256)
    con.register("incoming_rows", frame)
    try:
        con.execute(f"insert into {table} by name select * from incoming_rows")  # noqa: S608
    finally:
        con.unregister("incoming_rows")
    return len(frame)
