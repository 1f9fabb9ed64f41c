"""Great Expectations on what changed: new raw rows are validated in row-bounded pandas batches before dbt runs."""

from __future__ import annotations

import copy
import gc
import json
import logging
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from unionstat import warehouse
from unionstat.data_docs_assets import localize_site
from unionstat.errors import ValidationFailed
from unionstat.settings import VALIDATE_BATCH_SHARE, Settings

LOG = logging.getLogger(__name__)
DATASOURCE = "unionstat_warehouse"
DOCS_SITE = "unionstat"
SEVERITIES = ("critical", "warning")
# What a batch GX validates holds, in the names of its GX suite and validation (so each has its own result and
# page in the Data Docs): every new row, through the whole suite; the row-by-row expectations on the distinct
# values of their columns (`_screened`), or on the rows batch by batch (`_row_by_row`: one result, the last
# batch's, in the Data Docs; every batch's counts summed in dq.validation_results); a uniqueness expectation on the
# rows sharing a key (`_duplicates`).
ROWS_BATCH = "new_rows"
DISTINCT_BATCH = "distinct_values"
ROW_BATCHES = "row_batches"
REPEATED_KEYS_BATCH = "repeated_keys"


@dataclass
class ExpectationOutcome:
    suite: str
    table: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    examples: list[Any] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    observed: Any = None

    def as_row(self, run_id: str, at: datetime) -> list[Any]:
        """The row of dq.validation_results (in the warehouse and in the history store alike)."""
        return [
            run_id,
            at,
            self.suite,
            self.table,
            self.expectation_type,
            self.column,
            self.severity,
            self.success,
            self.element_count,
            self.unexpected_count,
            json.dumps(self.examples, default=str),
            ",".join(self.snapshots),
        ]

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        if self.element_count is None:
            return f"{self.table}: {self.expectation_type}{where} failed; observed {self.observed!r}"
        return (
            f"{self.table}: {self.expectation_type}{where} failed for {self.unexpected_count} of "
            f"{self.element_count} rows; e.g. {self.examples[:3]}"
        )


@dataclass
class ValidationReport:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    docs_index: Path | None = None

    def extend(self, other: ValidationReport) -> None:
        self.outcomes.extend(other.outcomes)
        self.quarantined.extend(other.quarantined)
        self.docs_index = other.docs_index or self.docs_index

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == "warning"]

    def gate(self) -> None:
        """The publish gate: any critical failure stops the run with what failed, where and an example."""
        if self.critical_failures:
            raise ValidationFailed(
                "critical expectations failed: " + " | ".join(o.describe() for o in self.critical_failures)
            )


def validate_new_rows(
    settings: Settings, con: duckdb.DuckDBPyConnection, new_rows: dict[str, list[str]], run_id: str
) -> ValidationReport:
    """Validate the rows of newly loaded snapshots, table by table, and compare row counts with the last vintage.

    The rows reach Great Expectations in batches of at most `settings.validate_batch_rows_effective` rows (derived
    from UNIONSTAT_MEMORY_LIMIT): memory stays flat as the data grows (`_validate_table`)."""
    batches = {table: shas for table, shas in new_rows.items() if shas}
    report = ValidationReport()
    if not batches:
        LOG.info("validate: nothing new to validate")
        return report
    suites = {table: Suite.read(settings.expectations_dir, table) for table in sorted(batches)}
    changes: list[ExpectationOutcome] = []
    with _GxRun(settings, run_id) as gx_run:
        for table, suite in suites.items():
            shas = batches[table]
            outcomes, quarantined, validated = _validate_table(
                gx_run, con, suite, shas, settings.validate_batch_rows_effective
            )
            if suite.compare:
                changes.append(_changed_rows_outcome(con, suite.rows, shas, suite.compare, validated))
            for outcome in outcomes:
                outcome.snapshots = sorted(shas)
            _store(con, outcomes, run_id)
            report.outcomes.extend(outcomes)
            report.quarantined.extend(quarantined)
        if gx_run.context is not None and settings.docs:  # UNIONSTAT_DOCS=false: no Data Docs (results kept alike)
            gx_run.context.build_data_docs(site_names=[DOCS_SITE])
            localize_site(settings.reports_dir / "data_docs")  # offline: local copies of GX's CDN assets
            report.docs_index = settings.reports_dir / "data_docs" / "index.html"
    _store(con, changes, run_id)
    report.outcomes.extend(changes)
    for table, suite in suites.items():
        drops = _row_count_drops(con, table, batches[table], suite.row_count_floor)
        _store(con, drops, run_id)
        report.outcomes.extend(drops)
    return report


