"""A run's warnings worded for a person, grouped; the documented conditions of the reference run become notes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb

from unionstat import dq, warehouse
from unionstat.progress import plural
from unionstat.settings import Settings

#: Conditions every offline run of the reference snapshot meets, each documented in the README ("What the
#: reference run reports"): in replay they are notes; in a live run or after an import they stay warnings.
REFERENCE_CONDITIONS = {
    "not recorded",
    "gx:warning:raw.worldbank_bulk:expect_column_values_to_be_between:value",
    "dbt:accepted_values_mart_table2_country_comparison_status",
    "dbt:accepted_values_mart_table5_correlation_status",
    "dbt:accepted_values_mart_revisions_is_large",
    # the two real Belstat wage workbooks: January 2025's went bilingual ("Январь / January")
    "layout:belstat:average_wages_by_activity",
}
#: How many of a layout's changes a finding lists (the rest are counted).
LAYOUT_CHANGES_SHOWN = 3


@dataclass(frozen=True)
class Finding:
    group: str  # what raised it: "sources", "Great Expectations", "dbt tests"
    text: str
    key: str  # matched against REFERENCE_CONDITIONS
    expected: bool = False  # a documented condition of the reference run: a note, not a warning
    failed: bool = False  # a critical expectation or a dbt test at severity error: it stopped the run


def of_run(settings: Settings, summary: dict[str, Any]) -> list[Finding]:
    """Everything a run flagged that did not stop it: gaps in the reference, warning expectations, dbt warnings."""
    found = [*_gaps(summary), *_layouts(summary), *_expectations(settings, summary), *_dbt(settings, summary)]
    reference = summary.get("mode") == "replay" and not summary.get("imported")
    return [
        Finding(
            f.group,
            f.text,
            f.key,
            reference and not f.failed and any(f.key.startswith(k) for k in REFERENCE_CONDITIONS),
            f.failed,
        )
        for f in found
    ]


def _gaps(summary: dict[str, Any]) -> list[Finding]:
    gaps = summary.get("not_recorded") or {}
    if not gaps:
        return []
    count = sum(len(v) for v in gaps.values())
    per_source = "; ".join(f"{source} {', '.join(names)}" for source, names in sorted(gaps.items()))
    text = f"{plural(count, 'request')} not in the reference snapshot (no file and no figure for them): {per_source}"
    return [Finding("sources", text, "not recorded")]


def _layouts(summary: dict[str, Any]) -> list[Finding]:
    """Subjects whose newest snapshot's layout differs from the one before: said with what changed. Not a failure
    by itself: the rows passed (or, in a failed run, failed) the critical expectations like any others."""
    findings = []
    for change in summary.get("layout_changes") or []:
        listed = change["changes"][:LAYOUT_CHANGES_SHOWN]
        more = len(change["changes"]) - len(listed)
        what = "; ".join(listed) + (f"; and {plural(more, 'more change')}" if more > 0 else "")
        text = (
            f"{change['source']} {change['subject']}: layout changed since release {change['since']}, "
            f"in {change['release']}: {what}"
        )
        findings.append(Finding("layouts", text, f"layout:{change['source']}:{change['dataset']}"))
    return findings


def _expectations(settings: Settings, summary: dict[str, Any]) -> list[Finding]:
    """Failed expectations of the run, from the data-quality history, with the suite's own reason (`meta.why`)."""
    if not dq.history_path(settings).exists():
        return [Finding("Great Expectations", w, "gx:") for w in summary.get("expectation_warnings", [])]
    with warehouse.connection(dq.history_path(settings), read_only=True) as con:
        rows = con.execute(
            "select table_name, expectation_type, column_name, severity, element_count, unexpected_count, "
            "unexpected_examples from validation_results where run_id = ? and not success "
            "order by severity, table_name, expectation_type, column_name",
            [summary["run_id"]],
        ).fetchall()
    findings = []
    for table, kind, column, severity, elements, unexpected, examples in rows:
        why = _why(settings, table, kind, column, severity)
        count = f"{unexpected:,} of {plural(elements, 'row')}" if elements is not None else "the table"
        sample = ", ".join(_short(v) for v in json.loads(examples or "[]")[:3])
        text = f"{table}, column {column}: {count} — {why}" + (f" (e.g. {sample})" if sample else "")
        key = f"gx:{severity}:{table}:{kind}:{column}"
        findings.append(Finding("Great Expectations", text, key, failed=severity != "warning"))
    return findings


