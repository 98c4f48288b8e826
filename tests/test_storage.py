"""Immutable Parquet files, the atomic manifest, garbage collection and the build lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from schemas import REJECTS, SCHEMA_VERSION, RejectRow
from tasks.lock import CorpusLockedError, corpus_lock
from tasks.storage import (
    CorpusFormatError,
    collect_garbage,
    load_manifest,
    make_manifest,
    write_digest_named,
    write_manifest,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def rows(n: int) -> list[RejectRow]:
    return [RejectRow(source_path=f"f{i}.txt", reason="empty", message="m", content_sha256=None, seen_at=NOW)
            for i in range(n)]


def test_same_rows_give_the_same_file_and_bytes(tmp_path: Path) -> None:
    first = write_digest_named(tmp_path, REJECTS, "x", rows(3))
    before = (tmp_path / first.path).read_bytes()
    second = write_digest_named(tmp_path, REJECTS, "x", rows(3))
    assert first == second and (tmp_path / second.path).read_bytes() == before
    assert write_digest_named(tmp_path, REJECTS, "x", rows(4)).path != first.path


def test_parquet_carries_schema_version_and_column_descriptions(tmp_path: Path) -> None:
    entry = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    schema = pq.read_schema(tmp_path / entry.path)
    assert schema.metadata[b"parallel_corpus.schema_version"] == str(SCHEMA_VERSION).encode()
    assert schema.field("reason").metadata[b"description"]
    assert pq.ParquetFile(tmp_path / entry.path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_manifest_round_trip_and_garbage_collection(tmp_path: Path) -> None:
    kept = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    orphan = write_digest_named(tmp_path, REJECTS, "x", rows(2))
    (tmp_path / ".tmp-leftover").write_bytes(b"partial")
    manifest = make_manifest("b1", {"rejects": [kept]})
    write_manifest(tmp_path, manifest)
    assert load_manifest(tmp_path) == manifest
    removed = collect_garbage(tmp_path, manifest)
    assert orphan.path in removed and ".tmp-leftover" in removed
    assert (tmp_path / kept.path).exists() and not (tmp_path / orphan.path).exists()


def test_a_newer_or_broken_manifest_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="not a valid manifest"):
        load_manifest(tmp_path)
    newer = make_manifest("b", {}).model_copy(update={"schema_version": SCHEMA_VERSION + 1})
    write_manifest(tmp_path, newer)
    with pytest.raises(CorpusFormatError, match="newer"):
        load_manifest(tmp_path)


def test_second_build_is_refused_with_the_holder(tmp_path: Path) -> None:
    with (
        corpus_lock(tmp_path, "first"),
        pytest.raises(CorpusLockedError, match=rf"pid {os.getpid()}.*started"),
        corpus_lock(tmp_path, "second", wait_seconds=0.3),
    ):
        pass
    with corpus_lock(tmp_path, "third"):
        pass


def test_lock_of_a_killed_build_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from tasks.lock import corpus_lock\n"
         "with corpus_lock(Path(sys.argv[1]), 'killed'):\n print('held', flush=True); time.sleep(60)",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(CorpusLockedError, match=f"pid {holder.pid}"), corpus_lock(tmp_path, "blocked"):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        with corpus_lock(tmp_path, "after-kill", wait_seconds=5):
            assert time.monotonic() - started < 1
    finally:
        holder.kill()
        holder.wait()