class _GxRun:
    """Great Expectations for one validation run (a context manager): imported and its context made only when a
    batch has rows.

    Each batch is followed by a full collection of Python's garbage (`_validate_table`). With Great Expectations,
    dbt and Prefect imported, one took 0.22-0.27 s, a quarter of a 1M-row batch's own time, scanning some 440,000
    long-lived objects. Those made before the first batch are set aside (`gc.freeze`) while the run lasts, and a
    collection then scans only what the run made; they are handed back to the collector when it ends."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        self.settings = settings
        self.run_id = run_id
        # GX reads a run name without a time as a date when dateutil can: about one refresh run id in 2,000 read as
        # a time at an offset beyond 24 h, which GX then failed on. Every validation of the run gets its start.
        self.run_time = datetime.now(UTC)
        self.context: Any = None
        self._gx: Any = None
        self._frozen = False
        # each table's validation definition and the spec it runs: the batches of a spec reuse it (registering them
        # anew for each batch, with a checkpoint, took 0.35 s a batch at 10M rows, written to the file context)
        self._validations: dict[str, tuple[str, Any]] = {}

    def __enter__(self) -> _GxRun:
        return self

    def __exit__(self, *exc: object) -> None:
        # The cycles the run's last batches left (the repeated-key suspects come after the last collection in
        # `_validate_table`) are collected before the frozen objects come back, so the collection scans only what
        # the run made: at 10M rows the process held 80 MB less when the run ended.
        if self._frozen:
            gc.collect()
            gc.unfreeze()
            self._frozen = False

    @property
    def gx(self) -> Any:
        if self._gx is None:
            import great_expectations as gx  # heavy import, only when there is work
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every dataframe batch under 1 GB for its batch markers: an md5 over pandas' hash of
            # every row, 3.5 s of a 31 s validation at 10M rows. Nothing here reads it: a batch is known by the
            # snapshots' SHA-256 and the run id. A threshold of 0 turns it off.
            pandas_execution_engine.HASH_THRESHOLD = 0
            self._gx = gx
        return self._gx

    def results(
        self, suite: Suite, spec: dict[str, Any], batch: pd.DataFrame, of: str = ROWS_BATCH
    ) -> list[tuple[Any, dict[str, Any]]]:
        """The results of `spec` on `batch`; `of` names what the batch holds (`ROWS_BATCH`, ...)."""
        if self.context is None:
            self.context = _context(self.gx, self.settings)
            gc.freeze()
            self._frozen = True
        key = json.dumps([spec, of], sort_keys=True, default=str)
        known, validation = self._validations.get(suite.table, ("", None))
        if known != key:
            validation = _validation(self.gx, self.context, suite, spec, of)
            self._validations[suite.table] = (key, validation)
        result_format = DISTINCT_RESULT_FORMAT if of == DISTINCT_BATCH else RESULT_FORMAT
        run = self.gx.RunIdentifier(run_name=self.run_id, run_time=self.run_time)
        return _results(validation, batch, run, result_format)


# Expectations judged row by row: a batch's result is the rows' results, and the whole set's is their sum.
ROW_WISE_PREFIXES = ("expect_column_values_to_",)
# Expectations over the whole set of new rows, and how they are checked when it comes in several batches.
ROW_COUNT = "expect_table_row_count_to_be_between"  # on the summed count of the batches
UNIQUENESS = ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique")  # see _duplicates


def _validate_table(
    gx_run: _GxRun, con: duckdb.DuckDBPyConnection, suite: Suite, shas: list[str], batch_rows: int
) -> tuple[list[ExpectationOutcome], list[dict[str, Any]], int]:  # noqa: PLR0914 (one table's whole validation)
    """A table's new rows through its suite: (outcomes, quarantined rows, rows validated).

    Rows that fit in one batch go through the whole suite at once. With more rows, the row-by-row expectations are
    judged on the distinct values of their columns, each counted by its rows (`_screened`); when one finds an
    unexpected value (or cannot be judged so), the rows stream from DuckDB batch by batch, every row-by-row
    expectation runs on each batch and their results are summed (`_row_by_row`), with every failing row's key.
    Uniqueness runs in GX on the rows DuckDB finds sharing a key with another new row (`_duplicates`: the only
    rows it can fail); the row count is judged on the summed count. A suite with any other expectation over the
    whole set is validated in one batch, as before (none of the suites in expectations/ has one)."""
    columns, keep_as_text = _suite_columns(suite.spec, suite.rows.columns(con))
    entries = list(suite.spec.get("expectations", []))
    parts, compare = 1, suite.compare
    if not all(_row_wise(e) or e.get("type") in (ROW_COUNT, *UNIQUENESS) for e in entries):
        LOG.info("validate %s: an expectation over the whole set; validated in one batch", suite.table)
        batch_rows = sys.maxsize
    elif suite.split_by:
        parts, earlier = _parts(con, suite.rows, shas, gx_run.settings)
        compare = compare if earlier else []  # no earlier rows: every row is new, no anti-join to run
    sqls = [_batch_sql(suite.rows, compare, columns, (suite.split_by, parts, part)) for part in range(parts)]
    rows = _arrow_rows(con, sqls, shas, batch_rows)  # None: more rows than a batch
    if rows is not None:  # one batch: the whole suite, at once
        first = _frame(rows, keep_as_text)
        del rows
        if not len(first) and suite.compare:
            return [], [], 0  # nothing new or revised: validated before
        outcomes, quarantined = _outcomes(gx_run.results(suite, suite.spec, first), suite, first)
        if quarantined and list(first.columns) != suite.rows.columns(con):
            quarantined = _with_full_rows(con, suite.rows, quarantined)  # the batch held only the suite's columns
        return outcomes, quarantined, len(first)
    # more rows than a batch: first their distinct values (`_screened`)
    row_wise = [(i, e) for i, e in enumerate(entries) if _row_wise(e)]
    source = _batch_sql(suite.rows, compare, columns) if not compare else " union all ".join(f"({q})" for q in sqls)
    screened = _screened(gx_run, con, suite, (source, columns), shas, row_wise, keep_as_text, batch_rows)
    if screened is not None:
        (found, total), quarantined = screened, []
    else:
        frames = _gathered(_frames_of(con, sqls, shas, keep_as_text, batch_rows), batch_rows)
        found, quarantined, total = _row_by_row(gx_run, suite, row_wise, frames)
    for index, entry in enumerate(entries):
        if entry.get("type") == ROW_COUNT:
            found[index] = _row_count(suite, entry, total)
        elif entry.get("type") in UNIQUENESS:
            if len(sqls) < (parts := _parts_for(total, gx_run.settings)):  # read in one part: look in several
                sqls = [_batch_sql(suite.rows, compare, columns, (suite.split_by, parts, n)) for n in range(parts)]
            suspects = _duplicates(con, sqls, suite.split_by, shas, entry, keep_as_text, source)
            results = gx_run.results(suite, _spec_of(suite.spec, [(index, entry)]), suspects, REPEATED_KEYS_BATCH)
            outcomes, failing = _outcomes(results, suite, suspects)
            outcomes[0].element_count = total  # GX saw only the suspects; the set DuckDB searched had `total` rows
            found[index] = outcomes[0]
            quarantined += failing
    if quarantined:
        quarantined = _with_full_rows(con, suite.rows, quarantined)
    return [found[i] for i in range(len(entries))], quarantined, total


def _row_by_row(
    gx_run: _GxRun, suite: Suite, row_wise: list[tuple[int, dict[str, Any]]], frames: Iterator[pd.DataFrame]
) -> tuple[dict[int, ExpectationOutcome], list[dict[str, Any]], int]:
    """The row-by-row expectations on every batch of rows, their results summed (`_merge`): (outcomes by place in
    the suite, quarantined rows, rows validated)."""
    row_spec = _spec_of(suite.spec, row_wise)
    merged: dict[int, list[tuple[Any, dict[str, Any]]]] = {i: [] for i, _ in row_wise}
    quarantined = []
    total = 0
    for number, frame in enumerate(frames):
        LOG.info("validate %s: batch %d, %d rows", suite.table, number + 1, len(frame))
        results = gx_run.results(suite, row_spec, frame, ROW_BATCHES)
        for config, details in results:
            merged[int(config.meta["unionstat_index"])].append((config, details))
        quarantined += _outcomes(results, suite, frame)[1]
        total += len(frame)
        del results, frame
        # A GX validation run leaves reference cycles that hold its batch until Python's cyclic collector runs, which
        # at this allocation rate is rarely: measured at 10M rows, memory grew by a batch's worth per batch
        # (850 -> 2,100 MB over ten 1M-row batches) and stayed flat (1,000-1,160 MB) when collected here.
        gc.collect()
    return {i: _merge(suite, e, merged[i]) for i, e in row_wise}, quarantined, total


# The distinct-values batch: which expectation's values a row holds, and how many new rows hold them.
DISTINCT_SET = "unionstat_distinct_set"
DISTINCT_ROWS = "unionstat_distinct_rows"
GROUPING_MASK = "unionstat_grouping_mask"  # which grouping set a row of DuckDB's answer belongs to
# Expectations on a column's type: GX reads the dtype, which DuckDB's column type decides for every value alike.
TYPE_EXPECTATIONS = ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")


def _screened(
    gx_run: _GxRun,
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    rows: tuple[str, list[str]],
    shas: list[str],
    row_wise: list[tuple[int, dict[str, Any]]],
    keep_as_text: set[str],
    max_rows: int,
) -> tuple[dict[int, ExpectationOutcome], int] | None:
    """The row-by-row expectations judged on distinct values, each counted by the rows that hold it: (outcomes by
    place in the suite, rows of `source`), or None when a row must be looked at (then `_row_by_row`).

    A row-by-row expectation reads the values of its columns (the one it checks and those its row condition names)
    and nothing else, so rows with the same values pass or fail it together. DuckDB groups the new rows once by
    each expectation's columns (a grouping set each; a row condition is first evaluated on the distinct values of
    its own columns, and only the rows it selects are grouped); GX validates the whole suite once, on the distinct
    values, each expectation on its own set (a row condition on `DISTINCT_SET`); element and missing counts are
    the rows'. A type expectation sees one value per null-ness: GX reads the frame's dtype, the same for every
    value of a DuckDB column. Any unexpected value, a set larger than a batch, or a condition this cannot evaluate
    returns None: the rows are then validated batch by batch as before, with every failing row's key. `rows`: the
    query of the new rows and the columns it selects."""
    source, columns = rows
    plans = _distinct_plans(row_wise, columns)
    if plans is None:
        return None
    tables = []
    for sql, masks in [plans.plain_sql(source), *([plans.typed_sql(source)] if plans.typed else [])]:
        grouped = _arrow_rows(con, sql, shas, max_rows)
        if grouped is None:
            LOG.info("validate %s: more distinct values than a batch; validated row by row", suite.table)
            return None
        numbers = pa.array([masks[m] for m in grouped.column(GROUPING_MASK).to_pylist()], pa.int64())
        tables.append(grouped.drop_columns([GROUPING_MASK]).append_column(DISTINCT_SET, numbers))
    first = tables[0]
    total = int(pc.sum(first.filter(pc.equal(first[DISTINCT_SET], plans.total_set))[DISTINCT_ROWS]).as_py() or 0)
    tables[1:] = [t.drop_columns(plans.flag_columns) for t in tables[1:]]
    for number, (grouped_by, condition_columns, conditions) in plans.conditioned.items():
        keys = _selected_keys(first, plans.set_of[("plain", condition_columns)], condition_columns, conditions)
        if keys is None:
            return None
        if not len(keys):
            continue
        sql = plans.conditioned_sql(source, grouped_by, condition_columns)
        grouped = _arrow_rows(con, sql, shas, max_rows, keys)
        if grouped is None:
            return None
        tables.append(grouped.append_column(DISTINCT_SET, pa.array([number] * grouped.num_rows, pa.int64())))
    stacked = pa.concat_tables(tables, promote_options="default")
    frame = _frame(stacked, keep_as_text)
    del first, tables, stacked
    spec = _spec_of(suite.spec, [(i, plans.screened_entry(i, e)) for i, e in row_wise])
    found: dict[int, ExpectationOutcome] = {}
    for config, details in gx_run.results(suite, spec, frame, DISTINCT_BATCH):
        index = int(config.meta["unionstat_index"])
        if not details["__success__"] or details.get("unexpected_count"):
            LOG.info("validate %s: %s failed on distinct values; validated row by row", suite.table, config.type)
            return None
        found[index] = _outcome(
            suite, config, _counted(frame, dict(row_wise)[index], plans.set_by_index[index], details), True
        )
    del frame
    gc.collect()
    return found, total


def _counted(frame: pd.DataFrame, entry: dict[str, Any], number: int, details: dict[str, Any]) -> dict[str, Any]:
    """GX's result on distinct values with its element and missing counts those of the rows holding them."""
    kwargs = entry.get("kwargs") or {}
    rows = frame[frame[DISTINCT_SET] == number]
    if kwargs.get("row_condition"):
        rows = rows.query(str(kwargs["row_condition"]))
    counted = dict(details)
    if counted.get("element_count") is not None:
        counted["element_count"] = int(rows[DISTINCT_ROWS].sum())
    if counted.get("missing_count") is not None and kwargs.get("column") in rows:
        counted["missing_count"] = int(rows.loc[rows[str(kwargs["column"])].isna(), DISTINCT_ROWS].sum())
    return counted


