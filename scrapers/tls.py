"""A publisher's own root CA, shipped with the project and pinned by its SHA-256 fingerprint in sources.json."""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from unionstat.errors import SourceError

LOG = logging.getLogger(__name__)
PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----", re.DOTALL)
CERTS_ROOT = Path(__file__).resolve().parent


def fingerprint(pem_block: bytes) -> str:
    """The SHA-256 fingerprint of one PEM certificate, as `openssl x509 -fingerprint -sha256` prints it."""
    der = ssl.PEM_cert_to_DER_cert(pem_block.decode("ascii"))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def pinned_bundle(source: str, certificates: Sequence[Mapping[str, Any]], out_path: Path) -> Path | None:
    """Check each CA file the registry names against its pinned fingerprint and write the ones present to one bundle.

    An entry: `file` (relative to scrapers/), `sha256` (colon-separated, as openssl prints it; null = not pinned
    yet), `required`. A present file whose certificates differ from the pin, or a present file with no pin, is
    refused; a required file that is missing is an error naming where it belongs; an optional one is skipped.
    None when no file is present.
    """
    blocks: list[bytes] = []
    for entry in certificates:
        path = CERTS_ROOT / str(entry["file"])
        pin = entry.get("sha256")
        if not path.is_file():
            if entry.get("required", True):
                raise SourceError(
                    source,
                    str(path),
                    f"the CA certificate named in sources.json ({entry.get('subject')})",
                    "no such file",
                )
            LOG.info("%s: optional CA certificate %s not present: skipped", source, path)
            continue
        if not pin:
            raise SourceError(
                source, str(path), "a SHA-256 pin in sources.json for this CA file", "none: pin it before use"
            )
        found = [fingerprint(block) for block in PEM_BLOCK.findall(path.read_bytes())]
        if found != [str(pin).upper()]:
            raise SourceError(
                source, str(path), f"one certificate with SHA-256 {pin}", f"{found or 'no PEM certificate'}"
            )
        blocks.append(PEM_BLOCK.findall(path.read_bytes())[0])
    if not blocks:
        return None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(b"\n".join(blocks) + b"\n")
    return out_path
