"""Rosstat connector: section-page discovery and workbooks loaded whole, cell by cell.

Real file: warehouse/reference/files/rosstat/VDS_god_OKVED2.xlsx (Rosstat's bytes; the cells below were read by
hand). Everything built in tests/builders.py or tests/scrapers/data/ is synthetic.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import scrapers
from scrapers.base import NotConfigured, SnapshotMeta
from scrapers.rosstat import Rosstat, _period, file_key, parse_section_page, parse_workbook
from scrapers.tls import PEM_BLOCK, fingerprint, pinned_bundle
from tests.builders import NoRequests, belstat_xlsx, rosstat_section_page, rosstat_workbook, written
from tests.conftest import REFERENCE_DIR, Routes
from unionstat import imports, load, warehouse
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

PAGE = "https://rosstat.example/statistics/science"
FILE = "https://rosstat.example/storage/mediabank/Ind_2025_07.xlsx"
REAL = REFERENCE_DIR / "files" / "rosstat" / "VDS_god_OKVED2.xlsx"
SYNTHETIC_XLS = Path(__file__).parent / "data" / "rosstat-synthetic.xls"
SOFTWARE = "Разработка компьютерного\r\nпрограммного обеспечения"
RND = "Научные исследования и\u00a0разработки 1)"


def _settings(tmp_path: Path, base_url: str = "https://rosstat.example", **extra: str) -> Settings:
    env = {"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "UNIONSTAT_MODE": "live"}
    env["UNIONSTAT_MIN_REQUEST_INTERVAL_S"] = "0"  # a local stand-in: no pacing needed
    env["UNIONSTAT_ROSSTAT_BASE_URL"] = base_url
    env.update(extra)
    return Settings.from_env(env)


def _fetch_error(settings: Settings) -> pytest.ExceptionInfo[SourceError]:
    """The SourceError Rosstat's fetch of rnd_index raises against these settings' stand-in."""
    http = HttpClient(settings)
    try:
        with pytest.raises(SourceError) as info:
            scrapers.connector("rosstat", settings).fetch(http, "rnd_index", {})
    finally:
        http.close()
    return info


def _workbook() -> bytes:
    return rosstat_workbook(
        [2023.0, "20242)", "январь-август 2025 г."],
        [
            ["J 62.01", SOFTWARE, 110.5, None, 132.7],
            ["M 72", RND, "101,2", "…", 99.0],
        ],
        footnotes=("1) synthetic footnote", "2) synthetic footnote"),
    )


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return parse_workbook("rosstat", "VDS_god_OKVED2.xlsx", REAL.read_bytes())


# -- the real file -------------------------------------------------------------------------------
def test_real_file_cells_read_by_hand(real: pd.DataFrame) -> None:
    """Sheet 4 (GVA volume index, previous year = 100): row 'M 72' and 'J (62-63)', columns '20232)'..'20252)'."""
    sheet4 = real[real["sheet_name"] == "4"]
    m72 = sheet4[sheet4["row_code"] == "M 72"].set_index("period")
    assert m72.loc["2024", "value"] == 102.69134511157387
    assert m72.loc["2023", "value"] == 108.67764820617857
    assert m72.loc["2025", "value"] == 105.459525294887
    assert m72.loc["2024", ["period_text", "notes", "cell_ref", "row_label"]].tolist() == [
        "20242)",
        "2",
        "P61",
        "Научные исследования и разработки",
    ]
    assert pd.isna(m72.loc["2021", "notes"])  # 2021.0 is stored as a number, without a footnote
    j = sheet4[sheet4["row_code"] == "J (62-63)"].set_index("period")
    assert j.loc["2024", "value"] == 117.55247137652276
    assert set(sheet4["unit"]) == {"в процентах к предыдущему году"}  # from the title's parentheses
    assert sheet4["table_title"].iloc[0].startswith("Индексы физического объема валовой добавленной стоимости")
    assert set(real["release_date"]) == {date(2026, 2, 6)}  # "Обновлено 06.02.2026г." on the contents sheet


def test_real_file_cell_addresses_agree_with_openpyxl(real: pd.DataFrame) -> None:
    book = load_workbook(REAL, read_only=True, data_only=True)
    try:
        sheet = book["4"]
        assert (sheet["B61"].value, sheet["P61"].value, sheet["P3"].value) == ("M 72", 102.69134511157387, "20242)")
    finally:
        book.close()
    row = real[(real["sheet_name"] == "4") & (real["cell_ref"] == "P61")].iloc[0]
    assert (row["row_index"], row["column_index"], row["value"]) == (61, 16, 102.69134511157387)


def test_every_number_of_the_real_file_is_loaded(real: pd.DataFrame) -> None:
    """An independent count: openpyxl's numeric cells of sheets 1-9 outside the header rows (row 3, the years)."""
    book = load_workbook(REAL, read_only=True, data_only=True)
    try:
        numbers = sum(
            1
            for name in map(str, range(1, 10))
            for r, row in enumerate(book[name].iter_rows(values_only=True), start=1)
            for value in row
            if r != 3 and isinstance(value, int | float) and not isinstance(value, bool)
        )
        assert book.sheetnames == ["Содержание", *map(str, range(1, 10))]
    finally:
        book.close()
    assert int(real["value"].notna().sum()) == numbers == 7417
    assert "Содержание" not in set(real["sheet_name"])  # the contents sheet is skipped
    assert "9" not in set(real["sheet_name"])  # text only (the publication schedule): no table
    assert real["period"].notna().all()