@dataclass
class _DistinctPlans:
    """The grouping sets `_screened` asks DuckDB for: one per expectation's columns (`set_of`), a one-row set of
    every row (`total_set`), and the expectations with a row condition (`conditioned`: their columns, the
    condition's columns and the conditions; grouped only over the rows a condition selects)."""

    grouping: list[str] = field(default_factory=list)  # every column a plain set groups by, in the table's order
    typed: list[str] = field(default_factory=list)  # columns of type expectations (a null flag each)
    set_of: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)
    set_by_index: dict[int, int] = field(default_factory=dict)
    conditioned: dict[int, tuple[tuple[str, ...], tuple[str, ...], list[str]]] = field(default_factory=dict)
    total_set: int = -1

    @property
    def flag_columns(self) -> list[str]:
        return [_null_flag(c) for c in self.typed]

    def plain_sql(self, source: str) -> tuple[str, dict[int, int]]:
        """Every plain set and the total (the empty set), in one pass over the rows."""
        sets = [(set(s), n) for (kind, s), n in self.set_of.items() if kind == "plain"]
        return _grouping_sets_sql(source, self.grouping, [*sets, (set(), self.total_set)])

    def typed_sql(self, source: str) -> tuple[str, dict[int, int]]:
        """Each type expectation's column grouped by null-ness, a value of it kept (an aggregate every grouping set
        computes: here alone, in its own pass)."""
        sets = [({_null_flag(s[0])}, n) for (kind, s), n in self.set_of.items() if kind == "typed"]
        derived = "".join(f', "{c}" is null as "{_null_flag(c)}"' for c in self.typed)
        kept = "".join(f'any_value("{c}") as "{c}", ' for c in self.typed)
        with_flags = f"select *{derived} from ({source}) as rows"  # noqa: S608
        return _grouping_sets_sql(with_flags, self.flag_columns, sets, kept)

    @staticmethod
    def conditioned_sql(source: str, columns: tuple[str, ...], condition_columns: tuple[str, ...]) -> str:
        """The rows whose condition columns hold a selected key (`keys`), grouped by the expectation's columns."""
        listed = ", ".join(f'rows."{c}"' for c in columns)
        same = " and ".join(f'rows."{c}" is not distinct from keys."{c}"' for c in condition_columns)
        return (
            f"select {listed}, count(*) as {DISTINCT_ROWS} "  # noqa: S608
            f"from ({source}) as rows semi join keys on {same} group by {listed}"
        )

    def screened_entry(self, index: int, entry: dict[str, Any]) -> dict[str, Any]:
        """The expectation on its own set of the distinct-values batch (its row condition, if any, kept)."""
        kwargs = dict(entry.get("kwargs") or {})
        own = f"{DISTINCT_SET} == {self.set_by_index[index]}"
        condition = kwargs.get("row_condition")
        kwargs["row_condition"] = f"({own}) & ({condition})" if condition else own
        kwargs["condition_parser"] = "pandas"
        return entry | {"kwargs": kwargs}


