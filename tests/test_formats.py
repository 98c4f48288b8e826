"""Exporting pairs to TMX, Moses, TSV and JSONL (tasks/io/formats.py), on small corpora written here."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import (
    ALIGNMENTS,
    PARALLEL,
    AlignmentRow,
    ManifestFile,
)
from tasks.errors import DestinationError
from tasks.io.formats import (
    export_every_pair,
    export_pairs,
    one_line,
    tsv_cell,
    write_jsonl,
    write_moses,
    write_tmx,
    write_tsv,
)
from tasks.io.reader import Corpus, CorpusNotFoundError, Pair, UnknownLanguageError, UnknownWorkError, canonical_tag
from tasks.parallel import SegmentText, WorkDocument, parallel_rows, parallel_table
from tasks.store.storage import (
    load_manifest,
    make_manifest,
    parquet_bytes,
    work_key,
    write_manifest,
)
from tests.helpers import HOSTILE, make_corpus

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # the surrogates are never drawn
def add_parallel_table(out: Path) -> None:
    """Group every work's beads into units and publish them as the parallel table, as the build does."""
    corpus = Corpus.open(out)
    manifest = load_manifest(out)
    assert manifest is not None
    parallel_files = []
    for work_id in corpus.works:
        documents = [WorkDocument(d.doc_id, d.lang) for d in corpus.work_documents(work_id)]
        segments = {
            sid: SegmentText(sid.rsplit("-", 1)[0], int(sid.rsplit("-", 1)[1]), s.text, s.kind)
            for sid, s in corpus.segments(d.doc_id for d in documents).items()
        }
        beads = [AlignmentRow.model_validate(r) for f in corpus.work_files(ALIGNMENTS.name, work_id)
                 for r in pq.read_table(out / f.path).to_pylist()]
        rows = parallel_rows(work_id, documents, segments, beads)
        path = f"{PARALLEL.name}/{work_key(work_id)}.parquet"
        (out / PARALLEL.name).mkdir(exist_ok=True)
        (out / path).write_bytes(parquet_bytes(parallel_table(rows, corpus.languages)))
        parallel_files.append(ManifestFile(path=path, rows=len(rows)))
    tables = {name: list(t.files) for name, t in manifest.tables.items()}
    write_manifest(out, make_manifest("test-build", {**tables, PARALLEL.name: parallel_files}))


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus", {
        "news/a": {
            "en": [("title", "Title"), ("paragraph", "One."), ("paragraph", "Two."), ("paragraph", "Three.")],
            "fr": [("title", "Titre"), ("paragraph", "Un."), ("paragraph", "Deux.")],
            "de": [("title", "Titel"), ("paragraph", "Eins."), ("paragraph", "Zwei."), ("paragraph", "Drei.")],
        },
        "news/b": {
            "en": [("paragraph", text) for text in HOSTILE],
            "fr": [("paragraph", f"fr {text}") for text in HOSTILE],
        },
    })


def pairs_of(texts: Sequence[tuple[str, str]]) -> list[Pair]:
    return [Pair("w", src, tgt, 0.75, ("s",), ("t",)) for src, tgt in texts]


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


# --- the writers, on any text ---------------------------------------------------------------------

def test_tmx_is_valid_xml_with_languages_and_escaped_text(tmp_path: Path) -> None:
    dest = tmp_path / "out.tmx"
    n = write_tmx(pairs_of([(t, t[::-1]) for t in HOSTILE]), ("en", "zh-Hant"), dest)
    raw = dest.read_text(encoding="utf-8")
    assert "<script>" not in raw and "\x1b" not in raw and "\x00" not in raw
    root = ET.parse(dest).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None and header.get("srclang") == "en"
    assert {"creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang", "datatype"} <= set(header.keys())
    units = root.findall("body/tu")
    assert len(units) == n == len(HOSTILE)
    for unit, text in zip(units, HOSTILE, strict=True):
        tuvs = unit.findall("tuv")
        assert [t.get(XML_LANG) for t in tuvs] == ["en", "zh-Hant"]
        assert tuvs[0].findtext("seg") == XML_FORBIDDEN.sub("", text)
        assert unit.findtext("prop[@type='x-score']") == "0.75"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(), st.text()), max_size=5))
