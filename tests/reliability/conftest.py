"""Reliability harness: a live-mode stand-in for every publisher, and the figures the suite measured.

The tests fill `FIGURES`; `pytest_terminal_summary` prints them after a run (`make test` output), so the counts in
the README's "Reliability" section come from a run, not from a hand count.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

import scrapers
import tests.conftest as shared
from tests.builders import worldbank_page, worldbank_row
from tests.conftest import REFERENCE_DIR, Routes
from unionstat.http import normalize_url

#: Every source of the registry (scrapers/sources.json): a new source joins the matrix by its registry entry.
SOURCES = tuple(scrapers.registry())
FAULTS = (
    "429",
    "500",
    "503",
    "timeout",
    "reset",
    "truncated",
    "html",
    "error200",
    "empty",
    "layout",
    "encoding",
    "huge",
)
#: Faults that go away on a second try (the HTTP layer must retry through them).
TRANSIENT = ("429", "503", "timeout", "reset")


@dataclass
class Figures:
    """What the reliability tests measured, printed at the end of the session."""

    matrix: dict[tuple[str, str], str] = field(default_factory=dict)
    end_to_end: list[str] = field(default_factory=list)
    crash_points: list[str] = field(default_factory=list)
    crash_seconds: float = 0.0
    fuzz_examples: dict[str, int] = field(default_factory=dict)
    hostile: list[str] = field(default_factory=list)


FIGURES = Figures()


def pytest_sessionfinish(session: Any) -> None:
    """Under pytest-xdist each worker measures its share: hand it to the controller, which prints the summary."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["unionstat_reliability"] = {
            "matrix": [[source, fault, outcome] for (source, fault), outcome in FIGURES.matrix.items()],
            "end_to_end": FIGURES.end_to_end,
            "crash_points": FIGURES.crash_points,
            "crash_seconds": FIGURES.crash_seconds,
            "fuzz_examples": FIGURES.fuzz_examples,
            "hostile": FIGURES.hostile,
        }


def merge_worker_figures(node: Any) -> None:
    """The controller's side of `pytest_sessionfinish` (called by tests/conftest.py's `pytest_testnodedown`): add a
    worker's figures to this process's."""
    figures = getattr(node, "workeroutput", {}).get("unionstat_reliability")
    if not figures:
        return
    FIGURES.matrix.update({(source, fault): outcome for source, fault, outcome in figures["matrix"]})
    FIGURES.end_to_end.extend(figures["end_to_end"])
    FIGURES.crash_points.extend(figures["crash_points"])
    FIGURES.crash_seconds += figures["crash_seconds"]
    for name, count in figures["fuzz_examples"].items():
        FIGURES.fuzz_examples[name] = FIGURES.fuzz_examples.get(name, 0) + count
    FIGURES.hostile.extend(figures["hostile"])


def print_figures(terminalreporter: Any) -> None:
    """Print the fault matrix and the counts (only when reliability tests ran; called by tests/conftest.py, which
    the pytest-xdist controller loads, unlike this file)."""
    figures = FIGURES
    if not (figures.matrix or figures.crash_points or figures.fuzz_examples or figures.hostile):
        return
    write = terminalreporter.write_line
    terminalreporter.section("unionstat reliability")
    if figures.matrix:
        write("fault matrix (connector level: recovered = retried then loaded, stopped = typed error, ok = harmless)")
        width = max(len(f) for f in FAULTS) + 1
        write("source".ljust(10) + "".join(f.ljust(width) for f in FAULTS))
        for source in SOURCES:
            cells = [figures.matrix.get((source, fault), "-").ljust(width) for fault in FAULTS]
            write(source.ljust(10) + "".join(cells))
        handled = sum(1 for v in figures.matrix.values() if v in ("recovered", "stopped", "ok"))
        write(f"faults x sources handled: {handled} of {len(SOURCES) * len(FAULTS)}")
    for line in figures.end_to_end:
        write(f"end to end: {line}")
    if figures.crash_points:
        write(
            f"crash points survived (SIGKILL, then recovery): {len(figures.crash_points)} "
            f"in {figures.crash_seconds:.0f} s: {', '.join(figures.crash_points)}"
        )
    if figures.fuzz_examples:
        total = sum(figures.fuzz_examples.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(figures.fuzz_examples.items()))
        write(f"inputs fuzzed (hypothesis examples run): {total} ({detail})")
    if figures.hostile:
        write(f"hostile-input checks passed: {len(figures.hostile)}")


