"""`unionstat sources --check`: each of the five outcomes from a local stand-in publisher (Rosstat's catalogue page and
the workbook it links; the bodies are synthetic, tests/builders.py), offline refusal, and a live run (network)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

import scrapers
from tests.builders import NoRequests, rosstat_section_page, rosstat_workbook, worldbank_page, worldbank_row
from tests.conftest import Routes
from unionstat import cli, source_check
from unionstat.http import HttpClient
from unionstat.settings import Settings

PAGE = "/statistics/science"
FILE = "/storage/mediabank/Nauka_1.xlsx"


def _settings(tmp_path: Path, base: str) -> Settings:
    return Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
            "UNIONSTAT_HTTP_RETRIES": "0",
            "UNIONSTAT_HTTP_TIMEOUT_S": "2",
            "UNIONSTAT_ROSSTAT_BASE_URL": base,
        }
    )


def _check(tmp_path: Path, base: str) -> source_check.Checked:
    settings = _settings(tmp_path, base)
    http = HttpClient(settings)
    try:
        return source_check.check_dataset(scrapers.connector("rosstat", settings), http, "rnd_index")
    finally:
        http.close()


def _page(href: str = FILE, text: str = "Научные исследования и разработки") -> bytes:
    return rosstat_section_page([(href, text)])


def _redirect(location: str) -> Any:
    def handler(req: Any) -> None:
        req.send_response(301)
        req.send_header("Location", location)
        req.send_header("Content-Length", "0")
        req.end_headers()

    return handler


def test_ok_when_the_page_links_a_readable_workbook(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add(PAGE, body=_page())
    routes.add(FILE, body=rosstat_workbook([2024.0], [["M 72", "Научные исследования и разработки", 107.3]]))
    checked = _check(tmp_path, base)
    assert (checked.status, checked.url) == ("ok", f"{base}{FILE}")
    assert checked.found == "2 request(s) answered, 2 data answer(s) read"  # the page and the workbook
    assert [path for path, _ in routes.requests if not path.startswith("/robots")] == [PAGE, FILE]  # once each


@pytest.mark.parametrize("how", ["404", "redirect"])
def test_moved_when_the_page_is_gone_or_redirected(
    tmp_path: Path, publisher_server: tuple[str, Routes], how: str
) -> None:
    base, routes = publisher_server
    if how == "redirect":
        routes.handlers[PAGE] = _redirect("/statistics/nauka")
        routes.add("/statistics/nauka", body=_page())
        routes.add(FILE, body=rosstat_workbook([2024.0], [["M 72", "Научные исследования и разработки", 107.3]]))
    checked = _check(tmp_path, base)
    assert (checked.status, checked.url) == ("moved", f"{base}{PAGE}")
    assert checked.found == (
        "redirected to " + f"{base}/statistics/nauka"
        if how == "redirect"
        else "HTTP 404 no such route in the test server"
    )


@pytest.mark.parametrize(
    ("page", "workbook", "expected"),
    [
        (_page(text="Рынок труда"), None, "a /storage/mediabank/ link whose text matches 'научн\\\\w* исследовани'"),
        (_page(), b"<html><body>maintenance</body></html>", "an XLSX or XLS workbook (PK or OLE2 magic bytes)"),
        (
            _page(),
            rosstat_workbook(["Январь-август 2024 к 2023"], [["J 62.01", "Разработка ПО", 132.7]]),
            "sheet '1': a header row with year or period columns",
        ),
    ],
    ids=["link-gone", "html-for-workbook", "no-period-header"],
)
def test_layout_changed_when_the_answer_is_not_what_the_connector_reads(
    tmp_path: Path, publisher_server: tuple[str, Routes], page: bytes, workbook: bytes | None, expected: str
) -> None:
    base, routes = publisher_server
    routes.add(PAGE, body=page)
    if workbook is not None:
        routes.add(FILE, body=workbook)
    checked = _check(tmp_path, base)
    assert checked.status == "layout changed"
    assert checked.expected.startswith(expected)


@pytest.mark.parametrize("status", [403, 429])
def test_blocked_when_the_publisher_refuses(tmp_path: Path, publisher_server: tuple[str, Routes], status: int) -> None:
    base, routes = publisher_server
    routes.add(PAGE, status=status, body=b"denied")
    checked = _check(tmp_path, base)
    assert (checked.status, checked.url, checked.expected) == ("blocked", f"{base}{PAGE}", "HTTP 200")
    assert checked.found.startswith(f"HTTP {status} ")


def test_blocked_when_robots_txt_disallows(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/robots.txt", body=b"User-agent: *\nDisallow: /statistics/\n")
    routes.add(PAGE, body=_page())
    checked = _check(tmp_path, base)
    assert (checked.status, checked.found) == ("blocked", f"disallowed by {base}/robots.txt")
    assert not [path for path, _ in routes.requests if path == PAGE]  # never asked


@pytest.mark.parametrize("how", ["500", "closed-port"])
def test_unreachable_when_no_answer_comes(tmp_path: Path, publisher_server: tuple[str, Routes], how: str) -> None:
    base, routes = publisher_server
    if how == "closed-port":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed when the block ends: nothing listens
    else:
        routes.add(PAGE, status=500, body=b"internal error")
    checked = _check(tmp_path, base)
    assert (checked.status, checked.url) == ("unreachable", f"{base}{PAGE}")
    assert checked.found.startswith("HTTP 500" if how == "500" else "ConnectionError")


def test_a_paged_answer_is_asked_once_per_endpoint(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    """Politeness: page 2 of the World Bank's paged JSON is the same endpoint as page 1, so it is not asked; page 1
    is read with the connector's own parse."""
    base, routes = publisher_server
    page = worldbank_page([worldbank_row("Russian Federation", "RUS", "2023", 3.6)], page=1, pages=2)
    path = "/v2/country/RUS;BLR/indicator/NY.GDP.MKTP.KD.ZG"
    routes.add(path, body=page, headers={"Content-Type": "application/json"})
    settings = Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
            "UNIONSTAT_WORLDBANK_BASE_URL": base,
        }
    )
    http = HttpClient(settings)
    try:
        checked = source_check.check_dataset(scrapers.connector("worldbank", settings), http, "NY.GDP.MKTP.KD.ZG")
    finally:
        http.close()
    assert (checked.status, checked.found) == ("ok", "1 request(s) answered, 1 data answer(s) read")
    assert [p.split("?")[0] for p, _ in routes.requests if not p.startswith("/robots")] == [path]