def test_every_format_survives_any_text(tmp_path_factory: pytest.TempPathFactory,
                                        texts: list[tuple[str, str]]) -> None:
    folder = tmp_path_factory.mktemp("any")
    pairs = pairs_of(texts)
    langs = ("xx", "yy")
    root = ET.parse(_written(write_tmx, pairs, langs, folder / "o.tmx")).getroot()
    assert len(root.findall("body/tu")) == len(texts)
    for unit, (src, _) in zip(root.findall("body/tu"), texts, strict=True):
        assert unit.findtext("tuv/seg") == XML_FORBIDDEN.sub("", src)

    write_moses(pairs, langs, folder / "o")
    for lang, side in (("xx", 0), ("yy", 1)):
        content = (folder / f"o.{lang}").read_text(encoding="utf-8")
        assert content.splitlines() == [one_line(t[side]) for t in texts]

    tsv = _written(write_tsv, pairs, langs, folder / "o.tsv").read_text(encoding="utf-8")
    lines = tsv.splitlines()
    assert len(lines) == len(texts) + 1 and all(line.count("\t") == 2 for line in lines)

    jsonl = _written(write_jsonl, pairs, langs, folder / "o.jsonl").read_text(encoding="utf-8")
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", jsonl.replace("\n", ""))
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert [(r["translation"]["xx"], r["translation"]["yy"]) for r in records] == texts


def _written(writer: Callable[[list[Pair], tuple[str, str], Path], int], pairs: list[Pair],
             langs: tuple[str, str], dest: Path) -> Path:
    writer(pairs, langs, dest)
    return dest


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
               | st.sampled_from("\t\n\r\\")))
def test_tsv_escapes_are_lossless_for_tabs_newlines_and_backslashes(text: str) -> None:
    cell = tsv_cell(text)
    assert "\t" not in cell and "\n" not in cell and "\r" not in cell
    decoded = re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[m.group(1)], cell)
    assert decoded == text


def test_tsv_neutralises_formulas_only_when_asked(tmp_path: Path) -> None:
    formulas = ["=cmd|'/C calc'!A0", "+1+1", "-2", "@SUM(A1)", "plain"]
    dest = tmp_path / "o.tsv"
    write_tsv(pairs_of([(f, f) for f in formulas]), ("en", "fr"), dest, spreadsheet_safe=True)
    assert [line.split("\t")[0] for line in read_lines(dest)] == ["en", *(f"'{f}" for f in formulas[:4]), "plain"]
    write_tsv(pairs_of([(f, f) for f in formulas]), ("en", "fr"), dest)
    assert [line.split("\t")[0] for line in read_lines(dest)[1:]] == formulas


def test_moses_lines_stay_aligned_whatever_the_text(tmp_path: Path) -> None:
    write_moses(pairs_of([(t, "x") for t in HOSTILE]), ("en", "fr"), tmp_path / "train")
    src = (tmp_path / "train.en").read_text(encoding="utf-8")
    assert len(src.splitlines()) == len(read_lines(tmp_path / "train.fr")) == len(HOSTILE)
    assert "\x1b" not in src and "\t" not in src
    assert src.splitlines()[4] == "tab here, line break, cr return, back\\slash"


# --- export from a corpus -------------------------------------------------------------------------

