"""The unionstat command line: the only module that talks to a person."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from unionstat import render
from unionstat.errors import ArgumentInvalid, UnionstatError
from unionstat.settings import PROJECT_ROOT, Settings, quiet_third_party_output, quiet_third_party_telemetry
from unionstat.topics import TOPICS

DESCRIPTION = """\
unionstat keeps the evidence of a 2024 paper on Russia–Belarus scientific and technological integration current:
it fetches the publishers' data (World Bank, Rosstat, Belstat, WIPO, OSW, Rossiyskaya Gazeta), checks it, builds
the paper's tables in a DuckDB warehouse and says where every number came from."""
EPILOG = """\
start here:
  unionstat refresh          build the warehouse offline from the reference snapshot (what `make run` does)
  unionstat audit            each figure the paper printed beside what the data says
  unionstat help TOPIC       a page on refresh, import, as-of, audit or export
`unionstat COMMAND --help` explains each command, with examples."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_third_party_telemetry()
    if args.handler in (_refresh, _import):  # its own progress lines, not Prefect's (serve keeps Prefect's logs)
        quiet_third_party_output(verbose=args.verbose)
    with render.closed_pipe_ends_quietly():
        try:
            check_arguments(args)  # before Prefect, dbt or a warehouse is touched: well under a second
            return int(args.handler(args))
        except UnionstatError as exc:
            if args.verbose:
                traceback.print_exc()
            print(f"unionstat: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # a bug: one line, the traceback with --verbose
            if args.verbose:
                raise
            print(f"unionstat: {type(exc).__name__}: {exc} (--verbose prints the traceback)", file=sys.stderr)
            return 1


class _OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (what was wrong, what is accepted) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (`{self.prog} --help` lists what is accepted)\n")


def _command(sub: Any, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and shows how it is used."""
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="unionstat", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verbose", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    names = registry_names()

    refresh = _command(
        sub,
        "refresh",
        "fetch (replay by default), load, validate, build and publish",
        "Fetch every source (offline: replay the reference snapshot), load the new snapshots, check them with Great\n"
        "Expectations, build the marts with dbt and publish the warehouse atomically. One line per stage and per\n"
        "source as it goes, then a closing block: status, what changed, the paths, notes and warnings.",
        "  unionstat refresh\n  unionstat refresh --live --source worldbank\n  unionstat refresh --as-of 2024-12-31\n"
        "more: unionstat help refresh, unionstat help as-of",
    )
    refresh.add_argument("--live", action="store_true", help="fetch from the publishers instead of the reference")
    refresh.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="SOURCE",
        help=f"only this source (repeatable): {', '.join(names)}",
    )
    refresh.add_argument("--as-of", type=_iso_date, help="build the marts from the releases published up to this date")
    _add_run_verbose(refresh)
    refresh.set_defaults(handler=_refresh)

    imp = _command(
        sub,
        "import",
        "register files downloaded by hand (e.g. World Bank bulk CSV) and refresh",
        "Store files downloaded from a publisher's site as new snapshots (each a vintage, nothing overwritten),\n"
        "then refresh what they changed: World Bank bulk CSVs, zips and country metadata, Rosstat and Belstat\n"
        "XLSX/XLS workbooks, WIPO CSV exports.",
        "  unionstat import API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv\n  unionstat import ~/Downloads/*.xlsx\n"
        "more: unionstat help import",
    )
    imp.add_argument("paths", nargs="+", metavar="FILE", help="a downloaded publisher file (csv, zip, xlsx, xls)")
    imp.add_argument("--as-of", type=_iso_date, help="build the marts from the releases published up to this date")
    _add_run_verbose(imp)
    imp.set_defaults(handler=_import)

    sources = _command(
        sub,
        "sources",
        "list the sources with their last snapshot and release",
        "Every source of the registry (scrapers/sources.json): publisher, datasets, snapshots, raw rows, last\n"
        "fetch, last release and freshness against the publisher's release calendar. --check asks each live\n"
        "endpoint once (needs the network).",
        "  unionstat sources\n  unionstat sources --format json\n  unionstat sources --check",
    )
    sources.add_argument("--check", action="store_true", help="ask each live endpoint once (needs the network)")
    sources.add_argument(*FORMAT_FLAG, **FORMAT_OPTIONS)
    sources.set_defaults(handler=_sources)

    serve = _command(
        sub,
        "serve",
        "start a Prefect server and worker with the deployments of prefect.yaml",
        "Start a local Prefect server and a worker on the `unionstat` pool, register the deployments of\n"
        "prefect.yaml (their schedules fire) and run until Ctrl-C.",
        "  unionstat serve\n  unionstat serve --api-url http://prefect.example.org:4200/api",
    )
    serve.add_argument("--api-url", help="use this Prefect server instead of starting one (e.g. http://host:4200/api)")
    serve.add_argument("--port", type=int, default=4200, help="port of the local server (default 4200)")
    serve.set_defaults(handler=_serve)

    dq = _command(
        sub,
        "dq",
        "data-quality summary; exits 1 when the latest run failed a critical check",
        "The latest run and the latest build (a run with nothing new builds nothing: its build is the one before):\n"
        "expectations, dbt tests, warnings in words, and each source's freshness from its publisher's release dates.",
        "  unionstat dq\n  unionstat dq --format json",
    )
    dq.add_argument(*FORMAT_FLAG, **FORMAT_OPTIONS)
    dq.set_defaults(handler=_dq)

    audit = _command(
        sub,
        "audit",
        "the replication audit: the paper's figures beside the data",
        "Each figure the paper printed, what the data gives, its status (match, explained, mismatch, paper only,\n"
        "not reproducible), what it was compared with and why.",
        "  unionstat audit\n  unionstat audit --format csv > audit.csv\nmore: unionstat help audit",
    )
    audit.add_argument(*FORMAT_FLAG, **FORMAT_OPTIONS)
    audit.set_defaults(handler=_audit)

    sql = _command(
        sub,
        "sql",
        "read-only SQL against the published warehouse (no query: interactive)",
        "One read-only query against warehouse/unionstat.duckdb, or a prompt without one. The terminal gets at most\n"
        "100 000 rows / 64 MiB (exit 1 when cut); -o FILE streams every row.",
        '  unionstat sql "select * from marts.mart_table2_country_comparison"\n'
        '  unionstat sql "select * from marts.mart_revisions" --format parquet -o revisions.parquet',
    )
    sql.add_argument("query", nargs="?", help="a query; without one, a prompt reads queries ending in ';'")
    sql.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="output format (default: table)")
    sql.add_argument("--output", "-o", help="write every row to this file instead of the terminal (parquet needs it)")
    sql.add_argument(
        "--timeout", type=_seconds, help="stop a query after this many seconds (default: 300, five minutes)"
    )
    sql.set_defaults(handler=_sql)

    tables = _command(
        sub,
        "tables",
        "the marts with their grain (from dbt docs) and row counts",
        "Every mart of the published warehouse, what one row is (its dbt description) and how many rows it has.",
        "  unionstat tables\n  unionstat tables --format csv",
    )
    tables.add_argument(*FORMAT_FLAG, **FORMAT_OPTIONS)
    tables.set_defaults(handler=_tables)

    export = _command(
        sub,
        "export",
        "write every mart as Parquet and CSV with a provenance manifest",
        "Every mart as Parquet and CSV, with manifest.json: the run, the vintages used, checksums, and which\n"
        "figures are compiled from the paper.",
        "  unionstat export\n  unionstat export --to /tmp/unionstat\nmore: unionstat help export",
    )
    export.add_argument("--to", metavar="DIR", help="target folder (default: warehouse/exports/<run id>/)")
    export.set_defaults(handler=_export)

    report = _command(
        sub,
        "report",
        "regenerate the analysts' HTML report from the published warehouse",
        "Rewrite warehouse/reports/analysis/index.html (the paper's tables from the data, charts, provenance);\n"
        "a refresh does this after every publish.",
        "  unionstat report",
    )
    report.set_defaults(handler=_analysis_report)

    topics = _command(
        sub,
        "help",
        "a page on a workflow: refresh, import, as-of, audit, export",
        "One page per workflow: what it does, the commands, what to look at.",
        "  unionstat help as-of",
    )
    topics.add_argument("topic", nargs="?", choices=list(TOPICS), help="the workflow")
    topics.set_defaults(handler=_help)
    _add_snapshot_commands(sub)
    for command in sub.choices.values():
        if "--verbose" not in command._option_string_actions:  # refresh and import: theirs also shows Prefect's output
            command.add_argument(
                "--verbose", action="store_true", default=argparse.SUPPRESS, help="print the traceback of an error"
            )
    return parser


