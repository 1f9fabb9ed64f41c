"""The refresh flow: fetch or import -> parse and load -> validate -> dbt build -> publish, under one lock."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import TaskRun
from prefect.futures import PrefectFuture, as_completed
from prefect.states import State

import scrapers
from unionstat import analysis_report, dq, fetch, imports, load, memory, progress, transform, validate, warehouse
from unionstat import report as dq_report
from unionstat.errors import StageFailed, UnionstatError
from unionstat.http import ORIGIN_RECORDED, HttpClient, Reference
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore, retraction_journal

STAGES = ("lock", "prepare", "import", "fetch", "load", "validate", "transform", "publish")


@dataclass
class RunSummary:
    """What one refresh did, for the terminal, the Prefect artifact and ops.runs."""

    run_id: str
    mode: str
    as_of: str | None
    started_at: str
    status: str = "running"
    failed_stage: str | None = None
    error: str | None = None
    new_snapshots: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    not_recorded: dict[str, list[str]] = field(default_factory=dict)
    imported: list[dict[str, Any]] = field(default_factory=list)
    #: The reference snapshot's real files taken in by an offline run (origin recorded_third_party).
    recorded: list[dict[str, Any]] = field(default_factory=list)
    failed_sources: dict[str, str] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    expectations_passed: int = 0
    expectations_failed: int = 0
    dbt_models: int = 0
    dbt_tests: int = 0
    expectation_warnings: list[str] = field(default_factory=list)
    quarantined_rows: int = 0
    finished_at: str | None = None
    published: str | None = None
    data_docs: str | None = None
    dbt_docs: str | None = None
    dq_report: str | None = None
    inputs_fingerprint: str | None = None
    code_fingerprint: str | None = None
    build_selection: str | None = None
    #: Why everything was rebuilt (no published build, other code, another as-of date); None for a selective build.
    rebuild_reason: str | None = None
    dbt_docs_generated: bool | None = None
    #: Why the build ran no dbt unit tests (a selective build; passed before for the same code); None: they ran.
    dbt_unit_tests_skipped: str | None = None
    stage_timings: list[dict[str, Any]] = field(default_factory=list)
    #: Snapshots withdrawn with `unionstat retract` when this run started (their rows are left out of the marts).
    retracted: list[str] = field(default_factory=list)
    #: Per source, the snapshots this run put in quarantine (they failed to parse, or a critical expectation at the
    #: publish gate; never loaded again).
    quarantined: dict[str, list[str]] = field(default_factory=dict)
    #: Subjects whose newest snapshot's layout differs from the one before (dq.layout_changes): reported, and the
    #: rows still pass the critical expectations before they publish.
    layout_changes: list[dict[str, Any]] = field(default_factory=list)

    def enter(self, stage: str) -> str:
        """Close the running stage's timing and open `stage`'s (wall clock, epoch seconds)."""
        now = time.time()
        if self.stage_timings:
            last = self.stage_timings[-1]
            last["seconds"] = round(now - last["started"], 3)
        self.stage_timings.append({"stage": stage, "started": now, "seconds": None})
        return stage

    def close_timings(self) -> None:
        if self.stage_timings and self.stage_timings[-1]["seconds"] is None:
            last = self.stage_timings[-1]
            last["seconds"] = round(time.time() - last["started"], 3)

    def markdown(self) -> str:
        lines = [
            f"# unionstat refresh {self.run_id}",
            f"status **{self.status}**, mode {self.mode}, as of {self.as_of or 'newest'}",
        ]
        if self.error:
            lines.append(f"\nfailed in stage `{self.failed_stage}`: {self.error}")
        lines.append("\n| source | new snapshots | unchanged | not recorded | error |\n|---|---|---|---|---|")
        for source in sorted(set(self.new_snapshots) | set(self.failed_sources) | set(self.unchanged)):
            lines.append(
                f"| {source} | {self.new_snapshots.get(source, 0)} | {self.unchanged.get(source, 0)} | "
                f"{len(self.not_recorded.get(source, []))} | {self.failed_sources.get(source, '')} |"
            )
        lines.append(f"\nrows loaded: {self.rows_loaded or 'none'}")
        lines.append(f"expectations: {self.expectations_passed} passed, {self.expectations_failed} failed")
        docs: dict[bool | None, str] = {
            True: "; docs generated",
            False: "; docs kept from the published build (same code)",
        }
        skipped, everything = self.dbt_unit_tests_skipped, self.build_selection == "everything"
        unit = f"; unit tests {skipped}" if skipped and everything else ""
        lines.append(
            f"dbt: {self.dbt_models} models, {self.dbt_tests} tests "
            f"(built: {self.build_selection}{docs.get(self.dbt_docs_generated, '')}{unit})"
        )
        timings = ", ".join(f"{t['stage']} {t['seconds']} s" for t in self.stage_timings if t["seconds"] is not None)
        lines.append(f"stage wall times: {timings or 'none'}")
        return "\n".join(lines)


@task(name="import-files", cache_policy=NONE)
def import_task(settings: Settings, paths: list[str], run_id: str) -> list[dict[str, Any]]:
    store = SnapshotStore(settings.snapshot_dir)
    connectors = scrapers.all_connectors(settings)
    with warehouse.connection(settings.build_db, settings=settings) as con:
        return [asdict(imports.import_file(con, store, connectors, Path(p), run_id)) for p in paths]


@task(name="take-in-reference-files", cache_policy=NONE)
def reference_files_task(settings: Settings, sources: list[str], run_id: str) -> list[dict[str, Any]]:
    """Offline default: the reference snapshot's real publisher files (recorded by third parties) are taken in
    through the import path, each with its origin and manifest entry; known files add nothing. A file its
    connector cannot take in fails that source only (an entry with an `error`), like a failed fetch: none of that
    source's reference files of this run is kept."""
    reference = Reference.load(settings.reference_dir)
    store = SnapshotStore(settings.snapshot_dir)
    taken: list[dict[str, Any]] = []
    with warehouse.connection(settings.build_db, settings=settings) as con:
        for item in reference.files:
            if item.source not in sources:
                continue
            url = "unionstat-reference:" + item.path.relative_to(reference.root).as_posix()
            try:
                result = imports.import_file(
                    con,
                    store,
                    [scrapers.connector(item.source, settings)],
                    item.path,
                    run_id,
                    origin=ORIGIN_RECORDED,
                    recording_id=item.id,
                    url=url,
                )
            except UnionstatError as exc:
                taken.append({"source": item.source, "path": url, "new": False, "error": str(exc)})
                continue
            taken.append(asdict(result) | {"path": url})
        for failed in {t["source"] for t in taken if t.get("error")}:
            # like a failed fetch, a failed source keeps none of this run's reference files (they come again)
            con.execute(
                "delete from raw.snapshots where source = ? and run_id = ? and recording_id is not null",
                [failed, run_id],
            )
            for entry in taken:
                if entry["source"] == failed:
                    entry["new"] = False
    return taken


