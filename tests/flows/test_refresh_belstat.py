"""Belstat through the whole offline pipeline: reference replay and the real wage workbooks imported -> raw cells ->
Great Expectations -> dbt (the registry's selections) -> publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import scrapers
from flows.refresh import refresh
from tests.conftest import REFERENCE_DIR, query
from unionstat.settings import Settings

TRADE = "russia_share_foreign_trade_turnover"
INVESTMENT = "russia_share_foreign_investment"
WAGES = REFERENCE_DIR / "files" / "belstat"
VINTAGED = """
select o.indicator_code, o.period, o.value, o.unit, o.vintage, o.snapshot_sha256, s.origin, s.dataset
from intermediate.int_observations__vintaged o
join raw.snapshots s on s.sha256 = o.snapshot_sha256 and s.source = 'belstat'
where o.publisher = 'belstat' and o.country_iso3 = 'BLR'
order by o.indicator_code, o.period
"""


def test_refresh_holds_the_papers_shares_and_the_imported_wages_with_their_snapshots(warehouse_env: Settings) -> None:
    imported = [WAGES / "nach_sr_zarplata-2412.xlsx", WAGES / "nach_sr_zarplata-2501.xlsx"]

    summary = refresh(sources=list(scrapers.registry()), import_paths=[str(p) for p in imported])

    assert summary["status"] == "published"
    assert [(i["source"], i["dataset"]) for i in summary["imported"]] == [("belstat", "average_wages_by_activity")] * 2
    assert summary["new_snapshots"]["belstat"] == 2
    # Every cell: the two compiled tables (2 + 1) and the wage tables (90 rows x 4 + 91 rows x 2).
    assert summary["rows_loaded"]["raw.belstat_cells"] == 3 + 360 + 182
    assert summary["not_recorded"]["belstat"] == [
        "russia_share_exports",
        "russia_share_imports",
        "average_wages_by_activity",
    ]
    assert "belstat" not in summary["failed_sources"]
    rows = query(warehouse_env.published_db, VINTAGED)
    found = {(r[0], r[1]): r[2:] for r in rows}
    shares = {key: value for key, value in found.items() if key[0].startswith("russia_share")}
    assert len(shares) == 3
    trade_2020, trade_2021, investment = found[(TRADE, "2020")], found[(TRADE, "2021")], found[(INVESTMENT, None)]
    assert trade_2020[:3] == (47.9, "percent", date(2024, 10, 1))
    assert trade_2021[:3] == (49.0, "percent", date(2024, 10, 1))
    assert investment[:3] == (42.6, "percent", date(2024, 10, 1))
    assert trade_2020[3] == trade_2021[3] != investment[3]
    assert trade_2021[4:] == ("compiled_from_paper", TRADE)
    assert investment[4:] == ("compiled_from_paper", INVESTMENT)
    # The wages the registry selects (row 'Всего' / 'Всего / Total'), as read by eye from the files.
    wages = {key: value[:2] for key, value in found.items() if not key[0].startswith("russia_share")}
    assert wages == {
        ("average_monthly_wage_nominal", "2024-01/2024-12"): (2271.9, "BYN"),
        ("average_monthly_wage_nominal", "2024-12"): (2693.9, "BYN"),
        ("average_monthly_wage_nominal", "2025-01"): (2427.4, "BYN"),
        ("real_wage_index", "2024-01/2024-12"): (113.0, "index, same period a year earlier = 100"),
        ("real_wage_index", "2024-12"): (112.6, "index, same period a year earlier = 100"),
        ("real_wage_index", "2025-01"): (113.5, "index, same period a year earlier = 100"),
    }
    definition = query(
        warehouse_env.published_db,
        "select investment_scope, investment_measure, text_encoding from staging.stg_belstat__observations "
        "where indicator_code = ?",
        [INVESTMENT],
    )
    assert definition == [("not stated", "not stated", "windows-1251")]


def test_a_broken_belstat_file_fails_belstat_only(warehouse_env: Settings, reference_copy: Path) -> None:
    # An error page recorded where the workbook belongs: Belstat fails, the other sources publish.
    body = reference_copy / "responses" / "belstat" / "russia-share-foreign-trade.xlsx"
    body.write_bytes(b"<!DOCTYPE html><html><head><title>404</title></head><body>moved</body></html>")

    summary = refresh()

    assert summary["status"] == "partial"
    assert "found an HTML page" in summary["failed_sources"]["belstat"]
    assert summary["new_snapshots"]["worldbank"] == 10  # the real files
    rows = query(warehouse_env.published_db, "select count(*) from raw.belstat_cells")
    assert rows == [(0,)]  # none of Belstat's rows of this run, the real wage files' included
