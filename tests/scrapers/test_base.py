"""The Connector base class: the conditional GET every connector's fetch goes through."""

from __future__ import annotations

import re

import pytest

import scrapers
from scrapers.base import Previous
from tests.conftest import Routes
from unionstat.http import HttpClient
from unionstat.settings import Settings

PATH = "/data/file.csv"
LAST_MODIFIED = "Sat, 01 Mar 2025 10:00:00 GMT"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, warehouse_env: Settings) -> Settings:
    monkeypatch.setenv("UNIONSTAT_MODE", "live")
    monkeypatch.setenv("UNIONSTAT_MIN_REQUEST_INTERVAL_S", "0")
    return Settings.from_env()


@pytest.mark.parametrize("source", sorted(scrapers.registry()))
def test_get_if_changed_sends_the_stored_validators_and_answers_none_to_304(
    source: str, live: Settings, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    connector = scrapers.connector(source, live)
    url = f"{base}{PATH}"
    http = HttpClient(live)
    try:
        routes.add(PATH, body=b"a,b\n1,2\n", headers={"ETag": '"v1"', "Last-Modified": LAST_MODIFIED})
        first = connector.get_if_changed(http, url, {})
        assert first is not None and first.body == b"a,b\n1,2\n" and first.status == 200
        sent = routes.requests[-1][1]
        assert "If-None-Match" not in sent and "If-Modified-Since" not in sent
        assert sent["X-Unionstat-Source"] == source

        routes.add(PATH, status=304)
        previous = {url: Previous('"v1"', LAST_MODIFIED, frozenset())}
        assert connector.get_if_changed(http, url, previous) is None
        sent = routes.requests[-1][1]
        assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == LAST_MODIFIED
    finally:
        http.close()


def test_the_conditional_get_is_written_once() -> None:
    """No connector module builds If-None-Match / If-Modified-Since itself: they call get_if_changed."""
    modules = sorted(scrapers.REGISTRY_PATH.parent.glob("*.py"))
    writers = [p.name for p in modules if re.search(r"\betag\s*=", p.read_text(encoding="utf-8"))]
    assert writers == ["base.py"]
