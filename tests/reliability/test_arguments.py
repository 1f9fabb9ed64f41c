"""Arguments are checked before anything starts: a bad source, path, URL, date, format or checksum ends the command
with one line on stderr naming the problem and what is accepted, exit code 2, before Prefect, dbt, DuckDB or a
connector is even imported (so no temporary Prefect server starts). Tracebacks only with --verbose.

Each case runs in a fresh interpreter (this test process has Prefect imported already), which reports what the
command imported; no wall-clock bound is asserted here (speed targets belong to `make bench`).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.reliability.conftest import FIGURES
from unionstat.settings import PROJECT_ROOT, Settings

PROBE = """
import contextlib, io, json, sys
from unionstat.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err):
    try:
        code = main(json.loads(sys.argv[1]))
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in ("prefect", "dbt", "duckdb", "pandas", "great_expectations", "scrapers", "flows")
               if m in sys.modules)
print(json.dumps({"code": code, "stderr": err.getvalue(), "heavy": heavy}))
"""


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


CASES = [
    (["refresh", "--source", "nope"], {}, "--source: unknown source 'nope'; expected one of worldbank, belstat"),
    (["import", "/nonexistent/file.csv"], {}, "import: /nonexistent/file.csv does not exist; expected a file"),
    (["import", "."], {}, "import: . is not a file; expected a file downloaded from a publisher"),
    (
        ["refresh", "--live"],
        {"UNIONSTAT_WORLDBANK_BASE_URL": "not a url"},
        "UNIONSTAT_WORLDBANK_BASE_URL: expected an http:// or https:// URL with a host, found 'not a url'",
    ),
    (
        ["refresh"],
        {"UNIONSTAT_WIPO_BASE_URL": "file:///etc"},
        "UNIONSTAT_WIPO_BASE_URL: expected an http:// or https:// URL with a host, found 'file:///etc'",
    ),
    (["serve", "--api-url", "ftp://host/api"], {}, "--api-url: expected an http:// or https:// URL with a host"),
    (["refresh", "--as-of", "2024-13-01"], {}, "argument --as-of: expected a date YYYY-MM-DD, found '2024-13-01'"),
    (["sql", "select 1", "--format", "xml"], {}, "argument --format: invalid choice: 'xml'"),
    (["retract", "zz", "--reason", "x"], {}, "expected a snapshot's sha256 or its first 8 to 64 hex characters"),
    (["retract", "abcdef0123"], {}, "the following arguments are required: --reason"),
    (["dq"], {"UNIONSTAT_HTTP_RETRIES": "many"}, "UNIONSTAT_HTTP_RETRIES: expected a valid integer, found 'many'"),
]


@pytest.mark.parametrize(("argv", "extra_env", "expected"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_argument_is_one_line_before_anything_starts(
    argv: list[str], extra_env: dict[str, str], expected: str, warehouse_env: Settings
) -> None:
    import os

    result = run_cli(argv, {**os.environ, **extra_env})
    assert result["code"] == 2, result
    stderr = str(result["stderr"])
    assert stderr.count("\n") == 1 and expected in stderr, stderr
    assert "Traceback" not in stderr
    assert result["heavy"] == [], f"imported before the arguments were checked: {result['heavy']}"
    assert not warehouse_env.warehouse_dir.exists()  # nothing was started or written
    FIGURES.hostile.append(f"argument refused before anything starts: {' '.join(argv)}")


def test_verbose_prints_the_traceback(warehouse_env: Settings) -> None:
    import os

    result = run_cli(["--verbose", "refresh", "--source", "nope"], dict(os.environ))
    assert result["code"] == 2
    assert "Traceback (most recent call last)" in str(result["stderr"])
    assert str(result["stderr"]).rstrip().endswith("expected one of worldbank, belstat, osw, rg, wipo, rosstat")
