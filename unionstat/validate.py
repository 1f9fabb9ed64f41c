"""Great Expectations on what changed: new raw rows are validated as pandas batches before dbt runs."""

from __future__ import annotations

import copy
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pandas.api.types import union_categoricals

from unionstat import warehouse
from unionstat.data_docs_assets import localize_site
from unionstat.errors import ValidationFailed
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
DATASOURCE = "unionstat_warehouse"
DOCS_SITE = "unionstat"
SEVERITIES = ("critical", "warning")


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
    """Validate the rows of newly loaded snapshots, table by table, and compare row counts with the last vintage."""
    batches = {table: shas for table, shas in new_rows.items() if shas}
    report = ValidationReport()
    if not batches:
        LOG.info("validate: nothing new to validate")
        return report
    suites = {table: Suite.read(settings.expectations_dir, table) for table in sorted(batches)}
    frames: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    changes: list[ExpectationOutcome] = []
    for table, suite in suites.items():
        shas = batches[table]
        columns, keep_as_text = _suite_columns(suite.spec, suite.rows.columns(con))
        batch = _batch(con, suite.rows, shas, suite.compare, columns, keep_as_text)
        if suite.compare:
            changes.append(_changed_rows_outcome(con, suite.rows, shas, suite.compare, len(batch)))
        if len(batch) or not suite.compare:
            frames[table] = (batch, shas)
    report = _validate(settings, con, suites, frames, run_id)
    _store(con, changes, run_id)
    report.outcomes.extend(changes)
    for table, suite in suites.items():
        drops = _row_count_drops(con, table, batches[table], suite.row_count_floor)
        _store(con, drops, run_id)
        report.outcomes.extend(drops)
    return report


RAW_INDEX = ("snapshot_sha256", "row_number")
ROW_COUNT_FLOOR = 0.5
RESULT_FORMAT = {  # every failing row's key, so that the whole row is quarantined
    "result_format": "COMPLETE",
    "unexpected_index_column_names": list(RAW_INDEX),
    "partial_unexpected_count": 5,
}
MACRO_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Suite:
    """A raw table's suite (expectations/<table>.json), read once: the GX suite itself (`spec`) and what its
    `meta` asks of this module: where its rows are read (`rows_macro`), the columns that make a loaded row the
    same figure and value (`changed_rows.compare_columns`) and the row-count floor against the previous release
    (`row_count_vs_previous_vintage.min_ratio`, default 0.5; null turns the check off)."""

    table: str
    spec: dict[str, Any]
    rows: RawRows
    compare: list[str]
    row_count_floor: float | None

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
        floor = meta.get("row_count_vs_previous_vintage", {"min_ratio": ROW_COUNT_FLOOR})
        min_ratio = None if floor is None or floor.get("min_ratio") is None else float(floor["min_ratio"])
        return cls(table, spec, RawRows.of(table, spec), list(compare), min_ratio)