def test_export_reads_bead_pairs_in_the_order_asked(corpus_dir: Path, tmp_path: Path) -> None:
    result = export_pairs(corpus_dir, "jsonl", ["fr", "en"], tmp_path / "p.jsonl")
    records = [json.loads(line) for line in read_lines(tmp_path / "p.jsonl")]
    assert result.source == "beads" and result.pairs == len(records) == 3 + len(HOSTILE)
    first = next(r for r in records if r["work_id"] == "news/a")
    assert first["translation"] == {"fr": "Titre", "en": "Title"}
    assert list(first["translation"]) == ["fr", "en"]
    assert {r["translation"]["fr"]: r["translation"]["en"] for r in records}["fr " + HOSTILE[0]] == HOSTILE[0]


def test_min_score_filters_beads(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / "c", {"w": {"en": [("paragraph", "a"), ("paragraph", "b")],
                                             "fr": [("paragraph", "x"), ("paragraph", "y")]}},
                      beads={"w": [("en", "fr", [0], [0], 0.9), ("en", "fr", [1], [1], 0.2)]})
    assert export_pairs(out, "tsv", ["en", "fr"], tmp_path / "all.tsv").pairs == 2
    assert export_pairs(out, "tsv", ["en", "fr"], tmp_path / "good.tsv", min_score=0.5).pairs == 1
    assert read_lines(tmp_path / "good.tsv") == ["en\tfr\tscore", "a\tx\t0.9"]


def test_the_parallel_table_is_used_when_asked(corpus_dir: Path, tmp_path: Path) -> None:
    add_parallel_table(corpus_dir)
    assert export_pairs(corpus_dir, "moses", ["fr", "de"], tmp_path / "b").source == "beads"
    result = export_pairs(corpus_dir, "moses", ["fr", "de"], tmp_path / "train", source="parallel")
    assert result.source == "parallel"
    assert read_lines(tmp_path / "train.fr") == ["Titre", "Un.", "Deux."]
    assert read_lines(tmp_path / "train.de") == ["Titel", "Eins.", "Zwei."]


def test_a_third_language_does_not_merge_the_pairs_own_beads(tmp_path: Path) -> None:
    """en and fr link sentence to sentence; de joins two sentences in one: its units are coarser."""
    out = make_corpus(tmp_path / "c", {"w": {
        "en": [("paragraph", "One."), ("paragraph", "Two."), ("paragraph", "Three.")],
        "fr": [("paragraph", "Un."), ("paragraph", "Deux."), ("paragraph", "Trois.")],
        "de": [("paragraph", "Eins und zwei."), ("paragraph", "Drei.")],
    }}, beads={"w": [
        ("en", "fr", [0], [0], 0.9), ("en", "fr", [1], [1], 0.9), ("en", "fr", [2], [2], 0.9),
        ("de", "en", [0], [0, 1], 0.8), ("de", "en", [1], [2], 0.8),
        ("de", "fr", [0], [0, 1], 0.8), ("de", "fr", [1], [2], 0.8),
    ]})
    add_parallel_table(out)
    assert export_pairs(out, "tsv", ["en", "fr"], tmp_path / "own.tsv").pairs == 3
    assert read_lines(tmp_path / "own.tsv")[1:] == ["One.\tUn.\t0.9", "Two.\tDeux.\t0.9", "Three.\tTrois.\t0.9"]
    assert export_pairs(out, "tsv", ["en", "fr"], tmp_path / "units.tsv", source="parallel").pairs == 2
    assert read_lines(tmp_path / "units.tsv")[1] == "One. Two.\tUn. Deux.\t0.8"


def test_omissions_are_left_out_and_multi_segment_beads_joined(tmp_path: Path) -> None:
    out = make_corpus(tmp_path / "c", {"w": {"en": [("paragraph", "a"), ("paragraph", "b"), ("paragraph", "c")],
                                             "fr": [("paragraph", "x"), ("paragraph", "y")]}},
                      beads={"w": [("en", "fr", [0, 1], [0], 0.7), ("en", "fr", [2], [], 0.5),
                                   ("en", "fr", [], [1], 0.5)]})
    export_pairs(out, "tsv", ["fr", "en"], tmp_path / "p.tsv")
    assert read_lines(tmp_path / "p.tsv") == ["fr\ten\tscore", "x\ta b\t0.7"]


