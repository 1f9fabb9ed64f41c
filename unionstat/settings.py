"""The one place that reads the environment: paths, mode and per-source overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODES = ("replay", "live")
DEFAULT_USER_AGENT = "unionstat/0.1 (+https://github.com/unionstat/unionstat; data-engineering contact: {contact})"
THIRD_PARTY_QUIET = {
    # Offline by default: no telemetry calls from the libraries we run.
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Without a Prefect server a refresh starts a temporary one; its default 20 s start-up wait runs out on a
    # busy two-core machine (measured while benchmarking), so wait longer unless the user chose otherwise.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}
# DuckDB's own default is 80% of the machine's RAM per database instance, and a refresh opens two at once (the
# flow's connection and dbt-duckdb's); a fixed cap makes DuckDB spill to disk instead of growing with the data.
# 2 GB fits the 10M-observation benchmark's largest DuckDB step with room to spare and leaves most of a shared
# machine free; raise it on a dedicated host (UNIONSTAT_DUCKDB_MEMORY_LIMIT, any size DuckDB accepts).
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"
DuckDBConfig = dict[str, str | bool | int | float | list[str]]  # what duckdb.connect(config=...) takes


@dataclass(frozen=True)
class Settings:
    """Where things are and how the HTTP layer behaves, resolved once from the environment."""

    project_root: Path
    warehouse_dir: Path
    reference_dir: Path
    mode: str = "replay"
    base_urls: Mapping[str, str] = field(default_factory=dict)
    contact: str = "unionstat-maintainers@example.org"
    ca_bundle: str | None = None
    http_timeout_s: float = 60.0
    http_retries: int = 3
    http_backoff_s: float = 1.0
    min_request_interval_s: float = 1.0
    fetch_retry_delays_s: tuple[float, ...] = (2.0, 10.0)
    max_response_bytes: int = 200 * 1024 * 1024
    lock_timeout_s: float = 0.0
    webhook_url: str | None = None
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int | None = None
    duckdb_temp_dir: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        warehouse_dir = Path(env.get("UNIONSTAT_WAREHOUSE_DIR", PROJECT_ROOT / "warehouse")).resolve()
        reference_dir = Path(env.get("UNIONSTAT_REFERENCE_DIR", PROJECT_ROOT / "warehouse" / "reference")).resolve()
        mode = env.get("UNIONSTAT_MODE", "replay")
        if mode not in MODES:
            raise ValueError(f"UNIONSTAT_MODE must be one of {MODES}; found {mode!r}")
        prefix, suffix = "UNIONSTAT_", "_BASE_URL"
        base_urls = {
            key[len(prefix) : -len(suffix)].lower(): value.rstrip("/")
            for key, value in env.items()
            if key.startswith(prefix) and key.endswith(suffix) and value
        }
        return cls(
            project_root=PROJECT_ROOT,
            warehouse_dir=warehouse_dir,
            reference_dir=reference_dir,
            mode=mode,
            base_urls=base_urls,
            contact=env.get("UNIONSTAT_CONTACT", cls.contact),
            ca_bundle=env.get("UNIONSTAT_CA_BUNDLE") or None,
            http_timeout_s=float(env.get("UNIONSTAT_HTTP_TIMEOUT_S", cls.http_timeout_s)),
            http_retries=int(env.get("UNIONSTAT_HTTP_RETRIES", cls.http_retries)),
            http_backoff_s=float(env.get("UNIONSTAT_HTTP_BACKOFF_S", cls.http_backoff_s)),
            min_request_interval_s=float(env.get("UNIONSTAT_MIN_REQUEST_INTERVAL_S", cls.min_request_interval_s)),
            max_response_bytes=int(env.get("UNIONSTAT_MAX_RESPONSE_BYTES", cls.max_response_bytes)),
            fetch_retry_delays_s=tuple(
                float(x) for x in env.get("UNIONSTAT_FETCH_RETRY_DELAYS_S", "2,10").split(",") if x.strip()
            ),
            lock_timeout_s=float(env.get("UNIONSTAT_LOCK_TIMEOUT_S", cls.lock_timeout_s)),
            webhook_url=env.get("UNIONSTAT_WEBHOOK_URL") or None,
            duckdb_memory_limit=env.get("UNIONSTAT_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
            duckdb_threads=int(env["UNIONSTAT_DUCKDB_THREADS"]) if env.get("UNIONSTAT_DUCKDB_THREADS") else None,
            duckdb_temp_dir=(
                Path(env["UNIONSTAT_DUCKDB_TEMP_DIR"]).resolve() if env.get("UNIONSTAT_DUCKDB_TEMP_DIR") else None
            ),
        )

    def with_mode(self, mode: str) -> Settings:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; found {mode!r}")
        return replace(self, mode=mode)

    # -- derived paths -------------------------------------------------------------------------
    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "unionstat.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.warehouse_dir / "build"

    @property
    def build_db(self) -> Path:
        return self.build_dir / "unionstat.duckdb"

    @property
    def duckdb_spill_dir(self) -> Path:
        """Where DuckDB spills what does not fit in its memory limit (beside the build, on the warehouse's disk)."""
        return self.duckdb_temp_dir or self.build_dir / "duckdb_tmp"

    def duckdb_config(self) -> DuckDBConfig:
        """The resource settings of every DuckDB database unionstat opens (dbt's too, via export_dbt_env)."""
        config: DuckDBConfig = {"memory_limit": self.duckdb_memory_limit, "temp_directory": str(self.duckdb_spill_dir)}
        if self.duckdb_threads is not None:
            config["threads"] = self.duckdb_threads
        return config

    @property
    def snapshot_dir(self) -> Path:
        return self.warehouse_dir / "snapshots"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def gx_dir(self) -> Path:
        return self.warehouse_dir / "gx"

    @property
    def lock_path(self) -> Path:
        return self.warehouse_dir / "refresh.lock"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def user_agent(self) -> str:
        return DEFAULT_USER_AGENT.format(contact=self.contact)

    def base_url(self, source: str, default: str) -> str:
        """The publisher's base URL, or the UNIONSTAT_<SOURCE>_BASE_URL override."""
        return self.base_urls.get(source, default).rstrip("/")


def quiet_third_party_telemetry() -> None:
    """Turn off the usage pings of dbt, GX and Prefect, and give a temporary Prefect server time to start (defaults)."""
    for key, value in THIRD_PARTY_QUIET.items():
        os.environ.setdefault(key, value)


def export_dbt_env(db_path: Path, settings: Settings) -> None:
    """dbt reads its profile through env_var(): point it at the database being built."""
    os.environ["UNIONSTAT_DBT_DB_PATH"] = str(db_path)
    os.environ["UNIONSTAT_PROJECT_ROOT"] = str(settings.project_root)
    # profiles.yml passes these to dbt-duckdb's `config_options`: the same limits as unionstat's own connections
    os.environ["UNIONSTAT_DBT_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    os.environ["UNIONSTAT_DBT_DUCKDB_TEMP_DIR"] = str(settings.duckdb_spill_dir)
    os.environ["UNIONSTAT_DBT_DUCKDB_THREADS"] = str(settings.duckdb_threads or os.cpu_count() or 1)
