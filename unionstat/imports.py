"""Import stage: files a user downloaded by hand become snapshots, then follow the same path as fetches."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from scrapers.base import Connector
from unionstat.errors import UnionstatError
from unionstat.http import ORIGIN_IMPORTED
from unionstat.snapshots import SnapshotStore

LOG = logging.getLogger(__name__)
MAX_IMPORT_BYTES = 1024 * 1024 * 1024


@dataclass
class ImportResult:
    path: str
    source: str
    dataset: str
    sha256: str
    new: bool
    origin: str = ORIGIN_IMPORTED


def import_file(
    con: duckdb.DuckDBPyConnection,
    store: SnapshotStore,
    connectors: list[Connector],
    path: Path,
    run_id: str,
    origin: str = ORIGIN_IMPORTED,
    recording_id: str | None = None,
    url: str | None = None,
) -> ImportResult:
    """Register one file as a snapshot of the first source that recognises its format. `origin` says how the file
    reached us: downloaded by a user ('imported'), or a reference file recorded by a third party."""
    path = path.resolve()
    if not path.is_file():
        raise UnionstatError(f"import: {path} is not a file")
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise UnionstatError(f"import: {path} is larger than {MAX_IMPORT_BYTES} bytes")
    body = path.read_bytes()
    for connector in connectors:
        imported = connector.recognise_import(path, body)
        if imported is None:
            continue
        sha = store.put(imported.body)
        url = url or path.as_uri()
        known = con.execute(
            "select count(*) from raw.snapshots where source = ? and sha256 = ?", [connector.name, sha]
        ).fetchone()
        is_new = not (known and known[0])
        if is_new:
            con.execute(
                "insert into raw.snapshots values (?, ?, ?, ?, ?, ?, null, null, null, ?, ?, ?, ?, ?)",
                [
                    sha,
                    connector.name,
                    imported.dataset,
                    url,
                    origin,
                    datetime.now(UTC),
                    imported.content_type,
                    len(imported.body),
                    imported.release_date,
                    run_id,
                    recording_id,
                ],
            )
        LOG.info("import %s: %s snapshot %s of %s", path, "new" if is_new else "known", sha[:12], connector.name)
        return ImportResult(str(path), connector.name, imported.dataset, sha, is_new, origin)
    formats = "; ".join(c.import_formats for c in connectors if c.import_formats)
    raise UnionstatError(
        f"import: {path} is in no format a connector recognises (tried {', '.join(c.name for c in connectors)}); "
        f"expected {formats or 'a publisher file'}"
    )
