"""The analysts' report: the paper's tables rebuilt from the published warehouse, with charts and provenance."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

from unionstat import query
from unionstat.errors import UnionstatError
from unionstat.settings import Settings

log = logging.getLogger(__name__)

REPORT_DIR = "analysis"
PAPER_ANCHOR = "prov-paper"
PAPER_CITATION = (
    "State management of integration processes in the Union State of Russia and Belarus: forming a unified "
    "scientific and technological space in the digital era. Theoretical Economy, No. 10, 2024"
)
GDP_INDICATOR = "NY.GDP.MKTP.KD.ZG"
COUNTRIES = {"RUS": "Russia", "BLR": "Belarus"}
AUDIT_STATUSES = ("match", "explained", "mismatch", "paper only", "not reproducible")
#: What each origin of raw.snapshots means, for a reader; and the verb for when its bytes were stored.
ORIGIN_WORDS = {
    "fetched": ("fetched from the publisher by unionstat", "fetched at"),
    "imported": ("a publisher file downloaded by hand and imported", "imported at"),
    "recorded_third_party": ("a real publisher file, recorded by a third party (reference snapshot)", "taken in at"),
    "compiled_from_paper": (
        "compiled from the paper's printed figures, not a publisher file (reference snapshot)",
        "taken in at",
    ),
    "synthetic": ("a synthetic test fixture, not publisher data", "taken in at"),
}
SNAPSHOT_COLUMNS = (
    "snapshot_sha256",
    "russia_snapshot_sha256",
    "belarus_snapshot_sha256",
    "trade_snapshot_sha256",
    "investment_snapshot_sha256",
)

# What the report reads: (name in the context, query). The marts must exist; the news marts are optional
# because models/marts/news_analysis/ can be disabled.
REQUIRED_QUERIES = {
    "audit": "select * from marts.mart_replication_audit order by paper_table, figure_id",
    "table1": "select * from marts.mart_table1_cooperation_aspects order by table_row, detail_number, evidence_row_id",
    "table2": "select * from marts.mart_table2_country_comparison order by display_order",
    "table3": "select * from marts.mart_table3_joint_initiatives order by display_order",
    "table4_sectors": "select * from marts.mart_table4_uniformity_by_sector order by display_order",
    "table4_test": "select * from marts.mart_table4_uniformity_test order by test_id",
    "table5": "select * from marts.mart_table5_trade_investment order by display_order",
    "table5_years": "select * from marts.mart_table5_shares_by_year order by period_year",
    "table5_correlation": "select * from marts.mart_table5_correlation order by correlation_id",
    "table6": "select * from marts.mart_table6_challenges order by table_row, detail_number, evidence_row_id",
    "table7": "select * from marts.mart_table7_digitalization order by table_row, detail_number, evidence_row_id",
    "news_items": "select * from marts.mart_news_items order by published_at desc, canonical_url",
    "gdp": (
        # every release whole (a line per vintage), the latest fetch where a release arrived twice
        "select country_iso3, period, vintage, value, snapshot_sha256 from intermediate.int_observations__published "
        "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and country_iso3 in ('RUS', 'BLR') "
        "qualify row_number() over (partition by country_iso3, period, vintage "
        "                           order by fetched_at desc, snapshot_sha256) = 1 "
        "order by country_iso3, vintage, period"
    ),
    "patents": (
        "select publisher, indicator_code, country_iso3, period, value, vintage, snapshot_sha256 "
        "from intermediate.int_observations__vintaged "
        "where (indicator_code in ('patent_applications_total_by_origin', 'IP.PAT.RESD', 'IP.PAT.NRES') "
        "   or (publisher = 'belstat' and indicator_code ilike '%patent%')) "
        "  and regexp_full_match(period, '[0-9]{4}') and country_iso3 in ('RUS', 'BLR') and value is not null "
        "qualify row_number() over (partition by publisher, indicator_code, country_iso3, period "
        "                           order by vintage desc, fetched_at desc) = 1 "
        "order by publisher, indicator_code, country_iso3, period"
    ),
    "snapshots": (
        "select s.sha256, s.source, coalesce(o.publisher, s.source) as publisher, s.dataset, s.request_url, "
        "s.origin, s.recording_id, s.fetched_at, s.release_date, s.content_type, s.size_bytes, s.run_id "
        "from raw.snapshots s left join ops.sources o on o.source = s.source order by s.source, s.fetched_at, s.sha256"
    ),
    "vintages": (
        "select snapshot_sha256, string_agg(distinct cast(vintage as varchar), ', ') as vintages, "
        "count(*) as observations from intermediate.int_observations__published group by snapshot_sha256"
    ),
    "ranks": (
        "select country_iso3, period, vintage, snapshot_sha256 from intermediate.int_observations__vintaged "
        "where indicator_code = 'patent_applications_world_rank' order by vintage desc, fetched_at desc"
    ),
    "runs": "select run_id, published_at, mode, as_of from ops.runs order by published_at desc limit 1",
}
OPTIONAL_QUERIES = {
    "news_counts": "select * from marts.mart_news_counts_by_sector_month order by published_month, sector_id",
}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unionstat — the paper's analysis, from the data</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;color:#222;max-width:80rem;padding:0 1rem;line-height:1.4}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}td.num.printed{color:#444}
a.prov{color:inherit;text-decoration:underline dotted}a.prov:hover{color:#0645ad}
.st{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.8rem;white-space:nowrap}
.st-match,.st-computed{background:#e3f4e8;color:#176b2c}.st-explained{background:#e6eefb;color:#1d4f91}
.st-mismatch{background:#fde8e8;color:#a40000;font-weight:600}
.st-not-reproducible,.st-not-computable,.st-no-data,.st-pending,.st-paper-only{background:#eee;color:#555}
svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}
figure{margin:1rem 0 1.5rem}figcaption{font-size:.85rem;color:#555}
.warn{background:#fff6e0;border-left:4px solid #c98a00;padding:.4rem .7rem}
.scroll{overflow-x:auto;max-width:100%}.origin{font-size:.78rem;color:#555;min-width:12rem}.origin-compiled_from_paper{color:#8a5a00;font-weight:600}
nav a{margin-right:.8rem}code{font-size:.82rem;word-break:break-all}dl.prov{margin:0 0 1rem}
dl.prov dt{font-weight:600;float:left;clear:left;width:9rem}dl.prov dd{margin-left:9.5rem}
section.snapshot{border-top:1px solid #ddd;padding-top:.3rem}:target{background:#fffbd6}
</style></head><body>
{%- macro num(value, shas, unit='') -%}
{%- if value is none -%}<td class="num na">—</td>
{%- else -%}{% set ids = shas | anchors %}<td class="num"><a class="prov" href="#{{ ids[0] }}" title="provenance">{{ value | fmt }}{{ unit }}</a>
{%- for a in ids[1:] %}<sup><a class="prov" href="#{{ a }}" title="provenance of another input">[{{ loop.index + 1 }}]</a></sup>{% endfor %}</td>
{%- endif -%}
{%- endmacro -%}
{%- macro printed(a) -%}
{%- if a -%}<td class="num printed"><a class="prov" href="#{{ paper_anchor }}" title="as printed in the paper">{{ a.printed_text }}</a></td>
<td>{{ status(a.status) }}</td>
{%- else -%}<td class="num printed na">—</td><td></td>{%- endif -%}
{%- endmacro -%}
{%- macro status(s) -%}{% if s %}<span class="st st-{{ s | slug }}">{{ s }}</span>{% endif %}{%- endmacro -%}

<h1>The Union State's scientific and technological integration — the paper's tables from the data</h1>
<p>Rebuilt from the published warehouse{% if run %} (run <code>{{ run.run_id }}</code>, published {{ run.published_at }},
mode {{ run.mode }}{% if run.as_of %}, as of {{ run.as_of }}{% endif %}){% endif %}. Generated {{ generated }}.
Every number links to its provenance: the snapshot (sha256, source URL, publisher, vintage, fetch time) or the paper.</p>
<nav><a href="../index.html">Run and data-quality report</a><a href="../data_docs/index.html">Data Docs</a>
<a href="../dbt_docs/index.html">dbt docs</a><a href="#audit">Audit</a><a href="#charts">Charts</a>
<a href="#news">News</a><a href="#provenance">Provenance</a></nav>

{% if compiled_shown %}<p class="warn" id="compiled-banner"><strong>Some figures on this page are compiled from the
paper, not loaded from a publisher</strong> ({{ compiled_shown | join(', ') }}): where no real publisher file is in the
warehouse, the reference snapshot holds the paper's own printed figures so that its tables can be rebuilt. Such a
figure agrees with the paper by construction and checks nothing: the audit marks it <span class="st st-paper-only">paper
only</span>. Load the publisher's release (<code>unionstat refresh --live</code> or <code>unionstat import FILE</code>)
to check it.</p>{% endif %}

<h2 id="audit">Replication audit at a glance</h2>
<p>Every figure the paper printed in Tables 2–5 and its abstract, against the data:
{% for s, n in audit_counts.items() %}{{ status(s) }} {{ n }}{% if not loop.last %} · {% endif %}{% endfor %}.</p>

<h2 id="table2">Table 2 — Russia and Belarus compared</h2>
<div class="scroll"><table class="paper-table" data-table="2"><tr><th>metric</th><th>period</th><th>Russia</th><th>printed</th><th>audit</th>
<th>Belarus</th><th>printed</th><th>audit</th><th>difference %</th><th>printed</th><th>audit</th><th>higher in</th>
<th>world rank RU</th><th>world rank BY</th><th>what the values are</th><th>status</th></tr>
{% for r in table2 %}<tr><td>{{ r.metric_label }}<br><small>{{ r.unit or '' }}</small></td><td>{{ r.period or '' }}</td>
{{ num(r.russia_value, [r.russia_snapshot_sha256]) }}{{ printed(audit_at('Table 2', r.metric_id, 'RUS')) }}
{{ num(r.belarus_value, [r.belarus_snapshot_sha256]) }}{{ printed(audit_at('Table 2', r.metric_id, 'BLR')) }}
{{ num(r.pct_difference, [r.russia_snapshot_sha256, r.belarus_snapshot_sha256]) }}{{ printed(audit_at('Table 2', r.metric_id, None)) }}
<td>{{ r.higher_in or '' }}</td>
{{ num(r.russia_world_rank, [rank_sha('RUS', r.world_rank_vintage, r.period)]) }}
{{ num(r.belarus_world_rank, [rank_sha('BLR', r.world_rank_vintage, r.period)]) }}
<td class="origin">{% for o, label in [(r.russia_origin, r.russia_vintage_label), (r.belarus_origin, r.belarus_vintage_label)] | unique %}{% if o %}<span class="origin-{{ o }}">{{ o | origin_words }}</span>, {{ label }}<br>{% endif %}{% endfor %}</td>
<td>{{ status(r.status) }} {{ r.status_reason or '' }}</td></tr>{% endfor %}
</table></div>

<h2 id="table3">Table 3 — joint initiatives by sector</h2>
<table class="paper-table" data-table="3"><tr><th>sector</th><th>initiatives</th><th>printed</th><th>audit</th>
<th>share %</th><th>printed</th><th>audit</th><th>basis</th></tr>
{% for r in table3 %}<tr><td>{{ r.sector_label }}</td>{{ num(r.initiative_count, []) }}
{{ printed(audit_at('Table 3', r.sector_id, None, 'sector_count')) }}{{ num(r.share_pct, []) }}
{{ printed(audit_at('Table 3', r.sector_id, None, 'sector_share')) }}<td><small>{{ r.evidence_note }}</small></td></tr>{% endfor %}
</table>

<h2 id="table4">Table 4 — is the sector distribution uniform? (chi-square)</h2>
{% for t in table4_test %}
<table class="paper-table" data-table="4"><tr><th>figure</th><th>from the data</th><th>printed</th><th>audit</th></tr>
<tr><td>χ² statistic</td>{{ num(t.statistic, []) }}{{ printed(audit_kind('Table 4', 'chi_square_statistic')) }}</tr>
<tr><td>degrees of freedom</td>{{ num(t.df, []) }}{{ printed(audit_kind('Table 4', 'degrees_of_freedom')) }}</tr>
<tr><td>p-value (χ², upper tail)</td>{{ num(t.p_value, []) }}{{ printed(audit_kind('Table 4', 'p_value')) }}</tr>
<tr><td>expected count per sector</td>{{ num(t.expected_frequency, []) }}{{ printed(audit_kind('Table 4', 'expected_frequency')) }}</tr>
<tr><td>exact multinomial p-value</td>{{ num(t.exact_multinomial_p_value, []) }}<td class="num printed na">—</td><td></td></tr>
</table>
<p id="chi-square-result">{{ t.null_hypothesis }}: χ² = {{ t.statistic | fmt }}, df = {{ t.df }}, p = {{ t.p_value | fmt }}
(α = {{ t.alpha }}): {{ t.conclusion }}; exact multinomial p = {{ t.exact_multinomial_p_value | fmt }}: {{ t.exact_conclusion }}.</p>
{% if t.assumption_warning %}<p class="warn" id="chi-square-warning">{{ t.assumption_warning }}</p>{% endif %}
{% endfor %}
{{ charts.sectors }}
<table data-table="4-sectors"><tr><th>sector</th><th>observed</th><th>expected</th><th>χ² contribution</th><th>expected &lt; 5</th></tr>
{% for r in table4_sectors %}<tr><td>{{ r.sector_label }}</td>{{ num(r.observed, []) }}{{ num(r.expected, []) }}
{{ num(r.chi_square_contribution, []) }}<td>{{ 'yes' if r.expected_below_5 else 'no' }}</td></tr>{% endfor %}
</table>

<h2 id="table5">Table 5 — Russia's share in Belarus's trade and investment</h2>
<table class="paper-table" data-table="5"><tr><th>metric</th><th>period</th><th>from the data</th><th>printed</th><th>audit</th>
<th>status</th></tr>
{% for r in table5 %}<tr><td>{{ r.metric_label }}</td><td>{{ r.period or '' }}</td>{{ num(r.metric_value, [r.snapshot_sha256]) }}
{{ printed(audit_at('Table 5', r.metric_id, 'BLR')) }}<td>{{ status(r.status) }} {{ r.status_reason or '' }}</td></tr>{% endfor %}
</table>
{% for c in table5_correlation %}<p>Correlation of the two shares over the years where both are loaded: n = {{ c.n }};
{% if c.r is not none %}r = {{ c.r | fmt }}, r² = {{ c.r_squared | fmt }}, p = {{ c.p_value | fmt }}{% else %}{{ c.status_reason }}{% endif %}.</p>{% endfor %}

{% for t in fact_tables %}
<h2 id="table{{ t.number }}">Table {{ t.number }} — {{ t.title }}</h2>
<table class="paper-table" data-table="{{ t.number }}"><tr><th>row</th><th>{{ t.heading }}</th><th>detail</th><th>statistic cited</th>
<th>printed</th><th>current value</th><th>vintage</th><th>evidence</th></tr>
{% for r in t.rows %}<tr><td>{{ r.table_row }}.{{ r.detail_number }}</td><td>{{ r[t.heading_column] }}</td>
<td>{{ r[t.detail_column] }}</td><td>{% if r.statistic_id %}{{ r.publisher }} <code>{{ r.indicator_code }}</code> {{ r.country_iso3 or '' }}
{{ r.period or '' }}{% endif %}</td>
{% if r.printed_text %}<td class="num printed"><a class="prov" href="#{{ paper_anchor }}">{{ r.printed_text }}</a></td>{% else %}<td class="num printed na">—</td>{% endif %}
{% if r.statistic_id %}{{ num(r.current_value, [r.snapshot_sha256]) }}{% else %}<td class="num na">—</td>{% endif %}
<td>{{ r.vintage or '' }}</td><td>{{ status(r.evidence_status) }}</td></tr>{% endfor %}
</table>
{% endfor %}

<h2 id="abstract">The abstract's figures</h2>
<table class="paper-table" data-table="abstract"><tr><th>figure</th><th>from the data</th><th>printed</th><th>audit</th><th>explanation</th></tr>
{% for a in abstract %}<tr><td><code>{{ a.figure_id }}</code></td>{{ num(a.recomputed_value, [a.snapshot_sha256]) }}{{ printed(a) }}
<td>{{ a.explanation or '' }}</td></tr>{% endfor %}
</table>

<h2 id="audit-detail">Every printed figure and its audit status</h2>
<table data-table="audit"><tr><th>figure</th><th>table</th><th>printed</th><th>audit</th><th>recomputed</th>
<th>from the printed inputs</th><th>compared with</th><th>releases that reproduce it</th><th>explanation</th></tr>
{% for a in audit %}<tr id="figure-{{ a.figure_id }}"><td><code>{{ a.figure_id }}</code></td><td>{{ a.paper_table }}</td>{{ printed(a) }}
{{ num(a.recomputed_value, [a.snapshot_sha256]) }}{{ num(a.value_from_printed_inputs, []) }}<td>{{ a.compared_with or '' }}</td>
<td>{{ a.reproduced_by or 'none loaded' }}</td>
<td>{{ a.explanation or '' }}</td></tr>{% endfor %}
</table>

<h2 id="charts">Time series</h2>
{{ charts.shares }}
<table data-table="5-years"><tr><th>year</th><th>trade share %</th><th>investment share %</th><th>change, pp</th>
<th>trade vintage</th><th>investment vintage</th></tr>
{% for r in table5_years %}<tr><td>{{ r.period }}</td>{{ num(r.trade_share, [r.trade_snapshot_sha256]) }}
{{ num(r.investment_share, [r.investment_snapshot_sha256]) }}{{ num(r.trade_share_yoy_change_pp, [r.trade_snapshot_sha256]) }}
<td>{{ r.trade_vintage or '' }}</td><td>{{ r.investment_vintage or '' }}</td></tr>{% endfor %}
</table>
{{ charts.patents }}
<table data-table="patents"><tr><th>publisher</th><th>indicator</th><th>country</th><th>year</th><th>applications</th>
<th>vintage</th></tr>
{% for r in patents %}<tr><td>{{ r.publisher }}</td><td><code>{{ r.indicator_code }}</code></td><td>{{ r.country_iso3 }}</td>
<td>{{ r.period }}</td>{{ num(r.value, [r.snapshot_sha256]) }}<td>{{ r.vintage }}</td></tr>{% endfor %}
</table>
{{ charts.gdp }}
<table data-table="gdp"><tr><th>country</th><th>year</th><th>vintage</th><th>GDP growth, %</th></tr>
{% for r in gdp %}<tr><td>{{ r.country_iso3 }}</td><td>{{ r.period }}</td><td>{{ r.vintage }}</td>
{{ num(r.value, [r.snapshot_sha256]) }}</tr>{% endfor %}
</table>

<h2 id="news">News: OSW and Rossiyskaya Gazeta</h2>
{% if news_counts is not none %}
<table data-table="news-counts"><tr><th>month</th><th>sector</th><th>items</th><th>joint initiatives</th><th>outlets</th></tr>
{% for r in news_counts %}<tr><td>{{ r.published_month }}</td><td>{{ r.sector_id }}</td>{{ num(r.news_items, news_shas) }}
{{ num(r.joint_initiative_items, news_shas) }}{{ num(r.sources, news_shas) }}</tr>
{% else %}<tr><td colspan="5">No news item is classified yet.</td></tr>{% endfor %}
</table>
{% else %}<p>The news content analysis (models/marts/news_analysis/) is not enabled in this build.</p>{% endif %}
<table data-table="news-items"><tr><th>published</th><th>outlet</th><th>title</th><th>link</th><th>duplicates</th></tr>
{% for n in news_items %}<tr><td>{{ n.published_at }}{% if n.date_is_publication_proxy %} <small>(proxy date)</small>{% endif %}</td>
<td>{{ n.source }}</td><td class="news-title">{{ n.title }}</td>
<td>{% if n.canonical_url | is_web %}<a href="{{ n.canonical_url }}" rel="noopener noreferrer">{{ n.canonical_url }}</a>{% else %}<code>{{ n.canonical_url }}</code>{% endif %}
<a class="prov" href="#{{ [n.snapshot_sha256] | anchors | first }}">[snapshot]</a></td>
{{ num(n.duplicate_count, [n.snapshot_sha256]) }}</tr>{% else %}<tr><td colspan="5">No news item loaded.</td></tr>{% endfor %}
</table>

<h2 id="provenance">Provenance</h2>
<section class="snapshot" id="{{ paper_anchor }}"><h3>The paper</h3>
<dl class="prov"><dt>publication</dt><dd>{{ paper_citation }}</dd>
<dt>in the warehouse</dt><dd>the printed figures and tables as cited dbt seeds: <code>paper.paper_printed_figures</code>,
<code>paper.paper_table*</code> (<code>dbt_project/seeds/</code>); Tables 3 and 4 are computed from the paper's own
counts, because the paper gives counts per sector, not a list of initiatives.</dd></dl></section>
{% for s in snapshots %}<section class="snapshot" id="{{ [s.sha256] | anchors | first }}">
<h3>{{ s.source }} · {{ s.dataset }}</h3><dl class="prov">
<dt>snapshot sha256</dt><dd><code>{{ s.sha256 }}</code></dd>
<dt>publisher</dt><dd>{{ s.publisher }}</dd>
<dt>origin</dt><dd class="origin-{{ s.origin }}">{{ s.origin | origin_words }}{% if s.recording_id %} (entry <code>{{ s.recording_id }}</code> of warehouse/reference/manifest.json){% endif %}</dd>
{% if s.origin == 'fetched' %}<dt>source URL</dt><dd>{% if s.request_url | is_web %}<a href="{{ s.request_url }}" rel="noopener noreferrer"><code>{{ s.request_url }}</code></a>{% else %}<code>{{ s.request_url or '' }}</code>{% endif %}</dd>
{% else %}<dt>stored as</dt><dd><code>{{ s.request_url or '' }}</code>{% if s.origin == 'compiled_from_paper' %} (the address it answers in replay; the publisher never served it){% endif %}</dd>{% endif %}
<dt>vintage</dt><dd>{% if s.origin == 'compiled_from_paper' %}as printed in the paper{% else %}{{ s.vintages or s.release_date or 'not stated' }}{% endif %}</dd>
<dt>{{ s.origin | origin_when }}</dt><dd>{{ s.fetched_at }}</dd>
<dt>content</dt><dd>{{ s.content_type or '' }}, {{ s.size_bytes }} bytes{% if s.observations %}; {{ s.observations }} observations{% endif %}</dd>
<dt>run</dt><dd><code>{{ s.run_id or '' }}</code></dd></dl></section>
{% endfor %}
</body></html>
"""  # noqa: E501 (the HTML template)