def test_real_file_sheet_with_two_header_rows_under_merged_years(real: pd.DataFrame) -> None:
    """Sheet 7: the years span four columns each (merged), the measures sit below; the code is in column A."""
    cell = real[(real["sheet_name"] == "7") & (real["cell_ref"] == "D6")].iloc[0]
    assert (cell["period"], cell["row_code"], cell["value"]) == ("2017", "Раздел A", 2.5)
    assert cell["column_header"].startswith(
        "2017 | в том числе: | Корректировка валовой добавленной стоимости на теневые"
    )


# -- the layout rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (2012.0, ("2012", None)),
        ("20222)", ("2022", "2")),
        ("20221", ("2022", "1")),
        ("20241,2", ("2024", "1,2")),
        ("2024 1)", ("2024", "1")),
        ("2024 г.", ("2024", None)),
        ("январь-август 2024 г.", ("2024-01/2024-08", None)),
        ("Январь-март 2024 г.\nв % к январю-марту 2023 г.", ("2024-01/2024-03", None)),
        ("май 2024 г.", ("2024-05", None)),
        ("март 2024", ("2024-03", None)),
        ("202412", None),  # not a year with one footnote digit
        ("Январь-август 2024 к 2023", None),
        ("2024 г., млн рублей", None),
        (105.3, None),
        (1850.0, None),
    ],
)
def test_period_headers_become_periods_and_footnote_marks(header: object, expected: object) -> None:
    assert _period(header) == expected


def test_workbook_cells_with_labels_codes_units_and_text_values() -> None:
    frame = parse_workbook("rosstat", FILE, _workbook())

    cells = {(r.row_code, r.period): r for r in frame.itertuples()}
    assert len(frame) == 5  # the empty cell is no row; the footnote paragraphs sit outside the value columns
    software = cells[("J 62.01", "2025-01/2025-08")]
    assert (software.row_label, software.value, software.cell_ref) == (
        "Разработка компьютерного программного обеспечения",
        132.7,
        "F4",
    )
    rnd = cells[("M 72", "2023")]
    assert (rnd.row_label, rnd.notes, rnd.value, rnd.value_text) == (
        "Научные исследования и разработки",
        "1",
        101.2,
        "101,2",
    )
    dots = cells[("M 72", "2024")]
    assert (pd.isna(dots.value), dots.value_text, dots.notes, dots.period_text) == (True, "…", "1,2", "20242)")
    assert set(frame["unit"]) == {"в % к соответствующему периоду предыдущего года"}
    assert set(frame["document_kind"]) == {"workbook"}
    assert frame["release_date"].isna().all()  # no update stamp: none is invented


@pytest.mark.parametrize(
    "stamp", ["Обновлено 06.02.2026г.", "Обновлено: 06.02.2026 г."], ids=["without-colon", "with-colon"]
)
def test_the_update_stamp_is_the_release_date(stamp: str) -> None:
    body = rosstat_workbook([2024.0], [["M 72", "Научные исследования и разработки", 102.7]], stamp=stamp)
    assert parse_workbook("rosstat", FILE, body)["release_date"].tolist() == [date(2026, 2, 6)]


