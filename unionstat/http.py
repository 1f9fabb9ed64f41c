"""One HTTP layer, two transports: live requests, or replay of the recorded reference snapshot.

Who retries what (each failure is retried by one layer at most, so the two never multiply):

- this layer (urllib3's `Retry`, per request; UNIONSTAT_HTTP_RETRIES times, backoff UNIONSTAT_HTTP_BACKOFF_S):
  a request that got no answer (connection refused or reset, DNS, a timeout before the response head) and the
  answers in RETRY_STATUSES (429, 500, 502, 503, 504), honouring Retry-After. Still failing after that: final for
  this run.
- the orchestrator (`flows.refresh.fetch_task`, Prefect's `retry_condition_fn`; one retry per value of
  UNIONSTAT_FETCH_RETRY_DELAYS_S): only `TransientError`, a body cut off while it was being read (the connection
  dropped or timed out, fewer bytes than Content-Length). The response was handed over by then, so this layer
  cannot retry it; the whole source's fetch runs again.
- nobody: any other 4xx (404, 403, 410, ...), a robots.txt refusal, the size cap, a body that does not decode, a
  parse error, a request the reference snapshot did not record.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import sys
import threading
import time
import urllib.robotparser
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

from unionstat.errors import LimitExceeded, NotRecorded, SourceError
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)
#: The setting that sets the response-size cap (named in the refusal, so the person knows what to raise).
CAP_SETTING = "UNIONSTAT_MAX_RESPONSE_BYTES"
REPLAY_HEADER = "X-Unionstat-Recording"
ORIGIN_HEADER = "X-Unionstat-Origin"
#: What a stored response is, by how its bytes reached the warehouse (raw.snapshots.origin): fetched from the
#: publisher by unionstat, imported from a file a user downloaded, a publisher file recorded by a third party (the
#: reference snapshot's real files), compiled by hand from the paper's printed figures, or synthetic (a test's own
#: fixture, never in the shipped reference snapshot).
ORIGIN_FETCHED = "fetched"
ORIGIN_IMPORTED = "imported"
ORIGIN_RECORDED = "recorded_third_party"
ORIGIN_COMPILED = "compiled_from_paper"
ORIGIN_SYNTHETIC = "synthetic"
ORIGINS = (ORIGIN_FETCHED, ORIGIN_IMPORTED, ORIGIN_RECORDED, ORIGIN_COMPILED, ORIGIN_SYNTHETIC)
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Content-Length", "Retry-After")
RETRY_STATUSES = (429, 500, 502, 503, 504)
PROGRESS_MIN_BYTES = 1024 * 1024


class TransientError(SourceError):
    """A failure the same request may not meet again (a body cut off mid-transfer): the orchestrator retries it."""


@dataclass(frozen=True)
class Fetched:
    """What one request returned, byte for byte, with the metadata provenance needs."""

    source: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    recording: str | None = None
    recording_origin: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def origin(self) -> str:
        """'fetched' for a live answer; a replayed recording's own origin (e.g. compiled_from_paper)."""
        return (self.recording_origin or ORIGIN_COMPILED) if self.recording else ORIGIN_FETCHED


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
    origin: str = ORIGIN_COMPILED

    def body(self) -> bytes:
        return self.body_path.read_bytes()

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body()).hexdigest() + '"'


@dataclass(frozen=True)
class ReferenceFile:
    """A real publisher file in the reference snapshot, recorded by a third party and kept byte for byte: the
    offline default takes it in through the import path, as `unionstat import` would, with its own origin."""

    id: str
    source: str
    path: Path
    sha256: str


@dataclass
class Reference:
    """The embedded reference snapshot: real publisher files recorded by third parties, and responses compiled
    from the paper's figures where no real file exists; the manifest says which is which and where each came from."""

    root: Path
    manifest: dict[str, Any]
    recordings: dict[str, Recording] = field(default_factory=dict)
    files: list[ReferenceFile] = field(default_factory=list)

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
                origin=entry.get("origin", ORIGIN_COMPILED),
            )
            if rec.origin not in ORIGINS:
                raise ValueError(
                    f"reference snapshot: recording {rec.id!r}: origin {rec.origin!r}, expected one of {ORIGINS}"
                )
            if not rec.body_path.is_file():
                raise FileNotFoundError(
                    f"reference snapshot: recording {rec.id!r} names body {entry['body']!r}, "
                    f"expected a file at {rec.body_path}"
                )
            recordings[normalize_url(rec.url)] = rec
        files = [_reference_file(root, entry) for entry in manifest.get("files", [])]
        return cls(root=root, manifest=manifest, recordings=recordings, files=files)


