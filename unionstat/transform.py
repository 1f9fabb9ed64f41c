"""Transform stage: dbt build (staging views, marts, tests) and dbt docs, through dbt's Python API."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from unionstat import warehouse
from unionstat.errors import TransformFailed
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
#: libyaml's safe loader where PyYAML was built with it (its wheels are): every build reads the staging ymls, and
#: the pure-Python loader took 0.16 s of a World Bank revision's build.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUILD_RESULTS = "dbt_build_results.json"


@dataclass
class TransformResult:
    models: int = 0
    tests: int = 0
    seeds: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    docs_generated: bool = False
    #: Why the build ran no unit tests (None: it ran them): a selection runs the published build's code, and a full
    #: build of code whose unit tests passed before (the same project, dbt and vars: ParseCache's key) skips them.
    unit_tests_skipped: str | None = None

    @property
    def docs_dir(self) -> str:
        return "dbt_docs"


def dbt_build(
    settings: Settings, db_path: Path, as_of: str | None = None, select: list[str] | None = None
) -> TransformResult:
    """Run `dbt build` and, after a full build, `dbt docs generate` against the database being built; close it.

    `select` limits the build to dbt selectors (e.g. `source:worldbank+`); an empty list builds nothing (the
    build copy already holds every relation); None builds everything, incremental models from scratch.
    A selective build happens only when the code equals the published build's (flows.refresh.build_selection),
    so its docs would equal the published docs (DuckDB's catalog holds names, columns and types, no row
    statistics): they are not generated again (about 6 s at any size), unless no published docs exist; with
    `settings.docs` off (UNIONSTAT_DOCS=false) never. For the
    same reason a selective build skips the unit tests. A full build skips them too when a build of the same code
    (dbt's parse key: every file of the project, dbt's version and the vars) passed them before: unit tests read
    fixed inputs, never the warehouse, so the same code gives the same outcome (`ParseCache.unit_tests_passed`).
    """
    dbt_vars = {"as_of": as_of, "observation_models": observation_models(settings.dbt_project_dir)}
    common = [
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(settings.build_dir / "dbt_target"),
        "--log-path",
        str(settings.build_dir / "dbt_logs"),
        "--vars",
        json.dumps({**dbt_vars, **settings.dbt_vars(db_path)}),  # profiles.yml reads the unionstat_* vars
    ]
    parsed = ParseCache(settings, _parse_key(settings, dbt_vars, db_path))
    try:
        artifact = settings.build_dir / "dbt_target" / "run_results.json"
        artifact.unlink(missing_ok=True)
        result = TransformResult()
        if select != []:
            # Everything: incremental models are rebuilt from scratch too (the code or the as-of date changed).
            # A selection runs the published build's code, whose unit tests (fixed inputs, no warehouse data)
            # passed when it was built: only the data tests run again.
            skipped = "selective build" if select else parsed.unit_tests_passed()
            selection = ["--select", *select] if select else ["--full-refresh"]
            if skipped:
                selection += ["--exclude-resource-type", "unit_test"]
            # A selection's manifest is its parse's, which an earlier build of that parse wrote: kept beside the
            # parse, copied in place of writing it again (0.2-0.5 s); the run results are written here instead.
            kept_manifest = parsed.manifest_json if select and parsed.manifest_json.is_file() else None
            if kept_manifest:
                selection.append("--no-write-json")
            outcome = parsed.runner().invoke(["--quiet", "build", *common, *selection])
            parsed.keep()
            if kept_manifest:
                shutil.copyfile(kept_manifest, settings.build_dir / "dbt_target" / "manifest.json")
                if hasattr(outcome.result, "write"):
                    outcome.result.write(str(artifact))
            if artifact.is_file():
                shutil.copy2(artifact, settings.build_dir / BUILD_RESULTS)
            result = _summarise(outcome)
            result.unit_tests_skipped = skipped or None
            if not outcome.success:
                raise TransformFailed(_failure(result, outcome, settings))
            if not skipped:
                parsed.record_unit_tests_passed()
        generated = settings.build_dir / "dbt_target" / "static_index.html"
        generated.unlink(missing_ok=True)  # publish_docs copies only docs this build generated
        if settings.docs and (select is None or not published_docs(settings).is_file()):
            docs = parsed.runner().invoke(["--quiet", "docs", "generate", "--static", *common])
            parsed.keep()
            if not docs.success:
                raise TransformFailed(f"dbt docs generate failed: {docs.exception}")
            result.docs_generated = True
    finally:
        _close_dbt_connections()
    return result


PARSE_CACHE_KEEP = 8  # parsed projects kept (one per code version, as-of date and model list)
#: what the cache keeps of one parse, pruned together: dbt's msgpack, its pickle, the manifest.json a build of it
#: wrote, and the record that its unit tests passed
KEPT_BESIDE_PARSE = (".msgpack", ".pickle", ".manifest.json", ".unit-tests-passed")
DBT_GENERATED = {"target", "logs", "dbt_packages"}


class ParseCache:
    """dbt's parsed project, reused by later builds of the same project, dbt version and vars.

    dbt's own partial parse is void whenever the profile changes, and the profile holds the path of the database
    being built: every warehouse directory (each test's, each checkout's) parsed the project from scratch, about
    6 s. Here the parse is keyed by what it depends on (`_parse_key`: the project's files, dbt's version, the vars
    other than the profile's, the database's name) and handed to dbt as a parsed manifest (dbtRunner(manifest=...),
    dbt's documented way to reuse one); the profile, and so the database path, still come from --vars.
    """

    def __init__(self, settings: Settings, key: str) -> None:
        self.path = settings.dbt_parse_cache / f"{key}.msgpack"
        #: the same parse as a Python object with its flat graph: read in 0.02 s where the msgpack and the graph take
        #: 0.2 s in a fresh process (a revision's build at 10M is about 8 s)
        self.pickled = settings.dbt_parse_cache / f"{key}.pickle"
        self.passed = settings.dbt_parse_cache / f"{key}.unit-tests-passed"
        #: the manifest.json a build of this parse wrote (its nodes' configs, columns and descriptions: the parse's)
        self.manifest_json = settings.dbt_parse_cache / f"{key}.manifest.json"
        self.target = settings.build_dir / "dbt_target"
        self.since = time.time()

    def runner(self) -> Any:
        """A dbtRunner with the cached parse, or one that parses (and leaves its parse in the target folder)."""
        from dbt.cli.main import dbtRunner

        if not self.path.is_file():
            self.since = time.time()
            return dbtRunner()
        # build and docs write manifest.json when they end, as after a parse
        return dbtRunner(manifest=self._manifest())

    def _manifest(self) -> Any:
        """The parse as dbt's Manifest: from its pickle, else from dbt's msgpack (then pickled for the next build).

        The pickle is dbt's own (Manifest.__reduce_ex__, which dbt keeps for copies), of a file this cache wrote,
        under a key that includes dbt's version; one that cannot be read is replaced."""
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.manifest import extended_mashumuro_decoder

        if self.pickled.is_file():
            try:
                return pickle.loads(self.pickled.read_bytes())  # noqa: S301 -- this cache's own file (docstring)
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
                LOG.warning("dbt's kept parse %s could not be read (%s): read from %s", self.pickled, exc, self.path)
        manifest = Manifest.from_msgpack(self.path.read_bytes(), decoder=extended_mashumuro_decoder)
        manifest.build_flat_graph()  # what a parse ends with: the `graph` context some macros read
        _write_atomically(self.pickled, pickle.dumps(manifest, protocol=pickle.HIGHEST_PROTOCOL))
        return manifest

    def unit_tests_passed(self) -> str | None:
        """When a full build of this parse (the same code, dbt and vars) passed its unit tests, in words; else None."""
        if not self.passed.is_file():
            return None
        return f"passed in a build of the same code at {self.passed.read_text(encoding='utf-8').strip()}"

    def record_unit_tests_passed(self) -> None:
        """Record that a full build of this parse passed every unit test (kept beside the parse, pruned with it)."""
        _write_atomically(self.passed, (datetime.now(UTC).isoformat(timespec="seconds") + "\n").encode())

    def keep(self) -> None:
        """Keep the parse dbt just wrote, if it wrote one, and the manifest.json it wrote (atomically: other
        warehouses' builds may share the folder).

        dbt leaves an earlier file in place when its own partial parse found nothing changed, and when parsing
        failed: only a file written since `runner()` is this parse."""
        for written, kept in [
            (self.target / "partial_parse.msgpack", self.path),
            (self.target / "manifest.json", self.manifest_json),
        ]:
            if kept.is_file() or not written.is_file() or written.stat().st_mtime < self.since:
                continue
            if kept == self.manifest_json and not self.path.is_file():
                continue  # a manifest whose parse is not kept: nothing would read it
            _write_atomically(kept, written.read_bytes())
        for stale in sorted(self.path.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime)[:-PARSE_CACHE_KEEP]:
            for suffix in KEPT_BESIDE_PARSE:
                stale.with_suffix(suffix).unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a file of the parse cache whole or not at all (other warehouses' builds may share the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    os.replace(partial, path)


def _parse_key(settings: Settings, dbt_vars: dict[str, Any], db_path: Path) -> str:
    """What dbt's parse depends on: every file of the project, dbt's version, the vars the models read and the
    target (its name and the database's, which dbt writes into every node); not the database's folder."""
    from dbt.version import __version__

    project = settings.dbt_project_dir.resolve()
    digest = hashlib.sha256(json.dumps([__version__, str(project), db_path.stem, dbt_vars], sort_keys=True).encode())
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if path.is_file() and relative.parts[0] not in DBT_GENERATED:
            digest.update(f"{relative}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def observation_models(project_dir: Path) -> list[str]:
    """The staging models whose yml declares `meta: observations`: they join int_observations__published
    (dbt records dependencies before its graph exists, so they reach the model as the var observation_models)."""
    found = []
    for path in sorted((project_dir / "models" / "staging").rglob("*.yml")):
        properties = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
        for model in (properties or {}).get("models") or []:
            if "observations" in ((model.get("config") or {}).get("meta") or {}):
                found.append(model["name"])
    return sorted(found)


_OK = {"success", "pass"}


#: DuckDB's advice after running out of memory ("SET threads=...", "SET memory_limit=..."): a refresh's dbt session
#: takes its limits from unionstat's settings, so the failure says which setting to raise instead.
DUCKDB_MEMORY_ADVICE = re.compile(r"\s*Possible solutions:.*?how_to_tune_workloads\S*", re.DOTALL)


def _failure(result: TransformResult, outcome: Any, settings: Settings) -> str:
    failures = [
        f"{node}: {status}"
        for node, status in result.statuses.items()
        if status not in _OK and not status.startswith("skipped")
    ]
    skipped = sum(status.startswith("skipped") for status in result.statuses.values())
    detail = "; ".join(failures) or str(outcome.exception)
    hint = ""
    if "Out of Memory Error" in detail:
        detail = DUCKDB_MEMORY_ADVICE.sub("", detail)
        hint = (
            f"; DuckDB's memory limit was {settings.duckdb_memory_limit} (UNIONSTAT_DUCKDB_MEMORY_LIMIT, "
            f"or a quarter of UNIONSTAT_MEMORY_LIMIT={settings.memory_limit}): raise UNIONSTAT_MEMORY_LIMIT"
        )
    return f"dbt build failed: {detail} ({skipped} downstream nodes skipped){hint}"


def _summarise(outcome: object) -> TransformResult:
    result = TransformResult()
    run_results = getattr(outcome, "result", None)
    for item in getattr(run_results, "results", None) or []:
        node = item.node
        status = str(getattr(item.status, "value", item.status))
        message = f"{status}: {item.message}" if status not in _OK and item.message else status
        result.statuses[node.unique_id] = message
        resource = str(getattr(node.resource_type, "value", node.resource_type))
        if resource == "model":
            result.models += 1
        elif resource in ("test", "unit_test"):
            result.tests += 1
        elif resource == "seed":
            result.seeds += 1
    return result


def _close_dbt_connections() -> None:
    """dbt-duckdb keeps its DuckDB instance in a class-level environment; close it so the file can be swapped.

    Its own close_all_connections() only drops the reference and leaves the file open until garbage
    collection, so a later connection to the same path would reuse the stale instance.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import cleanup_connections, reset_adapters

    cleanup_connections()
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()
    reset_adapters()


def published_docs(settings: Settings) -> Path:
    return settings.reports_dir / "dbt_docs" / "index.html"


def publish_docs(settings: Settings) -> Path:
    """Copy the single-file dbt docs this build generated into the reports folder (else keep the published)."""
    source = settings.build_dir / "dbt_target" / "static_index.html"
    target = published_docs(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        shutil.copy2(source, target)
    return target


CATALOG_DDL = """
create or replace table ops.catalog (
    relation varchar primary key,
    schema_name varchar not null,
    name varchar not null,
    resource_type varchar not null,
    materialized varchar,
    description varchar,
    column_count integer
);
create or replace table ops.column_catalog (
    relation varchar not null,
    column_name varchar not null,
    description varchar,
    data_type varchar,
    primary key (relation, column_name)
);
"""


def write_catalog(settings: Settings, con: Any) -> int:
    """Copy dbt's documentation of every model and seed into the warehouse (ops.catalog, ops.column_catalog)."""
    manifest_path = settings.build_dir / "dbt_target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    con.execute(CATALOG_DDL)
    nodes = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and n["config"].get("enabled", True)
    ]
    tables, columns = [], []
    for node in nodes:
        relation = f"{node['schema']}.{node['alias'] or node['name']}"
        tables.append(
            [
                relation,
                node["schema"],
                node["name"],
                node["resource_type"],
                node["config"].get("materialized"),
                node.get("description") or None,
                len(node.get("columns", {})),
            ]
        )
        for name, column in node.get("columns", {}).items():
            columns.append([relation, name, column.get("description") or None, column.get("data_type")])
    warehouse.insert_rows(con, "ops.catalog", tables)
    warehouse.insert_rows(con, "ops.column_catalog", columns, conflict="or replace")
    return len(tables)
