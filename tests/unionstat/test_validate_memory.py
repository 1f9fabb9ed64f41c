"""The compact validation batch (suite columns, categoricals, Arrow batches) fails as the whole one does."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import scrapers
from unionstat import validate, warehouse
from unionstat.settings import Settings

TABLE = "raw.worldbank_observations"
SHA = "a" * 64
ROWS = 6_000  # three chunks of 2,048 rows with BATCH_CHUNK_VECTORS = 1

# 20 indicators x 10 countries x 30 years, then planted faults; row 5500 repeats row 100's key (another chunk).
ROWS_SQL = f"""
insert into {TABLE}
select '{SHA}', i, 'BENCH.IND.' || (i % 20), 'Bench indicator ' || (i % 20), 'X' || (i // 20 % 10),
       'XA' || chr(65 + (i // 20 % 10)::int), 'Country ' || (i // 20 % 10), (1960 + i // 200)::varchar, i * 0.5,
       null, null, 1, date '2025-07-01'
from range({ROWS}) as t(i)
"""
FAULTS = [
    "update raw.worldbank_observations set countryiso3code = 'blr' where row_number = 10",
    "update raw.worldbank_observations set lastupdated = null where row_number = 50",
    "update raw.worldbank_observations set date = '1850' where row_number = 4000",
    "update raw.worldbank_observations set indicator_id = 'SP.POP.TOTL', value = -5 where row_number = 3000",
    "update raw.worldbank_observations set indicator_id = 'NY.GDP.MKTP.KD.ZG', value = 45 where row_number = 3001",
    """update raw.worldbank_observations as t set indicator_id = s.indicator_id, countryiso3code = s.countryiso3code,
       date = s.date from raw.worldbank_observations as s where s.row_number = 100 and t.row_number = 5500""",
]


def _outcome_key(outcome: validate.ExpectationOutcome) -> tuple[Any, ...]:
    return (
        outcome.expectation_type,
        outcome.column,
        outcome.severity,
        outcome.success,
        outcome.element_count,
        outcome.unexpected_count,
        json.dumps(sorted(map(str, outcome.examples))),
        json.dumps(outcome.observed, default=str, sort_keys=True),
    )


def _whole_table(
    settings: Settings, con: Any
) -> tuple[validate.Suite, pd.DataFrame, list[validate.ExpectationOutcome], list[dict[str, Any]]]:
    """The reference result: the whole suite in one Great Expectations run on every row of the snapshot at once."""
    import great_expectations as gx

    whole = con.execute(f"select * from {TABLE} where snapshot_sha256 = ?", [SHA]).df()  # noqa: S608
    context = validate._context(gx, settings)
    suite = validate.Suite.read(settings.expectations_dir, TABLE)
    validation = validate._validation(gx, context, suite, suite.spec)
    results = validate._results(validation, whole, gx.RunIdentifier(run_name="whole"))
    expected, expected_quarantine = validate._outcomes(results, suite, whole)
    return suite, whole, expected, expected_quarantine


def _rows_loaded(settings: Settings, monkeypatch: pytest.MonkeyPatch, updates: list[str]) -> Settings:
    """ROWS_SQL's rows in the build warehouse, then `updates`; 2,048-row chunks (several at this size)."""
    monkeypatch.setattr(validate, "BATCH_CHUNK_VECTORS", 1)
    with warehouse.connection(settings.build_db) as con:
        warehouse.ensure_schema(con, [scrapers.connector("worldbank", settings).raw_ddl])
        con.execute(ROWS_SQL)
        for sql in updates:
            con.execute(sql)
    return settings


@pytest.fixture
def loaded(warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return _rows_loaded(warehouse_env, monkeypatch, FAULTS)


def test_the_compact_batch_fails_the_same_expectations_as_the_whole_table(loaded: Settings, tmp_path: Path) -> None:
    with warehouse.connection(loaded.build_db) as con:
        report = validate.validate_new_rows(loaded, con, {TABLE: [SHA]}, "compact")
        suite, whole, expected, expected_quarantine = _whole_table(loaded, con)

    suite_outcomes = [o for o in report.outcomes if o.suite == TABLE]
    assert sorted(map(_outcome_key, suite_outcomes)) == sorted(map(_outcome_key, expected))
    failed = sorted((o.expectation_type, o.column or "", o.severity, o.unexpected_count) for o in report.failed)
    assert failed == [
        ("expect_column_values_to_be_between", "value", "critical", 1),  # SP.POP.TOTL at -5
        ("expect_column_values_to_be_between", "value", "warning", 1),  # GDP growth 45
        ("expect_column_values_to_match_regex", "countryiso3code", "critical", 1),
        ("expect_column_values_to_match_regex", "date", "critical", 1),
        ("expect_column_values_to_not_be_null", "lastupdated", "warning", 1),
        ("expect_compound_columns_to_be_unique", "", "critical", 2),
    ]
    unconditional = ("expect_column_values_to_not_be_null", "expect_column_values_to_match_regex")
    assert {o.element_count for o in suite_outcomes if o.expectation_type in unconditional} == {ROWS}
    # The quarantine keeps whole raw rows, columns the suite never reads included.
    by_row = {q["row_number"]: q["row"] for q in report.quarantined}
    assert by_row.keys() == {q["row_number"] for q in expected_quarantine} >= {10, 50, 4000, 3000, 3001, 100, 5500}
    assert by_row[10]["country_name"] == "Country 0" and by_row[10]["countryiso3code"] == "blr"
    assert by_row[10].keys() == set(whole.columns)


def test_the_batch_reads_only_the_suite_columns_and_compacts_repeated_text(loaded: Settings) -> None:
    suite = validate.Suite.read(loaded.expectations_dir, TABLE)
    with warehouse.connection(loaded.build_db) as con:
        columns, typed = validate._suite_columns(suite.spec, validate._table_columns(con, TABLE))
        batch = validate._batch(con, suite.rows, [SHA], [], columns, typed)
    assert columns == [
        "snapshot_sha256",
        "row_number",
        "indicator_id",
        "countryiso3code",
        "date",
        "value",
        "lastupdated",
    ]
    assert typed == {"value", "countryiso3code", "date"}  # read as text: their type, their pattern
    assert len(batch) == ROWS and list(batch.columns) == columns
    assert isinstance(batch["indicator_id"].dtype, pd.CategoricalDtype)
    assert isinstance(batch["snapshot_sha256"].dtype, pd.CategoricalDtype)
    assert str(batch["value"].dtype) == "float64" and str(batch["row_number"].dtype) == "int32"
    assert batch["row_number"].tolist() == list(range(ROWS))  # every chunk, in order
    assert batch.loc[10, "countryiso3code"] == "blr" and pd.isna(batch.loc[50, "lastupdated"])


def test_an_expectation_on_the_table_columns_reads_every_column() -> None:
    spec = {"expectations": [{"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["a"]}}]}
    assert validate._suite_columns(spec, ["snapshot_sha256", "row_number", "a", "b"])[0] == [
        "snapshot_sha256",
        "row_number",
        "a",
        "b",
    ]


@pytest.mark.parametrize("memory", ["4GB", "1MB"])
def test_batches_of_rows_fail_the_same_expectations_as_the_whole_table(
    loaded: Settings, caplog: pytest.LogCaptureFixture, memory: str
) -> None:
    """UNIONSTAT_VALIDATE_BATCH_ROWS=2048: three batches; the faults sit in different ones and the duplicate key's
    rows (100 and 5500) in two; the outcomes and the quarantine are those of one whole-table batch. At 1MB the rows
    are also read in 11 parts (by indicator and country), and repeated keys looked for part by part."""
    batched = loaded.model_copy(update={"validate_batch_rows": 2_048, "memory_limit": memory})
    caplog.set_level("INFO", logger=validate.__name__)
    with warehouse.connection(batched.build_db) as con:
        report = validate.validate_new_rows(batched, con, {TABLE: [SHA]}, "batched")
    if memory == "4GB":
        assert f"validate {TABLE}: batch 3, 1904 rows" in caplog.text  # 2,048 + 2,048 + 1,904
    else:
        assert f"validate {TABLE}: 6000 new rows, 0 earlier rows, in 11 parts" in caplog.text
        assert f"validate {TABLE}: batch 4," in caplog.text  # parts of ~545 rows, gathered up to 2,048
    with warehouse.connection(batched.build_db) as con:
        suite, _, expected, expected_quarantine = _whole_table(batched, con)

    suite_outcomes = [o for o in report.outcomes if o.suite == TABLE]
    assert sorted(map(_outcome_key, suite_outcomes)) == sorted(map(_outcome_key, expected))
    assert len(suite_outcomes) == len(suite.spec["expectations"])
    assert {o.snapshots == [SHA] for o in suite_outcomes} == {True}
    quarantined = sorted((q["expectation_type"], q["column"] or "", q["row_number"]) for q in report.quarantined)
    assert quarantined == sorted(
        (q["expectation_type"], q["column"] or "", q["row_number"]) for q in expected_quarantine
    )
    assert ("expect_compound_columns_to_be_unique", "", 100) in quarantined
    assert ("expect_compound_columns_to_be_unique", "", 5500) in quarantined
    by_row = {q["row_number"]: q for q in report.quarantined}
    assert by_row[4000]["row"]["date"] == "1850" and by_row[4000]["row"]["country_name"] == "Country 0"
    assert by_row[4000]["snapshot_sha256"] == SHA


# A release with no fault: 100 values missing (rows 0-99), ten populations (rows 3000, 3020, ..., 3180: one year,
# ten countries, all positive) and row 3010 an empty GDP growth. Read by hand from ROWS_SQL and these updates.
CLEAN = [
    f"update {TABLE} set value = null where row_number < 100",
    f"""update {TABLE} set indicator_id = 'SP.POP.TOTL', value = 1000 + row_number
        where row_number between 3000 and 3199 and row_number % 20 = 0""",
    f"update {TABLE} set indicator_id = 'NY.GDP.MKTP.KD.ZG', value = null where row_number = 3010",
]


@pytest.fixture
def clean(warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return _rows_loaded(warehouse_env, monkeypatch, CLEAN)


def test_more_rows_than_a_batch_are_judged_on_distinct_values_counted_by_their_rows(
    clean: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """6,000 rows, batches of 2,048: with no unexpected value, GX validates each expectation once, on the distinct
    values of its columns (one batch of a few hundred rows, not three of 2,048), and every count is the rows':
    the same outcomes as GX on the whole table at once."""
    batched = clean.model_copy(update={"validate_batch_rows": 2_048})
    seen: list[tuple[str, int]] = []
    original = validate._GxRun.results

    def results(
        self: validate._GxRun, suite: validate.Suite, spec: dict[str, Any], batch: pd.DataFrame, *of: str
    ) -> Any:
        seen.append(((of or (validate.ROWS_BATCH,))[0], len(batch)))
        return original(self, suite, spec, batch, *of)

    monkeypatch.setattr(validate._GxRun, "results", results)
    caplog.set_level("INFO", logger=validate.__name__)
    with warehouse.connection(batched.build_db) as con:
        report = validate.validate_new_rows(batched, con, {TABLE: [SHA]}, "distinct")
        _, _, expected, _ = _whole_table(batched, con)
    assert "batch 1," not in caplog.text and "row by row" not in caplog.text
    # distinct values: 21 indicators (20 and SP.POP.TOTL; the GDP one only with its row condition), 10 countries,
    # 30 years, one snapshot, one release date, the value's two null-nesses; then the SP.POP.TOTL and GDP rows
    assert seen[0][0] == validate.DISTINCT_BATCH and seen[0][1] < 100
    assert [kind for kind, _ in seen[1:]] == [validate.REPEATED_KEYS_BATCH]  # the rows sharing a key: none
    ours = [o for o in report.outcomes if o.suite == TABLE]
    assert sorted(map(_outcome_key, ours)) == sorted(map(_outcome_key, expected))
    assert report.failed == []
    # in the suite's order (expectations/raw.worldbank_observations.json)
    counts = [(o.expectation_type, o.column, o.element_count) for o in ours]
    assert counts[2] == ("expect_column_values_to_not_be_null", "indicator_id", ROWS)
    assert counts[8:11] == [
        ("expect_column_values_to_be_between", "value", 10),  # SP.POP.TOTL: rows 3000, 3020, ..., 3180
        ("expect_column_values_to_be_between", "value", 0),  # no share in percent
        ("expect_column_values_to_be_between", "value", 1),  # GDP growth: row 3010
    ]
    row_count = next(o for o in ours if o.expectation_type == "expect_table_row_count_to_be_between")
    assert row_count.observed == ROWS


def test_the_data_docs_keep_a_page_for_each_part_of_a_validation_in_parts(clean: Settings) -> None:
    """More rows than a batch: the distinct values and the rows sharing a key are two GX validations of the run;
    each has a suite and a page of its own in the Data Docs (one overwrote the other when they shared the suite's
    name)."""
    documented = clean.model_copy(update={"validate_batch_rows": 2_048, "docs": True})
    with warehouse.connection(documented.build_db) as con:
        report = validate.validate_new_rows(documented, con, {TABLE: [SHA]}, "documented")
    assert report.docs_index is not None and report.docs_index.is_file()
    site = documented.reports_dir / "data_docs"
    pages = sorted(str(page.relative_to(site / "validations")) for page in site.glob("validations/**/*.html"))
    assert len(pages) == 2, pages
    assert [page.split("/")[:3] for page in pages] == [
        ["raw", "worldbank_observations", "distinct_values"],
        ["raw", "worldbank_observations", "repeated_keys"],
    ]
    distinct = (site / "validations" / pages[0]).read_text(encoding="utf-8")
    assert "unionstat_distinct_set" in distinct  # each expectation on its own set of distinct values


def test_an_unexpected_value_among_the_distinct_ones_sends_the_rows_through_batch_by_batch(
    loaded: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The faults of FAULTS fail on distinct values too; then every row goes through GX batch by batch, so that
    each failing row is known by its key (`test_batches_of_rows_fail_the_same_expectations_as_the_whole_table`
    holds the outcomes to those of the whole table)."""
    batched = loaded.model_copy(update={"validate_batch_rows": 2_048})
    caplog.set_level("INFO", logger=validate.__name__)
    with warehouse.connection(batched.build_db) as con:
        report = validate.validate_new_rows(batched, con, {TABLE: [SHA]}, "fallback")
    assert "failed on distinct values; validated row by row" in caplog.text
    assert f"validate {TABLE}: batch 3, 1904 rows" in caplog.text
    assert {q["row_number"] for q in report.quarantined} >= {10, 50, 4000, 3000, 3001}


class _Cycle:
    """An object in a reference cycle, holding a batch."""

    def __init__(self, batch: pd.DataFrame) -> None:
        self.batch = batch
        self.itself = self


def test_a_validated_batch_is_released_before_the_next_is_validated(
    loaded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Great Expectations validation run leaves reference cycles that hold its batch: a batch must be gone (its
    cycles collected, no variable left holding it) by the time the one after next reaches Great Expectations (the
    context keeps its last batch until the next run replaces it), or memory grows by a batch per batch (measured
    at 10M rows: 850 -> 2,100 MB over ten batches)."""
    batched = loaded.model_copy(update={"validate_batch_rows": 2_048})
    seen: list[weakref.ref[pd.DataFrame]] = []
    cycles: list[weakref.ref[_Cycle]] = []
    alive_at_next: list[bool] = []
    original = validate._GxRun.results

    def results(
        self: validate._GxRun, suite: validate.Suite, spec: dict[str, Any], batch: pd.DataFrame, *of: str
    ) -> Any:
        alive_at_next.extend(ref() is not None for ref in seen[-2:-1])
        seen.append(weakref.ref(batch))
        found = original(self, suite, spec, batch, *of)
        cycle = _Cycle(batch)  # garbage holding the batch, as GX leaves: only the cyclic collector frees it
        cycles.append(weakref.ref(cycle))
        return found

    monkeypatch.setattr(validate._GxRun, "results", results)
    with warehouse.connection(batched.build_db) as con:
        validate.validate_new_rows(batched, con, {TABLE: [SHA]}, "released")
    assert len(seen) >= 3  # three row batches of 2,048 rows at most, then the repeated-key suspects
    assert alive_at_next == [False] * (len(seen) - 2)
    # the cycles of the last batch (the repeated-key suspects) are collected when the run ends, not left for the
    # next stage to start on top of
    assert [ref() for ref in cycles] == [None] * len(seen)


def test_a_batch_of_rows_needs_more_than_one_vector_and_derives_from_the_memory_limit() -> None:
    assert Settings.from_env({}).validate_batch_rows_effective == 500_000  # 2GB: an eighth, at 500 B a row
    assert Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "4GB"}).validate_batch_rows_effective == 1_000_000
    assert Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "1GB"}).validate_batch_rows_effective == 250_000
    assert Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "16GB"}).validate_batch_rows_effective == 1_000_000  # the cap
    assert Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "2GB"}).validate_batch_rows_effective == 500_000
    assert Settings.from_env({"UNIONSTAT_MEMORY_LIMIT": "1MB"}).validate_batch_rows_effective == 2_048
    assert Settings.from_env({"UNIONSTAT_VALIDATE_BATCH_ROWS": "5000"}).validate_batch_rows_effective == 5_000
    with pytest.raises(ValueError, match="UNIONSTAT_VALIDATE_BATCH_ROWS: expected a value greater than or equal"):
        Settings.from_env({"UNIONSTAT_VALIDATE_BATCH_ROWS": "100"})


REVISED = "b" * 64
# The next release: every row again under REVISED, 300 values revised, two of them faulty (a negative population,
# a GDP growth of 45), and one row whose key repeats another revised row's.
REVISION_SQL = [
    f"""insert into {TABLE} select '{REVISED}', row_number, indicator_id, indicator_name, country_iso2,
        countryiso3code, country_name, date, case when row_number % 20 = 7 then value + 1 else value end, unit,
        obs_status, decimal, lastupdated from {TABLE} where snapshot_sha256 = '{SHA}'""",
    f"update {TABLE} set indicator_id = 'SP.POP.TOTL', value = -7 where snapshot_sha256 = '{REVISED}' "
    "and row_number = 1007",
    f"update {TABLE} set indicator_id = 'NY.GDP.MKTP.KD.ZG', value = 45 where snapshot_sha256 = '{REVISED}' "
    "and row_number = 2007",
    f"""update {TABLE} as t set indicator_id = s.indicator_id, countryiso3code = s.countryiso3code, date = s.date
        from {TABLE} as s where s.snapshot_sha256 = '{REVISED}' and t.snapshot_sha256 = '{REVISED}'
        and s.row_number = 27 and t.row_number = 4027""",
]


def _whole_and_in_parts(
    settings: Settings, revision: list[str], caplog: pytest.LogCaptureFixture
) -> tuple[validate.ValidationReport, validate.ValidationReport]:
    """`revision` applied, then REVISED validated as one comparison (the settings' memory), and again at
    UNIONSTAT_MEMORY_LIMIT=1MB with 2,048-row batches: the earlier rows compared in parts (the log captured)."""
    with warehouse.connection(settings.build_db) as con:
        for sql in revision:
            con.execute(sql)
        whole = validate.validate_new_rows(settings, con, {TABLE: [REVISED]}, "one-comparison")
    small = settings.model_copy(update={"memory_limit": "1MB", "validate_batch_rows": 2_048})
    caplog.set_level("INFO", logger=validate.__name__)
    with warehouse.connection(small.build_db) as con:
        parted = validate.validate_new_rows(small, con, {TABLE: [REVISED]}, "in-parts")
    return whole, parted


def _changed(report: validate.ValidationReport) -> Any:
    return next(o.observed for o in report.outcomes if o.expectation_type == "changed_rows_validated")


def test_a_revision_compared_in_parts_finds_what_one_comparison_finds(
    loaded: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """UNIONSTAT_MEMORY_LIMIT=1MB: the 6,000 earlier rows do not fit validation's share, so new rows are compared
    with earlier ones in parts (by indicator and country); the rows found, the outcomes and the quarantine are
    those of one comparison."""
    whole, parted = _whole_and_in_parts(loaded, REVISION_SQL, caplog)
    assert f"validate {TABLE}: 6000 new rows, 6000 earlier rows, in 11 parts" in caplog.text  # 6,000 x 210 B / 125 kB
    assert "batch 1," not in caplog.text  # the parts' 300 changed rows, gathered: one batch, the whole suite

    assert _changed(parted) == _changed(whole) and _changed(whole)["new_or_revised"] == 300
    ours = [o for o in parted.outcomes if o.suite == TABLE]
    assert sorted(map(_outcome_key, ours)) == sorted(map(_outcome_key, [o for o in whole.outcomes if o.suite == TABLE]))
    failed = sorted((o.expectation_type, o.column or "", o.unexpected_count) for o in parted.failed)
    assert failed == [
        ("expect_column_values_to_be_between", "value", 1),  # SP.POP.TOTL at -7
        ("expect_column_values_to_be_between", "value", 1),  # GDP growth 45
        ("expect_compound_columns_to_be_unique", "", 2),  # rows 27 and 4027
    ]
    key = sorted((q["expectation_type"], q["row_number"]) for q in parted.quarantined)
    assert key == sorted((q["expectation_type"], q["row_number"]) for q in whole.quarantined)
    assert {q["row_number"] for q in parted.quarantined} == {1007, 2007, 27, 4027}
    assert {q["snapshot_sha256"] for q in parted.quarantined} == {REVISED}


def test_a_run_id_that_reads_as_a_date_with_an_impossible_offset_validates(loaded: Settings) -> None:
    """Great Expectations reads a run name as a date when it can. dateutil reads this run id (the refresh's own
    format: start time, '-', six hex digits) as 21:35:12 at UTC+62:37, and the run failed in GX's RunIdentifier
    (about one run id in 2,000). The run's time is given, so its name is only a name."""
    run_id = "20261203T213512Z-6197ad"
    with warehouse.connection(loaded.build_db) as con:
        report = validate.validate_new_rows(loaded, con, {TABLE: [SHA]}, run_id)
        stored = con.execute("select count(*) from dq.validation_results where run_id = ?", [run_id]).fetchone()
    assert report.outcomes
    assert stored is not None and stored[0] == len(report.outcomes)
    assert gc.get_freeze_count() == 0  # what the run set aside from the garbage collector is handed back


@pytest.mark.parametrize("faulty", [False, True])
def test_a_revision_larger_than_a_batch_compared_in_parts_is_judged_as_one_comparison_judges_it(
    clean: Settings, caplog: pytest.LogCaptureFixture, faulty: bool
) -> None:
    """A release revising half its values (2,950: the odd rows, but for the 50 empty ones) at UNIONSTAT_MEMORY_LIMIT=
    1MB: compared with the earlier release in 11 parts, and more changed rows than a 2,048-row batch, so the
    distinct values (and the repeated-key search) read the parts' anti-joins together. The outcomes and the
    quarantine are those of one comparison in one batch; with REVISION_SQL's faults, those of the rows batch by
    batch."""
    revised = f"""insert into {TABLE} select '{REVISED}', row_number, indicator_id, indicator_name, country_iso2,
        countryiso3code, country_name, date, case when row_number % 2 = 1 then value + 1 else value end, unit,
        obs_status, decimal, lastupdated from {TABLE} where snapshot_sha256 = '{SHA}'"""
    # REVISION_SQL's faults, the repeated key on rows 127 and 4027 (row 27's value is empty in `clean`: not revised)
    repeated = f"""update {TABLE} as t set indicator_id = s.indicator_id, countryiso3code = s.countryiso3code,
        date = s.date from {TABLE} as s where s.snapshot_sha256 = '{REVISED}' and t.snapshot_sha256 = '{REVISED}'
        and s.row_number = 127 and t.row_number = 4027"""
    whole, parted = _whole_and_in_parts(clean, [revised, *([*REVISION_SQL[1:3], repeated] if faulty else [])], caplog)
    assert f"validate {TABLE}: 6000 new rows, 6000 earlier rows, in 11 parts" in caplog.text
    assert ("validated row by row" in caplog.text) is faulty and ("batch 2," in caplog.text) is faulty

    assert _changed(parted) == _changed(whole) and _changed(whole)["new_or_revised"] == 2_950
    ours = [o for o in parted.outcomes if o.suite == TABLE]
    assert sorted(map(_outcome_key, ours)) == sorted(map(_outcome_key, [o for o in whole.outcomes if o.suite == TABLE]))
    assert {q["row_number"] for q in parted.quarantined} == ({1007, 2007, 127, 4027} if faulty else set())
    assert sorted((q["expectation_type"], q["row_number"]) for q in parted.quarantined) == sorted(
        (q["expectation_type"], q["row_number"]) for q in whole.quarantined
    )
