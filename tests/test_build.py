"""`corpus build` end to end on the seeds, as a user types it, and reading the output back."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import SEEDS, build_json

pytestmark = pytest.mark.usefixtures("prefect_harness")

EXPECTED_LANGS = {
    "000_4cf4beee2d576faf.txt": "sw",
    "001_7525a00fc9209105.txt": "th",
    "002_13aaf5bb51a2e065.txt": "id",
    "003_8846db1da0658b01.txt": "mr",
    "004_61b3231e0c8e63ca.txt": "zh-Hant",
}

runner = CliRunner()


@pytest.fixture(scope="module")
def seeds_output(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "output"
    result = runner.invoke(app, ["build", str(SEEDS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "built" in result.output
    return out


def test_output_has_the_four_tables_and_a_manifest(seeds_output: Path) -> None:
    manifest = json.loads((seeds_output / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == 1
    assert set(manifest["tables"]) >= {"documents", "segments", "alignments", "rejects"}
    for name, table in manifest["tables"].items():
        for entry in table["files"]:
            assert pq.read_metadata(seeds_output / entry["path"]).num_rows == entry["rows"], name
    assert manifest["tables"]["rejects"]["rows"] == 0


def test_five_documents_with_the_right_languages(seeds_output: Path) -> None:
    documents = ds.dataset(seeds_output / "documents").to_table().to_pylist()
    assert {d["source_path"]: d["lang"] for d in documents} == EXPECTED_LANGS
    scripts = {d["lang"]: d["script"] for d in documents}
    assert scripts == {"sw": "Latn", "th": "Thai", "id": "Latn", "mr": "Deva", "zh-Hant": "Hant"}
    assert all(d["work_id"] == "." and d["doc_id"] == d["content_sha256"][:16] for d in documents)
    assert all(8 <= d["n_sections"] <= 16 and d["title"] for d in documents)


def test_every_pair_is_aligned_at_both_levels(seeds_output: Path) -> None:
    con = duckdb.connect()
    pairs = con.execute(
        f"SELECT src_doc_id, tgt_doc_id, level, count(*) FROM read_parquet('{seeds_output}/alignments/*.parquet') "
        "GROUP BY ALL"
    ).fetchall()
    assert len(pairs) == 20
    docs = [r[0] for r in con.execute(f"SELECT doc_id FROM read_parquet('{seeds_output}/documents/*.parquet')")
            .fetchall()]
    assert {frozenset(p[:2]) for p in pairs} == {frozenset(p) for p in itertools.combinations(docs, 2)}


def test_segments_read_back_with_duckdb_hive_partitioning(seeds_output: Path) -> None:
    rows = duckdb.connect().execute(
        f"SELECT lang, count(*) FROM read_parquet('{seeds_output}/segments/**/*.parquet', hive_partitioning=true) "
        "GROUP BY lang ORDER BY lang"
    ).fetchall()
    assert {lang for lang, _ in rows} == set(EXPECTED_LANGS.values())
    assert all(n >= 30 for _, n in rows)


def test_segments_cover_every_line_and_offsets_round_trip(seeds_output: Path) -> None:
    segments = ds.dataset(seeds_output / "segments", partitioning="hive").to_table().to_pylist()
    documents = {d["doc_id"]: d for d in ds.dataset(seeds_output / "documents").to_table().to_pylist()}
    by_doc: dict[str, list[dict[str, object]]] = {}
    for s in segments:
        by_doc.setdefault(str(s["doc_id"]), []).append(s)
    for doc_id, segs in by_doc.items():
        source = (SEEDS / documents[doc_id]["source_path"]).read_text(encoding="utf-8")
        lines = source.split("\n")
        covered = sorted(n for s in segs for n in range(int(s["line_start"]), int(s["line_end"]) + 1))  # type: ignore[call-overload]
        assert covered == [i + 1 for i, line in enumerate(lines) if line.strip()]
        for s in segs:
            span = source[int(s["char_start"]):int(s["char_end"])]  # type: ignore[call-overload]
            assert str(s["text"]).split()[-1] in span.split()[-1] or str(s["text"])[-3:] in span


def test_stats_prints_languages_and_pairs(seeds_output: Path) -> None:
    result = runner.invoke(app, ["stats", str(seeds_output)])
    assert result.exit_code == 0, result.output
    for lang in EXPECTED_LANGS.values():
        assert lang in result.output
    assert "coverage" in result.output
    lines = result.output.splitlines()  # a terminal of 80 columns (the CLI runner's width): nothing cut
    assert max(len(line) for line in lines) <= 80 and "…" not in result.output
    assert all(k in result.output for k in ("segments", "title", "heading", "paragraph", "list_item", "boilerplate"))
    as_json = json.loads(runner.invoke(app, ["stats", str(seeds_output), "--json"]).stdout)
    assert as_json["documents"] == 5 and len(as_json["pairs"]) == 10


def test_rebuild_without_changes_rewrites_nothing(seeds_output: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in seeds_output.rglob("*.parquet")}
    manifest_before = (seeds_output / "manifest.json").read_bytes()
    result = runner.invoke(app, ["build", str(SEEDS), "--out", str(seeds_output)])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.output
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in seeds_output.rglob("*.parquet")} == before
    assert (seeds_output / "manifest.json").read_bytes() == manifest_before


def test_invalid_parameters_fail_at_once_with_a_clear_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output
    for option, value, message in (("--workers", "0", "greater than or equal to 1"),
                                    ("--max-file-mb", "0", "greater than 0"),
                                    ("--wait", "-1", "greater than or equal to 0")):
        result = runner.invoke(app, ["build", str(SEEDS), "--out", str(tmp_path / "o"), option, value])
        assert result.exit_code == 2 and f"error: {option}: Input should be {message}" in result.output, option
    result = runner.invoke(app, ["build", str(SEEDS), "--out", str(tmp_path / "o"), "--log-level", "verbose"])
    assert result.exit_code == 2 and "error: --log-level takes DEBUG, INFO, WARNING" in result.output
    assert not (tmp_path / "o").exists()


def test_a_refused_build_prints_its_error_line_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["build", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, repr(result.output)


def test_a_dry_run_into_a_new_folder_leaves_no_folder_behind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", str(SEEDS), "--out", str(tmp_path / "new"), "--dry-run"])
    assert result.exit_code == 0 and "dry run, nothing written: 5 new" in result.output
    assert not (tmp_path / "new").exists()


def test_strict_exits_1_when_a_file_is_rejected(seeds_copy: Path, tmp_path: Path) -> None:
    (seeds_copy / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    summary = build_json(seeds_copy, out)
    assert [(r["source_path"], r["reason"]) for r in summary["rejects"]] == [("empty.txt", "empty")]  # type: ignore[index, union-attr]
    strict = runner.invoke(app, ["build", str(seeds_copy), "--out", str(out), "--strict", "--quiet"])
    assert strict.exit_code == 1


def test_a_changed_file_is_listed_as_changed_not_new(seeds_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_json(seeds_copy, out)
    changed = seeds_copy / "001_7525a00fc9209105.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nบรรทัดใหม่ที่เพิ่มเข้ามาในเอกสารนี้\n", encoding="utf-8")
    (seeds_copy / "sub").mkdir()
    (seeds_copy / "sub" / "new.txt").write_text((SEEDS / "000_4cf4beee2d576faf.txt").read_text(encoding="utf-8")
                                                + "\nMstari mpya.\n", encoding="utf-8")
    result = runner.invoke(app, ["build", str(seeds_copy), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 changed, 4 unchanged" in result.output
    new_table, changed_table = result.output.split("Changed documents (new versions)")
    assert "sub/new.txt" in new_table and "001_7525a00fc9209105.txt" not in new_table
    assert "001_7525a00fc9209105.txt" in changed_table and "sub/new.txt" not in changed_table
    changed.write_text(changed.read_text(encoding="utf-8") + "\nอีกบรรทัดหนึ่ง\n", encoding="utf-8")
    summary = build_json(seeds_copy, out)
    assert summary["new_documents"] == []
    assert [d["source_path"] for d in summary["changed_documents"]] == ["001_7525a00fc9209105.txt"]  # type: ignore[index]


def test_status_says_when_there_is_no_corpus_or_no_document(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", str(tmp_path / "nothing")])
    assert result.exit_code == 0 and "holds no corpus yet" in result.output
    source = tmp_path / "input"
    source.mkdir()
    (source / "empty.txt").write_bytes(b"")
    build_json(source, tmp_path / "out")
    result = runner.invoke(app, ["status", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "holds a corpus with no documents (1 file(s) rejected" in result.output
    assert "rejected: empty.txt (empty)" in result.output
