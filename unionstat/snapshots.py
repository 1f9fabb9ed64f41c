"""Content-addressed raw snapshot store: every response kept byte for byte under its sha256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from unionstat.errors import UnionstatError

CHUNK_BYTES = 4 * 1024 * 1024


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
        target = self.path_for(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
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
