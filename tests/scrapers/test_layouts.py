"""Structural fingerprints per connector: alike across releases of one table, changed by a renamed sheet, a moved
header or a new column. Real publisher files from the reference snapshot (third-party recordings of
shared/samples/, byte for byte); every modified copy is made here and labelled synthetic."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

import scrapers
from scrapers.base import Connector, SnapshotLayout, SnapshotMeta, layout_differences, structural_text
from tests.builders import worldbank_bulk_csv, worldbank_page, worldbank_row
from tests.conftest import REFERENCE_DIR
from tests.news_builders import osw_article, rg_article, rss_feed, rss_item
from unionstat.settings import Settings

FILES = REFERENCE_DIR / "files"
RESPONSES = REFERENCE_DIR / "responses"
WB = FILES / "worldbank"
ROSSTAT_REAL = FILES / "rosstat" / "VDS_god_OKVED2.xlsx"


def _connector(name: str) -> Connector:
    return scrapers.connector(name, Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": "/nonexistent"}))


def _layout(source: str, path: Path, dataset: str = "d", url: str | None = None) -> SnapshotLayout:
    meta = SnapshotMeta("0" * 64, source, dataset, url or f"file:{path.name}", None, None)
    layout = _connector(source).layout(path, meta)
    assert layout is not None
    return layout


def _header(path: Path) -> list[str]:
    """The bulk CSV's header row, read with the csv module (not the connector)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header = next(r for r in rows if r[:1] == ["Country Name"])
    return [cell for cell in header if cell]


# -- World Bank: two real releases of one table ----------------------------------------------------
@pytest.mark.parametrize(
    ("earlier", "later", "last_years"),
    [
        ("API_IP.PAT.RESD_DS2_en_csv_v2_19391.csv", "API_IP.PAT.RESD_DS2_en_csv_v2_226.csv", ("2024", "2024")),
        (
            "API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_19327.csv",
            "API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_232.csv",
            ("2024", "2025"),
        ),
    ],
    ids=["patents-2025-04-15-vs-2026-01-28", "rnd-2025-04-15-vs-2026-07-13"],
)
def test_two_real_world_bank_releases_of_one_table_share_a_fingerprint(
    earlier: str, later: str, last_years: tuple[str, str]
) -> None:
    # the 2026-07-13 R&D file has a 2025 column the 2025-04-15 one lacks: a new year is no new layout
    assert (_header(WB / earlier)[-1], _header(WB / later)[-1]) == last_years
    first, second = _layout("worldbank", WB / earlier), _layout("worldbank", WB / later)
    assert first.fingerprint == second.fingerprint
    assert first.description == {
        "format": "bulk csv",
        "preamble_keys": ["Data Source", "Last Updated Date"],
        "header": ["Country Name", "Country Code", "Indicator Name", "Indicator Code", "9"],
    }


def test_a_new_column_or_preamble_line_changes_a_bulk_csv_fingerprint(tmp_path: Path) -> None:
    real = WB / "API_IP.PAT.RESD_DS2_en_csv_v2_226.csv"
    text = real.read_bytes().decode("utf-8-sig")
    # synthetic copies: a "Unit" column after "Indicator Code"; a "Data Note" line in the preamble
    with_column = tmp_path / "with_column.csv"
    with_column.write_text(text.replace('"Indicator Code",', '"Indicator Code","Unit",', 1), encoding="utf-8-sig")
    with_note = tmp_path / "with_note.csv"
    with_note.write_text(text.replace('"Last Updated Date"', '"Data Note","x",\n\n"Last Updated Date"', 1), "utf-8")

    base = _layout("worldbank", real)
    column, note = _layout("worldbank", with_column), _layout("worldbank", with_note)
    assert len({base.fingerprint, column.fingerprint, note.fingerprint}) == 3
    assert layout_differences(base.description, column.description) == ["header: added 'Unit'"]
    assert layout_differences(base.description, note.description) == ["preamble_keys: added 'Data Note'"]


