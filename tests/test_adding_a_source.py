"""Adding a source takes six files (docs/ARCHITECTURE.md, "Adding a source"): this test writes a toy publisher's
connector module, registry entry, staging model with its yml, expectation suite and recording into temporary
copies, touches nothing else, and follows its rows through fetch, load, validation and dbt into the marts."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import scrapers
from tests.conftest import plant_recording, query
from unionstat import transform, validate, warehouse
from unionstat.fetch import fetch_source
from unionstat.http import HttpClient
from unionstat.load import load_pending
from unionstat.settings import PROJECT_ROOT, Settings
from unionstat.snapshots import SnapshotStore

BASE_URL = "https://toy-statistics.example.org"
#: What the toy publisher sends: the values asserted downstream are these, not what any code computed.
CSV = b"indicator_code,country_iso3,year,value,unit\ntoy_index,RUS,2023,101.5,index\ntoy_index,BLR,2023,99.25,index\n"

# 1. the connector module (scrapers/<name>.py; here a module on a temporary import path)
MODULE = '''
"""A toy publisher: one CSV of observations per dataset."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from scrapers.base import Capture, Connector, Previous, SnapshotMeta
from unionstat.errors import ParseError
from unionstat.http import HttpClient

COLUMNS = ["indicator_code", "country_iso3", "year", "value", "unit"]


class Toy(Connector):
    raw_ddl = """
    create table if not exists raw.toy_observations (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        indicator_code varchar,
        country_iso3 varchar,
        year integer,
        value double,
        unit varchar
    )
    """

    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        fetched = self.get_if_changed(http, f"{self.base_url}/{dataset}.csv", previous)
        return [] if fetched is None else [Capture(dataset, fetched, None)]

    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        frame = pd.read_csv(io.BytesIO(body))
        if list(frame.columns) != COLUMNS or frame.empty:
            raise ParseError(self.name, meta.request_url, f"a CSV with rows of {COLUMNS}", str(list(frame.columns)))
        return frame
CONNECTOR = Toy
'''

# 2. the registry entry
ENTRY = {
    "publisher": "Toy Statistics Office (a test's synthetic publisher)",
    "module": "toy_connector",
    "base_url": BASE_URL,
    "raw_table": "raw.toy_observations",
    "licence": "synthetic test data",
    "release_cadence_days": 30,
    "release_cadence": "monthly",
    "datasets": {"toy_index": "a toy index, previous year = 100"},
}

# 3. the staging model and its yml (the raw table's source declared beside the model)
STAGING_SQL = """
with observations as (
    select * from {{ source('toy', 'toy_observations') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        indicator_code,
        country_iso3,
        cast(year as varchar) as period,
        value,
        unit,
        cast(null as date) as release_date
    from observations
)

select * from final
"""
STAGING_YML = """
version: 2

sources:
  - name: toy
    schema: raw
    tables:
      - name: toy_observations

models:
  - name: stg_toy__observations
    config:
      meta:
        observations: {}
    description: One row per snapshot and row of a toy CSV.
    columns:
      - name: snapshot_sha256
        tests: [not_null]
"""

# 4. the expectation suite of its raw table
SUITE = {
    "name": "raw.toy_observations",
    "meta": {"description": "Rows of the toy CSV."},
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}, "severity": "critical"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}, "severity": "critical"},
    ],
}


def add_toy_source(root: Path, modules: Path, reference: Path) -> Path:
    """Copies of the dbt project and the suites under `root` with the toy's files added; returns the registry."""
    shutil.copytree(PROJECT_ROOT / "dbt_project", root / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(PROJECT_ROOT / "expectations", root / "expectations")
    (modules / "toy_connector.py").write_text(textwrap.dedent(MODULE).lstrip(), encoding="utf-8")
    registry = json.loads(scrapers.REGISTRY_PATH.read_text(encoding="utf-8"))
    registry["toy"] = ENTRY
    (root / "sources.json").write_text(json.dumps(registry, ensure_ascii=False), encoding="utf-8")
    staging = root / "dbt_project" / "models" / "staging" / "toy"
    staging.mkdir()
    (staging / "stg_toy__observations.sql").write_text(STAGING_SQL.lstrip(), encoding="utf-8")
    (staging / "stg_toy__observations.yml").write_text(STAGING_YML.lstrip(), encoding="utf-8")
    (root / "expectations" / "raw.toy_observations.json").write_text(json.dumps(SUITE), encoding="utf-8")
    # 5. its recording; 6. its tests: this file
    plant_recording(reference, "toy", f"{BASE_URL}/toy_index.csv", CSV, "toy_index.csv", {"Content-Type": "text/csv"})
    return root / "sources.json"


def test_a_source_added_in_six_files_reaches_the_marts(
    published_reference: Settings, reference_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    monkeypatch.syspath_prepend(str(modules))
    registry_path = add_toy_source(tmp_path / "project", modules, reference_copy)
    settings = Settings.from_env().model_copy(update={"project_root": tmp_path / "project"})
    assert settings.reference_dir == reference_copy.resolve()
    configs = scrapers.load_registry(registry_path)
    connectors = [scrapers.connector_for(config, settings) for config in configs.values()]
    toy = connectors[-1]
    assert toy.name == "toy" and type(toy).__module__ == "toy_connector"

    # Load: what a refresh does for one source, on a build copy of the published reference warehouse
    warehouse.begin_build(settings)
    store = SnapshotStore(settings.snapshot_dir)
    http = HttpClient(settings)
    try:
        with warehouse.connection(settings.build_db) as con:
            warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
            warehouse.write_sources(con, list(configs.values()))
            fetched = fetch_source(con, store, http, toy, "toy-run")
            assert not fetched.failed and len(fetched.new) == 1, fetched
            loaded = load_pending(con, store, [toy], "toy-run")
            assert loaded.errors == {} and loaded.rows == {"raw.toy_observations": 2}
            report = validate.validate_new_rows(settings, con, loaded.snapshots, "toy-run")
    finally:
        http.close()
    report.gate()
    assert {o.table for o in report.outcomes} == {"raw.toy_observations"} and report.passed >= 2

    # Process: dbt builds what the new source feeds, from the copied project with the toy's staging model
    assert "stg_toy__observations" in transform.observation_models(settings.dbt_project_dir)
    built = transform.dbt_build(settings, settings.build_db, select=["source:toy+"])
    assert built.statuses["model.unionstat.stg_toy__observations"] == "success"
    # Every node built and every error-severity test passed; warnings are allowed (the mart tests' `severity: warn`).
    not_ok = {node: status for node, status in built.statuses.items() if status not in ("success", "pass")}
    assert all(status.startswith("warn") for status in not_ok.values()), not_ok

    # Save: the toy's rows in the union of every release and in the analysts' catalog of variables
    published = query(
        settings.build_db,
        "select country_iso3, period, value, unit, origin from intermediate.int_observations__published "
        "where publisher = 'toy' order by country_iso3",
    )
    assert published == [("BLR", "2023", 99.25, "index", "synthetic"), ("RUS", "2023", 101.5, "index", "synthetic")]
    variables = query(
        settings.build_db,
        "select indicator_code, publisher_name, observations, countries, first_period, origins "
        "from marts.mart_variables where publisher = 'toy'",
    )
    assert variables == [("toy_index", ENTRY["publisher"], 2, 2, "2023", "synthetic")]
    others = query(settings.build_db, "select count(distinct publisher) from marts.mart_variables")
    assert others == [(5,)]  # the four statistics publishers are still there beside the toy