def _arrow_rows(
    con: duckdb.DuckDBPyConnection,
    sqls: str | list[str],
    shas: list[str],
    max_rows: int,
    keys: pa.Table | None = None,
) -> pa.Table | None:
    """The rows of the queries, one after the other, as one Arrow table (`keys`, if given, readable as `keys`), or
    None as soon as they are more than `max_rows` (then nothing more is read)."""
    held: list[pa.RecordBatch] = []
    rows, schema = 0, None
    # on a cursor: `con` may hold an unfinished result (see `_frames`)
    with con.cursor() as cursor:
        if keys is not None:
            cursor.register("keys", keys)
        for sql in [sqls] if isinstance(sqls, str) else sqls:
            reader = cursor.sql(sql, params={"shas": shas}).to_arrow_reader(VECTOR_ROWS * BATCH_CHUNK_VECTORS)
            schema = schema or reader.schema
            for batch in reader:
                rows += batch.num_rows
                if rows > max_rows:
                    return None
                held.append(batch)
    return pa.Table.from_batches(held, schema=schema)


def _selected_keys(first: pa.Table, number: int, columns: tuple[str, ...], conditions: list[str]) -> pa.Table | None:
    """The distinct values of a condition's columns (set `number` of `first`) any of `conditions` selects, or None
    when pandas cannot evaluate one on them."""
    values = first.filter(pc.equal(first[DISTINCT_SET], number)).select(list(columns)).to_pandas()
    try:
        selected = pd.concat([values.query(condition) for condition in conditions]).drop_duplicates()
    except Exception as exc:  # noqa: BLE001 (any failure: the rows are validated one by one, where GX reports it)
        LOG.info("row condition not evaluated on distinct values (%s); validated row by row", exc)
        return None
    return pa.Table.from_pandas(selected, preserve_index=False)


def _grouping_sets_sql(
    source: str, columns: list[str], sets: list[tuple[set[str], int]], kept: str = ""
) -> tuple[str, dict[int, int]]:
    """A query grouping `source`'s rows by each of `sets` (their columns among `columns`) with each group's rows
    (`DISTINCT_ROWS`) and its set's `grouping()` mask; and the set number of each mask."""
    masks = {
        sum(1 << (len(columns) - 1 - j) for j, c in enumerate(columns) if c not in grouped): n for grouped, n in sets
    }
    quoted = {c: f'"{c}"' for c in columns}
    listed = ", ".join("(" + ", ".join(quoted[c] for c in columns if c in grouped) + ")" for grouped, _ in sets)
    named = ", ".join(quoted.values())
    if not columns:  # the total alone
        sql = f"select 0 as {GROUPING_MASK}, {kept}count(*) as {DISTINCT_ROWS} from ({source}) as rows"  # noqa: S608
        return sql, masks
    sql = (
        f"select grouping({named}) as {GROUPING_MASK}, {named}, {kept}count(*) as {DISTINCT_ROWS} "  # noqa: S608
        f"from ({source}) as rows group by grouping sets ({listed})"
    )
    return sql, masks


def _null_flag(column: str) -> str:
    return f"unionstat_null__{column}"


def _distinct_plans(row_wise: list[tuple[int, dict[str, Any]]], columns: list[str]) -> _DistinctPlans | None:
    """The grouping sets of the row-by-row expectations (`_DistinctPlans`), or None when one cannot be judged on
    distinct values here (a row condition in another parser than pandas'; a type expectation with a condition)."""
    plans = _DistinctPlans()
    grouping: set[str] = set()

    def set_for(key: tuple[str, tuple[str, ...]]) -> int:
        return plans.set_of.setdefault(key, len(plans.set_of))

    for index, entry in row_wise:
        kwargs = dict(entry.get("kwargs") or {})
        condition = kwargs.get("row_condition")
        if condition and kwargs.get("condition_parser") != "pandas":
            return None
        column = kwargs.get("column")
        if not isinstance(column, str) or column not in columns:
            return None
        named = tuple(c for c in columns if c in _named(kwargs, columns))
        if entry.get("type") in TYPE_EXPECTATIONS:
            if condition:
                return None
            plans.typed += [column] if column not in plans.typed else []
            plans.set_by_index[index] = set_for(("typed", (column,)))
            continue
        if not condition:
            grouping |= set(named)
            plans.set_by_index[index] = set_for(("plain", named))
            continue
        on = tuple(c for c in columns if c in _named({"row_condition": condition}, columns))
        if not on:
            return None
        grouping |= set(on)
        set_for(("plain", on))
        number = set_for((f"conditioned on {','.join(on)}", named))
        plans.set_by_index[index] = number
        held = plans.conditioned.setdefault(number, (named, on, []))
        held[2].append(str(condition))
    plans.grouping = [c for c in columns if c in grouping]
    plans.total_set = len(plans.set_of)
    return plans


# What DuckDB holds per row when it compares new rows with earlier ones (an anti-join: measured 1,240 MB above
# the process before it at 10M earlier rows of raw.worldbank_bulk) or looks for repeated keys among them (a window
# over the new rows: 2,100 MB at 10M new rows).
PART_ROW_BYTES = 210


def _parts(con: duckdb.DuckDBPyConnection, rows: RawRows, shas: list[str], settings: Settings) -> tuple[int, bool]:
    """In how many parts DuckDB compares the new rows with the earlier ones, so that one part's rows fit in
    validation's share of the memory limit (each part holds the rows whose `split_by` values hash to it); and
    whether there are earlier rows. A changed-rows macro holds no earlier rows in an anti-join: one part."""
    earlier, is_earlier = rows.earlier()
    loaded, is_loaded = rows.loaded()
    if rows.changed():
        row = con.execute(f"select exists (select 1 from {earlier} where {is_earlier})", {"shas": shas}).fetchone()  # noqa: S608
        return 1, bool(row and row[0])
    row = con.execute(
        f"select (select count(*) from {earlier} where {is_earlier}), "  # noqa: S608
        f"(select count(*) from {loaded} where {is_loaded})",
        {"shas": shas},
    ).fetchone()
    earlier_rows, loaded_rows = (int(row[0]), int(row[1])) if row else (0, 0)
    parts = _parts_for(max(earlier_rows, loaded_rows), settings)
    if parts > 1:
        LOG.info("validate %s: %d new rows, %d earlier rows, in %d parts", rows.table, loaded_rows, earlier_rows, parts)
    return parts, earlier_rows > 0


