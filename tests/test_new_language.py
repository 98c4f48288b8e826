"""A language that appears in one work leaves every other work's files alone, and readers still see every language.

Each work's parallel file has struct fields for its own languages; the parallel table's all-languages file (no
rows) has one for every language of the corpus and sorts first, so readers that take the first file's schema
read the others into it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bench.generate import generate_corpus
from flows.cli import app
from tests.helpers import build_json

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()
LATE = "004_61b3231e0c8e63ca.txt"  # the fifth seed language: no work has it before the test adds it to one


def snapshot_files(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every Parquet file under the output folder: its mtime (ns) and bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*.parquet")}


def manifest_files(out: Path, table: str) -> list[str]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [str(out / f["path"]) for f in manifest["tables"][table]["files"]]


def newcomer(out: Path) -> str:
    """The language that only one work has."""
    found = duckdb.sql(f"SELECT lang FROM read_parquet({manifest_files(out, 'documents')}) "
                       "GROUP BY lang HAVING count(DISTINCT work_id) = 1").fetchall()
    assert len(found) == 1
    return str(found[0][0])


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
          ) -> tuple[Path, dict[str, tuple[int, bytes]], dict[str, tuple[int, bytes]]]:
    """Three works in four languages built, then a file in a fifth language added to one of them: the output
    folder and its Parquet files before and after (the previous snapshot's files kept, to compare with)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CORPUS_KEEP_SNAPSHOTS", "2")
        return _grow(tmp_path_factory.mktemp("new-language"))


def _grow(root: Path) -> tuple[Path, dict[str, tuple[int, bytes]], dict[str, tuple[int, bytes]]]:
    source, aside, out = root / "in", root / "aside", root / "out"
    generate_corpus(source, 3)
    aside.mkdir()
    for work in sorted(source.iterdir()):
        (work / "gold.tsv").unlink()
        shutil.move(work / LATE, aside / work.name)
    build_json(source, out)
    before = snapshot_files(out)
    shutil.copy(aside / "work-00001", source / "work-00001" / LATE)
    summary = build_json(source, out)
    assert summary["counts"]["new"] == 1 and summary["counts"]["unchanged"] == 12
    return out, before, snapshot_files(out)


def test_a_new_language_rewrites_no_other_works_file(
        grown: tuple[Path, dict[str, tuple[int, bytes]], dict[str, tuple[int, bytes]]]) -> None:
    out, before, after = grown
    previous = json.loads(sorted((out / ".snapshots").glob("*.json"))[0].read_text(encoding="utf-8"))
    named_before = {f["path"] for t in previous["tables"].values() for f in t["files"]}
    named_after = {f["path"] for t in json.loads((out / "manifest.json").read_text())["tables"].values()
                   for f in t["files"]}
    replaced = sorted(named_before - named_after)
    # The stats tables (one file each, a few rows per document: tasks.store.overview) are written anew:
    assert sorted(path.split("/")[0] for path in replaced if "_stats/" in path) == ["document_stats", "pair_stats"]
    replaced = [path for path in replaced if "_stats/" not in path]
    # The grown work's documents, alignments and parallel files, and the all-languages file, are replaced:
    assert len(replaced) == 4, replaced
    assert sum(1 for path in replaced if path.startswith("parallel/")) == 2
    assert any(path.startswith("parallel/all-languages-") for path in replaced)
    for path in before:  # every file stays as it was (the replaced ones too: kept for readers of that snapshot)
        assert after[path] == before[path], f"{path} was rewritten"
    old_work_files = [p for p in named_after & named_before if p.startswith("parallel/w")]
    assert len(old_work_files) == 2
    for path in old_work_files:  # an unchanged work's file keeps its own four languages
        assert len(pq.read_schema(out / path).field("translation").type) == 4


def test_readers_see_every_language(
        grown: tuple[Path, dict[str, tuple[int, bytes]], dict[str, tuple[int, bytes]]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = grown[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    languages, rows = manifest["languages"], manifest["tables"]["parallel"]["rows"]
    assert len(languages) == 5
    files = manifest_files(out, "parallel")
    # DuckDB, on the manifest's files
    units = duckdb.sql(f"SELECT work_id, unnest(translation) FROM read_parquet({files})").df()
    assert sorted(c for c in units.columns if c != "work_id") == languages and len(units) == rows
    texts = units.groupby("work_id").count()  # non-null texts per work and language
    assert texts.loc["work-00001", newcomer(out)] > 0
    assert (texts[newcomer(out)] > 0).sum() == 1 and (texts.drop(columns=newcomer(out)) > 0).all().all()
    # pyarrow datasets and pandas
    table = ds.dataset(files).to_table()
    assert table.num_rows == rows and table.schema.field("translation").type.names == languages
    frame = pd.read_parquet(files)
    assert len(frame) == rows and all(sorted(t) == languages for t in frame["translation"])
    assert frame["translation"].map(lambda t: t[newcomer(out)] is not None).sum() > 0
    # polars, told to give a work's file the fields it lacks
    frame = pl.scan_parquet(files, cast_options=pl.ScanCastOptions(missing_struct_fields="insert")).collect()
    assert frame.height == rows and list(frame.unnest("translation").columns[2:7]) == languages
    # Hugging Face datasets, through pyarrow
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is not installed")
    data = datasets.Dataset(ds.dataset(files).to_table())
    assert isinstance(data.features["translation"], datasets.Translation)
    assert data.features["translation"].languages == languages and data.num_rows == rows


def test_the_corpus_commands_read_every_language(
        grown: tuple[Path, dict[str, tuple[int, bytes]], dict[str, tuple[int, bytes]]], tmp_path: Path) -> None:
    out = grown[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    languages = manifest["languages"]
    stats = invoke("stats", str(out))
    assert all(lang in stats for lang in languages)
    new_lang = newcomer(out)
    other = next(lang for lang in languages if lang != new_lang)
    for source in ("parallel", "beads"):
        dest = tmp_path / f"{source}.tsv"
        invoke("export", str(out), str(dest), "--langs", f"{new_lang},{other}", "--source", source)
        assert len(dest.read_text(encoding="utf-8").splitlines()) > 10
    invoke("export", str(out), str(tmp_path / "all"), "--langs", "all", "--format", "tsv", "--source", "parallel")
    assert len(list((tmp_path / "all").iterdir())) == len(languages) * (len(languages) - 1) // 2
    shown = invoke("show", str(out), "--langs", f"{new_lang},{other}", "--work", "work-00001")
    assert new_lang in shown
