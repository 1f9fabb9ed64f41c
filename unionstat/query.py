"""A bounded SQL session on the published warehouse: read-only, one statement, a time limit, capped results."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from unionstat.errors import UnionstatError
from unionstat.settings import DuckDBConfig, Settings

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 300.0
#: What reaches the terminal (and pandas) at most; `-o FILE` streams every row to the file instead.
MAX_ROWS = 100_000
MAX_BYTES = 64 * 1024 * 1024
#: Rows DuckDB hands over per chunk (vectors of 2048 rows): what pandas holds beyond the caps at most.
CHUNK_VECTORS = 4
#: How long report/export may query before the session interrupts them.
COMMAND_TIMEOUT_S = 1800.0
POLL_S = 0.1
#: No file system or network, settings locked, and no temporary directory: nothing spills to disk, so a query
#: (a big sort, a temp table) is bounded by the memory limit instead of the free disk.
LOCKED: DuckDBConfig = {"enable_external_access": False, "lock_configuration": True, "temp_directory": ""}
#: What an analyst may run: queries. Writes, DDL (temporary tables and macros too), COPY, ATTACH are refused.
QUERY_TYPES = ("SELECT", "EXPLAIN", "PRAGMA", "CALL", "SET")
#: Catalog functions whose answer is where files live (database paths, allowed paths, the secret directory).
PATH_REVEALING = (
    "duckdb_databases",
    "database_list",
    "duckdb_settings",
    "current_setting",
    "duckdb_temporary_files",
    "duckdb_extensions",
    "duckdb_secrets",
    "which_secret",
    "duckdb_logs",
)
REFUSALS = ("read-only", "disabled by configuration", "disabled through configuration", "configuration has been locked")
READ_ONLY_HINT = " (the warehouse is read-only for analysts)"
LOCKED_HINT = " (settings are fixed in the analyst session)"
# A sentence of a DuckDB error that advises a SET (locked here) or names a temporary directory (there is none).
SET_ADVICE = re.compile(r"[^.\n]*(\bSET\b|temp_directory|temporary directory)[^.\n]*(\.|$)", re.MULTILINE)


class QueryInterrupted(UnionstatError):
    """A query stopped by its time limit or by Ctrl-C; the session stays usable."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_rows: int = MAX_ROWS
    max_bytes: int = MAX_BYTES


@dataclass(frozen=True)
class Result:
    frame: Any  # pandas.DataFrame
    truncated: str | None = None  # why fewer rows than the query returned are shown