def write_analysis_report(settings: Settings) -> Path:
    """Write warehouse/reports/analysis/index.html from the published warehouse (opened read-only)."""
    if not settings.published_db.exists():
        raise UnionstatError(f"no published warehouse at {settings.published_db}; run `make run` first")
    with query.connection(settings) as con:
        data = load_report_data(con, settings.published_db)
    html = render_html(data)
    target = settings.reports_dir / REPORT_DIR / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    log.info("analysis report written to %s", target)
    return target


def load_report_data(con: Any, path: Path) -> dict[str, Any]:
    """Every relation the report shows, as lists of dicts; a missing mart is an error naming it and the file."""
    existing = {
        f"{schema}.{name}"
        for schema, name in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
    data: dict[str, Any] = {}
    for key, sql in REQUIRED_QUERIES.items():
        missing = sorted(set(_relations(sql)) - existing)
        if missing:
            raise UnionstatError(
                f"analysis report: {path} has no {', '.join(missing)}; "
                "expected a warehouse built by `unionstat refresh`"
            )
        data[key] = _dicts(con, sql)
    for key, sql in OPTIONAL_QUERIES.items():
        data[key] = _dicts(con, sql) if set(_relations(sql)) <= existing else None
    return data


def render_html(data: dict[str, Any]) -> str:
    """The page: Jinja2 with autoescape on, so text from publishers is shown as text, never as HTML."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters.update(
        fmt=format_number,
        anchors=anchors,
        slug=_slug,
        is_web=_is_web,
        origin_words=lambda origin: ORIGIN_WORDS.get(origin, (origin or "unknown", ""))[0],
        origin_when=lambda origin: ORIGIN_WORDS.get(origin, ("", "stored at"))[1],
    )
    audit = data["audit"]
    by_key = {(a["paper_table"], a["metric_id"], a["country_iso3"], a["kind"]): a for a in audit}

    def audit_at(table: str, metric: str, country: str | None, kind: str | None = None) -> dict[str, Any] | None:
        for (t, m, c, k), row in by_key.items():
            if t == table and m == metric and c == country and (kind is None or k == kind):
                return row
        return None

    def rank_sha(country: str, vintage: Any, period: Any) -> str | None:
        for r in data["ranks"]:
            if r["country_iso3"] == country and r["vintage"] == vintage and r["period"] == period:
                return str(r["snapshot_sha256"])
        return None

    def audit_kind(table: str, kind: str) -> dict[str, Any] | None:
        return next((a for a in audit if a["paper_table"] == table and a["kind"] == kind), None)

    statuses = [*AUDIT_STATUSES, *sorted({a["status"] for a in audit} - set(AUDIT_STATUSES))]
    counts = {s: sum(1 for a in audit if a["status"] == s) for s in statuses}
    vintages = {v["snapshot_sha256"]: v for v in data["vintages"]}
    snapshots = [
        {**s, **{k: v for k, v in vintages.get(s["sha256"], {}).items() if k != "snapshot_sha256"}}
        for s in data["snapshots"]
    ]
    known = {s["sha256"] for s in snapshots}
    for sha in sorted(_referenced_snapshots(data) - known):
        log.warning("analysis report: snapshot %s is cited by a mart but not in raw.snapshots", sha)
        snapshots.append(
            {"sha256": sha, "source": "unknown", "dataset": "not in raw.snapshots", "publisher": "unknown"}
        )
    context = {
        **data,
        "compiled_shown": compiled_shown(data),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run": data["runs"][0] if data["runs"] else None,
        "audit_counts": counts,
        "audit_at": audit_at,
        "audit_kind": audit_kind,
        "rank_sha": rank_sha,
        "abstract": [a for a in audit if a["paper_table"] == "Abstract"],
        "fact_tables": [
            _fact_table(
                1, "current state of scientific and technological cooperation", data["table1"], "aspect", "detail"
            ),
            _fact_table(6, "challenges and barriers", data["table6"], "challenge", "description"),
            _fact_table(7, "the role of digitalization", data["table7"], "aspect", "data_initiative"),
        ],
        "news_shas": sorted({n["snapshot_sha256"] for n in data["news_items"] if n["snapshot_sha256"]}),
        "snapshots": snapshots,
        "paper_anchor": PAPER_ANCHOR,
        "paper_citation": PAPER_CITATION,
        "charts": {
            "shares": shares_chart(data["table5_years"]),
            "patents": patents_chart(data["patents"]),
            "gdp": gdp_vintage_chart(data["gdp"]),
            "sectors": sectors_chart(data["table4_sectors"]),
        },
    }
    return env.from_string(TEMPLATE).render(**context)


def compiled_shown(data: dict[str, Any]) -> list[str]:
    """Which parts of the page show a figure compiled from the paper (for the banner): empty when none does."""
    compiled = {s["sha256"] for s in data["snapshots"] if s.get("origin") == "compiled_from_paper"}
    parts = {
        "Table 2": any(r.get("is_compiled_from_paper") for r in data["table2"]),
        "Table 5": any(r.get("snapshot_sha256") in compiled for r in data["table5"]),
        "Tables 1, 6 and 7": any(
            r.get("snapshot_sha256") in compiled for key in ("table1", "table6", "table7") for r in data[key]
        ),
        "the news items": any(n.get("snapshot_sha256") in compiled for n in data["news_items"]),
    }
    return [part for part, shown in parts.items() if shown]


# -- charts: matplotlib figures rendered server-side to inline SVG (the page needs no JavaScript) -------------


def shares_chart(rows: list[dict[str, Any]]) -> Markup:
    series = {
        "trade turnover": [(r["period_year"], r["trade_share"]) for r in rows if r["trade_share"] is not None],
        "foreign investment": [
            (r["period_year"], r["investment_share"]) for r in rows if r["investment_share"] is not None
        ],
    }
    desc = (
        "Russia's share (%) in Belarus's foreign trade turnover and foreign investment by year (Belstat). "
        + _describe(series)
    )
    return _chart("shares", "Russia's share in Belarus's trade and investment, % (Table 5)", desc, series, "percent")


def patents_chart(rows: list[dict[str, Any]]) -> Markup:
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["value"] is None:  # a real file's empty cell: no point to draw
            continue
        label = f"{COUNTRIES.get(r['country_iso3'], r['country_iso3'])} ({r['publisher']} {r['indicator_code']})"
        series.setdefault(label, []).append((int(r["period"]), r["value"]))
    desc = "Patent applications by year, newest vintage of each figure (WIPO, World Bank, Belstat). " + _describe(
        series
    )
    return _chart("patents", "Patent applications by origin", desc, series, "applications", log_scale=True)


def gdp_vintage_chart(rows: list[dict[str, Any]]) -> Markup:
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if re.fullmatch(r"\d{4}", str(r["period"])) and r["value"] is not None:
            label = f"{COUNTRIES.get(r['country_iso3'], r['country_iso3'])}, vintage {r['vintage']}"
            series.setdefault(label, []).append((int(r["period"]), r["value"]))
    vintages = sorted({str(r["vintage"]) for r in rows})
    desc = (
        f"GDP growth (World Bank {GDP_INDICATOR}, annual %) by year, one line per country and vintage "
        f"(vintages: {', '.join(vintages) or 'none loaded'}). " + _describe(series)
    )
    return _chart("gdp-vintages", "GDP growth by vintage, annual %", desc, series, "percent")


def sectors_chart(rows: list[dict[str, Any]]) -> Markup:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 2.8))
    ax = fig.subplots()
    labels = [str(r["sector_label"]) for r in rows]
    positions = list(range(len(rows)))
    ax.bar([p - 0.2 for p in positions], [r["observed"] for r in rows], width=0.4, label="observed", gid="observed")
    ax.bar(
        [p + 0.2 for p in positions],
        [r["expected"] for r in rows],
        width=0.4,
        label="expected (uniform)",
        gid="expected",
    )
    ax.set_xticks(positions, labels)
    ax.set_ylabel("joint initiatives")
    if rows:
        ax.legend(frameon=False, fontsize=8)
    else:
        _no_data(ax)
    desc = "Joint initiatives per sector, observed vs expected under a uniform distribution: " + "; ".join(
        f"{r['sector_label']} {r['observed']} vs {format_number(r['expected'])}" for r in rows
    )
    return _svg(fig, "sectors", "Joint initiatives by sector: observed and expected (Table 4)", desc)


def _chart(
    chart_id: str,
    title: str,
    desc: str,
    series: dict[str, list[tuple[int, float]]],
    ylabel: str,
    log_scale: bool = False,
) -> Markup:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 3))
    ax = fig.subplots()
    # Missing values (empty cells of real files) are gaps, never points: min() over None would fail.
    series = {label: sorted((x, y) for x, y in values if y is not None) for label, values in series.items() if values}
    series = {label: values for label, values in series.items() if values}
    points = [p for values in series.values() for p in values]
    for label, values in series.items():
        ax.plot([x for x, _ in values], [y for _, y in values], marker="o", label=label, gid=f"series-{_slug(label)}")
    ax.set_ylabel(ylabel)
    if not points:
        _no_data(ax)
    else:
        years = sorted({x for x, _ in points})
        ax.set_xlim(years[0] - 1, years[-1] + 1)
        if len(years) <= 12:
            ax.set_xticks(years)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ys = [y for _, y in points]
        if log_scale and min(ys) > 0 and max(ys) / min(ys) > 20:
            ax.set_yscale("log")
        ax.legend(frameon=False, fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return _svg(fig, chart_id, title, desc)


def _no_data(ax: Any) -> None:
    ax.text(0.5, 0.5, "no data loaded", ha="center", va="center", transform=ax.transAxes, color="#777")


def _svg(fig: Any, chart_id: str, title: str, desc: str) -> Markup:
    """The figure as inline SVG: ids prefixed per chart (several SVGs share one page), with <title> and <desc>."""
    import matplotlib

    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"unionstat-{chart_id}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', svg)
    head_end = svg.index(">") + 1
    opening = svg[: head_end - 1] + (
        f' id="chart-{chart_id}" data-chart="{chart_id}" class="chart" role="img" '
        f'aria-labelledby="chart-{chart_id}-title chart-{chart_id}-desc">'
        f'<title id="chart-{chart_id}-title">{escape(title)}</title>'
        f'<desc id="chart-{chart_id}-desc">{escape(desc)}</desc>'
    )
    return Markup(f"<figure>{opening}{svg[head_end:]}<figcaption>{escape(desc)}</figcaption></figure>")  # noqa: S704


def _describe(series: dict[str, list[tuple[int, float]]]) -> str:
    parts = [
        f"{label}: " + ", ".join(f"{x} {format_number(y)}" for x, y in sorted(values)) + "."
        if values
        else f"{label}: no value with a year."
        for label, values in series.items()
    ]
    return " ".join(parts) or "No data loaded."


# -- helpers -------------------------------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """Integers with thousands separators, other numbers to at most 4 decimals (the marts' precision)."""
    if value is None:
        return "—"
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.4f}".rstrip("0").rstrip(".")


def anchors(shas: Iterable[str | None]) -> list[str]:
    """Provenance anchors for the snapshots behind a number; the paper when no snapshot is behind it."""
    ids: list[str] = []
    for sha in shas:
        if sha and f"snap-{sha}" not in ids:
            ids.append(f"snap-{sha}")
    return ids or [PAPER_ANCHOR]


def _referenced_snapshots(data: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for rows in data.values():
        for row in rows or []:
            found.update(row[c] for c in SNAPSHOT_COLUMNS if row.get(c))
    return found


def _fact_table(number: int, title: str, rows: list[dict[str, Any]], heading: str, detail: str) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "rows": rows,
        "heading": heading.replace("_", " "),
        "heading_column": heading,
        "detail_column": detail,
    }


def _slug(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _is_web(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("https://", "http://"))


def _relations(sql: str) -> list[str]:
    return re.findall(r"\b(?:from|join)\s+((?:marts|intermediate|raw|ops)\.[a-z0-9_]+)", sql)


def _dicts(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
