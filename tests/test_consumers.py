"""The seeds' built corpus read by the tools people use: pyarrow, DuckDB, polars, pandas, Hugging Face
datasets, a browser, and the `corpus export | report | show` commands."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import CHROMIUM, HOSTILE, SEEDS, chromium, make_corpus, parse, screenshot_is_not_blank

pytestmark = pytest.mark.usefixtures("prefect_harness")

LANGS = ["id", "mr", "sw", "th", "zh-Hant"]
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    out = tmp_path_factory.mktemp("consumers") / "output"
    result = runner.invoke(app, ["build", str(SEEDS), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def listed(out: Path, table: str) -> list[str]:
    """The table's files in the current snapshot: a reader follows the manifest, not the folder."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [str(out / f["path"]) for f in manifest["tables"][table]["files"]]


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


# --- dataframe and dataset libraries --------------------------------------------------------------

def test_pyarrow_dataset_reads_segments_with_their_hive_partition(built: Path) -> None:
    segments = ds.dataset(listed(built, "segments"), format="parquet", partitioning="hive",
                          partition_base_dir=str(built / "segments"))
    counts = segments.to_table(columns=["lang"]).group_by("lang").aggregate([("lang", "count")]).to_pylist()
    documents = ds.dataset(listed(built, "documents"), format="parquet").to_table().to_pylist()
    assert {c["lang"]: c["lang_count"] for c in counts} == {d["lang"]: d["n_segments"] for d in documents}
    assert sorted(c["lang"] for c in counts) == LANGS


def test_duckdb_joins_beads_to_segments(built: Path) -> None:
    con = duckdb.connect()
    segments, alignments = listed(built, "segments"), listed(built, "alignments")
    dangling = con.execute(
        f"SELECT count(*) FROM (SELECT unnest(src_ids || tgt_ids) AS id FROM read_parquet({alignments})) b "
        f"ANTI JOIN read_parquet({segments}, hive_partitioning=true) s ON b.id = s.segment_id"
    ).fetchone()
    assert dangling == (0,)
    pairs = con.execute(
        f"SELECT DISTINCT src_lang, tgt_lang FROM read_parquet({alignments}) WHERE level = 'segment'"
    ).fetchall()
    assert len(pairs) == 10 and all(a < b for a, b in pairs)


def test_polars_unnests_the_translation_struct(built: Path) -> None:
    units = pl.scan_parquet(listed(built, "parallel")).select("n_langs", "translation").collect()
    assert units.height > 0
    texts = units.get_column("translation").struct.unnest()
    assert texts.columns == LANGS
    non_null = texts.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
    assert non_null.to_list() == units.get_column("n_langs").to_list()
    assert (units.get_column("n_langs") == len(LANGS)).sum() >= units.height // 2


def test_pandas_reads_alignments_and_units(built: Path) -> None:
    beads = pd.concat(pd.read_parquet(path) for path in listed(built, "alignments"))
    assert set(beads["level"]) == {"section", "segment"}
    assert beads["score"].between(0, 1).all()
    units = pd.concat(pd.read_parquet(path) for path in listed(built, "parallel"))
    assert list(units["unit"]) == list(range(len(units)))
    assert set(units["translation"].iloc[0]) == set(LANGS)


def test_every_content_segment_is_in_one_unit_in_document_order(built: Path) -> None:
    con = duckdb.connect()
    expected = con.execute(
        f"SELECT lang, list(segment_id ORDER BY ordinal) FROM read_parquet({listed(built, 'segments')}, "
        "hive_partitioning=true) WHERE kind <> 'boilerplate' GROUP BY lang"
    ).fetchall()
    units = pd.concat(pd.read_parquet(path) for path in listed(built, "parallel")).sort_values("unit")
    for lang, ids in expected:
        read = [i for value in units["segment_ids"] for i in (value[lang] if value[lang] is not None else [])]
        assert read == list(ids), lang


