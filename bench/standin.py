"""Local stand-ins for the statistics publishers, for timing live fetches (`make bench`, scenario `fetch`).

Each publisher's host (the main one, WIPO's Data Center backend, Belstat's data API) is a local server of its own, set
through its `UNIONSTAT_<KEY>_BASE_URL` setting (`env`), so links a page gives as absolute paths stay on it. Each answer
comes after `latency_s` (a request to a publisher abroad takes a few hundred milliseconds): the reference snapshot's
recording of the URL, `304 Not Modified` for a URL it has none of (nothing new: the connector stores nothing), an
allow-all robots.txt, and for WIPO's release-stamp endpoint a synthetic stamp (as the tests' stand-in serves: the
layout of the real answer was not seen). The servers count how many publishers they answer at once, and how many
requests of one publisher (`Meter`). The news sites are left out: their listing pages and sitemaps are not in the
reference snapshot.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapers
from unionstat.http import normalize_url


@dataclass
class Meter:
    """What the server saw: requests, publishers answered at once (most), requests of one publisher at once (most)."""

    requests: int = 0
    recorded: int = 0
    most_publishers: int = 0
    most_per_publisher: int = 0
    asked: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, key: str) -> None:
        with self.lock:
            self.requests += 1
            self.asked[key] = self.asked.get(key, 0) + 1
            self.most_per_publisher = max(self.most_per_publisher, self.asked[key])
            self.most_publishers = max(self.most_publishers, sum(1 for n in self.asked.values() if n))

    def leave(self, key: str) -> None:
        with self.lock:
            self.asked[key] -= 1

    def figures(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "answered_from_recordings": self.recorded,
            "most_publishers_at_once": self.most_publishers,
            "most_requests_of_one_publisher_at_once": self.most_per_publisher,
        }


@dataclass
class Publishers:
    """The running server: its base URL overrides and what it saw."""

    env: dict[str, str]
    meter: Meter


NEWS_SITES = ("osw", "rg")
#: The Data Center backend's release stamp (synthetic: the layout of the real answer was not seen; a compiled export
#: takes no stamp, so no row depends on it). The tests' stand-in serves it too.
WIPO_STAMP = b'"October 2024"'


def publishers() -> list[str]:
    """The sources the stand-ins serve whole: every source of the registry but the news sites."""
    return [source for source in scrapers.registry() if source not in NEWS_SITES]


def bases() -> dict[str, tuple[str, str]]:
    """Setting key (`worldbank`, `wipo_backend`, `belstat_api`, ...) -> (source, the publisher's base URL)."""
    registry = scrapers.registry()
    return {key: (source, url) for source in publishers() for key, url in registry[source].base_urls.items()}


def recordings(reference_dir: Path) -> dict[str, tuple[bytes, dict[str, str]]]:
    """The reference snapshot's recordings by normalised URL: (body, headers); WIPO's synthetic release stamp."""
    manifest = json.loads((reference_dir / "manifest.json").read_text(encoding="utf-8"))
    found = {
        normalize_url(entry["url"]): ((reference_dir / entry["body"]).read_bytes(), dict(entry.get("headers", {})))
        for entry in manifest["recordings"]
    }
    for config in scrapers.registry().values():
        if "last_updated_path" in config.options:
            stamp = f"{config.options['backend_url']}/{config.options['last_updated_path']}"
            found[normalize_url(stamp)] = (WIPO_STAMP, {"Content-Type": "application/json"})
    return found


@contextmanager
def serving(reference_dir: Path, latency_s: float) -> Iterator[Publishers]:
    """Serve every publisher locally until the block ends."""
    recorded = recordings(reference_dir)
    meter = Meter()
    servers: list[http.server.ThreadingHTTPServer] = []
    env: dict[str, str] = {}
    try:
        for key, (source, base) in bases().items():
            parts = urlsplit(base)
            server = http.server.ThreadingHTTPServer(
                ("127.0.0.1", 0), handler(source, f"{parts.scheme}://{parts.netloc}", recorded, meter, latency_s)
            )
            servers.append(server)
            threading.Thread(target=server.serve_forever, name=f"stand-in-{key}", daemon=True).start()
            env[f"UNIONSTAT_{key.upper()}_BASE_URL"] = f"http://127.0.0.1:{server.server_address[1]}{parts.path}"
        yield Publishers(env, meter)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def handler(
    source: str, origin: str, recorded: dict[str, tuple[bytes, dict[str, str]]], meter: Meter, latency_s: float
) -> type[http.server.BaseHTTPRequestHandler]:
    """The request handler of one publisher's host (`origin`: its scheme and host)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/robots.txt":
                self._answer(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
                return
            meter.enter(source)
            try:
                time.sleep(latency_s)
                found = recorded.get(normalize_url(origin + self.path))
                if found is not None:
                    with meter.lock:
                        meter.recorded += 1
            finally:
                # Counted out before the answer goes out: a client that sends its next request as soon as it has
                # read this answer was counted as two at once when this ran after (seen under load).
                meter.leave(source)
            if found is None:
                self._answer(304, b"", {})
            else:
                self._answer(200, *found)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler
