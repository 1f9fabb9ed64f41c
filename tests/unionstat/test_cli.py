"""The command line, as a person uses it, on a warehouse built from the reference snapshot."""

from __future__ import annotations

import pytest

from flows.refresh import refresh
from unionstat.cli import main
from unionstat.settings import Settings


@pytest.fixture
def published(warehouse_env: Settings) -> Settings:
    refresh()
    return warehouse_env


def test_sql_answers_from_the_published_warehouse(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "select country_iso3, value from intermediate.int_observations__as_of order by 1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "BLR" in out and "3.9" in out and "RUS" in out and "3.6" in out


def test_sql_cannot_write(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "delete from raw.snapshots"])
    err = capsys.readouterr().err
    assert code == 2
    assert "read-only" in err


def test_audit_prints_every_table2_figure(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "t2_gdp_rus" in out and "match" in out and "not reproducible" in out


def test_sources_lists_the_last_snapshot(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "worldbank" in out and "1 snapshots" in out and "last release 2024-10-01" in out


def test_without_a_warehouse_the_user_is_told_to_run_make_run(
    warehouse_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1"]) == 2
    assert "run `make run` first" in capsys.readouterr().err


def test_a_bad_date_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["refresh", "--as-of", "2024-13-01"])
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err