def worth_retrying(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's retry_condition_fn for fetch-source: retry only a failure that may pass on its own (a
    `TransientError`, see unionstat.http for who retries what); never a 404, a robots refusal, the size cap, a
    parse error, a failure the HTTP layer already retried, or a bug."""
    try:
        state.result()
    except fetch.FetchFailed as exc:
        return exc.transient
    except Exception:  # anything else cannot pass by running the same code again
        return False
    return False


@task(name="fetch-source", cache_policy=NONE, retry_condition_fn=worth_retrying)
def fetch_task(settings: Settings, source: str, run_id: str) -> fetch.FetchResult:
    connector = scrapers.connector(source, settings)
    store = SnapshotStore(settings.snapshot_dir)
    http = HttpClient(settings)
    try:
        with warehouse.connection(settings.build_db, settings=settings) as con:
            result = fetch.fetch_source(con, store, http, connector, run_id)
    finally:
        http.close()
    if result.failed:
        raise fetch.FetchFailed(result)
    return result


def fetch_with_retries(settings: Settings) -> Task[[Settings, str, str], fetch.FetchResult]:
    """fetch-source with the orchestrator's retries: one per UNIONSTAT_FETCH_RETRY_DELAYS_S value."""
    delays = list(settings.fetch_retry_delays_s)
    return fetch_task.with_options(retries=len(delays), retry_delay_seconds=delays or 0)


