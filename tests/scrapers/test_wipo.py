"""WIPO connector: table and country-profile exports in the real layout, every quirk and guard. Values are synthetic
(tests/builders.py); only the layout is the real exports'."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

import scrapers
from scrapers.base import NotConfigured, SnapshotMeta
from scrapers.wipo import Wipo, parse_profile, parse_table_export
from tests.builders import NoRequests, live_settings, wipo_profile, wipo_table_export, worldbank_bulk_csv, written
from tests.conftest import REFERENCE_DIR, Routes
from unionstat import imports, warehouse
from unionstat.errors import ParseError
from unionstat.http import HttpClient
from unionstat.load import load_pending
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

URL = "https://example.test/export/table.csv"
TOTAL = "patent_applications_total_by_origin"
RU_BY = ["RU", "BY"]


def _table(rows: list[tuple[str, str, dict[str, str]]] | None = None, **kwargs: object) -> bytes:
    rows = rows or [("Russian Federation", "RU", {"2021": "1234", "2022": "56"}), ("Belarus", "BY", {"2022": "7"})]
    return wipo_table_export(rows, **kwargs)  # type: ignore[arg-type]


def test_table_export_reads_bom_preamble_and_trailing_column() -> None:
    body = _table()
    lines = body.decode("utf-8-sig").splitlines()  # the real layout, line by line
    assert body.startswith(b"\xef\xbb\xbf")
    assert lines[:6] == [
        "Intellectual property right :Patent",
        "",
        "Indicator :1 - Total patent applications (direct and PCT national phase entries)",
        "",
        "Source: WIPO statistics database. Last updated: May 2026",
        "",
    ]
    assert lines[6:] == [
        "Origin,Origin (Code),Office,Field of technology,2021,2022",
        "Russian Federation,RU,Total,Total,1234,56,",
        "Belarus,BY,Total,Total,,7,",
    ]

    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)

    assert len(frame) == 3  # Belarus 2021 is empty: missing, no row
    values = {(r.origin_code, r.year): (r.value, r.cell_text) for r in frame.itertuples()}
    assert values == {("RU", "2021"): (1234.0, "1234"), ("RU", "2022"): (56.0, "56"), ("BY", "2022"): (7.0, "7")}
    assert set(frame["country_iso3"]) == {"RUS", "BLR"}
    assert set(frame["indicator_code"]) == {TOTAL}
    assert set(frame["unit"]) == {"applications"}
    assert set(frame["ip_right"]) == {"Patent"}
    assert set(frame["indicator_label"]) == {"1 - Total patent applications (direct and PCT national phase entries)"}
    assert set(frame["last_updated"]) == {date(2026, 5, 1)}  # month precision: the first of the month
    assert set(frame["release_stamp"]) == {"May 2026"}  # as written
    assert set(frame["source_line"]) == {"Source: WIPO statistics database. Last updated: May 2026"}
    assert set(frame["office"]) == {"Total"}
    assert frame["value_count"].tolist() == [1, 1, 1]


def test_an_export_of_any_indicator_loads_every_cell_with_its_labels() -> None:
    """Patent publications by technology (indicator 4a): no code of ours, every non-empty cell kept all the same."""
    body = wipo_table_export(
        [
            ("Germany", "DE", {"2020": "0", "2021": ""}, "8 - Semiconductors"),
            ("United States of America", "US", {"2020": "2", "2021": "3"}, "8 - Semiconductors"),
            ("German Democratic Republic", "DD", {"2020": "7", "2021": "8"}, "8 - Semiconductors"),
            ("Russian Federation", "RU", {"2021": "11"}, "Unknown"),
        ],
        years=("2020", "2021"),
        indicator="4a- Patent publications by technology",
    )
    frame = parse_table_export("wipo", URL, body, "table:4a- Patent publications by technology", RU_BY)

    cells = [(r.origin_code, r.field_of_technology, r.year, r.cell_text, r.value) for r in frame.itertuples()]
    assert cells == [
        ("DE", "8 - Semiconductors", "2020", "0", 0.0),
        ("US", "8 - Semiconductors", "2020", "2", 2.0),
        ("US", "8 - Semiconductors", "2021", "3", 3.0),
        ("DD", "8 - Semiconductors", "2020", "7", 7.0),
        ("DD", "8 - Semiconductors", "2021", "8", 8.0),
        ("RU", "Unknown", "2021", "11", 11.0),
    ]
    assert frame["indicator_code"].isna().all() and frame["unit"].isna().all()
    assert set(frame["indicator_label"]) == {"4a- Patent publications by technology"}
    assert frame.set_index("origin_code").loc["DD", "country_iso3"].isna().all()  # historical: no ISO3


@pytest.mark.parametrize(
    "lines",
    [
        ["Intellectual property right :Patent", "", "Indicator :{i}", "", "Source: x. Last updated: May 2026", ""],
        ["IP right: Patent", "Indicator: {i}", "Source: x. Last updated: May 2026"],
        ["IP right:Patent", "Indicator:{i}", "Source:x. Last updated:May 2026"],
        ["IP right:,Patent", "Indicator:,{i}", "Source: x. Last updated: May 2026,", ""],
        ["Intellectual property right :Patent\t\tIndicator :{i}\t\tSource: x. Last updated: May 2026"],
    ],
    ids=["key-space-colon", "key-colon-space", "key-colon", "two-cells", "tabs"],
)
def test_preamble_items_read_in_every_punctuation(lines: list[str]) -> None:
    preamble = "\n".join(lines).replace("{i}", "1 - Total patent applications")
    body = (preamble + "\nOrigin,Origin (Code),2022\nRussian Federation,RU,5,\nBelarus,BY,6,\n").encode()
    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)

    assert set(frame["ip_right"]) == {"Patent"}
    assert set(frame["indicator_label"]) == {"1 - Total patent applications"}
    assert set(frame["last_updated"]) == {date(2026, 5, 1)}
    assert set(frame["release_stamp"]) == {"May 2026"}
    assert frame["value"].tolist() == [5.0, 6.0]


def test_multi_value_cells_keep_text_and_count_but_no_value() -> None:
    body = _table(
        [("Russian Federation", "RU", {"2021": "12, 34", "2022": "1234,5678,6912"}), ("Belarus", "BY", {"2022": "9"})]
    )
    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)
    ru = frame[frame["origin_code"] == "RU"].set_index("year")

    assert ru.loc["2021", "value_count"] == 2
    assert ru.loc["2022", "value_count"] == 3
    assert ru["value"].isna().all()
    assert ru.loc["2022", "cell_text"] == "1234,5678,6912"


def test_historical_origin_codes_are_kept_without_an_iso3() -> None:
    body = _table(
        [
            ("Russian Federation", "RU", {"2022": "5"}),
            ("Belarus", "BY", {"2022": "3"}),
            ("Soviet Union", "SU", {"2021": "2000"}),
            ("German Democratic Republic", "DD", {"2021": "11"}),
            ("Yugoslavia", "YU", {"2021": "12"}),
            ("Czechoslovakia", "CS", {"2021": "13"}),
        ]
    )
    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)
    historical = frame[frame["origin_code"].isin(["SU", "DD", "YU", "CS"])]

    assert sorted(historical["origin_code"]) == ["CS", "DD", "SU", "YU"]
    assert historical["country_iso3"].isna().all()
    assert historical.set_index("origin_code").loc["SU", "value"] == 2000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("May 2026", date(2026, 5, 1)),
        ("Mar 2015", date(2015, 3, 1)),
        ("2025-01-15", date(2025, 1, 15)),
        ("15 January 2025", date(2025, 1, 15)),
        ("January 15, 2025", date(2025, 1, 15)),
    ],
)
def test_release_date_comes_from_last_updated(text: str, expected: date) -> None:
    frame = parse_table_export("wipo", URL, _table(last_updated=text), TOTAL, RU_BY)
    assert set(frame["last_updated"]) == {expected}
    assert set(frame["release_stamp"]) == {text}


def test_a_stamp_that_is_no_wipo_release_leaves_the_release_date_null() -> None:
    """unionstat's recordings compiled from the paper: their Source line is not WIPO's, their stamp not a date."""
    body = _table(
        last_updated="as printed in the paper (Theoretical Economy No. 10, 2024)",
        source_line="Source: unionstat reference compiled from the paper, NOT a WIPO export. Last updated: {stamp}",
    )
    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)
    assert frame["last_updated"].isna().all()
    assert set(frame["release_stamp"]) == {"as printed in the paper (Theoretical Economy No. 10, 2024)"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (wipo_table_export([]), r"at least one value after the header.*zero rows"),
        (_table(header_start=("Origin", "Office", "Field of technology")), r"header row.*missing column"),
        (b"<!DOCTYPE html><html><body>WIPO IP Statistics</body></html>", r"a WIPO CSV export.*HTML"),
        (b"", r"empty body"),
        (_table()[:-12], r"cells per row.*truncated"),
        (_table()[:-2] + b'"1,', r"well-formed CSV.*truncated"),
        (_table().replace(b"56,\r\n", b"56,9\r\n"), r"cells and a trailing empty one.*\['9'\] beyond on line 8"),
        (_table(last_updated="soon"), r"'Last updated' date.*'soon'"),
        (_table().replace(b"Last updated", b"Updated"), r"Last updated: <date>"),
        (_table(indicator="PCT applications"), r"'Indicator' preamble line mentioning 'total patent applications'"),
        (_table([("Russian Federation", "RU", {"2022": "5"})]), r"rows for the origins.*no row for \['BY'\]"),
        (_table([("Russian Federation", "Russia", {"2022": "5"})]), r"two-letter origin code.*'Russia'"),
        (_table([("Russian Federation", "RU", {"2022": "n/a?"})]), r"a number.*'n/a\?'"),
        (_table([("Russian Federation", "RU", {"2022": "-"})]), r"a number.*'-' on line 8"),
        (_table(header_start=("Origin", "Origin (Code)", "Applicant")), r"dimension columns.*Applicant"),
        ("Origin,Origin (Code)\r\n".encode("cp1251") + "Россия".encode("cp1251"), r"UTF-8 CSV text"),
    ],
)
def test_table_export_guards(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_table_export("wipo", URL, body, TOTAL, RU_BY)
    assert info.value.source == "wipo"
    assert info.value.location == URL


def test_country_profile_maps_known_rows_and_keeps_the_others() -> None:
    body = wipo_profile(
        "BY",
        "Belarus",
        {
            "Resident applications per million inhabitants": {"2021": "10.5", "2022": "11"},
            "Total patent applications by origin: world rank": {"2022": "60"},
            "Total patent applications": {"2022": "1500"},
        },
    )
    frame = parse_profile("wipo", URL, body, "BY")
    by_code = frame.groupby("indicator_code", dropna=False)["value"].apply(list).to_dict()

    assert by_code["resident_applications_per_million_population"] == [10.5, 11.0]
    assert by_code["patent_applications_world_rank"] == [60.0]
    unmapped = frame[frame["indicator_code"].isna()]
    assert unmapped[["row_label", "value"]].values.tolist() == [["Total patent applications", 1500.0]]
    assert set(frame["country_iso3"]) == {"BLR"}
    assert set(frame["origin_name"]) == {"Belarus"}


def test_country_profile_guards() -> None:
    missing_row = wipo_profile("RU", "Russian Federation", {"Total patent applications": {"2022": "5"}})
    with pytest.raises(ParseError, match=r"profile rows \['resident applications per million inhabitants'\]"):
        parse_profile("wipo", URL, missing_row, "RU")
    other_origin = wipo_profile("BY", "Belarus", {"Resident applications per million inhabitants": {"2022": "1"}})
    with pytest.raises(ParseError, match=r"country profile of origin 'RU'.*'BY'"):
        parse_profile("wipo", URL, other_origin, "RU")
    empty = wipo_profile("RU", "Russian Federation", {"Resident applications per million inhabitants": {}})
    with pytest.raises(ParseError, match=r"zero rows"):
        parse_profile("wipo", URL, empty, "RU")


def test_reference_recordings_parse_to_the_papers_figures() -> None:
    """Known values: the reference snapshot holds the paper's 25,188 / 980, 135 / 38.4 and ranks 14 / 49 (2022)."""
    wipo = REFERENCE_DIR / "responses" / "wipo"
    total = parse_table_export(
        "wipo", URL, (wipo / "patent_applications_total_by_origin.csv").read_bytes(), TOTAL, RU_BY
    )
    assert {r.country_iso3: (r.year, r.value) for r in total.itertuples()} == {
        "RUS": ("2022", 25188.0),
        "BLR": ("2022", 980.0),
    }
    for code, per_million, rank in (("RU", 135.0, 14.0), ("BY", 38.4, 49.0)):
        profile = parse_profile("wipo", URL, (wipo / f"country-profile.{code}.csv").read_bytes(), code)
        values = dict(zip(profile["indicator_code"], profile["value"], strict=True))
        assert values == {
            "resident_applications_per_million_population": per_million,
            "patent_applications_world_rank": rank,
        }
        assert profile["last_updated"].isna().all()  # compiled from the paper: no WIPO release
        assert "compiled from the paper" in profile["source_line"].iloc[0]
    assert total["last_updated"].isna().all()
    assert set(total["release_stamp"]) == {"as printed in the paper (Theoretical Economy No. 10, 2024)"}
    assert "NOT a WIPO export" in total["source_line"].iloc[0]