@dataclass(frozen=True)
class RawRows:
    """Where the rows a raw table's suite validates are read: the table itself, or (a suite's `meta.rows_macro`)
    a table macro `name(shas, loaded)` giving the rows of the snapshots in `shas` (loaded = true) or of every other
    snapshot (false) in a long shape: a wide table (raw.worldbank_bulk, a list of values per line) is validated
    value by value, with the same expectations as its long twin."""

    table: str
    macro: str | None = None

    @classmethod
    def of(cls, table: str, spec: dict[str, Any]) -> RawRows:
        macro = spec.get("meta", {}).get("rows_macro")
        if macro is not None and not (isinstance(macro, str) and MACRO_NAME.match(macro)):
            raise ValidationFailed(f"{table}: meta.rows_macro must be a schema.name of a table macro, found {macro!r}")
        return cls(table, macro)

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

    def columns(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        if not self.macro:
            return _table_columns(con, self.table)
        _table_columns(con, self.table)  # the table must exist all the same
        empty = con.execute(f"select * from {self.macro}(cast([] as varchar[]), true) limit 0")  # noqa: S608
        names = [str(d[0]) for d in empty.description or []]
        empty.fetchall()  # finish the (empty) result: DuckDB refuses other work on a connection with one pending
        return names


def _validate(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    suites: dict[str, Suite],
    batches: dict[str, tuple[pd.DataFrame, list[str]]],
    run_id: str,
) -> ValidationReport:
    import great_expectations as gx  # heavy import, only when there is work

    report = ValidationReport()
    if not batches:
        return report
    context = _context(gx, settings)
    for table, (batch, shas) in batches.items():
        suite = suites[table]
        outcomes, quarantined = _run_suite(gx, context, suite, batch, run_id)
        if quarantined and list(batch.columns) != suite.rows.columns(con):
            quarantined = _with_full_rows(con, suite.rows, quarantined)  # the batch held only the suite's columns
        for outcome in outcomes:
            outcome.snapshots = sorted(shas)
        _store(con, outcomes, run_id)
        report.outcomes.extend(outcomes)
        report.quarantined.extend(quarantined)
    if settings.docs:  # UNIONSTAT_DOCS=false: no Data Docs (the results are in the history and the report all the same)
        context.build_data_docs(site_names=[DOCS_SITE])
        localize_site(settings.reports_dir / "data_docs")  # offline: local copies of GX's CDN assets
        report.docs_index = settings.reports_dir / "data_docs" / "index.html"
    return report


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


def _batch(
    con: duckdb.DuckDBPyConnection,
    rows: RawRows,
    shas: list[str],
    compare: list[str],
    columns: list[str],
    keep_as_text: set[str],
) -> pd.DataFrame:
    """The rows of the snapshots this run loaded; with `compare` columns, only those no earlier snapshot of the
    table already holds with the same values (new figures and revised values): a new release of a large
    dataset is validated by the size of what changed. DuckDB finds them with one anti-join.

    Only `columns` are read (those the suite's expectations and the failing-row index use), and text columns
    with repeated values become categoricals (one Python string per distinct value, not one per row)."""
    select = ", ".join(f"loaded.{c}" for c in columns)
    loaded, is_loaded = rows.loaded()
    if not compare:
        sql = f"select {select} from {loaded} where {is_loaded}"  # noqa: S608
    else:
        earlier, is_earlier = rows.earlier()
        same = " and ".join(f"earlier.{c} is not distinct from loaded.{c}" for c in compare)
        sql = f"""
            select {select} from {loaded}
            where {is_loaded}
              and not exists (
                select 1 from {earlier}
                where {is_earlier} and {same}
              )
            """  # noqa: S608
    return _compact_frame(con.execute(sql, {"shas": shas}), keep_as_text)


BATCH_CHUNK_VECTORS = 64  # DuckDB vectors (2,048 rows each) converted to pandas at a time: ~131k rows
CATEGORICAL_MAX_SHARE = 0.5  # a text column becomes categorical when its first chunk repeats values this much


def _compact_frame(result: duckdb.DuckDBPyConnection, keep_as_text: set[str]) -> pd.DataFrame:
    """The query's rows as pandas, chunk by chunk; repetitive VARCHAR columns as categoricals.

    Converting a whole result at once holds a Python string per row and column (at 10M rows, gigabytes) before
    anything could be compacted; chunks bound that to one chunk. Columns in `keep_as_text` stay strings (a type
    expectation reads their dtype)."""
    text = {str(name) for name, kind, *_ in result.description or [] if str(kind) == "VARCHAR"} - keep_as_text
    first = result.fetch_df_chunk(BATCH_CHUNK_VECTORS)
    categorical = [c for c in first.columns if c in text and _repetitive(first[c])]
    chunks: list[pd.DataFrame] = []
    chunk = first
    while len(chunk):
        for column in categorical:
            chunk[column] = chunk[column].astype("category")
        chunks.append(chunk)
        chunk = result.fetch_df_chunk(BATCH_CHUNK_VECTORS)
    if len(chunks) <= 1:
        return (chunks or [first])[0].reset_index(drop=True)
    combined: dict[str, pd.Series] = {}
    for column in list(first.columns):
        parts = [chunk.pop(column) for chunk in chunks]
        if column in categorical:
            combined[column] = pd.Series(union_categoricals(parts), name=column)
        else:
            combined[column] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(combined)


def _repetitive(values: pd.Series) -> bool:
    return bool(len(values)) and values.nunique(dropna=True) <= CATEGORICAL_MAX_SHARE * len(values)


COLUMN_KWARGS = ("column", "column_A", "column_B")
TYPE_EXPECTATIONS = ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")


def _suite_columns(spec: dict[str, Any], table_columns: list[str]) -> tuple[list[str], set[str]]:
    """The columns a suite reads (its expectations' columns, those its row conditions name, the index columns
    of failing-row reports) in table order, and those whose dtype an expectation checks. Every column when an
    expectation is about the table's columns or names columns in a way not known here: never less than asked."""
    wanted = set(RAW_INDEX)
    typed: set[str] = set()
    for entry in spec.get("expectations", []):
        kind, kwargs = str(entry.get("type", "")), dict(entry.get("kwargs") or {})
        unknown = [k for k in kwargs if "column" in k and k not in (*COLUMN_KWARGS, "column_list")]
        if kind.startswith("expect_table_column") or unknown:
            return list(table_columns), typed | _named(kwargs, table_columns)
        named = _named(kwargs, table_columns)
        wanted |= named
        if kind in TYPE_EXPECTATIONS:
            typed |= named
    return [c for c in table_columns if c in wanted], typed


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


def _run_suite(
    gx: Any, context: Any, suite_file: Suite, batch: pd.DataFrame, run_id: str
) -> tuple[list[ExpectationOutcome], list[dict[str, Any]]]:
    suite = context.suites.add_or_update(gx.ExpectationSuite(**copy.deepcopy(suite_file.spec)))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    asset_name = suite_file.table.replace(".", "__")
    asset = next((a for a in source.assets if a.name == asset_name), None) or source.add_dataframe_asset(asset_name)
    definition = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("new_rows")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=definition, suite=suite, name=f"{suite.name}__new_rows")
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{suite.name}__checkpoint",
            validation_definitions=[validation],
            actions=[],  # Data Docs are built once, after every suite ran (one build, not one per checkpoint)
            result_format=RESULT_FORMAT,
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": batch}, run_id=gx.RunIdentifier(run_name=run_id))
    outcomes: list[ExpectationOutcome] = []
    quarantined: list[dict[str, Any]] = []
    for validation_result in result.run_results.values():
        for res in validation_result.results:
            config = res.expectation_config
            details = res.result or {}
            severity = getattr(config, "severity", None)
            outcomes.append(
                ExpectationOutcome(
                    suite=suite.name,
                    table=suite_file.table,
                    expectation_type=config.type,
                    column=config.kwargs.get("column"),
                    severity=str(getattr(severity, "value", severity) or "critical"),
                    success=bool(res.success),
                    element_count=details.get("element_count"),
                    unexpected_count=details.get("unexpected_count"),
                    examples=list(details.get("partial_unexpected_list") or [])[:5],
                    observed=details.get("observed_value"),
                )
            )
            if not res.success:
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
