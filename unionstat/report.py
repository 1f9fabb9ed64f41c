"""The data engineers' report: one static HTML page with the latest run, its history, checks and freshness."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from unionstat import dq, warehouse
from unionstat.settings import Settings

HISTORY_LIMIT = 30

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unionstat data quality</title>
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#176b2c}.bad{color:#a40000;font-weight:600}.warn{color:#8a5a00}
.banner{padding:.75rem 1rem;border-radius:.4rem;margin-bottom:1rem}
.banner.bad{background:#fde8e8}.banner.ok{background:#e8f6ec}
code{font-size:.85rem}
</style></head><body>
<h1>unionstat — data quality</h1>
<p>Generated {{ generated }}. Links: <a href="data_docs/index.html">Great Expectations Data Docs</a> ·
<a href="dbt_docs/index.html">dbt docs</a> ·
<a href="analysis/index.html">analysis report (the paper's tables from the data)</a></p>
{% if latest %}
<div class="banner {{ 'bad' if latest.status == 'failed' else 'ok' }}">
Latest run <code>{{ latest.run_id }}</code>: <strong>{{ latest.status }}</strong>
{% if latest.failed_stage %} in stage <strong>{{ latest.failed_stage }}</strong>: {{ latest.error }}{% endif %}
</div>
{% else %}<p>No run recorded yet.</p>{% endif %}

<h2>Runs</h2>
<table><tr><th>run</th><th>finished</th><th>mode</th><th>status</th><th>failed stage / error</th>
<th>new snapshots</th><th>rows loaded</th><th>expectations passed / failed</th><th>quarantined</th></tr>
{% for r in runs %}<tr><td><code>{{ r.run_id }}</code></td><td>{{ r.finished_at }}</td><td>{{ r.mode }}</td>
<td class="{{ 'bad' if r.status == 'failed' else ('warn' if r.status == 'partial' else 'ok') }}">{{ r.status }}</td>
<td>{{ r.failed_stage or '' }} {{ r.error or '' }}</td><td>{{ r.new_snapshots }}</td><td>{{ r.rows_loaded }}</td>
<td>{{ r.passed }} / {{ r.failed }}</td><td>{{ r.quarantined }}</td></tr>{% endfor %}
</table>

<h2>Expectations in the latest run</h2>
<table><tr><th>table</th><th>expectation</th><th>column</th><th>severity</th><th>result</th>
<th>unexpected / rows</th><th>examples</th></tr>
{% for v in validations %}<tr><td>{{ v.table_name }}</td><td>{{ v.expectation_type }}</td><td>{{ v.column_name or '' }}</td>
<td>{{ v.severity }}</td><td class="{{ 'ok' if v.success else ('bad' if v.severity == 'critical' else 'warn') }}">
{{ 'pass' if v.success else 'FAIL' }}</td><td>{{ v.unexpected_count if v.unexpected_count is not none else '' }}
/ {{ v.element_count if v.element_count is not none else '' }}</td><td><code>{{ v.unexpected_examples }}</code></td></tr>
{% else %}<tr><td colspan="7">Nothing was validated in the latest run (nothing new was loaded).</td></tr>{% endfor %}
</table>

<h2>dbt tests in the latest run</h2>
<p>{% for status, n in dbt_counts.items() %}{{ status }}: {{ n }}{% if not loop.last %} · {% endif %}
{% else %}no dbt results recorded{% endfor %}</p>
{% if dbt_failures %}<table><tr><th>node</th><th>status</th><th>failures</th><th>message</th></tr>
{% for d in dbt_failures %}<tr><td>{{ d.unique_id }}</td><td class="bad">{{ d.status }}</td><td>{{ d.failures }}</td>
<td>{{ d.message }}</td></tr>{% endfor %}</table>{% endif %}

<h2>Freshness by release calendar</h2>
<table><tr><th>source</th><th>state</th><th>release cadence</th><th>last release</th><th>age (days)</th>
<th>last fetched</th><th>broken since / last error</th></tr>
{% for f in freshness %}<tr><td>{{ f.source }}</td>
<td class="{{ 'ok' if f.state == 'fresh' else ('warn' if f.state in ('no new release yet', 'never fetched', 'paper only', 'release unknown') else 'bad') }}">
{{ f.state }}</td><td>{{ f.cadence }}</td><td>{{ f.last_release or '' }}</td><td>{{ f.release_age_days or '' }}</td>
<td>{{ f.last_fetched or '' }}</td><td>{{ f.broken_since or '' }} {{ f.last_error or '' }}</td></tr>{% endfor %}
</table>

<h2>Revisions between vintages</h2>
<table><tr><th>publisher</th><th>indicator</th><th>country</th><th>period</th><th>vintage</th><th>previous</th>
<th>value</th><th>change</th><th>large?</th></tr>
{% for r in revisions %}<tr><td>{{ r.publisher }}</td><td>{{ r.indicator_code }}</td><td>{{ r.country_iso3 }}</td>
<td>{{ r.period }}</td><td>{{ r.previous_vintage }} → {{ r.vintage }}</td><td>{{ r.previous_value }}</td>
<td>{{ r.value }}</td><td>{{ r.value_change }}</td><td class="{{ 'bad' if r.is_large else '' }}">
{{ 'yes' if r.is_large else 'no' }}</td></tr>
{% else %}<tr><td colspan="9">No figure has been revised between the loaded vintages.</td></tr>{% endfor %}
</table>

<h2>Quarantine</h2>
<table><tr><th>table</th><th>expectation</th><th>column</th><th>severity</th><th>rows</th><th>last run</th></tr>
{% for q in quarantine %}<tr><td>{{ q.table_name }}</td><td>{{ q.expectation_type }}</td><td>{{ q.column_name or '' }}</td>
<td>{{ q.severity }}</td><td>{{ q.n }}</td><td><code>{{ q.last_run }}</code></td></tr>
{% else %}<tr><td colspan="6">No row has been quarantined.</td></tr>{% endfor %}
</table>
<p>Rows: <code>select * from quarantine</code> in <code>{{ history }}</code> (DuckDB, read-only).</p>
</body></html>
"""


def render(settings: Settings) -> Path:
    """Write warehouse/reports/index.html from the history store and the published warehouse."""
    context = collect(settings)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(TEMPLATE).render(**context)
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
        "runs": [],
        "validations": [],
        "dbt_counts": {},
        "dbt_failures": [],
        "freshness": dq.freshness(settings),
        "revisions": [],
        "quarantine": [],
        "history": str(history),
    }
    if history.exists():
        with warehouse.connection(history, read_only=True) as con:
            context["runs"] = [_run_row(r) for r in _dicts(con, "select * from runs order by finished_at desc", [])][
                :HISTORY_LIMIT
            ]
            latest = context["latest"]["run_id"] if context["latest"] else ""
            context["validations"] = _dicts(
                con,
                "select * from validation_results where run_id = ? order by success, severity, table_name",
                [latest],
            )
            context["dbt_counts"] = dict(
                con.execute(
                    "select status, count(*) from dbt_results where run_id = ? group by status order by status",
                    [latest],
                ).fetchall()
            )
            context["dbt_failures"] = _dicts(
                con,
                "select * from dbt_results where run_id = ? and status not in ('success', 'pass') order by unique_id",
                [latest],
            )
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
    }
