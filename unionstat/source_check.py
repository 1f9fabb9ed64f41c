"""`unionstat sources --check`: one polite request per live endpoint, and per dataset what the publisher serves now."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapers
from scrapers.base import Capture, Connector, NotConfigured, SnapshotMeta
from unionstat.errors import SourceError, UnionstatError
from unionstat.http import Fetched, HttpClient
from unionstat.settings import Settings

OK, MOVED, LAYOUT, BLOCKED, UNREACHABLE, NOT_CONFIGURED = (
    "ok",
    "moved",
    "layout changed",
    "blocked",
    "unreachable",
    "not configured",
)
#: What the HTTP layer expects when the failure is the exchange itself, not the content (unionstat.http).
HTTP_EXPECTATIONS = ("HTTP 200", "a complete HTTP response", "a URL robots.txt allows")
BLOCKED_ANSWERS = ("HTTP 401", "HTTP 403", "HTTP 429", "HTTP 451", "disallowed by")
MOVED_ANSWERS = ("HTTP 404", "HTTP 410")
#: Enough to see a dataset's layout: a catalogue page and the file it links, a release stamp and the table.
MAX_REQUESTS_PER_DATASET = 2


class NeedsNetwork(UnionstatError):
    """The check was asked for where none of the publishers' hosts can be reached by name."""


@dataclass(frozen=True)
class Checked:
    """One dataset's answer: its status, the URL that decided it, what was expected and what was found."""

    source: str
    dataset: str
    status: str
    url: str
    expected: str
    found: str


class _Enough(Exception):  # noqa: N818 (a signal, not an error)
    """The probe asked this endpoint once already: the connector's fetch stops here (politeness)."""


class _Probe:
    """The HTTP client a connector sees during a check: each endpoint (host and path) is asked once per dataset."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.live = http.live
        self.asked: set[str] = set()
        #: (URL asked, answer, whether the connector stores it: its conditional GETs and POSTs, not the pages it
        #: only reads to find links, such as sitemaps or a release stamp)
        self.answers: list[tuple[str, Fetched, bool]] = []

    def _once(self, url: str) -> None:
        parts = urlsplit(url)
        endpoint = f"{parts.netloc}{parts.path}"
        if endpoint in self.asked or len(self.asked) >= MAX_REQUESTS_PER_DATASET:
            raise _Enough(url)
        self.asked.add(endpoint)

    def get(self, source: str, url: str, **kwargs: Any) -> Fetched:
        self._once(url)
        stored = "etag" in kwargs  # Connector.get_if_changed always passes it; a page only read for links does not
        fetched = self.http.get(source, url, **{k: v for k, v in kwargs.items() if k not in ("etag", "last_modified")})
        self.answers.append((url, fetched, stored))
        return fetched

    def post_json(self, source: str, url: str, payload: Any, headers: Mapping[str, str] | None = None) -> Fetched:
        self._once(url)
        fetched = self.http.post_json(source, url, payload, headers)
        self.answers.append((url, fetched, True))
        return fetched

    def trust_for_hosts(self, hosts: Iterable[str], ca_bundle: str) -> None:
        self.http.trust_for_hosts(hosts, ca_bundle)


def check_sources(settings: Settings, names: Iterable[str] | None = None) -> list[Checked]:
    """Load (the registry's connectors, live) / Process (probe each dataset) / Save (nothing: a report)."""
    settings = settings.with_mode("live")
    connectors = [scrapers.connector(name, settings) for name in (names or scrapers.registry())]
    require_network(connectors)
    http = HttpClient(settings)
    try:
        return [
            check_dataset(connector, http, dataset) for connector in connectors for dataset in connector.config.datasets
        ]
    finally:
        http.close()


def require_network(connectors: list[Connector]) -> None:
    """Offline (no publisher host resolves), the check cannot say anything: it says so instead of five 'unreachable'."""
    hosts = sorted({urlsplit(c.base_url).hostname or "" for c in connectors} - {""})
    for host in hosts:
        try:
            socket.getaddrinfo(host, None)
            return
        except OSError:
            continue
    raise NeedsNetwork(
        f"sources --check needs the network: none of the publishers' hosts resolves ({', '.join(hosts)}); "
        "run it where the publishers can be reached"
    )


def check_dataset(connector: Connector, http: HttpClient, dataset: str) -> Checked:
    """The connector's own fetch through a probe, then its own parse of what came back: the first problem decides."""
    probe = _Probe(http)
    captures: list[Capture] = []
    try:
        captures = connector.fetch(probe, dataset, {})  # type: ignore[arg-type]  # the probe quacks like HttpClient
    except _Enough:
        captures = [Capture(dataset, fetched, None) for _, fetched, stored in probe.answers if stored]
    except NotConfigured as exc:
        return Checked(connector.name, dataset, NOT_CONFIGURED, exc.location, exc.expected, exc.found)
    except SourceError as exc:
        return Checked(connector.name, dataset, _status(exc), exc.location, exc.expected, exc.found)
    for asked, fetched, _ in probe.answers:
        if urlsplit(asked).path != urlsplit(fetched.url).path:
            return Checked(
                connector.name, dataset, MOVED, asked, f"an answer at {asked}", f"redirected to {fetched.url}"
            )
    for capture in captures:
        fetched = capture.fetched
        meta = SnapshotMeta("0" * 64, connector.name, dataset, fetched.url, fetched.headers.get("Content-Type"), None)
        try:
            connector.parse(fetched.body, meta)
        except SourceError as exc:
            return Checked(connector.name, dataset, LAYOUT, exc.location, exc.expected, exc.found)
    last = probe.answers[-1][1].url if probe.answers else connector.base_url
    sampled = f"{len(captures)} data answer(s) read" if captures else "no data answer sampled (request cap)"
    return Checked(
        connector.name, dataset, OK, last, "a readable answer", f"{len(probe.answers)} request(s) answered, {sampled}"
    )


def _status(exc: SourceError) -> str:
    """What a fetch error means for a person deciding whether to trust a schedule."""
    if exc.expected not in HTTP_EXPECTATIONS:
        return LAYOUT  # the publisher answered, but not in the shape the connector reads
    if exc.found.startswith(BLOCKED_ANSWERS) or "disallowed by" in exc.found:
        return BLOCKED
    if exc.found.startswith(MOVED_ANSWERS):
        return MOVED
    return UNREACHABLE


def report_lines(results: list[Checked]) -> list[str]:
    """One line per dataset (the CLI prints them), then a summary line with the time of the check."""
    lines = [
        f"{r.source:<10} {r.dataset:<40} {r.status:<15} {r.url} (expected {r.expected}; found {r.found})"
        for r in results
    ]
    counts = {status: sum(r.status == status for r in results) for status in dict.fromkeys(r.status for r in results)}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    lines.append(f"checked {len(results)} datasets at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {summary}")
    return lines


def all_ok(results: list[Checked]) -> bool:
    """A schedule can be trusted when every configured dataset answers as expected."""
    return all(r.status in (OK, NOT_CONFIGURED) for r in results)