def test_a_legacy_xls_workbook_loads_the_same_way() -> None:
    """tests/scrapers/data/rosstat-synthetic.xls: BIFF8 written by xlwt (synthetic values, see its script)."""
    frame = parse_workbook("rosstat", "rosstat-synthetic.xls", SYNTHETIC_XLS.read_bytes())

    got = frame[["cell_ref", "row_code", "period", "notes", "value", "value_text"]].astype(object)
    assert got.where(got.notna(), None).values.tolist() == [
        ["D4", "J 62.01", "2023", None, 110.5, "110.5"],
        ["E4", "J 62.01", "2024", "1,2", None, "…"],
        ["F4", "J 62.01", "2024-01/2024-08", None, 132.7, "132.7"],
        ["D5", "M 72", "2023", "3", 101.2, "101,2"],
        ["E5", "M 72", "2024", "3,1,2", 107.3, "107.3"],
    ]
    assert set(frame["release_date"]) == {date(2026, 2, 6)}  # "Обновлено: 06.02.2026 г."


# -- guards: what the loader could not read, named with the file and the sheet ---------------------
def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            rosstat_workbook(["Всего"], [["M 72", "Научные исследования и разработки", 1.0]]),
            r"Ind_2025_07\.xlsx: expected sheet '1': a header row with year or period columns .* found none",
        ),
        (
            rosstat_workbook(["Январь-август 2024 к 2023"], [["J 62.01", "Разработка ПО", 132.7]]),
            r"Ind_2025_07\.xlsx: expected sheet '1': a header row with year or period columns",
        ),
        (
            rosstat_workbook([2024.0], [["M 72", "Научные исследования и разработки", None]]),
            r"Ind_2025_07\.xlsx: expected a sheet with a table of values; found none among \['Содержание', '1'\]",
        ),
        (_docx(), r"expected an XLSX or XLS workbook.*found a zip that is not a workbook"),
        (b"<!DOCTYPE html><html><body>Error 404</body></html>", r"expected an XLSX or XLS workbook.*an HTML page"),
        (b"", r"expected an XLSX or XLS workbook.*an empty body"),
        (_workbook()[: len(_workbook()) // 2], r"expected an XLSX or XLS workbook"),
    ],
    ids=["no-period-header", "unreadable-period", "no-values", "docx", "html", "empty", "truncated"],
)
def test_unreadable_layouts_and_files_fail_naming_file_sheet_and_what_was_looked_for(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_workbook("rosstat", FILE, body)
    assert info.value.location == FILE


# -- section pages and the fetch ------------------------------------------------------------------
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


def test_discovery_prefers_workbooks_and_fails_loudly_when_no_link_matches(tmp_path: Path) -> None:
    connector = scrapers.connector("rosstat", _settings(tmp_path))
    page = rosstat_section_page(
        [
            ("/storage/mediabank/Nauka_2025.docx", "Научные исследования и разработки (DOCX)"),
            ("https://rosstat.example/storage/mediabank/Nauka_2025.xls", "Научные исследования и разработки"),
            ("/storage/mediabank/Trud.xlsx", "Рынок труда"),
        ]
    )
    assert connector.file_links(PAGE, page, "rnd_index") == ["https://rosstat.example/storage/mediabank/Nauka_2025.xls"]
    both = rosstat_section_page(
        [
            ("/storage/mediabank/Nauka_2025.xls", "Научные исследования (XLS)"),
            ("/storage/mediabank/Nauka_2025.xlsx", "Научные исследования (XLSX)"),
        ]
    )
    assert connector.file_links(PAGE, both, "rnd_index") == [
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
    assert connector.parse(workbook, meta)["value"].dropna().tolist() == [110.5, 132.7, 101.2, 99.0]


def test_the_software_index_page_is_not_configured_against_rosstat_itself(tmp_path: Path) -> None:
    """No public client was seen calling /statistics/infocommunity: live, without a stand-in at
    UNIONSTAT_ROSSTAT_BASE_URL, the dataset is not configured (the registry's reason, the import route), not
    requested; rnd_index's verified page is unaffected."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    connector = scrapers.connector("rosstat", settings)
    http = NoRequests()
    with pytest.raises(NotConfigured) as info:
        connector.fetch(http, "software_development_index", {})  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(
        "[rosstat] sources.json rosstat.options.software_development_index: expected a catalogue page that public "
        "clients call (reference_section_page.software_development_index is served only by the reference "
        "snapshot); found not configured: no public client was seen calling /statistics/infocommunity"
    )
    assert "132.7" in message and "`unionstat import FILE`" in message
    assert http.asked == []
    with pytest.raises(AssertionError, match=r"requested https://rosstat.gov.ru/statistics/science$"):
        connector.fetch(http, "rnd_index", {})  # type: ignore[arg-type]  # verified: requested


def test_the_software_index_is_replayed_from_the_reference_recordings(tmp_path: Path) -> None:
    """In a replay the reference-only page is served: the compiled page and the workbook it links, byte for byte."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "replay"})
    http = HttpClient(settings)
    try:
        captures = scrapers.connector("rosstat", settings).fetch(http, "software_development_index", {})
    finally:
        http.close()
    responses = REFERENCE_DIR / "responses" / "rosstat"
    assert [(c.fetched.url, c.fetched.body) for c in captures] == [
        ("https://rosstat.gov.ru/statistics/infocommunity", (responses / "section-infocommunity.html").read_bytes()),
        (
            "https://rosstat.gov.ru/storage/mediabank/unionstat-reference-compiled-from-paper-software.xlsx",
            (responses / "unionstat-reference-compiled-from-paper-software.xlsx").read_bytes(),
        ),
    ]


def test_a_file_served_as_html_fails_at_parse_naming_the_url(tmp_path: Path) -> None:
    connector = scrapers.connector("rosstat", _settings(tmp_path))
    meta = SnapshotMeta("0" * 64, "rosstat", "rnd_index", FILE, "text/html", None)
    with pytest.raises(ParseError, match=r"Ind_2025_07\.xlsx: expected an XLSX or XLS workbook .*found an HTML page"):
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


# -- catalogue pages: names drift, identity stays, bodies are checked, refusals say what to do ---------
ROOT_CA = Path(scrapers.__file__).parent / "certs" / "russian_trusted_root_ca.pem"
#: As `openssl x509 -in scrapers/certs/russian_trusted_root_ca.pem -noout -fingerprint -sha256` prints it.
ROOT_CA_SHA256 = "D2:6D:2D:02:31:B7:C3:9F:92:CC:73:85:12:BA:54:10:35:19:E4:40:5D:68:B5:BD:70:3E:97:88:CA:8E:CF:31"


def _with_options(connector: scrapers.Connector, **options: str) -> Rosstat:
    config = dataclasses.replace(connector.config, options={**connector.config.options, **options})
    return Rosstat(config, connector.settings)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://rosstat.gov.ru/storage/mediabank/Kadry_VO.xls", "kadry_vo"),
        ("https://rosstat.gov.ru/storage/mediabank/Kadry-VO.xlsx", "kadry_vo"),
        ("/storage/mediabank/innov-mp_1.xls", "innov_mp_1"),
        ("/storage/mediabank/Innov_mp_1.xls", "innov_mp_1"),
        ("/storage/mediabank/nauka_9.xlsx", "nauka_9"),
    ],
)
def test_a_file_key_survives_the_renames_rosstat_makes(url: str, key: str) -> None:
    assert file_key(url) == key


