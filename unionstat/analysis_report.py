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

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from unionstat import query
from unionstat.errors import UnionstatError
from unionstat.settings import Settings

log = logging.getLogger(__name__)

REPORT_DIR = "analysis"
TEMPLATES = Path(__file__).parent / "templates" / "analysis"
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
    "world_rank_snapshot_sha256",
)

# What the report reads: (name in the context, query), marts only (and the run's metadata). The marts must exist;
# the news marts are optional because models/marts/news_analysis/ can be disabled.
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
    "table2_values": "select * from marts.mart_table2_country_values order by display_order, country_order",
    "gdp": "select * from marts.mart_gdp_growth_vintages order by country_iso3, vintage, period",
    "eaeu": "select * from marts.mart_gdp_growth_eaeu order by not is_union_state, country_iso3, period",
    "patents": (
        "select * from marts.mart_patent_applications_by_year order by publisher, indicator_code, country_iso3, period"
    ),
    "snapshots": (
        "select snapshot_sha256 as sha256, source_key as source, * exclude (snapshot_sha256, source_key) "
        "from marts.mart_snapshot_provenance "
        "order by source, fetched_at, sha256"
    ),
    # the run being published is recorded at publish, after dbt built the marts: its metadata, not a mart
    "runs": "select run_id, published_at, mode, as_of from ops.runs order by published_at desc limit 1",
}
OPTIONAL_QUERIES = {
    "news_counts": "select * from marts.mart_news_counts_by_sector_month order by published_month, sector_id",
}


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
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True)
    )
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

    def rank_sha(metric: str, country: str) -> str | None:
        for r in data["table2_values"]:
            if r["metric_id"] == metric and r["country_iso3"] == country and r["world_rank_snapshot_sha256"]:
                return str(r["world_rank_snapshot_sha256"])
        return None

    def audit_kind(table: str, kind: str) -> dict[str, Any] | None:
        return next((a for a in audit if a["paper_table"] == table and a["kind"] == kind), None)

    statuses = [*AUDIT_STATUSES, *sorted({a["status"] for a in audit} - set(AUDIT_STATUSES))]
    counts = {s: sum(1 for a in audit if a["status"] == s) for s in statuses}
    snapshots = list(data["snapshots"])
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
            "eaeu": eaeu_chart(data["eaeu"]),
            "sectors": sectors_chart(data["table4_sectors"]),
        },
    }
    return env.get_template("index.html.j2").render(**context)


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
    """One line per country for its first vintage, every year it holds; then one line per later vintage, drawn
    only at the years whose value it revised or added (a release that repeats a value draws nothing)."""
    by_country: dict[str, dict[str, dict[int, float]]] = {}
    for r in rows:
        if re.fullmatch(r"\d{4}", str(r["period"])) and r["value"] is not None:
            vintages = by_country.setdefault(str(r["country_iso3"]), {})
            vintages.setdefault(str(r["vintage"]), {})[int(r["period"])] = float(r["value"])
    series: dict[str, list[tuple[int, float]]] = {}
    for country, vintages in by_country.items():
        known: dict[int, float] = {}
        for vintage in sorted(vintages):
            changed = [(y, v) for y, v in sorted(vintages[vintage].items()) if y not in known or revised(known[y], v)]
            if changed:
                series[f"{COUNTRIES.get(country, country)}, vintage {vintage}"] = changed
            known.update(vintages[vintage])
    loaded = sorted({str(r["vintage"]) for r in rows})
    desc = (
        f"GDP growth (World Bank {GDP_INDICATOR}, annual %) by year: for each country its first vintage, then each "
        f"later vintage where it revised or added a value (vintages: {', '.join(loaded) or 'none loaded'}). "
        + _describe(series)
    )
    return _chart("gdp-vintages", "GDP growth by vintage, annual %", desc, series, "percent")


def eaeu_chart(rows: list[dict[str, Any]]) -> Markup:
    """One line per member of the Eurasian Economic Union over every year the loaded release holds: Russia and
    Belarus beside their peers."""
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if re.fullmatch(r"\d{4}", str(r["period"])) and r["value"] is not None:
            series.setdefault(str(r["country_name"]), []).append((int(r["period"]), float(r["value"])))
    vintages = sorted({str(r["vintage"]) for r in rows})
    desc = (
        f"GDP growth (World Bank {GDP_INDICATOR}, annual %) of the members of the Eurasian Economic Union by year, "
        f"from the newest release loaded (vintages: {', '.join(vintages) or 'none loaded'}). " + _describe(series)
    )
    return _chart("gdp-eaeu", "GDP growth in the Eurasian Economic Union, annual %", desc, series, "percent")


def revised(before: float, after: float) -> bool:
    """A value moved by more than half a unit in the last decimal of the less precise of the two (the README's
    rule, dbt's macro `value_revised`): 0.604430019855499 -> 0.60443 is no revision, 0.95857 -> 0.96602 is one."""
    # a whole number takes the other value's precision
    precisions = [_decimals(v) for v in (before, after) if not float(v).is_integer()]
    decimals = min(precisions) if precisions else 0
    return abs(after - before) > 0.5 * 10.0**-decimals


def _decimals(value: float) -> int:
    text = repr(float(value))
    return 15 if "e" in text else len(text.split(".")[1])


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
