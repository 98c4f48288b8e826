"""The stats tables (document_stats/, pair_stats/): what `corpus stats` and `corpus status` read instead of every
work's files, kept by each build, repaired like any table file, and the same statistics as the tables give."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bench.generate import generate_corpus
from flows.cli import app
from schemas import DOCUMENT_STATS, PAIR_STATS, STATS_TABLES, Manifest
from tasks.io.stats import corpus_stats
from tasks.io.status import corpus_status
from tasks.store.snapshot import load_snapshot
from tasks.store.storage import MANIFEST_NAME, load_manifest, python_rows, write_manifest
from tests.helpers import build_json, make_corpus

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two generated works of five languages, one file held back; built once."""
    root = tmp_path_factory.mktemp("overview")
    source = root / "in"
    generate_corpus(source, works=2)
    held = sorted(source.rglob("*.txt"))[-1]
    shutil.move(held, root / "held.txt")
    (root / "held-path").write_text(str(held.relative_to(source)), encoding="utf-8")
    build_json(source, root / "out", "--no-embeddings")
    return source, root / "out"


def _unreadable(out: Path, *tables: str) -> None:
    """The tables' files overwritten with zeros of the same size: a reader of them fails, a size check passes."""
    for table in tables:
        for path in (out / table).rglob("*.parquet"):
            path.write_bytes(bytes(path.stat().st_size))


