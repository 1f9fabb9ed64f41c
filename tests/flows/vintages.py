"""What the World Bank's GDP growth release of 2024-06-28 holds, and a full build to compare a selective one with."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from tests.conftest import query
from unionstat import transform
from unionstat.settings import Settings

TABLE2 = (
    "select metric_id, russia_value, belarus_value, pct_difference, higher_in, russia_vintage, status "
    "from marts.mart_table2_country_comparison order by display_order"
)


# Read by hand from warehouse/reference/files/worldbank/API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv (the real
# World Bank release of 2024-06-28): the 2023 cells of the lines "Russian Federation","RUS" and "Belarus","BLR".
GDP_2023_RUS = 3.60000000000001
GDP_2023_BLR = 3.88624214456901
GDP_RELEASE = date(2024, 6, 28)
GDP_2023 = (
    "select country_iso3, cast(vintage as varchar), value, is_current from intermediate.int_observations__vintaged "
    "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023' and country_iso3 in ('RUS', 'BLR') order by 1, 2"
)


def checks_new_snapshots_only(settings: Settings) -> bool:
    """Whether the last build checked the World Bank's new rows only: the uniqueness of bulk lines limited to the
    snapshots not taken in yet, and the staging rows' uniqueness (which follows from it: full_build_only) not read
    (the SQL each test ran, from the build's run results)."""
    results = json.loads((settings.build_dir / transform.BUILD_RESULTS).read_text())["results"]
    compiled = {r["unique_id"].split(".")[2]: r["compiled_code"] for r in results if r["unique_id"].startswith("test.")}
    (lines,) = [
        code
        for name, code in compiled.items()
        if name.startswith("source_unique_combination_of_columns_worldbank_worldbank_bulk_")
    ]
    (rows,) = [
        code
        for name, code in compiled.items()
        if name.startswith("unique_combination_of_columns_stg_worldbank__observations_")
    ]
    return "snapshot_sha256 is null or snapshot_sha256 not in ('" in lines and "and false" in rows


def assert_equals_a_full_build(settings: Settings, published: Path, folder: Path) -> None:
    """The incremental models after a selective build hold what a build from scratch of the same inputs holds."""
    copy = folder / published.name  # the same database name: dbt's parse of the published build is reused
    folder.mkdir()
    shutil.copy2(published, copy)
    transform.dbt_build(settings, copy, select=None)
    relations = query(
        published,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by 1",
    )
    assert ("intermediate.int_observations__as_of",) in relations and ("marts.mart_revisions",) in relations
    # A build rewrites each figure it takes in whole: one stamp per figure (the models downstream read a build's
    # figures by its stamp, macro rows_of_figures_taken_in).
    stamps = "select count(distinct taken_in_at) as stamps from intermediate.int_observations__vintaged group by "
    stamps += "publisher, indicator_code, country_iso3, period having stamps > 1"
    assert query(published, stamps) == []
    for (relation,) in relations:
        if relation == "intermediate.int_observations__revised":
            continue  # what the last build compared: empty after a full build, by design
        # taken_in_at says which build inserted a row, predecessor_sha256 the release that build compared it with
        # (a release that arrives late is compared with the one before it then): they differ by design.
        columns = {name for (name,) in query(published, f"select column_name from (describe {relation})")}
        by_build = sorted(columns & {"taken_in_at", "predecessor_sha256"})
        sql = (
            f"select * exclude ({', '.join(by_build)}) from {relation} order by all"
            if by_build
            else (f"select * from {relation} order by all")
        )
        assert query(published, sql) == query(copy, sql), relation
