"""Crashes: a refresh killed with SIGKILL at many points leaves a published warehouse that opens and is either the
previous publish or the new one, byte for byte; the next refresh recovers by itself.

Each crash runs a real refresh in a child process (replay mode, the session's Prefect server) in which the test
patches one function to SIGKILL its own process at the chosen point: no crash hook lives in production code. The
runs are chained: each starts from whatever the previous kill left behind (build file, snapshots, lock file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import prefect.settings
import pytest

from flows.refresh import refresh
from tests.conftest import file_digest, query
from tests.reliability.conftest import FIGURES
from unionstat.errors import StageFailed
from unionstat.settings import PROJECT_ROOT, Settings

CHILD = textwrap.dedent(
    """
    import hashlib, json, os, signal, sys, threading, time
    from pathlib import Path

    point, as_of, report = sys.argv[1], sys.argv[2] or None, Path(sys.argv[3])
    started = time.time()

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def kill_on_call(owner, name, nth, before=False):
        original, calls = getattr(owner, name), [0]
        def wrapper(*args, **kwargs):
            calls[0] += 1
            if before and calls[0] == nth:
                die()
            result = original(*args, **kwargs)
            if calls[0] == nth:
                die()
            return result
        setattr(owner, name, wrapper)

    from flows import refresh as flow_module
    from unionstat import load, snapshots, validate, warehouse
    from unionstat.settings import Settings
    settings = Settings.from_env()

    if point == "prepare: build copied":
        kill_on_call(warehouse, "begin_build", 1)
    elif point == "fetch: first snapshot stored":
        kill_on_call(snapshots.SnapshotStore, "_write", 1)
    elif point == "fetch: sixth snapshot stored":
        kill_on_call(snapshots.SnapshotStore, "_write", 6)
    elif point == "load: third snapshot inserted":
        kill_on_call(load, "load_snapshot", 3)
    elif point == "validate: inside a GX validation":
        kill_on_call(validate, "_results", 2)
    elif point.startswith("dbt:"):
        folder = "/models/staging/" if "staging" in point else "/models/marts/"
        run_dir = settings.build_dir / "dbt_target" / "run"
        def watch():
            while True:
                if run_dir.is_dir() and any(
                    folder in str(p) and p.stat().st_mtime >= started for p in run_dir.rglob("*.sql")
                ):
                    die()
                time.sleep(0.05)
        threading.Thread(target=watch, daemon=True).start()
    elif point.startswith("publish: os.replace"):
        real_replace = os.replace
        def replace(src, dst, *args, **kwargs):
            if Path(dst) == settings.published_db:
                digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
                report.write_text(json.dumps({"build_digest": digest}))
                if point.endswith("before"):
                    die()
                real_replace(src, dst, *args, **kwargs)
                die()
            return real_replace(src, dst, *args, **kwargs)
        os.replace = replace
    else:
        raise SystemExit(f"unknown crash point {point!r}")

    flow_module.refresh(as_of=as_of)
    print("COMPLETED WITHOUT A CRASH", flush=True)
    """
)
#: (crash point, as-of date). Publishing needs a new build: after the first publish each run changes the as-of.
CHAIN = [
    ("prepare: build copied", ""),
    ("fetch: first snapshot stored", ""),
    ("fetch: sixth snapshot stored", ""),
    ("load: third snapshot inserted", ""),
    ("validate: inside a GX validation", ""),
    ("dbt: a mart model running", ""),
    ("publish: os.replace, after", ""),
    ("publish: os.replace, before", "2031-01-01"),
]


def opens_and_answers(db: Path) -> int:
    """The published file opens read-only and every table answers; returns the number of published runs."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) > 10, tables
        for schema, table in tables:
            con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()  # noqa: S608
        row = con.execute("select count(*) from ops.runs").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def holds_lock(pid: int, lock: Path) -> bool:
    """Whether process `pid` holds the OS lock (flock) on `lock`, from /proc/locks."""
    if not lock.exists():
        return False
    inode = f":{lock.stat().st_ino} "
    return any(
        " FLOCK " in line and f" {pid} " in line and inode in line
        for line in Path("/proc/locks").read_text().splitlines()
    )


def crash(point: str, as_of: str, report: Path, env: dict[str, str], lock: Path | None = None) -> bool:
    """Run the refresh killed at `point`. With `lock`: once the child holds it, a second refresh must be refused
    (two refreshes at once); returns whether that was tried."""
    report.unlink(missing_ok=True)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, point, as_of, str(report)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    second_refused = False
    try:
        while lock is not None and child.poll() is None and not holds_lock(child.pid, lock):
            time.sleep(0.05)
        if lock is not None and child.poll() is None:
            with pytest.raises(StageFailed, match=rf"stage 'lock': another refresh .*holds {re.escape(str(lock))}"):
                refresh()
            second_refused = True
        out, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -9, f"{point}: expected a SIGKILL, got {child.returncode}\n{out[-2000:]}\n{err[-4000:]}"
    return second_refused


def test_a_refresh_killed_at_any_point_leaves_the_previous_or_the_new_publish(
    warehouse_env: Settings, tmp_path: Path
) -> None:
    env = {**os.environ, "PREFECT_API_URL": str(prefect.settings.PREFECT_API_URL.value())}
    report = tmp_path / "crash-report.json"
    db = warehouse_env.published_db
    started = time.monotonic()
    runs = 0
    survived: list[str] = []
    for point, as_of in CHAIN:
        before = file_digest(db) if db.exists() else None
        run_started = time.monotonic()
        concurrent = point.startswith("dbt:")
        if crash(point, as_of, report, env, warehouse_env.lock_path if concurrent else None):
            FIGURES.end_to_end.append("two refreshes at once: the second refused at once, naming the lock")
        seconds = time.monotonic() - run_started
        build_digest = json.loads(report.read_text())["build_digest"] if report.exists() else None
        after = file_digest(db) if db.exists() else None
        if after == before:
            outcome = "previous"
        else:
            assert after == build_digest, f"{point}: the published file is neither the previous nor the new build"
            outcome = "new"
        if after is not None:
            published_runs = opens_and_answers(db)
            assert published_runs == runs + (outcome == "new"), point
            runs = published_runs
        if point == "publish: os.replace, after":
            assert outcome == "new", point
        else:
            assert outcome == "previous", point
        survived.append(f"{point} ({seconds:.0f} s)")

    # The next refresh recovers by itself: the lock died with the process, the leftover build is discarded. Its
    # inputs are those of the surviving publish, so it has nothing to rebuild (unless the code changed meanwhile).
    summary = refresh()
    assert summary["status"] in ("unchanged", "published"), summary
    assert opens_and_answers(db) == runs + (summary["status"] == "published")
    assert not warehouse_env.build_db.exists()
    # every reference entry, once: 11 recordings compiled from the paper and 13 real files
    assert query(db, "select count(*) from raw.snapshots") == [(24,)]
    loads = query(db, "select count(*), count(distinct sha256 || raw_table) from raw.loads")
    assert loads[0][0] == loads[0][1]  # no snapshot loaded twice by the interrupted runs
    table2 = query(db, "select russia_value from marts.mart_table2_country_comparison where metric_id = 'gdp_growth'")
    assert table2 == [(3.60000000000001,)]  # the real World Bank release of 2024-06-28
    FIGURES.crash_points = survived
    FIGURES.crash_seconds = time.monotonic() - started