def test_values_do_not_change_a_fingerprint(tmp_path: Path) -> None:
    # synthetic values in the bulk layout, two releases: other numbers, other years, other release date
    one = tmp_path / "one.csv"
    one.write_bytes(worldbank_bulk_csv({"RUS": {"2022": "1"}}, "2025-07-01"))
    two = tmp_path / "two.csv"
    two.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "2"}, "BLR": {"2020": "3"}}, "2026-01-01"))
    assert _layout("worldbank", one).fingerprint == _layout("worldbank", two).fingerprint


def test_the_real_zip_and_country_metadata_and_an_api_page_are_described(tmp_path: Path) -> None:
    zipped = _layout("worldbank", WB / "population_total.zip", "SP.POP.TOTL")
    # the three members listed by `unzip -l`, their release numbers as 9
    assert zipped.description["members"] == [
        "API_SP.POP.TOTL_DS9_en_csv_v9_9.csv",
        "Metadata_Country_API_SP.POP.TOTL_DS9_en_csv_v9_9.csv",
        "Metadata_Indicator_API_SP.POP.TOTL_DS9_en_csv_v9_9.csv",
    ]
    assert (
        zipped.description["data"] == _layout("worldbank", WB / "API_SP.POP.TOTL_DS2_en_csv_v2_45183.csv").description
    )
    countries = _layout("worldbank", WB / "Metadata_Country_API_IP.PAT.RESD_DS2_en_csv_v2_226.csv", "country_metadata")
    assert countries.description["header"] == ["Country Code", "Region", "IncomeGroup", "SpecialNotes", "TableName"]

    page = tmp_path / "page.json"  # synthetic page in the API's shape
    page.write_bytes(worldbank_page([worldbank_row("Belarus", "BLR", "2023", 3.9)]))
    url = "https://api.worldbank.org/v2/country/BLR/indicator/NY.GDP.MKTP.KD.ZG?format=json&page=1"
    described = _layout("worldbank", page, "NY.GDP.MKTP.KD.ZG", url).description
    assert described["format"] == "api page"
    assert described["envelope"] == ["lastupdated", "page", "pages", "per_page", "sourceid", "total"]
    assert {"countryiso3code", "indicator.id", "country.value", "value"} <= set(described["row_keys"])


# -- Rosstat: the real workbook and a copy with one sheet renamed ----------------------------------
def _rosstat_copy(tmp_path: Path, edit: str) -> Path:
    """A synthetic copy of the real workbook, changed by openpyxl (which rewrites the whole file)."""
    book = openpyxl.load_workbook(ROSSTAT_REAL)
    if edit == "rename":
        book["4"].title = "4a"
    elif edit == "value":
        book["4"]["D4"] = 99.9  # a value under the header: no layout
    elif edit == "moved header":
        book["4"].insert_rows(1)
    target = tmp_path / f"{edit.replace(' ', '_')}.xlsx"
    book.save(target)
    return target


def test_the_real_rosstat_workbook_is_described_sheet_by_sheet(tmp_path: Path) -> None:
    described = _layout("rosstat", ROSSTAT_REAL, "rnd_index").description
    # sheet names and sheet 4's parts as openpyxl shows them: title in B2, "коды" in B3 above the codes of
    # column B, labels in C, years from D3 on, unit in the title's parentheses
    assert [s["sheet"] for s in described["sheets"]] == ["Содержание", *map(str, range(1, 10))]
    assert described["sheets"][0]["role"] == "contents"
    sheet4 = described["sheets"][4]
    assert (sheet4["header_rows"], sheet4["code_column"], sheet4["label_column"], sheet4["first_value_column"]) == (
        [3, 3],
        "B",
        "C",
        "D",
    )
    assert sheet4["unit"] == "в процентах к предыдущему году"
    assert sheet4["headers"][:4] == [None, "коды", None, "9"]


