"""Crash safety for real: `corpus build` killed with SIGKILL at 20 moments, then finished (slow, run in CI)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench.generate import generate_corpus
from tests.helpers import BIN, kept_files, processes_marked, wait_until

pytestmark = pytest.mark.slow
KILLS = 20


def run_build(source: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "corpus"), "build", str(source), "--out", str(out), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=600)


def described(pids: list[int]) -> str:
    """What the processes still running are, for a failure message."""
    lines = []
    for pid in pids:
        try:
            lines.append(f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            lines.append(f"{pid}: gone")
    return "processes outlived their killed builds:\n" + "\n".join(lines)


def snapshot_rows(out: Path) -> dict[str, list[dict[str, object]]]:
    """Read the snapshot the manifest names, checking it is complete and consistent."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tables: dict[str, list[dict[str, object]]] = {}
    for name, table in manifest["tables"].items():
        rows: list[dict[str, object]] = []
        for entry in table["files"]:
            data = pq.read_table(out / entry["path"])
            assert data.num_rows == entry["rows"], entry["path"]
            rows.extend(data.to_pylist())
        assert len(rows) == table["rows"], name
        tables[name] = rows
    doc_ids = {d["doc_id"] for d in tables["documents"]}
    segment_ids = {s["segment_id"] for s in tables["segments"]}
    assert {s["doc_id"] for s in tables["segments"]} <= doc_ids
    for bead in tables["alignments"]:
        assert {bead["src_doc_id"], bead["tgt_doc_id"]} <= doc_ids
        assert set(bead["src_ids"]) | set(bead["tgt_ids"]) <= segment_ids  # type: ignore[arg-type]
    return tables


def comparable(tables: dict[str, list[dict[str, object]]]) -> dict[str, list[str]]:
    return {
        name: sorted(json.dumps({k: v for k, v in row.items() if k not in ("ingested_at", "seen_at")},
                                sort_keys=True, default=str) for row in rows)
        for name, rows in tables.items()
    }


def test_killed_builds_leave_a_consistent_snapshot_and_converge(
    tmp_path: Path, prefect_server: tuple[str, dict[str, str]]
) -> None:
    _, server_env = prefect_server
    marker = uuid.uuid4().hex  # marks the builds and every process they start
    env = {**server_env, "CORPUS_TEST_MARKER": marker}
    source, out = tmp_path / "in", tmp_path / "out"
    files = generate_corpus(source, works=12)
    started = time.monotonic()
    assert run_build(source, out, env).returncode == 0
    full_seconds = time.monotonic() - started

    rng = random.Random(7)
    kills_during_work = 0
    for attempt in range(KILLS):
        # Some files change before every build, so that each build has work to be interrupted in.
        for path in rng.sample(files, 8):
            path.write_text(path.read_text(encoding="utf-8") + f"\nRevision {attempt}.", encoding="utf-8")
        process = subprocess.Popen([str(BIN / "corpus"), "build", str(source), "--out", str(out), "--quiet"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, full_seconds))
        if process.poll() is None:
            kills_during_work += 1
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        snapshot_rows(out)
    assert kills_during_work >= KILLS // 2, "most kills must land while the build is running"
    # A worker ends once it has started (its start-up, importing Prefect, takes seconds on a loaded machine) and
    # finds its build gone.
    assert wait_until(lambda: not processes_marked(marker), 60), described(processes_marked(marker))

    final = run_build(source, out, env)
    assert final.returncode == 0, final.stdout + final.stderr
    reference = tmp_path / "reference"
    assert run_build(source, reference, env).returncode == 0
    assert comparable(snapshot_rows(out)) == comparable(snapshot_rows(reference))
    assert not list(out.rglob(".tmp-*")), "temp files of killed builds are cleaned up"
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.parquet")}
    assert on_disk == kept_files(out), "files of killed builds are removed (those of the last two snapshots stay)"
