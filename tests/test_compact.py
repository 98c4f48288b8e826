"""`corpus compact`: few large files instead of many small ones, the same rows, and builds stay incremental."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from bench.generate import generate_corpus
from flows.cli import app
from tasks.store.storage import file_members, load_manifest
from tests.helpers import build_json, kept_files, listed, rows

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()
TABLES = ("documents", "segments", "alignments", "parallel", "rejects")


def _file_counts(out: Path) -> dict[str, int]:
    manifest = load_manifest(out)
    assert manifest is not None
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.parquet")}
    assert on_disk == kept_files(out), "only the files of the current and the previous snapshots stay"
    return {name: len(table.files) for name, table in manifest.tables.items()}


def _what_readers_see(out: Path, scratch: Path) -> list[str]:
    """The outputs of the reading commands: exports from the parallel table and from the beads, and `show`."""
    scratch.mkdir()
    seen = []
    for source in ("parallel", "beads"):
        dest = scratch / f"{source}.tsv"
        result = runner.invoke(app, ["export", str(out), str(dest), "--langs", "sw,th", "--source", source])
        assert result.exit_code == 0, result.output
        seen.append(dest.read_text(encoding="utf-8"))
        assert len(seen[-1].splitlines()) > 50  # pairs of every work
    shown = runner.invoke(app, ["show", str(out), "--langs", "sw,th", "--work", "work-00002", "--limit", "5"])
    assert shown.exit_code == 0, shown.output
    return [*seen, shown.output]


@pytest.mark.slow  # three builds of four works: the fast suite has the next test's one build
def test_compaction_keeps_the_rows_and_later_builds_stay_incremental(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    generate_corpus(source, works=4)
    late = sorted((source / "work-00001").glob("*.txt"))[-1]
    held_back = tmp_path / late.name
    shutil.move(late, held_back)
    (source / "empty.txt").write_bytes(b"")  # a reject, so that every table has rows
    build_json(source, out)
    before = {table: rows(out, table) for table in TABLES}
    assert _file_counts(out)["segments"] == 19
    readers_before = _what_readers_see(out, tmp_path / "before")

    result = runner.invoke(app, ["compact", str(out)])
    assert result.exit_code == 0, result.output
    assert "segments: 19 -> 5 files" in result.output  # one per language partition
    # parallel: the merged file, and the all-languages file (no rows) kept as it is
    # the stats tables are one file each already
    assert _file_counts(out) == {"documents": 1, "segments": 5, "alignments": 1, "rejects": 1, "parallel": 2,
                                 "document_stats": 1, "pair_stats": 1}
    assert {table: rows(out, table) for table in TABLES} == before
    assert _what_readers_see(out, tmp_path / "after") == readers_before
    segments = duckdb.sql(f"SELECT count(*) FROM read_parquet({listed(out, 'segments')}, hive_partitioning=true)")
    assert segments.fetchall() == [(len(before["segments"]),)]
    again = runner.invoke(app, ["compact", str(out)])
    assert again.exit_code == 0 and "nothing to merge" in again.output

    # A new translation of work 1 and a changed file of work 2: their rows leave the merged files.
    shutil.move(held_back, late)
    changed = sorted((source / "work-00002").glob("*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nOne more closing line, added later.\n",
                       encoding="utf-8")
    summary = build_json(source, out)
    assert summary["counts"] == {"new": 1, "changed": 1, "unchanged": 18, "missing": 0, "pruned": 0, "moved": 0}
    counts = _file_counts(out)
    assert counts["documents"] == 3  # the merged file (works 0 and 3) and one file per rebuilt work
    assert counts["segments"] == 5 + 10
    scratch = tmp_path / "scratch"
    build_json(source, scratch)
    for table in TABLES:
        assert rows(out, table) == rows(scratch, table), table


def test_merged_files_are_at_most_max_rows_unless_one_file_is_larger(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    generate_corpus(source, works=3)
    build_json(source, out)
    manifest = load_manifest(out)
    assert manifest is not None
    per_work = [f.rows for f in manifest.tables["alignments"].files]
    result = runner.invoke(app, ["compact", str(out), "--max-rows", str(max(per_work) + min(per_work))])
    assert result.exit_code == 0, result.output
    compacted = load_manifest(out)
    assert compacted is not None
    assert 1 < len(compacted.tables["alignments"].files) < len(per_work)
    assert all(f.rows <= max(per_work) + min(per_work) for f in compacted.tables["alignments"].files)
    works = sorted(file_members(f)[0] for f in manifest.tables["alignments"].files)
    assert sorted(m for f in compacted.tables["alignments"].files for m in file_members(f)) == works


def test_compacting_a_folder_without_a_corpus_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compact", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "holds no corpus" in result.output
    assert not (tmp_path / "nothing").exists()
