"""WIPO connector: table and country-profile exports, every quirk and guard. Values are synthetic."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import scrapers
from scrapers.base import SnapshotMeta
from scrapers.wipo import Wipo, parse_profile, parse_table_export
from tests.builders import wipo_profile, wipo_table_export
from tests.conftest import REFERENCE_DIR, Routes
from unionstat.errors import ParseError
from unionstat.http import HttpClient
from unionstat.settings import Settings

URL = "https://example.test/export/table.csv"
TOTAL = "patent_applications_total_by_origin"
RU_BY = ["RU", "BY"]


def _table(rows: list[tuple[str, str, dict[str, str]]] | None = None, **kwargs: object) -> bytes:
    rows = rows or [("Russian Federation", "RU", {"2021": "1,234", "2022": "56"}), ("Belarus", "BY", {"2022": "7"})]
    return wipo_table_export(rows, **kwargs)  # type: ignore[arg-type]


def test_table_export_reads_bom_preamble_thousands_and_trailing_column() -> None:
    frame = parse_table_export("wipo", URL, _table(), TOTAL, RU_BY)

    assert len(frame) == 3  # Belarus 2021 is empty: no row
    values = {(r.origin_code, r.year): (r.value, r.cell_text) for r in frame.itertuples()}
    assert values == {("RU", "2021"): (1234.0, "1,234"), ("RU", "2022"): (56.0, "56"), ("BY", "2022"): (7.0, "7")}
    assert set(frame["country_iso3"]) == {"RUS", "BLR"}
    assert set(frame["indicator_code"]) == {TOTAL}
    assert set(frame["last_updated"]) == {date(2025, 1, 15)}
    assert set(frame["office"]) == {"Total"}
    assert frame["value_count"].tolist() == [1, 1, 1]
    assert frame["indicator_label"].iloc[0].startswith("1 - Total patent applications")


def test_multi_value_cells_keep_text_and_count_but_no_value() -> None:
    body = _table(
        [("Russian Federation", "RU", {"2021": "12, 34", "2022": "1,234, 5,678"}), ("Belarus", "BY", {"2022": "9"})]
    )
    frame = parse_table_export("wipo", URL, body, TOTAL, RU_BY)
    ru = frame[frame["origin_code"] == "RU"].set_index("year")

    assert ru.loc["2021", "value_count"] == 2
    assert ru.loc["2022", "value_count"] == 2
    assert ru["value"].isna().all()
    assert ru.loc["2022", "cell_text"] == "1,234, 5,678"


def test_historical_origin_codes_are_kept_without_an_iso3() -> None:
    body = _table(
        [
            ("Russian Federation", "RU", {"2022": "5"}),
            ("Belarus", "BY", {"2022": "3"}),
            ("Soviet Union", "SU", {"2021": "2,000"}),
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
        ("2025-01-15", date(2025, 1, 15)),
        ("15 January 2025", date(2025, 1, 15)),
        ("January 2025", date(2025, 1, 1)),
        ("January 15, 2025", date(2025, 1, 15)),
    ],
)
def test_release_date_comes_from_last_updated(text: str, expected: date) -> None:
    frame = parse_table_export("wipo", URL, _table(last_updated=text), TOTAL, RU_BY)
    assert set(frame["last_updated"]) == {expected}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (wipo_table_export([]), r"at least one value after the header.*zero rows"),
        (_table(header_start=("Origin", "Office", "Field of technology")), r"header row.*missing column"),
        (b"<!DOCTYPE html><html><body>WIPO IP Statistics</body></html>", r"a WIPO CSV export.*HTML"),
        (b"", r"empty body"),
        (_table()[:-12], r"cells per row.*truncated"),
        (_table().replace(b"1,234", b"1,23")[:-2] + b'"1,', r"well-formed CSV.*truncated"),
        (_table(last_updated="soon"), r"'Last updated' date.*'soon'"),
        (_table().replace(b"Last updated", b"Updated"), r"Last updated: <date>"),
        (_table(indicator="PCT applications"), r"'Indicator' preamble line mentioning 'total patent applications'"),
        (_table([("Russian Federation", "RU", {"2022": "5"})]), r"rows for the origins.*no row for \['BY'\]"),
        (_table([("Russian Federation", "Russia", {"2022": "5"})]), r"two-letter origin code.*'Russia'"),
        (_table([("Russian Federation", "RU", {"2022": "n/a?"})]), r"a number.*'n/a\?'"),
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
            "Total patent applications": {"2022": "1,500"},
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


def _live_settings(tmp_path: Path, base_url: str) -> Settings:
    return Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_WIPO_BASE_URL": base_url,
        }
    )


def test_fetch_copies_the_export_with_its_release_date_from_the_overridden_base_url(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    body = _table(last_updated="2025-02-03")
    routes.add("/export/table.csv", body=body, headers={"Content-Type": "text/csv"})
    settings = _live_settings(tmp_path, base)
    connector = scrapers.connector("wipo", settings)
    http = HttpClient(settings)
    try:
        captures = connector.fetch(http, TOTAL, {})
    finally:
        http.close()

    assert len(captures) == 1
    assert captures[0].fetched.body == body  # copied byte for byte
    assert captures[0].release_date == date(2025, 2, 3)
    exports = [path for path, _ in routes.requests if path.startswith("/export/")]
    assert len(exports) == 1
    assert exports[0].startswith(f"/export/table.csv?indicator={TOTAL}&origin=RU,BY")


def test_fetch_fails_loudly_when_the_web_app_answers_html(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
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