def connect(settings: Settings, writable_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The published warehouse read-only with unionstat's memory limit and threads, no temporary directory, no file
    or network access (except `writable_dir`, for export's COPY), and the configuration locked."""
    if not settings.published_db.exists():
        raise UnionstatError(f"no published warehouse at {settings.published_db}; run `make run` first")
    limits = {k: v for k, v in settings.duckdb_config().items() if k != "temp_directory"}
    if writable_dir is None:
        return duckdb.connect(str(settings.published_db), read_only=True, config={**limits, **LOCKED})
    # allowed_directories can only be set on a running database, before external access is switched off.
    con = duckdb.connect(str(settings.published_db), read_only=True, config={**limits, "temp_directory": ""})
    allowed = sorted({os.path.abspath(writable_dir) + os.sep, str(writable_dir.resolve()) + os.sep})
    con.execute("set allowed_directories = ?", [allowed])
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


@contextlib.contextmanager
def connection(
    settings: Settings, writable_dir: Path | None = None, timeout_s: float = COMMAND_TIMEOUT_S
) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect`, closed on exit; a watchdog interrupts whatever query still runs once `timeout_s` has passed."""
    con = connect(settings, writable_dir)
    done = threading.Event()

    def watchdog() -> None:
        if done.wait(timeout_s):
            return
        while not done.wait(POLL_S):
            con.interrupt()

    thread = threading.Thread(target=watchdog, daemon=True, name="unionstat-query-watchdog")
    thread.start()
    try:
        yield con
    except duckdb.InterruptException as exc:
        raise UnionstatError(f"stopped after the time limit of {timeout_s:g} s") from exc
    finally:
        done.set()
        thread.join()
        con.close()


@contextlib.contextmanager
def _ctrl_c_sets(pressed: threading.Event) -> Iterator[None]:
    """While the block runs, Ctrl-C sets `pressed` instead of raising KeyboardInterrupt wherever the main thread is.
    Raised inside `Thread.start()` (on a busy machine the Ctrl-C of session 15's clean-clone run landed there), it
    left the query running in its worker, holding the connection, and the next query waited minutes for it. Off
    the main thread, where Python never raises KeyboardInterrupt, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


class Session:
    """One read-only connection for a run of queries; each query is bounded by `limits`."""

    def __init__(self, settings: Settings, limits: Limits | None = None) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._con = connect(settings)
        self._cancel = threading.Event()
        self._paths = _hidden_paths(settings)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    # -- the three ways to run a query -----------------------------------------------------------
    def query(self, sql: str, params: list[Any] | None = None) -> Result:
        """The first rows of the answer, up to the row and byte caps."""
        self.check(sql)
        return self._bounded(lambda: self._capped(sql, params))

    def write(self, sql: str, fmt: str, output: str) -> int:
        """Every row of the answer into `output` (csv, json, table or parquet), chunk by chunk; the row count."""
        self.check(sql)
        target = _writable(output)
        try:
            if fmt == "parquet":
                return self._bounded(lambda: self._stream_parquet(sql, target))
            with _open(target) as handle:
                writer = _TextWriter(handle, fmt)
                rows = self._bounded(lambda: self._stream(sql, writer.add))
                writer.close()
            return rows
        except OSError as exc:
            _discard(target)
            raise UnionstatError(f"cannot write {output}: {exc.strerror or exc}") from exc
        except BaseException:
            _discard(target)  # no half-written answer left looking like a whole one
            raise

    def check(self, sql: str) -> None:
        """One query statement that does not ask where files are; refused with the reason otherwise."""
        try:
            statements = self._con.extract_statements(sql)
        except duckdb.Error as exc:
            raise self._failure(exc) from exc
        if len(statements) != 1:
            raise UnionstatError(
                f"one statement per call; found {len(statements)} (run them one at a time)"
                if statements
                else "no statement found"
            )
        kind = statements[0].type.name
        if kind not in QUERY_TYPES:
            raise UnionstatError(f"query failed: only queries run here, not {kind}{READ_ONLY_HINT}")
        text = sql.lower().replace('"', "")  # a quoted name is the same name
        named = [name for name in PATH_REVEALING if name in text]
        if named:
            raise UnionstatError(
                f"refused: {named[0]}() shows where the warehouse's files are, which the analyst session keeps hidden"
            )

    # -- helpers -----------------------------------------------------------------------------------
    def _bounded(self, work: Callable[[], T]) -> T:
        """Run DuckDB in a worker thread; the time limit and Ctrl-C interrupt it, and the session stays usable."""
        outcome: dict[str, Any] = {}
        finished = threading.Event()  # not Thread.join: Ctrl-C inside join() can leave is_alive() wrongly False

        def run() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc
            finally:
                finished.set()

        self._cancel.clear()
        pressed = threading.Event()
        reason = None
        with _ctrl_c_sets(pressed):
            threading.Thread(target=run, daemon=True, name="unionstat-sql").start()
            deadline = time.monotonic() + self.limits.timeout_s
            while not finished.is_set():
                finished.wait(POLL_S)
                if pressed.is_set():
                    reason = reason or "cancelled (Ctrl-C)"
                elif reason is None and not finished.is_set() and time.monotonic() >= deadline:
                    reason = f"stopped after the time limit of {self.limits.timeout_s:g} s (--timeout SECONDS)"
                if reason is not None and not finished.is_set():
                    # Again at every poll until the worker ends: DuckDB's interrupt stops only a query already
                    # running, so one sent before the worker reached DuckDB (a busy machine) would be lost.
                    self._interrupt()
        if reason is not None:
            raise QueryInterrupted(f"query {reason}")
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, duckdb.Error):
                raise self._failure(error) from error
            raise error
        return outcome["value"]

    def _interrupt(self) -> None:
        self._cancel.set()
        self._con.interrupt()

    def _chunks(self, sql: str, params: list[Any] | None = None) -> Iterator[Any]:
        self._con.execute(sql, params or [])
        first = True
        while not self._cancel.is_set():
            chunk = self._con.fetch_df_chunk(CHUNK_VECTORS)
            if chunk.empty and not first:
                return
            first = False
            yield self._redact(chunk)
            if chunk.empty:
                return

    def _capped(self, sql: str, params: list[Any] | None) -> Result:
        import pandas as pd

        kept: list[Any] = []
        rows = size = 0
        truncated = None
        for chunk in self._chunks(sql, params):
            if rows + len(chunk) > self.limits.max_rows:
                kept.append(chunk.iloc[: self.limits.max_rows - rows])
                truncated = f"{self.limits.max_rows} rows"
                break
            kept.append(chunk)
            rows += len(chunk)
            size += int(chunk.memory_usage(deep=True).sum())
            if size > self.limits.max_bytes:
                truncated = _size(self.limits.max_bytes)
                break
        frame = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
        if truncated:
            truncated = (
                f"showed the first {len(frame)} rows: the terminal gets at most {truncated} of a result "
                "(-o FILE writes every row)"
            )
        return Result(frame, truncated)

    def _stream(self, sql: str, add: Callable[[Any], None]) -> int:
        rows = 0
        for chunk in self._chunks(sql):
            add(chunk)
            rows += len(chunk)
        return rows

    def _stream_parquet(self, sql: str, target: Path) -> int:
        """Parquet is written whole: the chunks go to a private DuckDB file beside the target, removed after."""
        spool_dir = Path(tempfile.mkdtemp(prefix=".unionstat-sql-", dir=target.parent))
        try:
            config = {k: v for k, v in self.settings.duckdb_config().items() if k != "temp_directory"}
            spool = duckdb.connect(str(spool_dir / "result.duckdb"), config=config)
            try:
                rows, created = 0, False
                for chunk in self._chunks(sql):
                    spool.register("chunk", chunk)
                    spool.execute("insert into result from chunk" if created else "create table result as from chunk")
                    spool.unregister("chunk")
                    rows, created = rows + len(chunk), True
                if created:
                    spool.execute("copy result to ? (format parquet)", [str(target)])
            finally:
                spool.close()
        finally:
            shutil.rmtree(spool_dir)
        return rows

    def _redact(self, chunk: Any) -> Any:
        """Absolute paths in text values become <warehouse>, <project> or ~."""
        for column in chunk.columns:
            values = chunk[column]
            if str(values.dtype) in ("str", "string"):
                for path, label in self._paths:
                    if values.str.contains(path, regex=False, na=False).any():
                        values = values.str.replace(path, label, regex=False)
                chunk[column] = values
            elif values.dtype == object:
                chunk[column] = values.map(lambda v: self._hide(v) if isinstance(v, str) else v)
        return chunk

    def _hide(self, text: str) -> str:
        for path, label in self._paths:
            text = text.replace(path, label)
        return text

    def _failure(self, exc: duckdb.Error) -> UnionstatError:
        message = self._hide(str(exc))
        if isinstance(exc, duckdb.OutOfMemoryException):
            first = message.splitlines()[0]
            limit = self.settings.duckdb_config()["memory_limit"]
            return UnionstatError(
                f"query failed: {first} — the query needs more than the session's memory limit ({limit}); "
                "narrow it, or raise UNIONSTAT_DUCKDB_MEMORY_LIMIT"
            )
        advice_dropped = SET_ADVICE.sub("", message).strip()
        hint = READ_ONLY_HINT if any(marker in message for marker in REFUSALS) else ""
        if advice_dropped != message.strip():
            message, hint = advice_dropped, hint or LOCKED_HINT
        return UnionstatError(f"query failed: {message}{hint}")


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def run(settings: Settings, sql: str, params: list[Any] | None = None) -> Any:
    """One query in its own session; the whole answer as a DataFrame (unionstat's own commands' queries)."""
    with Session(settings) as session:
        return session.query(sql, params).frame


def _hidden_paths(settings: Settings) -> list[tuple[str, str]]:
    """Absolute paths and what is shown instead, longest first (a path inside another is replaced first)."""
    paths = {
        str(settings.published_db): "<warehouse>/unionstat.duckdb",
        str(settings.warehouse_dir): "<warehouse>",
        str(settings.project_root): "<project>",
        str(Path.home()): "~",
    }
    for path in list(paths):
        resolved = str(Path(path).resolve())
        paths.setdefault(resolved, paths[path])
    return sorted(((p, label) for p, label in paths.items() if p not in ("", "/")), key=lambda x: -len(x[0]))


def _writable(output: str) -> Path:
    target = Path(output)
    if not target.parent.is_dir():
        raise UnionstatError(f"cannot write {output}: no folder {target.parent}")
    if target.is_dir():
        raise UnionstatError(f"cannot write {output}: it is a folder")
    return target


def _discard(target: Path) -> None:
    with contextlib.suppress(OSError):
        target.unlink(missing_ok=True)


@contextlib.contextmanager
def _open(target: Path) -> Iterator[Any]:
    try:
        handle = open(target, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UnionstatError(f"cannot write {target}: {exc.strerror}") from exc
    with handle:
        yield handle


class _TextWriter:
    """csv, json (one array, as pandas writes it whole) or table text, written chunk by chunk."""

    def __init__(self, handle: Any, fmt: str) -> None:
        self.handle, self.fmt = handle, fmt
        self.chunks = 0
        self.empty: Any = None

    def add(self, chunk: Any) -> None:
        if chunk.empty:
            self.empty = chunk if self.chunks == 0 else None
            return
        first = self.chunks == 0
        if self.fmt == "csv":
            self.handle.write(chunk.to_csv(index=False, header=first))
        elif self.fmt == "json":
            text = to_json(chunk)
            self.handle.write(("[\n" if first else ",\n") + text[2:-2])
        else:
            self.handle.write(("" if first else "\n") + chunk.to_string(index=False, header=first))
        self.chunks += 1

    def close(self) -> None:
        if self.chunks == 0 and self.empty is not None:
            text = {"csv": self.empty.to_csv(index=False), "json": to_json(self.empty)}
            self.handle.write(text.get(self.fmt, self.empty.to_string(index=False)))
        elif self.fmt == "json":
            self.handle.write("\n]")


def to_json(frame: Any) -> str:
    """The JSON of `unionstat sql --format json`: records, ISO dates, full precision."""
    return str(frame.to_json(orient="records", date_format="iso", indent=2, double_precision=15))
