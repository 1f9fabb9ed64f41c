"""How the command line shows things: tables that fit the terminal, csv and json, plurals, a closed pipe."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from unionstat.progress import duration, plural

__all__ = ["duration", "plural"]

MISSING = "—"
TABLE_FORMATS = ("table", "csv", "json")
#: The exit status of a command whose reader went away (`| head`): 128 + SIGPIPE, as a shell reports it.
CLOSED_PIPE = 141


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas' NA: a cell with no value."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, str, bytes)) else False
    except (TypeError, ValueError):
        return False


def cell(value: Any) -> str:
    """A value as a person reads it: missing as —, whole floats without '.0', datetimes to the minute."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # every digit DuckDB gave; a whole number without '.0'
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.utcoffset() is not None else "")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def plain(value: Any) -> Any:
    """A value for csv and json: missing as null, dates as ISO text, numbers as numbers."""
    if is_missing(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def rows_of(frame: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """A pandas DataFrame as (columns, rows)."""
    columns = [str(c) for c in frame.columns]
    return columns, [dict(zip(columns, values, strict=True)) for values in frame.itertuples(index=False, name=None)]


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str = "table",
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    no_wrap: Iterable[str] = (),
    max_widths: Mapping[str, int] | None = None,
    out: IO[str] | None = None,
) -> None:
    """Rows as a table that fits the terminal (long cells wrap, missing cells show —), or as csv or json.

    `no_wrap` columns keep their text on one line; `max_widths` caps a column that may wrap."""
    stream = out or sys.stdout
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if plain(row.get(c)) is None else plain(row.get(c)) for c in columns])
        return
    if fmt == "json":
        payload = [{c: plain(row.get(c)) for c in columns} for row in rows]
        stream.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    from rich import box
    from rich.table import Table

    keep = set(no_wrap)
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    for column in columns:
        table.add_column(
            (headers or {}).get(column, column),
            no_wrap=column in keep,
            overflow="fold",
            max_width=(max_widths or {}).get(column),
            min_width=len((headers or {}).get(column, column)) if column in keep else None,
        )
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    console(stream).print(table)


def console(stream: IO[str] | None = None) -> Any:
    """A rich Console on `stream` at the terminal's width (80 columns when it is no terminal), no colours in pipes."""
    from rich.console import Console

    class PipedConsole(Console):
        def on_broken_pipe(self) -> None:
            """The reader went away: one exit for every command (`closed_pipe_ends_quietly`), not rich's own."""
            self.quiet = True
            raise BrokenPipeError

    return PipedConsole(file=stream or sys.stdout, highlight=False, soft_wrap=False, emoji=False)


