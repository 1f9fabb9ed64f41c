"""The analysts' bounded SQL session: time limit, Ctrl-C, one statement, capped results, no files, no paths."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import file_digest, query
from unionstat import query as analyst
from unionstat.cli import main
from unionstat.errors import UnionstatError
from unionstat.settings import Settings

ENDLESS = "select count(*) from range(1000000000000)"  # 10^12 rows: minutes of work, no memory
OBSERVATIONS = "select * from intermediate.int_observations__as_of order by all"


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")}


@pytest.fixture
def published(published_reference: Settings) -> Iterator[Settings]:
    """The reference build; the test fails if anything in the warehouse folder changed or appeared."""
    before = files_under(published_reference.warehouse_dir)
    digest = file_digest(published_reference.published_db)
    yield published_reference
    assert files_under(published_reference.warehouse_dir) == before
    assert file_digest(published_reference.published_db) == digest


def prompt(monkeypatch: pytest.MonkeyPatch, *lines: str | type[BaseException] | Callable[[], str]) -> None:
    """Feed the `sql>` prompt these lines (an exception class is raised, as the terminal would; a function is called
    for the line when the prompt asks for it), then Ctrl-D."""
    feed = iter(lines)

    def fake_input(text: str) -> str:
        line = next(feed, EOFError)
        if isinstance(line, type):
            raise line
        return line if isinstance(line, str) else line()

    monkeypatch.setattr("builtins.input", fake_input)


def test_a_query_past_its_timeout_is_interrupted(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["sql", "--timeout", "1", ENDLESS]) == 130
    elapsed = time.monotonic() - started
    assert elapsed < 6, elapsed  # 1 s, plus DuckDB noticing the interrupt and the connection opening
    assert "query stopped after the time limit of 1 s (--timeout SECONDS)" in capsys.readouterr().err


def test_the_session_answers_after_a_timeout(published: Settings) -> None:
    with analyst.Session(published, analyst.Limits(timeout_s=0.5)) as session:
        with pytest.raises(analyst.QueryInterrupted, match="time limit of 0.5 s"):
            session.query(ENDLESS)
        assert session.query("select 42 as answer").frame["answer"].tolist() == [42]


def test_ctrl_c_during_a_query_cancels_it_and_keeps_the_prompt(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sent: list[float] = []

    def ctrl_c() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(1.0, ctrl_c)

    def endless_then_ctrl_c() -> str:  # the terminal's Ctrl-C, a second after the query was entered
        timer.start()
        return ENDLESS + ";"

    prompt(monkeypatch, endless_then_ctrl_c, "select 42 as answer;")
    try:
        assert main(["sql"]) == 0
    finally:
        timer.cancel()
    captured = capsys.readouterr()
    assert sent and time.monotonic() - sent[0] < 10  # the query stopped; it would run for minutes
    assert "unionstat: query cancelled (Ctrl-C)" in captured.err
    assert "42" in captured.out and "Traceback" not in captured.err


@pytest.mark.timeout(300)
def test_ctrl_c_while_the_query_thread_starts_cancels_the_query(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Ctrl-C that lands inside `Thread.start()` (session 15's clean-clone run: the test above waited 208 s) must
    stop the query, not leave it running in its worker while the next query waits for the connection."""
    real_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        real_start(self)
        if self.name == "unionstat-sql":
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)  # Python runs the signal's handler here, still inside start()

    monkeypatch.setattr(threading.Thread, "start", start)
    prompt(monkeypatch, ENDLESS + ";", "select 42 as answer;")
    began = time.monotonic()
    assert main(["sql"]) == 0
    assert time.monotonic() - began < 30  # the query stopped; it would run for minutes
    captured = capsys.readouterr()
    assert "unionstat: query cancelled (Ctrl-C)" in captured.err
    assert "42" in captured.out and "Traceback" not in captured.err


