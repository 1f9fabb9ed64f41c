"""The dbt models on a server engine: a throwaway PostgreSQL gets the raw tables of an offline refresh, then
`dbt build --target postgres` runs on it, and its marts must equal the DuckDB warehouse's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import scrapers
from scrapers.worldbank import BulkCsv
from tests.builders import worldbank_bulk_csv
from tests.conftest import query
from unionstat import warehouse
from unionstat.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Debian's servers (postgresql-NN), the newest first; `.ci/run` installs one, so CI never skips.
POSTGRES_BIN_DIRS = sorted(
    (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/postgres")),
    key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0,
    reverse=True,
)
# Every raw table a refresh loads, plus the registry tables that stg_unionstat__sources and __selections read.
COPIED_SCHEMA = "raw"
COPIED_TABLES = [("ops", "sources"), ("ops", "source_selections")]
DUCKDB_TO_POSTGRES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "JSON": "jsonb",
    "DOUBLE[]": "double precision[]",
    "VARCHAR[]": "text[]",
}
# DuckDB writes a list to CSV as [a, b]; PostgreSQL reads an array as {a,b}: each element as array-literal text.
LIST_ELEMENT_TEXT = {
    "DOUBLE[]": "cast(element as varchar)",
    "VARCHAR[]": "'\"' || replace(replace(element, '\\', '\\\\'), '\"', '\\\"') || '\"'",
}
# dbt-duckdb Python models (scipy), disabled on other targets with the unit tests that cannot run there.
DUCKDB_ONLY_MODELS = {"mart_table4_uniformity_test", "mart_table5_correlation"}
DUCKDB_ONLY_UNIT_TESTS = {
    "mart_replication_audit.audit_statuses_for_rounding_revisions_and_unreproducible_r",  # gives Table 4's p
    # the same input (mart_table4_uniformity_test, a Python model)
    "mart_replication_audit.audit_names_the_release_that_reproduces_a_figure_and_never_matches_the_paper_with_itself",
    "mart_table5_trade_investment.table5_rows_from_one_year_of_both_shares",  # gives mart_table5_correlation
    "mart_news_items.news_items_dedup_by_url_and_by_content",  # list-column fixtures (dbt-adapters#939)
}
OK = ("success", "pass")


@pytest.fixture(scope="module", autouse=True)
def postgres_installed() -> None:
    """Skip where no PostgreSQL server is installed; in CI (where .ci/run installs it) its absence is a failure."""
    if not POSTGRES_BIN_DIRS:
        reason = "no PostgreSQL server binary under /usr/lib/postgresql/*/bin (apt: postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: .ci/run installs Debian's `postgresql` package before `make test`")
        pytest.skip(reason)


@dataclasses.dataclass(frozen=True)
class Postgres:
    """A running throwaway cluster, reached over a unix socket in its private directory."""

    bin_dir: Path
    socket_dir: Path
    port: int = 5432
    user: str = "unionstat"
    dbname: str = "unionstat"

    def connect(self, dbname: str | None = None) -> Any:
        import psycopg2

        return psycopg2.connect(host=str(self.socket_dir), port=self.port, user=self.user, dbname=dbname or self.dbname)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        con = self.connect()
        try:
            with con.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        finally:
            con.close()


@dataclasses.dataclass(frozen=True)
class PostgresBuild:
    """What `dbt build --target postgres` did: status per node, and the manifest of that target."""

    server: Postgres
    duckdb_path: Path
    success: bool
    error: str | None
    statuses: dict[str, str]
    manifest: dict[str, Any]


def _server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user (or `nobody`)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root with neither a `postgres` nor a `nobody` user to run PostgreSQL as")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip() or done.stdout}")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """initdb + pg_ctl start in a private temporary directory, unix socket only; stopped and removed at the end."""
    bin_dir = POSTGRES_BIN_DIRS[0]
    as_server_user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="unionstat-pg-"))
    if as_server_user:
        shutil.chown(root, user=as_server_user[2])
    server = Postgres(bin_dir=bin_dir, socket_dir=root)
    data = root / "data"
    # C.UTF-8: lower() and [[:alpha:]] know every script, and text sorts by code point as in DuckDB.
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", server.user, "--auth=trust", "--encoding=UTF8"]
    _run([*as_server_user, *initdb, "--locale=C.UTF-8", "--no-sync"])
    options = f"-c listen_addresses='' -k {root} -p {server.port} -c fsync=off -c full_page_writes=off"
    pg_ctl = [*as_server_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
    _run([*pg_ctl, "-l", str(root / "server.log"), "-w", "-t", "60", "-o", options, "start"])
    try:
        con = server.connect(dbname="postgres")
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f"create database {server.dbname}")
        con.close()
        yield server
    finally:
        _run([*pg_ctl, "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def duckdb_warehouse(reference_build: dict[str, Any]) -> Path:
    """The session's offline refresh from the reference snapshot (read only here)."""
    return Path(reference_build["warehouse_dir"]) / "unionstat.duckdb"


