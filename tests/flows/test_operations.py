"""Operations: one writer at a time, a killed refresh's lock recovered, readers never blocked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flows.refresh import refresh
from tests.conftest import query
from unionstat.errors import StageFailed
from unionstat.settings import Settings
from unionstat.warehouse import owner_path

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from filelock import FileLock
    lock = FileLock(sys.argv[1]); lock.acquire()
    print("locked", flush=True)
    time.sleep(600)
    """
)


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_refresh_exits_naming_the_running_one(warehouse_env: Settings) -> None:
    holder = _hold_lock(warehouse_env.lock_path)
    try:
        busy = rf"stage 'lock'.*another refresh \(unknown holder\) holds {warehouse_env.lock_path}"
        with pytest.raises(StageFailed, match=busy):
            refresh()
    finally:
        holder.kill()
        holder.wait()
    assert not warehouse_env.published_db.exists()


def test_a_second_refresh_waits_a_bounded_time(warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONSTAT_LOCK_TIMEOUT_S", "1.5")
    holder = _hold_lock(warehouse_env.lock_path)
    started = time.monotonic()
    try:
        with pytest.raises(StageFailed, match=r"waited 2 s"):
            refresh()
    finally:
        holder.kill()
        holder.wait()
    assert time.monotonic() - started >= 1.4


def test_the_lock_of_a_killed_refresh_is_recovered(published_reference: Settings) -> None:
    holder = _hold_lock(published_reference.lock_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert published_reference.lock_path.exists()  # the file stays; the OS released the lock with the process

    # The run takes the lock and goes on to the end (nothing new in the reference snapshot: nothing to build).
    summary = refresh()
    assert (summary["status"], summary["failed_stage"]) == ("unchanged", None)
    history = published_reference.warehouse_dir / "dq_history.duckdb"
    assert query(history, "select status from runs order by finished_at")[-1] == ("unchanged",)


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, seconds = sys.argv[1], float(sys.argv[2])
    end, answers, errors = time.monotonic() + seconds, set(), 0
    while time.monotonic() < end:
        try:
            con = duckdb.connect(path, read_only=True)
            runs = con.execute("select count(*) from ops.runs").fetchone()[0]
            value = con.execute(
                "select russia_value from marts.mart_table2_country_comparison where metric_id = 'gdp_growth'"
            ).fetchone()[0]
            con.close()
            answers.add((runs, value))
        except Exception as exc:
            errors += 1
            print("ERROR", type(exc).__name__, exc, flush=True)
        time.sleep(0.02)
    print("ANSWERS", sorted(answers), flush=True)
    print("ERRORS", errors, flush=True)
    """
)


def test_readers_query_the_published_warehouse_throughout_a_refresh(published_reference: Settings) -> None:
    warehouse_env = published_reference
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse_env.published_db), "25"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    refresh(as_of="2030-01-01")  # a new as-of date: a full rebuild and publish
    out, _ = reader.communicate(timeout=120)
    assert "ERRORS 0" in out, out
    answers = next(line for line in out.splitlines() if line.startswith("ANSWERS"))
    # Each answer is one whole publish: the old one (1 run) or the new one (2 runs), never a mix.
    # (3.60000000000001: Russia's 2023 GDP growth in the real World Bank release of 2024-06-28)
    assert answers in ("ANSWERS [(1, 3.60000000000001)]", "ANSWERS [(1, 3.60000000000001), (2, 3.60000000000001)]"), (
        answers
    )
    assert query(warehouse_env.published_db, "select count(*) from ops.runs") == [(2,)]


def test_two_refreshes_at_once_the_second_names_the_first_or_waits_for_it(
    warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    # The first refresh is a real `unionstat refresh` in another process, on the same warehouse.
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    first = subprocess.Popen(
        [sys.executable, "-m", "unionstat.cli", "refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    owner = owner_path(warehouse_env)
    deadline = time.monotonic() + 180
    while not owner.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert owner.exists(), "the first refresh never took the lock"
    holder = json.loads(owner.read_text())
    assert holder["pid"] == first.pid

    # Started together with no patience: it stops at once and names the running refresh.
    monkeypatch.setenv("UNIONSTAT_LOCK_TIMEOUT_S", "0")
    with pytest.raises(StageFailed, match=rf"stage 'lock'.*another refresh \(run {holder['run_id']}, pid {first.pid}"):
        refresh()
    assert first.poll() is None  # the first one is untouched by the attempt

    # With patience it waits for the first to finish, then finds its publish already current.
    monkeypatch.setenv("UNIONSTAT_LOCK_TIMEOUT_S", "600")
    second = refresh()
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out
    assert second["status"] == "unchanged"
    waited = next(t["seconds"] for t in second["stage_timings"] if t["stage"] == "lock")
    assert waited > 1.0  # it really waited for the lock (the first refresh takes tens of seconds)
    assert query(warehouse_env.published_db, "select count(*) from ops.runs") == [(1,)]
    assert not owner.exists()
