"""dbt's parse of the project is kept by what it depends on and reused by builds of other warehouses."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import query
from unionstat import transform
from unionstat.settings import PROJECT_ROOT, Settings

FULL_PARSE = "Unable to do partial parsing"  # what dbt logs before parsing the project from scratch


def _last_invocation_log(settings: Settings) -> str:
    """The dbt log of the last dbt command (each starts with a line of '=' around its time and invocation id)."""
    log = (settings.build_dir / "dbt_logs" / "dbt.log").read_text(encoding="utf-8")
    return log.rsplit("\n=====", 1)[-1]


def _key(settings: Settings, db_path: Path, **dbt_vars: object) -> str:
    models = transform.observation_models(settings.dbt_project_dir)
    return transform._parse_key(settings, {"as_of": None, "observation_models": models, **dbt_vars}, db_path)


def test_the_parse_key_ignores_the_warehouse_folder_and_follows_what_dbt_reads(tmp_path: Path) -> None:
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "a")})
    here = _key(settings, tmp_path / "a" / "build" / "unionstat.duckdb")
    assert here == _key(settings, tmp_path / "elsewhere" / "unionstat.duckdb")  # the profile's path: not parsed
    assert here != _key(settings, tmp_path / "a" / "build" / "other.duckdb")  # dbt writes the database's name
    assert here != _key(settings, tmp_path / "a" / "build" / "unionstat.duckdb", as_of="2024-12-31")

    copy = tmp_path / "checkout"
    shutil.copytree(PROJECT_ROOT / "dbt_project", copy / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    moved = settings.model_copy(update={"project_root": copy})
    db = tmp_path / "a" / "build" / "unionstat.duckdb"
    before = _key(moved, db)
    (copy / "dbt_project" / "target").mkdir()
    (copy / "dbt_project" / "target" / "run_results.json").write_text("{}")  # dbt's output: not its input
    assert _key(moved, db) == before
    model = copy / "dbt_project" / "models" / "marts" / "mart_countries.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert _key(moved, db) != before


def test_a_build_of_another_warehouse_reuses_the_sessions_parse(published_reference: Settings, tmp_path: Path) -> None:
    """The session's reference build parsed the project into its warehouse's cache folder (copied with it); a build
    of a copy elsewhere does not parse it again."""
    settings = published_reference.model_copy(
        update={"dbt_parse_cache_dir": published_reference.warehouse_dir / "cache" / "dbt"}
    )
    copy = tmp_path / "elsewhere" / "unionstat.duckdb"
    copy.parent.mkdir()
    shutil.copy2(settings.published_db, copy)
    cache = transform.ParseCache(settings, _key(settings, copy))
    assert cache.path.is_file(), "the reference build left no parse in the session's cache"

    result = transform.dbt_build(settings, copy, select=["mart_countries"])

    assert result.models == 1 and all(s in {"success", "pass"} for s in result.statuses.values()), result.statuses
    log = _last_invocation_log(settings)
    assert "Running with dbt" in log and FULL_PARSE not in log
    # The build wrote its manifest as a parsing build does (the warehouse's catalog is read from it).
    assert "model.unionstat.mart_countries" in (settings.build_dir / "dbt_target" / "manifest.json").read_text()


def test_a_build_with_nothing_cached_parses_and_keeps_its_parse(published_reference: Settings, tmp_path: Path) -> None:
    settings = published_reference.model_copy(update={"dbt_parse_cache_dir": tmp_path / "cache"})
    copy = tmp_path / "elsewhere" / "unionstat.duckdb"
    copy.parent.mkdir()
    shutil.copy2(settings.published_db, copy)

    transform.dbt_build(settings, copy, select=["mart_countries"])

    assert FULL_PARSE in _last_invocation_log(settings)
    key = _key(settings, copy)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{key}.manifest.json", f"{key}.msgpack"]

    # The next selection of this parse does not write its manifest again: the kept one is copied into place (the
    # catalog and the data-quality history read it), and the run results are written by unionstat.
    target = settings.build_dir / "dbt_target"
    (target / "manifest.json").unlink()
    transform.dbt_build(settings, copy, select=["mart_countries"])
    assert (target / "manifest.json").read_bytes() == (tmp_path / "cache" / f"{key}.manifest.json").read_bytes()
    results = json.loads((settings.build_dir / transform.BUILD_RESULTS).read_text(encoding="utf-8"))["results"]
    assert [r["unique_id"] for r in results if r["unique_id"].startswith("model.")] == [
        "model.unionstat.mart_countries"
    ]
    # That build read dbt's msgpack and kept the parse as a pickle, which later builds read; a pickle that cannot
    # be read is read from the msgpack again and replaced.
    pickled = tmp_path / "cache" / f"{key}.pickle"
    assert pickle.loads(pickled.read_bytes()).flat_graph["nodes"]["model.unionstat.mart_countries"]  # noqa: S301
    pickled.write_bytes(b"not a pickle")
    result = transform.dbt_build(settings, copy, select=["mart_countries"])
    assert result.statuses["model.unionstat.mart_countries"] == "success"
    assert pickle.loads(pickled.read_bytes()).flat_graph["nodes"]["model.unionstat.mart_countries"]  # noqa: S301
    assert FULL_PARSE not in _last_invocation_log(settings)


def test_a_full_build_of_code_whose_unit_tests_passed_skips_them_and_says_so(
    reference_build: dict[str, Any], published_reference: Settings, tmp_path: Path
) -> None:
    """Unit tests read fixed inputs, never the warehouse: once a build of the same code (the parse key) passed them,
    a full build of another warehouse runs every model and data test but not them again."""
    settings = published_reference.model_copy(
        update={"dbt_parse_cache_dir": published_reference.warehouse_dir / "cache" / "dbt"}
    )  # the reference build's cache, copied with its warehouse: that build ran and passed the unit tests
    ran = query(
        settings.warehouse_dir / "dq_history.duckdb",
        "select count(*) from dbt_results where run_id = ? and resource_type = 'unit_test' and status = 'pass'",
        [reference_build["summary"]["run_id"]],
    )
    assert ran[0][0] > 0
    copy = tmp_path / "elsewhere" / "unionstat.duckdb"
    copy.parent.mkdir()
    shutil.copy2(settings.published_db, copy)
    cache = transform.ParseCache(settings, _key(settings, copy))
    assert cache.unit_tests_passed() is not None

    result = transform.dbt_build(settings, copy)

    kinds = {node.split(".", 1)[0] for node in result.statuses}
    assert {"model", "seed", "test"} <= kinds and "unit_test" not in kinds
    assert result.models == 47 and all(s.split(":")[0] in {"success", "pass", "warn"} for s in result.statuses.values())
    assert (result.unit_tests_skipped or "").startswith("passed in a build of the same code at ")
    # Other code (here: another as-of date, which the models read) has no record: its unit tests run.
    other = transform.ParseCache(settings, _key(settings, copy, as_of="2024-12-31"))
    assert other.unit_tests_passed() is None


def test_the_run_summary_says_why_a_full_build_ran_no_unit_tests() -> None:
    from flows.refresh import RunSummary

    summary = RunSummary(run_id="r", mode="replay", as_of=None, started_at="2026-12-03T09:00:00+00:00")
    summary.build_selection = "everything"
    summary.dbt_unit_tests_skipped = "passed in a build of the same code at 2026-12-03T08:03:02+00:00"
    assert "(built: everything; unit tests passed in a build of the same code at 2026-12-03T08:03:02+00:00)" in (
        summary.markdown()
    )
    summary.dbt_unit_tests_skipped = None  # they ran
    assert "(built: everything)" in summary.markdown()
    summary.build_selection, summary.dbt_unit_tests_skipped = "source:worldbank+", "selective build"
    assert "(built: source:worldbank+)" in summary.markdown()  # a selection never runs them: nothing to say


def test_a_build_out_of_memory_names_the_setting_to_raise_not_duckdbs_set_advice() -> None:
    """The failure of a 25M-observation revision under DuckDB 500MB, as dbt reported it: DuckDB's advice is to SET
    its options, which a refresh cannot; the failure names unionstat's setting and the limit DuckDB had."""
    result = transform.TransformResult()
    result.statuses = {
        "model.unionstat.int_observations__vintaged": (
            "error: Runtime Error in model int_observations__vintaged (models/intermediate/int_observations__vintaged"
            ".sql)\n  Out of Memory Error: failed to pin block of size 256.0 KiB (476.7 MiB/476.8 MiB used)\n  \n  "
            "Possible solutions:\n  * Reducing the number of threads (SET threads=X)\n  * Disabling insertion-order "
            "preservation (SET preserve_insertion_order=false)\n  * Increasing the memory limit (SET memory_limit="
            "'...GB')\n  \n  See also https://duckdb.org/docs/current/guides/performance/how_to_tune_workloads"
        ),
        "test.unionstat.column_rules_int_observations__vintaged": "skipped",
    }
    settings = Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "2GB"})
    message = transform._failure(result, None, settings)
    assert "Out of Memory Error: failed to pin block of size 256.0 KiB (476.7 MiB/476.8 MiB used)" in message
    assert "SET " not in message and "Possible solutions" not in message
    assert message.endswith(
        "(1 downstream nodes skipped); DuckDB's memory limit was 500MB (UNIONSTAT_DUCKDB_MEMORY_LIMIT, or a quarter of "
        "UNIONSTAT_MEMORY_LIMIT=2GB): raise UNIONSTAT_MEMORY_LIMIT"
    )


