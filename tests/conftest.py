"""Shared test harness: one Prefect test server per session, a private warehouse per test."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from filelock import FileLock

from unionstat.settings import PROJECT_ROOT, Settings, quiet_third_party_telemetry

REFERENCE_DIR = PROJECT_ROOT / "warehouse" / "reference"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability tests' figures, at the end of every run that ran them (with or without pytest-xdist)."""
    from tests.reliability import conftest as reliability

    reliability.print_figures(terminalreporter)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker finished; keep what it measured for the summary."""
    from tests.reliability import conftest as reliability

    reliability.merge_worker_figures(node)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server for the whole session, with its own PREFECT_HOME."""
    quiet_third_party_telemetry()
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    # dbt's parse of the project, shared by every build of the session (each test's warehouse has its own path,
    # which voids dbt's own partial parse): one folder for all pytest-xdist workers, written atomically.
    os.environ["UNIONSTAT_DBT_PARSE_CACHE_DIR"] = str(session_folder(tmp_path_factory) / "dbt-parse-cache")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def replay_env(monkeypatch: pytest.MonkeyPatch, warehouse_dir: Path) -> Settings:
    monkeypatch.setenv("UNIONSTAT_WAREHOUSE_DIR", str(warehouse_dir))
    monkeypatch.setenv("UNIONSTAT_MODE", "replay")
    monkeypatch.setenv("UNIONSTAT_FETCH_RETRY_DELAYS_S", "0")  # one quick retry: the orchestrator's, not a sleep
    # No documentation sites (dbt docs, Data Docs) unless a test asserts on them: the session's reference build
    # (`reference_build`) has them, and so do the tests that set UNIONSTAT_DOCS=true.
    monkeypatch.setenv("UNIONSTAT_DOCS", "false")
    monkeypatch.delenv("UNIONSTAT_REFERENCE_DIR", raising=False)
    for key in list(os.environ):
        if key.startswith("UNIONSTAT_") and key.endswith("_BASE_URL"):
            monkeypatch.delenv(key)
    return Settings.from_env()


@pytest.fixture
def warehouse_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A private warehouse directory for one test; replay mode from the shipped reference snapshot."""
    return replay_env(monkeypatch, tmp_path / "warehouse")


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole test session, shared by its pytest-xdist workers (each worker's own
    basetemp is a subfolder of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """Build into `<session folder>/<name>` once per test session, by whichever pytest-xdist worker asks first; the
    others wait for it (a file lock) and read what it returned (kept as JSON beside the build). Every worker reads
    the same folder: callers copy it before changing anything in it.

    A build that raises leaves nothing behind: the next worker to ask builds again (and fails the same way)."""
    shared = session_folder(tmp_path_factory)
    folder, done = shared / name, shared / f"{name}.json"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            result = build(folder)
            partial = shared / f"{name}.json.partial"
            partial.write_text(json.dumps(result, default=str), encoding="utf-8")
            partial.replace(done)
    built: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
    return built


@pytest.fixture(scope="session")
def reference_build(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> dict[str, Any]:
    """The reference snapshot refreshed once per test session (by the first pytest-xdist worker that needs it): its
    published warehouse directory, with both documentation sites, and the run's summary. Tests copy it
    (`published_reference`) instead of paying for a refresh of their own; nothing writes into it."""

    def build(folder: Path) -> dict[str, Any]:
        from flows.refresh import refresh

        with pytest.MonkeyPatch.context() as monkeypatch:
            replay_env(monkeypatch, folder / "warehouse")
            monkeypatch.setenv("UNIONSTAT_DOCS", "true")
            # As on a new machine: its own parse of the project (in the warehouse's cache folder, copied with it) and
            # so its own run of the unit tests, which a build of code that passed them before skips.
            monkeypatch.delenv("UNIONSTAT_DBT_PARSE_CACHE_DIR")
            return {"summary": refresh()}

    built = built_once(tmp_path_factory, "reference-build", build)
    return {"warehouse_dir": session_folder(tmp_path_factory) / "reference-build" / "warehouse", **built}


@pytest.fixture
def published_reference(reference_build: dict[str, Any], warehouse_env: Settings) -> Settings:
    """`warehouse_env` holding a copy of the session's reference build, as if `refresh()` had just published it."""
    shutil.copytree(reference_build["warehouse_dir"], warehouse_env.warehouse_dir)
    return warehouse_env


@pytest.fixture
def reference_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the reference snapshot, for tests that plant bad responses."""
    target = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, target)
    monkeypatch.setenv("UNIONSTAT_REFERENCE_DIR", str(target))
    return target


def plant_recording(
    reference: Path, source: str, url: str, body: bytes, name: str, headers: dict[str, str] | None = None
) -> None:
    """Add a recording to a copy of the reference snapshot: the test's own synthetic response to `url`."""
    path = reference / "responses" / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    manifest = json.loads((reference / "manifest.json").read_text(encoding="utf-8"))
    manifest["recordings"].append(
        {
            "id": f"planted-{name}",
            "source": source,
            "origin": "synthetic",
            "url": url,
            "status": 200,
            "headers": headers or {"Content-Type": "application/json"},
            "body": str(path.relative_to(reference)),
            "compiled_from": "a test's synthetic values, not publisher data",
        }
    )
    (reference / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


class Routes:
    """Responses a local test server gives, by path (and query) — a stand-in publisher."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}
        self.post_handlers: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    def add(self, path: str, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        def handler(req: http.server.BaseHTTPRequestHandler) -> None:
            req.send_response(status)
            for key, value in (headers or {}).items():
                req.send_header(key, value)
            if "Content-Length" not in (headers or {}):
                req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            req.wfile.write(body)

        self.handlers[path] = handler


@pytest.fixture
def publisher_server() -> Iterator[tuple[str, Routes]]:
    """A local HTTP server on 127.0.0.1 that plays a publisher; yields (base_url, routes)."""
    routes = Routes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            routes.requests.append((self.path, dict(self.headers)))
            handler = routes.handlers.get(self.path) or routes.handlers.get(self.path.split("?")[0])
            if handler is None:
                self.send_error(404, "no such route in the test server")
                return
            handler(self)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            handler = routes.post_handlers.get(self.path)
            if handler is None:
                self.send_error(404, "no such route in the test server")
                return
            handler(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()
