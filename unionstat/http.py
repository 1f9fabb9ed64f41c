"""One HTTP layer, two transports: live requests, or replay of the recorded reference snapshot."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from unionstat.errors import NotRecorded, SourceError
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
REPLAY_HEADER = "X-Unionstat-Recording"
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Content-Length", "Retry-After")
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Fetched:
    """What one request returned, byte for byte, with the metadata provenance needs."""

    source: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    recording: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def origin(self) -> str:
        return f"reference:{self.recording}" if self.recording else "live"


def normalize_url(url: str) -> str:
    """A canonical form for matching: lower-case host, decoded path, sorted query."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), unquote(parts.path), query, ""))


@dataclass
class Recording:
    """One recorded response of the reference snapshot."""

    id: str
    source: str
    url: str
    status: int
    headers: dict[str, str]
    body_path: Path
    compiled_from: str = ""

    def body(self) -> bytes:
        return self.body_path.read_bytes()

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body()).hexdigest() + '"'


@dataclass
class Reference:
    """The embedded reference snapshot: recorded publisher responses and what they were compiled from."""

    root: Path
    manifest: dict[str, Any]
    recordings: dict[str, Recording] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Reference:
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"reference snapshot manifest not found: expected {manifest_path}")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        recordings: dict[str, Recording] = {}
        for entry in manifest.get("recordings", []):
            rec = Recording(
                id=entry["id"],
                source=entry["source"],
                url=entry["url"],
                status=int(entry.get("status", 200)),
                headers=dict(entry.get("headers", {})),
                body_path=root / entry["body"],
                compiled_from=entry.get("compiled_from", ""),
            )
            if not rec.body_path.is_file():
                raise FileNotFoundError(
                    f"reference snapshot: recording {rec.id!r} names body {entry['body']!r}, "
                    f"expected a file at {rec.body_path}"
                )
            recordings[normalize_url(rec.url)] = rec
        return cls(root=root, manifest=manifest, recordings=recordings)


class ReplayAdapter(BaseAdapter):
    """A requests transport that answers from the reference snapshot, honouring conditional requests."""

    def __init__(self, reference: Reference) -> None:
        super().__init__()
        self.reference = reference

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        rec = self.reference.recordings.get(normalize_url(url))
        if rec is None:
            raise NotRecorded(_source_of(request), url)
        etag = rec.etag()
        headers = CaseInsensitiveDict(rec.headers)
        headers["ETag"] = etag
        headers.setdefault("Last-Modified", formatdate(rec.body_path.stat().st_mtime, usegmt=True))
        headers[REPLAY_HEADER] = rec.id
        response = requests.Response()
        response.url = url
        response.request = request
        response.headers = headers
        if request.headers.get("If-None-Match") == etag:
            response.status_code, response.reason, body = 304, "Not Modified", b""
        else:
            response.status_code, response.reason, body = rec.status, "OK", rec.body()
        response.raw = io.BytesIO(body)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def close(self) -> None:
        return None


def _source_of(request: requests.PreparedRequest) -> str:
    return str(request.headers.get("X-Unionstat-Source", "unknown"))


class HttpClient:
    """Fetches for the scrapers. Replay or live is decided here; scrapers cannot tell the difference."""

    def __init__(self, settings: Settings, reference: Reference | None = None) -> None:
        self.settings = settings
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        if settings.mode == "replay":
            reference = reference or Reference.load(settings.reference_dir)
            adapter: BaseAdapter = ReplayAdapter(reference)
        else:
            retry = Retry(
                total=3,
                backoff_factor=1.0,
                status_forcelist=RETRY_STATUSES,
                respect_retry_after_header=True,
                allowed_methods=frozenset({"GET", "HEAD"}),
                raise_on_status=False,
            )
            adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if settings.ca_bundle:
            self.session.verify = settings.ca_bundle

    def close(self) -> None:
        self.session.close()

    def get(
        self,
        source: str,
        url: str,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        headers = {"X-Unionstat-Source": source}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            response = self.session.get(
                url, params=params, headers=headers, timeout=self.settings.http_timeout_s, stream=True
            )
        except NotRecorded:
            raise
        except requests.RequestException as exc:
            raise SourceError(source, url, "an HTTP response", f"{type(exc).__name__}: {exc}") from exc
        with response:
            final_url = response.url or url
            if response.status_code == 304:
                return self._fetched(source, final_url, response, b"")
            if response.status_code >= 400:
                raise SourceError(
                    source,
                    final_url,
                    "HTTP 200",
                    f"HTTP {response.status_code} {response.reason or ''}".strip(),
                )
            body = self._read_capped(source, final_url, response)
        return self._fetched(source, final_url, response, body)

    def _read_capped(self, source: str, url: str, response: requests.Response) -> bytes:
        cap = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise SourceError(source, url, f"a response of at most {cap} bytes", f"Content-Length {declared}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > cap:
                raise SourceError(source, url, f"a response of at most {cap} bytes", f"more than {cap} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        if (
            declared
            and declared.isdigit()
            and int(declared) != len(body)
            and "Content-Encoding" not in response.headers
        ):
            raise SourceError(source, url, f"{declared} bytes (Content-Length)", f"{len(body)} bytes: truncated body")
        return body

    @staticmethod
    def _fetched(source: str, url: str, response: requests.Response, body: bytes) -> Fetched:
        kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        return Fetched(
            source=source,
            url=url,
            status=response.status_code,
            headers=kept,
            body=body,
            recording=response.headers.get(REPLAY_HEADER),
        )
