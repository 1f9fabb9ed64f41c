"""UNIONSTAT_DUCKDB_* reach every DuckDB a refresh opens: unionstat's own connections and dbt-duckdb's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from unionstat import transform, warehouse
from unionstat.settings import Settings

LIMIT = "1536MiB"  # not DuckDB's default (80% of RAM) nor unionstat's (500MB)


def _duckdb_shows(limit: str) -> str:
    """How DuckDB itself prints a memory limit (e.g. '1.5 GiB'), from a connection configured with it."""
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        return str(con.execute("select current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.fixture
def limited(warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv("UNIONSTAT_DUCKDB_MEMORY_LIMIT", LIMIT)
    monkeypatch.setenv("UNIONSTAT_DUCKDB_THREADS", "1")
    monkeypatch.setenv("UNIONSTAT_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    return Settings.from_env()


def test_defaults_cap_memory_and_spill_beside_the_build(warehouse_env: Settings) -> None:
    assert warehouse_env.duckdb_config() == {
        "memory_limit": "500MB",  # a quarter of the default UNIONSTAT_MEMORY_LIMIT, 2GB
        "temp_directory": str(warehouse_env.build_dir / "duckdb_tmp"),
    }
    with warehouse.connection(warehouse_env.build_db) as con:
        limit, temp = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()  # type: ignore[misc]
    assert limit == _duckdb_shows("500MB") != _duckdb_shows("1GB")
    assert temp == str(warehouse_env.build_dir / "duckdb_tmp")


def test_unionstat_connections_use_the_settings(limited: Settings, tmp_path: Path) -> None:
    with warehouse.connection(limited.build_db) as con:
        row = con.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchone()
    assert row == (_duckdb_shows(LIMIT), 1, str(tmp_path / "spill"))


def _dbt_show(settings: Settings, tmp_path: Path, sql: str) -> Any:
    """dbt show with the vars unionstat's dbt build passes (profiles.yml reads them: no environment involved)."""
    from dbt.cli.main import dbtRunner

    folders = ["--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.dbt_project_dir)]
    folders += ["--target-path", str(tmp_path / "dbt_target"), "--log-path", str(tmp_path / "dbt_logs")]
    folders += ["--vars", json.dumps(settings.dbt_vars(settings.build_db))]
    outcome = dbtRunner().invoke(["--quiet", "show", "--inline", sql, *folders])
    assert outcome.success, outcome.exception
    return outcome.result.results[0].agate_table


def test_dbt_runs_with_the_same_settings(limited: Settings, tmp_path: Path) -> None:
    limited.build_dir.mkdir(parents=True)
    sql = (
        "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
        "current_setting('temp_directory') as temp_directory"
    )
    try:
        table = _dbt_show(limited, tmp_path, sql)
    finally:
        transform._close_dbt_connections()
    assert [tuple(row) for row in table.rows] == [(_duckdb_shows(LIMIT), 1, str(tmp_path / "spill"))]


def test_dbt_keeps_working_after_duckdb_spilled(
    limited: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sort bigger than the limit spills; the next dbt cursor must not try to move the temp directory."""
    monkeypatch.setenv("UNIONSTAT_DUCKDB_MEMORY_LIMIT", "64MB")
    settings = Settings.from_env()
    settings.build_dir.mkdir(parents=True)
    spill = "select count(distinct h) as n from (select md5(range::varchar) as h from range(2000000) order by h)"
    try:
        first = _dbt_show(settings, tmp_path, spill)
        second = _dbt_show(settings, tmp_path, "select current_setting('memory_limit') as memory_limit")
    finally:
        transform._close_dbt_connections()
    assert [tuple(row) for row in first.rows] == [(2_000_000,)]
    assert [tuple(row) for row in second.rows] == [(_duckdb_shows("64MB"),)]
