"""The benchmark's stand-in publishers answer a connector's requests from the reference snapshot, each host apart."""

from __future__ import annotations

import json

from bench import standin
from tests.conftest import REFERENCE_DIR
from unionstat.http import HttpClient
from unionstat.settings import Settings


def test_each_publisher_answers_its_recordings_from_its_own_host_and_is_metered() -> None:
    manifest = json.loads((REFERENCE_DIR / "manifest.json").read_text(encoding="utf-8"))
    rosstat = next(e for e in manifest["recordings"] if e["source"] == "rosstat" and e["url"].endswith(".xlsx"))
    with standin.serving(REFERENCE_DIR, latency_s=0) as publishers:
        live = {"UNIONSTAT_MODE": "live", "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0"}
        settings = Settings.from_env({**publishers.env, **live})
        local = settings.base_url("rosstat", "") + rosstat["url"].removeprefix("https://rosstat.gov.ru")
        http = HttpClient(settings)
        try:
            answer = http.get("rosstat", local)
            unrecorded = http.get("rosstat", settings.base_url("rosstat", "") + "/no/such/file.xlsx")
        finally:
            http.close()
    assert answer.body == (REFERENCE_DIR / rosstat["body"]).read_bytes()  # the recorded bytes, unchanged
    assert unrecorded.status == 304
    ports = {value.split("/")[2] for value in publishers.env.values()}
    assert len(ports) == len(publishers.env) == len(standin.bases())  # each host a server of its own
    assert "UNIONSTAT_OSW_BASE_URL" not in publishers.env  # the news sites are left out
    assert publishers.meter.figures() == {
        "requests": 2,
        "answered_from_recordings": 1,
        "most_publishers_at_once": 1,
        "most_requests_of_one_publisher_at_once": 1,
    }
