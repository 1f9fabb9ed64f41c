"""Belstat connector: real Belstat workbooks read cell by cell, the house layout and web tables built in code, and
every guard."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml

import scrapers
from scrapers.base import Previous, SnapshotMeta
from scrapers.belstat import (
    Belstat,
    NotConfigured,
    decode_text,
    parse_value,
    period_of,
    release_date_of,
    split_mark,
    values_request,
    year_spans,
)
from tests.builders import belstat_html, belstat_sheet, belstat_xlsx, live_settings, written
from tests.conftest import REFERENCE_DIR, Routes
from unionstat import imports, load, warehouse
from unionstat.errors import NotRecorded, ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

TRADE = "russia_share_foreign_trade_turnover"
EXPORTS = "russia_share_exports"
INVESTMENT = "russia_share_foreign_investment"
WAGES = "average_wages_by_activity"
REAL_FILES = REFERENCE_DIR / "files" / "belstat"
DECEMBER_2024 = REAL_FILES / "nach_sr_zarplata-2412.xlsx"
JANUARY_2025 = REAL_FILES / "nach_sr_zarplata-2501.xlsx"
NOMINAL_2412 = "Номинальная начисленная среднемесячная заработная плата, рублей"
REAL_2412 = "Реальная заработная плата, в процентах к соответствующему периоду предыдущего года"
CIS = ("СНГ", 1, [60.5, 61.5])


@pytest.fixture
def belstat(warehouse_env: Settings) -> Belstat:
    connector = scrapers.connector("belstat", warehouse_env)
    assert isinstance(connector, Belstat)
    return connector


def meta(connector: Belstat, dataset: str, url: str | None = None, release: date | None = None) -> SnapshotMeta:
    return SnapshotMeta("0" * 64, "belstat", dataset, url or connector.url(dataset), None, release)


def cell(frame: pd.DataFrame, ref: str, sheet: str = "Лист1") -> dict[str, Any]:
    rows = frame[(frame["cell_ref"] == ref) & (frame["sheet_name"] == sheet)]
    assert len(rows) == 1, f"{sheet}!{ref}: {len(rows)} rows"
    return dict(rows.iloc[0])


def numeric_cells_by_openpyxl(path: Path) -> int:
    """An independent count: cells below the header (row 8 on) right of the labels (column C on) holding a number."""
    sheet = openpyxl.load_workbook(path, data_only=True).worksheets[0]
    return sum(
        1
        for row in sheet.iter_rows(min_row=8, min_col=3)
        for item in row
        if isinstance(item.value, int | float) and not isinstance(item.value, bool)
    )


# -- the real files (warehouse/reference/files/belstat: Belstat's bytes, read by eye) -----------------------
def test_december_2024_wages_cell_by_cell(belstat: Belstat) -> None:
    frame = belstat.parse(DECEMBER_2024.read_bytes(), meta(belstat, WAGES, release=date(2025, 2, 1)))

    assert frame["value"].notna().sum() == numeric_cells_by_openpyxl(DECEMBER_2024) == 360
    december = cell(frame, "C8")
    assert (december["row_label"], december["value"], december["period"], december["unit"]) == (
        "Всего",
        2693.9,
        "2024-12",
        "рублей",
    )
    assert december["column_header"] == f"{NOMINAL_2412} | декабрь | 2024 г."
    assert december["period_text"] == "декабрь 2024 г."
    assert (december["row_index"], december["column_index"], december["release_date"]) == (8, 3, date(2025, 2, 1))
    year = cell(frame, "D8")
    assert (year["value"], year["period"], year["period_text"]) == (
        2271.9,
        "2024-01/2024-12",
        "январь – декабрь 2024 г.",
    )
    real = cell(frame, "E8")
    assert (real["value"], real["period"], real["unit"]) == (112.6, "2024-12", REAL_2412.split(", ")[1])
    assert real["column_header"] == f"{REAL_2412} | декабрь | 2024 г."
    assert (cell(frame, "F8")["value"], cell(frame, "F8")["period"]) == (113.0, "2024-01/2024-12")
    # A label written over three lines reads as one; the last row of the sheet is loaded too.
    assert cell(frame, "C10")["row_label"] == (
        "растениеводство и животноводство, охота и предоставление услуг в этих областях"
    )
    assert (cell(frame, "F97")["row_label"], cell(frame, "F97")["value"]) == (
        "предоставление услуг парикмахерскими и салонами красоты",
        113.8,
    )
    assert december["table_title"] == (
        "Номинальная начисленная и реальная заработная плата работников Республики Беларусь "
        "по видам экономической деятельности"
    )
    assert set(frame["file_format"]) == {"xlsx"}
    assert frame["notes"].isna().all()


def test_january_2025_bilingual_wages_cell_by_cell(belstat: Belstat) -> None:
    frame = belstat.parse(JANUARY_2025.read_bytes(), meta(belstat, WAGES))

    assert frame["value"].notna().sum() == numeric_cells_by_openpyxl(JANUARY_2025) == 182
    total = cell(frame, "C8")
    assert (total["row_label"], total["value"], total["period"], total["unit"]) == (
        "Всего / Total",
        2427.4,
        "2025-01",
        "рублей",
    )
    assert total["period_text"] == "Январь / January 2025 г."
    assert total["column_header"].endswith(
        "рублей / Nominal gross average monthly earnings, BYN | Январь / January | 2025 г."
    )
    real = cell(frame, "D8")
    assert (real["value"], real["period"], real["unit"]) == (
        113.5,
        "2025-01",
        "в процентах к соответствующему периоду предыдущего года",
    )
    assert cell(frame, "C16")["row_label"] == "Промышленность / industry"
    assert "Nominal gross and real earnings in the Republic of Belarus" in total["table_title"]


def test_importing_the_real_files_loads_every_numeric_cell(
    belstat: Belstat, warehouse_env: Settings, tmp_path: Path
) -> None:
    store = SnapshotStore(warehouse_env.snapshot_dir)
    con = warehouse.connect(tmp_path / "import.duckdb")
    try:
        connectors = scrapers.all_connectors(warehouse_env)
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        for path in (DECEMBER_2024, JANUARY_2025):
            result = imports.import_file(con, store, connectors, path, "t")
            assert (result.source, result.dataset, result.new) == ("belstat", WAGES, True)
        loaded = load.load_pending(con, store, [belstat], "t")
        assert loaded.errors == {}
        counts = con.execute(
            "select s.request_url, count(c.value) from raw.belstat_cells c "
            "join raw.snapshots s on s.sha256 = c.snapshot_sha256 group by 1 order by 1"
        ).fetchall()
        assert [(url.rsplit("/", 1)[-1], n) for url, n in counts] == [
            ("nach_sr_zarplata-2412.xlsx", numeric_cells_by_openpyxl(DECEMBER_2024)),
            ("nach_sr_zarplata-2501.xlsx", numeric_cells_by_openpyxl(JANUARY_2025)),
        ]
        totals = con.execute(
            "select period, value, unit from raw.belstat_cells where row_label like 'Всего%' and unit = 'рублей' "
            "order by period"
        ).fetchall()
        assert totals == [
            ("2024-01/2024-12", 2271.9, "рублей"),
            ("2024-12", 2693.9, "рублей"),
            ("2025-01", 2427.4, "рублей"),
        ]
    finally:
        con.close()


# -- the house layout (synthetic tables built in code) --------------------------------------------------
def test_house_layout_every_data_cell_with_its_label_and_header_path(belstat: Belstat) -> None:
    body = belstat_xlsx([("Всего", 0, [100.0, 100.0]), CIS, ("Россия", 2, [11.25, 12.5])])

    frame = belstat.parse(body, meta(belstat, TRADE, release=date(2025, 3, 1)))

    assert len(frame) == 6
    russia = frame[frame["row_label"] == "Россия"]
    assert russia["cell_ref"].tolist() == ["C10", "D10"]
    assert russia["period"].tolist() == ["2020", "2021"]
    assert russia["value"].tolist() == [11.25, 12.5]
    # The three merged header rows, one path per column; CR/LF and NBSP gone.
    assert russia["column_header"].tolist() == [
        "Внешнеторговый оборот | в процентах к итогу | 2020 г.",
        "Внешнеторговый оборот | в процентах к итогу | 2021 г.",
    ]
    assert set(frame["unit"]) == {"в процентах к итогу"}
    assert frame["table_title"].iloc[0] == (
        "Удельный вес стран во внешней торговле Республики Беларусь (synthetic test table)"
    )
    assert frame["release_date"].iloc[0] == date(2025, 3, 1)


def test_labels_with_crlf_nbsp_and_footnote_marks(belstat: Belstat) -> None:
    body = belstat_xlsx(
        [("Всего", 0, [100.0, 100.0]), ("\u00a0Россия\r\n1)", 1, [3.5, 4.5])], notes=("1) Synthetic footnote.",)
    )

    frame = belstat.parse(body, meta(belstat, TRADE))

    russia = frame[frame["row_label"] == "Россия"]
    assert russia["value"].tolist() == [3.5, 4.5]
    assert russia["notes"].tolist() == ["1", "1"]
    assert frame["table_notes"].unique().tolist() == ["1) Synthetic footnote."]


def test_numbers_stored_as_text_with_nbsp_thousands_and_decimal_comma(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, ["1\u00a0991,2", "7,25"])])

    frame = belstat.parse(body, meta(belstat, TRADE))

    assert frame["value"].tolist() == [1991.2, 7.25]
    assert frame["value_text"].tolist() == ["1\u00a0991,2", "7,25"]


def test_symbols_and_other_text_are_kept_with_a_null_value_and_empty_cells_are_no_rows(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, ["…", "-"]), ("Казахстан", 0, ["x", None]), ("Китай", 0, [1.0, 2.0])])

    frame = belstat.parse(body, meta(belstat, TRADE))

    assert frame[["cell_ref", "value_text"]].values.tolist() == [
        ["C8", "…"],
        ["D8", "-"],
        ["C9", "x"],
        ["C10", "1.0"],
        ["D10", "2.0"],
    ]
    assert frame["value"].isna().tolist() == [True, True, True, False, False]


def test_bilingual_period_in_the_title_only_and_a_code_column() -> None:
    cells = {
        "B1": "Численность работников Республики Беларусь за январь 2024 г. / Republic of Belarus, January 2024",
        "B3": "Вид деятельности / Activity",
        "C3": "Код",
        "D3": "тыс. человек",
        "B4": "Всего / Total",
        "C4": "A-U",
        "D4": "3\u00a0991,2",
        "B5": "Промышленность / Industry",
        "C5": "B-E",
        "D5": "1 011,7",
    }
    body = belstat_sheet(cells, sheets={"Примечания": {"A1": "Обновлено (synthetic)", "B1": 2024}})
    connector = scrapers.connector("belstat", Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": "/nonexistent"}))

    frame = connector.parse(body, SnapshotMeta("0" * 64, "belstat", WAGES, "file:///t.xlsx", None, None))

    assert frame[["row_label", "row_code", "cell_ref", "value"]].values.tolist() == [
        ["Всего / Total", "A-U", "D4", 3991.2],
        ["Промышленность / Industry", "B-E", "D5", 1011.7],
    ]
    assert set(frame["period"]) == {"2024-01"}
    assert set(frame["period_text"]) == {"январь 2024 г."}
    assert set(frame["unit"]) == {"тыс. человек"}
    assert set(frame["sheet_name"]) == {"Лист1"}  # the notes sheet holds only a year: no table to load


@pytest.mark.parametrize(
    ("header", "title", "expected"),
    [
        (["декабрь", "2024 г."], None, ("2024-12", "декабрь 2024 г.")),
        (["январь\u00a0– \nдекабрь", "2024 г."], None, ("2024-01/2024-12", "январь – декабрь 2024 г.")),
        (["Январь / January", "2025 г."], None, ("2025-01", "Январь / January 2025 г.")),
        (["Январь-август", "2024"], None, ("2024-01/2024-08", "Январь-август 2024")),
        (["в процентах к итогу", "2021 г."], "за 2020 г.", ("2021", "2021 г.")),
        (["в процентах"], "Численность за январь 2024 г.", ("2024-01", "январь 2024 г.")),
        (["в процентах к итогу", "год не указан"], "2024", (None, "год не указан")),
        (["рублей"], "Заработная плата", (None, None)),
    ],
)
def test_period_from_the_header_else_the_title(
    header: list[str], title: str | None, expected: tuple[str | None, str | None]
) -> None:
    from scrapers.workbook import clean_text

    assert period_of([clean_text(h) or "" for h in header], title) == expected


def test_value_and_footnote_helpers() -> None:
    assert parse_value("1\u00a0991,2") == (1991.2, "1\u00a0991,2")
    assert parse_value(2693.9) == (2693.9, "2693.9")
    assert parse_value("…") == (None, "…")
    assert parse_value("12,5 1)") == (12.5, "12,5 1)")
    assert split_mark("2024 г.1,2)") == ("2024 г.", ["1", "2"])
    assert split_mark("Всего*") == ("Всего", ["*"])
    assert split_mark("1)") == ("1)", [])
    assert release_date_of("Tue, 01 Oct 2024 00:00:00 GMT") == date(2024, 10, 1)
    assert release_date_of(None) is None
    assert release_date_of("not a date") is None


# -- website tables ------------------------------------------------------------------------------------
def test_html_table_with_spaces_and_nbsp_thousands_and_decimal_comma(belstat: Belstat) -> None:
    body = belstat_html([("Всего", ["100,0", "100,0"]), ("Россия", ["12 345,6", "1\u00a0234,56"])])

    frame = belstat.parse(body, meta(belstat, TRADE, url="https://example.test/table.html"))

    russia = frame[frame["row_label"] == "Россия"]
    assert russia["value"].tolist() == [12345.6, 1234.56]
    assert russia["period"].tolist() == ["2020", "2021"]
    assert russia["cell_ref"].tolist() == ["B5", "C5"]
    assert set(frame["sheet_name"]) == {"table 2"}  # table 1 is the page's menu: no number in it
    assert set(frame["file_format"]) == {"html"}
    assert set(frame["text_encoding"]) == {"utf-8"}
    assert frame["table_title"].iloc[0] == "Удельный вес стран во внешней торговле (в процентах к итогу)"
    assert frame["table_notes"].iloc[0] == "Примечание: synthetic."


def test_windows_1251_page_is_detected_even_when_the_page_claims_utf8(belstat: Belstat) -> None:
    body = belstat_html([("Россия", ["33,3", "44,4"])], encoding="windows-1251", declared_charset="utf-8")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")

    frame = belstat.parse(body, meta(belstat, TRADE, url="https://example.test/t.html"))

    assert frame["value"].tolist() == [33.3, 44.4]
    assert frame["row_label"].tolist() == ["Россия", "Россия"]
    assert set(frame["text_encoding"]) == {"windows-1251"}


def test_decode_text_prefers_utf8_and_strips_a_bom() -> None:
    assert decode_text("belstat", "x", "\ufeffРоссия".encode()) == ("Россия", "utf-8")
    assert decode_text("belstat", "x", "Россия".encode("windows-1251")) == ("Россия", "windows-1251")
    with pytest.raises(ParseError, match=r"text in UTF-8 or windows-1251; found undecodable byte 0x98"):
        decode_text("belstat", "x", b"\xc0\x98")
    with pytest.raises(ParseError, match=r"found NUL bytes \(UTF-16"):
        decode_text("belstat", "x", "<table>".encode("utf-16"))


# -- guards: a layout the loader cannot read, a file that is not what it should be -------------------------
def test_numbers_without_a_header_name_the_file_the_sheet_and_what_was_looked_for(belstat: Belstat) -> None:
    body = belstat_sheet({"B1": "Россия", "C1": 47.9, "D1": 49.0})

    with pytest.raises(
        ParseError,
        match=r"\[belstat\] file:///t\.xlsx: expected sheet 'Лист1': header rows \(column headings\) above the "
        r"first data row 1; found none",
    ):
        belstat.parse(body, meta(belstat, TRADE, url="file:///t.xlsx"))


def test_numbers_without_row_labels_name_the_sheet(belstat: Belstat) -> None:
    body = belstat_sheet({"C5": "2020 г.", "C6": 1.5, "C7": 2.5})

    with pytest.raises(
        ParseError, match=r"expected sheet 'Лист1': row labels \(text\) left of the numbers; found rows"
    ):
        belstat.parse(body, meta(belstat, TRADE, url="file:///t.xlsx"))


def test_a_table_with_a_header_and_zero_rows(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match=r"numbers beside a row label on a sheet or table \(\['Sheet'\]\)"):
        belstat.parse(belstat_xlsx([]), meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"found no number on any of them"):
        belstat.parse(belstat_html([]), meta(belstat, TRADE, url="https://example.test/t.html"))


def test_html_served_where_a_workbook_was_expected(belstat: Belstat) -> None:
    page = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>moved</body></html>"

    with pytest.raises(ParseError, match=r"a workbook\); found an HTML page \('404 Not Found'\)"):
        belstat.parse(page, meta(belstat, TRADE))


def test_a_truncated_xlsx_is_a_parse_error(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [1.0, 2.0])])

    with pytest.raises(ParseError, match=r"a readable XLSX \(zip\) file; found a damaged or truncated zip"):
        belstat.parse(body[: len(body) // 2], meta(belstat, TRADE))


def test_a_zip_that_is_not_a_workbook_is_a_parse_error(belstat: Belstat) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")

    with pytest.raises(ParseError, match=r"expected an XLSX workbook; found a zip without xl/workbook.xml"):
        belstat.parse(buffer.getvalue(), meta(belstat, TRADE))


def test_a_page_without_a_table(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match=r"expected an HTML <table>; found a page without tables \('Ошибка'\)"):
        belstat.parse(
            "<html><head><title>Ошибка</title></head><body>нет</body></html>".encode(),
            meta(belstat, TRADE, url="https://example.test/t.html"),
        )


def test_empty_and_unknown_bodies_are_refused(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match="found an empty body"):
        belstat.parse(b"", meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"an XLSX or XLS workbook or an HTML page; found bytes starting b'%PDF"):
        belstat.parse(b"%PDF-1.4 synthetic", meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"expected a readable XLS workbook"):
        belstat.parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 synthetic", meta(belstat, TRADE))


def test_a_registry_without_the_dataset_fails_loudly(belstat: Belstat) -> None:
    with pytest.raises(KeyError, match="belstat has no dataset 'nope'"):
        belstat.url("nope")


# -- fetch: bytes copied as sent, conditional requests, the base-URL override ------------------------
def test_fetch_copies_bytes_takes_last_modified_and_honours_304(
    monkeypatch: pytest.MonkeyPatch, warehouse_env: Settings, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    monkeypatch.setenv("UNIONSTAT_BELSTAT_BASE_URL", base)
    monkeypatch.setenv("UNIONSTAT_MODE", "live")
    monkeypatch.setenv("UNIONSTAT_MIN_REQUEST_INTERVAL_S", "0")
    settings = Settings.from_env()
    connector = scrapers.connector("belstat", settings)
    body = belstat_xlsx([("Россия", 0, [1.0, 2.0])])
    path = connector.config.options[f"{TRADE}.reference_path"]  # a stand-in of the reference serves it
    routes.add(path, body=body, headers={"Last-Modified": "Sat, 01 Mar 2025 10:00:00 GMT", "ETag": '"v1"'})
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, TRADE, {})
        assert len(captures) == 1
        assert captures[0].fetched.body == body
        assert captures[0].fetched.url == f"{base}{path}"
        assert captures[0].release_date == date(2025, 3, 1)

        routes.add(path, status=304)
        previous = {f"{base}{path}": Previous('"v1"', "Sat, 01 Mar 2025 10:00:00 GMT", frozenset())}
        assert connector.fetch(http, TRADE, previous) == []
        sent = routes.requests[-1][1]
        assert sent.get("If-None-Match") == '"v1"'
    finally:
        http.close()


def test_fetch_of_a_missing_file_names_the_url(
    monkeypatch: pytest.MonkeyPatch, warehouse_env: Settings, publisher_server: tuple[str, Routes]
) -> None:
    base, _ = publisher_server
    monkeypatch.setenv("UNIONSTAT_BELSTAT_BASE_URL", base)
    monkeypatch.setenv("UNIONSTAT_MODE", "live")
    monkeypatch.setenv("UNIONSTAT_MIN_REQUEST_INTERVAL_S", "0")
    settings = Settings.from_env()
    connector = scrapers.connector("belstat", settings)
    http = HttpClient(settings)
    try:
        with pytest.raises(SourceError, match=rf"\[belstat\] {base}/upload-belstat/.*trade\.xlsx: expected HTTP 200"):
            connector.fetch(http, TRADE, {})
    finally:
        http.close()


@pytest.mark.parametrize("dataset", [EXPORTS, "russia_share_imports"])
def test_a_dataset_without_indicator_or_page_is_not_configured_not_a_404(belstat: Belstat, dataset: str) -> None:
    """No public indicator code or landing page is known for exports and imports by country: the registry says so and
    the fetch reports 'not configured' (a kind of NotRecorded: the run lists it, the source goes on), without a
    request."""
    with pytest.raises(NotConfigured) as info:
        belstat.fetch(None, dataset, {})  # type: ignore[arg-type]  # no request may be made
    assert isinstance(info.value, NotRecorded)
    assert str(info.value).startswith(
        f"[belstat] sources.json belstat.api.not_configured.{dataset}: expected an OSIDS indicator (api.indicators) "
        "or a landing page to fetch; found not configured: no OSIDS indicator code"
    )
    assert belstat.config.api["indicators"] == {}  # no indicator code is pinned that public sources do not give


@pytest.mark.parametrize("dataset", [TRADE, INVESTMENT])
def test_a_file_compiled_from_the_paper_is_fetched_only_from_the_reference(tmp_path: Path, dataset: str) -> None:
    """Russia's shares: no public indicator or landing page is known; their reference_path is served by the
    reference snapshot (replay, or a stand-in at UNIONSTAT_BELSTAT_BASE_URL): against belstat.gov.by they are not
    configured."""
    live = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    http = HttpClient(live)
    try:
        with pytest.raises(NotConfigured, match=rf"belstat.api.not_configured.{dataset}: .*not configured: no public"):
            scrapers.connector("belstat", live).fetch(http, dataset, {})
    finally:
        http.close()
    replay = SimpleNamespace(live=False)
    assert scrapers.connector("belstat", live).fetchable_path(replay, dataset)  # type: ignore[attr-defined]
    assert "unionstat-reference-compiled-from-paper" in scrapers.connector("belstat", live).url(dataset)  # type: ignore[attr-defined]


# -- the data API (OSIDS): requests as public clients send them, SDMX-JSON answers (synthetic) ---------
QUERY = {
    "indicatorCode": "SYNTHETIC-1",  # a made-up code: no real indicator for the paper's shares is known
    "years": "2010-2024",
    "units": ["208"],
    "dimensionOrder": ["razrez_594", "razrez_593", "priznak_391"],
    "dimensionParams": {"razrez_593": ["111", "222"]},
    "simbolsAfterComma": 1,
}


def sdmx_json(observations: dict[str, list[Any]], series: bool = False) -> bytes:
    """A synthetic SDMX-JSON answer: two partner countries x three years (observations keyed by position)."""
    dims = [
        {
            "id": "razrez_593",
            "name": "Страна",
            "values": [{"id": "111", "name": "Россия"}, {"id": "222", "name": "Китай"}],
        },
        {"id": "TIME_PERIOD", "name": "Год", "values": [{"id": str(y), "name": f"{y} г."} for y in (2020, 2021, 2022)]},
    ]
    if series:
        by_series: dict[str, dict[str, Any]] = {}
        for key, value in observations.items():
            country, year = key.split(":")
            by_series.setdefault(country, {"observations": {}})["observations"][year] = value
        data_set: dict[str, Any] = {"series": by_series}
        structure = {"name": "synthetic", "dimensions": {"series": dims[:1], "observation": dims[1:]}}
    else:
        data_set = {"observations": observations}
        structure = {"name": "synthetic", "dimensions": {"observation": dims}}
    return json.dumps({"data": {"dataSets": [data_set], "structure": structure}}, ensure_ascii=False).encode()


def test_years_are_asked_ten_at_a_time_and_unused_classifications_as_empty_arrays() -> None:
    assert year_spans("2010-2024", 10) == [list(range(2010, 2020)), list(range(2020, 2025))]
    assert year_spans("2024", 10) == [[2024]]
    assert values_request(QUERY, [2020, 2021]) == {
        "indicatorCode": "SYNTHETIC-1",
        "valuesFilter": {
            "years": [2020, 2021],
            "periodicities": [],
            "units": ["208"],
            "dimensionOrder": ["razrez_594", "razrez_593", "priznak_391"],
            "dimensionParams": {"razrez_594": [], "razrez_593": ["111", "222"], "priznak_391": []},
            "simbolsAfterComma": 1,
        },
    }
    with pytest.raises(ValueError, match=r"dimensionParams \['priznak_1'\] are not in dimensionOrder"):
        values_request({**QUERY, "dimensionParams": {"priznak_1": ["1"]}}, [2020])


@pytest.mark.parametrize("series", [False, True], ids=["flat", "series"])
def test_an_sdmx_json_answer_becomes_cells_with_the_dimension_labels(belstat: Belstat, series: bool) -> None:
    body = sdmx_json({"0:0": [47.9], "0:1": [49.0], "1:1": [None], "1:2": ["12,5"]}, series=series)
    frame = belstat.parse(body, meta(belstat, TRADE, "https://portal.example/osids-public-api/indicator/x"))

    got = frame[["cell_ref", "row_label", "row_code", "period", "column_header", "value", "value_text"]]
    assert got.astype(object).where(got.notna(), None).values.tolist() == [
        ["0:0", "Россия", "razrez_593=111", "2020", "2020 г.", 47.9, "47.9"],
        ["0:1", "Россия", "razrez_593=111", "2021", "2021 г.", 49.0, "49.0"],
        ["1:1", "Китай", "razrez_593=222", "2021", "2021 г.", None, ""],
        ["1:2", "Китай", "razrez_593=222", "2022", "2022 г.", 12.5, "12,5"],
    ]
    assert set(frame["file_format"]) == {"sdmx-json"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            sdmx_json({}),
            r"expected observations for the requested indicator and years; found none: an empty answer "
            r"\(the known trap: a 'total' node in dimensionParams returns 0 rows",
        ),
        (b'{"dataList": []}', r"expected an SDMX-JSON answer \(dataSets, structure\); found keys \['dataList'\]"),
        (sdmx_json({"0:7": [1.0]}), r"expected a value 7 of dimension 'TIME_PERIOD'; found 3 values"),
        (sdmx_json({"0": [1.0]}), r"expected observation keys with 2 positions; found '0'"),
        (b"{not json", r"expected a JSON answer of the data API; found not JSON"),
    ],
    ids=["empty-total-trap", "plain-json", "position-out-of-range", "short-key", "not-json"],
)
def test_api_answers_that_cannot_be_read_fail_naming_the_request(belstat: Belstat, body: bytes, message: str) -> None:
    url = "https://portal.example/osids-public-api/indicator/indicatorValuesSearch?indicatorCode=X&years=2020-2022"
    with pytest.raises(ParseError, match=message) as info:
        belstat.parse(body, meta(belstat, TRADE, url))
    assert info.value.location == url


def _api_settings(tmp_path: Path, base: str) -> Settings:
    return live_settings(tmp_path, "belstat", base, api=f"{base}/osids-public-api")


def test_fetch_pages_through_the_years_and_stores_each_answer_as_sent(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    answer = sdmx_json({"0:0": [47.9]})
    bodies: list[dict[str, Any]] = []

    def values(req: Any) -> None:
        bodies.append(json.loads(req.rfile.read(int(req.headers["Content-Length"]))))
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(answer)))
        req.end_headers()
        req.wfile.write(answer)

    routes.post_handlers["/osids-public-api/indicator/indicatorValuesSearch"] = values
    settings = _api_settings(tmp_path, base)
    connector = scrapers.connector("belstat", settings)
    config = dataclasses.replace(connector.config, api={**connector.config.api, "indicators": {TRADE: QUERY}})
    http = HttpClient(settings)
    try:
        captures = Belstat(config, settings).fetch(http, TRADE, {})
    finally:
        http.close()

    assert [b["valuesFilter"]["years"] for b in bodies] == [list(range(2010, 2020)), list(range(2020, 2025))]
    assert all(b["valuesFilter"]["dimensionParams"]["razrez_594"] == [] for b in bodies)
    endpoint = f"{base}/osids-public-api/indicator/indicatorValuesSearch"
    assert [c.fetched.url for c in captures] == [
        f"{endpoint}?indicatorCode=SYNTHETIC-1&years=2010-2019",
        f"{endpoint}?indicatorCode=SYNTHETIC-1&years=2020-2024",
    ]
    assert [c.fetched.body for c in captures] == [answer, answer]  # stored byte for byte


def test_workbooks_are_found_on_the_landing_page_by_link_text_never_by_name(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    hashed = "/upload/iblock/3f1/0123456789abcdef0123456789abcdef.xlsx"
    page = (
        '<html><body><a href="/upload/iblock/aaa/ffffffffffffffffffffffffffffffff.xlsx">Численность населения</a>'
        f'<a href="{hashed}">Внешняя торговля товарами по странам</a><a href="/about.xlsx">not hashed</a></body></html>'
    ).encode()
    workbook = belstat_xlsx([("Россия", 1, [47.9, 49.0])])
    routes.add("/realny-sector-ekonomiki/vneshnyaya-torgovlya/", body=page, headers={"Content-Type": "text/html"})
    routes.add(hashed, body=workbook)
    settings = _api_settings(tmp_path, base)
    connector = scrapers.connector("belstat", settings)
    options = {
        **connector.config.options,
        f"{TRADE}.landing_page": "/realny-sector-ekonomiki/vneshnyaya-torgovlya/",  # synthetic: the real one is unknown
        f"{TRADE}.link_text": "внешн\\w* торговл",
    }
    belstat = Belstat(dataclasses.replace(connector.config, options=options), settings)
    http = HttpClient(settings)
    try:
        captures = belstat.fetch(http, TRADE, {})
        routes.add("/realny-sector-ekonomiki/vneshnyaya-torgovlya/", body=page.replace("торговля".encode(), b"x"))
        with pytest.raises(
            SourceError, match=r"vneshnyaya-torgovlya/: expected a link under /upload/iblock/ whose text"
        ):
            belstat.fetch(http, TRADE, {})
    finally:
        http.close()
    assert [(c.dataset, c.fetched.url, c.fetched.body) for c in captures] == [(TRADE, f"{base}{hashed}", workbook)]


# -- the reference snapshot: only the paper's figures -------------------------------------------------
def test_reference_recordings_hold_the_papers_figures(belstat: Belstat) -> None:
    responses = REFERENCE_DIR / "responses" / "belstat"
    trade = belstat.parse((responses / "russia-share-foreign-trade.xlsx").read_bytes(), meta(belstat, TRADE))
    investment = belstat.parse(
        (responses / "russia-share-foreign-investment.html").read_bytes(), meta(belstat, INVESTMENT)
    )

    assert trade[["row_label", "period", "value", "unit"]].values.tolist() == [
        ["Россия", "2020", 47.9, "в процентах к итогу"],
        ["Россия", "2021", 49.0, "в процентах к итогу"],
    ]
    assert "рассчитано как 49,0 − 1,1" in trade["table_notes"].iloc[0]
    assert investment[
        ["row_label", "period", "period_text", "value", "value_text", "text_encoding"]
    ].values.tolist() == [["Россия", None, "год не указан", 42.6, "42,6", "windows-1251"]]
    assert investment["column_header"].iloc[0] == "Иностранные инвестиции | в процентах к итогу | год не указан"


def test_reference_files_are_what_the_generator_makes() -> None:
    path = REFERENCE_DIR / "tools" / "make_belstat_reference.py"
    spec = importlib.util.spec_from_file_location("make_belstat_reference", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    responses = REFERENCE_DIR / "responses" / "belstat"

    assert module.trade_xlsx() == (responses / "russia-share-foreign-trade.xlsx").read_bytes()
    assert module.investment_html() == (responses / "russia-share-foreign-investment.html").read_bytes()


# -- the registry's selections: which cells are the paper's indicators -------------------------------------
SELECTED = """
select s.indicator_code, c.row_label
from cells c
join selections s
  on (s.title_pattern is null or regexp_matches(c.table_title, s.title_pattern))
 and (s.row_label_pattern is null or regexp_matches(c.row_label, s.row_label_pattern))
 and (s.column_header_pattern is null or regexp_matches(c.column_header, s.column_header_pattern))
