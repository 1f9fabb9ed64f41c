"""The temporary Prefect server of a command-line refresh: it ends with the refresh, even a killed one.

Without PREFECT_API_URL, Prefect 3 starts a temporary server (uvicorn) of its own and stops it at exit, which a
SIGKILL skips: the server was left running, re-parented to PID 1. So the CLI starts that server itself:

- in its own process group, asked by the kernel (PR_SET_PDEATHSIG) to stop when the refresh dies, however it dies;
- recorded in a pid file under warehouse/prefect_servers/ with its pid and start time, and those of the refresh
  that owns it. The next refresh ends a leftover only when the file proves it: the owner is gone (its pid is free
  or belongs to a process started at another time) and the server's pid still names the process started at the
  recorded time. Never by a process name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from unionstat.errors import UnionstatError
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
PID_DIR = "prefect_servers"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
#: Run in the server's process before it becomes uvicorn: the kernel sends SIGTERM when the parent (the refresh)
#: dies; if the parent is already gone, stop at once. execv keeps the request (the binary is not set-uid).
DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM); "  # 1 = PR_SET_PDEATHSIG
    "os.getppid() == int(sys.argv[1]) or sys.exit(0); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


@dataclass(frozen=True)
class ServerRecord:
    """What a pid file holds: the server and the refresh that started it, each by pid and start time."""

    pid: int
    started: int
    owner_pid: int
    owner_started: int
    api_url: str


def process_started(pid: int) -> int | None:
    """The process's start time (clock ticks after boot, /proc/<pid>/stat field 22); None if no such process or
    it has ended (a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def is_running(pid: int, started: int) -> bool:
    """Whether `pid` is still the process that started at `started` (a recycled pid is another process)."""
    return process_started(pid) == started


def pid_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / PID_DIR


def stop_leftovers(settings: Settings) -> list[str]:
    """End every server a dead refresh left behind (as its pid file proves); returns what was done, per file."""
    done = []
    folder = pid_dir(settings)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = ServerRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            LOG.warning("ignoring unreadable pid file %s: %s", path, exc)
            continue
        if is_running(record.owner_pid, record.owner_started):
            continue  # its refresh is still running: not a leftover
        if is_running(record.pid, record.started):
            _stop_group(record.pid, record.started)
            done.append(f"stopped the Prefect server (pid {record.pid}) a killed refresh left running")
        path.unlink(missing_ok=True)
    for line in done:
        LOG.warning(line)
    return done


@contextlib.contextmanager
def for_refresh(settings: Settings) -> Iterator[str | None]:
    """A Prefect API for one refresh: the configured one (PREFECT_API_URL) or a temporary server of our own, ended
    when the refresh ends. Yields the temporary server's API URL (None when one was configured)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    stop_leftovers(settings)
    if PREFECT_API_URL.value():
        yield None
        return
    with temporary_server(settings) as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        try:
            yield api_url
        finally:
            _drain_to(api_url)


def _drain_to(api_url: str) -> None:
    """Send the logs and events Prefect still holds while the server is up (Prefect would send them at exit, to a
    server that is gone by then)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=STOP_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 -- the refresh is done; a log batch lost is reported, not raised
            LOG.warning("could not send Prefect's last %s to %s: %s", worker.__name__, api_url, exc)


@contextlib.contextmanager
def temporary_server(settings: Settings) -> Iterator[str]:
    """Start a Prefect server (API only) on a free local port, recorded in a pid file; stop it on the way out."""
    import prefect

    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    uvicorn = [
        *("-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent)),
        *("--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "error", "--lifespan", "on"),
    ]
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    folder = pid_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), *uvicorn],
        env=env,
        start_new_session=True,  # its own process group: stopping it stops whatever it started
        stdin=subprocess.DEVNULL,
    )
    own_started = process_started(os.getpid())
    server_started = process_started(proc.pid)
    pid_file = folder / f"{os.getpid()}.json"
    try:
        if own_started is None or server_started is None:
            raise UnionstatError(f"the temporary Prefect server (pid {proc.pid}) exited at once ({proc.poll()})")
        record = ServerRecord(proc.pid, server_started, os.getpid(), own_started, api_url)
        pid_file.write_text(json.dumps(asdict(record)), encoding="utf-8")
        _wait_healthy(proc, api_url)
        yield api_url
    finally:
        if server_started is not None and proc.poll() is None:
            _stop_group(proc.pid, server_started)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)
        pid_file.unlink(missing_ok=True)


def _stop_group(pid: int, started: int) -> None:
    """SIGTERM to the server's process group, SIGKILL if it has not ended in STOP_TIMEOUT_S."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not is_running(pid, started):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and is_running(pid, started):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our child (a zombie keeps its /proc entry)
            time.sleep(0.1)


def _wait_healthy(proc: subprocess.Popen[bytes], api_url: str) -> None:
    import httpx

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no answer"
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise UnionstatError(f"the temporary Prefect server exited with code {proc.returncode} while starting")
            try:
                response = client.get(f"{api_url}/health", timeout=5)
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            time.sleep(0.2)
    raise UnionstatError(
        f"the temporary Prefect server at {api_url} was not healthy after {STARTUP_TIMEOUT_S:.0f} s ({last})"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