def test_a_dataset_that_is_not_configured_says_so_without_a_request(tmp_path: Path) -> None:
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    http = HttpClient(settings)
    try:
        checked = source_check.check_dataset(scrapers.connector("belstat", settings), http, "russia_share_exports")
    finally:
        http.close()
    assert (checked.status, checked.url) == (
        "not configured",
        "sources.json belstat.api.not_configured.russia_share_exports",
    )


@pytest.mark.parametrize(
    ("source", "dataset", "reason"),
    [
        ("wipo", "profile.RU", "no public client was seen calling a country-profile export"),
        ("wipo", "profile.BY", "no public client was seen calling a country-profile export"),
        ("rosstat", "software_development_index", "no public client was seen calling /statistics/infocommunity"),
    ],
)
def test_a_reference_only_url_is_not_configured_against_the_real_publisher(
    tmp_path: Path, source: str, dataset: str, reason: str
) -> None:
    """Live with no stand-in base URL for the source: a dataset whose URL only the reference snapshot serves is
    reported 'not configured' with the registry's reason, and nothing is requested (never a 404)."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    http = NoRequests()
    checked = source_check.check_dataset(scrapers.connector(source, settings), http, dataset)  # type: ignore[arg-type]
    assert (checked.status, checked.url) == ("not configured", f"sources.json {source}.options.{dataset}")
    assert checked.found.startswith(f"not configured: {reason}")
    assert "`unionstat import FILE`" in checked.found
    assert http.asked == []
    assert source_check.all_ok([checked])  # not configured is no failure of a schedule


def test_the_whole_check_reports_each_dataset_and_a_summary(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    routes.add(PAGE, body=_page())
    routes.add(FILE, body=rosstat_workbook([2024.0], [["M 72", "Научные исследования и разработки", 107.3]]))
    results = source_check.check_sources(_settings(tmp_path, base), ["rosstat"])
    lines = source_check.report_lines(results)
    # a stand-in at UNIONSTAT_ROSSTAT_BASE_URL serves reference-only pages: the software index's is probed (404 here)
    assert [(r.dataset, r.status) for r in results] == [("software_development_index", "moved"), ("rnd_index", "ok")]
    assert lines[0].startswith(
        f"rosstat    software_development_index               moved           {base}/statistics/infocommunity"
    )
    assert lines[-1].endswith("UTC: 1 moved, 1 ok")
    assert not source_check.all_ok(results)


def test_offline_the_check_says_it_needs_the_network_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setenv("UNIONSTAT_WAREHOUSE_DIR", str(tmp_path))
    assert cli.main(["sources", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unionstat: sources --check needs the network: none of the publishers' hosts resolves (")
    assert "rosstat.gov.ru" in err and "api.worldbank.org" in err


@pytest.mark.network
def test_live_check_of_every_endpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Live: every registry dataset gets a status; the printed report names each with its URL."""
    results = source_check.check_sources(Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path)}))
    assert {(r.source, r.dataset) for r in results} == {
        (name, dataset) for name, config in scrapers.registry().items() for dataset in config.datasets
    }
    assert all(
        r.status in {"ok", "moved", "layout changed", "blocked", "unreachable", "not configured"} for r in results
    )
    print("\n".join(source_check.report_lines(results)))  # the report, for the person running the live tests
