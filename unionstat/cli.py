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

from unionstat.errors import ArgumentInvalid, UnionstatError
from unionstat.settings import Settings, quiet_third_party_telemetry


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_third_party_telemetry()
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


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="unionstat", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    refresh = sub.add_parser("refresh", help="fetch (replay by default), load, validate, build and publish")
    refresh.add_argument("--live", action="store_true", help="fetch from the publishers instead of the reference")
    refresh.add_argument("--source", action="append", dest="sources", help="only this source (repeatable)")
    refresh.add_argument("--as-of", type=_iso_date, help="build the marts from releases up to this date")
    refresh.set_defaults(handler=_refresh)

    imp = sub.add_parser("import", help="register files downloaded by hand (e.g. World Bank bulk CSV) and refresh")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--as-of", type=_iso_date, help="build the marts from releases up to this date")
    imp.set_defaults(handler=_import)

    sources = sub.add_parser("sources", help="list the sources with their last snapshot and release")
    sources.add_argument("--check", action="store_true", help="ask each live endpoint once (needs the network)")
    sources.set_defaults(handler=_sources)

    serve = sub.add_parser("serve", help="start a Prefect server and worker with the deployments of prefect.yaml")
    serve.add_argument("--api-url", help="use this Prefect server instead of starting one (e.g. http://host:4200/api)")
    serve.add_argument("--port", type=int, default=4200, help="port of the local server (default 4200)")
    serve.set_defaults(handler=_serve)

    dq = sub.add_parser("dq", help="data-quality summary; exits 1 when the latest run failed a critical check")
    dq.set_defaults(handler=_dq)

    audit = sub.add_parser("audit", help="the replication audit: the paper's figures beside the data")
    audit.set_defaults(handler=_audit)

    sql = sub.add_parser("sql", help="read-only SQL against the published warehouse (no query: interactive)")
    sql.add_argument("query", nargs="?", help="a query; without one, a prompt reads queries ending in ';'")
    sql.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="output format (default: table)")
    sql.add_argument("--output", "-o", help="write every row to this file instead of the terminal (parquet needs it)")
    sql.add_argument(
        "--timeout", type=_seconds, help="stop a query after this many seconds (default: 300, five minutes)"
    )
    sql.set_defaults(handler=_sql)

    tables = sub.add_parser("tables", help="the marts with their grain (from dbt docs) and row counts")
    tables.set_defaults(handler=_tables)

    export = sub.add_parser("export", help="write every mart as Parquet and CSV with a provenance manifest")
    export.add_argument("--to", help="target folder (default: warehouse/exports/<run id>/)")
    export.set_defaults(handler=_export)

    report = sub.add_parser("report", help="regenerate the analysts' HTML report from the published warehouse")
    report.set_defaults(handler=_analysis_report)
    _add_snapshot_commands(sub)
    for command in sub.choices.values():
        command.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help="print the traceback of an error"
        )
    return parser


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}") from exc


def _refresh(args: argparse.Namespace) -> int:
    from flows.refresh import refresh
    from unionstat import prefect_server

    with prefect_server.for_refresh(Settings.from_env()):  # ends with the refresh, even a killed one
        summary = refresh(sources=args.sources, live=args.live, as_of=args.as_of)
    return _report(summary)


def _import(args: argparse.Namespace) -> int:
    from flows.refresh import refresh
    from unionstat import prefect_server

    with prefect_server.for_refresh(Settings.from_env()):  # ends with the refresh, even a killed one
        summary = refresh(import_paths=args.paths, as_of=args.as_of)
    for item in summary["imported"]:
        state = "new snapshot" if item["new"] else "already known"
        print(f"imported {item['path']}: {item['source']} {item['dataset']} ({state} {item['sha256'][:12]})")
    return _report(summary)


def _report(summary: dict[str, Any]) -> int:
    print(f"refresh {summary['run_id']}: {summary['status']} ({summary['mode']})")
    for source in sorted(set(summary["new_snapshots"]) | set(summary["failed_sources"])):
        if source in summary["failed_sources"]:
            print(f"  {source:<10} FAILED: {summary['failed_sources'][source]}")
            continue
        gaps = summary["not_recorded"].get(source, [])
        print(
            f"  {source:<10} {summary['new_snapshots'].get(source, 0)} new, "
            f"{summary['unchanged'].get(source, 0)} unchanged"
            + (f", {len(gaps)} datasets not in the reference snapshot ({', '.join(gaps)})" if gaps else "")
        )
    print(f"  rows loaded: {summary['rows_loaded'] or 'none (nothing changed)'}")
    print(
        f"  expectations: {summary['expectations_passed']} passed, {summary['expectations_failed']} failed "
        f"({len(summary['expectation_warnings'])} of them warnings)"
    )
    print(f"  dbt: {summary['dbt_models']} models, {summary['dbt_tests']} tests")
    print(f"warehouse:    {summary['published']}")
    for warning in summary.get("expectation_warnings", []):
        print(f"  warning: {warning}")
    print(f"dq report:    {summary['dq_report']}")
    if summary.get("data_docs"):
        print(f"data docs:    {summary['data_docs']}")
    print(f"dbt docs:     {summary['dbt_docs']}")
    return 1 if summary["status"] == "partial" else 0