def test_hugging_face_datasets_loads_translation_as_a_translation_feature(built: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is not installed (pip install datasets)")
    files = listed(built, "parallel")
    data = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    translation = data.features["translation"]
    assert isinstance(translation, datasets.Translation) and translation.languages == LANGS
    assert data.features["segment_ids"][LANGS[0]] == datasets.Sequence(datasets.Value("string"))
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert data.num_rows == manifest["tables"]["parallel"]["rows"]
    full = data.filter(lambda row: row["n_langs"] == len(LANGS))
    assert full.num_rows > 0 and all(full[0]["translation"][lang] for lang in LANGS)


# --- corpus export --------------------------------------------------------------------------------

def test_help_names_every_format_and_the_report_threshold() -> None:
    import typer.main

    from tasks.io.formats import FORMATS
    from tasks.io.report import LOW_SCORE

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    options = {(name, p.name): getattr(p, "help", "") or "" for name, command in commands.items()
               for p in command.params}
    assert all(fmt in options[("export", "fmt")] for fmt in FORMATS)
    assert f"(default: {LOW_SCORE:g})" in options[("report", "low_score")]
    assert f"below {LOW_SCORE:g} are highlighted" in (commands["show"].help or "")


def test_export_writes_every_format(built: Path, tmp_path: Path) -> None:
    output = invoke("export", str(built), str(tmp_path / "pairs.tmx"), "--langs", "sw,zh-Hant", "--min-score", "0.5")
    assert "pairs (from beads)" in output
    tmx = ET.parse(tmp_path / "pairs.tmx").getroot()
    units = tmx.findall("body/tu")
    assert units and all(
        [t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in u.findall("tuv")] == ["sw", "zh-Hant"]
        for u in units
    )
    invoke("export", str(built), str(tmp_path / "train"), "--format", "moses", "--langs", "sw,zh-Hant",
           "--min-score", "0.5")
    sw = (tmp_path / "train.sw").read_text(encoding="utf-8").splitlines()
    assert len(sw) == len((tmp_path / "train.zh-Hant").read_text(encoding="utf-8").splitlines()) == len(units)
    invoke("export", str(built), str(tmp_path / "pairs.tsv"), "--langs", "id,th", "--source", "parallel")
    rows = (tmp_path / "pairs.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id\tth\tscore" and all(r.count("\t") == 2 for r in rows)
    invoke("export", str(built), str(tmp_path / "pairs.jsonl"), "--langs", "mr,id")
    records = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records and all(list(r["translation"]) == ["mr", "id"] for r in records)


def linking_beads(out: Path, a: str, b: str) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The segment beads of the pair a-b with text on both sides, as (a's ids, b's ids)."""
    rows = duckdb.connect().execute(
        f"SELECT src_lang, src_ids, tgt_ids FROM read_parquet({listed(out, 'alignments')}) WHERE level = 'segment' "
        f"AND len(src_ids) > 0 AND len(tgt_ids) > 0 AND [src_lang, tgt_lang] IN (['{a}', '{b}'], ['{b}', '{a}'])"
    ).fetchall()
    return {(tuple(s), tuple(t)) if lang == a else (tuple(t), tuple(s)) for lang, s, t in rows}


def test_export_keeps_every_bead_of_the_pair_by_default(built: Path, tmp_path: Path) -> None:
    output = invoke("export", str(built), str(tmp_path / "sw-id.jsonl"), "--langs", "sw,id")
    records = [json.loads(line) for line in (tmp_path / "sw-id.jsonl").read_text(encoding="utf-8").splitlines()]
    beads = linking_beads(built, "sw", "id")
    assert len(records) == len(beads) > 50 and f"wrote {len(beads)} sw-id pairs (from beads)" in output
    assert {(tuple(r["segment_ids"]["sw"]), tuple(r["segment_ids"]["id"])) for r in records} == beads
    invoke("export", str(built), str(tmp_path / "units.jsonl"), "--langs", "sw,id", "--source", "parallel")
    units = (tmp_path / "units.jsonl").read_text(encoding="utf-8").splitlines()
    assert 0 < len(units) < len(records)  # the five languages' units merge some of the pair's own beads


def test_export_of_every_pair_and_of_one_work(built: Path, tmp_path: Path) -> None:
    output = invoke("export", str(built), str(tmp_path / "pairs"), "--langs", "all", "--format", "tsv")
    pairs = [(a, b) for i, a in enumerate(LANGS) for b in LANGS[i + 1:]]
    assert sorted(p.name for p in (tmp_path / "pairs").iterdir()) == sorted(f"{a}-{b}.tsv" for a, b in pairs)
    for a, b in pairs:
        lines = (tmp_path / "pairs" / f"{a}-{b}.tsv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == f"{a}\t{b}\tscore" and len(lines) - 1 == len(linking_beads(built, a, b))
    assert "10 language pairs" in output
    invoke("export", str(built), str(tmp_path / "work.tsv"), "--langs", "id,sw", "--work", ".")
    assert (tmp_path / "work.tsv").read_bytes() == (tmp_path / "pairs" / "id-sw.tsv").read_bytes()
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "p.tsv"), "--langs", "sw,id", "--work", "x"])
    assert result.exit_code == 2 and "no work 'x'; works of the corpus: '.'" in result.output
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "all"), "--langs", "all"])
    assert result.exit_code == 2 and "DEST is a folder of one file per pair: choose the format with --format" \
        in result.output


def test_language_tags_are_matched_in_any_case(built: Path, tmp_path: Path) -> None:
    output = invoke("export", str(built), str(tmp_path / "p.tmx"), "--langs", "SW,zh-hant")
    assert "sw-zh-Hant pairs" in output
    tuvs = ET.parse(tmp_path / "p.tmx").getroot().findall("body/tu/tuv")
    assert {t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in tuvs} == {"sw", "zh-Hant"}
    assert "零一萬物" in invoke("show", str(built), "--langs", "Sw,ZH_HANT", "--limit", "3")


def test_export_errors_say_what_to_do(built: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "p.tmx"), "--langs", "sw,fr"])
    assert result.exit_code == 2 and "languages of the corpus: id, mr, sw, th, zh-Hant" in result.output
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "p.tmx")])
    assert result.exit_code == 2 and "--langs A,B (or --langs all for every pair)" in result.output
    assert "zh-Hant" in result.output
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "p.txt"), "--langs", "sw,id"])
    assert result.exit_code == 2 and "--format (tmx, tsv, jsonl, moses)" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "none"), str(tmp_path / "p.tmx"), "--langs", "sw,id"])
    assert result.exit_code == 2 and "run `corpus build" in result.output
    # a folder with no corpus is that, not a damaged corpus whose manifest names a missing file
    assert "holds no corpus" in result.output and "names is missing" not in result.output


def test_export_of_two_languages_that_share_no_work_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / "c", {"a": {"en": [("paragraph", "a")], "fr": [("paragraph", "a")]},
                                       "b": {"de": [("paragraph", "b")], "ja": [("paragraph", "b")]}})
    for extra in ([], ["--work", "a"], ["--source", "parallel"]):
        result = runner.invoke(app, ["export", str(out), str(tmp_path / "p.tsv"), "--langs", "en,de", *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert "en and de share no work" in result.output and "share a work with en: fr" in result.output
    assert not (tmp_path / "p.tsv").exists()
    assert "wrote 1 en-fr pairs" in invoke("export", str(out), str(tmp_path / "p.tsv"), "--langs", "en,fr")


def test_a_destination_that_cannot_be_written_is_one_line(built: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    for args in (["export", str(built), str(a_file / "p.tsv"), "--langs", "sw,id"],
                 ["report", str(built), "--html", str(a_file / "r.html")], ["schema-docs", str(a_file / "s.md")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"error: {a_file} is a file where a folder is needed" in result.output

    @contextlib.contextmanager
    def read_only_disk(path: Path, *, durable: bool = False) -> Iterator[BinaryIO]:  # as a read-only mount fails
        raise OSError(errno.EROFS, "Read-only file system", str(path.with_name(".tmp-" + path.name)))
        yield  # pragma: no cover

    monkeypatch.setattr("tasks.files.atomic_binary", read_only_disk)
    result = runner.invoke(app, ["export", str(built), str(tmp_path / "p.tsv"), "--langs", "sw,id"])
    assert result.exit_code == 2, result.output
    assert f"error: {tmp_path}: Read-only file system; choose a folder" in result.output

    @contextlib.contextmanager
    def full_disk(path: Path, *, durable: bool = False) -> Iterator[BinaryIO]:  # a write fails, naming no file
        raise OSError(errno.ENOSPC, "No space left on device")
        yield  # pragma: no cover

    monkeypatch.setattr("tasks.files.atomic_binary", full_disk)
    result = runner.invoke(app, ["report", str(built), "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 2, result.output
    assert "error: no space left on the disk written to; free some space" in result.output


# --- corpus report --------------------------------------------------------------------------------

def test_report_from_the_folder_or_from_the_file_name(built: Path, tmp_path: Path) -> None:
    assert "10 document pairs" in invoke("report", str(built))
    beads = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet({listed(built, 'alignments')}) WHERE level = 'segment'"
    ).fetchone()
    assert beads is not None and len(parse(built / "report.html").rows) == beads[0]
    invoke("report", str(built / "other.html"))
    assert (built / "other.html").read_bytes() == (built / "report.html").read_bytes()
    invoke("report", str(built), "--html", str(tmp_path / "elsewhere.html"))
    assert (tmp_path / "elsewhere.html").stat().st_size < 2_000_000
    result = runner.invoke(app, ["report", str(tmp_path / "empty" / "report.html")])
    assert result.exit_code == 2 and "run `corpus build" in result.output and "names is missing" not in result.output


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_a_browser_renders_every_bead_of_the_seeds(built: Path, tmp_path: Path) -> None:
    invoke("report", str(built))
    page = built / "report.html"
    dom = chromium(page, tmp_path, "--dump-dom").stdout
    assert dom.count('<tr class="b') == len(parse(page).rows) > 400
    png = Path(os.environ.get("REPORT_SCREENSHOT", tmp_path / "report.png"))
    chromium(page, tmp_path, f"--screenshot={png}")
    screenshot_is_not_blank(png)


# --- corpus show ----------------------------------------------------------------------------------

def test_show_prints_the_pair_of_the_only_work(built: Path) -> None:
    output = invoke("show", str(built), "--langs", "sw,zh-Hant", "--limit", "5")
    assert "Mabadiliko ya Kimkakati" in output and "零一萬物" in output
    assert "000_4cf4beee2d576faf.txt ↔ 004_61b3231e0c8e63ca.txt" in output
    result = runner.invoke(app, ["show", str(built), "--langs", "sw,xx"])
    assert result.exit_code == 2 and "languages of the corpus: id, mr, sw, th, zh-Hant" in result.output
    result = runner.invoke(app, ["show", str(built), "--work", "nope", "--langs", "sw,id"])
    assert result.exit_code == 2 and "works of the corpus: '.'" in result.output


def test_show_escapes_control_characters_and_asks_for_a_work(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / "c", {
        "a": {"en": [("paragraph", t) for t in HOSTILE], "fr": [("paragraph", "x")] * len(HOSTILE)},
        "b": {"en": [("paragraph", "b")], "fr": [("paragraph", "b")]},
    })
    result = runner.invoke(app, ["show", str(out), "--langs", "en,fr"])
    assert result.exit_code == 2 and "choose one with --work ('a', 'b')" in result.output
    output = invoke("show", str(out), "--work", "a", "--langs", "en,fr")
    assert "\x1b" not in output and "\x00" not in output and "\\x1b[31mred" in output
    assert "<script>alert(1)</script>" in output  # a terminal shows markup as text; rich markup is not parsed