def copy_raw_tables(duckdb_path: Path, server: Postgres, scratch: Path) -> dict[str, int]:
    """Every raw.* table (and the ops tables of COPIED_TABLES) into PostgreSQL: DuckDB writes CSV, COPY reads it.

    Returns the row count of each table as PostgreSQL counts it after the copy.
    """
    copied: dict[str, int] = {}
    source = duckdb.connect(str(duckdb_path), read_only=True)
    target = server.connect()
    try:
        # The raw views too (raw.worldbank_bulk_observations: the bulk CSVs unnested once, by DuckDB), as tables.
        raw_tables = source.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name = $schema "
            "union all select schema_name, view_name from duckdb_views() where schema_name = $schema order by 2",
            {"schema": COPIED_SCHEMA},
        ).fetchall()
        with target.cursor() as cursor:
            for schema, table in [*raw_tables, *COPIED_TABLES]:
                columns = source.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                unknown = [f"{name} {kind}" for name, kind in columns if kind not in DUCKDB_TO_POSTGRES]
                if unknown:
                    raise ValueError(f"{schema}.{table}: no PostgreSQL type for DuckDB column(s) {unknown}")
                ddl = ", ".join(f'"{name}" {DUCKDB_TO_POSTGRES[kind]}' for name, kind in columns)
                cursor.execute(f'create schema if not exists "{schema}"')
                cursor.execute(f'create table "{schema}"."{table}" ({ddl})')
                csv_path = scratch / f"{schema}.{table}.csv"
                # NULL is an empty field and an empty string is "": the rule of PostgreSQL's CSV format too.
                select = ", ".join(_postgres_text(name, kind) for name, kind in columns)
                source.execute(
                    f"copy (select {select} from {schema}.{table}) to '{csv_path}' (format csv, header false)"
                )
                with csv_path.open(encoding="utf-8") as rows:
                    cursor.copy_expert(f'copy "{schema}"."{table}" from stdin with (format csv)', rows)
                cursor.execute(f'select count(*) from "{schema}"."{table}"')
                copied[f"{schema}.{table}"] = int(cursor.fetchone()[0])
        target.commit()
    finally:
        target.close()
        source.close()
    return copied


def _postgres_text(name: str, kind: str) -> str:
    """A column as DuckDB selects it for the CSV that PostgreSQL's COPY reads: lists as array literals."""
    if kind not in LIST_ELEMENT_TEXT:
        return f'"{name}"'
    element = f"coalesce({LIST_ELEMENT_TEXT[kind]}, 'NULL')"
    array = f"""'{{' || array_to_string(list_transform("{name}", lambda element: {element}), ',') || '}}'"""
    return f'{array} as "{name}"'


