"""UNIONSTAT_DUCKDB_* reach every DuckDB a refresh opens: unionstat's own connections and dbt-duckdb's."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from unionstat import transform, warehouse
from unionstat.settings import Settings, export_dbt_env

LIMIT = "1536MiB"  # not DuckDB's default (80% of RAM) nor unionstat's (2GB)


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
        "memory_limit": "2GB",
        "temp_directory": str(warehouse_env.build_dir / "duckdb_tmp"),
    }
    with warehouse.connection(warehouse_env.build_db) as con:
        limit, temp = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()  # type: ignore[misc]
    assert limit == _duckdb_shows("2GB") != _duckdb_shows("20GB")
    assert temp == str(warehouse_env.build_dir / "duckdb_tmp")


def test_unionstat_connections_use_the_settings(limited: Settings, tmp_path: Path) -> None:
    with warehouse.connection(limited.build_db) as con:
        row = con.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchone()
    assert row == (_duckdb_shows(LIMIT), 1, str(tmp_path / "spill"))


def test_dbt_runs_with_the_same_settings(limited: Settings, tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    limited.build_dir.mkdir(parents=True)
    export_dbt_env(limited.build_db, limited)
    sql = (
        "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
        "current_setting('temp_directory') as temp_directory"
    )
    try:
        outcome = dbtRunner().invoke(
            [
                "--quiet",
                "show",
                "--inline",
                sql,
                "--project-dir",
                str(limited.dbt_project_dir),
                "--profiles-dir",
                str(limited.dbt_project_dir),
                "--target-path",
                str(tmp_path / "dbt_target"),
                "--log-path",
                str(tmp_path / "dbt_logs"),
            ]
        )
    finally:
        transform._close_dbt_connections()
    assert outcome.success, outcome.exception
    table = outcome.result.results[0].agate_table
    assert [tuple(row) for row in table.rows] == [(_duckdb_shows(LIMIT), 1, str(tmp_path / "spill"))]
