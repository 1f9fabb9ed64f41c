"""The data engineers' report: one static HTML page with the latest run, its history, checks and freshness."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from unionstat import dq, warehouse
from unionstat.settings import Settings

HISTORY_LIMIT = 30
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "dq_report.html"
PASSED = ("pass", "success")


def render(settings: Settings) -> Path:
    """Write warehouse/reports/index.html from the history store and the published warehouse."""
    context = collect(settings)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    html = env.get_template(TEMPLATE).render(**context)
    target = settings.reports_dir / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    return target


def collect(settings: Settings) -> dict[str, Any]:
    history = dq.history_path(settings)
    context: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "latest": dq.latest_run(settings),
        # a run that found nothing new checked nothing: the checks shown are those of the build it kept
        "build": dq.latest_run(settings, built=True),
        "runs": [],
        "validations": [],
        "gx_counts": _counts([]),
        "dbt_tests": [],
        "dbt_counts": _counts([]),
        "dbt_stored": False,
        "freshness": dq.freshness(settings),
        "revisions": [],
        "quarantine": [],
        "history": str(history),
        "published": str(settings.published_db),
    }
    build = context["build"]
    context["layout_changes"] = (build["summary"].get("layout_changes") or []) if build else []
    if history.exists():
        with warehouse.connection(history, read_only=True) as con:
            context["runs"] = [_run_row(r) for r in _dicts(con, "select * from runs order by finished_at desc", [])][
                :HISTORY_LIMIT
            ]
            latest = context["build"]["run_id"] if context["build"] else ""
            context["validations"] = _dicts(
                con,
                "select * from validation_results where run_id = ? order by success, severity, table_name",
                [latest],
            )
            context["gx_counts"] = _counts(
                [("pass" if v["success"] else v["severity"]) for v in context["validations"]]
            )
            context["dbt_tests"] = dq.dbt_tests(settings, latest)
            context["dbt_counts"] = _counts([d["status"] for d in context["dbt_tests"]])
            context["dbt_stored"] = any(d["stored_failures"] for d in context["dbt_tests"])
            context["quarantine"] = _dicts(
                con,
                "select table_name, expectation_type, column_name, severity, count(*) as n, max(run_id) as last_run "
                "from quarantine group by all order by n desc",
                [],
            )
    if settings.published_db.exists():
        with warehouse.connection(settings.published_db, read_only=True) as con:
            has = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'marts' and table_name = 'mart_revisions'"
            ).fetchone()
            if has and has[0]:
                context["revisions"] = _dicts(
                    con, "select * from marts.mart_revisions order by vintage desc, publisher limit 200", []
                )
    return context


def _counts(results: list[str]) -> dict[str, int]:
    """Checks passed, failed as warnings (GX: warning; dbt: warn) and failed (GX: critical; dbt: fail, error);
    a dbt test skipped after an upstream failure is none of them."""
    return {
        "passed": sum(r in PASSED for r in results),
        "warnings": sum(r in ("warning", "warn") for r in results),
        "failed": sum(r in ("critical", "fail", "error") for r in results),
    }


def _dicts(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _run_row(row: dict[str, Any]) -> dict[str, Any]:
    import json

    summary = json.loads(row["summary"]) if row.get("summary") else {}
    return {
        **row,
        "new_snapshots": sum((summary.get("new_snapshots") or {}).values()),
        "rows_loaded": sum((summary.get("rows_loaded") or {}).values()),
        "passed": summary.get("expectations_passed", 0),
        "failed": summary.get("expectations_failed", 0),
        "quarantined": summary.get("quarantined_rows", 0),
        "as_of": summary.get("as_of"),
        "build_selection": summary.get("build_selection"),
        "rebuild_reason": summary.get("rebuild_reason"),
    }