@task(name="prepare-build", cache_policy=NONE)
def prepare_task(settings: Settings) -> list[str]:
    """The build beside the published file, with the core and raw schemas, this run's registry and the snapshot
    store's retraction journal; returns the snapshots retracted now."""
    if settings.mode == "replay":
        Reference.load(settings.reference_dir)  # a missing or broken reference fails here, by name
    warehouse.begin_build(settings)
    (settings.build_dir / transform.BUILD_RESULTS).unlink(missing_ok=True)
    connectors = scrapers.all_connectors(settings)
    with warehouse.connection(settings.build_db, settings=settings) as con:
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        warehouse.write_sources(con, [c.config for c in connectors])
        return warehouse.write_retractions(con, retraction_journal(settings.snapshot_dir))


@task(name="parse-and-load", cache_policy=NONE)
def load_task(settings: Settings, sources: list[str], run_id: str) -> load.LoadResult:
    connectors = [scrapers.connector(name, settings) for name in sources]
    with warehouse.connection(settings.build_db, settings=settings) as con:
        loaded = load.load_pending(con, SnapshotStore(settings.snapshot_dir), connectors, run_id)
        loaded.layout_changes = dq.layout_changes(con, [sha for shas in loaded.snapshots.values() for sha in shas])
        return loaded


@task(name="validate-raw", cache_policy=NONE)
def validate_task(settings: Settings, new_rows: dict[str, list[str]], run_id: str) -> validate.ValidationReport:
    with warehouse.connection(settings.build_db, settings=settings) as con:
        return validate.validate_new_rows(settings, con, new_rows, run_id)


@task(name="quarantine-snapshots", cache_policy=NONE)
def quarantine_task(settings: Settings, reasons: dict[str, str], run_id: str) -> dict[str, tuple[str, dict[str, int]]]:
    """The snapshots a critical expectation blamed: quarantined, their rows out of the build's raw tables."""
    with warehouse.connection(settings.build_db, settings=settings) as con:
        return load.quarantine_loaded(con, scrapers.all_connectors(settings), reasons, run_id)


@task(name="dbt-build", cache_policy=NONE)
def transform_task(settings: Settings, as_of: str | None, select: list[str] | None) -> transform.TransformResult:
    return transform.dbt_build(settings, settings.build_db, as_of=as_of, select=select)


@task(name="publish", cache_policy=NONE)
def publish_task(settings: Settings, summary: RunSummary) -> str:
    with warehouse.connection(settings.build_db, settings=settings) as con:
        transform.write_catalog(settings, con)
        con.execute(
            "insert into ops.runs values (?, ?, ?, ?, ?, ?)",
            [summary.run_id, summary.started_at, datetime.now(UTC), summary.mode, summary.as_of, None],
        )
        con.execute("update ops.runs set summary = ? where run_id = ?", [json.dumps(asdict(summary)), summary.run_id])
        con.execute("checkpoint")
    published = warehouse.publish(settings)
    transform.publish_docs(settings)
    return str(published)