def _query(sql: str, params: list[Any] | None = None) -> Any:
    from unionstat import query

    return query.run(Settings.from_env(), sql, params)


def _print_frame(frame: Any) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
        print(frame.to_string(index=False))


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
            "cast(max(s.release_date) as varchar) as last_release, "
            "(select cast(coalesce(sum(l.row_count), 0) as bigint) from raw.loads l where l.sha256 in "
            "  (select sha256 from raw.snapshots s2 where s2.source = s.source)) as raw_rows "
            "from raw.snapshots s group by s.source"
        )
        known = {row.source: row for row in frame.itertuples()}
    states = {row["source"]: row for row in dq.freshness(settings)}
    for name, config in scrapers.registry().items():
        row = known.get(name)
        state = states[name]
        detail = (
            f"{row.snapshots} snapshots, {row.raw_rows} raw rows, last fetched {row.last_fetched}, "
            f"last release {row.last_release}"
            if row
            else "no snapshot yet"
        )
        error = f"; last error: {state['last_error']}" if state["last_error"] else ""
        print(f"{name:<10} {config.publisher}")
        print(f"{'':<10} {len(config.datasets)} datasets; {detail}")
        print(f"{'':<10} status: {state['state']} (releases: {config.release_cadence}){error}")
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
    from unionstat import dq, report

    settings = Settings.from_env()
    latest = dq.latest_run(settings)
    if latest is None:
        print("no run recorded yet: run `make run` first")
        return 1
    summary = latest["summary"]
    print(f"latest run {latest['run_id']}: {latest['status']}")
    if latest["failed_stage"]:
        print(f"  failed in stage {latest['failed_stage']}: {latest['error']}")
    print(
        f"  expectations: {summary.get('expectations_passed', 0)} passed, "
        f"{summary.get('expectations_failed', 0)} failed; quarantined rows: {summary.get('quarantined_rows', 0)}"
    )
    for warning in summary.get("expectation_warnings", []):
        print(f"  warning: {warning}")
    tests = dq.dbt_tests(settings, latest["run_id"])
    counts = Counter(str(t["status"]) for t in tests)
    print("  dbt tests: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none ran"))
    for test in (t for t in tests if t["status"] not in ("pass", "success", "skipped")):
        stored = f", rows in {test['stored_failures']}" if test["stored_failures"] else ""
        print(
            f"  dbt {test['status']}: {test['model']}: {test['name']} ({test['severity']}): "
            f"{test['failures']} failing rows{stored}"
        )
    print("freshness:")
    for row in dq.freshness(settings):
        detail = f", last error: {row['last_error']}" if row["last_error"] else ""
        print(
            f"  {row['source']:<10} {row['state']:<19} last release {row['last_release'] or '-'} "
            f"(cadence: {row['cadence_days']} days){detail}"
        )
    print(f"report: {report.render(settings)}")
    return 1 if latest["status"] == "failed" and latest["failed_stage"] in CHECK_STAGES else 0


def _audit(args: argparse.Namespace) -> int:
    frame = _query(
        "select figure_id, printed_text, recomputed_value, value_from_printed_inputs, status, compared_with, "
        "reproduced_by, explanation from marts.mart_replication_audit order by figure_id"
    )
    _print_frame(frame)
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
    counts = {}
    for relation in frame["relation"]:
        counts[relation] = int(_query(f"select count(*) as n from {relation}")["n"].iloc[0])  # noqa: S608
    for row in frame.itertuples():
        grain = " ".join(str(row.description or "(no description)").split())
        print(f"{row.relation}  ({counts[row.relation]} rows)\n    {grain}")
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
    listing = sub.add_parser("snapshots", help="list the stored snapshots: loaded, quarantined or retracted")
    listing.set_defaults(handler=_snapshots)
    retract = sub.add_parser(
        "retract", help="withdraw a snapshot: its rows leave the marts at the next refresh (nothing is deleted)"
    )
    retract.add_argument("sha256", help="the snapshot's sha256, or its first 8+ characters (see `unionstat snapshots`)")
    retract.add_argument("--reason", required=True, help="why, for the record (who and when are recorded too)")
    retract.set_defaults(handler=_retract)
    unretract = sub.add_parser("unretract", help="undo a retraction: the rows return at the next refresh")
    unretract.add_argument("sha256", help="the snapshot's sha256, or its first 8+ characters")
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
    return _journal(args.sha256, "unretract", None)


def _journal(prefix: str, action: str, reason: str | None) -> int:
    from unionstat.snapshots import record_retraction, resolve, snapshot_states

    settings = _published_settings()
    states = {row.sha256: row for row in snapshot_states(settings.published_db, settings.snapshot_dir)}
    sha = resolve(prefix, list(states))
    entry = record_retraction(settings.snapshot_dir, sha, action, reason)
    row = states[sha]
    what = f"snapshot {sha[:12]} ({row.source} {row.dataset}, {row.origin})"
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
    known = registry_names(settings)
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


def registry_names(settings: Settings) -> list[str]:
    """The sources of scrapers/sources.json, read as JSON (importing `scrapers` would load every connector's
    libraries: pandas, DuckDB, openpyxl)."""
    registry = settings.project_root / "scrapers" / "sources.json"
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