def dbt_build_on_postgres(
    server: Postgres, project_dir: Path, scratch: Path, select: list[str] | None = None
) -> PostgresBuild:
    """`dbt build --target postgres` through dbtRunner (all of it, or `select`): its own target and log paths."""
    from dbt.adapters.factory import cleanup_connections, reset_adapters
    from dbt.cli.main import dbtRunner

    target_path = scratch / "dbt_target"
    args = ["--quiet", "build", "--target", "postgres", "--project-dir", str(project_dir)]
    args += ["--profiles-dir", str(project_dir), "--target-path", str(target_path)]
    args += ["--log-path", str(scratch / "dbt_logs"), *(["--select", *select] if select else [])]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("UNIONSTAT_PG_HOST", str(server.socket_dir))
        monkeypatch.setenv("UNIONSTAT_PG_PORT", str(server.port))
        monkeypatch.setenv("UNIONSTAT_PG_USER", server.user)
        monkeypatch.setenv("UNIONSTAT_PG_DBNAME", server.dbname)
        monkeypatch.setenv("UNIONSTAT_PG_SCHEMA", "public")
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            cleanup_connections()
            reset_adapters()
    statuses: dict[str, str] = {}
    for item in getattr(outcome.result, "results", None) or []:
        status = str(getattr(item.status, "value", item.status))
        statuses[item.node.unique_id] = status if status in OK else f"{status}: {item.message}"
    manifest_path = target_path / "manifest.json"
    return PostgresBuild(
        server=server,
        duckdb_path=Path(),
        success=outcome.success,
        error=None if outcome.exception is None else str(outcome.exception),
        statuses=statuses,
        manifest=json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {},
    )


@pytest.fixture(scope="module")
def postgres_build(
    duckdb_warehouse: Path, postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> PostgresBuild:
    scratch = tmp_path_factory.mktemp("pg-build")
    copied = copy_raw_tables(duckdb_warehouse, postgres, scratch)
    raw_counts = {f"raw.{table}": count for table, count in _table_counts(duckdb_warehouse, "raw")}
    assert len(raw_counts) >= 9
    ops = dict(_table_counts(duckdb_warehouse, "ops"))
    ops_counts = {f"ops.{table}": ops[table] for _, table in COPIED_TABLES}
    assert copied == {**raw_counts, **ops_counts}
    build = dbt_build_on_postgres(postgres, DBT_PROJECT_DIR, scratch)
    return dataclasses.replace(build, duckdb_path=duckdb_warehouse)


def _table_counts(path: Path, schema: str) -> list[tuple[str, int]]:
    relations = "select table_name from information_schema.tables where table_schema = ?"  # views too
    tables = [r[0] for r in query(path, relations, [schema])]
    return [(table, query(path, f"select count(*) from {schema}.{table}")[0][0]) for table in tables]


def _normal(value: Any) -> Any:
    """One comparable form across drivers: numbers to 10 significant digits, instants in UTC, arrays as tuples."""
    if isinstance(value, Decimal | float):
        number = float(value)
        return None if math.isnan(number) else float(f"{number:.10g}")
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    if isinstance(value, list | tuple):
        return tuple(_normal(item) for item in value)
    return value


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normal(value) for value in row) for row in rows), key=repr)


def _columns(rows: list[tuple[Any, ...]]) -> list[str]:
    return [r[0] for r in rows]


# --- the build --------------------------------------------------------------------------------------------------