def _add_run_verbose(command: argparse.ArgumentParser) -> None:
    """`--verbose`/`-v` of the commands that run a refresh (refresh, import): Prefect's output too."""
    command.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        default=argparse.SUPPRESS,  # `unionstat --verbose refresh` counts too
        help="also show Prefect's task states and GX's progress bars (and the traceback of an error)",
    )


FORMAT_FLAG = ("--format",)
FORMAT_OPTIONS: dict[str, Any] = {
    "choices": render.TABLE_FORMATS,
    "default": "table",
    "help": "table (fits the terminal), csv or json (default: table)",
}


def _help(args: argparse.Namespace) -> int:
    print(TOPICS[args.topic] if args.topic else "topics: " + ", ".join(TOPICS) + " (unionstat help TOPIC)")
    return 0


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}") from exc


def _refresh(args: argparse.Namespace) -> int:
    from flows.refresh import refresh
    from unionstat import prefect_server, progress

    progress.show()
    with prefect_server.for_refresh(Settings.from_env()):  # ends with the refresh, even a killed one
        summary = refresh(sources=args.sources, live=args.live, as_of=args.as_of)
    return _report(summary)


def _import(args: argparse.Namespace) -> int:
    from flows.refresh import refresh
    from unionstat import prefect_server, progress

    progress.show()
    with prefect_server.for_refresh(Settings.from_env()):  # ends with the refresh, even a killed one
        summary = refresh(import_paths=args.paths, as_of=args.as_of)
    for item in summary["imported"]:
        state = "new snapshot" if item["new"] else "already known"
        print(f"imported {item['path']}: {item['source']} {item['dataset']} ({state} {item['sha256'][:12]})")
    return _report(summary)


