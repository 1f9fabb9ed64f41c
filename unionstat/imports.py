"""Import stage: files a user downloaded by hand become snapshots, then follow the same path as fetches."""

from __future__ import annotations

import logging
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from scrapers.base import Connector
from unionstat.errors import LimitExceeded, SourceError, UnionstatError
from unionstat.http import ORIGIN_IMPORTED
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

LOG = logging.getLogger(__name__)
#: The first bytes of formats that are not lines of text: a zip (XLSX too) and an OLE2 compound file (legacy XLS).
BINARY_MAGIC = (b"PK", b"\xd0\xcf\x11\xe0")
TEXT_SNIFF_BYTES = 64 * 1024
UNPACK_CHUNK_BYTES = 1024 * 1024


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
    settings = connectors[0].settings if connectors else Settings.from_env()
    check_limits(path, settings)
    for connector in connectors:
        imported = connector.recognise_import(path)
        if imported is None:
            continue
        sha = store.put_file(path)  # the file as given, copied in chunks: memory does not grow with its size
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
                    path.stat().st_size,
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


def check_limits(path: Path, settings: Settings) -> None:
    """Refuse, by the limit's name, a file too large, a zip that unpacks past the cap (a zip bomb, honest or lying
    about its sizes) or a text with a line too long, before any connector reads it: a connector that tries a
    format would otherwise report the refusal as a format it does not recognise."""
    size = path.stat().st_size
    if size > settings.max_import_bytes:
        raise LimitExceeded(
            "import", str(path), "a file", settings.max_import_bytes, f"{size} bytes", "UNIONSTAT_MAX_IMPORT_BYTES"
        )
    with open(path, "rb") as handle:
        head = handle.read(TEXT_SNIFF_BYTES)
    if head.startswith(BINARY_MAGIC[0]):
        _check_unpacked(path, settings.max_unpacked_bytes)
    elif not head.startswith(BINARY_MAGIC[1]) and b"\0" not in head:
        _check_lines(path, settings.max_line_bytes)


def _check_unpacked(path: Path, cap: int) -> None:
    """Every member of a zip, unpacked as a stream: the declared sizes first, then the bytes as they come."""

    def refuse(found: str) -> LimitExceeded:
        return LimitExceeded("import", str(path), "a zip unpacking to", cap, found, "UNIONSTAT_MAX_UNPACKED_BYTES")

    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return  # not a zip after all: the connectors say what they expected
    with archive:
        declared = sum(member.file_size for member in archive.infolist())
        if declared > cap:
            raise refuse(f"{declared} bytes declared by its members (a zip bomb?)")
        unpacked = 0
        for member in archive.infolist():
            try:
                with archive.open(member) as data:
                    while chunk := data.read(UNPACK_CHUNK_BYTES):
                        unpacked += len(chunk)
                        if unpacked > cap:
                            raise refuse(f"more than {cap} bytes while its members declare {declared} (a zip bomb)")
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise SourceError(
                    "import",
                    str(path),
                    "a zip whose members unpack to the sizes they declare",
                    f"{member.filename!r}: {exc} (damaged, or a zip bomb lying about its size)",
                ) from exc
            except (NotImplementedError, RuntimeError) as exc:  # encrypted, or a method zipfile cannot unpack
                raise _unreadable_member(path, member) from exc


#: Compression methods of the zip specification (APPNOTE 4.4.5) seen in the wild that Python's zipfile cannot unpack.
ZIP_METHODS = {6: "Implode", 9: "Deflate64", 93: "Zstandard", 95: "XZ", 98: "PPMd"}
READABLE_METHODS = "stored or compressed with deflate, bzip2 or LZMA"


def _unreadable_member(path: Path, member: zipfile.ZipInfo) -> SourceError:
    """A member zipfile cannot open (encrypted, or compressed with a method it lacks), named with what was expected:
    a connector would otherwise report the file as a format it does not recognise."""
    if member.flag_bits & 0x1:
        found = f"member {member.filename!r} is encrypted (a password-protected zip)"
    else:
        method = ZIP_METHODS.get(member.compress_type, "unknown")
        found = f"member {member.filename!r} is compressed with method {member.compress_type} ({method})"
    return SourceError("import", str(path), f"a zip whose members are unencrypted and {READABLE_METHODS}", found)


def _check_lines(path: Path, cap: int) -> None:
    """The longest line of a text file, read in chunks (a file of one 300 MB line never sits in memory whole)."""
    line, carry = 1, 0  # the line the chunk starts in, and the bytes of it before the chunk
    with open(path, "rb") as handle:
        while chunk := handle.read(UNPACK_CHUNK_BYTES):
            lengths = [len(part) for part in chunk.split(b"\n")]
            lengths[0] += carry
            longest = max(lengths)
            if longest > cap:
                at = line + lengths.index(longest)
                raise LimitExceeded(
                    "import", str(path), "a line", cap, f"line {at} longer than that", "UNIONSTAT_MAX_LINE_BYTES"
                )
            line, carry = line + len(lengths) - 1, lengths[-1]