def _reference_file(root: Path, entry: Mapping[str, Any]) -> ReferenceFile:
    """One real file of the manifest, checked against its recorded sha256 (a changed byte breaks provenance)."""
    path = root / entry["path"]
    if not path.is_file():
        raise FileNotFoundError(f"reference snapshot: file {entry['id']!r} expected at {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise ValueError(
            f"reference snapshot: {path} has sha256 {digest[:16]}…, the manifest records {entry['sha256'][:16]}…: "
            "a recorded publisher file must stay byte for byte as recorded"
        )
    return ReferenceFile(id=entry["id"], source=entry["source"], path=path, sha256=digest)


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
        headers[REPLAY_HEADER] = rec.id
        headers[ORIGIN_HEADER] = rec.origin
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
    """Fetches for the scrapers. Replay or live is decided here; scrapers cannot tell the difference.

    Live requests: a User-Agent naming the project and a contact, timeouts, retries with backoff on 429/5xx and
    connection errors (honouring Retry-After), a minimum interval per host, robots.txt, a response-size cap, TLS
    verification always on (a CA bundle can be added, never verification turned off), conditional requests.
    """

    def __init__(self, settings: Settings, reference: Reference | None = None) -> None:
        self.settings = settings
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._lock = threading.Lock()
        self._host_ca: dict[str, str] = {}  # host -> CA bundle trusted for that host only (see `trust_for_hosts`)
        if settings.mode == "replay":
            reference = reference or Reference.load(settings.reference_dir)
            adapter: BaseAdapter = ReplayAdapter(reference)
        else:
            retry = Retry(
                total=settings.http_retries,
                backoff_factor=settings.http_backoff_s,
                status_forcelist=RETRY_STATUSES,
                respect_retry_after_header=True,
                allowed_methods=frozenset({"GET", "HEAD", "POST"}),  # POST: search APIs (Belstat OSIDS), idempotent
                raise_on_status=False,
            )
            adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if settings.ca_bundle:
            if not Path(settings.ca_bundle).is_file():
                raise SourceError("http", settings.ca_bundle, "a CA bundle file (UNIONSTAT_CA_BUNDLE)", "no such file")
            self.session.verify = settings.ca_bundle

    @property
    def live(self) -> bool:
        return self.settings.mode == "live"

    def trust_for_hosts(self, hosts: Iterable[str], ca_bundle: str) -> None:
        """Verify TLS for these hosts (and only these) against `ca_bundle` (a publisher's national root CA, pinned
        by its connector); every other host keeps the default trust store. Verification is never turned off."""
        for host in hosts:
            self._host_ca[host.lower()] = ca_bundle

    def _verify(self, url: str) -> str | bool:
        return self._host_ca.get(
            (urlsplit(url).hostname or "").lower(), True if self.session.verify is None else self.session.verify
        )

    def close(self) -> None:
        self.session.close()

    def get(
        self,
        source: str,
        url: str,
        params: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET `url`; `headers` are a publisher's own request headers (WIPO's backend wants Accept-Language)."""
        sent = {**(headers or {}), "X-Unionstat-Source": source}
        if etag:
            sent["If-None-Match"] = etag
        if last_modified:
            sent["If-Modified-Since"] = last_modified
        return self._request("GET", source, url, sent, params=params)

    def post_json(self, source: str, url: str, payload: Any, headers: Mapping[str, str] | None = None) -> Fetched:
        """A POST of a JSON body (a publisher's search API: Belstat's OSIDS), paced, robots-checked and retried like a
        GET (a search is idempotent); never conditional."""
        sent = {"X-Unionstat-Source": source, "Accept": "application/json", **(headers or {})}
        return self._request("POST", source, url, sent, json=payload)

    def _request(self, method: str, source: str, url: str, headers: dict[str, str], **send: Any) -> Fetched:
        """One request, robots-checked and paced when live, its body read under the size cap; HTTP errors and
        transport failures become a SourceError naming the URL (a 304 comes back as a not-modified Fetched)."""
        if self.live:
            self._check_robots(source, url)
            self._pace(url)
        try:  # the HTTP layer's own retries (module docstring) happen inside this call
            response = self.session.request(
                method,
                url,
                headers=headers,
                timeout=self.settings.http_timeout_s,
                stream=True,
                verify=self._verify(url),
                **send,
            )
        except requests.RequestException as exc:
            raise SourceError(source, url, "a complete HTTP response", f"{type(exc).__name__}: {exc}") from exc
        with response:
            final_url = response.url or url
            if response.status_code == 304:
                return self._fetched(source, final_url, response, b"")
            if response.status_code >= 400:
                raise SourceError(
                    source, final_url, "HTTP 200", f"HTTP {response.status_code} {response.reason or ''}".strip()
                )
            body = self._read_capped(source, final_url, response)
        return self._fetched(source, final_url, response, body)

    def _pace(self, url: str) -> None:
        """At most one request per host every `min_request_interval_s` seconds."""
        host = urlsplit(url).netloc
        with self._lock:
            wait = self._last_request.get(host, 0.0) + self.settings.min_request_interval_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request[host] = time.monotonic()

    def _check_robots(self, source: str, url: str) -> None:
        """Refuse what the host's robots.txt disallows for our User-Agent (no robots.txt: allowed)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        rules = self._robots[origin]
        if rules is not None and not rules.can_fetch(self.settings.user_agent, url):
            raise SourceError(source, url, "a URL robots.txt allows", f"disallowed by {origin}/robots.txt")

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        self._pace(origin)
        try:
            response = self.session.get(
                f"{origin}/robots.txt", timeout=self.settings.http_timeout_s, verify=self._verify(origin)
            )
        except requests.RequestException as exc:
            LOG.warning("robots.txt of %s unreachable (%s); proceeding as allowed", origin, exc)
            return None
        if response.status_code >= 400:
            return None
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(response.text[:500_000].splitlines())
        return parser

    def _read_capped(self, source: str, url: str, response: requests.Response) -> bytes:
        cap = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise LimitExceeded(source, url, "a response", cap, f"Content-Length {declared}", CAP_SETTING)
        total = int(declared) if declared and declared.isdigit() else None
        chunks: list[bytes] = []
        size = 0
        with _progress(total, url, enabled=self.live) as bar:
            try:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > cap:
                        raise LimitExceeded(source, url, "a response", cap, f"more than {cap} bytes", CAP_SETTING)
                    chunks.append(chunk)
                    bar.update(len(chunk))
            except requests.exceptions.ChunkedEncodingError as exc:
                raise TransientError(
                    source, url, "a complete HTTP response", f"a truncated body (the connection closed early: {exc})"
                ) from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                raise TransientError(
                    source, url, "a complete HTTP response", f"{type(exc).__name__} while reading the body: {exc}"
                ) from exc
            except requests.RequestException as exc:  # e.g. a body that does not decode: the same again next time
                raise SourceError(source, url, "a complete HTTP response", f"{type(exc).__name__}: {exc}") from exc
        body = b"".join(chunks)
        if total is not None and total != len(body) and "Content-Encoding" not in response.headers:
            raise TransientError(source, url, f"{total} bytes (Content-Length)", f"{len(body)} bytes: truncated body")
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
            recording_origin=response.headers.get(ORIGIN_HEADER),
        )


@contextlib.contextmanager
def _progress(total: int | None, url: str, enabled: bool) -> Iterator[Any]:
    """A progress bar for large live downloads when a person is watching a terminal; otherwise a no-op."""
    if enabled and total and total > PROGRESS_MIN_BYTES and sys.stderr.isatty():
        from tqdm import tqdm

        with tqdm(total=total, unit="B", unit_scale=True, desc=urlsplit(url).path[-40:], leave=False) as bar:
            yield bar
    else:
        yield _NoProgress()


class _NoProgress:
    def update(self, n: int) -> None:
        return None
