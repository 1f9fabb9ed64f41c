"""An imported bulk CSV adds a vintage, rebuilt selectively as a build from scratch would; as-of picks one.

(Apart from tests/flows/test_refresh.py so that pytest-xdist's `loadfile` can run it beside the other slow files.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import file_digest, query
from tests.flows.vintages import (
    GDP_2023,
    GDP_2023_BLR,
    GDP_2023_RUS,
    TABLE2,
    assert_equals_a_full_build,
    checks_new_snapshots_only,
)
from unionstat.settings import Settings


def test_import_of_a_bulk_csv_adds_a_vintage_and_as_of_selects_one(
    reference_build: dict[str, Any], published_reference: Settings, tmp_path: Path
) -> None:
    full, warehouse_env = reference_build["summary"], published_reference  # the session's `refresh()`
    assert full["build_selection"] == "everything"
    assert full["dbt_docs_generated"] is True
    # A full build's data tests check every row; a selective build's, only what it changed (below).
    assert not checks_new_snapshots_only(warehouse_env)
    docs = warehouse_env.reports_dir / "dbt_docs" / "index.html"
    published_docs = file_digest(docs)
    # Synthetic values (not World Bank figures): they only need to differ from the reference vintage.
    csv_path = tmp_path / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    csv_path.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "1.25"}, "BLR": {"2023": "2.5"}}, "2025-07-01"))

    summary = refresh(import_paths=[str(csv_path)])

    assert summary["imported"][0]["new"] is True
    assert summary["imported"][0]["dataset"] == "NY.GDP.MKTP.KD.ZG"
    # Only the World Bank changed: dbt rebuilds what it feeds and leaves the news marts as published.
    assert summary["build_selection"] == "source:worldbank+"
    assert 0 < summary["dbt_models"] < full["dbt_models"]
    # Same code as the published build: its docs stand (not generated again, not replaced by a stale page).
    assert summary["dbt_docs_generated"] is False
    assert file_digest(docs) == published_docs
    built = {
        node
        for (node,) in query(
            warehouse_env.warehouse_dir / "dq_history.duckdb",
            "select unique_id from dbt_results where run_id = ? and resource_type = 'model'",
            [summary["run_id"]],
        )
    }
    assert {"model.unionstat.int_observations__vintaged", "model.unionstat.mart_table2_country_comparison"} <= built
    assert checks_new_snapshots_only(warehouse_env)
    # The vintages' tests check the rows this build wrote: the figures of the new release, not the older rows.
    stamps = "select count(distinct taken_in_at) from intermediate.int_observations__vintaged"
    assert query(warehouse_env.published_db, stamps) == [(2,)]
    assert not {"model.unionstat.mart_news_items", "model.unionstat.stg_osw__articles"} & built
    # The data tests of what was rebuilt ran again; the unit tests (code only, same code) did not.
    kinds = {
        run: dict(
            query(
                warehouse_env.warehouse_dir / "dq_history.duckdb",
                "select resource_type, count(*) from dbt_results where run_id = ? group by all",
                [run],
            )
        )
        for run in (full["run_id"], summary["run_id"])
    }
    assert kinds[full["run_id"]].get("unit_test", 0) > 0
    assert kinds[summary["run_id"]].get("test", 0) > 0
    assert "unit_test" not in kinds[summary["run_id"]]
    # The marts' dbt tests run on the rebuilt marts only: the news marts were tested when they were built.
    tested = {
        model
        for (model,) in query(
            warehouse_env.warehouse_dir / "dq_history.duckdb",
            "select distinct model from dbt_results where run_id = ? and resource_type = 'test'",
            [summary["run_id"]],
        )
    }
    assert "mart_table2_country_comparison" in tested
    assert "mart_news_items" not in tested
    db = warehouse_env.published_db
    assert query(db, "select count(*) from marts.mart_news_items")[0][0] > 0
    assert query(db, GDP_2023) == [
        ("BLR", "2024-06-28", GDP_2023_BLR, False),
        ("BLR", "2025-07-01", 2.5, True),
        ("RUS", "2024-06-28", GDP_2023_RUS, False),
        ("RUS", "2025-07-01", 1.25, True),
    ]
    newest = {r[0]: r[1:3] for r in query(db, TABLE2)}
    assert newest["gdp_growth"] == (1.25, 2.5)
    assert_equals_a_full_build(warehouse_env, db, tmp_path / "full-build")
    revision = (
        "select vintage, previous_value, value from marts.mart_revisions "
        "where country_iso3 = 'RUS' and indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023'"
    )
    assert [(str(v), a, b) for v, a, b in query(db, revision)] == [("2025-07-01", GDP_2023_RUS, 1.25)]

    # The same release fetched again with Russia's value back at 3.6 (the real file wrote 3.60000000000001: the same
    # value at the precision printed, no revision): the later fetch settles the vintage, and the incremental models
    # drop the revision it no longer has (rows a figure loses, not only rows it gains).
    csv_path.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "3.6"}, "BLR": {"2023": "2.5"}}, "2025-07-01"))
    assert refresh(import_paths=[str(csv_path)])["build_selection"] == "source:worldbank+"
    assert query(db, revision) == []
    assert_equals_a_full_build(warehouse_env, db, tmp_path / "full-build-2")

    refresh(as_of="2024-12-31")
    as_of = {r[0]: r[1:3] for r in query(db, TABLE2)}
    assert as_of["gdp_growth"] == (GDP_2023_RUS, GDP_2023_BLR)
