"""Belstat through the whole offline pipeline: reference replay -> raw -> Great Expectations -> dbt -> publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.refresh import refresh
from tests.conftest import query
from unionstat.settings import Settings

TRADE = "russia_share_foreign_trade_turnover"
INVESTMENT = "russia_share_foreign_investment"
VINTAGED = """
select o.indicator_code, o.period, o.value, o.unit, o.vintage, o.snapshot_sha256, s.origin, s.dataset
from intermediate.int_observations__vintaged o
join raw.snapshots s on s.sha256 = o.snapshot_sha256 and s.source = 'belstat'
where o.publisher = 'belstat' and o.country_iso3 = 'BLR'
order by o.indicator_code, o.period
"""


def test_refresh_holds_the_trade_shares_and_the_investment_share_with_their_snapshots(
    warehouse_env: Settings,
) -> None:
    summary = refresh()

    assert summary["status"] == "published"
    assert summary["new_snapshots"]["belstat"] == 2
    assert summary["rows_loaded"]["raw.belstat_observations"] == 3
    assert summary["not_recorded"]["belstat"] == ["russia_share_exports", "russia_share_imports"]
    assert "belstat" not in summary["failed_sources"]
    rows = query(warehouse_env.published_db, VINTAGED)
    found = {(r[0], r[1]): r[2:] for r in rows}
    assert len(rows) == 3
    trade_2020, trade_2021, investment = found[(TRADE, "2020")], found[(TRADE, "2021")], found[(INVESTMENT, None)]
    assert trade_2020[:3] == (47.9, "percent", date(2024, 10, 1))
    assert trade_2021[:3] == (49.0, "percent", date(2024, 10, 1))
    assert investment[:3] == (42.6, "percent", date(2024, 10, 1))
    assert trade_2020[3] == trade_2021[3] != investment[3]
    assert trade_2021[4:] == ("reference:belstat-russia-share-foreign-trade-2020-2021", TRADE)
    assert investment[4:] == ("reference:belstat-russia-share-foreign-investment", INVESTMENT)
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
    assert summary["new_snapshots"]["worldbank"] == 1
    rows = query(warehouse_env.published_db, "select count(*) from raw.belstat_observations")
    assert rows == [(0,)]
