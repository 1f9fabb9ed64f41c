"""The HTML reports in headless Chromium (Debian's package; nothing is downloaded): no console errors, charts render."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from unionstat.settings import Settings

CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium_binary() -> str | None:
    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if Path(p).is_file()), None
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium per module (Playwright drives the system binary; it never fetches a browser)."""
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium binary in CI: .ci/run installs Debian's `chromium` package before `make test`")
        pytest.skip("no chromium binary found (install Debian's `chromium` package to run the browser tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=binary,
            headless=True,
            chromium_sandbox=False,  # --no-sandbox: root in CI
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def reports_url(report_warehouse: Settings) -> Iterator[str]:
    """The reports folder over a local http.server on 127.0.0.1 (one per module)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    handler = functools.partial(Quiet, directory=str(report_warehouse.reports_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Loaded:
    """A page loaded with every console error, uncaught exception and failed request collected."""

    def __init__(self, context: Any, url: str) -> None:
        self.errors: list[str] = []
        self.failed_requests: list[str] = []
        self.bad_responses: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.failed_requests.append(r.url))
        self.page.on("response", self._response)
        self.response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.bad_responses.append(f"{response.status} {response.url}")

    def screenshot(self, path: Path) -> bytes:
        self.page.screenshot(path=str(path), full_page=True)
        return path.read_bytes()


def test_the_analysis_report_loads_without_errors_and_its_charts_render(
    browser: Any, reports_url: str, tmp_path: Path
) -> None:
    loaded = Loaded(browser, f"{reports_url}/analysis/index.html")
    try:
        assert loaded.response is not None and loaded.response.status == 200
        assert loaded.errors == [], "\n".join(loaded.errors)
        assert loaded.failed_requests == [] and loaded.bad_responses == []
        charts = loaded.page.locator("svg[data-chart]")
        assert charts.count() == 4
        for index in range(charts.count()):
            chart = charts.nth(index)
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150, chart.get_attribute("data-chart")
        # The drawn lines themselves have a size, not only the SVG box: one per country and vintage.
        lines = loaded.page.locator("svg[data-chart='gdp-vintages'] g[id^='gdp-vintages-series-'] path")
        assert lines.count() >= 4
        assert all((lines.nth(i).bounding_box() or {}).get("width", 0) > 0 for i in range(lines.count()))
        # A provenance link scrolls to its snapshot.
        loaded.page.locator("table[data-table='2'] a.prov").first.click()
        assert urlparse(loaded.page.url).fragment.startswith("snap-")
        png = loaded.screenshot(tmp_path / "analysis.png")
        assert png.startswith(PNG_SIGNATURE) and len(png) > 50_000
    finally:
        loaded.page.close()


def test_the_run_report_loads_without_errors_and_links_to_the_analysis(
    browser: Any, reports_url: str, tmp_path: Path
) -> None:
    loaded = Loaded(browser, f"{reports_url}/index.html")
    try:
        assert loaded.response is not None and loaded.response.status == 200
        assert loaded.errors == [], "\n".join(loaded.errors)
        assert loaded.page.locator("h1").inner_text() == "unionstat — data quality"
        png = loaded.screenshot(tmp_path / "run-report.png")
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
        loaded.page.click("a[href='analysis/index.html']")
        loaded.page.wait_for_load_state("load")
        assert loaded.page.url == f"{reports_url}/analysis/index.html"
        assert loaded.page.title() == "unionstat — the paper's analysis, from the data"
        assert loaded.errors == [], "\n".join(loaded.errors)
    finally:
        loaded.page.close()


def test_the_data_docs_load_every_local_file(browser: Any, reports_url: str, tmp_path: Path) -> None:
    loaded = Loaded(browser, f"{reports_url}/data_docs/index.html")
    try:
        assert loaded.response is not None and loaded.response.status == 200
        assert "Great Expectations" in loaded.page.title() or loaded.page.locator("text=Expectation").count() > 0
        local = [url for url in loaded.failed_requests if urlparse(url).hostname == "127.0.0.1"]
        assert local == []
        # Every file the Data Docs link to locally is there (the browser's own favicon probe aside).
        assert [r for r in loaded.bad_responses if not r.endswith("/favicon.ico")] == []
        png = loaded.screenshot(tmp_path / "data-docs.png")
        assert png.startswith(PNG_SIGNATURE)
    finally:
        loaded.page.close()


@pytest.mark.xfail(
    strict=True,
    reason="Great Expectations' Data Docs load jQuery, Bootstrap, Vega and Font Awesome from CDNs "
    "(code.jquery.com, unpkg.com, cdn.jsdelivr.net, ...): offline every one fails and `$ is not defined` follows. "
    "Remove this mark once the Data Docs are built with local copies of those assets.",
)
def test_the_data_docs_load_without_console_errors(browser: Any, reports_url: str) -> None:
    loaded = Loaded(browser, f"{reports_url}/data_docs/index.html")
    try:
        assert loaded.errors == [], "\n".join(loaded.errors + loaded.failed_requests)
    finally:
        loaded.page.close()