order by 1, 2
"""


def test_selections_match_every_spelling_of_russia_and_of_the_total(belstat: Belstat) -> None:
    """The registry's patterns as stg_belstat__observations applies them (DuckDB's regexp_matches)."""
    labels = [
        "Россия",
        "Российская Федерация",
        "Россия / Russia",
        "Российская Федерация / Russian Federation",
        "Беларусь и Россия",
        "Россия1)",  # the mark is split off before matching: see test_labels_with_crlf_nbsp_and_footnote_marks
    ]
    rows = [(label, 0, [1.0, 2.0]) for label in labels]
    trade = belstat.parse(belstat_xlsx(rows, group="Экспорт"), meta(belstat, TRADE))
    wages = pd.concat(
        [
            belstat.parse(DECEMBER_2024.read_bytes(), meta(belstat, WAGES)),
            belstat.parse(JANUARY_2025.read_bytes(), meta(belstat, WAGES)),
        ]
    )
    cells = pd.concat([trade, wages])
    selections = pd.DataFrame(
        [
            {
                "indicator_code": item["indicator_code"],
                "title_pattern": item.get("title"),
                "row_label_pattern": item.get("row_label"),
                "column_header_pattern": item.get("column_header"),
            }
            for item in belstat.config.selections
        ]
    )
    con = duckdb.connect()
    try:
        con.register("cells", cells)
        con.register("selections", selections)
        chosen = con.execute(SELECTED).fetchall()
    finally:
        con.close()

    exports = sorted({label for code, label in chosen if code == EXPORTS})
    assert exports == sorted(
        ["Россия", "Российская Федерация", "Россия / Russia", "Российская Федерация / Russian Federation"]
    )
    assert len([1 for code, _ in chosen if code == EXPORTS]) == 2 * 5  # two years each; 'Россия1)' is 'Россия' + note 1
    assert {code for code, _ in chosen} == {EXPORTS, "average_monthly_wage_nominal", "real_wage_index"}
    assert sorted(label for code, label in chosen if code == "average_monthly_wage_nominal") == [
        "Всего",
        "Всего",
        "Всего / Total",
    ]
    assert len([1 for code, _ in chosen if code == "real_wage_index"]) == 3


# -- import: files downloaded by hand ------------------------------------------------------------
def test_real_and_built_belstat_files_are_recognised(belstat: Belstat, tmp_path: Path) -> None:
    real = belstat.recognise_import(DECEMBER_2024)
    assert real is not None
    assert (real.dataset, real.release_date) == (WAGES, None)
    built = belstat_xlsx([("Россия", 0, [8.0, 9.0])], group="Импорт")
    other = belstat.recognise_import(written(tmp_path / "vneshn_torg.xlsx", built))
    assert other is not None
    assert other.dataset == "vneshn_torg"


def test_files_of_other_publishers_are_not_recognised(belstat: Belstat, tmp_path: Path) -> None:
    assert belstat.recognise_import(written(tmp_path / "notes.csv", b"a,b\n1,2\n")) is None
    assert belstat.recognise_import(written(tmp_path / "broken.xlsx", b"PK\x03\x04 truncated")) is None
    rosstat = REFERENCE_DIR / "files" / "rosstat" / "VDS_god_OKVED2.xlsx"
    assert belstat.recognise_import(rosstat) is None
    # A Rosstat-like workbook that names Belarus in a label still opens on a contents sheet.
    contents = belstat_sheet(
        {"B1": "Республика Беларусь (synthetic)", "C3": "2024 г.", "B4": "Всего", "C4": 1.0},
        sheets={"Содержание": {"A1": "Содержание (synthetic)"}},
    )
    assert belstat.recognise_import(written(tmp_path / "rosstat.xlsx", contents)) is None
    untitled = belstat_sheet({"B1": "Численность (synthetic)", "C3": "2024 г.", "B4": "Всего", "C4": 1.0})
    assert belstat.recognise_import(written(tmp_path / "untitled.xlsx", untitled)) is None


# -- live -----------------------------------------------------------------------------------------
@pytest.mark.network
@pytest.mark.parametrize("dataset", [TRADE, EXPORTS, "russia_share_imports", INVESTMENT, WAGES])
def test_live_belstat_file_parses(dataset: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNIONSTAT_WAREHOUSE_DIR", str(tmp_path))
    settings = Settings.from_env().with_mode("live")
    connector = scrapers.connector("belstat", settings)
    assert isinstance(connector, Belstat)
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, dataset, {})
    except NotConfigured as exc:  # sources.json says why (no public indicator code or landing page)
        pytest.skip(str(exc))
    finally:
        http.close()
    frame = connector.parse(captures[0].fetched.body, meta(connector, dataset))
    assert frame["value"].notna().sum() >= 1


def test_the_dbt_unit_test_of_the_selections_uses_the_registrys_patterns(belstat: Belstat) -> None:
    path = Path(scrapers.__file__).parents[1] / "dbt_project/models/staging/belstat/stg_belstat__observations.yml"
    unit_test = yaml.safe_load(path.read_text(encoding="utf-8"))["unit_tests"][0]
    rows = next(g["rows"] for g in unit_test["given"] if g["input"] == "ref('stg_unionstat__selections')")
    registry = {item["indicator_code"]: item for item in belstat.config.selections}
    copied = [row for row in rows if row["publisher"] == "belstat"]

    assert len(copied) == 5
    for row in copied:
        item = registry[row["indicator_code"]]
        assert (row["title_pattern"], row["row_label_pattern"], row["column_header_pattern"]) == (
            item.get("title"),
            item.get("row_label"),
            item.get("column_header"),
        )