def _parts_for(rows: int, settings: Settings) -> int:
    """Parts of `rows` rows each of which fits in validation's share of the memory limit."""
    return max(1, math.ceil(rows * PART_ROW_BYTES / (settings.memory_limit_bytes * VALIDATE_BATCH_SHARE)))


def _frames_of(
    con: duckdb.DuckDBPyConnection, sqls: list[str], shas: list[str], keep_as_text: set[str], max_rows: int
) -> Iterator[pd.DataFrame]:
    """The frames of each query in turn (one runs once the one before is read whole); empty frames only when no
    query has a row (then one)."""
    found = False
    for sql in sqls:
        for frame in _frames(con, sql, shas, keep_as_text, max_rows):
            if len(frame) or (not found and sql is sqls[-1]):
                found = True
                yield frame


def _gathered(frames: Iterator[pd.DataFrame], max_rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive frames joined while together they hold at most `max_rows` rows: the parts of a revision's few
    changed rows make one batch (the whole suite at once), not one per part."""
    held: list[pd.DataFrame] = []
    rows = 0
    for frame in frames:
        if held and rows + len(frame) > max_rows:
            yield held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)
            held, rows = [], 0
        held.append(frame)
        rows += len(frame)
    if held:
        yield held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)


def _row_wise(entry: dict[str, Any]) -> bool:
    kind = str(entry.get("type", ""))
    return kind.startswith(ROW_WISE_PREFIXES) and kind not in UNIQUENESS


def _spec_of(spec: dict[str, Any], entries: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """The suite with only `entries`, each marked with its place in the whole suite (meta.unionstat_index)."""
    part = copy.deepcopy({k: v for k, v in spec.items() if k != "expectations"})
    part["expectations"] = [
        copy.deepcopy(entry) | {"meta": dict(entry.get("meta") or {}) | {"unionstat_index": index}}
        for index, entry in entries
    ]
    return part


def _merge(suite: Suite, entry: dict[str, Any], parts: list[tuple[Any, dict[str, Any]]]) -> ExpectationOutcome:
    """A row-by-row expectation's outcome over every batch: counts summed, the first examples kept, and success
    as GX decides it (every batch passed; with `mostly` below 1, the share of unexpected among the non-missing
    values of all batches)."""
    outcomes = [_outcome(suite, config, details, bool(details["__success__"])) for config, details in parts]

    def total(key: str) -> int | None:
        values = [int(details[key]) for _, details in parts if details.get(key) is not None]
        return sum(values) if values else None

    elements, unexpected, missing = total("element_count"), total("unexpected_count"), total("missing_count")
    mostly = (entry.get("kwargs") or {}).get("mostly")
    success = all(o.success for o in outcomes)
    if mostly is not None and float(mostly) < 1 and elements is not None and unexpected is not None:
        present = elements - (missing or 0)
        success = present == 0 or 1 - unexpected / present >= float(mostly)
    examples = [example for o in outcomes for example in o.examples][:5]
    observed = next((o.observed for o in outcomes if o.observed is not None), None)
    return ExpectationOutcome(
        suite=outcomes[0].suite,
        table=suite.table,
        expectation_type=outcomes[0].expectation_type,
        column=outcomes[0].column,
        severity=outcomes[0].severity,
        success=success,
        element_count=elements,
        unexpected_count=unexpected,
        examples=examples,
        observed=observed,
    )


def _row_count(suite: Suite, entry: dict[str, Any], rows: int) -> ExpectationOutcome:
    """expect_table_row_count_to_be_between on the rows of every batch (what GX reports: observed_value)."""
    kwargs = entry.get("kwargs") or {}
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    ok = (low is None or (rows > low if kwargs.get("strict_min") else rows >= low)) and (
        high is None or (rows < high if kwargs.get("strict_max") else rows <= high)
    )
    return ExpectationOutcome(
        suite=str(suite.spec.get("name", suite.table)),
        table=suite.table,
        expectation_type=ROW_COUNT,
        column=None,
        severity=str(entry.get("severity") or "critical"),
        success=ok,
        element_count=None,
        unexpected_count=None,
        observed=rows,
    )


def _duplicates(
    con: duckdb.DuckDBPyConnection,
    sqls: list[str],
    split_by: list[str],
    shas: list[str],
    entry: dict[str, Any],
    keep_as_text: set[str],
    whole: str,
) -> pd.DataFrame:
    """The new rows whose key (the uniqueness expectation's columns) another new row has too: DuckDB finds them,
    and GX judges them (its row conditions and missing-value rules apply there). A unique row can never fail a
    uniqueness expectation, so GX sees every row it could report. First whether any key may repeat, over every new
    row at once (`whole`, the rows of every part); then, if one may, part by part when the key holds the columns
    the parts are split by (rows with the same key are then in the same part), else over every part at once."""
    kwargs = entry.get("kwargs") or {}
    key = list(kwargs.get("column_list") or [kwargs["column"]])
    partition = ", ".join(f'"{c}"' for c in key)
    if not _hashes_repeat(con, whole, partition, shas):
        return _compact_frame(con, f"select * from ({sqls[0]}) as batch limit 0", shas, keep_as_text)  # noqa: S608
    if not set(split_by) <= set(key):
        sqls = [" union all ".join(f"({sql})" for sql in sqls)]
    frames = [
        _compact_frame(
            con,
            f"select * from ({sql}) as batch qualify count(*) over (partition by {partition}) > 1"  # noqa: S608
            if _hashes_repeat(con, sql, partition, shas)
            else f"select * from ({sql}) as batch limit 0",  # noqa: S608
            shas,
            keep_as_text | set(RAW_INDEX),  # sorted below by its text (a categorical sorts by first appearance)
        )
        for sql in sqls
    ]
    found = [frame for frame in frames if len(frame)] or frames[:1]
    suspects = found[0] if len(found) == 1 else pd.concat(found, ignore_index=True)
    return suspects.sort_values(list(RAW_INDEX), ignore_index=True)


def _hashes_repeat(con: duckdb.DuckDBPyConnection, sql: str, partition: str, shas: list[str]) -> bool:
    """Whether two of the query's rows share the hash of their key: rows with the same key always do, so False
    means no key repeats. The hashes are sorted and each compared with the one before: at 10M unique rows 0.9 s,
    where a grouping on the hash took 1.6 s and the window over the key that finds the rows 4.8-5.8 s (which then
    runs only when a key may repeat). A sort of 8-byte hashes spills beyond DuckDB's memory limit."""
    query = f"""
        select exists (
            select 1 from (
                select key_hash = lag(key_hash) over (order by key_hash) as repeated
                from (select hash({partition}) as key_hash from ({sql}) as batch) as hashes
            ) as compared
            where repeated
        )
        """  # noqa: S608
    row = con.execute(query, {"shas": shas}).fetchone()
    return bool(row and row[0])


RAW_INDEX = ("snapshot_sha256", "row_number")
ROW_COUNT_FLOOR = 0.5
RESULT_FORMAT = {  # every failing row's key, so that the whole row is quarantined
    "result_format": "COMPLETE",
    "unexpected_index_column_names": list(RAW_INDEX),
    "partial_unexpected_count": 5,
}
DISTINCT_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}  # no row index: none here
MACRO_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Suite:
    """A raw table's suite (expectations/<table>.json), read once: the GX suite itself (`spec`) and what its
    `meta` asks of this module: where its rows are read (`rows_macro`), the columns that make a loaded row the
    same figure and value (`changed_rows.compare_columns`), those of them the comparison may be split by
    (`changed_rows.split_by`, default all: rows that can match share them) and the row-count floor against the
    previous release (`row_count_vs_previous_vintage.min_ratio`, default 0.5; null turns the check off)."""

    table: str
    spec: dict[str, Any]
    rows: RawRows
    compare: list[str]
    row_count_floor: float | None
    split_by: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, expectations_dir: Path, table: str) -> Suite:
        path = expectations_dir / f"{table}.json"
        if not path.is_file():
            raise ValidationFailed(f"{table}: no expectation suite; expected {path}")
        spec = json.loads(path.read_text(encoding="utf-8"))
        for entry in spec.get("expectations", []):
            if entry.get("severity") not in SEVERITIES:
                raise ValidationFailed(
                    f"{path}: every expectation needs severity {SEVERITIES}; {entry.get('type')} has "
                    f"{entry.get('severity')!r}"
                )
        meta = spec.get("meta", {})
        compare = meta.get("changed_rows", {}).get("compare_columns", [])
        if not all(isinstance(c, str) and c.isidentifier() for c in compare):
            raise ValidationFailed(f"{path}: meta.changed_rows.compare_columns must be column names, found {compare}")
        split_by = meta.get("changed_rows", {}).get("split_by", compare)
        if not set(split_by) <= set(compare) or (compare and not split_by):
            raise ValidationFailed(f"{path}: meta.changed_rows.split_by must be some of {compare}, found {split_by}")
        floor = meta.get("row_count_vs_previous_vintage", {"min_ratio": ROW_COUNT_FLOOR})
        min_ratio = None if floor is None or floor.get("min_ratio") is None else float(floor["min_ratio"])
        return cls(table, spec, RawRows.of(table, spec), list(compare), min_ratio, list(split_by))