@pytest.mark.parametrize(
    ("edit", "differences"),
    [
        ("rename", ["sheet '4' renamed '4a'"]),
        ("value", []),
        ("moved header", ["sheet '4'.header_rows: [3,3] -> [4,4]"]),
    ],
)
def test_a_renamed_sheet_or_moved_header_changes_the_rosstat_fingerprint_a_value_does_not(
    tmp_path: Path, edit: str, differences: list[str]
) -> None:
    real = _layout("rosstat", ROSSTAT_REAL, "rnd_index")
    copy = _layout("rosstat", _rosstat_copy(tmp_path, edit), "rnd_index")
    saved_alike = _layout("rosstat", _rosstat_copy(tmp_path, "none"), "rnd_index")  # openpyxl's rewrite alone
    assert saved_alike.fingerprint == real.fingerprint
    assert layout_differences(real.description, copy.description) == differences
    assert (copy.fingerprint == real.fingerprint) is (not differences)


def test_a_renamed_rosstat_file_keeps_its_subject(tmp_path: Path) -> None:
    renamed = tmp_path / "Kadry-VO.xlsx"  # the same bytes under Rosstat's other spelling
    shutil.copy(ROSSTAT_REAL, renamed)
    one = _layout("rosstat", ROSSTAT_REAL, "rnd_index", "https://rosstat.gov.ru/storage/mediabank/Kadry_VO.xlsx")
    two = _layout("rosstat", renamed, "rnd_index", "https://rosstat.gov.ru/storage/mediabank/Kadry-VO.xlsx")
    assert one.subject == two.subject == "rnd_index/kadry_vo"
    page = _layout(
        "rosstat",
        RESPONSES / "rosstat" / "section-science.html",
        "rnd_index",
        "https://rosstat.gov.ru/statistics/science",
    )
    assert (page.subject, page.description) == (
        "rnd_index/section page",
        {"format": "section page", "file_types": [".xlsx"]},
    )


# -- Belstat: the two real wage workbooks (the later one went bilingual), the API's answer ------------
def test_belstats_real_wage_workbooks_differ_where_january_2025_went_bilingual() -> None:
    december = _layout("belstat", FILES / "belstat" / "nach_sr_zarplata-2412.xlsx", "average_wages_by_activity")
    january = _layout("belstat", FILES / "belstat" / "nach_sr_zarplata-2501.xlsx", "average_wages_by_activity")
    assert december.fingerprint != january.fingerprint
    changes = layout_differences(december.description, january.description)
    # read in the files: the title gains "Nominal gross and real earnings ...", the header "Январь / January"
    assert [c.split(":")[0] for c in changes] == ["sheet 'Лист1'.headers", "sheet 'Лист1'.title"]
    table = january.description["tables"][0]
    assert (table["sheet"], table["label_column"], table["header_rows"]) == ("Лист1", "B", [5, 7])
    assert any("<month> / <month>" in (h or "") for h in table["headers"])
    assert any(
        "<month> / <month>" not in (h or "") and "<month>" in (h or "")
        for h in december.description["tables"][0]["headers"]
    )


def test_belstats_sdmx_json_answer_is_described_by_keys_and_dimension_ids(tmp_path: Path) -> None:
    answer = {  # synthetic, in the OSIDS SDMX-JSON shape (observations keyed by position)
        "data": {
            "dataSets": [{"observations": {"0:0": [47.9]}}],
            "structure": {
                "name": "synthetic",
                "dimensions": {
                    "observation": [
                        {"id": "razrez_593", "values": [{"id": "111", "name": "Россия"}]},
                        {"id": "TIME_PERIOD", "values": [{"id": "2020", "name": "2020 г."}]},
                    ]
                },
            },
        }
    }
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(answer), encoding="utf-8")
    described = _layout("belstat", path, "russia_share_foreign_trade_turnover").description
    assert described == {
        "format": "sdmx-json",
        "wrapped_in_data": True,
        "keys": ["dataSets", "structure"],
        "structure_keys": ["dimensions", "name"],
        "dataset_keys": ["observations"],
        "series_dimensions": [],
        "observation_dimensions": ["razrez_593", "TIME_PERIOD"],
    }
    answer["data"]["structure"]["dimensions"]["observation"][0]["values"][0]["name"] = "Китай"  # a value
    path.write_text(json.dumps(answer), encoding="utf-8")
    assert _layout("belstat", path, "russia_share_foreign_trade_turnover").description == described


