"""World Bank quirks: pagination, HTTP-200 error bodies, string numbers, nulls, bulk CSV, zips, guards."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import duckdb
import pytest

import scrapers
from scrapers.base import SnapshotMeta
from scrapers.worldbank import parse_bulk_csv
from tests.builders import GDP, worldbank_bulk_csv, worldbank_page, worldbank_row, written, zipped
from tests.conftest import Routes
from unionstat import imports, warehouse
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

URL = "https://api.worldbank.org/v2/country/RUS;BLR/indicator/X?format=json"


def connector(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    return scrapers.connector("worldbank", settings or Settings.from_env({}))


def meta(url: str = URL) -> SnapshotMeta:
    return SnapshotMeta("0" * 64, "worldbank", GDP, url, "application/json", None)


def test_parse_reads_numbers_numeric_strings_and_nulls() -> None:
    body = worldbank_page(
        [
            worldbank_row("RU", "RUS", "2023", 3.6),
            worldbank_row("BY", "BLR", "2023", "3.9"),  # older answers carried numbers as strings
            worldbank_row("BY", "BLR", "2022", None),
        ],
        lastupdated="2024-07-01",
    )
    frame = connector().parse(body, meta())
    assert frame["value"].tolist()[:2] == [3.6, 3.9]
    assert frame["value"].isna().tolist() == [False, False, True]
    assert frame["countryiso3code"].tolist() == ["RUS", "BLR", "BLR"]
    assert str(frame["lastupdated"].iloc[0]) == "2024-07-01"


def test_an_error_body_with_http_200_names_the_api_message() -> None:
    body = b'[{"message":[{"id":"120","key":"Invalid value","value":"The provided parameter value is not valid"}]}]'
    with pytest.raises(SourceError, match=r"\[worldbank\] .*API error body: 120 Invalid value"):
        connector().parse(body, meta())


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "an HTML page"),
        (b'<?xml version="1.0"?><wb:data/>', "XML"),
        (b"", "an empty body"),
        (b'{"page": 1}', "a JSON array"),
    ],
)
def test_non_json_answers_are_named(body: bytes, found: str) -> None:
    with pytest.raises(ParseError, match=found):
        connector().parse(body, meta())


def test_an_empty_page_is_an_error_not_zero_rows() -> None:
    body = worldbank_page([])
    with pytest.raises(ParseError, match="expected at least one observation row"):
        connector().parse(body, meta())


def test_a_row_without_a_field_is_named() -> None:
    row = worldbank_row("RU", "RUS", "2023", 1.0)
    del row["date"]
    with pytest.raises(ParseError, match="expected field 'date' in every row; found row 0 lacks it"):
        connector().parse(worldbank_page([row]), meta())


def test_a_non_numeric_value_is_refused() -> None:
    with pytest.raises(ParseError, match="expected a number or null as value; found 'n/a'"):
        connector().parse(worldbank_page([worldbank_row("RU", "RUS", "2023", "n/a")]), meta())


def test_fetch_follows_pages_and_keeps_each_page_as_sent(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    pages = [
        worldbank_page([worldbank_row("RU", "RUS", "2023", 1.5)], page=1, pages=2),
        worldbank_page([worldbank_row("BY", "BLR", "2023", 2.5)], page=2, pages=2),
    ]
    for number, body in enumerate(pages, start=1):
        routes.add(
            f"/v2/country/RUS;BLR/indicator/{GDP}?format=json&date=2010:2024&per_page=1000&page={number}", body=body
        )
    settings = Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_WORLDBANK_BASE_URL": base,
            "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
        }
    )
    captures = connector(settings).fetch(HttpClient(settings), GDP, {})
    assert [c.fetched.body for c in captures] == pages
    assert [str(c.release_date) for c in captures] == ["2025-07-01", "2025-07-01"]
    assert all(c.fetched.url.startswith(base) for c in captures)


def test_bulk_csv_parses_bom_preamble_and_trailing_column() -> None:
    body = worldbank_bulk_csv({"RUS": {"2022": "-1.2", "2023": "3.25"}, "BLR": {"2023": ""}}, "2025-07-01")
    frame = parse_bulk_csv("worldbank", "file:///x.csv", body)
    assert len(frame) == 2 * 65
    rus = frame[(frame.countryiso3code == "RUS") & frame.date.isin(["2022", "2023"])]
    assert rus["value"].tolist() == [-1.2, 3.25]
    assert frame[(frame.countryiso3code == "BLR") & (frame.date == "2023")]["value"].isna().all()
    assert {str(d) for d in frame["lastupdated"]} == {"2025-07-01"}


def test_bulk_zip_is_read_through_its_data_member() -> None:
    csv_body = worldbank_bulk_csv({"RUS": {"2023": "1"}}, "2025-07-01")
    body = zipped(
        "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_123.csv",
        csv_body,
        {"Metadata_Country_API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_123.csv": b"meta"},
    )
    assert parse_bulk_csv("worldbank", "file:///x.zip", body)["value"].notna().sum() == 1


def test_a_zip_without_exactly_one_data_member_is_refused() -> None:
    with pytest.raises(ParseError, match=r"exactly one API_<code>_DS2_en_csv_v2\*\.csv member"):
        parse_bulk_csv("worldbank", "file:///x.zip", zipped("../../evil.csv", b"x"))


def test_a_truncated_bulk_row_is_named() -> None:
    body = worldbank_bulk_csv({"RUS": {"2023": "1"}}, "2025-07-01").rstrip(b",\n").rsplit(b",", 30)[0] + b"\n"
    with pytest.raises(ParseError, match="truncated"):
        parse_bulk_csv("worldbank", "file:///x.csv", body)


def test_a_bulk_csv_without_release_date_is_refused() -> None:
    body = worldbank_bulk_csv({"RUS": {"2023": "1"}}, "2025-07-01").replace(b'"Last Updated Date"', b'"Updated"')
    with pytest.raises(ParseError, match='"Last Updated Date" in the preamble'):
        parse_bulk_csv("worldbank", "file:///x.csv", body)


def test_import_recognises_bulk_csv_and_ignores_other_files(tmp_path: Path) -> None:
    wb = connector()
    body = worldbank_bulk_csv({"RUS": {"2023": "1"}}, "2025-07-01")
    found = wb.recognise_import(written(tmp_path / "API_x.csv", body))
    assert found is not None
    assert (found.dataset, str(found.release_date), found.content_type) == (GDP, "2025-07-01", "text/csv")
    assert wb.recognise_import(written(tmp_path / "other.csv", b"a,b\n1,2\n")) is None


def test_importing_a_large_bulk_csv_never_holds_the_file_in_memory(tmp_path: Path) -> None:
    """`unionstat import` of a 13.5 MB bulk CSV (synthetic: one real-layout line repeated for 30,000 countries): every
    connector looks at it and the store copies it, in chunks; Python's allocations stay far below the file's size
    (tracemalloc: DuckDB's own memory, bounded by its limit, is not counted)."""
    body = worldbank_bulk_csv({"RUS": {str(year): "1.5" for year in range(1960, 2025)}}, "2025-07-01")
    head, line = body.rstrip(b"\n").rsplit(b"\n", 1)  # the preamble and header; the one data line
    lines = [line.replace(b'"RUS"', f'"X{i:05d}"'.encode()) for i in range(30_000)]
    path = written(tmp_path / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv", head + b"\n" + b"\n".join(lines) + b"\n")
    del lines
    assert path.stat().st_size > 13_000_000
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "wh")})
    connectors = scrapers.all_connectors(settings)
    con = duckdb.connect()
    warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
    store = SnapshotStore(settings.snapshot_dir)
    tracemalloc.start()
    try:
        imported = imports.import_file(con, store, connectors, path, "test-run")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        con.close()
    assert (imported.source, imported.dataset) == ("worldbank", GDP)
    assert store.path_for(imported.sha256).read_bytes() == path.read_bytes()
    assert peak < path.stat().st_size / 4, f"{peak} bytes allocated by Python for a {path.stat().st_size}-byte file"
