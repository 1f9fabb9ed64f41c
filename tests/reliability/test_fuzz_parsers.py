"""Property-based tests of every parser: mutated publisher responses raise the project's typed errors or load rows
the raw table accepts, never anything else.

Seeds are the reference recordings (and builder-made inputs where the reference holds none); hypothesis truncates
them, flips and inserts bytes, rewrites numbers (NBSP thousands, decimal commas) and dates, re-encodes the text and
mutates the XML members inside XLSX zips. Each example goes through the real load stage (`load_snapshot`: snapshot
store, parse, insert into the raw table of an in-memory DuckDB), so the table's types and NOT NULL constraints are
the sanity check. A failure is an exception that is not a `UnionstatError`.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scrapers
from scrapers import belstat, news, rosstat, wipo
from scrapers.base import SnapshotMeta
from tests.builders import worldbank_bulk_csv, written, zipped
from tests.news_builders import osw_article, rg_article
from tests.reliability.conftest import FIGURES, recordings
from unionstat import warehouse
from unionstat.errors import ParseError, UnionstatError
from unionstat.load import load_snapshot
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

ODD_NUMBERS = [
    "1\u00a0234,5",
    "1 234,5",
    "1\u202f234",
    "12,3",
    "−4,2",
    "1.234.567,8",
    "1,234,567.8",
    "3,6,",
    "NaN",
    "inf",
    "1e309",
    "-0",
    "٣٫٦",
    "",
    "…",
    "x",
    "12..3",
    "0x1F",
]
ODD_DATES = [
    "2024-02-30",
    "2024-13-01",
    "31.02.2024 25:61",
    "0000-00-00",
    "9999-12-31",
    "Tue, 31 Feb 2024 12:00:00 +0300",
    "Mon, 07 Jan 2030 12:30:00",
    "2024-10-01T00:00:00",
    "yesterday",
    "",
    "1 октября 2024",
]
ENCODINGS = ["utf-16", "utf-32", "windows-1251", "latin-1", "koi8-r", "utf-8-sig"]
NUMBER_TOKEN = re.compile(rb"\d+(?:[.,]\d+)?")
DATE_TOKEN = re.compile(
    rb"\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}(?: \d{2}:\d{2})?|\w{3}, \d{2} \w{3} \d{4} [\d:]+ [+-]\d{4}"
)


# -- mutations -----------------------------------------------------------------------------------
Draw = Callable[[st.SearchStrategy[Any]], Any]


def truncate(draw: Draw, body: bytes) -> bytes:
    return body[: draw(st.integers(0, len(body)))]


def flip(draw: Draw, body: bytes) -> bytes:
    if not body:
        return body
    i = draw(st.integers(0, len(body) - 1))
    return body[:i] + bytes([draw(st.integers(0, 255))]) + body[i + 1 :]


def insert(draw: Draw, body: bytes) -> bytes:
    i = draw(st.integers(0, len(body)))
    chunk = draw(st.sampled_from([b"<", b">", b"&", b'"', b",", b"\x00", b"\xff\xfe", b"]]>", b"\r\n", b"\\"]))
    return body[:i] + chunk + body[i:]


def _replace_token(draw: Draw, body: bytes, pattern: re.Pattern[bytes], choices: list[str]) -> bytes:
    tokens = list(pattern.finditer(body))
    if not tokens:
        return body
    token = tokens[draw(st.integers(0, len(tokens) - 1))]
    new = draw(st.sampled_from(choices)).encode()
    return body[: token.start()] + new + body[token.end() :]


def odd_number(draw: Draw, body: bytes) -> bytes:
    return _replace_token(draw, body, NUMBER_TOKEN, ODD_NUMBERS)


def odd_date(draw: Draw, body: bytes) -> bytes:
    return _replace_token(draw, body, DATE_TOKEN, ODD_DATES)


def reencode(draw: Draw, body: bytes) -> bytes:
    encoding = draw(st.sampled_from(ENCODINGS))
    return body.decode("utf-8", errors="replace").encode(encoding, errors="replace")


def in_zip_member(draw: Draw, body: bytes) -> bytes:
    """Mutate one member of a zip (an XLSX part) and zip it again: malformed XML inside a valid container."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError, zlib.error):
        return flip(draw, body)
    name = draw(st.sampled_from(sorted(members)))
    operation = draw(st.sampled_from([truncate, flip, insert, odd_number, odd_date]))
    members[name] = operation(draw, members[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for member, content in members.items():
            rebuilt.writestr(member, content)
    return out.getvalue()


TEXT_OPERATIONS = [truncate, flip, insert, odd_number, odd_date, reencode]
ZIP_OPERATIONS = [in_zip_member, in_zip_member, in_zip_member, truncate, flip]


@st.composite
def mutated(draw: Draw, seeds: list[bytes], operations: list[Callable[[Draw, bytes], bytes]]) -> bytes:
    body = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.sampled_from(operations))(draw, body)
    return body


# -- the load stage, for real ------------------------------------------------------------------------
class Loader:
    """An in-memory warehouse with every raw table and a snapshot store: the load stage for one body."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(root)})
        self.store = SnapshotStore(root / "snapshots")
        self.connectors = {c.name: c for c in scrapers.all_connectors(self.settings)}
        self.con = duckdb.connect()
        warehouse.ensure_schema(self.con, [c.raw_ddl for c in self.connectors.values()])
        self.examples: dict[str, int] = {}

    def load(self, label: str, source: str, dataset: str, url: str, body: bytes) -> int | None:
        """Rows loaded, or None for a typed error. Anything else propagates and fails the test."""
        self.examples[label] = self.examples.get(label, 0) + 1
        FIGURES.fuzz_examples[label] = self.examples[label]
        connector = self.connectors[source]
        sha = self.store.put(body)
        meta = SnapshotMeta(sha, source, dataset, url, None, date(2024, 10, 1))
        self.con.execute("begin")
        try:
            rows = load_snapshot(self.con, self.store, connector, meta, "fuzz").rows
        except UnionstatError:
            return None
        finally:
            self.con.execute("rollback")
            self.store.path_for(sha).unlink(missing_ok=True)
        assert rows > 0
        return rows


@pytest.fixture(scope="module")
def loader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loader]:
    loader = Loader(tmp_path_factory.mktemp("fuzz"))
    yield loader
    loader.con.close()


def reference(rec_id: str) -> tuple[str, bytes]:
    rec = next(r for rs in recordings().values() for r in rs if r["id"] == rec_id)
    return rec["url"], rec["body"]


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ_SLOW = settings(FUZZ, max_examples=30)  # XLSX: openpyxl takes ~50 ms a workbook


def seeds_of(*ids: str) -> list[bytes]:
    return [reference(i)[1] for i in ids]


# -- one test per parser ---------------------------------------------------------------------------
WB_URL, WB_BODY = reference("worldbank-gdp-growth-synthetic")
BULK = worldbank_bulk_csv({"RUS": {"2023": "3.6"}, "BLR": {"2023": "3.9"}}, last_updated="2024-10-01")


@FUZZ
@given(body=mutated([WB_BODY], TEXT_OPERATIONS))
def test_worldbank_api_pages(loader: Loader, body: bytes) -> None:
    loader.load("worldbank json", "worldbank", "NY.GDP.MKTP.KD.ZG", WB_URL, body)


@FUZZ
@given(
    body=mutated([BULK], TEXT_OPERATIONS)
    | mutated([zipped("API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv", BULK)], ZIP_OPERATIONS)
)
def test_worldbank_bulk_csv_and_zip(loader: Loader, body: bytes) -> None:
    loader.load("worldbank bulk csv", "worldbank", "NY.GDP.MKTP.KD.ZG", "file:///imports/API_x.csv", body)
    with tempfile.TemporaryDirectory() as folder, contextlib.suppress(UnionstatError):  # a typed refusal is fine
        path = written(Path(folder) / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv", body)
        loader.connectors["worldbank"].recognise_import(path)


@FUZZ
@given(
    body=mutated(seeds_of("wipo-total-patent-applications-by-origin-2022"), TEXT_OPERATIONS),
)
def test_wipo_table_exports(loader: Loader, body: bytes) -> None:
    url, _ = reference("wipo-total-patent-applications-by-origin-2022")
    loader.load("wipo table csv", "wipo", "patent_applications_total_by_origin", url, body)


@FUZZ
@given(body=mutated(seeds_of("wipo-country-profile-RU-2022"), TEXT_OPERATIONS))
def test_wipo_country_profiles(loader: Loader, body: bytes) -> None:
    url, _ = reference("wipo-country-profile-RU-2022")
    loader.load("wipo profile csv", "wipo", "profile.RU", url, body)


@FUZZ_SLOW
@given(body=mutated(seeds_of("rosstat-software-development-index-2024-jan-aug"), ZIP_OPERATIONS))
def test_rosstat_workbooks(loader: Loader, body: bytes) -> None:
    url, _ = reference("rosstat-software-development-index-2024-jan-aug")
    loader.load("rosstat xlsx", "rosstat", "software_development_index", url, body)


@FUZZ
@given(body=mutated(seeds_of("rosstat-section-infocommunity-compiled"), TEXT_OPERATIONS))
def test_rosstat_section_pages(loader: Loader, body: bytes) -> None:
    url, _ = reference("rosstat-section-infocommunity-compiled")
    loader.load("rosstat html", "rosstat", "software_development_index", url, body)


@FUZZ_SLOW
@given(body=mutated(seeds_of("belstat-russia-share-foreign-trade-2020-2021"), ZIP_OPERATIONS))
def test_belstat_workbooks(loader: Loader, body: bytes) -> None:
    url, _ = reference("belstat-russia-share-foreign-trade-2020-2021")
    loader.load("belstat xlsx", "belstat", "russia_share_foreign_trade_turnover", url, body)


@FUZZ
@given(body=mutated(seeds_of("belstat-russia-share-foreign-investment"), TEXT_OPERATIONS))
def test_belstat_html_tables(loader: Loader, body: bytes) -> None:
    url, _ = reference("belstat-russia-share-foreign-investment")
    loader.load("belstat html", "belstat", "russia_share_foreign_investment", url, body)


@FUZZ
@given(
    body=mutated(
        seeds_of("osw-rss-compiled-from-paper-tables-6-7", "rg-rss-compiled-from-paper-tables-1-7"), TEXT_OPERATIONS
    )
)
def test_news_feeds(loader: Loader, body: bytes) -> None:
    for source, rec in (
        ("osw", "osw-rss-compiled-from-paper-tables-6-7"),
        ("rg", "rg-rss-compiled-from-paper-tables-1-7"),
    ):
        loader.load(f"{source} rss", source, "rss", reference(rec)[0], body)


@FUZZ
@given(body=mutated([osw_article()], TEXT_OPERATIONS))
def test_osw_article_pages(loader: Loader, body: bytes) -> None:
    loader.load("osw html", "osw", "articles", "https://www.osw.waw.pl/en/publikacje/analyses/2030-01-07/x", body)


@FUZZ
@given(body=mutated([rg_article()], TEXT_OPERATIONS))
def test_rg_article_pages(loader: Loader, body: bytes) -> None:
    loader.load("rg html", "rg", "articles", "https://rg.ru/2030/01/07/x.html", body)


# -- generated values: numbers and dates as publishers print them ---------------------------------
@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, places=1, allow_nan=False, allow_infinity=False),
    separator=st.sampled_from(["\u00a0", " ", "\u202f", ""]),
)
def test_belstat_numbers_with_nbsp_thousands_and_a_decimal_comma(value: Any, separator: str) -> None:
    FIGURES.fuzz_examples["number formats"] = FIGURES.fuzz_examples.get("number formats", 0) + 1
    whole, _, fraction = f"{abs(value):.1f}".partition(".")
    groups = [whole[max(0, i - 3) : i] for i in range(len(whole), 0, -3)][::-1]
    printed = ("-" if value < 0 else "") + separator.join(groups) + "," + fraction
    assert belstat.parse_value(printed) == (float(value), printed)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789 ,.-−\u00a0\u202fx…–e+")), max_size=14))
def test_number_cells_parse_to_a_finite_number_or_a_typed_error(text: str) -> None:
    FIGURES.fuzz_examples["number cells"] = FIGURES.fuzz_examples.get("number cells", 0) + 1
    parsers: list[Callable[[], Any]] = [
        lambda: belstat.parse_value(text)[0],
        lambda: rosstat._number(text),  # a text cell that is no number stays text (value null)
        lambda: wipo._cell_numbers("wipo", "test", text, 1),
    ]
    for parse in parsers:
        try:
            result = parse()
        except ParseError:
            continue
        values = result if isinstance(result, list) else [result]
        assert all(v is None or (isinstance(v, float) and v == v and abs(v) != float("inf")) for v in values), text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.one_of(st.sampled_from(ODD_DATES), st.text(max_size=40)))
def test_dates_become_aware_utc_datetimes_or_a_typed_error(text: str) -> None:
    FIGURES.fuzz_examples["dates"] = FIGURES.fuzz_examples.get("dates", 0) + 1
    for convert in (news.rfc822_to_utc, news.iso_to_utc, news.moscow_to_utc):
        try:
            parsed = convert("news", "test", text)
        except ParseError:
            continue
        assert isinstance(parsed, datetime) and parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None)
