"""Rosstat connector: section-page discovery, the XLSX index table, unsupported formats. Values are synthetic."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import scrapers
from scrapers.base import SnapshotMeta
from scrapers.rosstat import INDEX_UNIT, _period, parse_section_page, parse_workbook
from tests.builders import rosstat_section_page, rosstat_workbook
from tests.conftest import REFERENCE_DIR, Routes
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings

PAGE = "https://rosstat.example/statistics/science"
FILE = "https://rosstat.example/storage/mediabank/Ind_2025_07.xlsx"
JAN_AUG = "январь-август 2025 г.\nв % к январю-\u00a0августу 2024 г."
SOFTWARE = "Разработка компьютерного\r\nпрограммного обеспечения"
RND = "Научные исследования и\u00a0разработки"


def _settings(tmp_path: Path, base_url: str = "https://rosstat.example", **extra: str) -> Settings:
    env = {"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "UNIONSTAT_MODE": "live"}
    env["UNIONSTAT_ROSSTAT_BASE_URL"] = base_url
    env.update(extra)
    return Settings.from_env(env)


def _workbook() -> bytes:
    return rosstat_workbook(
        ["Вид экономической\u00a0деятельности", JAN_AUG, "2025 г. в % к 2024 г."],
        [
            [SOFTWARE, 110.5, None],
            [RND + " 1)", "101,2", "…"],
            ["Деятельность в области связи", "-", 99.0],
        ],
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("январь-август 2024 г. в % к январю-августу 2023 г.", ("2024-01/2024-08", "2023-01/2023-08")),
        ("январь-март 2024 г.\nв % к январю-марту 2023 г.", ("2024-01/2024-03", "2023-01/2023-03")),
        ("май 2024 г. в % к маю 2023 г.", ("2024-05/2024-05", "2023-05/2023-05")),
        ("2024 г. в % к 2023 г.", ("2024", "2023")),
        ("2024 г. в % к 2022 г.", None),  # not the year before: not an index of this kind
        ("январь-август 2024 г. в % к январю-июлю 2023 г.", None),  # different months
        ("2024 г., млн рублей", None),
    ],
)
def test_period_labels_become_period_and_base(label: str, expected: tuple[str, str] | None) -> None:
    assert _period(label) == expected


def test_workbook_reads_indices_with_their_periods_and_a_unit_that_says_index() -> None:
    frame = parse_workbook("rosstat", FILE, _workbook(), "rnd_index")

    rows = {(r.row_label, r.period): r for r in frame.itertuples()}
    assert len(frame) == 3  # '-' and '…' are no values
    software = rows[("Разработка компьютерного программного обеспечения", "2025-01/2025-08")]
    assert (software.indicator_code, software.value, software.base_period) == (
        "software_development_index",
        110.5,
        "2024-01/2024-08",
    )
    rnd = rows[("Научные исследования и разработки 1)", "2025-01/2025-08")]
    assert (rnd.indicator_code, rnd.value, rnd.cell_text) == ("rnd_index", 101.2, "101,2")  # decimal comma, footnote
    other = rows[("Деятельность в области связи", "2025")]
    assert pd.isna(other.indicator_code)  # kept in raw, not mapped
    assert other.value == 99.0
    assert set(frame["unit"]) == {INDEX_UNIT}
    assert set(frame["document_kind"]) == {"workbook"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (rosstat_workbook(["Вид деятельности", JAN_AUG], []), r"at least one value below the header.*zero rows"),
        (rosstat_workbook(["Вид деятельности", "Всего"], [[SOFTWARE, 1.0]]), r"header row with period columns.*none"),
        (
            rosstat_workbook(["Вид деятельности", JAN_AUG, "Справочно"], [[SOFTWARE, 1.0, 2.0]]),
            r"one label column left of the period columns.*Справочно",
        ),
        (rosstat_workbook(["Вид деятельности", JAN_AUG], [[SOFTWARE, "рост"]]), r"an index value.*'рост'"),
        (
            rosstat_workbook(["Вид деятельности", JAN_AUG], [["Деятельность в области связи", 100.1]]),
            r"a row labelled \['разработка компьютерного программного обеспечения'\] with a value",
        ),
    ],
)
def test_workbook_guards(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_workbook("rosstat", FILE, body, "software_development_index")
    assert info.value.location == FILE


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, r"XLSX workbook.*legacy OLE2 file \(XLS or DOC\)"),
        (_docx(), r"XLSX workbook.*a DOCX document: not supported"),
        (b"<!DOCTYPE html><html><body>Error 404</body></html>", r"XLSX workbook.*an HTML page"),
        (_workbook()[: len(_workbook()) // 2], r"complete XLSX zip.*truncated"),
        (b"", r"XLSX workbook \(a zip\).*empty body"),
    ],
)
def test_unsupported_or_broken_files_fail_with_a_clear_message(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_workbook("rosstat", FILE, body, None)


def test_section_page_rows_are_the_file_links_found() -> None:
    body = rosstat_section_page(
        [("/storage/mediabank/Nauka_2025.xlsx", "Научные исследования"), ("doc/x.pdf", "не файл медиабанка")]
    )
    frame = parse_section_page("rosstat", PAGE, body)

    assert frame[["document_kind", "file_url", "link_text"]].values.tolist() == [
        ["section_page", "https://rosstat.example/storage/mediabank/Nauka_2025.xlsx", "Научные исследования"]
    ]
    with pytest.raises(ParseError, match=r"links to files under /storage/mediabank/.*layout changed"):
        parse_section_page("rosstat", PAGE, rosstat_section_page([("/about", "О Росстате")]))
    with pytest.raises(ParseError, match=r"an HTML section page"):
        parse_section_page("rosstat", PAGE, _workbook())


def test_discovery_prefers_xlsx_and_fails_loudly_when_no_link_matches(tmp_path: Path) -> None:
    connector = scrapers.connector("rosstat", _settings(tmp_path))
    page = rosstat_section_page(
        [
            ("/storage/mediabank/Nauka_2025.docx", "Научные исследования и разработки (DOCX)"),
            ("https://rosstat.example/storage/mediabank/Nauka_2025.xlsx", "Научные исследования и разработки"),
            ("/storage/mediabank/Trud.xlsx", "Рынок труда"),
        ]
    )
    assert connector.file_links(PAGE, page, "rnd_index") == [
        "https://rosstat.example/storage/mediabank/Nauka_2025.xlsx"
    ]
    only_docx = rosstat_section_page([("/storage/mediabank/a.docx", "Научные исследования")])
    assert connector.file_links(PAGE, only_docx, "rnd_index") == ["https://rosstat.example/storage/mediabank/a.docx"]
    with pytest.raises(SourceError, match=r"\[rosstat\].*whose text matches.*none among \['Рынок труда'\].*layout"):
        connector.file_links(PAGE, rosstat_section_page([("/storage/mediabank/Trud.xlsx", "Рынок труда")]), "rnd_index")


def test_fetch_stores_the_section_page_and_the_file_it_links(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    page = rosstat_section_page([("/storage/mediabank/Nauka_2025_v3.xlsx", "Индекс научных исследований и разработок")])
    workbook = _workbook()
    routes.add("/statistics/science", body=page, headers={"Content-Type": "text/html"})
    routes.add(
        "/storage/mediabank/Nauka_2025_v3.xlsx",
        body=workbook,
        headers={"Last-Modified": "Wed, 06 Aug 2025 09:00:00 GMT"},
    )
    settings = _settings(tmp_path, base)
    connector = scrapers.connector("rosstat", settings)
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, "rnd_index", {})
    finally:
        http.close()

    assert [c.fetched.url for c in captures] == [
        f"{base}/statistics/science",
        f"{base}/storage/mediabank/Nauka_2025_v3.xlsx",
    ]
    assert [c.fetched.body for c in captures] == [page, workbook]  # copied byte for byte
    assert [c.release_date for c in captures] == [None, date(2025, 8, 6)]
    meta = SnapshotMeta("0" * 64, "rosstat", "rnd_index", captures[1].fetched.url, None, date(2025, 8, 6))
    assert connector.parse(workbook, meta)["value"].tolist() == [110.5, 101.2, 99.0]


def test_a_file_served_as_html_fails_at_parse(tmp_path: Path) -> None:
    connector = scrapers.connector("rosstat", _settings(tmp_path))
    meta = SnapshotMeta("0" * 64, "rosstat", "rnd_index", FILE, "text/html", None)
    with pytest.raises(ParseError, match=r"Ind_2025_07\.xlsx: expected an XLSX workbook; found an HTML page"):
        connector.parse(b"<html><body>maintenance</body></html>", meta)


def test_the_ca_bundle_setting_reaches_requests_verify(tmp_path: Path) -> None:
    """Rosstat's chain ends in a national root CA: the fix is a CA bundle, never verify=False."""
    bundle = tmp_path / "russian-trusted-root.pem"
    bundle.write_text("synthetic")
    http = HttpClient(_settings(tmp_path, UNIONSTAT_CA_BUNDLE=str(bundle)))
    try:
        assert http.session.verify == str(bundle)
    finally:
        http.close()