def _dbt(settings: Settings, summary: dict[str, Any]) -> list[Finding]:
    tests = [t for t in dq.dbt_tests(settings, summary["run_id"]) if t["status"] in ("warn", "fail", "error")]
    return [
        Finding(
            "dbt tests",
            _dbt_words(settings, t, summary["run_id"]),
            f"dbt:{t['name']}",
            failed=t["status"] == "error" or (t["status"] == "fail" and t["severity"] != "warn"),
        )
        for t in tests
    ]


def _dbt_words(settings: Settings, test: dict[str, Any], run_id: str) -> str:
    """The test in words: for the marts whose rows say why, the reason from the rows themselves."""
    name, failures = str(test["name"] or ""), int(test["failures"] or 0)
    reasons = {
        "accepted_values_mart_table2_country_comparison_status": (
            "select metric_label || ': ' || status || ' — ' || coalesce(status_reason, 'no reason given') "
            "from marts.mart_table2_country_comparison where status not in ('computed', 'partial') order by 1",
            "Table 2",
        ),
        "accepted_values_mart_table5_correlation_status": (
            "select coalesce(status_reason, status) from marts.mart_table5_correlation "
            "where status <> 'computed' order by 1",
            "Table 5, the correlation",
        ),
        "not_null_mart_variables_units": (
            "select 'no unit recorded for ' || string_agg(indicator_code, ', ' order by indicator_code) "
            "from marts.mart_variables where units is null having count(*) > 0",
            "the variables catalog",
        ),
    }
    for prefix, (sql, label) in reasons.items():
        if name.startswith(prefix):
            found = _published_rows(settings, sql)
            if found:
                return f"{label}: " + "; ".join(found)
    if name.startswith("accepted_values_mart_revisions_is_large"):
        return (
            "large revisions between releases (a change above 5%, or a value that appeared or disappeared): "
            "marts.mart_revisions where is_large"
        )
    stored = f", kept in {test['stored_failures']}" if test.get("stored_failures") else ""
    broken = dq.broken_rules(settings, run_id, test["unique_id"]) if name.startswith("column_rules_") else []
    which = f" breaking {', '.join(broken)}" if broken else ""
    model = test["model"] or "?"
    return f"{model}: {name} ({test['severity'] or 'error'}): {plural(failures, 'failing row')}{which}{stored}"


def _published_rows(settings: Settings, sql: str) -> list[str]:
    if not settings.published_db.exists():
        return []
    with warehouse.connection(settings.published_db, read_only=True) as con:
        try:
            return [str(r[0]) for r in con.execute(sql).fetchall() if r[0]]
        except duckdb.Error:  # an older build without the column: the generic wording stands
            return []


def _why(settings: Settings, table: str, kind: str, column: str | None, severity: str) -> str:
    """The suite's `meta.why` for this expectation, or the expectation's name in words."""
    suite = settings.project_root / "expectations" / f"{table}.json"
    if suite.is_file():
        spec = json.loads(suite.read_text(encoding="utf-8"))
        for item in spec.get("expectations", []):
            same = item.get("type") == kind and item.get("kwargs", {}).get("column") == column
            if same and item.get("severity") == severity and item.get("meta", {}).get("why"):
                return str(item["meta"]["why"])
    return kind.removeprefix("expect_").replace("_", " ")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
