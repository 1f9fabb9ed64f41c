"""The HTML reports in headless Chromium (Debian's package; nothing is downloaded): no console errors, charts render."""

from __future__ import annotations

import functools
import hashlib
import html.parser
import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import query
from unionstat.data_docs_assets import DataDocsNotOffline, localize_site
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
        assert charts.count() == 5  # shares, patents, GDP by vintage, GDP in the EAEU, sectors
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


# Geometry, read in the browser: each provenance label beside its value, and no table (or the page) wider than the
# window: a wide table scrolls inside its own box.
LABELS_BESIDE_VALUES = """() => [...document.querySelectorAll('dl.prov dt')].map(dt => {
    const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
    return [dt.textContent, dd.textContent.slice(0, 40), Math.abs(a.top - b.top), a.right <= b.left, a.height];
})"""
TABLE_BOXES = """() => [...document.querySelectorAll('table')].map(t => {
    const r = t.getBoundingClientRect();
    return [t.dataset.table || '?', r.left, r.right, t.scrollWidth > t.clientWidth];
})"""


@pytest.mark.parametrize("width", [1280, 1400, 900])
def test_the_analysis_reports_labels_sit_beside_their_values_and_tables_fit_the_window(
    browser: Any, reports_url: str, width: int
) -> None:
    loaded = Loaded(browser, f"{reports_url}/analysis/index.html")
    try:
        loaded.page.set_viewport_size({"width": width, "height": 900})
        pairs = loaded.page.evaluate(LABELS_BESIDE_VALUES)
        assert len(pairs) > 20  # the paper and every snapshot: publisher, origin, vintage, fetch time ...
        line_height = 1.4 * 16
        misplaced = [p for p in pairs if p[2] > 2 or not p[3] or p[4] > line_height * 1.2]
        assert misplaced == [], misplaced  # the same line: tops equal, label left of its value, on one line
        labels = {p[0] for p in pairs}
        assert {"snapshot sha256", "publisher", "origin", "vintage"} <= labels
        viewport = loaded.page.evaluate("() => document.documentElement.clientWidth")
        assert loaded.page.evaluate("() => document.documentElement.scrollWidth") <= viewport
        boxes = loaded.page.evaluate(TABLE_BOXES)
        assert len(boxes) >= 12
        assert [b for b in boxes if b[1] < 0 or b[2] > viewport] == []
        assert any(b[0] == "2" for b in boxes)
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


def data_docs_pages(settings: Settings) -> list[Path]:
    site = settings.reports_dir / "data_docs"
    return sorted(p for p in site.rglob("*.html") if "vendor" not in p.relative_to(site).parts)


def test_the_data_docs_load_without_console_errors(browser: Any, reports_url: str, report_warehouse: Settings) -> None:
    site = report_warehouse.reports_dir / "data_docs"
    pages = data_docs_pages(report_warehouse)
    suite_page = site / "expectations" / "raw" / "worldbank_bulk.html"  # Great Expectations checks raw tables only
    result_page = next(p for p in pages if p.parts[-6:-3] == ("validations", "raw", "worldbank_bulk"))
    for page in (site / "index.html", suite_page, result_page):
        loaded = Loaded(browser, f"{reports_url}/{page.relative_to(report_warehouse.reports_dir).as_posix()}")
        try:
            assert loaded.response is not None and loaded.response.status == 200
            assert loaded.errors == [], "\n".join([page.name, *loaded.errors, *loaded.failed_requests])
            assert loaded.failed_requests == [] and loaded.bad_responses == [], page
            # jQuery, Bootstrap's plugins, bootstrap-table and Font Awesome's font all arrived and work.
            assert loaded.page.evaluate("() => [typeof $, typeof $.fn.modal, typeof $.fn.bootstrapTable]") == [
                "function",
                "function",
                "function",
            ]
            faces = "async () => (await document.fonts.load('900 16px \"Font Awesome 6 Free\"')).map(f => f.status)"
            assert loaded.page.evaluate(faces) == ["loaded"]
            assert loaded.errors == [], "\n".join(loaded.errors)  # a missing .woff2 shows here as a 404
            icons = loaded.page.locator("i.fas")
            if page != suite_page:  # the suite pages show no icon
                assert icons.count() > 0
                before = icons.first.evaluate("e => getComputedStyle(e, '::before').fontFamily")
                assert before == '"Font Awesome 6 Free"'
        finally:
            loaded.page.close()
    # Vega, Vega-Lite and Vega-Embed (loaded by every page, used by GX's charts) draw a chart from the local copies.
    loaded = Loaded(browser, f"{reports_url}/data_docs/index.html")
    try:
        drawn = loaded.page.evaluate(
            """async () => {
                const div = document.createElement('div'); document.body.appendChild(div);
                const spec = {data: {values: [{x: 'a', y: 3}, {x: 'b', y: 5}]}, mark: 'bar',
                              encoding: {x: {field: 'x', type: 'nominal'}, y: {field: 'y', type: 'quantitative'}}};
                await vegaEmbed(div, spec, {renderer: 'svg', actions: false});
                return [vega.version, vegaLite.version, div.querySelectorAll('svg path').length];
            }"""
        )
        assert drawn[:2] == ["5.33.1", "5.23.0"] and drawn[2] >= 2
        assert loaded.errors == [], "\n".join(loaded.errors)
    finally:
        loaded.page.close()