@flow(name="refresh", log_prints=False)
def refresh(
    sources: list[str] | None = None,
    live: bool = False,
    import_paths: list[str] | None = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Refresh the warehouse: every stage on a build beside the published file, which is swapped in at the end."""
    run = Run.start(Settings.from_env(), sources, live, import_paths or [], as_of)
    with contextlib.ExitStack() as held:  # the writer lock, held until the run is recorded
        try:
            run.summary.enter("lock")
            held.enter_context(warehouse.writer_lock(run.settings, run.run_id))
            _prepare(run)
            _take_in(run)
            _fetch(run)
            _load(run)
            if _inputs_unchanged(run):  # the one early exit: the published warehouse is already this build
                _keep_published(run)
            else:
                _validate_raw(run)
                _transform(run)
                _publish(run)
        except Exception as exc:
            raise _failed(run, exc) from exc
        _record(run.settings, run.summary, run.report)
    if run.summary.status != "unchanged":
        _artifacts(run.summary)
    return asdict(run.summary)


@dataclass
class Run:
    """One refresh under way: what it was asked to do and what its stages found so far."""

    settings: Settings
    summary: RunSummary
    sources: list[str]
    import_paths: list[str]
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)
    loaded: load.LoadResult = field(default_factory=load.LoadResult)
    previous: dict[str, Any] = field(default_factory=dict)
    select: list[str] | None = None

    @classmethod
    def start(
        cls, settings: Settings, sources: list[str] | None, live: bool, import_paths: list[str], as_of: str | None
    ) -> Run:
        """The run's settings (--live wins over UNIONSTAT_MODE), its sources (all, unless only files are imported)
        and a fresh summary; an unknown source stops it before anything is touched."""
        settings = settings.with_mode("live" if live else settings.mode)
        known = scrapers.registry()
        sources = ([] if import_paths else list(known)) if sources is None else sources
        unknown = sorted(set(sources) - set(known))
        if unknown:
            raise UnionstatError(f"unknown source(s) {unknown}; known: {sorted(known)}")
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        summary = RunSummary(run_id=run_id, mode=settings.mode, as_of=as_of, started_at=datetime.now(UTC).isoformat())
        return cls(settings, summary, sources, import_paths)

    @property
    def run_id(self) -> str:
        return self.summary.run_id


# -- the stages, in order: each enters its stage and runs its task ------------------------------------------
def _prepare(run: Run) -> None:
    run.summary.enter("prepare")
    run.summary.retracted = prepare_task(run.settings)
    _done(
        run,
        "prepare",
        "a build beside the published warehouse" + (f", as of {run.summary.as_of}" if run.summary.as_of else ""),
    )


def _take_in(run: Run) -> None:
    """Files imported by hand, and offline the reference snapshot's real files (a file that cannot be taken in
    fails its source only)."""
    run.summary.enter("import")
    if run.import_paths:
        run.summary.imported = import_task(run.settings, run.import_paths, run.run_id)
    if run.settings.mode == "replay" and run.sources:
        run.summary.recorded = reference_files_task(run.settings, run.sources, run.run_id)
        for item in run.summary.recorded:
            if item.get("error"):
                run.summary.failed_sources.setdefault(item["source"], item["error"])
    taken = [*run.summary.imported, *run.summary.recorded]
    if taken:
        new = sum(bool(t.get("new")) for t in taken)
        _done(run, "import", f"{progress.plural(len(taken), 'file')} taken in, {new} new")


def _fetch(run: Run) -> None:
    """Each source in its own task run, up to UNIONSTAT_FETCH_CONCURRENCY of them at once: a failing source is
    isolated, the others go on. A source is one publisher and its requests are made one after another (each task's
    HTTP client keeps its own pace per host), so a refresh never asks a publisher two things at once. The progress
    lines and the summary follow the order of the sources, whatever order their fetches end in."""
    summary = run.summary
    summary.enter("fetch")
    fetch_source = fetch_with_retries(run.settings)
    order = [s for s in run.sources if s not in summary.failed_sources]
    waiting, running = list(order), dict[PrefectFuture[fetch.FetchResult], str]()
    started: dict[str, float] = {}
    ended: dict[str, tuple[State[fetch.FetchResult], float]] = {}
    while waiting or running:
        while waiting and len(running) < run.settings.fetch_concurrency:
            source = waiting.pop(0)
            started[source] = time.monotonic()
            running[fetch_source.submit(run.settings, source, run.run_id)] = source
        future = next(as_completed(list(running)))
        future.wait()  # its final state, as the task runner returned it
        source = running.pop(future)
        ended[source] = (future.state, time.monotonic() - started[source])
        while order and order[0] in ended:  # report in the sources' order, as soon as the earlier ones are done
            first = order.pop(0)
            _fetched(summary, first, *ended[first])
    _stop_if_every_source_failed(run)


def _load(run: Run) -> None:
    summary = run.summary
    summary.enter("load")
    imported = {i["source"] for i in summary.imported}
    run.loaded = load_task(run.settings, sorted({*run.sources, *imported} - set(summary.failed_sources)), run.run_id)
    summary.rows_loaded = run.loaded.rows
    summary.failed_sources.update(run.loaded.errors)
    summary.quarantined = run.loaded.quarantined
    summary.layout_changes = run.loaded.layout_changes
    tables = {table: name for name, config in scrapers.registry().items() for table in config.raw_tables}
    for source in sorted({tables.get(t, t) for t in run.loaded.rows} | set(run.loaded.errors)):
        rows = sum(n for t, n in run.loaded.rows.items() if tables.get(t, t) == source)
        error = run.loaded.errors.get(source)
        progress.line("load", f"FAILED: {error}" if error else f"{progress.plural(rows, 'row')} loaded", source=source)
    _done(
        run,
        "load",
        f"{progress.plural(sum(run.loaded.rows.values()), 'row')} "
        f"in {progress.plural(len(run.loaded.rows), 'raw table')}",
    )
    _stop_if_every_source_failed(run)


def _inputs_unchanged(run: Run) -> bool:
    """Same snapshots, same code, same as-of date as the published build (and no source failed)."""
    summary = run.summary
    summary.code_fingerprint = code_fingerprint(run.settings)
    summary.inputs_fingerprint = inputs_fingerprint(run.settings, summary.as_of, summary.code_fingerprint)
    run.previous = published_summary(run.settings)
    return summary.inputs_fingerprint == run.previous.get("inputs_fingerprint") and not summary.failed_sources


def _keep_published(run: Run) -> None:
    run.summary.status = "unchanged"
    warehouse.discard_build(run.settings)
    run.summary.published = str(run.settings.published_db)
    run.summary.dbt_docs = str(transform.published_docs(run.settings))
    get_run_logger().info("refresh %s: inputs unchanged, nothing to rebuild", run.run_id)
    progress.line("publish", "nothing changed: the published warehouse stays as it is")


def _validate_raw(run: Run) -> None:
    run.summary.enter("validate")
    try:
        _gate(run, validate_task(run.settings, run.loaded.snapshots, run.run_id))
    finally:
        warned = len(run.report.warnings)
        critical = len(run.report.failed) - warned
        _done(
            run,
            "validate",
            f"{progress.plural(run.report.passed, 'expectation')} passed, {progress.plural(warned, 'warning')}"
            + (f", {critical} critical" if critical else ""),
        )


def _transform(run: Run) -> None:
    summary = run.summary
    summary.enter("transform")
    changed = sorted(n for n, c in scrapers.registry().items() if set(c.raw_tables) & set(run.loaded.snapshots))
    run.select = build_selection(run.previous, summary, changed)
    summary.build_selection = "everything" if run.select is None else " ".join(run.select) or "nothing"
    summary.rebuild_reason = rebuild_reason(run.previous, summary) if run.select is None else None
    get_run_logger().info("dbt build selection: %s", summary.build_selection)
    progress.line(
        "transform",
        f"dbt build: {summary.build_selection}" + (f" ({summary.rebuild_reason})" if summary.rebuild_reason else ""),
    )
    built = transform_task(run.settings, summary.as_of, run.select)
    summary.dbt_models, summary.dbt_tests = built.models, built.tests
    summary.dbt_docs_generated = built.docs_generated
    summary.dbt_unit_tests_skipped = built.unit_tests_skipped
    _done(run, "transform", f"{progress.plural(built.models, 'model')}, {progress.plural(built.tests, 'test')}")


def _publish(run: Run) -> None:
    summary, settings = run.summary, run.settings
    summary.enter("publish")
    summary.status = "partial" if summary.failed_sources else "published"
    summary.published = publish_task(settings, summary)
    summary.dbt_docs = str(transform.published_docs(settings))
    docs_index = settings.reports_dir / "data_docs" / "index.html"
    summary.data_docs = str(docs_index) if docs_index.is_file() else None
    _write_analysis_report(settings)
    get_run_logger().info("refresh %s %s", run.run_id, summary.status)
    _done(run, "publish", f"the warehouse is swapped in ({summary.status})")


def _done(run: Run, stage: str, text: str) -> None:
    """A stage ends: the memory it freed goes back to the system (the next stage does not start on top of it), and
    its progress line says what it did and how long it took so far."""
    memory.give_back()
    progress.line(stage, text, time.time() - run.summary.stage_timings[-1]["started"])


def _fetched(summary: RunSummary, source: str, state: State[fetch.FetchResult], seconds: float) -> None:
    """A source's fetch, ended: into the summary and a progress line."""
    if state.is_failed():
        summary.failed_sources[source] = str(state.message or "failed")
        progress.line("fetch", f"FAILED: {summary.failed_sources[source]}", seconds, source)
        return
    result = state.result()
    recorded = [r for r in summary.recorded if r["source"] == source]
    new = summary.new_snapshots[source] = len(result.new) + sum(r["new"] for r in recorded)
    unchanged = summary.unchanged[source] = result.unchanged + sum(not r["new"] for r in recorded)
    if result.not_recorded:
        summary.not_recorded[source] = result.not_recorded
    text = f"{progress.plural(new, 'new snapshot')}, {unchanged} unchanged"
    gaps = len(result.not_recorded)
    text += f", {progress.plural(gaps, 'request')} not in the reference snapshot" if gaps else ""
    progress.line("fetch", text, seconds, source)


