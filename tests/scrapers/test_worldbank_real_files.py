"""The World Bank's real bulk files (warehouse/reference/files/worldbank/, byte for byte as the publisher released
them): `unionstat import`'s path takes in every cell. Expected values are read from the files independently (the
csv module, and by eye), never from the parser under test."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import duckdb
import pytest

import scrapers
from tests.conftest import REFERENCE_DIR
from unionstat import imports, load, warehouse
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

FILES = REFERENCE_DIR / "files" / "worldbank"
DATA_FILES = sorted(p.name for p in FILES.glob("API_*.csv"))


def take_in(tmp_path: Path, path: Path) -> duckdb.DuckDBPyConnection:
    """Import one file and load it, as `unionstat import` does (without the Prefect flow around it)."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "wh")})
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connectors = scrapers.all_connectors(settings)
    warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
    store = SnapshotStore(settings.snapshot_dir)
    imported = imports.import_file(con, store, connectors, path, "test-run")
    assert imported.source == "worldbank"
    result = load.load_pending(con, store, [scrapers.connector("worldbank", settings)], "test-run")
    assert not result.errors
    return con


def csv_cells(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and data lines of a bulk CSV, read with the csv module (the preamble is four lines)."""
    rows = list(csv.reader(io.StringIO(text)))
    return rows[4], [r for r in rows[5:] if r]


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_cell_of_a_real_bulk_csv_is_loaded(tmp_path: Path, name: str) -> None:
    header, lines = csv_cells((FILES / name).read_text(encoding="utf-8-sig"))
    years = [h for h in header[4:] if h]
    filled = sum(1 for line in lines for cell in line[4 : 4 + len(years)] if cell != "")

    con = take_in(tmp_path, FILES / name)

    assert con.sql("select count(*) from raw.worldbank_bulk").fetchall() == [(len(lines),)]
    cells = "select count(*) from (select unnest(year_values) as v from raw.worldbank_bulk) where v is not null"
    assert con.sql(cells).fetchall() == [(filled,)]
    assert con.sql("select years from raw.worldbank_bulk_files").fetchall() == [(years,)]


# Cells read by eye from the files (grep the country's line, take the year's column).
KNOWN_CELLS = [
    ("API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv", "RUS", "2023", 3.60000000000001, "2024-06-28"),
    ("API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv", "BLR", "2023", 3.88624214456901, "2024-06-28"),
    ("API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv", "RUS", "2022", -2.06971152527731, "2024-06-28"),
    ("API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_19327.csv", "BLR", "2018", 0.604430019855499, "2025-04-15"),
    ("API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_232.csv", "BLR", "2018", 0.60443, "2026-07-13"),
    ("API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_19327.csv", "RUS", "2021", 0.958570003509521, "2025-04-15"),
    ("API_GB.XPD.RSDV.GD.ZS_DS2_en_csv_v2_232.csv", "RUS", "2021", 0.96602, "2026-07-13"),
    ("API_IP.PAT.RESD_DS2_en_csv_v2_19391.csv", "RUS", "2021", 19569.0, "2025-04-15"),
    ("API_IP.PAT.RESD_DS2_en_csv_v2_226.csv", "BLR", "2018", 453.0, "2026-01-28"),
]


@pytest.mark.parametrize(("name", "country", "year", "value", "release"), KNOWN_CELLS)
def test_known_cells_of_the_real_files(
    tmp_path: Path, name: str, country: str, year: str, value: float, release: str
) -> None:
    con = take_in(tmp_path, FILES / name)
    rows = con.sql(
        f"select value, cast(lastupdated as varchar) from raw.worldbank_bulk_rows((select list(snapshot_sha256) "
        f"from raw.worldbank_bulk_files), true) where countryiso3code = '{country}' and date = '{year}'"
    ).fetchall()
    assert rows == [(value, release)]


def test_the_country_metadata_is_a_dimension_not_a_refused_file(tmp_path: Path) -> None:
    path = FILES / "Metadata_Country_API_IP.PAT.RESD_DS2_en_csv_v2_226.csv"
    expected = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))][1:]
    expected = [r for r in expected if r and r[0]]

    con = take_in(tmp_path, path)

    assert con.sql("select count(*) from raw.worldbank_countries").fetchall() == [(len(expected),)]  # 265
    rows = con.sql(
        "select country_code, region, income_group, table_name from raw.worldbank_countries "
        "where country_code in ('RUS', 'BLR', 'AFE') order by 1"
    ).fetchall()
    assert rows == [
        ("AFE", None, None, "Africa Eastern and Southern"),  # an aggregate: no region, no income group
        ("BLR", "Europe & Central Asia", "Upper middle income", "Belarus"),
        ("RUS", "Europe & Central Asia", "High income", "Russian Federation"),
    ]
    notes = con.sql("select special_notes from raw.worldbank_countries where country_code = 'BLR'").fetchall()
    # kept as published, non-breaking spaces included
    assert notes[0][0].startswith("Data before 2015\u00a0were adjusted to reflect the\u00a0new denomination")


def test_the_bulk_zip_as_downloaded_loads_its_data_and_its_country_member(tmp_path: Path) -> None:
    path = FILES / "population_total.zip"
    with zipfile.ZipFile(path) as archive:
        data = next(n for n in archive.namelist() if n.startswith("API_"))
        meta = next(n for n in archive.namelist() if n.startswith("Metadata_Country_"))
        _, lines = csv_cells(archive.read(data).decode("utf-8-sig"))
        countries = [r for r in csv.reader(io.StringIO(archive.read(meta).decode("utf-8-sig")))][1:]

    con = take_in(tmp_path, path)

    assert con.sql("select count(*) from raw.worldbank_bulk").fetchall() == [(len(lines),)]
    assert con.sql("select count(*) from raw.worldbank_countries").fetchall() == [
        (len([c for c in countries if c and c[0]]),)
    ]
    assert con.sql("select cast(release_date as varchar) from raw.worldbank_bulk_files").fetchall() == [("2025-04-15",)]
