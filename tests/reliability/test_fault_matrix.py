"""Fault matrix: every source against every publisher fault, through the real HTTP layer, fetch and load stages.

A local server stands in for each publisher (UNIONSTAT_<SOURCE>_BASE_URL) and serves its reference recordings;
one URL per source (its data file) then misbehaves. Each cell must end as `recovered` (retried, then the same rows
as a healthy fetch), `stopped` (a typed SourceError/ParseError naming the source, the URL and what was expected,
with nothing of the source recorded or loaded) or `ok` (the fault was harmless: exactly the healthy rows). Anything
else — an uncaught exception, different rows — fails the cell. A few end-to-end refreshes then give several sources
different faults at once.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from prefect import flow

import scrapers
from bench.standin import WIPO_STAMP
from flows.refresh import Run, _fetch, _prepare, refresh
from scrapers.base import NotConfigured
from tests.builders import belstat_sheet, belstat_xlsx, rosstat_section_page, rosstat_workbook, wipo_table_export
from tests.conftest import Routes, file_digest, query
from tests.news_builders import rss_feed
from tests.reliability.conftest import (
    FAULTS,
    FIGURES,
    SOURCES,
    TRANSIENT,
    Dispatcher,
    Handler,
    recordings,
    respond,
)
from unionstat import warehouse
from unionstat.errors import StageFailed
from unionstat.fetch import fetch_source
from unionstat.http import HttpClient, normalize_url
from unionstat.load import load_pending
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

MAX_RESPONSE_BYTES = 200_000
TEXT_SUBTYPES = ("json", "xml", "csv")  # and every text/*; a workbook's spreadsheetml type is not one
NEWS_SITES = ("osw", "rg")


def recorded_datasets(source: str) -> list[str]:
    """The datasets with a reference recording, in the manifest's order: a healthy stand-in can serve them all."""
    return list(dict.fromkeys(rec["dataset"] for rec in recordings()[source]))


