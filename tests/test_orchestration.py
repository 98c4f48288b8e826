"""Who runs a build: Prefect (a recorded flow run) or this process; the same rows either way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.generate import generate_corpus
from flows.cli import app
from flows.orchestration import configured_api_url
from tests.helpers import BIN, SEEDS, build_json, processes_marked, rows, wait_until

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("documents", "segments", "alignments", "parallel", "rejects")
runner = CliRunner()


@pytest.mark.usefixtures("prefect_harness")
def test_local_and_prefect_builds_give_the_same_rows(seeds_copy: Path, tmp_path: Path) -> None:
    (seeds_copy / "empty.txt").write_bytes(b"")
    local = build_json(seeds_copy, tmp_path / "local", "--orchestrator", "local")
    prefect = build_json(seeds_copy, tmp_path / "prefect", "--orchestrator", "prefect")
    assert local["counts"] == prefect["counts"] and local["table_rows"] == prefect["table_rows"]
    for table in TABLES:
        assert rows(tmp_path / "local", table) == rows(tmp_path / "prefect", table), table


@pytest.mark.usefixtures("prefect_harness")
def test_a_prefect_build_shows_each_stage_of_each_batch_as_a_task_run(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    source = tmp_path / "in"
    generate_corpus(source, works=3)  # 15 documents: more than a build rebuilds in one batch
    summary = build_json(source, tmp_path / "out", "--orchestrator", "prefect", "--workers", "1")
    runs = FlowRunFilter(id=FlowRunFilterId(any_=[summary["build_id"]]))
    with get_client(sync_client=True) as client:
        names = [run.name.rsplit("-", 1)[0] for run in client.read_task_runs(flow_run_filter=runs)]
        artifacts = client.read_artifacts(flow_run_filter=runs, artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["corpus-build-summary"])))
    for stage in ("rebuild batch", "ingest+langtag+segment", "align", "export"):
        assert names.count(stage) == 3, (stage, names)  # one per batch of one work
    for once in ("ingest: inventory", "publish_snapshot"):
        assert names.count(once) == 1, (once, names)
    assert len(artifacts) == 1 and "## Documents" in str(artifacts[0].data)


def test_auto_builds_without_prefect_when_no_api_is_configured(tmp_path: Path) -> None:
    """Without a Prefect API, `corpus build` neither starts Prefect's server nor imports Prefect (~2 s); the
    commands that read a corpus never import it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), CORPUS_EMBEDDINGS="off")
    out = tmp_path / "out"
    for args in (["--help"], ["build", str(SEEDS), "--out", str(out), "-q"], ["build", str(SEEDS), "--out", str(out)],
                 ["stats", str(out)], ["status", str(out)], ["show", str(out), "--langs", "sw,th", "--limit", "2"]):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "flows.cli", *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "import time:" in line]
        assert not [name for name in imported if name.split(".")[0] == "prefect"], args
    assert "nothing to do" in run.stdout or (out / "manifest.json").is_file()


def test_configured_api_url_reads_where_prefect_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import Settings

    for name in [k for k in os.environ if k.startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def both() -> tuple[str | None, str | None]:
        return configured_api_url(), Settings().api.url

    assert both() == (None, None)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "profiles.toml").write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
        '[profiles.other]\nPREFECT_API_URL = "http://other:4200/api"\n', encoding="utf-8")
    assert both() == ("http://127.0.0.1:4200/api",) * 2
    monkeypatch.setenv("PREFECT_PROFILE", "other")
    assert both() == ("http://other:4200/api",) * 2
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://toml:4200/api"\n', encoding="utf-8")
    assert both() == ("http://toml:4200/api",) * 2
    (tmp_path / ".env").write_text("PREFECT_API_URL=http://dotenv:4200/api\n", encoding="utf-8")
    assert both() == ("http://dotenv:4200/api",) * 2
    monkeypatch.setenv("PREFECT_API_URL", "http://env:4200/api")
    assert both() == ("http://env:4200/api",) * 2


def test_workers_and_orchestrator_mistakes_are_one_line(tmp_path: Path) -> None:
    for args, message in ((["--workers", "many"], "--workers takes a number or auto"),
                          (["--orchestrator", "local", "--runner", "thread"], "needs --orchestrator prefect")):
        result = runner.invoke(app, ["build", str(SEEDS), "--out", str(tmp_path / "out"), *args])
        assert result.exit_code == 2 and message in result.output, result.output


def test_a_build_killed_with_sigkill_leaves_no_worker_process_behind(tmp_path: Path) -> None:
    source = tmp_path / "in"
    generate_corpus(source, works=12)  # 60 documents: built by a pool of worker processes
    marker = uuid.uuid4().hex
    env = {**os.environ, "CORPUS_TEST_MARKER": marker}
    env.pop("PREFECT_API_URL", None)
    build = subprocess.Popen([str(BIN / "corpus"), "build", str(source), "--out", str(tmp_path / "out"), "--quiet",
                              "--workers", "2", "--orchestrator", "local", "--no-embeddings"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(processes_marked(marker)) >= 3, 120), "the build started its 2 workers"
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait(30)
    assert wait_until(lambda: not processes_marked(marker), 10), "every worker ended with its build"


def test_a_configured_prefect_server_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    """PREFECT_API_URL left set to a server that is down: the build says so instead of Prefect's traceback."""
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "PYTHONPATH": str(SEEDS.parent),
           "CORPUS_EMBEDDINGS": "off"}
    run = subprocess.run([sys.executable, "-m", "flows.cli", "build", str(SEEDS), "--out", str(tmp_path / "out")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("error: the Prefect server at http://127.0.0.1:9/api does not answer")
    assert "--orchestrator local" in lines[0]
