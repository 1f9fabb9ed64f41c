"""The inventory: flows, deployments, sources, raw tables, marts and suites, pinned so that a change shows in a diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

import scrapers
from flows.refresh import refresh
from tests.dbt.test_postgres import DUCKDB_ONLY_UNIT_TESTS
from unionstat.settings import PROJECT_ROOT

FLOWS = {"refresh"}
# The one pinned list of sources (losing or adding one shows in this diff); every other test and module that
# needs the sources reads them from the registry, scrapers/sources.json.
DEPLOYMENTS = {"news-daily", "statistics-weekly", "belstat-monthly", "full-weekly", "replay"}
SOURCES = {
    "worldbank": "raw.worldbank_observations",
    "wipo": "raw.wipo_observations",
    "belstat": "raw.belstat_cells",
    "rosstat": "raw.rosstat_cells",
    "osw": "raw.osw_articles",
    "rg": "raw.rg_articles",
}
# Raw tables beside a source's own that some of its snapshots load into (World Bank bulk CSVs, kept wide).
MORE_RAW_TABLES = {"worldbank": ("raw.worldbank_bulk", "raw.worldbank_countries")}
RAW_TABLES = set(SOURCES.values()) | {t for tables in MORE_RAW_TABLES.values() for t in tables}
MARTS = {
    "mart_countries",
    "mart_gdp_growth_eaeu",
    "mart_gdp_growth_vintages",
    "mart_news_counts_by_sector_month",
    "mart_news_item_categories",
    "mart_news_items",
    "mart_news_joint_initiatives_by_sector",
    "mart_news_support_by_paper_row",
    "mart_paper_cited_statistics",
    "mart_paper_facts",
    "mart_patent_applications_by_year",
    "mart_reconciliation",
    "mart_replication_audit",
    "mart_revisions",
    "mart_snapshot_provenance",
    "mart_table1_cooperation_aspects",
    "mart_table2_country_comparison",
    "mart_table2_country_values",
    "mart_table3_joint_initiatives",
    "mart_table4_uniformity_by_sector",
    "mart_table4_uniformity_statistics",
    "mart_table4_uniformity_test",
    "mart_table5_correlation",
    "mart_table5_correlation_statistics",
    "mart_table5_shares_by_year",
    "mart_table5_trade_investment",
    "mart_table6_challenges",
    "mart_table7_digitalization",
    "mart_variables",
}


def test_flows() -> None:
    assert {refresh.name} == FLOWS


def test_deployments_of_prefect_yaml() -> None:
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    assert {d["name"] for d in declared} == DEPLOYMENTS
    assert {d["entrypoint"] for d in declared} == {"flows/refresh.py:refresh"}
    registry = set(scrapers.registry())
    for deployment in declared:
        unknown = set(deployment.get("parameters", {}).get("sources") or []) - registry
        assert not unknown, f"{deployment['name']} names sources the registry does not have: {unknown}"


def test_every_source_of_the_registry_is_fetched_live_on_a_schedule_without_editing_prefect_yaml() -> None:
    """A deployment without `sources` takes the whole registry (flows.refresh): a new source is scheduled by the
    full rebuild and replayed by `replay` with no entry here; a publisher's own schedule names it at most once."""
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    every_source = [d for d in declared if not d.get("parameters", {}).get("sources")]
    assert {d["name"] for d in every_source if d["parameters"].get("live") and d.get("schedules")} == {"full-weekly"}
    assert {d["name"] for d in every_source if d["parameters"].get("live") is False} == {"replay"}
    named = [s for d in declared for s in d.get("parameters", {}).get("sources") or []]
    assert len(named) == len(set(named)), f"a source with two schedules of its own: {sorted(named)}"


def test_sources_and_their_raw_tables() -> None:
    assert {name: config.raw_table for name, config in scrapers.registry().items()} == SOURCES
    registry = scrapers.registry().items()
    assert {name: config.more_raw_tables for name, config in registry if config.more_raw_tables} == MORE_RAW_TABLES


def test_every_raw_table_a_source_loads_is_created_by_its_ddl() -> None:
    import duckdb

    from unionstat import warehouse
    from unionstat.settings import Settings

    con = duckdb.connect()
    connectors = scrapers.all_connectors(Settings.from_env())
    warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
    created = {
        f"raw.{t}"
        for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    }
    # raw.snapshots, raw.fetch_log and raw.loads record fetches and loads; worldbank_bulk_files, each bulk file's years;
    # snapshot_quarantine and snapshot_retractions, the snapshots kept out of loads and out of the marts;
    # snapshot_layouts, each loaded snapshot's structural fingerprint.
    assert created - RAW_TABLES == {
        "raw.snapshots",
        "raw.fetch_log",
        "raw.loads",
        "raw.worldbank_bulk_files",
        "raw.snapshot_quarantine",
        "raw.snapshot_retractions",
        "raw.snapshot_layouts",
    }


def test_every_source_can_be_pointed_at_another_host() -> None:
    from unionstat.settings import Settings

    for name in scrapers.registry():
        settings = Settings.from_env({f"UNIONSTAT_{name.upper()}_BASE_URL": "http://127.0.0.1:9"})
        assert scrapers.connector(name, settings).base_url == "http://127.0.0.1:9"


def test_marts() -> None:
    models = PROJECT_ROOT / "dbt_project" / "models" / "marts"
    found = {p.stem for p in models.rglob("*") if p.suffix in (".sql", ".py")}
    assert found == MARTS