def test_reference_recordings_are_in_the_real_layout() -> None:
    """Line by line as the real exports (SOURCES.md): BOM, right, blank, indicator, blank, Source, blank, header."""
    wipo = REFERENCE_DIR / "responses" / "wipo"
    lines = (wipo / "patent_applications_total_by_origin.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == "Intellectual property right :Patent"
    assert lines[2].startswith("Indicator :1 - Total patent applications")
    assert lines[4].startswith("Source: unionstat reference compiled from the paper")
    assert lines[4].endswith("Last updated: as printed in the paper (Theoretical Economy No. 10, 2024)")
    assert lines[1] == lines[3] == lines[5] == ""
    assert lines[6:] == [
        "Origin,Origin (Code),Office,Field of technology,2022",
        "Russian Federation,RU,Total,Total,25188,",
        "Belarus,BY,Total,Total,980,",
    ]
    for code in ("RU", "BY"):
        profile = (wipo / f"country-profile.{code}.csv").read_bytes().decode("utf-8-sig").splitlines()
        assert profile[6] == "Indicator,2022"  # the header on line 7


def _live_settings(tmp_path: Path, base_url: str) -> Settings:
    return live_settings(tmp_path, "wipo", base_url, backend=f"{base_url}{BACKEND}")


#: The Data Center backend's paths under the stand-in (SOURCES.md); the bodies are synthetic.
BACKEND = "/api/v1/public"
DOWNLOAD = f"{BACKEND}/ips-search/downloadCsv"
LAST_UPDATED = f"{BACKEND}/ips-search/en/last-updated"


def _fetch(tmp_path: Path, base: str, dataset: str = TOTAL) -> list[Any]:
    settings = _live_settings(tmp_path, base)
    http = HttpClient(settings)
    try:
        return scrapers.connector("wipo", settings).fetch(http, dataset, {})
    finally:
        http.close()


def test_fetch_asks_the_backend_for_the_csv_with_the_language_it_needs(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    body = _table(last_updated="2025-02-03")
    routes.add(DOWNLOAD, body=body, headers={"Content-Type": "text/csv"})
    routes.add(LAST_UPDATED, body=b'"2025-02-03"', headers={"Content-Type": "application/json"})

    captures = _fetch(tmp_path, base)

    assert len(captures) == 1
    assert captures[0].fetched.body == body  # copied byte for byte
    assert captures[0].release_date == date(2025, 2, 3)
    assert captures[0].fetched.body.startswith(b"\xef\xbb\xbfIntellectual property right :Patent")
    sent = {path.split("?")[0]: (path, headers) for path, headers in routes.requests}
    assert sent[DOWNLOAD][0] == (
        f"{DOWNLOAD}?lang=en&selectedTab=patent&indicator=10&reportType=13&fromYear=2010&toYear=2024"
        "&ipsOriSelValues=RU,BY"
    )
    assert sent[DOWNLOAD][1]["Accept-Language"] == sent[LAST_UPDATED][1]["Accept-Language"] == "en"


@pytest.mark.parametrize(
    ("stamp", "release"),
    [
        (b'"May 2026"', date(2026, 5, 1)),
        (b"2026-05-12", date(2026, 5, 12)),
        (b'{"lastUpdated": "12 May 2026"}', date(2026, 5, 12)),
    ],
    ids=["json-month", "text-day", "object"],
)
def test_the_backends_last_updated_stamp_is_the_release(
    tmp_path: Path, publisher_server: tuple[str, Routes], stamp: bytes, release: date
) -> None:
    """Each stamp is a vintage: a correction released without a new preamble still gets its own release date."""
    base, routes = publisher_server
    routes.add(DOWNLOAD, body=_table(last_updated="2025-02-03"))
    routes.add(LAST_UPDATED, body=stamp)
    assert _fetch(tmp_path, base)[0].release_date == release


def test_an_unreadable_stamp_fails_naming_its_url(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add(DOWNLOAD, body=_table(last_updated="2025-02-03"))
    routes.add(LAST_UPDATED, body=b"<html>app shell</html>")
    with pytest.raises(ParseError, match=rf"\[wipo\] {base}{LAST_UPDATED}: expected a release stamp .*app shell"):
        _fetch(tmp_path, base)


def test_fetch_takes_last_modified_when_the_stamp_is_no_release(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    """A compiled export (its Source line is not WIPO's) takes no backend stamp: its release is not WIPO's."""
    base, routes = publisher_server
    body = _table(last_updated="as printed", source_line="Source: compiled. Last updated: {stamp}")
    routes.add(DOWNLOAD, body=body, headers={"Last-Modified": "Tue, 01 Oct 2024 00:00:00 GMT"})
    routes.add(LAST_UPDATED, body=b'"May 2026"')
    assert _fetch(tmp_path, base)[0].release_date == date(2024, 10, 1)


def test_an_indicator_without_a_known_backend_id_is_not_configured(tmp_path: Path) -> None:
    settings = _live_settings(tmp_path, "https://example.test")
    with pytest.raises(
        NotConfigured,
        match=r"\[wipo\] sources.json wipo.options.pct_women_inventors_share: .*not "
        r"configured: the backend's indicator id of the PCT 'share of women among inventors'",
    ):
        scrapers.connector("wipo", settings).fetch(None, "pct_women_inventors_share", {})  # type: ignore[arg-type]


@pytest.mark.parametrize("dataset", ["profile.RU", "profile.BY"])
def test_a_country_profile_is_not_configured_against_wipo_itself(tmp_path: Path, dataset: str) -> None:
    """No public client was seen calling a country-profile export: live, without a stand-in at
    UNIONSTAT_WIPO_BASE_URL, the dataset is not configured (the registry's reason, the import route), not requested."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    http = NoRequests()
    with pytest.raises(NotConfigured) as info:
        scrapers.connector("wipo", settings).fetch(http, dataset, {})  # type: ignore[arg-type]
    assert str(info.value).startswith(
        f"[wipo] sources.json wipo.options.{dataset}: expected a country-profile export that public clients call "
        "(profile.reference_url is served only by the reference snapshot); found not configured: no public client "
        "was seen calling a country-profile export"
    )
    assert "`unionstat import FILE`" in str(info.value)
    assert http.asked == []


def test_a_country_profile_is_replayed_from_the_reference_recording(tmp_path: Path) -> None:
    """In a replay the reference-only URL is served: the recording compiled from the paper, byte for byte."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "replay"})
    http = HttpClient(settings)
    try:
        captures = scrapers.connector("wipo", settings).fetch(http, "profile.RU", {})
    finally:
        http.close()
    assert [(c.dataset, c.fetched.url) for c in captures] == [
        ("profile.RU", "https://www3.wipo.int/ipstats/export/country-profile.csv?origin=RU")
    ]
    assert captures[0].fetched.body == (REFERENCE_DIR / "responses" / "wipo" / "country-profile.RU.csv").read_bytes()


def test_fetch_fails_loudly_when_the_web_app_answers_html(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    """A stand-in at UNIONSTAT_WIPO_BASE_URL serves the reference-only profile URL: it is requested there."""
    base, routes = publisher_server
    routes.add("/export/country-profile.csv", body=b"<html><body>app shell</body></html>")
    settings = _live_settings(tmp_path, base)
    http = HttpClient(settings)
    try:
        with pytest.raises(ParseError, match=r"\[wipo\].*country-profile\.csv\?origin=RU.*HTML"):
            scrapers.connector("wipo", settings).fetch(http, "profile.RU", {})
    finally:
        http.close()


def test_parse_dispatches_on_the_dataset(tmp_path: Path) -> None:
    settings = _live_settings(tmp_path, "https://example.test")
    connector = scrapers.connector("wipo", settings)
    assert isinstance(connector, Wipo)
    body = wipo_profile("RU", "Russian Federation", {"Resident applications per million inhabitants": {"2022": "7"}})
    meta = SnapshotMeta("0" * 64, "wipo", "profile.RU", URL, "text/csv", None)
    assert connector.parse(body, meta)["value"].tolist() == [7.0]


def _connector(tmp_path: Path) -> Wipo:
    connector = scrapers.connector("wipo", _live_settings(tmp_path, "https://example.test"))
    assert isinstance(connector, Wipo)
    return connector


def test_recognise_import_takes_table_and_profile_exports(tmp_path: Path) -> None:
    connector = _connector(tmp_path)
    total = connector.recognise_import(written(tmp_path / "patent_1.csv", _table()))
    assert total is not None
    assert (total.dataset, total.release_date, total.content_type) == (TOTAL, date(2026, 5, 1), "text/csv")
    publications = wipo_table_export(
        [("Germany", "DE", {"2022": "5"}, "8 - Semiconductors")], indicator="4a- Patent publications by technology"
    )
    other = connector.recognise_import(written(tmp_path / "x.csv", publications))
    assert other is not None and other.dataset == "table:4a- Patent publications by technology"
    without_by = connector.recognise_import(
        written(tmp_path / "x.csv", _table([("Russian Federation", "RU", {"2022": "5"})]))
    )
    assert without_by is not None and without_by.dataset.startswith("table:1 - Total patent applications")
    names = [(f"Côte d'Ivoire {i}", "CI", {"2022": str(i)}) for i in range(3000)]  # non-ASCII past any sniff
    big = _table([("Russian Federation", "RU", {"2022": "5"}), *names, ("Belarus", "BY", {"2022": "3"})])
    assert len(big) > 100_000
    found_big = connector.recognise_import(written(tmp_path / "big.csv", big))
    assert found_big is not None and found_big.dataset == TOTAL
    profile = wipo_profile("BY", "Belarus", {"Resident applications per million inhabitants": {"2022": "1"}})
    found = connector.recognise_import(written(tmp_path / "profile.csv", profile))
    assert found is not None and (found.dataset, found.release_date) == ("profile.BY", date(2026, 5, 1))


def test_recognise_import_claims_no_other_file(tmp_path: Path) -> None:
    connector = _connector(tmp_path)
    bulk = worldbank_bulk_csv({"RUS": {"2023": "3.6"}, "BLR": {"2023": "3.9"}}, last_updated="2024-10-01")
    compiled = (REFERENCE_DIR / "responses" / "wipo" / "country-profile.RU.csv").read_bytes()
    for body in (
        bulk,
        b"a,b\n1,2\n",
        b"",
        b"\xff\xfe\x00",
        b"Origin,Origin (Code),2022\nRussian Federation,RU,5,\n",  # no WIPO preamble
        b"WIPO statistics database\nSomething,else\n",  # no header of either layout
        compiled,  # unionstat's recording compiled from the paper: not a WIPO file
    ):
        assert connector.recognise_import(written(tmp_path / "file.csv", body)) is None, body[:60]


def test_importing_an_export_loads_every_data_cell(tmp_path: Path) -> None:
    """`unionstat import`: a (synthetic, real-layout) table export becomes a snapshot of WIPO and loads whole."""
    years = tuple(str(y) for y in range(1980, 2025))
    cells = {str(y): str(y - 1970) for y in range(1980, 2025) if y % 3}  # every third year missing
    body = wipo_table_export(
        [
            ("Russian Federation", "RU", cells, "8 - Semiconductors"),
            ("Soviet Union", "SU", {"1980": "40", "1990": "17"}, "8 - Semiconductors"),
            ("Yugoslavia", "YU", {"1985": "3"}, "Unknown"),
            ("Belarus", "BY", {"2024": "2"}, "8 - Semiconductors"),
        ],
        years=years,
        indicator="4a- Patent publications by technology",
        newline="\n",
    )
    path = tmp_path / "downloads" / "patent_4a.csv"
    path.parent.mkdir()
    path.write_bytes(body)
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse")})
    connectors = scrapers.all_connectors(settings)
    store = SnapshotStore(settings.snapshot_dir)
    con = warehouse.connect(tmp_path / "build.duckdb", settings=settings)
    try:
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        imported = imports.import_file(con, store, connectors, path, "run-1")
        loaded = load_pending(con, store, [c for c in connectors if c.name == "wipo"], "run-1")
        rows = con.execute(
            "select origin_code, field_of_technology, year, cell_text, value, indicator_label, release_stamp "
            "from raw.wipo_observations order by row_number"
        ).fetchall()
    finally:
        con.close()

    assert (imported.source, imported.dataset) == ("wipo", "table:4a- Patent publications by technology")
    assert loaded.errors == {}
    expected = len(cells) + 2 + 1 + 1
    assert loaded.rows == {"raw.wipo_observations": expected}
    assert len(rows) == expected == 30 + 4
    assert rows[0] == (
        "RU",
        "8 - Semiconductors",
        "1981",
        "11",
        11.0,
        "4a- Patent publications by technology",
        "May 2026",
    )
    assert [r[:3] for r in rows[-4:]] == [
        ("SU", "8 - Semiconductors", "1980"),
        ("SU", "8 - Semiconductors", "1990"),
        ("YU", "Unknown", "1985"),
        ("BY", "8 - Semiconductors", "2024"),
    ]


@pytest.mark.network
def test_live_wipo_table_export(tmp_path: Path) -> None:
    """Live: the registry's export URL answers a table export with RU and BY (the endpoint is an unverified guess)."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path), "UNIONSTAT_MODE": "live"})
    connector = scrapers.connector("wipo", settings)
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, TOTAL, {})
    finally:
        http.close()
    meta = SnapshotMeta("0" * 64, "wipo", TOTAL, captures[0].fetched.url, None, captures[0].release_date)
    frame = connector.parse(captures[0].fetched.body, meta)
    assert {"RUS", "BLR"} <= set(frame["country_iso3"].dropna())