def test_a_renamed_file_is_found_by_its_pattern_and_stays_the_same_dataset(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    settings = _settings(tmp_path, base)
    connector = _with_options(scrapers.connector("rosstat", settings), **{"file_pattern.rnd_index": "^kadry_vo$"})
    workbook = _workbook()
    routes.add("/storage/mediabank/Kadry_VO.xls", body=workbook)
    routes.add("/storage/mediabank/Kadry-VO.xls", body=workbook)
    http = HttpClient(settings)
    try:
        seen = []
        for name in ("Kadry_VO.xls", "Kadry-VO.xls"):  # one release, then the next with the name changed
            page = rosstat_section_page([(f"/storage/mediabank/{name}", "Кадры высшей квалификации")])
            routes.add("/statistics/science", body=page, headers={"Content-Type": "text/html"})
            captures = connector.fetch(http, "rnd_index", {})
            seen.append([(c.dataset, c.fetched.url.rsplit("/", 1)[-1]) for c in captures])
    finally:
        http.close()
    assert seen == [
        [("rnd_index", "science"), ("rnd_index", "Kadry_VO.xls")],
        [("rnd_index", "science"), ("rnd_index", "Kadry-VO.xls")],
    ]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (
            b"<!DOCTYPE html><html><body>\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0</body></html>",
            "found an HTML page",
        ),
        (b"", "found an empty body"),
        (b"%PDF-1.7 ...", "found b'%PDF-1.7 ...'"),
    ],
    ids=["html", "empty", "pdf"],
)
def test_a_linked_file_that_is_not_a_workbook_stops_the_fetch_naming_its_url(
    tmp_path: Path, publisher_server: tuple[str, Routes], body: bytes, found: str
) -> None:
    base, routes = publisher_server
    routes.add(
        "/statistics/science", body=rosstat_section_page([("/storage/mediabank/Nauka_1.xlsx", "Научные исследования")])
    )
    routes.add("/storage/mediabank/Nauka_1.xlsx", body=body)
    info = _fetch_error(_settings(tmp_path, base))
    assert str(info.value) == (
        f"[rosstat] {base}/storage/mediabank/Nauka_1.xlsx: expected an XLSX or XLS workbook (PK or OLE2 magic bytes); "
        + found
    )