def test_every_pair_that_shares_a_work_gets_its_own_file(corpus_dir: Path, tmp_path: Path) -> None:
    results = export_every_pair(corpus_dir, "jsonl", tmp_path / "pairs")
    assert [r.langs for r in results] == [("de", "en"), ("de", "fr"), ("en", "fr")]
    assert sorted(p.name for p in (tmp_path / "pairs").iterdir()) == ["de-en.jsonl", "de-fr.jsonl", "en-fr.jsonl"]
    assert [r.pairs for r in results] == [4, 3, 3 + len(HOSTILE)]
    only = export_every_pair(corpus_dir, "moses", tmp_path / "m", langs=["EN", "fr"], works=["news/a"])
    assert [(r.langs, r.pairs) for r in only] == [(("en", "fr"), 3)]
    assert read_lines(tmp_path / "m" / "en-fr.fr") == ["Titre", "Un.", "Deux."]
    into_folder = export_pairs(corpus_dir, "tsv", ["fr", "en"], tmp_path / "pairs")
    assert into_folder.files == (tmp_path / "pairs" / "fr-en.tsv",)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DestinationError, match="is a file"):
        export_every_pair(corpus_dir, "tsv", tmp_path / "file")


def test_one_work_is_exported_when_asked(corpus_dir: Path, tmp_path: Path) -> None:
    assert export_pairs(corpus_dir, "tsv", ["en", "fr"], tmp_path / "b.tsv", works=["news/b"]).pairs == len(HOSTILE)
    with pytest.raises(UnknownWorkError, match="no work 'news/c'; works of the corpus: 'news/a', 'news/b'"):
        export_pairs(corpus_dir, "tsv", ["en", "fr"], tmp_path / "c.tsv", works=["news/c"])


@pytest.mark.parametrize(("typed", "canonical"), [
    ("zh-hant", "zh-Hant"), ("ZH_HANT_tw", "zh-Hant-TW"), ("EN", "en"), ("es-419", "es-419"),
    ("sr-latn-rs", "sr-Latn-RS"), ("en-x-Private", "en-x-private"),
])
def test_language_tags_get_their_canonical_case(typed: str, canonical: str) -> None:
    assert canonical_tag(typed) == canonical


def test_languages_are_matched_in_any_case(corpus_dir: Path, tmp_path: Path) -> None:
    result = export_pairs(corpus_dir, "tmx", ["EN", "Fr"], tmp_path / "p.tmx")
    assert result.langs == ("en", "fr") and result.pairs == 3 + len(HOSTILE)
    header = ET.parse(tmp_path / "p.tmx").getroot().find("header")
    assert header is not None and header.get("srclang") == "en"


def test_files_the_manifest_does_not_list_are_not_read(corpus_dir: Path, tmp_path: Path) -> None:
    (corpus_dir / ALIGNMENTS.name / "stray.parquet").write_bytes(
        (corpus_dir / Corpus.open(corpus_dir).files(ALIGNMENTS.name)[0].path).read_bytes()
    )
    assert export_pairs(corpus_dir, "tsv", ["en", "fr"], tmp_path / "p.tsv").pairs == 3 + len(HOSTILE)


def test_unknown_language_lists_the_corpus_languages(corpus_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownLanguageError, match="no document in sw; languages of the corpus: de, en, fr"):
        export_pairs(corpus_dir, "tmx", ["en", "sw"], tmp_path / "p.tmx")
    with pytest.raises(UnknownLanguageError, match="two different languages"):
        export_pairs(corpus_dir, "tmx", ["en", "en"], tmp_path / "p.tmx")
    assert not (tmp_path / "p.tmx").exists()


def test_a_folder_without_corpus_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match="run `corpus build"):
        export_pairs(tmp_path, "tmx", ["en", "fr"], tmp_path / "p.tmx")
