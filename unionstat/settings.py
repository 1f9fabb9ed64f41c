"""The one place that reads the environment: paths, mode and per-source overrides, typed and checked once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from unionstat.errors import UnionstatError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "UNIONSTAT_"
BASE_URL_SUFFIX = "_BASE_URL"
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
# One memory setting for a whole refresh (UNIONSTAT_MEMORY_LIMIT, a size as DuckDB writes it: 2GB, 1536MiB, ...).
# Its parts: DuckDB gets a quarter, per database (DuckDB's own default is 80% of the machine's RAM per database, and
# a refresh can have two open: the flow's and dbt-duckdb's, so the two together stay within half of the setting);
# beyond it DuckDB spills to a directory inside the warehouse instead of growing. Great Expectations validates new
# rows in batches of at most VALIDATE_BATCH_SHARE of the limit, at VALIDATE_ROW_BYTES a row (measured: pandas'
# frame plus what GX's metrics allocate beside it). 2GB (DuckDB 500MB) keeps every stage of a refresh within 2x
# DuckDB's own read + unpivot of the file at 10M and 25M observations; 4GB (DuckDB 1GB) takes twice the memory and
# built the 10M benchmark's models 0-10% faster (docs/PERFORMANCE.md, session 19).
DEFAULT_MEMORY_LIMIT = "2GB"
DUCKDB_SHARE = 0.25
VALIDATE_BATCH_SHARE = 0.125
VALIDATE_ROW_BYTES = 500
VALIDATE_BATCH_ROWS_BOUNDS = (2_048, 1_000_000)  # one DuckDB vector at least; beyond 1M rows GX gains nothing
SIZE_UNITS = {  # DuckDB's units (KB = 1000 bytes, KiB = 1024)
    "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")
DuckDBConfig = dict[str, str | bool | int | float | list[str]]  # what duckdb.connect(config=...) takes
#: Settings set in code, never from the environment (the checkout a module runs from; the per-source overrides,
#: which are gathered from UNIONSTAT_<SOURCE>_BASE_URL by `Settings.from_env`).
NOT_FROM_ENV = ("project_root", "base_urls")


class SettingsInvalid(UnionstatError, ValueError):
    """An environment variable holds a value unionstat cannot use; the message names it, on one line."""


class Settings(BaseSettings):
    """Where things are and how the HTTP layer behaves, resolved once from the environment (`from_env`).

    Each field is read from `UNIONSTAT_<FIELD>` (`.env.example` lists them with their defaults and meaning).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    project_root: Path = PROJECT_ROOT
    warehouse_dir: Path = PROJECT_ROOT / "warehouse"
    reference_dir: Path = PROJECT_ROOT / "warehouse" / "reference"
    mode: Literal["replay", "live"] = "replay"
    base_urls: Mapping[str, str] = Field(default_factory=dict)
    contact: str = "unionstat-maintainers@example.org"
    ca_bundle: str | None = None
    http_timeout_s: float = Field(60.0, gt=0)
    http_retries: int = Field(3, ge=0)
    http_backoff_s: float = Field(1.0, ge=0)
    min_request_interval_s: float = Field(1.0, ge=0)
    fetch_retry_delays_s: Annotated[tuple[Annotated[float, Field(ge=0)], ...], NoDecode] = (2.0, 10.0)
    #: Sources fetched at once (UNIONSTAT_FETCH_CONCURRENCY); each source is one publisher, asked one thing at a time.
    fetch_concurrency: int = Field(4, ge=1)
    max_response_bytes: int = Field(200 * 1024 * 1024, gt=0)
    max_import_bytes: int = Field(1024 * 1024 * 1024, gt=0)
    max_unpacked_bytes: int = Field(512 * 1024 * 1024, gt=0)
    max_line_bytes: int = Field(2 * 1024 * 1024, gt=0)
    lock_timeout_s: float = Field(0.0, ge=0)
    webhook_url: str | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    #: DuckDB's part of the memory limit, per database: a quarter of UNIONSTAT_MEMORY_LIMIT unless set on its own
    #: (UNIONSTAT_DUCKDB_MEMORY_LIMIT, the setting before UNIONSTAT_MEMORY_LIMIT existed: it still wins for DuckDB).
    duckdb_memory_limit: str = ""
    #: Rows of new data Great Expectations validates at a time (UNIONSTAT_VALIDATE_BATCH_ROWS); derived from the
    #: memory limit when unset (`validate_batch_rows_effective`).
    validate_batch_rows: int | None = Field(None, ge=VALIDATE_BATCH_ROWS_BOUNDS[0])
    duckdb_threads: int | None = Field(None, ge=1)
    duckdb_temp_dir: Path | None = None
    docs: bool = True
    dbt_parse_cache_dir: Path | None = None
    #: Great Expectations' "Calculating Metrics" progress bars (`unionstat refresh --verbose` turns them on).
    progress_bars: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Values come only from `from_env`, which reads its mapping through pydantic-settings' environment source:
        a test's mapping is then read alone, never mixed with the process environment."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from `env` (default: the process environment) and nothing else; a bad value raises
        `SettingsInvalid` naming each variable, what it expected and what it found."""
        environ = os.environ if env is None else env
        values = {k: v for k, v in _EnvironSource(cls, environ)().items() if k not in NOT_FROM_ENV}
        try:
            return cls.model_validate({**values, "project_root": PROJECT_ROOT, "base_urls": _base_urls(environ)})
        except ValidationError as exc:
            raise SettingsInvalid(_one_line(exc)) from None

    def with_mode(self, mode: str) -> Settings:
        if mode not in MODES:
            raise SettingsInvalid(f"mode: expected one of {MODES}, found {mode!r}")
        return self.model_copy(update={"mode": mode})

    @field_validator("warehouse_dir", "reference_dir", "duckdb_temp_dir", "dbt_parse_cache_dir", mode="after")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        return path.resolve() if path is not None else None

    @field_validator(
        "ca_bundle",
        "webhook_url",
        "duckdb_threads",
        "duckdb_temp_dir",
        "dbt_parse_cache_dir",
        "validate_batch_rows",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("memory_limit", mode="before")
    @classmethod
    def _a_size(cls, value: Any) -> Any:
        if value == "":
            return DEFAULT_MEMORY_LIMIT
        size_bytes(str(value))  # raises ValueError naming what a size looks like
        return value

    @model_validator(mode="after")
    def _duckdb_part(self) -> Settings:
        """DuckDB's limit: UNIONSTAT_DUCKDB_MEMORY_LIMIT when given, else DUCKDB_SHARE of UNIONSTAT_MEMORY_LIMIT."""
        if not self.duckdb_memory_limit:
            object.__setattr__(self, "duckdb_memory_limit", share_of(self.memory_limit, DUCKDB_SHARE))
        return self

    @field_validator("fetch_retry_delays_s", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """'2,10' -> (2.0, 10.0); '' -> () (no orchestrator retries)."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

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

    @property
    def memory_limit_bytes(self) -> int:
        return size_bytes(self.memory_limit)

    @property
    def validate_batch_rows_effective(self) -> int:
        """UNIONSTAT_VALIDATE_BATCH_ROWS, else VALIDATE_BATCH_SHARE of the memory limit at VALIDATE_ROW_BYTES a row
        (2GB: 500,000 rows), within VALIDATE_BATCH_ROWS_BOUNDS."""
        if self.validate_batch_rows is not None:
            return self.validate_batch_rows
        low, high = VALIDATE_BATCH_ROWS_BOUNDS
        return max(low, min(high, int(self.memory_limit_bytes * VALIDATE_BATCH_SHARE) // VALIDATE_ROW_BYTES))

    @property
    def dbt_parse_cache(self) -> Path:
        """Where parsed dbt projects are kept between builds, by what their parse depends on (transform.py)."""
        return self.dbt_parse_cache_dir or self.warehouse_dir / "cache" / "dbt"

    def duckdb_config(self) -> DuckDBConfig:
        """The resource settings of every DuckDB database unionstat opens (dbt's too, via `dbt_vars`)."""
        config: DuckDBConfig = {"memory_limit": self.duckdb_memory_limit, "temp_directory": str(self.duckdb_spill_dir)}
        if self.duckdb_threads is not None:
            config["threads"] = self.duckdb_threads
        return config

    def dbt_vars(self, db_path: Path) -> dict[str, str]:
        """What dbt_project/profiles.yml reads with var(): the database being built and DuckDB's resources."""
        return {
            "unionstat_db_path": str(db_path),
            "unionstat_duckdb_memory_limit": self.duckdb_memory_limit,
            "unionstat_duckdb_threads": str(self.duckdb_threads or os.cpu_count() or 1),
            "unionstat_duckdb_temp_dir": str(self.duckdb_spill_dir),
        }

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


def size_bytes(text: str) -> int:
    """'4GB' -> 4,000,000,000; '1536MiB' -> 1,610,612,736 (DuckDB's units; a bare number is bytes)."""
    match = SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in SIZE_UNITS and unit != "":
        raise ValueError(f"a size such as 4GB or 1536MiB (units {', '.join(SIZE_UNITS)})")
    return int(float(match.group(1)) * SIZE_UNITS[unit or "b"])


def share_of(size: str, share: float) -> str:
    """A share of a size, written in the largest of DuckDB's units that keeps it whole ('4GB' x 0.5 -> '2GB')."""
    part = int(size_bytes(size) * share)
    binary = "i" in size.lower()
    for unit in ("tib", "gib", "mib", "kib") if binary else ("tb", "gb", "mb", "kb"):
        if part % SIZE_UNITS[unit] == 0:
            return f"{part // SIZE_UNITS[unit]}{unit.upper().replace('I', 'i')}"
    return f"{part}B"


class _EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (the process environment, or a test's)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ  # read by _load_env_vars, which the parent's __init__ calls
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _base_urls(environ: Mapping[str, str]) -> dict[str, str]:
    """UNIONSTAT_<SOURCE>_BASE_URL overrides, by lower-case source name (empty values ignored)."""
    return {
        key[len(ENV_PREFIX) : -len(BASE_URL_SUFFIX)].lower(): value.rstrip("/")
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key.endswith(BASE_URL_SUFFIX) and value
    }


def _one_line(exc: ValidationError) -> str:
    """`UNIONSTAT_HTTP_TIMEOUT_S: expected a valid number, found 'soon'`: one clause per bad variable, one line."""
    clauses = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        expected = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
        if error["type"].endswith("_parsing"):  # 'a valid number, unable to parse string as a number'
            expected = expected.split(",")[0]
        elif expected.startswith(("greater", "less")):
            expected = f"a value {expected}"
        clauses.append(f"{ENV_PREFIX}{field.upper()}: expected {expected}, found {error['input']!r}")
    return "; ".join(clauses)


def quiet_third_party_telemetry() -> None:
    """Turn off the usage pings of dbt, GX and Prefect, and give a temporary Prefect server time to start (defaults)."""
    for key, value in THIRD_PARTY_QUIET.items():
        os.environ.setdefault(key, value)


def quiet_third_party_output(verbose: bool) -> None:
    """Prefect's per-task state lines and GX's progress bars only when asked for (`--verbose`): a refresh then shows
    unionstat's own progress lines. Call before Prefect is imported (it reads its logging level once)."""
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
        os.environ[f"{ENV_PREFIX}PROGRESS_BARS"] = "true"
    else:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