def test_reference_recordings_hold_the_papers_indices() -> None:
    """Known values: 132.7 (software development, Jan-Aug 2024) and 107.3 (R&D, 2024), stored as indices."""
    responses = REFERENCE_DIR / "responses" / "rosstat"
    software = parse_workbook(
        "rosstat", FILE, (responses / "unionstat-reference-compiled-from-paper-software.xlsx").read_bytes(), None
    )
    rnd = parse_workbook(
        "rosstat", FILE, (responses / "unionstat-reference-compiled-from-paper-rnd.xlsx").read_bytes(), None
    )
    assert software[["indicator_code", "period", "base_period", "value"]].values.tolist() == [
        ["software_development_index", "2024-01/2024-08", "2023-01/2023-08", 132.7]
    ]
    assert rnd[["indicator_code", "period", "base_period", "value"]].values.tolist() == [
        ["rnd_index", "2024", "2023", 107.3]
    ]


def test_reference_workbooks_are_byte_stable(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_ref", REFERENCE_DIR / "tools" / "make_rosstat_reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, workbook in module.WORKBOOKS.items():
        assert module.workbook_bytes(workbook) == (REFERENCE_DIR / "responses" / "rosstat" / name).read_bytes()


@pytest.mark.network
def test_live_rosstat_section_pages_link_a_readable_workbook(tmp_path: Path) -> None:
    """Live (needs UNIONSTAT_CA_BUNDLE with the Russian root CA): each section page links a workbook we can read."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    connector = scrapers.connector("rosstat", settings)
    http = HttpClient(settings)
    try:
        for dataset in connector.config.datasets:
            captures = connector.fetch(http, dataset, {})
            assert len(captures) >= 2
            meta = SnapshotMeta("0" * 64, "rosstat", dataset, captures[1].fetched.url, None, None)
            assert dataset in set(connector.parse(captures[1].fetched.body, meta)["indicator_code"])
    finally:
        http.close()