@dataclass(frozen=True)
class RawRows:
    """Where the rows a raw table's suite validates are read: the table itself, or (a suite's `meta.rows_macro`)
    a table macro `name(shas, loaded)` giving the rows of the snapshots in `shas` (loaded = true) or of every other
    snapshot (false) in a long shape: a wide table (raw.worldbank_bulk, a list of values per line) is validated
    value by value, with the same expectations as its long twin."""

    table: str
    macro: str | None = None
    changed_macro: str | None = None

    @classmethod
    def of(cls, table: str, spec: dict[str, Any]) -> RawRows:
        meta = spec.get("meta", {})
        macros = {"rows_macro": meta.get("rows_macro"), "changed_rows.macro": meta.get("changed_rows", {}).get("macro")}
        for key, macro in macros.items():
            if macro is not None and not (isinstance(macro, str) and MACRO_NAME.match(macro)):
                raise ValidationFailed(f"{table}: meta.{key} must be a schema.name of a table macro, found {macro!r}")
        return cls(table, macros["rows_macro"], macros["changed_rows.macro"])

    def loaded(self) -> tuple[str, str]:
        """FROM item `loaded` and its condition: the rows of the snapshots `$shas`."""
        if self.macro:
            return f"{self.macro}($shas, true) as loaded", "true"
        return f"{self.table} as loaded", "loaded.snapshot_sha256 in (select unnest($shas))"

    def earlier(self) -> tuple[str, str]:
        """FROM item `earlier` and its condition: the rows of every snapshot not in `$shas`."""
        if self.macro:
            return f"{self.macro}($shas, false) as earlier", "true"
        return f"{self.table} as earlier", "earlier.snapshot_sha256 not in (select unnest($shas))"

    def changed(self) -> tuple[str, str] | None:
        """FROM item `loaded` and its condition for the rows of `$shas` no earlier snapshot holds with the same values,
        when the suite names a macro that finds them (`meta.changed_rows.macro`, `name(shas)`): a wide table
        compares whole lines first and unnests only the cells that differ, where the anti-join of `_batch_sql`
        unnests every cell of every snapshot. Tests hold the two equal."""
        return (f"{self.changed_macro}($shas) as loaded", "true") if self.changed_macro else None

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        if not self.macro:
            return _table_columns(con, self.table)
        _table_columns(con, self.table)  # the table must exist all the same
        empty = con.execute(f"select * from {self.macro}(cast([] as varchar[]), true) limit 0")  # noqa: S608
        names = [str(d[0]) for d in empty.description or []]
        empty.fetchall()  # finish the (empty) result: DuckDB refuses other work on a connection with one pending
        return names


def _row_count_drops(
    con: duckdb.DuckDBPyConnection, table: str, shas: list[str], floor: float | None
) -> list[ExpectationOutcome]:
    """A new release with far fewer rows than the previous one of the same request is a failure, not a new normal."""
    if floor is None:
        return []
    rows = con.execute(
        """
        with snap as (
            select s.sha256, s.source, s.dataset, s.request_url, s.fetched_at, l.row_count
            from raw.snapshots s join raw.loads l on l.sha256 = s.sha256 and l.raw_table = ?
        ),
        ranked as (
            select *, lag(row_count) over (partition by source, dataset, request_url order by fetched_at) as previous
            from snap
        )
        select sha256, request_url, row_count, previous from ranked
        where sha256 in (select unnest(?)) and previous is not null
        """,
        [table, shas],
    ).fetchall()
    outcomes = []
    for sha, url, count, previous in rows:
        ok = count >= floor * previous
        outcomes.append(
            ExpectationOutcome(
                suite="row_count_vs_previous_vintage",
                table=table,
                expectation_type="row_count_vs_previous_vintage",
                column=None,
                severity="critical",
                success=ok,
                element_count=count,
                unexpected_count=None if ok else previous - count,
                examples=[] if ok else [f"{url}: {count} rows, previous release {previous}"],
                snapshots=[sha],
            )
        )
    return outcomes