def is_text(rec: dict[str, Any]) -> bool:
    media_type = rec["headers"].get("Content-Type", "").split(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type.endswith(TEXT_SUBTYPES)


def data_target(source: str) -> str:
    """The recording whose URL misbehaves: the source's data file, the last recording of its first recorded
    dataset (for Rosstat the workbook its section page links; for a single-document dataset, that document)."""
    first = recorded_datasets(source)[0]
    return [rec["id"] for rec in recordings()[source] if rec["dataset"] == first][-1]


def text_target(source: str) -> str:
    """Faults about text encoding or listings hit the source's first text document where its data file is a
    workbook (Rosstat's section page, Belstat's HTML table)."""
    data = recording(source, data_target(source))
    if is_text(data):
        return data["id"]
    return next(rec["id"] for rec in recordings()[source] if is_text(rec))


#: What the derivation above picks for the registry's sources today (a change of recordings shows here).
TARGET = {
    "worldbank": "worldbank-gdp-growth-synthetic",
    "wipo": "wipo-total-patent-applications-by-origin-2022",
    "rosstat": "rosstat-software-development-index-2024-jan-aug",
    "belstat": "belstat-russia-share-foreign-trade-2020-2021",
    "osw": "osw-rss-compiled-from-paper-tables-6-7",
    "rg": "rg-rss-compiled-from-paper-tables-1-7",
}
TEXT_TARGET = {
    "rosstat": "rosstat-section-infocommunity-compiled",
    "belstat": "belstat-russia-share-foreign-investment",
}
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head><body>busy</body></html>"
WORLDBANK_ERROR = json.dumps(
    [{"message": [{"id": "120", "key": "Invalid value", "value": "The provided parameter value is not valid"}]}]
).encode()
GENERIC_ERROR = b'{"error": {"code": 503, "message": "Backend unavailable, try again later"}}'


# -- the stand-in -----------------------------------------------------------------------------------
@dataclass
class StandIn:
    """One publisher's stand-in on the local server: its base URL override and its routes. A publisher whose data
    come from a second host (WIPO's Data Center backend, Belstat's data API) has that host under its own prefix."""

    source: str
    server: str
    publisher_base: str
    dispatcher: Dispatcher
    #: UNIONSTAT_<KEY>_BASE_URL key -> the publisher's second base URL (from the registry).
    more_bases: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.server + urlsplit(self.publisher_base).path

    def bases(self) -> list[tuple[str, str, str]]:
        """(environment key, publisher base, local base), the main base first."""
        more = [
            (key, publisher, f"{self.server}/{key.lower()}{urlsplit(publisher).path}")
            for key, publisher in self.more_bases.items()
        ]
        return [(self.source.upper(), self.publisher_base, self.base), *more]

    def env(self) -> dict[str, str]:
        return {f"UNIONSTAT_{key}_BASE_URL": local for key, _, local in self.bases()}

    def url(self, publisher_url: str) -> str:
        for _, publisher, local in sorted(self.bases(), key=lambda b: -len(b[1])):
            if publisher_url.startswith(publisher):
                return local + publisher_url[len(publisher) :]
        raise AssertionError(f"{publisher_url} is under none of {self.bases()}")


def stand_in(source: str, server: str, routes: Routes, dispatcher: Dispatcher | None = None) -> StandIn:
    """Serve every reference recording of `source` from the local server."""
    config = scrapers.registry()[source]
    more = {key.upper(): url for key, url in config.base_urls.items() if key != source}
    standin = StandIn(source, server, config.base_url, dispatcher or Dispatcher(server, routes), more)
    for rec in recordings()[source]:
        standin.dispatcher.add(standin.url(rec["url"]), respond(200, rec["body"], rec["headers"]))
    if "last_updated_path" in config.options:
        stamp = f"{config.options['backend_url']}/{config.options['last_updated_path']}"
        standin.dispatcher.add(standin.url(stamp), respond(200, WIPO_STAMP, {"Content-Type": "application/json"}))
    return standin


def recording(source: str, rec_id: str) -> dict[str, Any]:
    return next(r for r in recordings()[source] if r["id"] == rec_id)


def live_settings(tmp: Path, standins: list[StandIn], **extra: str) -> Settings:
    env = {
        "UNIONSTAT_WAREHOUSE_DIR": str(tmp / "warehouse"),
        "UNIONSTAT_MODE": "live",
        "UNIONSTAT_HTTP_TIMEOUT_S": "1",
        "UNIONSTAT_HTTP_RETRIES": "2",
        "UNIONSTAT_HTTP_BACKOFF_S": "0",
        "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
        "UNIONSTAT_MAX_RESPONSE_BYTES": str(MAX_RESPONSE_BYTES),
        **{key: value for s in standins for key, value in s.env().items()},
        **extra,
    }
    return Settings.from_env(env)


# -- faults -----------------------------------------------------------------------------------------
def flaky(times: int, fault: Handler, healthy: Handler) -> Handler:
    """`fault` for the first `times` requests, then `healthy`."""
    lock = threading.Lock()
    calls = {"n": 0}

    def handler(req: Any) -> None:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        (fault if n <= times else healthy)(req)

    return handler


def slow(seconds: float, then: Handler) -> Handler:
    def handler(req: Any) -> None:
        time.sleep(seconds)
        try:
            then(req)
        except OSError:
            return  # the client gave up waiting: that is the point

    return handler


def reset(req: Any) -> None:
    """Abort the connection (TCP RST) before any byte of a response."""
    req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    req.connection.close()
    req.close_connection = True


def truncated(body: bytes, headers: dict[str, str]) -> Handler:
    def handler(req: Any) -> None:
        req.send_response(200)
        for key, value in headers.items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body[: len(body) // 2])
        req.wfile.flush()
        req.close_connection = True

    return handler


def huge(size: int) -> Handler:
    """A body larger than the cap, streamed without a Content-Length (the cap must hold while reading)."""

    def handler(req: Any) -> None:
        req.send_response(200)
        req.send_header("Content-Type", "application/octet-stream")
        req.end_headers()
        chunk = b"0" * 65536
        try:
            for _ in range(size // len(chunk) + 1):
                req.wfile.write(chunk)
        except OSError:
            return
        req.close_connection = True

    return handler


def utf16(body: bytes, source_encoding: str) -> bytes:
    return body.decode(source_encoding).encode("utf-16")


def content_fault(source: str, fault: str, rec: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body (and headers) a misbehaving publisher sends with status 200 for a content fault."""
    headers = dict(rec["headers"])
    if fault == "html":
        return HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"}
    if fault == "error200":
        return (WORLDBANK_ERROR if source == "worldbank" else GENERIC_ERROR), headers
    if fault == "encoding":
        encoding = "windows-1251" if "windows-1251" in headers.get("Content-Type", "") else "utf-8"
        return utf16(rec["body"], encoding), headers
    body: bytes
    if fault == "empty":
        if source == "worldbank":
            body = json.dumps(
                [
                    {"page": 1, "pages": 0, "per_page": 1000, "total": 0, "sourceid": "2", "lastupdated": "2024-10-01"},
                    None,
                ]
            ).encode()
        elif source == "wipo":
            body = wipo_table_export([], years=("2022",), last_updated="2024-10-01")
        elif source == "rosstat":
            body = rosstat_section_page([("/statistics/other", "Другие разделы")])
        elif source == "belstat":
            body = belstat_xlsx([])
        elif source in NEWS_SITES:
            body = rss_feed([], language="en" if source == "osw" else "ru")
        else:  # a source without a format-specific empty answer of its own: a zero-length 200
            body = b""
        return body, headers
    if fault == "layout":
        if source == "worldbank":
            body = rec["body"].replace(b'"countryiso3code"', b'"country_code"')
        elif source == "wipo":
            body = rec["body"].replace(b"Origin,Origin (Code)", b"Applicant origin,Code")
        elif source == "rosstat":
            body = rosstat_workbook(["Январь-август 2024 к 2023"], [["J 62.01", "Разработка ПО", 132.7]])
        elif source == "belstat":  # the numbers now start at the top: no header says what they are
            body = belstat_sheet({"B1": "Россия", "C1": 47.9, "D1": 49.0})
        elif source in NEWS_SITES:
            body = (
                b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                b"<title>moved to Atom</title><entry><title>x</title></entry></feed>"
            )
        else:  # a source without a format-specific layout change of its own: its lines in reverse order
            body = b"\n".join(reversed(rec["body"].splitlines()))
        return body, headers
    raise AssertionError(f"not a content fault: {fault}")


def fault_handler(source: str, fault: str, rec: dict[str, Any]) -> Handler:
    healthy = respond(200, rec["body"], rec["headers"])
    if fault == "429":
        return flaky(1, respond(429, b"slow down", {"Retry-After": "1"}), healthy)
    if fault == "500":
        return respond(500, b"internal error")
    if fault == "503":
        return flaky(2, respond(503, b"busy"), healthy)
    if fault == "timeout":
        return flaky(1, slow(1.6, healthy), healthy)
    if fault == "reset":
        return flaky(1, reset, healthy)
    if fault == "truncated":
        return truncated(rec["body"], rec["headers"])
    if fault == "huge":
        return huge(MAX_RESPONSE_BYTES * 2)
    body, headers = content_fault(source, fault, rec)
    return respond(200, body, headers)


def target_of(source: str, fault: str) -> dict[str, Any]:
    if fault in ("encoding", "empty"):
        return recording(source, text_target(source))
    return recording(source, data_target(source))


# -- running one source --------------------------------------------------------------------------
@dataclass
class Outcome:
    error: str | None
    stage: str | None
    rows: list[tuple[Any, ...]]
    snapshots: int


def run_source(
    settings: Settings, source: str, db: Path, connector: Any = None, datasets: list[str] | None = None
) -> Outcome:
    """The real fetch and load stages of one source into a fresh build file."""
    connector = connector or scrapers.connector(source, settings)
    store = SnapshotStore(settings.snapshot_dir)
    http = HttpClient(settings)
    con = warehouse.connect(db)
    try:
        warehouse.ensure_schema(con, [connector.raw_ddl])
        result = fetch_source(con, store, http, connector, "fault-matrix", datasets or recorded_datasets(source))
        error, stage = (result.error, "fetch") if result.failed else (None, None)
        if error is None:
            loaded = load_pending(con, store, [connector], "fault-matrix")
            if source in loaded.errors:
                error, stage = loaded.errors[source], "load"
        table = connector.config.raw_table
        rows = con.execute(f"select * exclude (snapshot_sha256, row_number) from {table} order by all").fetchall()  # noqa: S608
        row = con.execute(
            "select count(*) from raw.snapshots s where source = ? "
            "and exists (select 1 from raw.loads l where l.sha256 = s.sha256)",
            [source],
        ).fetchone()
        return Outcome(error, stage, rows, int(row[0]) if row else 0)
    finally:
        con.close()
        http.close()


HEALTHY: dict[tuple[str, str], Outcome] = {}


def healthy_outcome(settings: Settings, source: str, server: str, tmp: Path) -> Outcome:
    """The rows a healthy fetch of `source` loads (once per source and server)."""
    key = (source, server)
    if key not in HEALTHY:
        HEALTHY[key] = run_source(settings, source, tmp / "healthy.duckdb")
    return HEALTHY[key]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("source", SOURCES)
def test_fault_is_recovered_or_stops_the_source_with_a_clear_error(
    source: str, fault: str, server: tuple[str, Routes], tmp_path: Path
) -> None:
    base, routes = server
    standin = stand_in(source, base, routes)
    settings = live_settings(tmp_path, [standin])
    healthy = healthy_outcome(settings, source, base, tmp_path)
    assert healthy.error is None and healthy.rows, healthy.error

    rec = target_of(source, fault)
    target_url = standin.url(rec["url"])
    standin.dispatcher.add(target_url, fault_handler(source, fault, rec))
    standin.dispatcher.hits.clear()
    outcome = run_source(settings, source, tmp_path / "faulted.duckdb")

    if outcome.error is not None:
        cell = "stopped"
        assert outcome.error.startswith(f"[{source}] "), outcome.error
        assert urlsplit(target_url).path in outcome.error and base in outcome.error, outcome.error
        assert ": expected " in outcome.error and "; found " in outcome.error, outcome.error
        assert outcome.rows == [] and outcome.snapshots == 0, "a stopped source left rows behind"
    else:
        assert outcome.rows == healthy.rows, "a fault that did not stop the source must load the healthy rows"
        cell = "recovered" if standin.dispatcher.count(target_url) > 1 else "ok"
    FIGURES.matrix[(source, fault)] = cell
    if fault in TRANSIENT:
        assert cell == "recovered", outcome.error
    if fault in ("500", "truncated", "huge", "html", "error200", "empty", "layout"):
        assert cell == "stopped"


def test_the_targets_derived_from_the_recordings() -> None:
    """Each source's misbehaving URL is derived from its recordings; for today's sources, the files named here."""
    assert {source: data_target(source) for source in TARGET} == TARGET
    assert {s: text_target(s) for s in SOURCES if text_target(s) != data_target(s)} == TEXT_TARGET


def test_the_fault_matrix_is_complete() -> None:
    """Runs after the matrix (pytest keeps file order): every source x fault cell was filled."""
    missing = [(s, f) for s in SOURCES for f in FAULTS if (s, f) not in FIGURES.matrix]
    assert not missing, f"cells not run (run the whole module): {missing}"


# -- Belstat's data API: the same faults on a POST answered in SDMX-JSON ------------------------------
#: No registry dataset names an OSIDS indicator (no code for the paper's shares is public), so this path is run
#: with a synthetic query and a synthetic SDMX-JSON answer (the project's own fixture, not Belstat's numbers).
API_DATASET = "russia_share_exports"
API_QUERY = {"indicatorCode": "SYNTHETIC-1", "years": "2019-2021", "dimensionOrder": ["razrez_593"]}
API_PATH = "/osids-public-api/indicator/indicatorValuesSearch"
API_ANSWER = json.dumps(
    {
        "data": {
            "dataSets": [{"observations": {"0:0": [47.9], "0:1": [49.0]}}],
            "structure": {
                "name": "synthetic",
                "dimensions": {
                    "observation": [
                        {"id": "razrez_593", "values": [{"id": "111", "name": "Россия"}]},
                        {"id": "TIME_PERIOD", "values": [{"id": "2020"}, {"id": "2021"}]},
                    ]
                },
            },
        }
    },
    ensure_ascii=False,
).encode()
API_CONTENT = {
    "html": HTML_PAGE,
    "error200": GENERIC_ERROR,
    "empty": API_ANSWER.replace(b'"0:0": [47.9], "0:1": [49.0]', b""),
    "layout": API_ANSWER.replace(b'"dataSets"', b'"datasets"'),
    "encoding": API_ANSWER.decode().encode("utf-16"),
}


def api_handler(fault: str | None) -> Handler:
    """The values endpoint: reads the POST body (an unread body would reset the connection), then answers."""
    json_headers = {"Content-Type": "application/json"}
    healthy = respond(200, API_ANSWER, json_headers)
    if fault is None:
        answer = healthy
    elif fault in API_CONTENT:
        answer = respond(200, API_CONTENT[fault], json_headers)
    elif fault == "truncated":
        answer = truncated(API_ANSWER, json_headers)
    else:
        answer = fault_handler("belstat", fault, {"body": API_ANSWER, "headers": json_headers})

    def handler(req: Any) -> None:
        req.rfile.read(int(req.headers.get("Content-Length") or 0))
        answer(req)

    return handler


@pytest.mark.parametrize("fault", FAULTS)
def test_belstat_api_faults_are_recovered_or_stop_the_source(
    fault: str, server: tuple[str, Routes], tmp_path: Path
) -> None:
    base, routes = server
    settings = live_settings(tmp_path, [], UNIONSTAT_BELSTAT_API_BASE_URL=f"{base}/osids-public-api")
    plain = scrapers.connector("belstat", settings)
    config = dataclasses.replace(plain.config, api={**plain.config.api, "indicators": {API_DATASET: API_QUERY}})
    connector = type(plain)(config, settings)
    calls = {"n": 0}

    def counted(handler: Handler) -> Handler:
        def wrapper(req: Any) -> None:
            calls["n"] += 1
            handler(req)

        return wrapper

    routes.post_handlers[API_PATH] = counted(api_handler(None))
    healthy = run_source(settings, "belstat", tmp_path / "healthy.duckdb", connector, [API_DATASET])
    assert healthy.error is None and len(healthy.rows) == 2, healthy.error
    routes.post_handlers[API_PATH] = counted(api_handler(fault))
    calls["n"] = 0
    outcome = run_source(settings, "belstat", tmp_path / "faulted.duckdb", connector, [API_DATASET])

    if outcome.error is not None:
        assert outcome.error.startswith(f"[belstat] {base}{API_PATH}"), outcome.error
        assert ": expected " in outcome.error and "; found " in outcome.error, outcome.error
        assert outcome.rows == [] and outcome.snapshots == 0, "a stopped source left rows behind"
    else:
        assert outcome.rows == healthy.rows, "a fault that did not stop the source must load the healthy rows"
    if fault in TRANSIENT:
        assert outcome.error is None and calls["n"] > 1, outcome.error
    else:
        assert outcome.error is not None, f"{fault} did not stop the source"


# -- end to end: several sources faulted at once ---------------------------------------------------
def e2e_server(base: str, routes: Routes, faults: dict[str, tuple[str, str]]) -> list[StandIn]:
    """Every source on one server: recorded responses, 304 (nothing new) for datasets without a recording, and
    per source a fault on one recording: {source: (fault, recording id)}."""
    dispatcher = Dispatcher(base, routes)
    standins = [stand_in(source, base, routes, dispatcher) for source in SOURCES]
    by_source = {s.source: s for s in standins}
    settings = live_settings(Path("/nonexistent"), standins)
    for source in ("worldbank", "wipo", "belstat"):
        connector = scrapers.connector(source, settings)
        recorded = {by_source[source].url(r["url"]) for r in recordings()[source]}
        for dataset in connector.config.datasets:
            try:
                url = _dataset_url(connector, dataset)
            except (NotConfigured, KeyError):
                continue  # not configured (sources.json says why): the connector requests nothing for it
            if url not in recorded:
                dispatcher.add(url, respond(304))
    for source, (fault, rec_id) in faults.items():
        rec = recording(source, rec_id)
        dispatcher.add(by_source[source].url(rec["url"]), fault_handler(source, fault, rec))
    return standins


def _dataset_url(connector: Any, dataset: str) -> str:
    if connector.name == "worldbank":
        return str(connector.page_url(dataset, 1))
    if connector.name == "wipo":
        return str(connector.export_url(dataset))
    return str(connector.url(dataset))


def _use(monkeypatch: pytest.MonkeyPatch, standins: list[StandIn]) -> None:
    for key, value in {
        "UNIONSTAT_HTTP_TIMEOUT_S": "1",
        "UNIONSTAT_HTTP_RETRIES": "2",
        "UNIONSTAT_HTTP_BACKOFF_S": "0",
        "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
        "UNIONSTAT_MAX_RESPONSE_BYTES": str(MAX_RESPONSE_BYTES),
        **{key: value for s in standins for key, value in s.env().items()},
    }.items():
        monkeypatch.setenv(key, value)


def test_faulted_sources_fail_alone_and_an_all_faulted_run_leaves_the_publish_byte_identical(
    warehouse_env: Settings, server: tuple[str, Routes], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = server
    # Run 1: transient faults on three sources (they recover), lasting faults on the other three.
    first = {
        "rosstat": ("429", "rosstat-software-development-index-2024-jan-aug"),
        "wipo": ("timeout", "wipo-total-patent-applications-by-origin-2022"),
        "belstat": ("reset", "belstat-russia-share-foreign-trade-2020-2021"),
        "worldbank": ("error200", "worldbank-gdp-growth-synthetic"),
        "osw": ("html", "osw-rss-compiled-from-paper-tables-6-7"),
        "rg": ("truncated", "rg-rss-compiled-from-paper-tables-1-7"),
    }
    standins = e2e_server(base, routes, first)
    # a 503 too, on a second recording of a recovering source
    wipo = next(s for s in standins if s.source == "wipo")
    profile = recording("wipo", "wipo-country-profile-RU-2022")
    wipo.dispatcher.add(wipo.url(profile["url"]), fault_handler("wipo", "503", profile))
    _use(monkeypatch, standins)

    summary = refresh(live=True)

    assert summary["status"] == "partial"
    assert sorted(summary["failed_sources"]) == ["osw", "rg", "worldbank"]
    for source, expected in {
        "worldbank": "API error body: 120 Invalid value",
        "osw": "found an HTML page",
        "rg": "truncated",
    }.items():
        message = summary["failed_sources"][source]
        assert f"[{source}] {base}" in message and expected in message, message
    assert summary["new_snapshots"] == {"rosstat": 4, "wipo": 3, "belstat": 2}
    db = warehouse_env.published_db
    loaded = dict(query(db, "select source, count(*) from raw.snapshots group by 1"))
    assert loaded == {"rosstat": 4, "wipo": 3, "belstat": 2}
    assert query(db, "select count(*) from raw.worldbank_observations") == [(0,)]
    published = file_digest(db)
    FIGURES.end_to_end.append(
        "run 1 (429, timeout, reset, 503 recovered; error200, html, truncated stopped): partial, 3 sources published"
    )

    # Run 2: every source faulted: nothing may change in the published warehouse.
    routes.handlers.clear()
    routes.add("/robots.txt", body=b"User-agent: *\nAllow: /\n")
    second = {
        "worldbank": ("500", "worldbank-gdp-growth-synthetic"),
        "wipo": ("encoding", "wipo-total-patent-applications-by-origin-2022"),
        "rosstat": ("empty", "rosstat-section-infocommunity-compiled"),
        "belstat": ("layout", "belstat-russia-share-foreign-trade-2020-2021"),
        "osw": ("huge", "osw-rss-compiled-from-paper-tables-6-7"),
        "rg": ("layout", "rg-rss-compiled-from-paper-tables-1-7"),
    }
    e2e_server(base, routes, second)
    with pytest.raises(StageFailed, match="every source failed") as failed:
        refresh(live=True)
    for source in SOURCES:
        assert f"[{source}] {base}" in str(failed.value), source
    assert "a response of at most 200000 bytes" in str(failed.value)
    assert file_digest(db) == published
    assert not warehouse_env.build_db.exists()
    history = query(warehouse_env.warehouse_dir / "dq_history.duckdb", "select status from runs order by finished_at")
    assert history == [("partial",), ("failed",)]
    FIGURES.end_to_end.append(
        "run 2 (500, encoding, empty listing, changed layout x2, huge; all sources): failed, publish byte-identical"
    )


def test_a_stopped_source_is_not_retried_forever(server: tuple[str, Routes], tmp_path: Path) -> None:
    """A lasting 500 costs the configured attempts and no more (HTTP retries, then the source stops)."""
    base, routes = server
    standin = stand_in("worldbank", base, routes)
    rec = recording("worldbank", data_target("worldbank"))
    url = standin.url(rec["url"])
    standin.dispatcher.add(url, respond(500, b"internal error"))
    outcome = run_source(live_settings(tmp_path, [standin]), "worldbank", tmp_path / "w.duckdb")
    assert outcome.error is not None and "found HTTP 500" in outcome.error
    assert standin.dispatcher.count(url) == 3  # one try and UNIONSTAT_HTTP_RETRIES=2 retries


def test_sources_are_fetched_side_by_side_and_each_publisher_is_asked_one_thing_at_a_time(
    server: tuple[str, Routes], tmp_path: Path
) -> None:
    """UNIONSTAT_FETCH_CONCURRENCY=2: two publishers are asked at once, never three, never one of them twice at once;
    the summary and the progress follow the sources' order whatever order the fetches end in."""
    base, routes = server
    standins = e2e_server(base, routes, {})
    asked: dict[str, int] = {}  # source -> its requests being answered now
    seen = {"together": 0, "twice": 0}
    changed = threading.Condition()

    def publishers_asked() -> int:
        return sum(1 for n in asked.values() if n)

    def metered(source: str, handler: Handler) -> Handler:
        def answer(req: Any) -> None:
            with changed:
                asked[source] = asked.get(source, 0) + 1
                seen["twice"] = max(seen["twice"], asked[source])
                changed.notify_all()
                # hold the answer until another publisher is being asked too (at most 0.6 s: the client waits 1 s),
                # then a little longer for a third, which the limit must keep out
                changed.wait_for(lambda: publishers_asked() >= 2, timeout=0.6)
                changed.wait_for(lambda: publishers_asked() >= 3, timeout=0.2)
                seen["together"] = max(seen["together"], publishers_asked())
            try:
                handler(req)
            finally:
                with changed:
                    asked[source] -= 1

        return answer

    dispatcher = standins[0].dispatcher
    for standin in standins:
        for rec in recordings()[standin.source]:
            key = normalize_url(standin.url(rec["url"]))
            dispatcher.handlers[key] = metered(standin.source, dispatcher.handlers[key])
    settings = live_settings(tmp_path, standins, UNIONSTAT_FETCH_CONCURRENCY="2")
    # the statistics publishers (the news sites' stand-ins serve their feeds only, not their listing pages)
    sources = [s for s in SOURCES if s not in NEWS_SITES]
    run = Run.start(settings, sources, True, [], None)

    @flow
    def prepare_and_fetch() -> None:  # the refresh flow's first stages, on its task runner
        _prepare(run)
        _fetch(run)

    prepare_and_fetch()

    assert run.summary.failed_sources == {}
    assert list(run.summary.new_snapshots) == sources  # the sources' order, not the order they ended in
    assert seen == {"together": 2, "twice": 1}