def test_dbt_build_on_postgres_builds_every_sql_model_and_passes_every_test(postgres_build: PostgresBuild) -> None:
    warned = {node for node, status in postgres_build.statuses.items() if status.startswith("warn")}
    failures = {node: status for node, status in postgres_build.statuses.items() if status not in OK}
    failures = {node: status for node, status in failures.items() if node not in warned}
    assert postgres_build.success, (postgres_build.error, failures)
    assert failures == {}
    models = {node.split(".")[-1] for node in postgres_build.statuses if node.startswith("model.")}
    duckdb_models = set(_columns(query(
        postgres_build.duckdb_path,
        "select table_name from information_schema.tables where table_schema in ('staging', 'intermediate', 'marts')",
    )))  # fmt: skip
    assert models == duckdb_models - DUCKDB_ONLY_MODELS
    # 33 + stg_unionstat__selections, stg_rosstat__cells, stg_belstat__cells, stg_worldbank__countries, mart_countries
    # + mart_paper_facts, mart_table2_country_values and the report's mart_gdp_growth_vintages,
    # mart_patent_applications_by_year, mart_snapshot_provenance and mart_gdp_growth_eaeu + int_observations__revised
    assert len(models) == len(duckdb_models) - 2 == 45
    seeds = [node for node in postgres_build.statuses if node.startswith("seed.")]
    assert len(seeds) == len(_table_counts(postgres_build.duckdb_path, "paper")) == 11
    # Every enabled test ran; disabled on postgres: exactly the Python models, their data tests and three unit tests.
    manifest = postgres_build.manifest
    declared = {**manifest["nodes"], **manifest["unit_tests"]}
    enabled = {node for node, spec in declared.items() if spec["config"].get("enabled", True)}
    disabled = set(manifest["disabled"]) | set(declared) - enabled
    for kind in ("test.", "unit_test."):
        ran = {node for node in postgres_build.statuses if node.startswith(kind)}
        assert ran == {node for node in enabled if node.startswith(kind)}
    # 120 in December 2026: a model's one-column rules (its one-column keys too) are one column_rules test, its
    # keys of several columns and its checks across columns tests of their own
    assert len([node for node in postgres_build.statuses if node.startswith("test.")]) >= 115
    # The tests of severity warn warn on the same data as in the DuckDB build (its run in the history beside it).
    history = postgres_build.duckdb_path.parent / "dq_history.duckdb"
    duckdb_warned = set(_columns(query(history, "select unique_id from dbt_results where status = 'warn'")))
    assert warned == duckdb_warned & enabled != set()
    assert {node.split(".")[-1] for node in disabled if node.startswith("model.")} == DUCKDB_ONLY_MODELS
    assert {node.split(".", 2)[-1] for node in disabled if node.startswith("unit_test.")} == DUCKDB_ONLY_UNIT_TESTS
    disabled_tests = {node for node in disabled if node.startswith("test.")}
    assert len(disabled_tests) == 5  # each: column_rules (its key among them), a row count; and the status warning
    assert all(any(model in node for model in DUCKDB_ONLY_MODELS) for node in disabled_tests)


def test_every_mart_on_postgres_equals_the_duckdb_mart(postgres_build: PostgresBuild) -> None:
    """Same columns and rows, mart by mart; the one row allowed to differ is the audit's scipy p-value."""
    in_duckdb = query(postgres_build.duckdb_path, "select table_name from duckdb_tables() where schema_name = 'marts'")
    marts = [mart for mart in _columns(in_duckdb) if mart not in DUCKDB_ONLY_MODELS]
    assert len(marts) == 27
    for mart in marts:
        sql = f"select * from marts.{mart}"
        if mart == "mart_replication_audit":
            sql += " where figure_id != 't4_p_value'"
        duck = _rows(query(postgres_build.duckdb_path, sql))
        assert _rows(postgres_build.server.query(sql)) == duck, mart
        assert duck or mart in ("mart_revisions", "mart_reconciliation"), f"{mart} is empty on both engines"
        columns = (
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{mart}' order by ordinal_position"
        )
        assert _columns(postgres_build.server.query(columns)) == _columns(query(postgres_build.duckdb_path, columns))