def _context(gx: Any, settings: Settings) -> Any:
    """A file context in the warehouse (warehouse/gx) whose validation results feed the Data Docs site; without
    Data Docs (UNIONSTAT_DOCS=false) an in-memory one: the results are kept in dq.validation_results and the
    history all the same, and nothing is written or read back from files (several seconds a run)."""
    if settings.docs:
        settings.gx_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))
    else:
        context = gx.get_context(mode="ephemeral")
    # "Calculating Metrics" bars, one per suite, only when asked for (UNIONSTAT_PROGRESS_BARS, `--verbose`)
    context.variables.progress_bars = {
        "globally": settings.progress_bars,
        "metric_calculations": settings.progress_bars,
    }
    if not settings.docs:
        return context
    if DOCS_SITE not in context.get_config().data_docs_sites:
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(settings.reports_dir / "data_docs"),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _batch_sql(
    rows: RawRows, compare: list[str], columns: list[str], part: tuple[list[str], int, int] | None = None
) -> str:
    """The query of the rows of the snapshots `$shas` this run loaded; with `compare` columns, only those no earlier
    snapshot of the table already holds with the same values (new figures and revised values): a new release of a
    large dataset is validated by the size of what changed. DuckDB finds them with one anti-join.

    Only `columns` are read (those the suite's expectations and the failing-row index use). `part` (columns,
    parts, number): only the rows, new and earlier, whose values of those columns hash to part `number` of `parts`
    (rows that can match have the same values there: the anti-join then holds a part of the earlier rows)."""
    select = ", ".join(f"loaded.{c}" for c in columns)
    changed = rows.changed() if compare else None
    loaded, is_loaded = changed or rows.loaded()
    earlier, is_earlier = rows.earlier()
    if part is not None and part[1] > 1:
        split, parts, number = part
        is_loaded += f" and hash({', '.join(f'loaded.{c}' for c in split)}) % {parts} = {number}"
        is_earlier += f" and hash({', '.join(f'earlier.{c}' for c in split)}) % {parts} = {number}"
    if not compare or changed:
        return f"select {select} from {loaded} where {is_loaded}"  # noqa: S608
    same = " and ".join(f"earlier.{c} is not distinct from loaded.{c}" for c in compare)
    return f"""
        select {select} from {loaded}
        where {is_loaded}
          and not exists (
            select 1 from {earlier}
            where {is_earlier} and {same}
          )
        """  # noqa: S608


def _batch(
    con: duckdb.DuckDBPyConnection,
    rows: RawRows,
    shas: list[str],
    compare: list[str],
    columns: list[str],
    keep_as_text: set[str],
) -> pd.DataFrame:
    """Every row `_batch_sql` gives, as one compact frame (text columns with repeated values as categoricals)."""
    return _compact_frame(con, _batch_sql(rows, compare, columns), shas, keep_as_text)


BATCH_CHUNK_VECTORS = 64  # DuckDB vectors (2,048 rows each) read as one Arrow record batch: ~131k rows
CATEGORICAL_MAX_SHARE = 0.5  # a text column becomes categorical when a frame repeats its values this much


VECTOR_ROWS = 2_048  # rows in a DuckDB vector


def _compact_frame(con: duckdb.DuckDBPyConnection, sql: str, shas: list[str], keep_as_text: set[str]) -> pd.DataFrame:
    """The query's rows as one pandas frame (see `_frames`)."""
    return next(_frames(con, sql, shas, keep_as_text, sys.maxsize))


def _frames(
    con: duckdb.DuckDBPyConnection, sql: str, shas: list[str], keep_as_text: set[str], max_rows: int
) -> Iterator[pd.DataFrame]:
    """The query's rows as pandas frames of about `max_rows` rows (whole Arrow record batches; the first frame
    always, empty when the query has no rows).

    DuckDB hands the rows over as Arrow record batches, and a frame's text columns stay Arrow strings: no Python
    string is made per row (at 10M rows a conversion through Python objects took seconds and gigabytes), and Great
    Expectations' regular expressions run in Arrow. A text column that repeats its values becomes a categorical
    (a code per row), unless it is in `keep_as_text`: those an expectation reads as text (its type, or a pattern,
    which on a categorical would first be written out as a string per row)."""
    batch_rows = VECTOR_ROWS * max(1, min(BATCH_CHUNK_VECTORS, max_rows // VECTOR_ROWS))
    # On a cursor (the same database, its own connection; every statement commits by itself): `con` may hold an
    # unfinished result (a fetchone()), beside which DuckDB refuses to stream another.
    with con.cursor() as cursor:
        reader = cursor.sql(sql, params={"shas": shas}).to_arrow_reader(batch_rows)
        held: list[pa.RecordBatch] = []
        rows, yielded = 0, False
        for batch in reader:
            if not batch.num_rows:
                continue
            held.append(batch)
            rows += batch.num_rows
            if rows >= max_rows:
                yield _frame(pa.Table.from_batches(held, schema=reader.schema), keep_as_text)
                held, rows, yielded = [], 0, True
        if held or not yielded:
            yield _frame(pa.Table.from_batches(held, schema=reader.schema), keep_as_text)


def _frame(table: pa.Table, keep_as_text: set[str]) -> pd.DataFrame:
    """The rows as a pandas frame: text stays Arrow strings, repeated text not in `keep_as_text` becomes a
    categorical (dictionary-encoded in Arrow), dates become datetime64 as DuckDB's own pandas conversion gives."""
    for index, column in enumerate(table.schema):
        if column.name in keep_as_text or not pa.types.is_string(column.type) or not table.num_rows:
            continue
        distinct = pc.count_distinct(table.column(index), mode="all").as_py()
        if distinct <= CATEGORICAL_MAX_SHARE * table.num_rows:
            table = table.set_column(index, column.name, pc.dictionary_encode(table.column(index)))
    return table.to_pandas(date_as_object=False)


COLUMN_KWARGS = ("column", "column_A", "column_B")
# Expectations that read a column's dtype or its values as text: the column stays text, never a categorical.
TEXT_EXPECTATIONS = tuple(
    f"expect_column_{name}"
    for name in (
        "values_to_be_of_type", "values_to_be_in_type_list", "values_to_match_regex", "values_to_not_match_regex",
        "values_to_match_regex_list", "values_to_not_match_regex_list", "values_to_match_like_pattern",
        "values_to_not_match_like_pattern", "values_to_match_like_pattern_list",
        "values_to_not_match_like_pattern_list", "values_to_match_strftime_format", "values_to_be_dateutil_parseable",
        "values_to_be_json_parseable", "values_to_match_json_schema", "value_lengths_to_be_between",
        "value_lengths_to_equal",
    )
)  # fmt: skip


def _suite_columns(spec: dict[str, Any], table_columns: list[str]) -> tuple[list[str], set[str]]:
    """The columns a suite reads (its expectations' columns, those its row conditions name, the index columns
    of failing-row reports) in table order, and those an expectation reads as text (`TEXT_EXPECTATIONS`). Every
    column, each as text, when an expectation is about the table's columns or names columns in a way not known
    here: never less than asked."""
    wanted = set(RAW_INDEX)
    as_text: set[str] = set()
    for entry in spec.get("expectations", []):
        kind, kwargs = str(entry.get("type", "")), dict(entry.get("kwargs") or {})
        unknown = [k for k in kwargs if "column" in k and k not in (*COLUMN_KWARGS, "column_list")]
        if kind.startswith("expect_table_column") or unknown:
            return list(table_columns), set(table_columns)
        named = _named(kwargs, table_columns)
        wanted |= named
        if kind in TEXT_EXPECTATIONS:
            as_text |= named
    return [c for c in table_columns if c in wanted], as_text


def _named(kwargs: dict[str, Any], table_columns: list[str]) -> set[str]:
    names = {str(kwargs[k]) for k in COLUMN_KWARGS if k in kwargs}
    names |= {str(c) for c in kwargs.get("column_list") or []}
    condition = str(kwargs.get("row_condition") or "")
    names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition)) & set(table_columns)
    return names


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        raise ValidationFailed(f"{table}: no such table in the build warehouse; its suite expects it")
    return [str(r[0]) for r in rows]