def _failed(run: Run, exc: Exception) -> StageFailed:
    """A failing stage aborts the run: recorded (unless it never got the lock), the build discarded."""
    summary = run.summary
    stage = summary.stage_timings[-1]["stage"]
    summary.status, summary.failed_stage, summary.error = "failed", stage, str(exc)
    if stage != "lock":
        _record(run.settings, summary, run.report)
        warehouse.discard_build(run.settings)
    get_run_logger().error("refresh %s failed in stage %s: %s", run.run_id, stage, exc)
    return StageFailed(stage, str(exc))


def _stop_if_every_source_failed(run: Run) -> None:
    """Every source asked for failed to fetch or to parse (and no file was imported): nothing new to publish."""
    failed = run.summary.failed_sources
    if run.sources and set(run.sources) <= set(failed) and not run.import_paths:
        raise UnionstatError("every source failed: " + "; ".join(failed.values()))


def _gate(run: Run, report: validate.ValidationReport) -> None:
    """Add a validation's results to the run's; the publish gate. The snapshots behind a critical failure are
    quarantined (`blame`): their rows leave the build, their source fails for this run, the others go on (the run
    stops if no source is left). A critical failure no snapshot can be blamed for stops the run."""
    run.report.extend(report)
    _count(run.summary, run.report)
    reasons = blame(report)
    if reasons:
        _quarantine_blamed(run, reasons)
    validate.ValidationReport([o for o in report.critical_failures if not o.snapshots]).gate()