def shown_path(path: str | Path | None) -> str:
    """A path relative to the working directory when it is below it (as the README shows them)."""
    if not path:
        return MISSING
    resolved = Path(path)
    try:
        return str(resolved.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


@contextmanager
def closed_pipe_ends_quietly() -> Iterator[None]:
    """`unionstat audit | head -1`: when the reader goes away, stop without a BrokenPipeError traceback.

    Python's documented recipe: point stdout at devnull so the interpreter's final flush cannot fail again.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(CLOSED_PIPE) from None


# -- the closing block of a refresh (the README shows the same) ---------------------------------------------
MODE_WORDS = {"replay": "offline, from the reference snapshot", "live": "live, from the publishers"}
PATH_WIDTH = len("analysis report:  ")


def closing_block(summary: Mapping[str, Any], paths: Mapping[str, Path], findings: Sequence[Any]) -> list[str]:
    """Status; what changed per source; the checks; the paths; then notes and warnings, grouped."""
    lines = [_status_line(summary)]
    lines += _source_lines(summary)
    lines.append(f"  {'checks':<11}{_checks(summary)}")
    for label, path in paths.items():
        shown = shown_path(path) if path.exists() else f"{MISSING} (not built)"
        lines.append(f"{label + ':':<{PATH_WIDTH}}{shown}")
    notes = [f for f in findings if f.expected]
    failures = [f for f in findings if f.failed]
    warnings = [f for f in findings if not f.expected and not f.failed]
    if notes:
        lines.append(
            f"{plural(len(notes), 'note')} (expected in the reference run; README, 'What the reference run reports'):"
        )
        lines += _grouped(notes)
    if failures:
        lines.append(f"{plural(len(failures), 'failure')}:")
        lines += _grouped(failures)
    lines.append(f"{plural(len(warnings), 'warning')}" + (":" if warnings else ""))
    lines += _grouped(warnings)
    return lines


def _status_line(summary: Mapping[str, Any]) -> str:
    status = str(summary["status"])
    words = {
        "unchanged": "unchanged (nothing new: the published warehouse stays as it was)",
        "partial": "partial (some sources failed; the others are published)",
    }.get(status, status)
    mode = MODE_WORDS.get(str(summary.get("mode")), str(summary.get("mode")))
    if summary.get("imported"):
        mode = f"{mode}, with {plural(len(summary['imported']), 'imported file')}"
    as_of = f", as of {summary['as_of']}" if summary.get("as_of") else ""
    took = ""
    if summary.get("started_at") and summary.get("finished_at"):
        seconds = (
            datetime.fromisoformat(str(summary["finished_at"])) - datetime.fromisoformat(str(summary["started_at"]))
        ).total_seconds()
        took = f", {duration(seconds)}"
    return f"refresh {summary['run_id']}: {words} — {mode}{as_of}{took}"


def _source_lines(summary: Mapping[str, Any]) -> list[str]:
    import scrapers

    tables = {table: name for name, config in scrapers.registry().items() for table in config.raw_tables}
    rows: dict[str, int] = {}
    for table, count in (summary.get("rows_loaded") or {}).items():
        rows[tables.get(table, table)] = rows.get(tables.get(table, table), 0) + int(count)
    failed = summary.get("failed_sources") or {}
    new, unchanged = summary.get("new_snapshots") or {}, summary.get("unchanged") or {}
    lines = []
    for source in sorted(set(new) | set(unchanged) | set(failed) | set(rows)):
        if source in failed:
            lines.append(f"  {source:<11}FAILED: {failed[source]}")
            continue
        parts = []
        if new.get(source):
            parts.append(plural(int(new[source]), "new snapshot"))
        if unchanged.get(source):
            parts.append(f"{plural(int(unchanged[source]), 'snapshot')} unchanged")
        parts.append(f"{plural(rows[source], 'row')} loaded" if rows.get(source) else "no row loaded")
        lines.append(f"  {source:<11}{', '.join(parts)}")
    return lines


def _checks(summary: Mapping[str, Any]) -> str:
    if summary.get("status") == "unchanged":
        return "none ran (nothing changed since the published build)"
    passed, failed = int(summary.get("expectations_passed") or 0), int(summary.get("expectations_failed") or 0)
    warned = len(summary.get("expectation_warnings") or [])
    text = f"{plural(passed, 'expectation')} passed, {plural(warned, 'warning')}"
    if failed - warned:
        text += f", {failed - warned} critical"
    built = summary.get("build_selection")
    if built:
        what = "everything" if built == "everything" else f"only {built}"
        reason = f" ({summary['rebuild_reason']})" if summary.get("rebuild_reason") else ""
        text += (
            f"; dbt built {what}{reason}: {plural(int(summary.get('dbt_models') or 0), 'model')}, "
            f"{plural(int(summary.get('dbt_tests') or 0), 'test')}"
        )
    return text


def _grouped(findings: Sequence[Any]) -> list[str]:
    lines: list[str] = []
    for group in dict.fromkeys(f.group for f in findings):
        lines.append(f"  {group}")
        lines += [f"    - {f.text}" for f in findings if f.group == group]
    return lines
