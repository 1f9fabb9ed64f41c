"""A local Prefect server and worker with the deployments of prefect.yaml registered, so schedules fire."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from unionstat.errors import UnionstatError
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
POOL = "unionstat"


@dataclass
class Service:
    """The processes `unionstat serve` started, and the environment that reaches them."""

    api_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=20)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def prefect_cli() -> list[str]:
    return [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(settings: Settings, api_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the server, the deploy and the worker (and so of every flow run)."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "UNIONSTAT_PROJECT_ROOT": str(settings.project_root),
            "UNIONSTAT_WAREHOUSE_DIR": str(settings.warehouse_dir),
        }
    )
    env.update(extra or {})
    return env


def start(
    settings: Settings,
    api_url: str | None = None,
    port: int | None = None,
    log_dir: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Service:
    """Start (or reuse, given api_url) a Prefect server, create the work pool, deploy all, start a worker."""
    log_dir = log_dir or settings.warehouse_dir / "prefect_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    own_server = api_url is None
    if own_server:
        port = port or free_port()
        api_url = f"http://127.0.0.1:{port}/api"
    assert api_url is not None
    service = Service(api_url=api_url, env=service_env(settings, api_url, extra_env))
    try:
        if own_server:
            service.processes.append(
                _spawn(
                    [*prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                    service.env,
                    log_dir / "server.log",
                    settings.project_root,
                )
            )
        wait_healthy(api_url, timeout_s=180)
        _run([*prefect_cli(), "work-pool", "create", POOL, "--type", "process", "--overwrite"], service.env, settings)
        _run([*prefect_cli(), "--no-prompt", "deploy", "--all"], service.env, settings)
        service.processes.append(
            _spawn(
                [*prefect_cli(), "worker", "start", "--pool", POOL, "--limit", "1"],
                service.env,
                log_dir / "worker.log",
                settings.project_root,
            )
        )
    except BaseException:
        service.stop()
        raise
    return service


@contextlib.contextmanager
def running(settings: Settings, **kwargs: object) -> Iterator[Service]:
    service = start(settings, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.stop()


def wait_healthy(api_url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{api_url}/health", timeout=5)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(1)
    raise UnionstatError(f"Prefect server at {api_url} not healthy after {timeout_s:.0f} s ({last})")


def _spawn(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    LOG.info("starting %s (log: %s)", " ".join(cmd[2:]), log)
    handle = open(log, "ab")  # noqa: SIM115 (the child owns it for its lifetime)
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)


def _run(cmd: list[str], env: dict[str, str], settings: Settings) -> None:
    result = subprocess.run(
        cmd, env=env, cwd=settings.project_root, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise UnionstatError(
            f"`prefect {' '.join(cmd[3:])}` failed ({result.returncode}): {(result.stderr or result.stdout)[-2000:]}"
        )
