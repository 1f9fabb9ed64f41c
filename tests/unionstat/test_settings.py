"""Typed settings: read once from UNIONSTAT_* variables, a bad value stops with one line naming the variable."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from unionstat.cli import main
from unionstat.settings import NOT_FROM_ENV, PROJECT_ROOT, Settings, SettingsInvalid

ENV_EXAMPLE = PROJECT_ROOT / ".env.example"


def example_lines() -> list[tuple[str, str, str]]:
    """(variable, value, the comment above it) of each UNIONSTAT_ assignment in .env.example."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        match = re.fullmatch(r"#? ?(UNIONSTAT_[A-Z0-9_]+)=(.*)", line)
        if match:
            found.append((match.group(1), match.group(2), lines[index - 1]))
    return found


def test_env_example_lists_every_setting() -> None:
    listed = {name for name, _, _ in example_lines()}
    fields = {f"UNIONSTAT_{name.upper()}" for name in Settings.model_fields if name not in NOT_FROM_ENV}
    assert fields - listed == set()
    assert "UNIONSTAT_WORLDBANK_BASE_URL" in listed  # the per-source overrides, by example
    # and the other endpoints connectors read (belstat.py, wipo.py: settings.base_url("<source>_<kind>", ...))
    assert {"UNIONSTAT_BELSTAT_API_BASE_URL", "UNIONSTAT_WIPO_BACKEND_BASE_URL"} <= listed


def test_env_example_states_the_defaults_the_settings_have() -> None:
    """Where .env.example's comment says `Default: <the value shown>`, that value changes nothing."""
    defaults = Settings.from_env({})
    checked = []
    for name, value, comment in example_lines():
        if comment.endswith(f"Default: {value}") and name != "UNIONSTAT_DBT_DB_PATH":  # dbt's, not a setting
            assert Settings.from_env({name: value}) == defaults, name
            checked.append(name)
    assert len(checked) >= 8, checked  # mode, timeouts, retries, sizes, lock, memory: the numbers a user tunes


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UNIONSTAT_HTTP_TIMEOUT_S": "soon"}, "UNIONSTAT_HTTP_TIMEOUT_S: expected a valid number, found 'soon'"),
        ({"UNIONSTAT_MODE": "offline"}, "UNIONSTAT_MODE: expected 'replay' or 'live', found 'offline'"),
        ({"UNIONSTAT_HTTP_RETRIES": "2.5"}, "UNIONSTAT_HTTP_RETRIES: expected a valid integer, found '2.5'"),
        (
            {"UNIONSTAT_MAX_RESPONSE_BYTES": "0"},
            "UNIONSTAT_MAX_RESPONSE_BYTES: expected a value greater than 0, found '0'",
        ),
        (
            {"UNIONSTAT_FETCH_CONCURRENCY": "0"},
            "UNIONSTAT_FETCH_CONCURRENCY: expected a value greater than or equal to 1, found '0'",
        ),
        (
            {"UNIONSTAT_FETCH_RETRY_DELAYS_S": "2,later"},
            "UNIONSTAT_FETCH_RETRY_DELAYS_S: expected a valid number, found 'later'",
        ),
        (
            {"UNIONSTAT_LOCK_TIMEOUT_S": "-1", "UNIONSTAT_DUCKDB_THREADS": "two"},
            "UNIONSTAT_LOCK_TIMEOUT_S: expected a value greater than or equal to 0, found '-1'; "
            "UNIONSTAT_DUCKDB_THREADS: expected a valid integer, found 'two'",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalid) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    assert not isinstance(caught.value.__cause__, ValidationError)  # pydantic's multi-line report is not chained


def test_the_cli_says_the_bad_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONSTAT_HTTP_RETRIES", "many")
    assert main(["dq"]) == 2
    err = capsys.readouterr().err
    assert err == "unionstat: UNIONSTAT_HTTP_RETRIES: expected a valid integer, found 'many'\n"


def test_values_are_typed_and_empty_means_unset() -> None:
    settings = Settings.from_env(
        {
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_HTTP_TIMEOUT_S": "2.5",
            "UNIONSTAT_HTTP_RETRIES": "0",
            "UNIONSTAT_FETCH_RETRY_DELAYS_S": " 1, 5 ,30",
            "UNIONSTAT_WAREHOUSE_DIR": "relative/wh",
            "UNIONSTAT_CA_BUNDLE": "",
            "UNIONSTAT_DUCKDB_THREADS": "",
            "UNIONSTAT_DUCKDB_MEMORY_LIMIT": "",
            "UNIONSTAT_WORLDBANK_BASE_URL": "http://127.0.0.1:8080/",
            "UNIONSTAT_RG_BASE_URL": "",
        }
    )
    assert settings.mode == "live"
    assert settings.http_timeout_s == 2.5 and settings.http_retries == 0
    assert settings.fetch_retry_delays_s == (1.0, 5.0, 30.0)
    assert settings.warehouse_dir.is_absolute() and settings.warehouse_dir.parts[-2:] == ("relative", "wh")
    assert settings.ca_bundle is None and settings.duckdb_threads is None
    assert settings.duckdb_memory_limit == "500MB"  # a quarter of the default 2GB
    assert settings.base_urls == {"worldbank": "http://127.0.0.1:8080"}
    assert settings.base_url("rg", "https://rg.ru/") == "https://rg.ru"
    assert Settings.from_env({"UNIONSTAT_FETCH_RETRY_DELAYS_S": ""}).fetch_retry_delays_s == ()  # no retries


def test_a_given_mapping_is_read_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONSTAT_MODE", "live")
    monkeypatch.setenv("UNIONSTAT_OSW_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("UNIONSTAT_PROJECT_ROOT", "/elsewhere")
    assert Settings.from_env().mode == "live"
    assert Settings.from_env().base_urls == {"osw": "http://127.0.0.1:9"}
    assert Settings.from_env().project_root == PROJECT_ROOT  # the checkout the code runs from, not a variable
    alone = Settings.from_env({})
    assert (alone.mode, dict(alone.base_urls)) == ("replay", {})


def test_settings_are_frozen_and_with_mode_checks_the_mode() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ValidationError):
        settings.mode = "live"  # type: ignore[misc]
    assert settings.with_mode("live").mode == "live" and settings.mode == "replay"
    with pytest.raises(SettingsInvalid, match=r"mode: expected one of \('replay', 'live'\), found 'offline'"):
        settings.with_mode("offline")


def test_dbt_gets_the_build_database_and_duckdb_resources_as_vars(tmp_path_factory: pytest.TempPathFactory) -> None:
    spill = tmp_path_factory.mktemp("spill")
    resources = {"MEMORY_LIMIT": "1GB", "THREADS": "1", "TEMP_DIR": str(spill)}
    settings = Settings.from_env({f"UNIONSTAT_DUCKDB_{name}": value for name, value in resources.items()})
    assert settings.dbt_vars(settings.build_db) == {
        "unionstat_db_path": str(PROJECT_ROOT / "warehouse" / "build" / "unionstat.duckdb"),
        "unionstat_duckdb_memory_limit": "1GB",
        "unionstat_duckdb_threads": "1",
        "unionstat_duckdb_temp_dir": str(spill),
    }
    profiles = (settings.dbt_project_dir / "profiles.yml").read_text(encoding="utf-8")
    for name in settings.dbt_vars(settings.build_db):
        assert f"var('{name}'" in profiles, name