GATE_REASON = "failed a critical check at the publish gate: "


def blame(report: validate.ValidationReport) -> dict[str, str]:
    """The snapshots behind each critical failure, with the reason (sha256 -> reason): the snapshots of its failing
    rows (every quarantined row names its snapshot); for a check on the whole table (row count, columns, a type),
    or a failing row without a snapshot, every snapshot this run loaded into the table (`outcome.snapshots`).
    Warnings blame nobody."""
    reasons: dict[str, list[str]] = {}
    for outcome in report.critical_failures:
        rows = [
            q
            for q in report.quarantined
            if (q["table"], q["expectation_type"], q["column"], q["severity"])
            == (outcome.table, outcome.expectation_type, outcome.column, outcome.severity)
        ]
        named = [q.get("snapshot_sha256") for q in rows]
        whole_table = not rows or not all(isinstance(sha, str) and sha for sha in named)
        shas = set(outcome.snapshots) if whole_table else {str(sha) for sha in named}
        for sha in sorted(shas):
            reasons.setdefault(sha, []).append(outcome.describe())
    return {
        sha: GATE_REASON + found[0] + (f" (and {len(found) - 1} more critical)" if len(found) > 1 else "")
        for sha, found in reasons.items()
    }


def _quarantine_blamed(run: Run, reasons: dict[str, str]) -> None:
    """Quarantine the blamed snapshots: out of the build's raw tables and of what this run loaded, their source
    failed for this run (and not loaded again by later ones); the run's inputs fingerprint is taken again, so the
    next refresh with nothing new finds the published build current."""
    summary, loaded = run.summary, run.loaded
    taken = quarantine_task(run.settings, reasons, run.run_id)
    for sha, (source, rows) in sorted(taken.items()):
        for table, count in rows.items():
            if table in loaded.snapshots:
                loaded.snapshots[table] = [s for s in loaded.snapshots[table] if s != sha]
                loaded.rows[table] = loaded.rows.get(table, 0) - count
                if not loaded.snapshots[table]:
                    del loaded.snapshots[table], loaded.rows[table]
        summary.quarantined.setdefault(source, []).append(sha)
        message = f"snapshot {sha[:12]} quarantined: {reasons[sha]}"
        before = summary.failed_sources.get(source)
        summary.failed_sources[source] = f"{before}; {message}" if before else message
        progress.line("validate", f"FAILED: {message}", source=source)
    summary.rows_loaded = loaded.rows
    summary.inputs_fingerprint = inputs_fingerprint(run.settings, summary.as_of, summary.code_fingerprint or "")
    _stop_if_every_source_failed(run)


