"""Parse and load stage: stored snapshots not yet loaded become raw rows, each carrying its snapshot's sha256."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from scrapers.base import Connector, NativeLoad, SnapshotMeta
from unionstat.errors import ParseError, SourceError
from unionstat.snapshots import SnapshotStore

LOG = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """Rows loaded per raw table and the snapshots they came from; parse failures per source."""

    rows: dict[str, int] = field(default_factory=dict)
    snapshots: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Per source, the snapshots put in quarantine by this run (their bytes failed the connector's checks).
    quarantined: dict[str, list[str]] = field(default_factory=dict)
    #: Layouts that changed with this run's snapshots (dq.layout_changes; filled by the refresh's load task).
    layout_changes: list[dict[str, Any]] = field(default_factory=list)


def load_pending(
    con: duckdb.DuckDBPyConnection, store: SnapshotStore, connectors: list[Connector], run_id: str
) -> LoadResult:
    """Load every snapshot of these sources that has no load record yet. Loading twice changes nothing. A source
    whose load fails (a ParseError, or anything else: a constraint, a bug) keeps none of this run's rows and is
    named in `errors`; the other sources load on."""
    result = LoadResult()
    for connector in connectors:
        current: SnapshotMeta | None = None
        try:
            for current in pending_snapshots(con, connector):
                loaded = load_snapshot(con, store, connector, current, run_id)
                result.rows[loaded.table] = result.rows.get(loaded.table, 0) + loaded.rows
                result.snapshots.setdefault(loaded.table, []).append(current.sha256)
            current = None
        except Exception as exc:  # noqa: BLE001 -- isolated to this source: named in the result and the log
            _take_back(con, connector, result, current)
            if isinstance(exc, SourceError) and current is not None:
                _quarantine(con, connector.name, current.sha256, run_id, str(exc))
                result.quarantined.setdefault(connector.name, []).append(current.sha256)
                result.errors[connector.name] = f"{exc} (snapshot {current.sha256[:12]} quarantined)"
                LOG.error("parse failed, snapshot %s quarantined: %s", current.sha256[:12], exc)
            elif isinstance(exc, ParseError):
                result.errors[connector.name] = str(exc)
                LOG.error("parse failed: %s", exc)
            else:
                where = f" (snapshot {current.sha256[:12]}, dataset {current.dataset})" if current else ""
                result.errors[connector.name] = f"[{connector.name}] load failed{where}: {type(exc).__name__}: {exc}"
                LOG.exception("load of %s failed%s", connector.name, where)
    return result


def pending_snapshots(con: duckdb.DuckDBPyConnection, connector: Connector) -> list[SnapshotMeta]:
    """One entry per stored body (sha256) not loaded yet, however many datasets or URLs it was stored under: its
    rows load once, and staging attributes them to each dataset through raw.snapshots. The dataset and URL it is
    parsed with are those of its first fetch (ties: the smallest dataset, then URL), so a reload parses alike.
    Quarantined snapshots (they failed to parse, or a critical check, before) are not loaded, unless a release
    (`unionstat unretract`) was recorded after their quarantine; nor are retracted ones."""
    rows = con.execute(
        """
        select
            sha256,
            source,
            arg_min(dataset, (fetched_at, dataset, request_url)),
            arg_min(request_url, (fetched_at, dataset, request_url)),
            arg_min(content_type, (fetched_at, dataset, request_url)),
            max(release_date)
        from raw.snapshots s
        where source = ?
          and not exists (select 1 from raw.loads l where l.sha256 = s.sha256 and list_contains(?, l.raw_table))
          and not exists (
              select 1 from raw.snapshot_quarantine q
              where q.sha256 = s.sha256
                and not exists (
                    select 1 from raw.snapshot_retractions r
                    where r.sha256 = q.sha256 and r.action = 'release' and r.recorded_at > q.quarantined_at
                )
          )
          and sha256 not in (
              select sha256 from raw.snapshot_retractions
              qualify row_number() over (partition by sha256 order by recorded_at desc) = 1 and action = 'retract'
          )
        group by sha256, source
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
    path = store.verified_path(meta.sha256)
    native = connector.load_native(con, path, meta)
    if native is None:
        table = connector.config.raw_table
        rows = _insert_parsed(con, store, connector, meta, table)
    else:
        table, rows = native.table, native.rows
    con.execute(
        "insert into raw.loads values (?, ?, ?, ?, ?)",
        [meta.sha256, table, rows, datetime.now(UTC), run_id],
    )
    _record_layout(con, connector, path, meta, run_id)
    LOG.info("loaded %d rows into %s from snapshot %s", rows, table, meta.sha256[:12])
    return NativeLoad(table, rows)


