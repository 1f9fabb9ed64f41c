"""Belstat connector: the XLSX house layout, website tables, and every guard, on inputs built in code."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

import scrapers
from scrapers.base import Previous, SnapshotMeta
from scrapers.belstat import Belstat, classify_investment, clean_label, decode_text, release_date_of
from tests.builders import belstat_html, belstat_xlsx
from tests.conftest import REFERENCE_DIR, Routes
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings

TRADE = "russia_share_foreign_trade_turnover"
EXPORTS = "russia_share_exports"
INVESTMENT = "russia_share_foreign_investment"
TOTAL = ("Всего", 0, [100.0, 100.0])
CIS = ("СНГ", 1, [60.5, 61.5])


@pytest.fixture
def belstat(warehouse_env: Settings) -> Belstat:
    connector = scrapers.connector("belstat", warehouse_env)
    assert isinstance(connector, Belstat)
    return connector


def meta(connector: Belstat, dataset: str, url: str | None = None, release: date | None = None) -> SnapshotMeta:
    return SnapshotMeta("0" * 64, "belstat", dataset, url or connector.url(dataset), None, release)


# -- the XLSX house layout ---------------------------------------------------------------------
def test_xlsx_house_layout_merged_header_and_indented_hierarchy(belstat: Belstat) -> None:
    body = belstat_xlsx([TOTAL, CIS, ("Россия", 2, [11.25, 12.5]), ("Казахстан", 2, [1.0, 2.0])])

    frame = belstat.parse(body, meta(belstat, TRADE, release=date(2025, 3, 1)))

    assert len(frame) == 2
    assert frame["period"].tolist() == ["2020", "2021"]
    assert frame["value"].tolist() == [11.25, 12.5]
    assert frame["cell_ref"].tolist() == ["Sheet!C10", "Sheet!D10"]
    # The three merged header rows, flattened to one path per column; CR/LF and NBSP gone.
    assert frame["column_label"].tolist() == [
        "Внешнеторговый оборот | в процентах к итогу | 2020 г.",
        "Внешнеторговый оборот | в процентах к итогу | 2021 г.",
    ]
    row = frame.iloc[0]
    assert (row["reporter_iso3"], row["partner_iso3"], row["unit"], row["file_format"]) == (
        "BLR",
        "RUS",
        "percent",
        "xlsx",
    )
    assert row["table_title"] == "Удельный вес стран во внешней торговле Республики Беларусь (synthetic test table)"
    assert row["release_date"] == date(2025, 3, 1)
    assert row["investment_scope"] is None


def test_xlsx_labels_with_crlf_nbsp_and_footnote_marks_still_match(belstat: Belstat) -> None:
    body = belstat_xlsx([TOTAL, ("\u00a0Россия\r\n1)", 1, [3.5, 4.5])], notes=("1) Synthetic footnote.",))

    frame = belstat.parse(body, meta(belstat, TRADE))

    assert frame["row_label"].tolist() == ["Россия", "Россия"]
    assert frame["value"].tolist() == [3.5, 4.5]
    assert frame["table_notes"].tolist() == ["1) Synthetic footnote."] * 2


def test_xlsx_numbers_stored_as_text_with_nbsp_thousands_and_decimal_comma(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, ["1\u00a0234,5", "7,25"])])

    frame = belstat.parse(body, meta(belstat, TRADE))

    assert frame["value"].tolist() == [1234.5, 7.25]
    assert frame["value_text"].tolist() == ["1\u00a0234,5", "7,25"]


def test_xlsx_belstat_symbols_become_null_values_with_the_symbol_kept(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, ["…", "-"])])

    frame = belstat.parse(body, meta(belstat, TRADE))

    assert frame["value"].isna().all()
    assert frame["value_symbol"].tolist() == ["...", "-"]


# -- website tables --------------------------------------------------------------------------
def test_html_table_with_spaces_and_nbsp_thousands_and_decimal_comma(belstat: Belstat) -> None:
    body = belstat_html([("Всего", ["100,0", "100,0"]), ("Россия", ["12 345,6", "1\u00a0234,56"])])

    frame = belstat.parse(body, meta(belstat, TRADE, url="https://example.test/table.html"))

    assert frame["value"].tolist() == [12345.6, 1234.56]
    assert frame["period"].tolist() == ["2020", "2021"]
    assert frame["file_format"].tolist() == ["html", "html"]
    assert frame["text_encoding"].tolist() == ["utf-8", "utf-8"]
    assert frame["cell_ref"].tolist() == ["table r5c2", "table r5c3"]
    assert frame["table_title"].iloc[0] == "Удельный вес стран во внешней торговле (в процентах к итогу)"
    assert frame["table_notes"].iloc[0] == "Примечание: synthetic."


def test_windows_1251_page_is_detected_even_when_the_page_claims_utf8(belstat: Belstat) -> None:
    body = belstat_html([("Россия", ["33,3", "44,4"])], encoding="windows-1251", declared_charset="utf-8")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")

    frame = belstat.parse(body, meta(belstat, TRADE, url="https://example.test/t.html"))

    assert frame["value"].tolist() == [33.3, 44.4]
    assert frame["row_label"].tolist() == ["Россия", "Россия"]
    assert frame["text_encoding"].tolist() == ["windows-1251", "windows-1251"]


def test_decode_text_prefers_utf8_and_strips_a_bom() -> None:
    assert decode_text("belstat", "x", "\ufeffРоссия".encode()) == ("Россия", "utf-8")
    assert decode_text("belstat", "x", "Россия".encode("windows-1251")) == ("Россия", "windows-1251")
    with pytest.raises(ParseError, match=r"text in UTF-8 or windows-1251; found undecodable byte 0x98"):
        decode_text("belstat", "x", b"\xc0\x98")


def test_investment_share_without_a_year_or_definition(belstat: Belstat) -> None:
    body = belstat_html(
        [("Россия", ["55,5"])],
        years=("год не указан",),
        group="Иностранные инвестиции",
        caption="Удельный вес стран в иностранных инвестициях (в процентах к итогу)",
    )

    frame = belstat.parse(body, meta(belstat, INVESTMENT, url="https://example.test/i.html"))

    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["period"] is None
    assert row["value"] == 55.5
    assert (row["investment_scope"], row["investment_measure"]) == ("not stated", "not stated")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Поступление иностранных инвестиций в реальный сектор экономики по странам", ("all", "flow")),
        ("Прямые иностранные инвестиции на чистой основе", ("direct", "flow")),
        ("Поступление прямых иностранных инвестиций", ("direct", "flow")),
        ("Накопленные прямые иностранные инвестиции на конец года", ("direct", "stock")),
        ("Удельный вес стран в иностранных инвестициях", ("not stated", "not stated")),
    ],
)
def test_investment_definition_is_read_from_the_title(title: str, expected: tuple[str, str]) -> None:
    assert classify_investment(title) == expected


def test_clean_label_and_release_date_helpers() -> None:
    assert clean_label("Внешнеторговый\r\nоборот\u00a0товаров 2)") == "Внешнеторговый оборот товаров"
    assert release_date_of("Tue, 01 Oct 2024 00:00:00 GMT") == date(2024, 10, 1)
    assert release_date_of(None) is None
    assert release_date_of("not a date") is None


# -- guards: the layout changed or the file is not what it should be ------------------------------
def test_missing_expected_row_label_names_the_labels_found(belstat: Belstat) -> None:
    body = belstat_xlsx([TOTAL, ("Российская Федерация", 1, [1.0, 2.0])])

    with pytest.raises(ParseError, match=r"exactly one row labelled 'Россия' \(layout changed\?\); found 0 among"):
        belstat.parse(body, meta(belstat, TRADE))


def test_missing_expected_column_group_names_the_groups_found(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [1.0, 2.0])], group="Экспорт")

    with pytest.raises(ParseError, match=r"column group headed 'Внешнеторговый оборот'.*found column groups.*Экспорт"):
        belstat.parse(body, meta(belstat, TRADE))


def test_exports_dataset_reads_its_own_column_group(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [5.0, 6.0])], group="Экспорт")

    frame = belstat.parse(body, meta(belstat, EXPORTS))

    assert frame["dataset"].tolist() == [EXPORTS, EXPORTS]
    assert frame["value"].tolist() == [5.0, 6.0]


def test_a_table_not_in_percent_is_refused(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [1.0, 2.0])], unit="млн долларов США", title="Внешняя торговля")

    with pytest.raises(ParseError, match=r"a share in percent under 'Внешнеторговый оборот \| млн долларов США"):
        belstat.parse(body, meta(belstat, TRADE))


def test_html_served_where_an_xlsx_was_expected(belstat: Belstat) -> None:
    page = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>moved</body></html>"

    with pytest.raises(ParseError, match=r"an XLSX workbook \(the URL names an \.xlsx file\); found an HTML page"):
        belstat.parse(page, meta(belstat, TRADE))


def test_a_truncated_xlsx_is_a_parse_error(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [1.0, 2.0])])

    with pytest.raises(ParseError, match=r"a readable XLSX \(zip\) file; found a damaged or truncated zip"):
        belstat.parse(body[: len(body) // 2], meta(belstat, TRADE))


def test_a_zip_that_is_not_a_workbook_is_a_parse_error(belstat: Belstat) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")

    with pytest.raises(ParseError, match=r"expected an XLSX workbook; found"):
        belstat.parse(buffer.getvalue(), meta(belstat, TRADE))


def test_a_table_with_a_header_and_zero_rows(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match=r"at least one labelled data row below the header; found zero rows"):
        belstat.parse(belstat_xlsx([]), meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"zero rows"):
        belstat.parse(belstat_html([]), meta(belstat, TRADE, url="https://example.test/t.html"))


def test_an_empty_cell_where_a_value_belongs(belstat: Belstat) -> None:
    body = belstat_xlsx([("Россия", 0, [1.0, None]), ("Казахстан", 0, [1.0, 2.0])])

    with pytest.raises(
        ParseError, match=r"a number or a Belstat symbol \(-, \.\.\., x\) in Sheet!D8; found an empty cell"
    ):
        belstat.parse(body, meta(belstat, TRADE))


def test_text_that_is_no_number_is_refused(belstat: Belstat) -> None:
    body = belstat_html([("Россия", ["12,5", "n/a"])])

    with pytest.raises(ParseError, match=r"in table r4c3; found 'n/a'"):
        belstat.parse(body, meta(belstat, TRADE, url="https://example.test/t.html"))


def test_a_page_without_a_data_table(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match=r"expected an HTML <table>; found a page without tables \('Ошибка'\)"):
        belstat.parse(
            "<html><head><title>Ошибка</title></head><body>нет</body></html>".encode(),
            meta(belstat, TRADE, url="https://example.test/t.html"),
        )


def test_empty_and_unknown_bodies_are_refused(belstat: Belstat) -> None:
    with pytest.raises(ParseError, match="found an empty body"):
        belstat.parse(b"", meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"an XLSX workbook \(zip\) or an HTML page; found bytes starting b'%PDF"):
        belstat.parse(b"%PDF-1.4 synthetic", meta(belstat, TRADE))
    with pytest.raises(ParseError, match=r"found a legacy \.xls \(OLE2\) workbook"):
        belstat.parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 synthetic", meta(belstat, TRADE))


def test_a_registry_without_the_dataset_facts_fails_loudly(belstat: Belstat) -> None:
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
    path = connector.config.options[f"{TRADE}.path"]
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
        with pytest.raises(SourceError, match=rf"\[belstat\] {base}/upload-belstat/.*exports\.xlsx: expected HTTP 200"):
            connector.fetch(http, EXPORTS, {})
    finally:
        http.close()


# -- the reference snapshot: only the paper's figures -------------------------------------------------
def test_reference_recordings_hold_the_papers_figures(belstat: Belstat) -> None:
    responses = REFERENCE_DIR / "responses" / "belstat"
    trade = belstat.parse((responses / "russia-share-foreign-trade.xlsx").read_bytes(), meta(belstat, TRADE))
    investment = belstat.parse(
        (responses / "russia-share-foreign-investment.html").read_bytes(), meta(belstat, INVESTMENT)
    )

    assert dict(zip(trade["period"], trade["value"], strict=True)) == {"2020": 47.9, "2021": 49.0}
    assert "рассчитано как 49,0 − 1,1" in trade["table_notes"].iloc[0]
    assert investment[
        ["period", "value", "investment_scope", "investment_measure", "text_encoding"]
    ].values.tolist() == [[None, 42.6, "not stated", "not stated", "windows-1251"]]


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


# -- live -----------------------------------------------------------------------------------------
@pytest.mark.network
@pytest.mark.parametrize("dataset", [TRADE, EXPORTS, "russia_share_imports", INVESTMENT])
def test_live_belstat_file_parses(dataset: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNIONSTAT_WAREHOUSE_DIR", str(tmp_path))
    settings = Settings.from_env().with_mode("live")
    connector = scrapers.connector("belstat", settings)
    assert isinstance(connector, Belstat)
    if "/unionstat-" in connector.target(dataset).path:
        pytest.fail("sources.json holds a compiled or placeholder path for this dataset: enter the real Belstat path")
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, dataset, {})
    finally:
        http.close()
    frame = connector.parse(captures[0].fetched.body, meta(connector, dataset))
    assert len(frame) >= 1
    assert frame["value"].between(0, 100).all()


# -- import: files downloaded by hand ------------------------------------------------------------
def test_a_downloaded_workbook_is_recognised_as_the_one_dataset_it_holds(belstat: Belstat, tmp_path: Path) -> None:
    body = belstat_xlsx([("Россия", 0, [8.0, 9.0])], group="Импорт")

    imported = belstat.recognise_import(tmp_path / "vneshn_torg.xlsx", body)

    assert imported is not None
    assert (imported.dataset, imported.release_date, imported.body) == ("russia_share_imports", None, body)


def test_files_that_are_no_belstat_table_are_not_recognised(belstat: Belstat, tmp_path: Path) -> None:
    assert belstat.recognise_import(tmp_path / "notes.csv", b"a,b\n1,2\n") is None
    assert belstat.recognise_import(tmp_path / "broken.xlsx", b"PK\x03\x04 truncated") is None
    other = belstat_xlsx([("Россия", 0, [1.0, 2.0])], group="Средняя заработная плата")
    assert belstat.recognise_import(tmp_path / "wages.xlsx", other) is None