# -- WIPO and the news feeds --------------------------------------------------------------------------
def test_wipo_exports_are_described_by_preamble_keys_and_header() -> None:
    table = _layout(
        "wipo", RESPONSES / "wipo" / "patent_applications_total_by_origin.csv", "patent_applications_total_by_origin"
    )
    assert table.description == {
        "format": "table export csv",
        "preamble_keys": ["Intellectual property right", "Indicator", "Source"],
        "header": ["Origin", "Origin (Code)", "Office", "Field of technology", "9"],
    }
    ru = _layout("wipo", RESPONSES / "wipo" / "country-profile.RU.csv", "profile.RU")
    by = _layout("wipo", RESPONSES / "wipo" / "country-profile.BY.csv", "profile.BY")
    assert ru.fingerprint == by.fingerprint  # two origins, one layout
    assert ru.description["row_labels"] == [
        "resident applications per million inhabitants",
        "total patent applications by origin: world rank",
    ]


def test_feeds_and_articles_are_described_by_the_elements_their_parsers_read(tmp_path: Path) -> None:
    feed = _layout("osw", RESPONSES / "osw" / "en-rss.xml", "rss", "https://www.osw.waw.pl/en/rss.xml")
    # the recording's items carry title, link, guid, description, pubDate and categories (categories come and go)
    assert feed.description == {
        "format": "rss",
        "root": "rss",
        "channel_language": True,
        "item_fields": ["title", "link", "guid", "pubDate", "description"],
    }
    one, two, bare = tmp_path / "one.xml", tmp_path / "two.xml", tmp_path / "bare.xml"
    one.write_bytes(rss_feed([rss_item("A", "https://rg.ru/a.html")]))  # synthetic feeds
    two.write_bytes(
        rss_feed([rss_item("B", "https://rg.ru/b.html", categories=("x",)), rss_item("C", "https://rg.ru/c")])
    )
    bare.write_bytes(rss_feed([rss_item("A", "https://rg.ru/a.html", description=None)]))
    layouts = [_layout("rg", p, "rss", "https://rg.ru/xml/index.xml") for p in (one, two, bare)]
    assert layouts[0].fingerprint == layouts[1].fingerprint != layouts[2].fingerprint
    assert layout_differences(layouts[0].description, layouts[2].description) == ["item_fields: removed 'description'"]

    article, moved = tmp_path / "a.html", tmp_path / "b.html"
    article.write_bytes(rg_article())
    moved.write_bytes(rg_article().replace(b"PageArticleContent_articleBody__", b"ArticleBody__"))
    url = "https://rg.ru/2030/01/07/a.html"
    rg_hooks = _layout("rg", article, "articles", url).description["hooks"]
    assert rg_hooks["PageArticleContent_articleBody__*"] is True
    assert _layout("rg", moved, "articles", url).description["hooks"]["PageArticleContent_articleBody__*"] is False
    osw = tmp_path / "osw.html"
    osw.write_bytes(osw_article(article_role=False))
    hooks = _layout("osw", osw, "articles", "https://www.osw.waw.pl/en/publikacje/x").description["hooks"]
    assert hooks['article[role="article"]'] is False and hooks["h1"] is True


def test_every_registered_connector_describes_its_reference_recordings() -> None:
    manifest = json.loads((REFERENCE_DIR / "manifest.json").read_text(encoding="utf-8"))
    described = set()
    for recording in manifest["recordings"]:
        layout = _layout(recording["source"], REFERENCE_DIR / recording["body"], recording["dataset"], recording["url"])
        assert len(layout.fingerprint) == 64
        described.add(recording["source"])
    for entry in manifest["files"]:
        _layout(entry["source"], REFERENCE_DIR / entry["path"])
        described.add(entry["source"])
    assert described == set(scrapers.registry())


def test_structural_text_keeps_words_and_drops_numbers_months_and_footnote_marks() -> None:
    assert structural_text("за январь-август 2024 г.") == structural_text("за январь 2025 г.") == "за <month> 9 г."
    assert structural_text("20242)") == structural_text("2023") == "9"
    assert structural_text("Январь / January") == "<month> / <month>"
    assert structural_text("  Внешнеторговый\n оборот ") == "Внешнеторговый оборот"
    assert structural_text("") is None