def _copy(out: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(out, target)
    return target


def test_the_build_writes_one_file_per_stats_table_with_a_row_per_document_and_pair(built: tuple[Path, Path]) -> None:
    _, out = built
    manifest = load_manifest(out)
    assert manifest is not None
    assert [len(manifest.tables[t.name].files) for t in STATS_TABLES] == [1, 1]
    assert manifest.tables[DOCUMENT_STATS.name].rows == manifest.tables["documents"].rows == 9
    assert manifest.tables[PAIR_STATS.name].rows == 10 + 6  # a work of five documents and one of four


def test_stats_and_status_read_only_the_stats_tables_and_say_what_the_tables_say(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = built
    expected_stats = corpus_stats(out, from_tables=True)
    expected_status = corpus_status(out, from_tables=True)
    out = _copy(out, tmp_path)
    _unreadable(out, "segments", "alignments", "documents", "parallel")  # what they read before
    with pytest.raises(Exception, match="Parquet"):
        corpus_stats(out, from_tables=True)
    assert corpus_stats(out) == expected_stats
    assert corpus_status(out).model_copy(update={"out": expected_status.out}) == expected_status
    assert expected_stats.documents == 9 and len(expected_stats.pairs) == 10


def test_adding_a_translation_replaces_its_works_rows_and_keeps_the_others(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    source, out = built
    source_copy = tmp_path / "in"
    shutil.copytree(source, source_copy)
    held_path = (out.parent / "held-path").read_text(encoding="utf-8")
    shutil.copy(out.parent / "held.txt", source_copy / held_path)
    out = _copy(out, tmp_path)
    before = corpus_status(out)
    build_json(source_copy, out, "--no-embeddings")
    manifest = load_manifest(out)
    assert manifest is not None
    assert manifest.tables[DOCUMENT_STATS.name].rows == 10 and manifest.tables[PAIR_STATS.name].rows == 20
    assert corpus_stats(out) == corpus_stats(out, from_tables=True)
    after = corpus_status(out)
    assert after == corpus_status(out, from_tables=True)
    grown = {w.work_id for w in after.works} - {w.work_id for w in before.works if w in after.works}
    assert len(grown) == 1 and all(w.pairs_aligned == w.pairs_expected == 10 for w in after.works)


def test_a_corpus_without_stats_tables_is_read_from_its_tables_until_a_build_adds_them(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    source, out = built
    expected = corpus_stats(out)
    out = _copy(out, tmp_path)
    manifest = load_manifest(out)
    assert manifest is not None
    old = Manifest.model_validate(manifest.model_dump() | {
        "tables": {k: v for k, v in manifest.tables.items() if k not in (DOCUMENT_STATS.name, PAIR_STATS.name)}})
    write_manifest(out, old)  # as a build before the stats tables wrote it
    assert corpus_stats(out) == expected
    source_copy = tmp_path / "in"
    shutil.copytree(source, source_copy)
    held = built[1].parent
    shutil.copy(held / "held.txt", source_copy / (held / "held-path").read_text(encoding="utf-8"))
    build_json(source_copy, out, "--no-embeddings")  # rebuilds one work; the other's rows come from its tables
    manifest = load_manifest(out)
    assert manifest is not None and manifest.tables[DOCUMENT_STATS.name].rows == 10
    assert corpus_stats(out) == corpus_stats(out, from_tables=True)
    _unreadable(out, "segments", "alignments")
    assert corpus_stats(out).documents == 10  # from the stats tables alone


def test_verify_checks_the_stats_files_and_a_build_repairs_them(built: tuple[Path, Path], tmp_path: Path) -> None:
    source, out = built
    expected = corpus_stats(out)
    out = _copy(out, tmp_path)
    manifest = load_manifest(out)
    assert manifest is not None
    damaged = out / manifest.tables[PAIR_STATS.name].files[0].path
    damaged.write_bytes(damaged.read_bytes()[:-8])  # truncated: a build notices (size), verify too
    result = runner.invoke(app, ["verify", str(out)])
    assert result.exit_code == 1 and "pair_stats/" in result.output
    build_json(source, out, "--no-embeddings")
    assert runner.invoke(app, ["verify", str(out)]).exit_code == 0
    assert corpus_stats(out).model_dump(exclude={"written_at"}) == expected.model_dump(exclude={"written_at"})


def test_status_of_many_works_is_a_summary_and_all_lists_every_document(tmp_path: Path) -> None:
    works = {f"work-{i:02d}": {"en": [("title", f"T {i}"), ("paragraph", "x")], "fr": [("title", f"U {i}")]}
             for i in range(25)}
    works["half"] = {"de": [("title", "D")], "en": [("title", "E")], "fr": [("title", "F")]}
    out = make_corpus(tmp_path / "out", works, {"half": [("de", "en", [0], [0], 0.9)]})  # fr aligned with neither
    result = runner.invoke(app, ["status", str(out)])
    assert result.exit_code == 0, result.output
    assert ("26 works, 53 documents (de 1, en 26, fr 26); 26 of 28 document pairs aligned, 1 work(s) INCOMPLETE"
            in result.output.replace("\n", " "))
    assert "half/fr.txt" in result.output and "1/3 (INCOMPLETE)" in result.output  # what needs a look, in full
    assert "work-03/en.txt" not in result.output and "--all" in result.output
    result = runner.invoke(app, ["status", str(out), "--all"])
    assert all(f"work-{i:02d}/en.txt" in result.output for i in range(25))
    as_json = json.loads(runner.invoke(app, ["status", str(out), "--json"]).stdout)
    assert len(as_json["works"]) == 26
    assert (out / MANIFEST_NAME).is_file()


def test_a_build_plans_from_the_document_stats_file_without_reading_each_works_documents(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = built
    manifest = load_manifest(out)
    expected = load_snapshot(out, manifest)
    out = _copy(out, tmp_path)
    _unreadable(out, "documents")  # one file per work: what a build read before
    snapshot = load_snapshot(out, load_manifest(out))
    assert snapshot.documents == expected.documents and not snapshot.damaged
    assert len(snapshot.documents) == 9


def test_stats_status_and_a_no_op_build_import_neither_pandas_nor_pyarrow_dataset(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    """pandas (imported by pyarrow.dataset, by pq.read_table, and by pyarrow for timestamps and Python values) costs
    ~0.4 s of a command that reads two small files."""
    source, out = built
    out = _copy(out, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), CORPUS_EMBEDDINGS="off")
    for args in (["stats", str(out)], ["status", str(out)], ["build", str(source), "--out", str(out), "-q"]):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "flows.cli", *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "import time:" in line}
        assert not imported & {"pandas", "pyarrow.dataset"}, args


def test_python_rows_are_pyarrows_rows() -> None:
    data = pa.table({"at": pa.array([0, None, 1_764_000_000_123_456], pa.timestamp("us", tz="UTC")),
                     "n": [1, 2, 3], "s": ["a", None, "é"]})
    assert python_rows(data) == data.to_pylist()
