"""The content-addressed snapshot store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from unionstat.errors import UnionstatError
from unionstat.snapshots import SnapshotStore


def test_put_names_the_blob_by_its_sha256_and_is_idempotent(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    sha = store.put(b"publisher bytes")
    assert sha == hashlib.sha256(b"publisher bytes").hexdigest()
    assert store.path_for(sha) == tmp_path / sha[:2] / sha
    assert store.put(b"publisher bytes") == sha
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [sha]
    assert store.read(sha) == b"publisher bytes"


def test_put_file_stores_the_file_verbatim_under_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    given = tmp_path / "download.csv"
    body = b"publisher bytes, " * 500_000  # 8.5 MB: several chunks
    given.write_bytes(body)
    store = SnapshotStore(tmp_path / "store")
    sha = store.put_file(given)
    assert sha == hashlib.sha256(body).hexdigest() == store.put(body)
    assert store.read(sha) == body
    assert store.put_file(given) == sha
    assert [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()] == [sha]  # no temporary file left


def test_a_corrupted_blob_is_detected(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    sha = store.put(b"original")
    store.path_for(sha).write_bytes(b"tampered")
    with pytest.raises(UnionstatError, match="does not match its checksum"):
        store.read(sha)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "g" * 64, "a" * 63])
def test_names_that_are_not_a_sha256_cannot_address_a_path(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UnionstatError, match="expected a lower-case hex sha256"):
        SnapshotStore(tmp_path).path_for(bad)


def test_a_quarantine_is_released_only_when_not_retracted_and_release_is_no_retraction(tmp_path: Path) -> None:
    from unionstat.snapshots import record_retraction, retracted, retraction_journal

    root, sha = tmp_path / "snapshots", "e" * 64
    record_retraction(root, sha, "release", "the check was wrong")
    assert retracted(retraction_journal(root)) == {}  # a release withdraws nothing
    record_retraction(root, sha, "retract", "withdrawn by the publisher")
    with pytest.raises(UnionstatError, match=r"snapshot eeeeeeeeeeee is retracted: `unionstat unretract` it first"):
        record_retraction(root, sha, "release", "again")
    assert list(retracted(retraction_journal(root))) == [sha]
    assert [e.action for e in retraction_journal(root)] == ["release", "retract"]
