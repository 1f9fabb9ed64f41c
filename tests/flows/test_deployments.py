"""prefect.yaml on a real Prefect server and worker: deploy, trigger a run, see it complete."""

from __future__ import annotations

import time
from pathlib import Path

import requests
import yaml

from tests.conftest import query
from unionstat import serve
from unionstat.settings import PROJECT_ROOT, Settings

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def test_a_deployment_run_completes_on_a_local_server_and_worker(warehouse_env: Settings, tmp_path: Path) -> None:
    extra = {"PREFECT_HOME": str(tmp_path / "prefect-home"), "UNIONSTAT_FETCH_RETRY_DELAYS_S": "0"}
    with serve.running(warehouse_env, log_dir=tmp_path / "logs", extra_env=extra) as service:
        api = service.api_url
        listed = requests.post(f"{api}/deployments/filter", json={}, timeout=30).json()
        declared = {d["name"] for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]}
        assert {d["name"] for d in listed} == declared
        scheduled = {d["name"] for d in listed if d.get("schedules")}
        assert {"news-daily", "statistics-weekly", "belstat-monthly", "full-weekly"} <= scheduled

        replay = requests.get(f"{api}/deployments/name/refresh/replay", timeout=30).json()
        run = requests.post(f"{api}/deployments/{replay['id']}/create_flow_run", json={}, timeout=30).json()
        state = _wait(api, run["id"], timeout_s=600)

    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in (tmp_path / "logs").glob("*.log"))
    assert state == "COMPLETED", logs
    table2 = query(
        warehouse_env.published_db,
        "select russia_value, belarus_value from marts.mart_table2_country_comparison where metric_id = 'gdp_growth'",
    )
    assert table2 == [(3.6, 3.9)]


def _wait(api: str, flow_run_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    state = "PENDING"
    while time.monotonic() < deadline:
        state = requests.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json()["state"]["type"]
        if state in TERMINAL:
            return state
        time.sleep(2)
    return f"timed out in {state}"
