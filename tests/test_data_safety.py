"""Nothing lost: a build deletes only what it wrote, refuses what looks like a mistake, survives a full disk and
repairs a damaged output. Every case goes through `corpus build` as a person types it."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

import tasks.documents
from flows.cli import app
from tasks.ingest import Rejection
from tests.helpers import SEEDS, kept_files, listed

pytestmark = pytest.mark.usefixtures("prefect_harness")

runner = CliRunner()
THREE = sorted(SEEDS.glob("*.txt"))[:3]


def corpus(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def three(tmp_path: Path) -> Path:
    source = tmp_path / "in"
    source.mkdir()
    for path in THREE:
        shutil.copy(path, source / path.name)
    return source


def table_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.glob("*/**/*") if p.is_file() and not
            p.relative_to(out).as_posix().startswith(".")}


def manifest_files(out: Path) -> set[str]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {f["path"] for t in manifest["tables"].values() for f in t["files"]}


def doc_paths(out: Path) -> list[str]:
    return sorted(ds.dataset(listed(out, "documents")).to_table()["source_path"].to_pylist())


def test_a_users_files_in_the_output_folder_survive_builds(three: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORPUS_KEEP_SNAPSHOTS", "2")  # the previous snapshot's files stay too: only the corpus' go
    out = tmp_path / "out"
    (out / "documents").mkdir(parents=True)
    (out / "documents" / "cv.docx").write_text("cv", encoding="utf-8")
    (out / "segments" / "lang=xx").mkdir(parents=True)
    (out / "segments" / "lang=xx" / "notes.parquet").write_text("mine", encoding="utf-8")
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    for revision in range(2):  # replaces a work: its old files stay for one more build, then go
        (three / THREE[0].name).write_text(THREE[0].read_text(encoding="utf-8") + f"\nRevision {revision}.\n",
                                           encoding="utf-8")
        assert corpus("build", three, "--out", out, "-q").exit_code == 0
        assert (out / "documents" / "cv.docx").read_text(encoding="utf-8") == "cv"
        assert (out / "segments" / "lang=xx" / "notes.parquet").read_text(encoding="utf-8") == "mine"
        assert table_files(out) - {"documents/cv.docx", "segments/lang=xx/notes.parquet"} == kept_files(out)
        assert len(list((out / ".snapshots").glob("*.json"))) == 2 and manifest_files(out) < kept_files(out)


def test_a_reader_of_the_previous_snapshot_reads_it_after_a_build(three: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that loaded the manifest before a build published a new one still reads every file it named; the
    files that only that snapshot named go with the build after (CORPUS_KEEP_SNAPSHOTS=2, as a corpus read during
    its builds is set up; by default a build deletes them as it publishes, and readers reload the manifest)."""
    from tasks.io.reader import Corpus, iter_pairs

    monkeypatch.setenv("CORPUS_KEEP_SNAPSHOTS", "2")
    out = tmp_path / "out"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    reader = Corpus.open(out)  # a reader that loaded the manifest, and reads on while builds run
    pair = reader.pair(reader.languages[:2])
    first_read = list(iter_pairs(reader, pair, source="parallel")), list(iter_pairs(reader, pair))
    old = listed(out, "alignments") + listed(out, "documents") + listed(out, "parallel")
    (three / THREE[0].name).write_text(THREE[0].read_text(encoding="utf-8") + "\nOne more line.\n",
                                       encoding="utf-8")
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    gone = set(old) - set(listed(out, "alignments") + listed(out, "documents") + listed(out, "parallel"))
    assert gone, "the build replaced the work's files"
    assert (list(iter_pairs(reader, pair, source="parallel")), list(iter_pairs(reader, pair))) == first_read
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet({old}, union_by_name = true)").fetchall()[0][0] > 0
    (three / THREE[1].name).write_text(THREE[1].read_text(encoding="utf-8") + "\nOne more line.\n",
                                       encoding="utf-8")
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    assert not [path for path in gone if Path(path).exists()]


