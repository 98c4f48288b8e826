"""A real Prefect server, the served deployment, a scheduled run and a manual run (slow, run in CI)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import group_alive, stop, wait_until
from tests.helpers import BIN, SEEDS

pytestmark = pytest.mark.slow


def flow_runs(api: str, deployment_id: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{api}/flow_runs/filter",
                          json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}, timeout=10)
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json()
    return runs


def test_scheduled_and_manual_runs_build_the_corpus(prefect_server: tuple[str, dict[str, str]],
                                                    tmp_path: Path) -> None:
    api, env = prefect_server
    source, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, source)
    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    served = subprocess.Popen(
        [str(BIN / "corpus"), "serve", str(source), "--out", str(out), "--interval", "20", "--name", "ci"],
        env=env, stdout=serve_log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        def deployment() -> str | None:
            response = httpx.get(f"{api}/deployments/name/build-corpus/ci", timeout=5)
            return str(response.json()["id"]) if response.status_code == 200 else None

        deployment_id = wait_until(deployment, 90, "the deployment to be registered")

        def completed(manual: bool) -> bool:
            return any(r["state_type"] == "COMPLETED" and r["auto_scheduled"] is not manual
                       for r in flow_runs(api, deployment_id))

        wait_until(lambda: completed(manual=False), 180, "a scheduled run to complete")
        trigger = subprocess.run(
            [str(BIN / "prefect"), "deployment", "run", "build-corpus/ci",
             "--param", f"source={source}", "--param", f"out={out}"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert trigger.returncode == 0, trigger.stdout + trigger.stderr
        wait_until(lambda: completed(manual=True), 180, "the manual run to complete")
        assert not [r for r in flow_runs(api, deployment_id) if r["state_type"] in ("FAILED", "CRASHED")]
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["tables"]["documents"]["rows"] == 5
    finally:
        stop(served)
        serve_log.close()
    assert not group_alive(served.pid), "`corpus serve` left processes behind"


def test_a_build_against_a_running_server_is_recorded_with_its_stages(prefect_server: tuple[str, dict[str, str]],
                                                                      tmp_path: Path) -> None:
    """`corpus build` with PREFECT_API_URL set (no flag): a flow run with a task run per stage and its artifact."""
    from bench.generate import generate_corpus

    api, env = prefect_server
    source = tmp_path / "in"
    generate_corpus(source, works=3)
    build = subprocess.run([str(BIN / "corpus"), "build", str(source), "--out", str(tmp_path / "out"), "--json",
                            "--workers", "2"], env={**env, "CORPUS_EMBEDDINGS": "off"}, capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    run_id = json.loads(build.stdout)["build_id"]
    flow_run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
    assert flow_run["state_type"] == "COMPLETED"
    task_runs = httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}},
                           timeout=10).json()
    names = [run["name"].rsplit("-", 1)[0] for run in task_runs]
    assert all(run["state_type"] == "COMPLETED" for run in task_runs)
    for stage in ("ingest: inventory", "rebuild batch", "ingest+langtag+segment", "align", "export",
                  "publish_snapshot"):
        assert stage in names, (stage, names)
    artifacts = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"key": {"any_": ["corpus-build-summary"]}},
                                                            "flow_runs": {"id": {"any_": [run_id]}}}, timeout=10).json()
    assert len(artifacts) == 1 and "## Documents" in artifacts[0]["data"]