OFF_SITE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')\s]+)|@import\s+[\"']([^\"']+)", re.IGNORECASE)


class AssetLinks(html.parser.HTMLParser):
    """What a browser fetches by itself from a page: scripts, <link>s, images and media, CSS url() and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "embed", "audio", "video", "input"} and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")
        if values.get("style"):
            self.urls.extend(css_urls(values["style"] or ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(css_urls(data))


def css_urls(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css) if not (a or b).startswith("data:")]


def test_no_data_docs_page_loads_a_script_stylesheet_font_or_image_from_off_site(report_warehouse: Settings) -> None:
    site = report_warehouse.reports_dir / "data_docs"
    pages = data_docs_pages(report_warehouse)
    # The index, and for every raw table the run validated, its suite's page and its validation result's page.
    suites = "select count(distinct suite) from dq.validation_results where suite like 'raw.%'"
    validated = query(report_warehouse.published_db, suites)[0][0]
    assert validated >= 7 and len(pages) == 1 + 2 * validated
    stylesheets = [*site.rglob("*.css")]
    seen: set[Path] = set()
    for path in pages + stylesheets:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            parser = AssetLinks()
            parser.feed(text)
            urls = parser.urls
        else:
            urls = css_urls(text)
        off_site = [url for url in urls if OFF_SITE.match(url)]
        assert off_site == [], f"{path.relative_to(site)} loads {off_site}"
        for url in urls:
            target = (path.parent / url.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{path.relative_to(site)} links {url}: no file {target}"
            seen.add(target)
    vendor = (site / "static" / "vendor").resolve()
    used = {p.relative_to(vendor).as_posix() for p in seen if vendor in p.parents}
    # Every vendored script and stylesheet is used, and the fonts are reached through Font Awesome's stylesheet.
    assert {"jquery-3.7.1/jquery.min.js", "vega-5.33.1/vega.min.js", "bootstrap-4.3.1/bootstrap.min.css"} <= used
    assert "fontawesome-free-6.6.0/webfonts/fa-solid-900.woff2" in used
    manifest = json.loads((vendor / "MANIFEST.json").read_text(encoding="utf-8"))
    vendored_code = {a["file"].removeprefix("vendor/") for a in manifest["assets"] if a["replaces"]}
    assert vendored_code <= used, vendored_code - used
    for asset in manifest["assets"]:
        data = (vendor / asset["file"].removeprefix("vendor/")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == asset["sha256"], asset["file"]


def test_an_unknown_off_site_asset_fails_the_data_docs_build_naming_page_and_url(tmp_path: Path) -> None:
    page = tmp_path / "expectations" / "raw" / "x.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://cdn.example.org/newlib@2/lib.min.js"></script></head></html>',
        encoding="utf-8",
    )
    with pytest.raises(DataDocsNotOffline, match=r"x\.html.*https://cdn\.example\.org/newlib@2/lib\.min\.js"):
        localize_site(tmp_path)
    assert "https://code.jquery.com" in page.read_text(encoding="utf-8")  # a failing page is not half rewritten

    page.write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" '
        'integrity="sha384-JjSmVgyd0p3pXB1rRibZUAYoIIy6OrQ6VrjIEaFf/nJGzIxFDsf4x0xIM+B07jRM" '
        'crossorigin="anonymous"></script>',
        encoding="utf-8",
    )
    assert localize_site(tmp_path) == 1
    assert page.read_text(encoding="utf-8") == (
        '<script src="../../static/vendor/jquery-3.7.1/jquery.min.js"></script>'
        '<script src="../../static/vendor/bootstrap-4.3.1/bootstrap.min.js"></script>'
    )
    assert (tmp_path / "static" / "vendor" / "bootstrap-4.3.1" / "bootstrap.min.js").is_file()

    page.write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" integrity="sha384-another" '
        'crossorigin="anonymous"></script>',
        encoding="utf-8",
    )
    with pytest.raises(DataDocsNotOffline, match=r"pinned to sha384-another, but the local copy"):
        localize_site(tmp_path)