def test_an_input_folder_inside_the_output_is_refused_and_kept(three: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    shutil.copytree(three, out / "documents")
    result = corpus("build", out / "documents", "--out", out)
    assert result.exit_code == 2 and "inside the output folder" in result.output
    assert sorted(p.name for p in (out / "documents").iterdir()) == [p.name for p in THREE]


def test_a_manifest_naming_a_folder_outside_is_refused_and_nothing_is_deleted(three: Path, tmp_path: Path) -> None:
    out, victim = tmp_path / "o", tmp_path / "victim"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me", encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["../victim"] = {"files": [], "rows": 0}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = corpus("build", three, "--out", out)
    assert result.exit_code == 2 and "unknown table '../victim'" in result.output
    assert (victim / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_a_prune_of_most_of_the_corpus_needs_yes(three: Path, tmp_path: Path) -> None:
    out, empty, one = tmp_path / "out", tmp_path / "empty", tmp_path / "one"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    empty.mkdir()
    result = corpus("build", empty, "--out", out, "--prune")
    assert result.exit_code == 2 and "holds no input files" in result.output
    one.mkdir()
    shutil.copy(THREE[0], one / THREE[0].name)
    refused = corpus("build", one, "--out", out, "--prune")
    assert refused.exit_code == 2 and "--prune would remove 2 of the corpus' 3 documents" in refused.output
    assert len(doc_paths(out)) == 3
    dry = corpus("build", one, "--out", out, "--prune", "--dry-run")
    assert dry.exit_code == 0 and "dry run, nothing written" in dry.output
    assert f"pruned: {THREE[1].name}" in dry.output and f"pruned: {THREE[2].name}" in dry.output
    assert len(doc_paths(out)) == 3
    assert corpus("build", one, "--out", out, "--prune", "--yes", "-q").exit_code == 0
    assert doc_paths(out) == [THREE[0].name]


def test_a_file_that_changed_during_a_build_is_ingested_by_the_next(
    three: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    real = tasks.documents.read_document

    def changing(fp: Any, max_bytes: int) -> Any:
        if fp.file.source_path == THREE[1].name:
            return Rejection(fp.file.source_path, "changed_during_run", "changed while read", "f" * 64)
        return real(fp, max_bytes)

    monkeypatch.setattr(tasks.documents, "read_document", changing)
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    assert doc_paths(out) == [THREE[0].name, THREE[2].name]
    monkeypatch.setattr(tasks.documents, "read_document", real)
    result = corpus("build", three, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["new"] == 1
    assert doc_paths(out) == [p.name for p in THREE]


def test_a_deleted_or_truncated_file_is_repaired_from_the_source(three: Path, tmp_path: Path) -> None:
    out, reference = tmp_path / "out", tmp_path / "reference"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    assert corpus("build", three, "--out", reference, "-q").exit_code == 0
    alignments = next((out / "alignments").glob("*.parquet"))
    alignments.unlink()
    documents = next((out / "documents").glob("*.parquet"))
    documents.write_bytes(documents.read_bytes()[:100])
    stats = corpus("stats", out)
    assert stats.exit_code == 2 and "corpus verify" in stats.output
    verify = corpus("verify", out)
    assert verify.exit_code == 1 and "missing" in verify.output
    result = corpus("build", three, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"repaired: {alignments.relative_to(out).as_posix()}: missing" in result.output
    assert corpus("verify", out).exit_code == 0
    for table in ("documents", "segments", "alignments", "parallel"):
        columns = ["work_id"] if table != "segments" else ["segment_id", "text"]
        assert sorted(map(str, ds.dataset(listed(out, table)).to_table(columns=columns).to_pylist())) == sorted(
            map(str, ds.dataset(listed(reference, table)).to_table(columns=columns).to_pylist())), table


def test_a_full_disk_is_one_line_leaves_no_partial_file_and_the_next_build_works(
    three: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    before = table_files(out)
    (three / "new.txt").write_text(THREE[0].read_text(encoding="utf-8").replace("a", "e"), encoding="utf-8")
    real_fsync, calls = os.fsync, []

    def fsync_until_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_until_full)
    result = corpus("build", three, "--out", out, "-q")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert result.exit_code == 2 and "error: no space left on" in result.output
    assert table_files(out) == before, "the build's partial files are removed"
    assert not list(out.rglob(".tmp-*"))
    assert corpus("build", three, "--out", out, "-q").exit_code == 0


def test_a_snapshot_is_readable_by_other_users_and_every_table_has_a_file(three: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    assert (out / "manifest.json").stat().st_mode & 0o044 == 0o044
    assert all(Path(out / f).stat().st_mode & 0o044 == 0o044 for f in manifest_files(out))
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/rejects/*.parquet')").fetchall() == [(0,)]


@pytest.mark.slow
def test_refusals_and_a_damaged_manifest_are_one_line_in_a_real_process(three: Path, tmp_path: Path) -> None:
    """As a shell runs it: no Prefect traceback before the error line, even for an error raised inside the flow."""
    import subprocess

    from tests.helpers import BIN

    out = tmp_path / "out"
    assert corpus("build", three, "--out", out, "-q").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["../victim"] = {"files": [], "rows": 0}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["build", str(three), "--out", str(out)], ["build", str(empty), "--out", str(tmp_path / "o2")]):
        run = subprocess.run([str(BIN / "corpus"), *args], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "CORPUS_EMBEDDINGS": "off"})
        assert run.returncode == 2, run.stderr
        lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), lines


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_at_once_and_the_next_build_converges(tmp_path: Path, sig: int, code: int) -> None:
    import subprocess
    import time

    from bench.generate import generate_corpus
    from flows.interrupt import _descendants, alive
    from tests.helpers import BIN

    source, out = tmp_path / "in", tmp_path / "out"
    generate_corpus(source, works=30)
    env = {**os.environ, "CORPUS_EMBEDDINGS": "off"}
    build = subprocess.Popen([str(BIN / "corpus"), "build", str(source), "--out", str(out), "-q"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not (out / ".journal").exists() and time.monotonic() < deadline:  # until it writes files
        time.sleep(0.2)
    started = _descendants(build.pid)
    build.send_signal(sig)
    sent = time.monotonic()
    output, _ = build.communicate(timeout=60)
    assert build.returncode == code and time.monotonic() - sent < 5
    assert [line for line in output.splitlines() if line.strip()] == [
        line for line in output.splitlines() if line.startswith("error: interrupted")]
    assert not [pid for pid in started if alive(pid)], "child processes left running"
    final = subprocess.run([str(BIN / "corpus"), "build", str(source), "--out", str(out), "--json"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["counts"]["new"] == 150
    assert table_files(out) == manifest_files(out)


@pytest.mark.slow
def test_readers_looping_during_builds_never_fail(three: Path, tmp_path: Path) -> None:
    """`corpus stats`, `status`, `export` and `report` run again and again while builds replace the snapshot."""
    import subprocess
    import threading

    from tests.helpers import BIN

    out = tmp_path / "out"
    env = {**os.environ, "CORPUS_EMBEDDINGS": "off"}
    assert subprocess.run([str(BIN / "corpus"), "build", str(three), "--out", str(out), "-q"], env=env,
                          timeout=600).returncode == 0
    pair = ",".join(sorted(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["languages"])[:2])
    readers = [["stats", str(out)], ["status", str(out)], ["report", str(out / "r.html")],
               ["export", str(out), str(tmp_path / "x.tsv"), "--langs", pair, "--format", "tsv"]]
    failures: list[str] = []
    runs = [0]
    stop = threading.Event()

    def read_in_a_loop() -> None:
        while not stop.is_set():
            for args in readers:
                run = subprocess.run([str(BIN / "corpus"), *args], env=env, capture_output=True, text=True,
                                     timeout=300)
                runs[0] += 1
                if run.returncode != 0:
                    failures.append(f"{args[0]}: {run.stdout}{run.stderr}")

    loop = threading.Thread(target=read_in_a_loop)
    loop.start()
    try:
        for revision in range(3):
            for path in sorted(three.glob("*.txt")):
                path.write_text(path.read_text(encoding="utf-8") + f"\nRevision {revision}.\n", encoding="utf-8")
            assert subprocess.run([str(BIN / "corpus"), "build", str(three), "--out", str(out), "-q"], env=env,
                                  timeout=600).returncode == 0
    finally:
        stop.set()
        loop.join()
    assert runs[0] >= 8 and not failures, failures