def test_a_build_failure_other_than_memory_is_reported_as_dbt_gave_it() -> None:
    result = transform.TransformResult()
    result.statuses = {"model.unionstat.mart_countries": "error: Binder Error: column x not found"}
    message = transform._failure(result, None, Settings.from_env({}))
    assert message == (
        "dbt build failed: model.unionstat.mart_countries: error: Binder Error: column x not found "
        "(0 downstream nodes skipped)"
    )


def test_the_parse_cache_prunes_the_oldest_parses_with_everything_kept_beside_them(tmp_path: Path) -> None:
    """Beyond PARSE_CACHE_KEEP parses the oldest goes, and with it its pickle, manifest and unit-test record."""
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "wh")}).model_copy(
        update={"dbt_parse_cache_dir": tmp_path / "cache"}
    )
    keys = [f"k{n:02d}" for n in range(transform.PARSE_CACHE_KEEP + 1)]
    for age, key in enumerate(keys):
        for suffix in transform.KEPT_BESIDE_PARSE:
            kept = tmp_path / "cache" / f"{key}{suffix}"
            kept.parent.mkdir(exist_ok=True)
            kept.write_bytes(b"x")
            os.utime(kept, (1_000_000 + age, 1_000_000 + age))

    transform.ParseCache(settings, keys[-1]).keep()  # dbt wrote nothing new: only the pruning runs

    left = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert left == sorted(f"{key}{suffix}" for key in keys[1:] for suffix in transform.KEPT_BESIDE_PARSE)
