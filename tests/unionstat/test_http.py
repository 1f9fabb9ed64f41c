"""The HTTP layer: replay of the reference snapshot and live fetching against a local stand-in publisher."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_DIR, Routes
from unionstat.errors import NotRecorded, SourceError
from unionstat.http import HttpClient, Reference, normalize_url
from unionstat.settings import Settings

REFERENCE_RSS_URL = "https://www.osw.waw.pl/en/rss.xml"  # a recording compiled from the paper's Tables 6 and 7


def live_settings(tmp_path: Path, **overrides: str) -> Settings:
    env = {
        "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "UNIONSTAT_MODE": "live",
        "UNIONSTAT_HTTP_BACKOFF_S": "0.1",
        "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
        **overrides,
    }
    return Settings.from_env(env)


def test_normalize_url_ignores_query_order_and_encoding() -> None:
    assert normalize_url("https://API.example.org/a;b/c?y=2&x=1%3A2") == normalize_url(
        "https://api.example.org/a%3Bb/c?x=1:2&y=2"
    )


def test_replay_serves_the_recording_with_an_etag_and_answers_304_to_it(warehouse_env: Settings) -> None:
    client = HttpClient(warehouse_env)
    first = client.get("osw", REFERENCE_RSS_URL)
    assert first.status == 200
    assert (first.origin, first.recording) == ("compiled_from_paper", "osw-rss-compiled-from-paper-tables-6-7")
    assert b"Up to 60,000 IT specialists may leave Belarus" in first.body
    assert "Last-Modified" not in first.headers  # a compiled recording has no publisher date to claim
    again = client.get("osw", REFERENCE_RSS_URL, etag=first.headers["ETag"])
    assert again.not_modified
    assert again.body == b""


def test_reference_lists_the_real_files_with_their_checksums() -> None:
    reference = Reference.load(REFERENCE_DIR)
    names = {item.path.name: item for item in reference.files}
    gdp = names["API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv"]
    assert (gdp.source, gdp.sha256[:16]) == ("worldbank", "13bbc1bc70aa8529")  # shared/samples/PROVENANCE.md
    assert names["VDS_god_OKVED2.xlsx"].sha256[:16] == "fb1c68e6fd0cf600"
    assert names["nach_sr_zarplata-2501.xlsx"].sha256[:16] == "59c0cca361408852"
    entries = {e["path"]: e for e in reference.manifest["files"]}
    assert all(e["origin"] == "recorded_third_party" and e["recorded_in"]["commit"] for e in entries.values())
    assert {r["origin"] for r in reference.manifest["recordings"]} == {"compiled_from_paper"}


def test_reference_refuses_a_real_file_whose_bytes_changed(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.csv").write_bytes(b"changed")
    (tmp_path / "manifest.json").write_text(
        '{"recordings": [], "files": [{"id": "a", "source": "worldbank", "path": "files/a.csv", "sha256": "00"}]}'
    )
    with pytest.raises(ValueError, match=r"files/a.csv has sha256 .* the manifest records 00"):
        Reference.load(tmp_path)


def test_replay_says_which_request_has_no_recording(warehouse_env: Settings) -> None:
    client = HttpClient(warehouse_env)
    with pytest.raises(NotRecorded, match=r"\[worldbank\] https://api.worldbank.org/v2/other.*no recording"):
        client.get("worldbank", "https://api.worldbank.org/v2/other")


def test_reference_manifest_must_point_at_existing_bodies(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        '{"recordings": [{"id": "x", "source": "s", "url": "http://h/p", "body": "missing.json"}]}'
    )
    with pytest.raises(FileNotFoundError, match="recording 'x' names body 'missing.json'"):
        Reference.load(tmp_path)


def test_live_fetch_sends_user_agent_and_conditional_headers(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    routes.add("/data", body=b"hello", headers={"ETag": '"v1"', "Content-Type": "text/plain"})
    client = HttpClient(live_settings(tmp_path, UNIONSTAT_CONTACT="ops@example.org"))
    fetched = client.get("demo", f"{base}/data", etag='"v0"', last_modified="Tue, 01 Oct 2024 00:00:00 GMT")
    assert (fetched.status, fetched.body, fetched.origin) == (200, b"hello", "fetched")
    assert fetched.headers["ETag"] == '"v1"'
    sent = dict(routes.requests[-1][1])
    assert "unionstat" in sent["User-Agent"] and "ops@example.org" in sent["User-Agent"]
    assert sent["If-None-Match"] == '"v0"'
    assert sent["If-Modified-Since"] == "Tue, 01 Oct 2024 00:00:00 GMT"


def test_live_http_error_names_source_url_and_status(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, _ = publisher_server
    client = HttpClient(live_settings(tmp_path))
    with pytest.raises(SourceError, match=rf"\[demo\] {base}/nowhere: expected HTTP 200; found HTTP 404"):
        client.get("demo", f"{base}/nowhere")


def test_live_retries_a_503_then_succeeds(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    calls = {"n": 0}

    def flaky(req):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        status, body = (503, b"busy") if calls["n"] < 3 else (200, b"ok")
        req.send_response(status)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    routes.handlers["/flaky"] = flaky
    fetched = HttpClient(live_settings(tmp_path)).get("demo", f"{base}/flaky")
    assert fetched.body == b"ok"
    assert calls["n"] == 3


def test_live_honours_retry_after_on_429(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    calls = {"n": 0}

    def limited(req):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        first = calls["n"] == 1
        body = b"slow down" if first else b"ok"
        req.send_response(429 if first else 200)
        if first:
            req.send_header("Retry-After", "1")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    routes.handlers["/limited"] = limited
    started = time.monotonic()
    fetched = HttpClient(live_settings(tmp_path)).get("demo", f"{base}/limited")
    assert fetched.body == b"ok"
    assert time.monotonic() - started >= 0.9


def test_live_refuses_a_truncated_body(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/short", body=b"only part", headers={"Content-Length": "100"})
    client = HttpClient(live_settings(tmp_path, UNIONSTAT_HTTP_RETRIES="0", UNIONSTAT_HTTP_TIMEOUT_S="2"))
    with pytest.raises(SourceError, match=r"\[demo\] .*/short: expected"):
        client.get("demo", f"{base}/short")


def test_live_refuses_a_response_over_the_size_cap(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/huge", body=b"x" * 5000)
    client = HttpClient(live_settings(tmp_path, UNIONSTAT_MAX_RESPONSE_BYTES="1000"))
    with pytest.raises(SourceError, match="expected a response of at most 1000 bytes; found Content-Length 5000"):
        client.get("demo", f"{base}/huge")


def test_live_respects_robots_txt(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/robots.txt", body=b"User-agent: *\nDisallow: /private\n")
    routes.add("/private/data", body=b"secret")
    routes.add("/public", body=b"fine")
    client = HttpClient(live_settings(tmp_path))
    assert client.get("demo", f"{base}/public").body == b"fine"
    with pytest.raises(SourceError, match=r"disallowed by http://127\.0\.0\.1:\d+/robots\.txt"):
        client.get("demo", f"{base}/private/data")
    assert not any(path.startswith("/private") for path, _ in routes.requests)


def test_live_paces_requests_to_one_host(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/a", body=b"a")
    client = HttpClient(live_settings(tmp_path, UNIONSTAT_MIN_REQUEST_INTERVAL_S="0.3"))
    started = time.monotonic()
    for _ in range(3):
        client.get("demo", f"{base}/a")
    assert time.monotonic() - started >= 0.6


def test_a_missing_ca_bundle_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="expected a CA bundle file"):
        HttpClient(live_settings(tmp_path, UNIONSTAT_CA_BUNDLE=str(tmp_path / "nope.pem")))