def _changed_rows_outcome(
    con: duckdb.DuckDBPyConnection, rows: RawRows, shas: list[str], compare: list[str], changed: int
) -> ExpectationOutcome:
    """How many loaded rows were new or revised, and so went through the suite (the rest were validated before)."""
    source, is_loaded = rows.loaded()
    row = con.execute(f"select count(*) from {source} where {is_loaded}", {"shas": shas}).fetchone()  # noqa: S608
    loaded = int(row[0]) if row else 0
    return ExpectationOutcome(
        suite="changed_rows",
        table=rows.table,
        expectation_type="changed_rows_validated",
        column=None,
        severity="warning",
        success=True,
        element_count=loaded,
        unexpected_count=None,
        examples=[f"{changed} of {loaded} loaded rows new or revised (compared on {', '.join(compare)})"],
        snapshots=sorted(shas),
        observed={"loaded": loaded, "new_or_revised": changed, "compared_on": compare},
    )


def _validation(gx: Any, context: Any, suite_file: Suite, spec: dict[str, Any], of: str = ROWS_BATCH) -> Any:
    """The validation definition of `spec` (the suite, or part of it) on a table's dataframe batch, registered in
    `context` (`_results` runs it on one batch). It is run as it is, not through a checkpoint: a checkpoint with no
    actions adds nothing but a check that it and its validations are as stored, 0.13 s a batch at 10M rows."""
    named = copy.deepcopy(spec)
    if of != ROWS_BATCH:  # a part of the suite: a GX suite of its own, beside the whole one
        named["name"] = f"{spec.get('name', suite_file.table)}.{of}"
    suite = context.suites.add_or_update(gx.ExpectationSuite(**named))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    asset_name = suite_file.table.replace(".", "__")
    asset = next((a for a in source.assets if a.name == asset_name), None) or source.add_dataframe_asset(asset_name)
    definition = next((d for d in asset.batch_definitions if d.name == of), None)
    definition = definition or asset.add_batch_definition_whole_dataframe(of)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=definition, suite=suite, name=f"{suite.name}__{of}")
    )


def _results(
    validation: Any, batch: pd.DataFrame, run: Any, result_format: dict[str, Any] | None = None
) -> list[tuple[Any, dict[str, Any]]]:
    """Each expectation's config and result dict (its success under `__success__`) of the validation on `batch`,
    as part of `run` (a GX RunIdentifier). Data Docs are built once, after every suite ran."""
    result_format = result_format or RESULT_FORMAT
    result = validation.run(batch_parameters={"dataframe": batch}, result_format=result_format, run_id=run)
    return [
        (res.expectation_config, dict(res.result or {}) | {"__success__": bool(res.success)}) for res in result.results
    ]


def _outcome(suite_file: Suite, config: Any, details: dict[str, Any], success: bool) -> ExpectationOutcome:
    severity = getattr(config, "severity", None)
    return ExpectationOutcome(
        suite=str(suite_file.spec.get("name", suite_file.table)),
        table=suite_file.table,
        expectation_type=config.type,
        column=config.kwargs.get("column"),
        severity=str(getattr(severity, "value", severity) or "critical"),
        success=success,
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        examples=list(details.get("partial_unexpected_list") or [])[:5],
        observed=details.get("observed_value"),
    )


def _outcomes(
    results: list[tuple[Any, dict[str, Any]]], suite_file: Suite, batch: pd.DataFrame
) -> tuple[list[ExpectationOutcome], list[dict[str, Any]]]:
    outcomes: list[ExpectationOutcome] = []
    quarantined: list[dict[str, Any]] = []
    for config, details in results:
        outcomes.append(_outcome(suite_file, config, details, bool(details["__success__"])))
        if not outcomes[-1].success:
            quarantined.extend(_quarantine(batch, outcomes[-1], details.get("unexpected_index_list") or []))
    return outcomes, quarantined


def _quarantine(batch: pd.DataFrame, outcome: ExpectationOutcome, unexpected: list[Any]) -> list[dict[str, Any]]:
    """The full failing rows, found by their index columns, kept for inspection (never dropped silently)."""
    index = list(RAW_INDEX)
    keys = {tuple(str(item.get(col)) for col in index) for item in unexpected if isinstance(item, dict)}
    if not keys:
        return []
    # One vectorised membership test over the batch (a row-wise apply took seconds at 150k rows).
    batch_keys = pd.MultiIndex.from_arrays([batch[col].astype(str) for col in index])
    failing = batch[batch_keys.isin(list(keys))]
    return [
        {
            "table": outcome.table,
            "expectation_type": outcome.expectation_type,
            "column": outcome.column,
            "severity": outcome.severity,
            "snapshot_sha256": row.get("snapshot_sha256"),
            "row_number": row.get("row_number"),
            "row": row,
        }
        for row in failing.to_dict(orient="records")
    ]


def _with_full_rows(
    con: duckdb.DuckDBPyConnection, rows_of: RawRows, quarantined: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Quarantined rows as whole raw rows (every column), read back by their key (snapshot_sha256, row_number)."""
    keys = sorted({(str(q["snapshot_sha256"]), int(q["row_number"])) for q in quarantined})
    table = rows_of.table
    source = f"{rows_of.macro}($shas, true)" if rows_of.macro else table
    found = con.execute(
        f"""
        select raw.* from {source} as raw
        join (select unnest($shas) as sha, unnest($rows) as row_number) as failing
          on raw.snapshot_sha256 = failing.sha and raw.row_number = failing.row_number
        """,  # noqa: S608
        {"shas": [k[0] for k in keys], "rows": [k[1] for k in keys]},
    ).df()
    rows = {(str(r["snapshot_sha256"]), int(r["row_number"])): r for r in found.to_dict(orient="records")}
    missing = [k for k in keys if k not in rows]
    if missing:
        raise ValidationFailed(f"{table}: quarantined rows not found again by their key: {missing[:3]}")
    return [q | {"row": rows[(str(q["snapshot_sha256"]), int(q["row_number"]))]} for q in quarantined]


def _store(con: duckdb.DuckDBPyConnection, outcomes: list[ExpectationOutcome], run_id: str) -> None:
    if not outcomes:
        return
    now = datetime.now(UTC)
    warehouse.insert_rows(con, "dq.validation_results", [o.as_row(run_id, now) for o in outcomes])
