"""Retries that mean something: the orchestrator retries a source only for a failure that may pass on its own,
and never on top of the HTTP layer's own retries (unionstat/http.py says who retries what)."""

from __future__ import annotations

import http.server
from pathlib import Path
from typing import Any

import pytest

import scrapers
from flows.refresh import fetch_with_retries
from tests.conftest import Routes
from tests.news_builders import osw_listing, rss_feed, rss_item
from unionstat import fetch, warehouse
from unionstat.settings import Settings

FEED = "/en/rss.xml"  # OSW's feed path in scrapers/sources.json
LISTING = "/en/publikacje"
HTTP_RETRIES = 2
FETCH_RETRY_DELAYS = "0,0"  # two orchestrator retries, no waiting
ARTICLE = "/en/publikacje/analyses/2030-01-07/synthetic"
GOOD_FEED = rss_feed([rss_item("Synthetic: Minsk", ARTICLE, pub_date="Tue, 08 Jan 2030 10:00:00 +0100")], language="en")
OUT_OF_SCOPE = osw_listing([("/en/publikacje/analyses/2030-01-07/chile", "2030-01-07T11:00:00+01:00", "Chile")])


def live_build(tmp_path: Path, base: str, **extra: str) -> Settings:
    """Live settings pointing OSW at the stand-in, and a build database with the raw schema."""
    settings = Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_OSW_BASE_URL": base,
            "UNIONSTAT_HTTP_RETRIES": str(HTTP_RETRIES),
            "UNIONSTAT_HTTP_BACKOFF_S": "0",
            "UNIONSTAT_HTTP_TIMEOUT_S": "2",
            "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
            "UNIONSTAT_FETCH_RETRY_DELAYS_S": FETCH_RETRY_DELAYS,
            **extra,
        }
    )
    with warehouse.connection(settings.build_db, settings=settings) as con:
        warehouse.ensure_schema(con, [c.raw_ddl for c in scrapers.all_connectors(settings)])
    return settings


def run_fetch(settings: Settings) -> Any:
    return fetch_with_retries(settings)(settings, "osw", "test-run", return_state=True)


def requests_to(routes: Routes, path: str) -> int:
    return sum(1 for seen, _ in routes.requests if seen.split("?")[0] == path)


def attempts(routes: Routes) -> int:
    """Task attempts: each builds its own HTTP client, which reads robots.txt once."""
    return requests_to(routes, "/robots.txt")


def sequence(*answers: tuple[int, bytes, dict[str, str]]) -> Any:
    """A handler giving these answers in turn, the last one from then on."""
    calls = {"n": 0}

    def handler(req: http.server.BaseHTTPRequestHandler) -> None:
        status, body, headers = answers[min(calls["n"], len(answers) - 1)]
        calls["n"] += 1
        req.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            req.send_header(key, value)
        req.end_headers()
        req.wfile.write(body)

    return handler


@pytest.mark.parametrize(
    ("case", "feed_requests", "expected"),
    [
        ("404", 1, "found HTTP 404"),
        ("robots", 0, "disallowed by"),
        ("size cap", 1, "expected a response of at most 1000 bytes; found Content-Length 5000"),
        ("parse error", 1, "expected at least one <item> in the feed; found zero items"),
        ("503 that lasts", 1 + HTTP_RETRIES, "found HTTP 503"),
    ],
)
def test_a_failure_that_cannot_pass_is_attempted_once(
    tmp_path: Path, publisher_server: tuple[str, Routes], case: str, feed_requests: int, expected: str
) -> None:
    base, routes = publisher_server
    if case == "robots":
        routes.add("/robots.txt", body=b"User-agent: *\nDisallow: /en/\n")
    elif case == "size cap":
        routes.add(FEED, body=b"x" * 5000)
    elif case == "parse error":
        routes.add(FEED, body=rss_feed([], language="en"))
    elif case == "503 that lasts":
        routes.handlers[FEED] = sequence((503, b"busy", {}))
    state = run_fetch(live_build(tmp_path, base, UNIONSTAT_MAX_RESPONSE_BYTES="1000"))

    assert state.is_failed()
    assert expected in str(state.message)
    assert attempts(routes) == 1  # the orchestrator did not retry
    assert requests_to(routes, FEED) == feed_requests  # a lasting 503: the HTTP layer's retries, and no more


def test_a_503_then_200_succeeds_in_one_attempt(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.handlers[FEED] = sequence((503, b"busy", {"Retry-After": "0"}), (200, GOOD_FEED, {}))
    routes.add(LISTING, body=OUT_OF_SCOPE)
    state = run_fetch(live_build(tmp_path, base))

    assert state.is_completed(), state.message
    result: fetch.FetchResult = state.result()
    assert len(result.new) == 1  # the feed, stored
    assert requests_to(routes, FEED) == 2  # retried by the HTTP layer...
    assert attempts(routes) == 1  # ...inside one attempt of the task


def test_a_body_cut_off_mid_transfer_is_retried_by_the_orchestrator(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    cut = (200, GOOD_FEED[:40], {"Content-Length": str(len(GOOD_FEED))})  # fewer bytes than promised, then closed
    routes.handlers[FEED] = sequence(cut, (200, GOOD_FEED, {}))
    routes.add(LISTING, body=OUT_OF_SCOPE)
    state = run_fetch(live_build(tmp_path, base))

    assert state.is_completed(), state.message
    assert attempts(routes) == 2
    assert requests_to(routes, FEED) == 2


def test_a_body_cut_off_every_time_stops_after_the_configured_retries(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    routes.handlers[FEED] = sequence((200, GOOD_FEED[:40], {"Content-Length": str(len(GOOD_FEED))}))
    state = run_fetch(live_build(tmp_path, base))

    assert state.is_failed()
    assert "truncated body" in str(state.message)
    assert attempts(routes) == 1 + len(FETCH_RETRY_DELAYS.split(","))


def test_a_bug_in_a_fetch_is_not_retried(
    tmp_path: Path, publisher_server: tuple[str, Routes], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = publisher_server
    calls = {"n": 0}

    def broken(*args: Any, **kwargs: Any) -> fetch.FetchResult:
        calls["n"] += 1
        raise KeyError("a bug, not the network")

    monkeypatch.setattr(fetch, "fetch_source", broken)
    state = run_fetch(live_build(tmp_path, base))

    assert state.is_failed()
    assert calls["n"] == 1