def _report(summary: dict[str, Any]) -> int:
    """The closing block, the same as the README's."""
    from unionstat import findings

    settings = Settings.from_env()
    for line in render.closing_block(summary, _output_paths(settings), findings.of_run(settings, summary)):
        print(line)
    return 1 if summary["status"] == "partial" else 0


def _output_paths(settings: Settings) -> dict[str, Any]:
    reports = settings.reports_dir
    return {
        "warehouse": settings.published_db,
        "analysis report": reports / "analysis" / "index.html",
        "data quality": reports / "index.html",
        "Data Docs": reports / "data_docs" / "index.html",
        "dbt docs": reports / "dbt_docs" / "index.html",
    }


def _query(sql: str, params: list[Any] | None = None) -> Any:
    from unionstat import query

    return query.run(Settings.from_env(), sql, params)


def _print_frame(frame: Any) -> None:
    columns, rows = render.rows_of(frame)
    render.emit(rows, columns)


def _sources(args: argparse.Namespace) -> int:
    import scrapers
    from unionstat import dq

    settings = Settings.from_env()
    if args.check:
        from unionstat import source_check

        results = source_check.check_sources(settings)
        print("\n".join(source_check.report_lines(results)))
        return 0 if source_check.all_ok(results) else 1
    known = {}
    if settings.published_db.exists():
        frame = _query(
            "select s.source, count(distinct s.sha256) as snapshots, "
            "strftime(max(s.fetched_at), '%Y-%m-%d %H:%M UTC') as last_fetched, "
            # a figure compiled from the paper is no publisher release (as in `unionstat dq`)
            "cast(max(s.release_date) filter (where s.origin not in ('compiled_from_paper', 'synthetic')) "
            "as varchar) as last_release, "
            "(select cast(coalesce(sum(l.row_count), 0) as bigint) from raw.loads l where l.sha256 in "
            "  (select sha256 from raw.snapshots s2 where s2.source = s.source)) as raw_rows "
            "from raw.snapshots s group by s.source"
        )
        known = {row.source: row for row in frame.itertuples()}
    states = {row["source"]: row for row in dq.freshness(settings)}
    rows = []
    for name, config in scrapers.registry().items():
        row = known.get(name)
        state = states[name]
        rows.append(
            {
                "source": name,
                "publisher": config.publisher,
                "datasets": len(config.datasets),
                "snapshots": row.snapshots if row else 0,
                "raw_rows": row.raw_rows if row else 0,
                "last_fetched": row.last_fetched if row else None,
                "last_release": row.last_release if row else None,
                "releases": config.release_cadence,
                "state": state["state"],
                "detail": state.get("reason") or "",
                "last_error": state["last_error"],
            }
        )
    columns = list(rows[0]) if rows else []
    if args.format == "table":  # the publisher and its calendar are in --format csv / json
        columns = ["source", "snapshots", "raw_rows", "last_release", "state", "detail"]
        columns += ["last_error"] if any(r["last_error"] for r in rows) else []
    headers = {"raw_rows": "raw rows", "last_release": "last release"}
    render.emit(rows, columns, args.format, headers=headers, no_wrap=("source", "last_release", "state"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import time

    from unionstat import serve

    settings = Settings.from_env()
    service = serve.start(settings, api_url=args.api_url, port=None if args.api_url else args.port)
    ui = service.api_url.removesuffix("/api")
    print(f"Prefect API {service.api_url} (UI: {ui}); worker on pool '{serve.POOL}'; deployments registered.")
    print(f"logs: {settings.warehouse_dir / 'prefect_logs'}; Ctrl-C stops the worker (and the server it started).")
    try:
        while all(proc.poll() is None for proc in service.processes):
            time.sleep(2)
        print("a Prefect process exited; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        service.stop()


CHECK_STAGES = ("validate", "transform")


def _dq(args: argparse.Namespace) -> int:
    from unionstat import dq, findings, report

    settings = Settings.from_env()
    latest = dq.latest_run(settings)
    if latest is None:
        print("no run recorded yet: run `make run` first")
        return 1
    build = latest if latest["status"] != "unchanged" else dq.latest_run(settings, built=True)
    freshness = dq.freshness(settings)
    critical = int(latest["summary"].get("expectations_failed") or 0) - len(
        latest["summary"].get("expectation_warnings") or []
    )  # a partial run whose gate quarantined a release failed a critical check too
    failed = (latest["status"] == "failed" and latest["failed_stage"] in CHECK_STAGES) or critical > 0
    exit_code = 1 if failed else 0
    tests = dq.dbt_tests(settings, build["run_id"]) if build else []
    found = findings.of_run(settings, build["summary"]) if build else []
    if args.format != "table":
        fresh_columns = ["source", "state", "reason", "last_release", "cadence_days", "last_fetched", "last_error"]
        if args.format == "csv":
            render.emit(freshness, fresh_columns, "csv")
            return exit_code
        payload = {
            "latest_run": _run_facts(latest),
            "latest_build": _run_facts(build) if build else None,
            "dbt_tests": dict(Counter(str(t["status"]) for t in tests)),
            "notes": [f"{f.group}: {f.text}" for f in found if f.expected],
            "failures": [f"{f.group}: {f.text}" for f in found if f.failed],
            "warnings": [f"{f.group}: {f.text}" for f in found if not f.expected and not f.failed],
            "freshness": [{c: render.plain(r[c]) for c in fresh_columns} for r in freshness],
        }
        print(json.dumps(payload, indent=2, default=str, ensure_ascii=False))
        return exit_code
    print(_run_line("latest run", latest))
    if latest["failed_stage"]:
        print(f"  failed in stage {latest['failed_stage']}: {latest['error']}")
    if build is None:
        print("no build recorded yet")
    else:
        if build is not latest:
            print(_run_line("latest build", build))
        summary = build["summary"]
        counts = Counter(str(t["status"]) for t in tests)
        dbt_counts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none ran"
        print(
            f"  checks: {render.plural(summary.get('expectations_passed', 0), 'expectation')} passed, "
            f"{render.plural(summary.get('expectations_failed', 0), 'expectation')} failed, "
            f"{render.plural(summary.get('quarantined_rows', 0), 'row')} quarantined; dbt tests: {dbt_counts}"
        )
        for finding in found:
            kind = "note" if finding.expected else ("failed" if finding.failed else "warning")
            print(f"  {kind}: {finding.group}: {finding.text}")
    print("freshness (from the publishers' release dates):")
    render.emit(
        [{**r, "state": r["state"], "detail": r["reason"] or r["last_error"]} for r in freshness],
        ["source", "state", "last_release", "detail"],
        no_wrap=("source", "state", "last_release"),
    )
    print(f"report: {render.shown_path(report.render(settings))}")
    return exit_code


def _run_line(label: str, run: dict[str, Any]) -> str:
    summary = run["summary"]
    as_of = f", as of {summary['as_of']}" if summary.get("as_of") else ""
    built = summary.get("build_selection")
    what = f"; dbt built {built}" if built else ""
    reason = f" ({summary['rebuild_reason']})" if summary.get("rebuild_reason") else ""
    nothing = " (nothing new: the published build stays)" if run["status"] == "unchanged" else ""
    return f"{label} {run['run_id']}: {run['status']}{nothing}{as_of}{what}{reason}"


def _run_facts(run: dict[str, Any]) -> dict[str, Any]:
    summary = run["summary"]
    keys = ("as_of", "build_selection", "rebuild_reason", "expectations_passed", "expectations_failed")
    return {
        "run_id": run["run_id"],
        "status": run["status"],
        "failed_stage": run["failed_stage"],
        "error": run["error"],
        **{k: summary.get(k) for k in keys},
    }


def _audit(args: argparse.Namespace) -> int:
    frame = _query(
        "select figure_id, printed_text, recomputed_value, value_from_printed_inputs, status, compared_with, "
        "reproduced_by, explanation from marts.mart_replication_audit order by figure_id"
    )
    columns, rows = render.rows_of(frame)
    if args.format != "table":  # csv and json: every column, as stored
        render.emit(rows, columns, args.format)
        return 0
    for row in rows:  # short columns, then one wide column that wraps: the table fits the terminal
        row["figure"] = f"{row['figure_id']}\n{render.cell(row['status'])}"
        row["detail"] = f"compared with {render.cell(row['compared_with'])}. {render.cell(row['explanation'])}"
    render.emit(
        rows,
        ["figure", "printed_text", "recomputed_value", "detail"],
        headers={
            "figure": "figure, status",
            "printed_text": "printed",
            "recomputed_value": "from the data",
            "detail": "what it was compared with, and why",
        },
        no_wrap=("figure", "recomputed_value"),
        max_widths={"printed_text": 14},
    )
    return 0


OUTPUT_FORMATS = ("table", "csv", "json", "parquet")
INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, found {text!r}")
    return value


def _sql(args: argparse.Namespace) -> int:
    from unionstat.query import Limits, QueryInterrupted, Session

    if args.format == "parquet" and not args.output:
        raise UnionstatError("--format parquet needs --output FILE")
    limits = Limits(timeout_s=args.timeout) if args.timeout else Limits()
    with Session(Settings.from_env(), limits) as session:
        if args.query:
            try:
                return _run_sql(session, args.query, args.format, args.output)
            except QueryInterrupted as exc:
                print(f"unionstat: {exc}", file=sys.stderr)
                return INTERRUPTED
        print(
            f"unionstat sql — read-only, one statement per query, {limits.timeout_s:g} s each; "
            "end a query with ';'. Ctrl-C cancels, Ctrl-D quits."
        )
        buffer: list[str] = []
        while True:
            try:
                line = input("... " if buffer else "sql> ")
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                buffer = []
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                try:
                    _run_sql(session, "\n".join(buffer), args.format, args.output)
                except UnionstatError as exc:
                    print(f"unionstat: {exc}", file=sys.stderr)
                except KeyboardInterrupt:  # before DuckDB ran it (the statement's check) or while printing
                    print("unionstat: query cancelled (Ctrl-C)", file=sys.stderr)
                buffer = []


def _run_sql(session: Any, sql: str, fmt: str, output: str | None) -> int:
    """Every row into `output`, or the first rows (up to the session's caps) on the terminal; 1 when cut."""
    if output:
        rows = session.write(sql, fmt, output)
        print(f"{rows} rows written to {output}", file=sys.stderr)
        return 0
    result = session.query(sql)
    _emit(result.frame, fmt)
    if result.truncated:
        print(f"unionstat: {result.truncated}", file=sys.stderr)
        return 1
    return 0


def _emit(frame: Any, fmt: str) -> None:
    from unionstat.query import to_json

    if fmt == "csv":
        print(frame.to_csv(index=False))
    elif fmt == "json":
        print(to_json(frame))
    else:
        _print_frame(frame)


def _tables(args: argparse.Namespace) -> int:
    frame = _query(
        "select c.relation, c.description from ops.catalog c where c.schema_name = 'marts' order by c.relation"
    )
    rows = []
    for relation, description in frame.itertuples(index=False, name=None):
        count = int(_query(f"select count(*) as n from {relation}")["n"].iloc[0])  # noqa: S608
        grain = " ".join(str(description).split()) if not render.is_missing(description) else None
        rows.append({"relation": relation, "rows": count, "grain": grain})
    render.emit(rows, ["relation", "rows", "grain"], args.format, no_wrap=("relation", "rows"))
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unionstat.export import export_marts

    out = export_marts(Settings.from_env(), Path(args.to) if args.to else None)
    print(f"exported the marts to {out} (manifest: {out / 'manifest.json'})")
    return 0


def _analysis_report(args: argparse.Namespace) -> int:
    from unionstat.analysis_report import write_analysis_report

    print(f"analysis report: {write_analysis_report(Settings.from_env())}")
    return 0


# -- snapshots: list, retract, unretract (issue #16) ---------------------------------------------------------
def _add_snapshot_commands(sub: Any) -> None:
    listing = _command(
        sub,
        "snapshots",
        "list the stored snapshots: loaded, quarantined or retracted",
        "Every snapshot the warehouse knows: source, dataset, the first 12 characters of its sha256, its origin\n"
        "(fetched, imported, recorded by a third party, compiled from the paper) and its state, with the reason.",
        "  unionstat snapshots",
    )
    listing.set_defaults(handler=_snapshots)
    retract = _command(
        sub,
        "retract",
        "withdraw a snapshot: its rows leave the marts at the next refresh (nothing is deleted)",
        "Record that a snapshot must not be used (who, when and why go into the store's journal); the next\n"
        "refresh builds the marts without its rows. The file stays in the snapshot store; `unretract` undoes it.",
        '  unionstat retract 3f2a9c1b7d4e --reason "the publisher withdrew this release"\n  unionstat refresh',
    )
    retract.add_argument("sha256", help="the snapshot's sha256, or its first 8+ characters (see `unionstat snapshots`)")
    retract.add_argument("--reason", required=True, help="why, for the record (who and when are recorded too)")
    retract.set_defaults(handler=_retract)
    unretract = _command(
        sub,
        "unretract",
        "undo a retraction, or lift a quarantine: the snapshot is used again at the next refresh",
        "Record that a retracted snapshot may be used again; the next refresh builds the marts with its rows.\n"
        "On a quarantined snapshot (it failed to parse or failed a critical check), lift the quarantine once the\n"
        "check or the connector is fixed: the next refresh loads it and checks it again (--reason is needed; who,\n"
        "when and why go into the store's journal). A check it still fails quarantines it again.",
        "  unionstat unretract 3f2a9c1b7d4e\n"
        '  unionstat unretract 9c0d4e5f6a7b --reason "the R&D ceiling of raw.worldbank_bulk was wrong (fixed)"\n'
        "  unionstat refresh",
    )
    unretract.add_argument("sha256", help="the snapshot's sha256, or its first 8+ characters")
    unretract.add_argument("--reason", help="why, for the record (needed to lift a quarantine)")
    unretract.set_defaults(handler=_unretract)


def _snapshots(args: argparse.Namespace) -> int:
    from unionstat.snapshots import snapshot_states

    settings = _published_settings()
    states = snapshot_states(settings.published_db, settings.snapshot_dir)
    print(f"{'source':<10} {'dataset':<28} {'sha256':<12} {'origin':<20} state")
    for row in states:
        dataset = row.dataset if len(row.dataset) <= 28 else row.dataset[:25] + "..."
        detail = f" ({row.detail})" if row.detail else ""
        print(f"{row.source:<10} {dataset:<28} {row.sha256[:12]:<12} {row.origin:<20} {row.state}{detail}")
    counts = Counter(row.state for row in states)
    print(f"{len(states)} snapshots: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return 0


def _retract(args: argparse.Namespace) -> int:
    return _journal(args.sha256, "retract", args.reason)


def _unretract(args: argparse.Namespace) -> int:
    return _journal(args.sha256, "unretract", args.reason)


def _journal(prefix: str, action: str, reason: str | None) -> int:
    from unionstat.snapshots import RELEASE, record_retraction, resolve, snapshot_states

    settings = _published_settings()
    states = {row.sha256: row for row in snapshot_states(settings.published_db, settings.snapshot_dir)}
    sha = resolve(prefix, list(states))
    row = states[sha]
    what = f"snapshot {sha[:12]} ({row.source} {row.dataset}, {row.origin})"
    if action == "unretract" and row.state == "quarantined":
        if not reason:
            raise UnionstatError(
                f"{what} is quarantined ({row.detail}); lifting a quarantine needs --reason (why the check was wrong)"
            )
        entry = record_retraction(settings.snapshot_dir, sha, RELEASE, reason)
        print(f"lifted the quarantine of {what} by {entry.recorded_by}: {reason}")
        print("it loads and is checked again at the next refresh (`unionstat refresh`); failing again, it goes back")
        return 0
    entry = record_retraction(settings.snapshot_dir, sha, action, reason)
    if action == "retract":
        print(f"retracted {what} by {entry.recorded_by}: {reason}")
        print("its rows leave the marts at the next refresh (`unionstat refresh`); its bytes stay in the store")
    else:
        print(f"unretracted {what} by {entry.recorded_by}; its rows return at the next refresh (`unionstat refresh`)")
    return 0


def _published_settings() -> Settings:
    settings = Settings.from_env()
    if not settings.published_db.exists():
        raise UnionstatError(f"no published warehouse at {settings.published_db}: run `make run` first")
    return settings


# -- arguments checked before anything starts (issue #16) -----------------------------------------------------
URL_SCHEMES = ("http", "https")
SHA_DIGITS = set("0123456789abcdefABCDEF")


def check_arguments(args: argparse.Namespace) -> None:
    """What argparse cannot check, checked before anything heavy is imported or started: the sources, the files
    to import, the URLs (UNIONSTAT_<SOURCE>_BASE_URL, --api-url) and snapshot checksums. Raises ArgumentInvalid
    naming the problem and what is accepted."""
    settings = Settings.from_env()  # a bad UNIONSTAT_* variable stops here, by name
    known = registry_names(settings.project_root)
    for source in getattr(args, "sources", None) or []:
        if source not in known:
            raise ArgumentInvalid(f"--source: unknown source {source!r}; expected one of {', '.join(known)}")
    for path in getattr(args, "paths", None) or []:
        _check_readable_file(Path(path))
    for name, url in sorted(settings.base_urls.items()):
        if name in known:
            _check_url(f"UNIONSTAT_{name.upper()}_BASE_URL", url)
    if getattr(args, "api_url", None):
        _check_url("--api-url", args.api_url)
    sha = getattr(args, "sha256", None)
    if sha is not None and not (8 <= len(sha) <= 64 and set(sha) <= SHA_DIGITS):
        raise ArgumentInvalid(
            f"expected a snapshot's sha256 or its first 8 to 64 hex characters (`unionstat snapshots` lists them), "
            f"found {sha!r}"
        )


def registry_names(project_root: Path = PROJECT_ROOT) -> list[str]:
    """The sources of scrapers/sources.json, read as JSON (importing `scrapers` would load every connector's
    libraries: pandas, DuckDB, openpyxl)."""
    registry = project_root / "scrapers" / "sources.json"
    return list(json.loads(registry.read_text(encoding="utf-8")))


def _check_readable_file(path: Path) -> None:
    if not path.exists():
        raise ArgumentInvalid(f"import: {path} does not exist; expected a file downloaded from a publisher")
    if not path.is_file():
        raise ArgumentInvalid(f"import: {path} is not a file; expected a file downloaded from a publisher")
    if not os.access(path, os.R_OK):
        raise ArgumentInvalid(f"import: {path} is not readable by this user; expected a readable file")


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES or not parts.hostname:
        raise ArgumentInvalid(f"{name}: expected an http:// or https:// URL with a host, found {url!r}")


if __name__ == "__main__":
    sys.exit(main())
