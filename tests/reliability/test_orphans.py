"""No orphans: the temporary Prefect server a command-line refresh starts ends with it, even when the refresh is
killed with SIGKILL; a leftover is stopped by the next refresh only when its pid file proves it is one.

The kill is real: `unionstat refresh` runs in a child process without PREFECT_API_URL (so it starts its own server),
and is killed as soon as that server answers, long before the refresh would finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.reliability.conftest import FIGURES
from unionstat import prefect_server
from unionstat.settings import PROJECT_ROOT, Settings


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}")


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_sigkilled_refresh_takes_its_prefect_server_with_it(warehouse_env: Settings, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # the child's server has a database of its own
    child = subprocess.Popen(
        [sys.executable, "-m", "unionstat.cli", "refresh"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_dir = prefect_server.pid_dir(warehouse_env)
    try:
        wait_for(lambda: any(pid_dir.glob("*.json")), 120, "the refresh records its Prefect server")
        record = json.loads(next(pid_dir.glob("*.json")).read_text(encoding="utf-8"))
        assert record["owner_pid"] == child.pid
        assert prefect_server.is_running(record["pid"], record["started"])
        wait_for(lambda: healthy(record["api_url"]), 120, "the Prefect server answers")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -9
        killed = time.monotonic()
        wait_for(lambda: not prefect_server.is_running(record["pid"], record["started"]), 30, "the server ends")
        FIGURES.end_to_end.append(
            f"a SIGKILLed refresh: its Prefect server ended {time.monotonic() - killed:.1f} s later (no orphan)"
        )
        # the pid file is left behind; the next refresh proves the owner dead and the server gone, and removes it
        assert prefect_server.stop_leftovers(warehouse_env) == []
        assert not any(pid_dir.glob("*.json"))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def spawn_leftover() -> tuple[subprocess.Popen[bytes], int]:
    """A stand-in for a server left running: a process in its own group, with its start time."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    started = prefect_server.process_started(proc.pid)
    assert started is not None
    return proc, started


def dead_owner() -> tuple[int, int]:
    """The pid and start time of a refresh that has ended."""
    proc = subprocess.Popen(["sleep", "0.2"])
    started = prefect_server.process_started(proc.pid)
    assert started is not None
    proc.wait()
    return proc.pid, started


def write_record(settings: Settings, name: str, **record: object) -> Path:
    folder = prefect_server.pid_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"api_url": "http://127.0.0.1:1/api", **record}), encoding="utf-8")
    return path


def test_the_next_refresh_stops_only_a_leftover_it_can_prove_is_its_own(warehouse_env: Settings) -> None:
    owner_pid, owner_started = dead_owner()
    leftover, leftover_started = spawn_leftover()
    recycled, recycled_started = spawn_leftover()
    running, running_started = spawn_leftover()
    try:
        write_record(warehouse_env, "a", pid=leftover.pid, started=leftover_started, owner_pid=owner_pid,
                     owner_started=owner_started)  # fmt: skip
        # the same pid, another start time: the pid was recycled, this process is not ours
        write_record(warehouse_env, "b", pid=recycled.pid, started=recycled_started - 1, owner_pid=owner_pid,
                     owner_started=owner_started)  # fmt: skip
        # its refresh is still running (this process): not a leftover
        kept = write_record(warehouse_env, "c", pid=running.pid, started=running_started, owner_pid=os.getpid(),
                            owner_started=prefect_server.process_started(os.getpid()))  # fmt: skip

        done = prefect_server.stop_leftovers(warehouse_env)

        assert done == [f"stopped the Prefect server (pid {leftover.pid}) a killed refresh left running"]
        assert leftover.wait(timeout=15) == -signal.SIGTERM
        assert recycled.poll() is None and running.poll() is None
        assert sorted(p.name for p in prefect_server.pid_dir(warehouse_env).iterdir()) == [kept.name]
    finally:
        for proc in (leftover, recycled, running):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