@pytest.mark.timeout(120)
def test_an_interrupt_sent_before_duckdb_starts_the_query_still_stops_it(
    published: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine the time limit (or Ctrl-C) can come before the worker thread reaches DuckDB, whose interrupt
    stops only a running query: the session interrupts again until the query ends."""
    with analyst.Session(published, analyst.Limits(timeout_s=0.5)) as session:
        capped = session._capped

        def late(sql: str, params: list[object] | None) -> analyst.Result:
            time.sleep(1.5)  # the worker starts the query after the time limit has passed
            return capped(sql, params)

        monkeypatch.setattr(session, "_capped", late)
        started = time.monotonic()
        with pytest.raises(analyst.QueryInterrupted, match="time limit of 0.5 s"):
            session.query(ENDLESS)
        assert time.monotonic() - started < 30  # 1.5 s, then stopped; a lost interrupt lets it run for minutes


def test_ctrl_c_before_the_query_reaches_duckdb_cancels_it_and_keeps_the_prompt(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    check = analyst.Session.check
    calls: list[str] = []

    def interrupted_once(self: analyst.Session, sql: str) -> None:
        calls.append(sql)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the terminal's Ctrl-C while the statement is being checked
        check(self, sql)

    monkeypatch.setattr(analyst.Session, "check", interrupted_once)
    prompt(monkeypatch, ENDLESS + ";", "select 42 as answer;")
    assert main(["sql"]) == 0
    captured = capsys.readouterr()
    assert "unionstat: query cancelled (Ctrl-C)" in captured.err
    assert "42" in captured.out and "Traceback" not in captured.err


def test_ctrl_c_at_the_prompt_drops_the_line_and_keeps_the_prompt(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt(monkeypatch, "select 'half", KeyboardInterrupt, "select 7 as seven;")
    assert main(["sql"]) == 0
    captured = capsys.readouterr()
    assert "seven" in captured.out and captured.out.split()[-1] == "7" and captured.err == ""


def test_two_statements_are_refused(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "select 1; select 2"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "unionstat: one statement per call; found 2 (run them one at a time)\n"
    assert captured.out == ""


@pytest.mark.parametrize(
    "statement",
    [
        "create temp table big as select range as i from range(100000000)",
        "create temp macro m() as table select 1",
        "copy (select * from range(100000000)) to 'big.csv'",
    ],
)
def test_temp_tables_and_copy_are_refused_and_write_nothing(
    statement: str, published: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    assert main(["sql", statement]) == 2
    assert "(the warehouse is read-only for analysts)" in capsys.readouterr().err
    assert files_under(tmp_path) == before


def test_a_query_over_the_memory_limit_fails_without_spilling_to_disk(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONSTAT_DUCKDB_MEMORY_LIMIT", "64MB")
    monkeypatch.setenv("UNIONSTAT_DUCKDB_THREADS", "1")
    big_sort = (
        "select max(s) from (select repeat('x', 50) || range as s from range(3000000) order by s desc limit 2000000)"
    )
    assert main(["sql", big_sort]) == 2
    err = capsys.readouterr().err
    assert "Out of Memory" in err and "memory limit (64MB)" in err and "UNIONSTAT_DUCKDB_MEMORY_LIMIT" in err
    assert "SET " not in err and "temp_directory" not in err  # locked here; nothing to suggest
    assert not Path(f"{published.published_db}.tmp").exists()


def test_the_terminal_gets_at_most_the_row_cap(published: Settings) -> None:
    total = query(published.published_db, "select count(*) from intermediate.int_observations__as_of")[0][0]
    assert total > 50
    with analyst.Session(published, analyst.Limits(max_rows=50)) as session:
        result = session.query(OBSERVATIONS)
    assert len(result.frame) == 50
    assert result.truncated == (
        "showed the first 50 rows: the terminal gets at most 50 rows of a result (-o FILE writes every row)"
    )


def test_the_terminal_gets_at_most_the_byte_cap(published: Settings) -> None:
    with analyst.Session(published, analyst.Limits(max_bytes=1)) as session:
        result = session.query("select range as i from range(100000)")
    assert 0 < len(result.frame) < 100000  # one chunk of DuckDB's vectors, not the whole answer
    assert result.truncated is not None and "at most 1 bytes of a result" in result.truncated


def test_a_cut_result_says_so_and_exits_1(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--format", "csv", f"select range as i from range({analyst.MAX_ROWS + 1})"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-2] == str(analyst.MAX_ROWS - 1)  # the header, then rows 0 .. cap-1
    assert f"the terminal gets at most {analyst.MAX_ROWS} rows" in captured.err and "-o FILE" in captured.err


@pytest.mark.parametrize("fmt", ["csv", "json", "table", "parquet"])
def test_output_file_gets_every_row(
    fmt: str, published: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = analyst.MAX_ROWS + 5000  # more than the terminal gets, over many chunks
    (tmp_path / "files").mkdir()
    target = tmp_path / "files" / f"out.{fmt}"
    assert main(["sql", "--format", fmt, "-o", str(target), f"select range as i from range({rows})"]) == 0
    assert capsys.readouterr().err == f"{rows} rows written to {target}\n"
    if fmt == "csv":
        assert target.read_text().splitlines() == ["i", *map(str, range(rows))]
    elif fmt == "json":
        assert json.loads(target.read_text()) == [{"i": i} for i in range(rows)]
    elif fmt == "table":
        assert [line.strip() for line in target.read_text().splitlines()] == ["i", *map(str, range(rows))]
    else:
        assert duckdb.sql(f"select count(*), sum(i) from '{target}'").fetchall() == [(rows, rows * (rows - 1) // 2)]
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # the parquet spool is gone


def test_json_file_is_the_terminal_json(published: Settings, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    observations = OBSERVATIONS + " limit 10000"  # more than one chunk, less than the terminal's cap
    assert main(["sql", "--format", "json", observations]) == 0
    shown = capsys.readouterr().out
    assert main(["sql", "--format", "json", "-o", str(tmp_path / "o.json"), observations]) == 0
    assert (tmp_path / "o.json").read_text() + "\n" == shown


def test_an_output_file_in_a_missing_folder_is_one_line(published: Settings, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sql", "-o", "/nonexistent/x.csv", "select 1"]) == 2
    assert capsys.readouterr().err == "unionstat: cannot write /nonexistent/x.csv: no folder /nonexistent\n"


@pytest.mark.parametrize(
    "statement",
    [
        "select * from duckdb_databases()",
        "select file from pragma_database_list",
        "pragma database_list",
        'select * from "DuckDB_Settings"()',
        "select current_setting('secret_directory')",
        "select * from duckdb_temporary_files()",
    ],
)
def test_catalog_functions_that_show_paths_are_refused(
    statement: str, published: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", statement]) == 2
    captured = capsys.readouterr()
    assert "shows where the warehouse's files are" in captured.err
    assert captured.out == ""
    assert str(published.warehouse_dir) not in captured.out + captured.err


def test_absolute_paths_in_answers_and_errors_are_hidden(
    published: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    db = published.published_db
    assert main(["sql", f"select '{db}' as p, '{Path.home()}/x' as h"]) == 0
    out = capsys.readouterr().out
    assert "<warehouse>/unionstat.duckdb" in out and "~/x" in out and str(published.warehouse_dir) not in out
    assert main(["sql", f"select * from read_csv('{published.warehouse_dir}/secret.csv')"]) == 2
    err = capsys.readouterr().err
    assert "<warehouse>/secret.csv" in err and str(published.warehouse_dir) not in err


def test_a_locked_setting_is_not_suggested(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    deep = "select " + "(" * 1100 + "1" + ")" * 1100
    assert main(["sql", deep]) == 2
    err = capsys.readouterr().err
    assert "Max expression depth limit of 1000 exceeded." in err
    assert "SET" not in err and "(settings are fixed in the analyst session)" in err


def test_report_and_export_connections_have_the_same_limits(
    published: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "files"
    tmp_path.mkdir()
    monkeypatch.setenv("UNIONSTAT_DUCKDB_MEMORY_LIMIT", "100MB")
    settings = Settings.from_env()
    shows = duckdb.connect(config={"memory_limit": "100MB"}).execute("select current_setting('memory_limit')")
    limit = shows.fetchone()
    with analyst.connection(settings, writable_dir=tmp_path / "out") as con:
        row = con.execute("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
        assert row == (limit[0] if limit else None, "")
        (tmp_path / "out").mkdir()
        con.execute(f"copy (select 1 as x) to '{tmp_path}/out/x.csv'")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"copy (select 1 as x) to '{tmp_path}/elsewhere.csv'")
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table marts.u as select 1")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    with (
        pytest.raises(UnionstatError, match="stopped after the time limit of 0.5 s"),
        analyst.connection(settings, timeout_s=0.5) as con,
    ):
        con.execute(ENDLESS)