def test_postgres_marts_carry_the_papers_tables(postgres_build: PostgresBuild) -> None:
    """Known values on the server engine itself, so marts that were equal but empty could not pass."""
    pg = postgres_build.server
    table2 = {r[0]: r[1:] for r in pg.query(
        "select metric_id, russia_value, belarus_value, pct_difference, higher_in, status "
        "from marts.mart_table2_country_comparison"
    )}  # fmt: skip
    # the real World Bank release of 2024-06-28: GDP growth 2023 read from the file
    assert table2["gdp_growth"] == (3.60000000000001, 3.88624214456901, 7.9512, "Belarus", "computed")
    assert table2["patent_applications"] == (25188, 980, 2470.2041, "Russia", "computed")
    table3 = dict(pg.query("select sector_id, share_pct from marts.mart_table3_joint_initiatives"))
    assert table3 == {"digital_it": 28.5714, "medical_health": 28.5714, "education": 28.5714, "culture": 14.2857}
    # Table 4 without scipy: the statistic, df and the exact multinomial p are SQL (ln n! from numeric factorials).
    assert pg.query(
        "select n, k, expected_frequency, statistic, df, exact_multinomial_p_value "
        "from marts.mart_table4_uniformity_statistics"
    ) == [(7, 4, 1.75, 0.4286, 3, 1.0)]
    table5 = {r[0]: r[1:] for r in pg.query(
        "select metric_id, period, metric_value, status from marts.mart_table5_trade_investment"
    )}  # fmt: skip
    assert table5["trade_share_2021"] == ("2021", 49.0, "computed")
    assert table5["trade_share_yoy_change"] == ("2021", 1.1, "computed")
    assert table5["correlation_r"] == (None, None, "not computable")
    news = "select count(*), count(distinct source), sum(duplicate_count) from marts.mart_news_items"
    assert pg.query(news) == [(10, 2, 2)]
    assert query(postgres_build.duckdb_path, news) == [(10, 2, 2)]
    categories = "select count(*) from marts.mart_news_item_categories"
    assert pg.query(categories) == query(postgres_build.duckdb_path, categories) == [(22,)]


def test_replication_audit_on_postgres_differs_only_where_scipy_is_needed(postgres_build: PostgresBuild) -> None:
    sql = "select figure_id, status, explanation from marts.mart_replication_audit"
    duck = {r[0]: r[1:] for r in query(postgres_build.duckdb_path, sql)}
    pg = {r[0]: r[1:] for r in postgres_build.server.query(sql)}
    assert pg.keys() == duck.keys()
    assert len(pg) == 40
    assert {figure for figure in pg if pg[figure] != duck[figure]} == {"t4_p_value"}
    assert duck["t4_p_value"][0] == "explained"  # scipy's 0.934279 against the printed 0.9344
    status, explanation = pg["t4_p_value"]
    assert status == "not reproducible"
    assert "computed by a Python model (scipy) that runs on DuckDB only, not on postgres" in explanation
    statuses = "select status, count(*) from marts.mart_replication_audit group by status"
    # DuckDB: match 17, explained 3, paper only 14, not reproducible 6; scipy's p-value only there
    expected = {"match": 17, "explained": 2, "paper only": 14, "not reproducible": 7}
    assert dict(postgres_build.server.query(statuses)) == expected


def test_news_categories_on_postgres_are_the_pairs_the_regular_expression_gives_in_duckdb(
    postgres: Postgres, tmp_path: Path
) -> None:
    """The word-by-word keyword match on the server engine ([[:alpha:]], regexp_split_to_table), in a database of
    its own: on the edge cases and random texts of test_news_categories, the DuckDB regex oracle's pairs."""
    from tests.dbt import test_news_categories as news

    con = postgres.connect(dbname="postgres")
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute("create database news_categories")
    con.close()
    server = dataclasses.replace(postgres, dbname="news_categories")
    items = news.sample_items()
    con = server.connect()
    with con.cursor() as cursor:
        cursor.execute("create schema marts")
        cursor.execute(news.NEWS_ITEMS_DDL)
        cursor.executemany(news.INSERT_NEWS_ITEM.replace("?", "%s"), items)
    con.commit()
    con.close()
    selection = ["news_keyword_taxonomy", "mart_news_item_categories", "news_keyword_shape"]
    build = dbt_build_on_postgres(server, DBT_PROJECT_DIR, tmp_path, selection)
    assert build.success, (build.error, build.statuses)
    assert "test.unionstat.news_keyword_shape" in build.statuses
    on_postgres = {
        (url, keyword)
        for url, keywords in server.query("select canonical_url, matched_keywords from marts.mart_news_item_categories")
        for keyword in keywords
    }
    oracle = duckdb.connect()
    try:
        oracle.execute("create schema marts")
        oracle.execute("create schema paper")
        oracle.execute(news.NEWS_ITEMS_DDL)
        oracle.executemany(news.INSERT_NEWS_ITEM, items)
        seed = str(DBT_PROJECT_DIR / "seeds" / "news_keyword_taxonomy.csv")
        taxonomy = "create table paper.news_keyword_taxonomy as select * from read_csv(?, all_varchar = true)"
        oracle.execute(taxonomy, [seed])
        expected = set(oracle.execute(news.ORACLE).fetchall())
    finally:
        oracle.close()
    assert len(expected) > 1000
    assert on_postgres == expected
    assert ("hyphen-literal", "ит-компани") in on_postgres
    assert ("hyphen-spaced", "ит-компани") not in on_postgres
    assert ("cyrillic-upper-case", "цифров") in on_postgres