@pytest.mark.parametrize("status", [403, 429])
def test_a_refusal_says_to_download_by_hand_and_import(
    tmp_path: Path, publisher_server: tuple[str, Routes], status: int
) -> None:
    base, routes = publisher_server
    routes.add("/statistics/science", status=status, body=b"Access denied")
    info = _fetch_error(_settings(tmp_path, base, UNIONSTAT_HTTP_RETRIES="0"))
    message = str(info.value)
    assert message.startswith(f"[rosstat] {base}/statistics/science: expected HTTP 200; found HTTP {status} ")
    assert message.endswith("download the file by hand and run `unionstat import FILE`")
    assert "\n" not in message


def test_the_shipped_root_ca_is_the_one_the_registry_pins() -> None:
    entries = scrapers.registry()["rosstat"].tls["ca_certificates"]
    root = next(e for e in entries if e["required"])
    assert root["file"] == "certs/russian_trusted_root_ca.pem"
    assert root["sha256"] == ROOT_CA_SHA256
    assert [fingerprint(block) for block in PEM_BLOCK.findall(ROOT_CA.read_bytes())] == [ROOT_CA_SHA256]
    assert all(e["sha256"] is None for e in entries if not e["required"])  # nothing pinned that was not checked


def test_the_pinned_ca_is_trusted_for_rosstat_hosts_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    connector = scrapers.connector("rosstat", settings)
    http = HttpClient(settings)
    try:
        connector.trust_national_ca(http)
        bundle = settings.warehouse_dir / "tls" / "rosstat-ca.pem"
        assert http._verify("https://rosstat.gov.ru/statistics/science") == str(bundle)
        assert http._verify("https://api.worldbank.org/v2/country") is True  # the default trust store
        assert http._verify("https://www.belstat.gov.by/") is True
    finally:
        http.close()
    assert bundle.read_bytes().strip() == PEM_BLOCK.findall(ROOT_CA.read_bytes())[0]


def test_a_ca_file_that_differs_from_its_pin_or_has_no_pin_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scrapers.tls.CERTS_ROOT", tmp_path)
    pem = ROOT_CA.read_bytes()
    tampered = pem.replace(b"MIIFwjCCA6qgAwIBAgICEAAw", b"MIIFwjCCA6qgAwIBAgICEAEw")  # one serial bit changed
    (tmp_path / "root.pem").write_bytes(tampered)
    (tmp_path / "sub.pem").write_bytes(pem)
    out = tmp_path / "bundle.pem"
    with pytest.raises(
        SourceError, match=r"root\.pem: expected one certificate with SHA-256 D2:6D:.*; found \['(?!D2:6D)"
    ):
        pinned_bundle("rosstat", [{"file": "root.pem", "sha256": ROOT_CA_SHA256, "required": True}], out)
    with pytest.raises(SourceError, match=r"sub\.pem: expected a SHA-256 pin in sources\.json for this CA file"):
        pinned_bundle("rosstat", [{"file": "sub.pem", "sha256": None, "required": False}], out)
    with pytest.raises(
        SourceError, match=r"missing\.pem: expected the CA certificate named in sources\.json .*no such file"
    ):
        pinned_bundle("rosstat", [{"file": "missing.pem", "sha256": ROOT_CA_SHA256, "required": True}], out)
    assert pinned_bundle("rosstat", [{"file": "missing.pem", "sha256": None, "required": False}], out) is None
    assert not out.exists()


