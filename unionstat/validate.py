"""Great Expectations on what changed: new raw rows are validated as pandas batches before dbt runs."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

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

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        return (
            f"{self.table}: {self.expectation_type}{where} failed for {self.unexpected_count} of "
            f"{self.element_count} rows; e.g. {self.examples[:3]}"
        )


@dataclass
class ValidationReport:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_index: Path | None = None

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.failed if o.severity == "critical"]


def validate_new_rows(
    settings: Settings, con: duckdb.DuckDBPyConnection, new_rows: dict[str, list[str]], run_id: str
) -> ValidationReport:
    """Validate rows of newly loaded snapshots, table by table; store results; fail on critical ones."""
    report = ValidationReport()
    if not any(new_rows.values()):
        LOG.info("validate: nothing new to validate")
        return report
    import great_expectations as gx  # heavy import, only when there is work

    context = _context(gx, settings)
    for table, shas in sorted(new_rows.items()):
        if not shas:
            continue
        suite_path = settings.expectations_dir / f"{table}.json"
        if not suite_path.is_file():
            raise ValidationFailed(f"{table}: no expectation suite; expected {suite_path}")
        batch = _batch(con, table, shas)
        outcomes = _run_suite(gx, context, suite_path, table, batch, run_id)
        _store(con, outcomes, shas, run_id)
        report.outcomes.extend(outcomes)
    context.build_data_docs(site_names=[DOCS_SITE])
    report.docs_index = settings.reports_dir / "data_docs" / "index.html"
    if report.critical_failures:
        raise ValidationFailed(
            "critical expectations failed: " + " | ".join(o.describe() for o in report.critical_failures)
        )
    return report


def _context(gx: Any, settings: Settings) -> Any:
    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))
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


def _batch(con: duckdb.DuckDBPyConnection, table: str, shas: list[str]) -> pd.DataFrame:
    """Only the rows of the snapshots this run loaded: batches are the size of what changed."""
    return con.execute(f"select * from {table} where snapshot_sha256 in (select unnest(?))", [shas]).df()  # noqa: S608


def _run_suite(
    gx: Any, context: Any, suite_path: Path, table: str, batch: pd.DataFrame, run_id: str
) -> list[ExpectationOutcome]:
    spec = json.loads(suite_path.read_text(encoding="utf-8"))
    for entry in spec.get("expectations", []):
        if entry.get("severity") not in SEVERITIES:
            raise ValidationFailed(
                f"{suite_path}: every expectation needs severity {SEVERITIES}; {entry.get('type')} has "
                f"{entry.get('severity')!r}"
            )
    suite = context.suites.add_or_update(gx.ExpectationSuite(**spec))
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    asset_name = table.replace(".", "__")
    asset = next((a for a in source.assets if a.name == asset_name), None) or source.add_dataframe_asset(asset_name)
    definition = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("new_rows")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=definition, suite=suite, name=f"{suite.name}__new_rows")
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{suite.name}__checkpoint",
            validation_definitions=[validation],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[DOCS_SITE])],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": batch}, run_id=gx.RunIdentifier(run_name=run_id))
    outcomes = []
    for validation_result in result.run_results.values():
        for res in validation_result.results:
            config = res.expectation_config
            details = res.result or {}
            severity = getattr(config, "severity", None)
            outcomes.append(
                ExpectationOutcome(
                    suite=suite.name,
                    table=table,
                    expectation_type=config.type,
                    column=config.kwargs.get("column"),
                    severity=str(getattr(severity, "value", severity) or "critical"),
                    success=bool(res.success),
                    element_count=details.get("element_count"),
                    unexpected_count=details.get("unexpected_count"),
                    examples=list(details.get("partial_unexpected_list") or []),
                )
            )
    return outcomes


def _store(con: duckdb.DuckDBPyConnection, outcomes: list[ExpectationOutcome], shas: list[str], run_id: str) -> None:
    now = datetime.now(UTC)
    con.executemany(
        "insert into dq.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                now,
                o.suite,
                o.table,
                o.expectation_type,
                o.column,
                o.severity,
                o.success,
                o.element_count,
                o.unexpected_count,
                json.dumps(o.examples, default=str),
                ",".join(sorted(shas)),
            ]
            for o in outcomes
        ],
    )


def reset_docs(settings: Settings) -> None:
    """Remove rendered Data Docs (they are rebuilt from the Great Expectations stores)."""
    shutil.rmtree(settings.reports_dir / "data_docs", ignore_errors=True)
