"""Shared fixtures. Prefect gets a private home and one test server for the whole session."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.server import group_alive
from bench.server import prefect_server as prefect_server_process

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Builds behave the same whether or not the embeddings extra is installed: on when a test asks for them.
os.environ["CORPUS_EMBEDDINGS"] = "off"

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database, started once (~10 s) for every test that runs a flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def build_json(source: Path, out: Path, *extra: str) -> dict[str, Any]:
    """`corpus build SOURCE --out OUT --json ...` as a user types it; asserts success, returns the summary."""
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["build", str(source), "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def listed(out: Path, table: str) -> list[str]:
    """The table's files in the current snapshot, as a reader follows ``manifest.json`` (the table's folder also
    holds the files of the previous snapshot, kept for readers still reading it)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [str(out / f["path"]) for f in manifest["tables"][table]["files"]]


def kept_files(out: Path) -> set[str]:
    """The files of the snapshots a build keeps (the current one and the one before it), relative to ``out``."""
    return {f["path"] for path in (out / ".snapshots").glob("*.json")
            for t in json.loads(path.read_text(encoding="utf-8"))["tables"].values() for f in t["files"]}


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """The seed files copied into a fresh input folder the test may change."""
    target = tmp_path / "input"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `prefect server start` on a free loopback port: its API URL and an environment pointing at it."""
    with prefect_server_process(tmp_path / "prefect-home", tmp_path / "server.log",
                                PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
                                PREFECT_RUNNER_POLL_FREQUENCY="2") as (server, env):
        yield env["PREFECT_API_URL"], env
    assert not group_alive(server.pid), "the Prefect server left processes behind"