# -- imports --------------------------------------------------------------------------------------
def test_import_recognises_rosstat_workbooks_only(tmp_path: Path) -> None:
    connector = scrapers.connector("rosstat", _settings(tmp_path))

    real = connector.recognise_import(REAL)
    assert real is not None
    assert (real.dataset, real.release_date) == ("VDS_god_OKVED2", date(2026, 2, 6))
    xls = connector.recognise_import(SYNTHETIC_XLS)
    assert xls is not None
    assert (xls.dataset, xls.content_type) == ("rosstat-synthetic", "application/vnd.ms-excel")
    belstat = REFERENCE_DIR / "files" / "belstat" / "nach_sr_zarplata-2412.xlsx"
    assert connector.recognise_import(belstat) is None
    assert connector.recognise_import(written(tmp_path / "t.xlsx", belstat_xlsx([("Россия", 1, [47.9, 49.0])]))) is None
    csv = next((REFERENCE_DIR / "files" / "worldbank").glob("API_*.csv"))
    assert connector.recognise_import(csv) is None


def test_importing_the_real_file_loads_every_cell(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = SnapshotStore(settings.snapshot_dir)
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        connectors = scrapers.all_connectors(settings)
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        result = imports.import_file(con, store, connectors, REAL, "t")
        assert (result.source, result.dataset, result.new) == ("rosstat", "VDS_god_OKVED2", True)
        loaded = load.load_pending(con, store, [c for c in connectors if c.name == "rosstat"], "t")
        assert loaded.errors == {}
        counts = con.execute(
            "select count(*), count(value), count(distinct sheet_name) from raw.rosstat_cells "
            "where snapshot_sha256 = ?",
            [result.sha256],
        ).fetchone()
        cell = con.execute(
            "select value, period, notes, release_date from raw.rosstat_cells "
            "where sheet_name = '4' and row_code = 'M 72' and period = '2024'"
        ).fetchone()
    finally:
        con.close()
    assert counts == (7417, 7417, 8)
    assert cell == (102.69134511157387, "2024", "2", date(2026, 2, 6))


# -- the compiled reference workbooks -------------------------------------------------------------
def test_reference_recordings_hold_the_papers_indices_in_rosstats_layout() -> None:
    """Known values: 132.7 (software development, Jan-Aug 2024) and 107.3 (R&D, 2024), stored as indices."""
    responses = REFERENCE_DIR / "responses" / "rosstat"
    columns = ["sheet_name", "cell_ref", "row_code", "row_label", "period", "value", "unit"]
    software = parse_workbook(
        "rosstat", FILE, (responses / "unionstat-reference-compiled-from-paper-software.xlsx").read_bytes()
    )
    rnd = parse_workbook("rosstat", FILE, (responses / "unionstat-reference-compiled-from-paper-rnd.xlsx").read_bytes())
    basis = "в % к соответствующему периоду предыдущего года"
    assert software[columns].values.tolist() == [
        ["1", "D4", "J 62.01", "Разработка компьютерного программного обеспечения", "2024-01/2024-08", 132.7, basis]
    ]
    assert rnd[columns].values.tolist() == [
        ["1", "D4", "M 72", "Научные исследования и разработки", "2024", 107.3, basis]
    ]
    for frame in (software, rnd):
        assert "compiled from the paper" in frame["table_title"].iloc[0]
        assert "NOT a Rosstat file" in frame["table_title"].iloc[0]
        assert frame["release_date"].isna().all()


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
            assert connector.parse(captures[1].fetched.body, meta)["value"].notna().any()
    finally:
        http.close()