def _artifacts(summary: RunSummary) -> None:
    create_markdown_artifact(key="refresh-summary", markdown=summary.markdown(), description="unionstat refresh")
    create_table_artifact(
        key="refresh-sources",
        table=[
            {
                "source": source,
                "new_snapshots": summary.new_snapshots.get(source, 0),
                "unchanged": summary.unchanged.get(source, 0),
                "not_recorded": len(summary.not_recorded.get(source, [])),
                "error": summary.failed_sources.get(source, ""),
            }
            for source in sorted(set(summary.new_snapshots) | set(summary.failed_sources))
        ],
        description="per-source fetch results",
    )


FINGERPRINTED = ("dbt_project", "expectations", "scrapers", "unionstat", "flows")
FINGERPRINT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".json", ".py"}


def code_fingerprint(settings: Settings) -> str:
    """The code and configuration a build depends on: models, suites, connectors, stages, flows."""
    digest = hashlib.sha256()
    for folder in FINGERPRINTED:
        for path in sorted((settings.project_root / folder).rglob("*")):
            if path.is_file() and path.suffix in FINGERPRINT_SUFFIXES and not _generated(path, settings):
                digest.update(str(path.relative_to(settings.project_root)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def inputs_fingerprint(settings: Settings, as_of: str | None, code: str) -> str:
    """What a build depends on: every loaded snapshot, the retracted ones, the code fingerprint and the as-of date."""
    digest = hashlib.sha256(f"as_of={as_of}\ncode={code}\n".encode())
    with warehouse.connection(settings.build_db, read_only=True, settings=settings) as con:
        for sha, table in con.execute("select sha256, raw_table from raw.loads order by 1, 2").fetchall():
            digest.update(f"{table}:{sha}\n".encode())
        for sha in sorted(warehouse.retracted_now(con)):
            digest.update(f"retracted:{sha}\n".encode())
    return digest.hexdigest()


def build_selection(previous: dict[str, Any], summary: RunSummary, changed_sources: list[str]) -> list[str] | None:
    """dbt selectors for what this run changed: everything downstream of each source with new rows.

    The build starts as a copy of the published warehouse, so relations no changed source feeds are already
    current, as long as the published build came from the same code, the same as-of date and the same retracted
    snapshots (a retraction removes rows the incremental models hold). Otherwise (or with nothing published)
    everything is rebuilt (None).
    """
    same_code = summary.code_fingerprint is not None and previous.get("code_fingerprint") == summary.code_fingerprint
    same_retractions = sorted(previous.get("retracted", [])) == sorted(summary.retracted)
    if not same_code or previous.get("as_of") != summary.as_of or not same_retractions:
        return None
    return [f"source:{name}+" for name in changed_sources]


def rebuild_reason(previous: dict[str, Any], summary: RunSummary) -> str:
    """Why a build rebuilds everything, in words: the reason `build_selection` found no narrower selection."""
    if not previous:
        return "nothing published yet"
    if previous.get("code_fingerprint") != summary.code_fingerprint:
        return "the code changed since the published build"
    if previous.get("as_of") != summary.as_of:
        before, now = previous.get("as_of") or "newest releases", summary.as_of or "newest releases"
        return f"the as-of date changed: {before} -> {now}"
    return "a full build was asked for"


def _generated(path: Path, settings: Settings) -> bool:
    parts = path.relative_to(settings.project_root).parts
    return "__pycache__" in parts or parts[:2] in {("dbt_project", "target"), ("dbt_project", "logs")}


def published_summary(settings: Settings) -> dict[str, Any]:
    """The summary of the run that built the published warehouse ({} when nothing is published)."""
    if not settings.published_db.exists():
        return {}
    with warehouse.connection(settings.published_db, read_only=True, settings=settings) as con:
        row = con.execute("select summary from ops.runs order by published_at desc limit 1").fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def _count(summary: RunSummary, report: validate.ValidationReport) -> None:
    summary.expectations_passed = report.passed
    summary.expectations_failed = len(report.failed)
    summary.expectation_warnings = [o.describe() for o in report.warnings]
    summary.quarantined_rows = len(report.quarantined)
    summary.data_docs = str(report.docs_index) if report.docs_index else summary.data_docs


def _write_analysis_report(settings: Settings) -> None:
    """The analysts' report, from the warehouse just published; a failure is logged and never fails the refresh."""
    try:
        path = analysis_report.write_analysis_report(settings)
    except Exception as exc:  # the publish already happened: the report must not undo or fail it
        get_run_logger().error("the analysis report could not be written: %s: %s", type(exc).__name__, exc)
    else:
        get_run_logger().info("analysis report: %s", path)


def _record(settings: Settings, summary: RunSummary, report: validate.ValidationReport) -> None:
    """Every run, failed ones too, goes to the data-quality history beside the warehouse, then the report."""
    summary.close_timings()
    summary.finished_at = datetime.now(UTC).isoformat()
    dbt_results = dq.read_dbt_results(settings.build_dir / transform.BUILD_RESULTS)
    dq.record_run(settings, asdict(summary), report.outcomes, report.quarantined, dbt_results)
    summary.dq_report = str(dq_report.render(settings))
    dq.notify(settings, json.loads(json.dumps(asdict(summary), default=str)))
