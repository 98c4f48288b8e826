"""Immutable Parquet files, the atomic manifest, garbage collection and the build lock."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from schemas import REJECTS, SCHEMA_VERSION, RejectRow
from tasks.errors import CorpusError
from tasks.files import _umask
from tasks.store.lock import CorpusLockedError, corpus_lock
from tasks.store.storage import (
    CorpusFormatError,
    NoSpaceError,
    check_files,
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


def test_an_empty_table_is_a_file_without_row_groups(tmp_path: Path) -> None:
    """Its schema, and no row group: Hugging Face datasets fails on an empty one (batch size 0)."""
    entry = write_digest_named(tmp_path, REJECTS, "x", [])
    parquet = pq.ParquetFile(tmp_path / entry.path)
    assert parquet.metadata.num_row_groups == 0 and parquet.metadata.num_rows == 0
    assert parquet.schema_arrow.names == REJECTS.arrow_schema.names


def test_parquet_carries_schema_version_and_column_descriptions(tmp_path: Path) -> None:
    entry = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    schema = pq.read_schema(tmp_path / entry.path)
    assert schema.metadata[b"parallel_corpus.schema_version"] == str(SCHEMA_VERSION).encode()
    assert schema.field("reason").metadata[b"description"]
    assert pq.ParquetFile(tmp_path / entry.path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_manifest_round_trip_and_garbage_collection(tmp_path: Path) -> None:
    kept = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    orphan = write_digest_named(tmp_path, REJECTS, "x", rows(2))  # written, never published: a killed build's
    leftover = tmp_path / "rejects" / f".tmp-{Path(orphan.path).name}-0a1b2c3d"
    leftover.write_bytes(b"partial")
    manifest = make_manifest("b1", {"rejects": [kept]})
    write_manifest(tmp_path, manifest)
    assert load_manifest(tmp_path) == manifest
    removed = collect_garbage(tmp_path, manifest)
    assert removed == [orphan.path]
    assert (tmp_path / kept.path).exists() and not (tmp_path / orphan.path).exists() and not leftover.exists()


def publish(out: Path, build_id: str, n_rows: int) -> str:
    """A build that writes a rejects file of ``n_rows`` rows, publishes it and collects garbage: the file."""
    entry = write_digest_named(out, REJECTS, "x", rows(n_rows))
    write_manifest(out, make_manifest(build_id, {"rejects": [entry]}))
    collect_garbage(out, load_manifest(out))
    return entry.path


def remembered(out: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[1].removesuffix(".json") for p in (out / ".snapshots").iterdir())


def test_by_default_a_superseded_file_goes_when_the_new_snapshot_is_published(tmp_path: Path) -> None:
    first = publish(tmp_path, "b1", 1)
    second = publish(tmp_path, "b2", 2)
    assert not (tmp_path / first).exists() and (tmp_path / second).exists(), "the folder holds one snapshot"
    assert remembered(tmp_path) == ["b2"]


def test_a_file_of_the_previous_snapshot_stays_for_one_more_build(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORPUS_KEEP_SNAPSHOTS", "2")
    first = publish(tmp_path, "b1", 1)
    second = publish(tmp_path, "b2", 2)
    assert (tmp_path / first).exists(), "a reader of the previous snapshot still finds its files"
    assert remembered(tmp_path) == ["b1", "b2"]
    publish(tmp_path, "b3", 3)
    assert not (tmp_path / first).exists() and (tmp_path / second).exists()
    assert remembered(tmp_path) == ["b2", "b3"]


@pytest.mark.parametrize("keep", [1, 3, 4])
def test_the_number_of_snapshots_kept_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      keep: int) -> None:
    monkeypatch.setenv("CORPUS_KEEP_SNAPSHOTS", str(keep))
    paths = [publish(tmp_path, f"b{i}", i) for i in range(1, 6)]
    assert [(tmp_path / p).exists() for p in paths] == [False] * (5 - keep) + [True] * keep
    assert remembered(tmp_path) == [f"b{i}" for i in range(6 - keep, 6)]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_wrong_number_of_snapshots_to_keep_is_a_users_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              value: str) -> None:
    first = publish(tmp_path, "b1", 1)
    monkeypatch.setenv("CORPUS_KEEP_SNAPSHOTS", value)
    with pytest.raises(CorpusError, match="CORPUS_KEEP_SNAPSHOTS"):
        collect_garbage(tmp_path, load_manifest(tmp_path))
    assert (tmp_path / first).exists()


def test_garbage_collection_never_touches_what_the_corpus_did_not_write(tmp_path: Path) -> None:
    """Files in folders named like tables, and names that look like the corpus' own, stay unless a manifest of
    this corpus or its journal named them."""
    kept = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    manifest = make_manifest("b1", {"rejects": [kept]})
    write_manifest(tmp_path, manifest)
    collect_garbage(tmp_path, manifest)
    strangers = [tmp_path / "documents" / "cv.docx", tmp_path / "rejects" / "rejects-0123456789abcdef.parquet",
                 tmp_path / "segments" / "lang=en" / "notes.txt", tmp_path / ".tmp-mine"]
    for path in strangers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not the corpus'", encoding="utf-8")
    assert collect_garbage(tmp_path, manifest) == []
    assert all(path.exists() for path in strangers)


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["tables"].update({"../victim": {"files": [], "rows": 0}}), "unknown table '../victim'"),
    (lambda m: m["tables"]["rejects"]["files"].append({"path": "../elsewhere/x.parquet", "rows": 0}),
     "not a table file"),
    (lambda m: m["tables"]["rejects"]["files"].append({"path": "/etc/passwd", "rows": 0}), "not a table file"),
    (lambda m: m["tables"]["rejects"]["files"].append({"path": "documents/w1-2.parquet", "rows": 0}),
     "names files of another folder"),
    (lambda m: m.update({"schema_version": 0}), "greater than or equal to 1"),
    (lambda m: m.update({"schema_version": -5}), "greater than or equal to 1"),
    (lambda m: m["tables"]["rejects"].update({"rows": 7}), "not the sum of its files' rows"),
])
def test_a_manifest_that_points_outside_its_tables_is_refused(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    kept = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    write_manifest(tmp_path, make_manifest("b1", {"rejects": [kept]}))
    data = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    change(data)
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=re.escape(message)):
        load_manifest(tmp_path)


def test_files_get_the_umask_permissions_not_0600(tmp_path: Path) -> None:
    entry = write_digest_named(tmp_path, REJECTS, "x", rows(1))
    write_manifest(tmp_path, make_manifest("b1", {"rejects": [entry]}))
    expected = 0o666 & ~_umask()
    assert (tmp_path / "manifest.json").stat().st_mode & 0o777 == expected
    assert (tmp_path / entry.path).stat().st_mode & 0o777 == expected


def test_a_full_disk_is_one_clear_error_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.fdopen

    def full(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_write(fd, mode, *args, **kwargs)

        def no_space(_payload: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")
        handle.write = no_space
        return handle

    monkeypatch.setattr(os, "fdopen", full)
    with pytest.raises(NoSpaceError, match=r"no space left on .*needed for the next file"):
        write_digest_named(tmp_path, REJECTS, "x", rows(3))
    assert not [p for p in (tmp_path / "rejects").iterdir()], "the temp file is removed"


def test_check_files_finds_missing_resized_and_altered_files(tmp_path: Path) -> None:
    a = write_digest_named(tmp_path, REJECTS, "a", rows(1))
    b = write_digest_named(tmp_path, REJECTS, "b", rows(2))
    c = write_digest_named(tmp_path, REJECTS, "c", rows(3))
    manifest = make_manifest("b1", {"rejects": [a, b, c]})
    (tmp_path / a.path).unlink()
    (tmp_path / b.path).write_bytes(b"PAR1 short")
    payload = bytearray((tmp_path / c.path).read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    (tmp_path / c.path).write_bytes(bytes(payload))
    quick = {d.path: d.problem for d in check_files(tmp_path, manifest)}
    assert quick == {a.path: "missing", b.path: f"10 bytes where the manifest says {b.bytes}"}
    deep = {d.path: d.problem for d in check_files(tmp_path, manifest, deep=True)}
    assert deep[c.path] == "its content differs from what was written (SHA-256)"


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
         "import sys, time; from pathlib import Path; from tasks.store.lock import corpus_lock\n"
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
