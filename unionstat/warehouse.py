"""The DuckDB warehouse: core schema, the build beside the published file, the atomic publish, the lock."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from filelock import FileLock, Timeout

from scrapers.base import SELECTION_KEYS
from unionstat.errors import RefreshBusy
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)

CORE_DDL = """
create schema if not exists raw;
create schema if not exists dq;
create schema if not exists ops;
create table if not exists raw.snapshots (
    sha256 varchar not null,
    source varchar not null,
    dataset varchar not null,
    request_url varchar not null,
    origin varchar not null,
    fetched_at timestamptz not null,
    http_status integer,
    etag varchar,
    last_modified varchar,
    content_type varchar,
    size_bytes bigint not null,
    release_date date,
    run_id varchar not null,
    primary key (source, dataset, request_url, sha256)
);
-- The reference snapshot's entry a replayed or recorded snapshot came from (null for fetched and imported ones).
alter table raw.snapshots add column if not exists recording_id varchar;
-- Origins written before they were named ('live'; 'reference:<recording id>', always compiled from the paper then).
update raw.snapshots set origin = 'fetched' where origin = 'live';
update raw.snapshots set recording_id = substr(origin, 11), origin = 'compiled_from_paper'
where origin like 'reference:%';
create table if not exists raw.fetch_log (
    run_id varchar not null,
    attempted_at timestamptz not null,
    source varchar not null,
    dataset varchar not null,
    request_url varchar,
    outcome varchar not null,
    http_status integer,
    sha256 varchar,
    message varchar
);
create table if not exists raw.loads (
    sha256 varchar not null,
    raw_table varchar not null,
    row_count bigint not null,
    loaded_at timestamptz not null,
    run_id varchar not null,
    primary key (sha256, raw_table)
);
-- Snapshots that failed their checks while loading (a parse error): kept in the store, never loaded again, so a
-- bad file fails the one refresh that took it in, not every later one. `unionstat snapshots` lists them.
create table if not exists raw.snapshot_quarantine (
    sha256 varchar not null,
    source varchar not null,
    quarantined_at timestamptz not null,
    run_id varchar not null,
    reason varchar not null
);
-- Each loaded snapshot's structure without its values (scrapers.base.SnapshotLayout): written by the load, in the same
-- transaction as its rows. `unionstat dq` compares a subject's newest fingerprint with the one before ("layout
-- changed since release X"); only rows whose snapshot is in raw.loads count (a load taken back leaves its row here,
-- replaced when the snapshot loads again).
create table if not exists raw.snapshot_layouts (
    sha256 varchar primary key,
    source varchar not null,
    dataset varchar not null,
    subject varchar not null,
    fingerprint varchar not null,
    layout varchar not null, -- canonical JSON (sorted keys): what the fingerprint hashes
    release_date date,
    recorded_at timestamptz not null,
    run_id varchar not null
);
-- The retraction journal of the snapshot store (snapshots/retractions.duckdb), copied in by every refresh: staging
-- leaves out the snapshots whose latest entry is a retraction.
create table if not exists raw.snapshot_retractions (
    sha256 varchar not null,
    action varchar not null,
    reason varchar,
    recorded_by varchar not null,
    recorded_at timestamptz not null
);
create table if not exists dq.validation_results (
    run_id varchar not null,
    validated_at timestamptz not null,
    suite varchar not null,
    raw_table varchar not null,
    expectation_type varchar not null,
    column_name varchar,
    severity varchar not null,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_examples varchar,
    batch_snapshots varchar
);
create table if not exists ops.runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    published_at timestamptz not null,
    mode varchar not null,
    as_of date,
    summary json
);
"""


# DuckDB's Python client, with several threads of one process on one database (the flow fetches its sources side
# by side, each task on its own connection): an insert from a registered frame failed once in a clean-clone
# `make test` with "Table Function with name pandas_scan does not exist!" (tests/flows/test_refresh_news.py; not
# reproduced in isolation). Connecting and inserting from a registered frame take turns within the process.
_CLIENT_LOCK = threading.Lock()


def connect(path: Path, read_only: bool = False, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the configured resource limits (memory_limit, temp_directory, threads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = (settings or Settings.from_env()).duckdb_config()
    with _CLIENT_LOCK:
        return duckdb.connect(str(path), read_only=read_only, config=config)


@contextlib.contextmanager
def connection(
    path: Path, read_only: bool = False, settings: Settings | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only, settings=settings)
    try:
        yield con
    finally:
        con.close()


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str] = (),
    conflict: Literal["", "or ignore", "or replace"] = "",
) -> None:
    """Insert `rows` (in the table's column order, or `columns`) in one statement, from a DataFrame: DuckDB's
    executemany runs one statement per row (seconds for the few hundred rows of a build's catalog)."""
    if not rows:
        return
    import pandas as pd

    frame = pd.DataFrame([list(row) for row in rows], dtype=object)
    target = f"{table} ({', '.join(columns)})" if columns else table
    # On a cursor (the same database, its own connection): `con` may hold an unfinished result (a fetchone()),
    # beside which DuckDB refuses to register the frame. Every statement commits by itself: `con` sees the rows.
    with _CLIENT_LOCK, con.cursor() as cursor:
        cursor.register("unionstat_rows", frame)
        cursor.execute(f"insert {conflict} into {target} select * from unionstat_rows")  # noqa: S608


def ensure_schema(con: duckdb.DuckDBPyConnection, extra_ddl: list[str]) -> None:
    con.execute(CORE_DDL)
    for ddl in extra_ddl:
        con.execute(ddl)


def write_sources(con: duckdb.DuckDBPyConnection, configs: list[Any]) -> None:
    """The source registry as tables: ops.sources (publisher metadata) and ops.source_selections (how staging picks
    the paper's indicators out of whole tables), so that dbt and analysts can join them."""
    con.execute(
        """
        create or replace table ops.sources (
            source varchar primary key,
            publisher varchar not null,
            base_url varchar not null,
            licence varchar not null,
            release_cadence varchar not null,
            release_cadence_days integer not null,
            raw_table varchar not null,
            datasets json not null
        )
        """
    )
    insert_rows(
        con,
        "ops.sources",
        [
            [
                c.name,
                c.publisher,
                c.base_url,
                c.licence,
                c.release_cadence,
                c.release_cadence_days,
                c.raw_table,
                json.dumps(dict(c.datasets), ensure_ascii=False),
            ]
            for c in configs
        ],
    )
    con.execute(
        """
        create or replace table ops.source_selections (
            source varchar not null,
            indicator_code varchar not null,
            country_iso3 varchar,
            sheet_pattern varchar,
            title_pattern varchar,
            row_label_pattern varchar,
            row_code_pattern varchar,
            column_header_pattern varchar,
            note varchar
        )
        """
    )
    selections = [[c.name, *(item.get(key) for key in SELECTION_KEYS)] for c in configs for item in c.selections]
    insert_rows(con, "ops.source_selections", selections)


def write_retractions(con: duckdb.DuckDBPyConnection, journal: list[Any]) -> list[str]:
    """The snapshot store's retraction journal into raw.snapshot_retractions (whole: it is only ever appended to);
    returns the snapshots retracted now."""
    con.execute("delete from raw.snapshot_retractions")
    insert_rows(
        con,
        "raw.snapshot_retractions",
        [[e.sha256, e.action, e.reason, e.recorded_by, e.recorded_at] for e in journal],
    )
    return sorted(retracted_now(con))


def retracted_now(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The snapshots whose latest journal entry is a retraction."""
    rows = con.execute(
        "select sha256 from raw.snapshot_retractions "
        "qualify row_number() over (partition by sha256 order by recorded_at desc) = 1 and action = 'retract'"
    ).fetchall()
    return {sha for (sha,) in rows}


def quarantined(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {sha for (sha,) in con.execute("select distinct sha256 from raw.snapshot_quarantine").fetchall()}


@contextlib.contextmanager
def writer_lock(settings: Settings, run_id: str = "") -> Iterator[None]:
    """One refresh at a time. The OS releases the lock when a killed process dies, so it never goes stale.

    The holder writes who it is beside the lock (run id, pid, host, start time), so a refresh that cannot get
    the lock names the one that holds it; a leftover owner file of a killed run is simply overwritten.
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.lock_path))
    try:
        lock.acquire(timeout=settings.lock_timeout_s)
    except Timeout as exc:
        raise RefreshBusy(
            f"another refresh ({lock_owner(settings)}) holds {settings.lock_path}; waited "
            f"{settings.lock_timeout_s:.0f} s (set UNIONSTAT_LOCK_TIMEOUT_S to wait longer)"
        ) from exc
    owner = owner_path(settings)
    try:
        owner.write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def owner_path(settings: Settings) -> Path:
    return settings.lock_path.with_name(settings.lock_path.name + ".owner.json")


def lock_owner(settings: Settings) -> str:
    """Who holds the writer lock, as its owner file says ('unknown holder' if it has not written one yet)."""
    try:
        owner = json.loads(owner_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown holder"
    run, pid, host, since = (owner.get(k) for k in ("run_id", "pid", "host", "started_at"))
    return f"run {run or '?'}, pid {pid} on {host}, since {since}"


def begin_build(settings: Settings) -> Path:
    """Start a build beside the published warehouse: a fresh copy that readers never see."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    discard_build(settings)
    if settings.published_db.exists():
        shutil.copy2(settings.published_db, settings.build_db)
    return settings.build_db


def discard_build(settings: Settings) -> None:
    for leftover in (settings.build_db, settings.build_db.with_suffix(".duckdb.wal")):
        if leftover.exists():
            leftover.unlink()


def open_handles(path: Path) -> list[str]:
    """File descriptors of this process that point at `path` (Linux /proc; empty elsewhere)."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return []
    target = str(path.resolve())
    found = []
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == target:
                found.append(f"fd {fd.name}")
    return found


def publish(settings: Settings) -> Path:
    """Swap the finished build in atomically; readers see the old file or the new one, never a mix."""
    build, target = settings.build_db, settings.published_db
    wal = build.with_suffix(".duckdb.wal")
    if wal.exists():
        raise RuntimeError(f"publish: {wal} still exists; the build connection was not closed cleanly")
    holders = open_handles(build)
    if holders:
        raise RuntimeError(f"publish: this process still holds {build} open ({holders}); refusing to swap it in")
    swap_in(build, target)
    LOG.info("published %s", target)
    return target


def swap_in(source: Path, target: Path) -> None:
    """Replace `target` by the finished file `source` in one rename, flushed to disk first and after."""
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    dir_fd = os.open(target.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def rewritten(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write to a copy of a small DuckDB file and swap it in, as a refresh does with the warehouse.

    DuckDB lets one process write a file or many read it, never both: writing in place would fail while a data
    engineer reads the file (`unionstat dq`), and lock that reader out while it writes. Readers keep the file
    they opened; the next open sees the new one. Writers must be serialised by the caller (the writer lock).
    """
    work = path.with_name(f".{path.name}.writing")
    for leftover in (work, work.with_name(work.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if path.exists():
        shutil.copy2(path, work)
    try:
        with connection(work) as con:
            yield con
            con.execute("checkpoint")
        swap_in(work, path)
    finally:
        for leftover in (work, work.with_name(work.name + ".wal")):
            leftover.unlink(missing_ok=True)
