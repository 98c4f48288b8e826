"""Incremental builds: new translations, changed, removed and duplicate files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from tests.helpers import SEEDS, build_json, listed, rows

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()
def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.parquet")}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    out = tmp_path_factory.mktemp("scratch") / "out"
    build_json(SEEDS, out)
    return out


@pytest.mark.parametrize("late", ["001_7525a00fc9209105.txt", "004_61b3231e0c8e63ca.txt"])
def test_adding_a_translation_equals_a_build_from_scratch(tmp_path: Path, scratch: Path, late: str) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for seed in sorted(SEEDS.iterdir()):
        if seed.name != late:
            shutil.copy(seed, source / seed.name)
    build_json(source, out)
    segments_before = {k: v for k, v in files(out).items() if k.startswith("segments/")}
    shutil.copy(SEEDS / late, source / late)
    summary = build_json(source, out)
    assert summary["counts"] == {"new": 1, "changed": 0, "unchanged": 4, "missing": 0, "pruned": 0, "moved": 0}
    assert summary["pairs_aligned"] == 4
    after = files(out)
    assert all(after[k] == v for k, v in segments_before.items()), "existing segment files must not change"
    for table in ("documents", "segments", "alignments"):
        assert rows(out, table) == rows(scratch, table), table


def test_changed_file_replaces_its_document_and_alignments(seeds_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_json(seeds_copy, out)
    before = {d["source_path"]: d["doc_id"] for d in ds.dataset(listed(out, "documents")).to_table().to_pylist()}
    changed = seeds_copy / "002_13aaf5bb51a2e065.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nSatu paragraf tambahan di akhir.\n",
                       encoding="utf-8")
    summary = build_json(seeds_copy, out)
    assert summary["counts"]["changed"] == 1 and summary["pairs_aligned"] == 4  # type: ignore[index]
    after = {d["source_path"]: d["doc_id"] for d in ds.dataset(listed(out, "documents")).to_table().to_pylist()}
    assert after.keys() == before.keys()
    assert {p for p in after if after[p] != before[p]} == {"002_13aaf5bb51a2e065.txt"}
    old_id = before["002_13aaf5bb51a2e065.txt"]
    segments = ds.dataset(listed(out, "segments"), partitioning="hive",
                          partition_base_dir=str(out / "segments")).to_table()
    assert old_id not in set(segments["doc_id"].to_pylist())
    alignments = ds.dataset(listed(out, "alignments")).to_table()
    assert old_id not in set(alignments["src_doc_id"].to_pylist()) | set(alignments["tgt_doc_id"].to_pylist())
    assert len({(r["src_doc_id"], r["tgt_doc_id"]) for r in alignments.to_pylist()}) == 10


def test_removed_file_stays_until_pruned(seeds_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_json(seeds_copy, out)
    (seeds_copy / "003_8846db1da0658b01.txt").unlink()
    kept = build_json(seeds_copy, out)
    assert kept["missing"] == ["003_8846db1da0658b01.txt"] and kept["nothing_to_do"]
    assert len(ds.dataset(listed(out, "documents")).to_table()) == 5
    pruned = build_json(seeds_copy, out, "--prune")
    assert pruned["pruned"] == ["003_8846db1da0658b01.txt"]
    assert sorted(ds.dataset(listed(out, "documents")).to_table()["lang"].to_pylist()) == ["id", "sw", "th", "zh-Hant"]
    alignments = ds.dataset(listed(out, "alignments")).to_table()
    assert "mr" not in set(alignments["src_lang"].to_pylist()) | set(alignments["tgt_lang"].to_pylist())
    assert not [path for path in listed(out, "segments") if "/lang=mr/" in path]


def test_duplicate_content_is_stored_once_and_reported(seeds_copy: Path, tmp_path: Path) -> None:
    shutil.copy(seeds_copy / "000_4cf4beee2d576faf.txt", seeds_copy / "copy-of-swahili.txt")
    out = tmp_path / "out"
    summary = build_json(seeds_copy, out)
    assert [(r["source_path"], r["reason"]) for r in summary["rejects"]] == [  # type: ignore[index, union-attr]
        ("copy-of-swahili.txt", "duplicate")
    ]
    assert "000_4cf4beee2d576faf.txt" in summary["rejects"][0]["message"]  # type: ignore[index]
    assert len(ds.dataset(listed(out, "documents")).to_table()) == 5
    rejects = ds.dataset(listed(out, "rejects")).to_table().to_pylist()
    assert [r["reason"] for r in rejects] == ["duplicate"]
    again = build_json(seeds_copy, out)
    assert again["nothing_to_do"]