def test_every_raw_table_has_an_expectation_suite_and_every_mart_its_dbt_tests() -> None:
    """Each rule is declared once: GX suites check what was loaded (raw), the marts' yml what dbt built."""
    suites = {p.stem for p in (PROJECT_ROOT / "expectations").glob("*.json")}
    assert suites == RAW_TABLES
    tested: dict[str, int] = {}
    for path in (PROJECT_ROOT / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            columns = model.get("columns", [])
            count = len(model.get("data_tests", [])) + sum(len(c.get("tests", [])) for c in columns)
            tested[model["name"]] = count
    assert {mart for mart in MARTS if tested.get(mart, 0) == 0} == set()


def test_every_dbt_unit_test_written_is_one_dbt_reads(reference_build: dict[str, Any]) -> None:
    """dbt reads `unit_tests:` at the top level of a properties file only: nested under a model's entry it is
    ignored without a word (three were, until session 14, and never ran). Every unit test in the YAML is one the
    reference build's dbt parsed (its manifest), and none is nested."""
    written: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml")):
        properties = yaml.safe_load(path.read_text()) or {}
        nested = [(t, m["name"]) for m in properties.get("models", []) for t in m.get("unit_tests", [])]
        written |= {f"{t['model']}.{t['name']}": path.name for t in properties.get("unit_tests", [])}
        written |= {f"{model}.{t['name']}": f"{path.name}, nested" for t, model in nested}
    manifest_path = reference_build["warehouse_dir"] / "build" / "dbt_target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    read = {f"{t['model']}.{t['name']}" for t in manifest["unit_tests"].values()}
    assert {name: where for name, where in written.items() if name not in read} == {}
    assert set(written) == read
    # a unit test's name names a relation it builds: PostgreSQL takes 63 characters (its build checks which run)
    on_postgres = read - DUCKDB_ONLY_UNIT_TESTS
    assert [name for name in on_postgres if len(name.split(".", 1)[1]) > 63] == []


def test_a_long_rows_suite_repeats_the_expectations_of_its_long_twin() -> None:
    suites = PROJECT_ROOT / "expectations"
    bulk = json.loads((suites / "raw.worldbank_bulk.json").read_text())
    api = json.loads((suites / "raw.worldbank_observations.json").read_text())
    assert bulk["meta"]["rows_macro"] == "raw.worldbank_bulk_rows"
    assert bulk["expectations"] == api["expectations"]
    # the same comparison; the wide table names the macro that compares its lines first
    assert bulk["meta"]["changed_rows"].pop("macro") == "raw.worldbank_bulk_changed_rows"
    assert bulk["meta"]["changed_rows"] == api["meta"]["changed_rows"]


def test_every_mart_documents_its_grain() -> None:
    models = PROJECT_ROOT / "dbt_project" / "models" / "marts"
    described: dict[str, str] = {}
    for path in models.rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            described[model["name"]] = " ".join(str(model.get("description", "")).split()).lower()
    for mart in MARTS:
        assert "one row per" in described.get(mart, "") or "grain" in described.get(mart, ""), mart


def test_every_reference_recording_says_what_it_was_compiled_from() -> None:
    manifest = json.loads((PROJECT_ROOT / "warehouse" / "reference" / "manifest.json").read_text())
    assert "not fetched" in manifest["statement"].lower() or "nothing here was fetched" in manifest["statement"].lower()
    for recording in manifest["recordings"]:
        assert recording["source"] in scrapers.registry()
        assert recording["origin"] == "compiled_from_paper", recording["id"]
        assert recording.get("compiled_from"), recording["id"]
        assert Path(PROJECT_ROOT / "warehouse" / "reference" / recording["body"]).is_file()


def test_every_real_file_of_the_reference_names_where_it_was_recorded() -> None:
    import hashlib

    reference = PROJECT_ROOT / "warehouse" / "reference"
    manifest = json.loads((reference / "manifest.json").read_text())
    listed = set()
    for item in manifest["files"]:
        assert item["source"] in scrapers.registry() and item["origin"] == "recorded_third_party", item["id"]
        assert item["publisher"] and item["licence"] and item["release"] and item["recorded_by"], item["id"]
        assert set(item["recorded_in"]) == {"repository", "path", "commit"}, item["id"]
        assert hashlib.sha256((reference / item["path"]).read_bytes()).hexdigest() == item["sha256"], item["id"]
        listed.add(item["path"])
    on_disk = {p.relative_to(reference).as_posix() for p in (reference / "files").rglob("*") if p.is_file()}
    assert on_disk == listed  # every real file shipped is listed with its provenance, and only those


def test_the_observation_sources_are_declared_by_their_staging_yml_alone() -> None:
    """int_observations__published unions the staging models whose yml declares meta.observations: today the
    four statistics publishers (the news sites have articles, not observations). dbt_project.yml's default of
    the var, for dbt run by hand, names the same models."""
    from unionstat.transform import observation_models

    project = PROJECT_ROOT / "dbt_project"
    declared = observation_models(project)
    assert declared == [f"stg_{name}__observations" for name in ("belstat", "rosstat", "wipo", "worldbank")]
    assert {name for name in SOURCES if f"stg_{name}__observations" in declared} == set(SOURCES) - {"osw", "rg"}
    default = yaml.safe_load((project / "dbt_project.yml").read_text())["vars"]["observation_models"]
    assert sorted(default) == declared
    model = (project / "models" / "intermediate" / "int_observations__published.sql").read_text()
    assert not [name for name in SOURCES if name in model], "a publisher named by hand in the union"


def test_the_news_sites_staging_is_one_definition() -> None:
    """stg_osw__articles and stg_rg__articles load the same columns: both are the macro news_articles."""
    staging = PROJECT_ROOT / "dbt_project" / "models" / "staging"
    for site in ("osw", "rg"):
        model = (staging / site / f"stg_{site}__articles.sql").read_text().strip()
        assert model == f"{{{{ news_articles('{site}') }}}}"