# -- the stand-in publishers --------------------------------------------------------------------
Handler = Callable[[Any], None]


WB_SYNTHETIC = "worldbank-gdp-growth-synthetic"
WB_GDP_PAGE = (
    "https://api.worldbank.org/v2/country/RUS;BLR/indicator/NY.GDP.MKTP.KD.ZG"
    "?format=json&date=2010:2024&per_page=1000&page=1"
)


def recordings() -> dict[str, list[dict[str, Any]]]:
    """The reference snapshot's recordings by source: url, body and headers."""
    manifest = json.loads((REFERENCE_DIR / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["recordings"]:
        found.setdefault(entry["source"], []).append(
            {
                "url": entry["url"],
                "body": (REFERENCE_DIR / entry["body"]).read_bytes(),
                "headers": dict(entry.get("headers", {})),
                "id": entry["id"],
                "dataset": entry["dataset"],
            }
        )
    # The reference holds the World Bank's real bulk files, not API pages: the API's stand-in is the tests' own
    # page in the real shape, with synthetic values.
    found.setdefault("worldbank", []).append(
        {
            "url": WB_GDP_PAGE,
            "body": worldbank_page(
                [worldbank_row("RU", "RUS", "2023", 1.25), worldbank_row("BY", "BLR", "2023", 2.5)],
                lastupdated="2025-07-01",
            ),
            "headers": {"Content-Type": "application/json;charset=utf-8"},
            "id": WB_SYNTHETIC,
            "dataset": "NY.GDP.MKTP.KD.ZG",
        }
    )
    return found


def local_path(url: str) -> str:
    """The path and query a client sends for this publisher URL, as the local server sees it."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def local_url(base: str, publisher_base: str, url: str) -> str:
    """A publisher URL moved onto the local server (UNIONSTAT_<SOURCE>_BASE_URL replaces its base)."""
    assert url.startswith(publisher_base), (url, publisher_base)
    return base + url[len(publisher_base) :]


class Dispatcher:
    """Routes of a stand-in publisher matched on the normalised URL (query order and encoding ignored)."""

    def __init__(self, base: str, routes: Routes) -> None:
        self.base = base
        self.routes = routes
        self.handlers: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}

    def add(self, url: str, handler: Handler) -> None:
        key = normalize_url(url)
        self.handlers[key] = handler
        self.routes.handlers[urlsplit(url).path] = self._dispatch

    def _dispatch(self, req: Any) -> None:
        key = normalize_url(self.base + req.path)
        handler = self.handlers.get(key)
        self.hits[key] = self.hits.get(key, 0) + 1
        if handler is None:
            req.send_error(404, "no such route in the test server")
            return
        handler(req)

    def count(self, url: str) -> int:
        return self.hits.get(normalize_url(url), 0)


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handler(req: Any) -> None:
        req.send_response(status)
        for key, value in (headers or {}).items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    return handler


@pytest.fixture(scope="module")
def module_server() -> Iterator[tuple[str, Routes]]:
    """One local stand-in server per module (tests/conftest.py's publisher_server, started once)."""
    generator = shared.publisher_server.__wrapped__()  # type: ignore[attr-defined]
    served = next(generator)
    try:
        yield served
    finally:
        generator.close()


@pytest.fixture
def server(module_server: tuple[str, Routes]) -> tuple[str, Routes]:
    """The module's server with its routes cleared and a robots.txt that allows everything."""
    base, routes = module_server
    routes.handlers.clear()
    routes.requests.clear()
    routes.add("/robots.txt", body=b"User-agent: *\nAllow: /\n")
    return base, routes
