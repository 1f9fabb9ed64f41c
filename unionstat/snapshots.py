"""Content-addressed raw snapshot store: every response kept byte for byte under its sha256."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from filelock import FileLock

from unionstat.errors import UnionstatError

CHUNK_BYTES = 1024 * 1024  # what the store holds of a file at a time, copying or checking it


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class SnapshotStore:
    """Immutable blobs named by their checksum; writing the same bytes twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise UnionstatError(f"snapshot store: expected a lower-case hex sha256, found {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, body: bytes) -> str:
        sha = sha256_of(body)
        if self.path_for(sha).exists():
            return sha
        return self._write((body,))

    def put_file(self, path: Path) -> str:
        """Store the file at `path` byte for byte, read in chunks (its checksum computed from the bytes copied, so
        a file that changes meanwhile is stored as it was read): memory stays flat whatever the file's size."""
        with open(path, "rb") as source:
            return self._write(iter(lambda: source.read(CHUNK_BYTES), b""))

    def _write(self, chunks: Iterable[bytes]) -> str:
        """The one write path of the store: the chunks are hashed as they are written to a temporary file beside
        the blobs, which then takes its checksum's name (an existing blob is kept, the copy dropped)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return sha

    def verified_path(self, sha256: str) -> Path:
        """The stored file, its checksum checked in a streaming pass (for readers that open it themselves)."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise UnionstatError(f"snapshot store: snapshot {sha256} is listed but missing at {path}")
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise UnionstatError(f"snapshot store: {path} does not match its checksum {sha256} (corrupted)")
        return path

    def read(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        if not path.is_file():
            raise UnionstatError(f"snapshot store: snapshot {sha256} is listed but missing at {path}")
        body = path.read_bytes()
        if sha256_of(body) != sha256:
            raise UnionstatError(f"snapshot store: {path} does not match its checksum {sha256} (corrupted)")
        return body


# -- retractions: a journal beside the store, appended to, never edited ---------------------------------------
RETRACTIONS_FILE = "retractions.duckdb"
RETRACTIONS_DDL = """
create table if not exists retractions (
    sha256 varchar not null,
    action varchar not null,
    reason varchar,
    recorded_by varchar not null,
    recorded_at timestamptz not null
)
"""
RETRACT, UNRETRACT = "retract", "unretract"
#: A quarantine lifted (`unionstat unretract` on a quarantined snapshot): the next refresh loads and checks it again.
RELEASE = "release"
#: The fewest hex characters of a sha256 that `unionstat retract` takes for the whole.
MIN_PREFIX = 8


@dataclass(frozen=True)
class Retraction:
    """One entry of the journal: a snapshot withdrawn (`retract`), put back (`unretract`) or let out of quarantine
    (`release`), by whom, when, why."""

    sha256: str
    action: str
    reason: str | None
    recorded_by: str
    recorded_at: datetime


def retractions_path(store_root: Path) -> Path:
    return store_root / RETRACTIONS_FILE


def retraction_journal(store_root: Path) -> list[Retraction]:
    """Every entry, oldest first ([] before the first retraction)."""
    path = retractions_path(store_root)
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select sha256, action, reason, recorded_by, recorded_at from retractions order by recorded_at, rowid"
        ).fetchall()
    finally:
        con.close()
    return [Retraction(*row) for row in rows]


def retracted(journal: list[Retraction]) -> dict[str, Retraction]:
    """The snapshots withdrawn now (each one's latest retraction or unretraction is a retraction), with that entry."""
    latest = {entry.sha256: entry for entry in journal if entry.action in (RETRACT, UNRETRACT)}
    return {sha: entry for sha, entry in latest.items() if entry.action == RETRACT}


def record_retraction(store_root: Path, sha256: str, action: str, reason: str | None) -> Retraction:
    """Append one entry (retract, unretract, or release from quarantine) to the journal: written to a copy and
    swapped in, under a lock of its own, so readers (a refresh taking the journal in) see the old journal or the
    new one. Whether a snapshot is quarantined is the published warehouse's word: the caller checks it."""
    if action not in (RETRACT, UNRETRACT, RELEASE):
        raise UnionstatError(
            f"retraction journal: expected {RETRACT!r}, {UNRETRACT!r} or {RELEASE!r}, found {action!r}"
        )
    SnapshotStore(store_root).path_for(sha256)  # a full lower-case sha256, or a UnionstatError
    entry = Retraction(sha256, action, reason, os_user(), datetime.now(UTC))
    path = retractions_path(store_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        current = retracted(retraction_journal(store_root))
        if action == RETRACT and sha256 in current:
            was = current[sha256]
            raise UnionstatError(
                f"snapshot {sha256[:12]} is already retracted (by {was.recorded_by} at "
                f"{was.recorded_at:%Y-%m-%d %H:%M %Z}: {was.reason})"
            )
        if action == UNRETRACT and sha256 not in current:
            raise UnionstatError(f"snapshot {sha256[:12]} is not retracted; nothing to undo")
        if action == RELEASE and sha256 in current:
            raise UnionstatError(f"snapshot {sha256[:12]} is retracted: `unionstat unretract` it first")
        work = path.with_name(f".{path.name}.writing")
        work.unlink(missing_ok=True)
        if path.exists():
            shutil.copy2(path, work)
        try:
            con = duckdb.connect(str(work))
            try:
                con.execute(RETRACTIONS_DDL)
                con.execute(
                    "insert into retractions values (?, ?, ?, ?, ?)",
                    [entry.sha256, entry.action, entry.reason, entry.recorded_by, entry.recorded_at],
                )
                con.execute("checkpoint")
            finally:
                con.close()
            os.replace(work, path)
        finally:
            work.unlink(missing_ok=True)
    return entry


def os_user() -> str:
    """The operating-system account running this process (from the password database, not the environment)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class SnapshotState:
    """One stored snapshot as `unionstat snapshots` lists it."""

    sha256: str
    source: str
    dataset: str
    origin: str
    state: str  # loaded, quarantined, released (from quarantine, not loaded yet), retracted, or pending
    detail: str


def snapshot_states(published_db: Path, store_root: Path) -> list[SnapshotState]:
    """Every snapshot of the published warehouse with its state: retracted (the journal's word, even before the
    next refresh takes it in), else quarantined (unless a release was recorded after it), else loaded, else released
    (from quarantine: the next refresh loads and checks it again), else pending."""
    journal = retraction_journal(store_root)
    withdrawn = retracted(journal)
    releases = {entry.sha256: entry for entry in journal if entry.action == RELEASE}
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        tables = {
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        }
        quarantine: dict[str, tuple[str, datetime]] = (
            {
                sha: (reason, at)
                for sha, reason, at in con.execute(
                    "select sha256, arg_max(reason, quarantined_at), max(quarantined_at) "
                    "from raw.snapshot_quarantine group by 1"
                ).fetchall()
            }
            if "snapshot_quarantine" in tables
            else {}
        )
        in_build = set()
        if "snapshot_retractions" in tables:
            in_build = {
                sha
                for (sha,) in con.execute(
                    "select sha256 from raw.snapshot_retractions qualify row_number() over "
                    "(partition by sha256 order by recorded_at desc) = 1 and action = 'retract'"
                ).fetchall()
            }
        rows = con.execute(
            "select s.sha256, s.source, arg_min(s.dataset, s.fetched_at), arg_min(s.origin, s.fetched_at), "
            "exists (select 1 from raw.loads l where l.sha256 = s.sha256) "
            "from raw.snapshots s group by s.sha256, s.source order by s.source, min(s.fetched_at), s.sha256"
        ).fetchall()
    finally:
        con.close()
    states = []
    for sha, source, dataset, origin, loaded in rows:
        if sha in withdrawn:
            entry = withdrawn[sha]
            when = "" if sha in in_build else "; its rows leave the marts at the next refresh"
            detail = f"by {entry.recorded_by} at {entry.recorded_at:%Y-%m-%d %H:%M %Z}: {entry.reason}{when}"
            state = "retracted"
        elif sha in quarantine and not _lifted(releases.get(sha), quarantine[sha]):
            state, detail = "quarantined", str(quarantine[sha][0])
        elif loaded:
            state = "loaded"
            detail = "" if sha not in in_build else "unretracted; its rows return at the next refresh"
        elif sha in quarantine:
            entry = releases[sha]
            state = "released"
            detail = (
                f"from quarantine by {entry.recorded_by} at {entry.recorded_at:%Y-%m-%d %H:%M %Z}: {entry.reason}; "
                "loads and is checked again at the next refresh"
            )
        else:
            state, detail = "pending", "stored, loads at the next refresh"
        states.append(SnapshotState(sha, source, dataset, origin, state, detail))
    return states


def _lifted(release: Retraction | None, quarantine: tuple[str, datetime]) -> bool:
    """A release recorded after the snapshot's latest quarantine lifts it (a later quarantine holds again)."""
    return release is not None and release.recorded_at > quarantine[1]


def resolve(prefix: str, known: list[str]) -> str:
    """The one known sha256 that starts with `prefix` (lower-case hex, at least MIN_PREFIX characters)."""
    prefix = prefix.lower()
    if not (MIN_PREFIX <= len(prefix) <= 64) or any(c not in "0123456789abcdef" for c in prefix):
        raise UnionstatError(
            f"expected a snapshot's sha256 or its first {MIN_PREFIX}+ hex characters "
            f"(`unionstat snapshots` lists them), found {prefix!r}"
        )
    matches = sorted({sha for sha in known if sha.startswith(prefix)})
    if not matches:
        raise UnionstatError(f"no snapshot {prefix} in the published warehouse (`unionstat snapshots` lists them)")
    if len(matches) > 1:
        raise UnionstatError(
            f"{prefix} names {len(matches)} snapshots ({', '.join(m[:16] for m in matches)}); give more"
        )
    return matches[0]