def test_bulk_csv_lines_unnest_on_postgres_into_the_rows_duckdb_gives(postgres: Postgres, tmp_path: Path) -> None:
    """raw.worldbank_bulk (a list of year values per line) on the server engine: stg_worldbank__observations reads
    the rows DuckDB's raw.worldbank_bulk_rows gives (the rows validation checks; copied as the view
    raw.worldbank_bulk_observations), in a database of its own. Synthetic values, not World Bank figures."""
    con = postgres.connect(dbname="postgres")
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute("create database worldbank_bulk")
    con.close()
    server = dataclasses.replace(postgres, dbname="worldbank_bulk")
    values = {"RUS": {"2022": "-1.5", "2023": "3.25"}, "BLR": {"1960": "0", "2024": "1e-3"}}
    csv_path = tmp_path / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    csv_path.write_bytes(worldbank_bulk_csv(values, "2025-07-01"))
    sha = "b" * 64
    source_path = tmp_path / "bulk.duckdb"
    source = duckdb.connect(str(source_path))
    try:
        connectors = scrapers.all_connectors(Settings.from_env())
        warehouse.ensure_schema(source, [c.raw_ddl for c in connectors])
        warehouse.write_sources(source, [c.config for c in connectors])
        BulkCsv.open("worldbank", csv_path.as_uri(), csv_path, tmp_path).insert(source, sha)
        expected = source.execute(
            "select snapshot_sha256, row_number, indicator_id, indicator_name, countryiso3code, country_name, date, "
            "value, unit, obs_status, lastupdated from raw.worldbank_bulk_rows([?], true)",
            [sha],
        ).fetchall()
    finally:
        source.close()
    assert copy_raw_tables(source_path, server, tmp_path)["raw.worldbank_bulk"] == 2
    assert server.query("select years[1], years[65], release_date from raw.worldbank_bulk_files") == [
        ("1960", "2024", dt.date(2025, 7, 1))
    ]

    build = dbt_build_on_postgres(
        server, DBT_PROJECT_DIR, tmp_path, ["source:worldbank", "stg_worldbank__observations"]
    )

    assert build.success, (build.error, build.statuses)
    assert any("worldbank_bulk_snapshot_sha256__line_number" in node for node in build.statuses), build.statuses
    staged = server.query(
        "select snapshot_sha256, snapshot_row, indicator_code, indicator_name, country_iso3, country_name, period, "
        "value, unit, obs_status, release_date from staging.stg_worldbank__observations"
    )
    assert len(staged) == 130
    assert _rows(staged) == _rows(expected)
    assert sorted((r[1], r[6], r[7]) for r in staged if r[7] is not None) == [
        (63, "2022", -1.5),
        (64, "2023", 3.25),
        (66, "1960", 0.0),
        (130, "2024", 0.001),
    ]