def _record_layout(
    con: duckdb.DuckDBPyConnection, connector: Connector, path: Path, meta: SnapshotMeta, run_id: str
) -> None:
    """The snapshot's layout and fingerprint (the connector's description of what its parser read) beside its rows."""
    layout = connector.layout(path, meta)
    if layout is None:
        LOG.warning("%s describes no layout: snapshot %s has no fingerprint", connector.name, meta.sha256[:12])
        return
    con.execute(
        "insert or replace into raw.snapshot_layouts values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            meta.sha256,
            meta.source,
            meta.dataset,
            layout.subject,
            layout.fingerprint,
            layout.text,
            meta.release_date,
            datetime.now(UTC),
            run_id,
        ],
    )


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


def quarantine_loaded(
    con: duckdb.DuckDBPyConnection, connectors: list[Connector], reasons: dict[str, str], run_id: str
) -> dict[str, tuple[str, dict[str, int]]]:
    """Loaded snapshots that failed a critical check at the publish gate (`reasons`: sha256 -> why): each is put in
    quarantine with its reason (never loaded again; its bytes stay in the store) and its rows leave the raw tables
    and raw.loads of its source. Returns, per snapshot, its source and the rows taken out per raw table."""
    owners = {table: c for c in connectors for table in c.config.raw_tables}
    taken: dict[str, tuple[str, dict[str, int]]] = {}
    for sha, reason in sorted(reasons.items()):
        loads = con.execute("select raw_table, row_count from raw.loads where sha256 = ?", [sha]).fetchall()
        connector = next((owners[t] for t, _ in loads if t in owners), None)
        if connector is None:
            raise SourceError("validate", sha[:12], "a snapshot loaded by this run", "no load record of it")
        for table in connector.config.raw_tables:
            connector.unload(con, table, sha)
            con.execute("delete from raw.loads where sha256 = ? and raw_table = ?", [sha, table])
        _quarantine(con, connector.name, sha, run_id, reason)
        taken[sha] = (connector.name, {str(t): int(n) for t, n in loads if t in connector.config.raw_tables})
        LOG.error("snapshot %s quarantined at the publish gate: %s", sha[:12], reason)
    return taken


def _quarantine(con: duckdb.DuckDBPyConnection, source: str, sha256: str, run_id: str, reason: str) -> None:
    """Keep a snapshot whose bytes failed the connector's checks, or whose rows failed a critical expectation, out
    of every later load (it stays in the store)."""
    con.execute(
        "insert into raw.snapshot_quarantine values (?, ?, ?, ?, ?)",
        [sha256, source, datetime.now(UTC), run_id, reason],
    )


def _take_back(
    con: duckdb.DuckDBPyConnection, connector: Connector, result: LoadResult, current: SnapshotMeta | None
) -> None:
    """A source whose load stopped keeps none of this run's rows: the snapshots it loaded, and the one it was
    loading when it failed (which may have inserted rows first), leave its raw tables and raw.loads."""
    shas = {current.sha256} if current else set()
    for table in connector.config.raw_tables:
        shas.update(result.snapshots.pop(table, []))
        result.rows.pop(table, None)
    for table in connector.config.raw_tables:
        for sha in sorted(shas):
            connector.unload(con, table, sha)
            con.execute("delete from raw.loads where sha256 = ? and raw_table = ?", [sha, table])
