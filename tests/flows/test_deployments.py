"""prefect.yaml on a real Prefect server and worker: deploy, trigger a run, see it complete."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.conftest import query
from unionstat import serve
from unionstat.settings import PROJECT_ROOT, Settings

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _api(method: str, url: str, **kwargs: Any) -> Any:
    """One Prefect API call; a 5xx (SQLite busy while the scheduler inserts runs) is retried, anything else fails loud.

    CI once got a 500 from create_flow_run right after `prefect deploy`, while the scheduler was writing the
    scheduled runs of five deployments into the same SQLite file.
    """
    last = ""
    for attempt in range(6):
        response = requests.request(method, url, timeout=30, **kwargs)
        if response.ok:
            return response.json()
        last = f"HTTP {response.status_code}: {response.text[:500]}"
        if response.status_code < 500:
            break
        time.sleep(1 + attempt)
    raise AssertionError(f"Prefect API {method.upper()} {url} failed: {last}")


def test_a_deployment_run_completes_on_a_local_server_and_worker(published_reference: Settings, tmp_path: Path) -> None:
    """The worker runs the replay deployment on a published warehouse (the session's reference build, copied): the
    flow runs every stage up to finding nothing new, and records its run (building is tested elsewhere)."""
    warehouse_env = published_reference
    extra = {"PREFECT_HOME": str(tmp_path / "prefect-home"), "UNIONSTAT_FETCH_RETRY_DELAYS_S": "0"}
    with serve.running(warehouse_env, log_dir=tmp_path / "logs", extra_env=extra) as service:
        api = service.api_url
        listed = _api("post", f"{api}/deployments/filter", json={})
        declared = {d["name"] for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]}
        assert {d["name"] for d in listed} == declared
        scheduled = {d["name"] for d in listed if d.get("schedules")}
        assert {"news-daily", "statistics-weekly", "belstat-monthly", "full-weekly"} <= scheduled

        replay = _api("get", f"{api}/deployments/name/refresh/replay")
        run = _api("post", f"{api}/deployments/{replay['id']}/create_flow_run", json={})
        state = _wait(api, run["id"], timeout_s=600)

    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in (tmp_path / "logs").glob("*.log"))
    assert state == "COMPLETED", logs
    table2 = query(
        warehouse_env.published_db,
        "select russia_value, belarus_value from marts.mart_table2_country_comparison where metric_id = 'gdp_growth'",
    )
    assert table2 == [(3.60000000000001, 3.88624214456901)]  # the real World Bank release of 2024-06-28
    runs = query(warehouse_env.warehouse_dir / "dq_history.duckdb", "select status from runs order by finished_at")
    assert runs == [("published",), ("unchanged",)]  # the reference build's run, then the deployment's


def _wait(api: str, flow_run_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    state = "PENDING"
    while time.monotonic() < deadline:
        state = _api("get", f"{api}/flow_runs/{flow_run_id}")["state"]["type"]
        if state in TERMINAL:
            return state
        time.sleep(2)
    return f"timed out in {state}"
