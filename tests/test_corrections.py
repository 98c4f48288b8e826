"""Beads set by hand (`corpus build --corrections FILE`): applied as fixed anchors, kept across rebuilds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from flows.cli import app
from tasks.corrections import CorrectionsFileError, load_corrections
from tasks.store.storage import work_key
from tests.helpers import SEEDS, build_json, listed

ROOT = SEEDS.parent
SW, ID, TH = "a/000_4cf4beee2d576faf.txt", "a/002_13aaf5bb51a2e065.txt", "a/001_7525a00fc9209105.txt"
OTHER_WORK = ("b/003_8846db1da0658b01.txt", "b/004_61b3231e0c8e63ca.txt")


def _beads(out: Path, src_path: str, tgt_path: str) -> list[dict[str, Any]]:
    """The pair's segment beads in order, each side as the (first, last) source lines of its segments."""
    docs = {d["source_path"]: d["doc_id"] for d in ds.dataset(listed(out, "documents")).to_table().to_pylist()}
    lines = {s["segment_id"]: (s["line_start"], s["line_end"])
             for s in ds.dataset(listed(out, "segments")).to_table().to_pylist()}
    rows = [r for r in ds.dataset(listed(out, "alignments")).to_table().to_pylist()
            if r["level"] == "segment" and (r["src_doc_id"], r["tgt_doc_id"]) == (docs[src_path], docs[tgt_path])]
    return [{"src": [lines[i] for i in r["src_ids"]], "tgt": [lines[i] for i in r["tgt_ids"]], "score": r["score"],
             "method": r["method"]} for r in sorted(rows, key=lambda r: r["bead"])]


def _span(lines: list[tuple[int, int]]) -> str:
    return f"{lines[0][0]}-{lines[-1][1]}"


def _corrections(path: Path, *entries: dict[str, object]) -> Path:
    text = "".join("[[correction]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in e.items()) + "\n"
                   for e in entries)
    path.write_text(text, encoding="utf-8")
    return path


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _state(out: Path) -> dict[str, str]:
    """Every file of the output folder with a digest of its bytes."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and ".cache" not in p.parts}


@pytest.mark.usefixtures("prefect_harness")
def test_a_correction_sets_the_bead_realigns_its_neighbours_and_sticks(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    for name in (SW, ID, *OTHER_WORK):  # two works, a/ and b/
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SEEDS / Path(name).name, source / name)
    build_json(source, out)
    untouched = {path: digest for path, digest in _state(out).items() if work_key("b") in path}
    assert untouched
    before = _beads(out, ID, SW)  # Indonesian sorts before Swahili: id is the pair's source side
    # The first 1-1 bead followed by two more: make it a 2-1 bead that takes the next source segment too.
    k = next(k for k in range(1, len(before) - 3)
             if all(len(before[k + d]["src"]) == len(before[k + d]["tgt"]) == 1 for d in range(3)))
    fixed_src, fixed_tgt = before[k]["src"] + before[k + 1]["src"], before[k]["tgt"]
    orphan = before[k + 1]["tgt"]  # the target segment that loses its partner
    first = before[0]["src"][0]
    corrections = _corrections(
        tmp_path / "fixes.toml",
        {"src": SW, "tgt": ID, "src_lines": _span(fixed_tgt), "tgt_lines": _span(fixed_src)},  # sides either way
        {"src": ID, "tgt": SW, "src_lines": f"{first[0]}-{first[1]}"},  # an omission: no tgt_lines
    )
    summary = build_json(source, out, "--corrections", str(corrections))
    assert summary["pairs_aligned"] == 1 and summary["counts"]["unchanged"] == 4
    assert untouched.items() <= _state(out).items()  # the other work's files are not rewritten
    after = _beads(out, ID, SW)
    fixed = next(b for b in after if b["src"] == fixed_src)
    assert fixed == {"src": fixed_src, "tgt": fixed_tgt, "score": 1.0, "method": "correction"}
    assert {"src": [first], "tgt": [], "score": 1.0, "method": "correction"} in after
    assert [b for b in after if b["method"] == "correction"] == [b for b in after if b["score"] == 1.0
                                                                 and b["method"] == "correction"]
    # The neighbours were aligned again around the fix: the orphaned target segment is in a new bead, and every
    # segment is still in exactly one bead, in document order on both sides.
    holder = next(b for b in after if orphan[0] in b["tgt"])
    assert holder not in before and holder["method"] != "correction"
    for side in ("src", "tgt"):
        seen = [line for b in after for line in b[side]]
        assert seen == sorted(seen) and sorted(seen) == sorted(line for b in before for line in b[side])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["corrections"]) == 2

    # Remembered: a build without the file changes nothing; a new translation keeps the fix.
    state = _state(out)
    assert build_json(source, out)["nothing_to_do"]
    assert _state(out) == state
    shutil.copy(SEEDS / Path(TH).name, source / TH)
    summary = build_json(source, out)
    assert summary["counts"]["new"] == 1 and summary["pairs_aligned"] == 2
    assert _beads(out, ID, SW) == after

    # The report and `corpus show` say which beads were set by hand.
    runner = CliRunner()
    report = runner.invoke(app, ["report", str(out), "--html", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<tr class="b[^"]* fix"', html)) == html.count("<br>set by hand") == 2
    show = runner.invoke(app, ["show", str(out), "--langs", "id,sw", "--work", "a"])
    assert show.exit_code == 0 and show.output.count("set by hand") == 2

    # A correction whose lines are not a bead, or that names no document: as a shell runs it, one line, exit 2,
    # nothing changed.
    state = _state(out)
    bad = _corrections(tmp_path / "bad.toml", {"src": ID, "tgt": SW, "src_lines": fixed_src[0][0] - 1,
                                               "tgt_lines": _span(fixed_tgt)})
    unknown = _corrections(tmp_path / "unknown.toml", {"src": "nowhere.txt", "tgt": SW, "src_lines": 1})
    for path, message in ((bad, "is not where a segment starts"), (unknown, "no document 'nowhere.txt'")):
        run = subprocess.run([sys.executable, "-m", "flows.cli", "build", str(source), "--out", str(out),
                              "--corrections", str(path)], capture_output=True, text=True, timeout=300, cwd=ROOT,
                             env={**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())})
        lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
        assert run.returncode == 2 and len(lines) == 1 and message in lines[0], lines
        assert _state(out) == state

    # An empty corrections file removes them: the pair is aligned by the aligner again.
    summary = build_json(source, out, "--corrections", str(_corrections(tmp_path / "none.toml")))
    assert summary["pairs_aligned"] == 1
    assert _beads(out, ID, SW) == before

    # `corpus fix` sets one bead and rebuilds; `corpus corrections` prints them as a file to edit.
    result = runner.invoke(app, ["fix", str(source), "--out", str(out), "--src", SW, "--tgt", ID, "--src-lines",
                                 _span(fixed_tgt), "--tgt-lines", _span(fixed_src), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairs_aligned"] == 1
    assert next(b for b in _beads(out, ID, SW) if b["src"] == fixed_src)["method"] == "correction"
    printed = runner.invoke(app, ["corrections", str(out)])
    stored = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["corrections"]
    assert [c.model_dump(mode="json") for c in load_corrections(_text(tmp_path / "printed.toml", printed.stdout))
            ] == stored and len(stored) == 1


@pytest.mark.parametrize(("entries", "message"), [
    ([{"src": "a.txt", "tgt": "b.txt", "src_lines": "3-4", "tgt_lines": 2},
      {"src": "a.txt", "tgt": "b.txt", "src_lines": "4-5", "tgt_lines": 3}], "overlap"),
    ([{"src": "a.txt", "tgt": "b.txt", "src_lines": "3-4", "tgt_lines": 7},
      {"src": "b.txt", "tgt": "a.txt", "src_lines": 2, "tgt_lines": 9}], "cross"),
    ([{"src": "a.txt", "tgt": "b.txt", "src_lines": "4-3", "tgt_lines": 2}], "is not a line or a range"),
    ([{"src": "a.txt", "tgt": "b.txt", "src_lines": 0}], "is not a line or a range"),
    ([{"src": "a.txt", "tgt": "b.txt"}], "give src_lines, tgt_lines or both"),
    ([{"src": "a.txt", "tgt": "a.txt", "src_lines": 1, "tgt_lines": 2}], "names one document twice"),
    ([{"src": "a.txt", "tgt": "b.txt", "src_lines": 1, "lines": 2}], "unknown key 'lines'"),
    ([{"tgt": "b.txt", "src_lines": 1}], "src must name a document"),
])
def test_a_bad_corrections_file_is_one_clear_line(tmp_path: Path, entries: list[dict[str, object]],
                                                  message: str) -> None:
    path = _corrections(tmp_path / "fixes.toml", *entries)
    with pytest.raises(CorrectionsFileError, match=message):
        load_corrections(path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(SEEDS), "--out", str(out), "--corrections", str(path)])
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.strip()] == [result.output.strip()]
    assert message in result.output and not out.exists()


def test_a_corrections_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "fixes.toml"
    path.write_text("[[correction]\nsrc = 1\n", encoding="utf-8")
    with pytest.raises(CorrectionsFileError, match="is not valid TOML"):
        load_corrections(path)
    path.write_text('[correction]\nsrc = "a"\n', encoding="utf-8")
    with pytest.raises(CorrectionsFileError, match=r"may only hold \[\[correction\]\] tables"):
        load_corrections(path)


def test_a_fix_replaces_the_stored_corrections_it_clashes_with_and_prints_back(tmp_path: Path) -> None:
    from schemas import Correction
    from tasks.corrections import changed_pairs, corrections_toml, with_fix

    stored = (Correction(src="a.txt", tgt="b.txt", src_lines=(3, 4), tgt_lines=(2, 2)),
              Correction(src="a.txt", tgt="b.txt", src_lines=(10, 10), tgt_lines=(9, 9)),
              Correction(src="a.txt", tgt="c.txt", src_lines=(3, 4), tgt_lines=None))
    overlapping = Correction(src="b.txt", tgt="a.txt", src_lines=(2, 3), tgt_lines=(4, 5))  # sides swapped
    assert with_fix(stored, overlapping) == (*stored[1:], overlapping)
    crossing = Correction(src="a.txt", tgt="b.txt", src_lines=(12, 12), tgt_lines=(1, 1))
    assert with_fix(stored, crossing) == (stored[2], crossing)
    assert changed_pairs(stored, with_fix(stored, overlapping)) == {frozenset(("a.txt", "b.txt"))}
    assert changed_pairs(stored, tuple(reversed(stored))) == set()
    swapped = tuple(Correction(src=c.tgt, tgt=c.src, src_lines=c.tgt_lines, tgt_lines=c.src_lines) for c in stored)
    assert changed_pairs(stored, swapped) == set()  # the same beads, named the other way round
    text = corrections_toml(stored)
    assert 'src_lines = "3-4"' in text and "tgt_lines = 2\n" in text
    assert text.count("[[correction]]") == 3 and "tgt_lines" not in text.split("[[correction]]")[3]
    assert load_corrections(_text(tmp_path / "printed.toml", text)) == stored


@pytest.mark.usefixtures("prefect_harness")
def test_a_correction_of_documents_grouped_by_content_finds_their_stored_work(tmp_path: Path) -> None:
    """A folder per language built with --group auto: the two files share the work the build gave them, not their
    folders, also in a later build that groups nothing (no new file) or groups by folder."""
    source, out = tmp_path / "in", tmp_path / "out"
    sw, id_ = "sw/article.txt", "id/article.txt"
    for name, seed in ((sw, SW), (id_, ID)):
        (source / name).parent.mkdir(parents=True)
        shutil.copy(SEEDS / Path(seed).name, source / name)
    assert build_json(source, out, "--group", "auto")["pairs_aligned"] == 1
    title = {"src": sw, "tgt": id_, "src_lines": 2, "tgt_lines": 3}  # the title of each
    for extra in ([], ["--group", "folder"]):
        corrections = _corrections(tmp_path / "fixes.toml", title)
        summary = build_json(source, out, "--corrections", str(corrections), *extra)
        assert summary["pairs_aligned"] == 1, extra
        assert {"src": [(3, 3)], "tgt": [(2, 2)], "score": 1.0, "method": "correction"} in _beads(out, id_, sw)
        corrections.write_text("", encoding="utf-8")
        build_json(source, out, "--corrections", str(corrections))


@pytest.mark.usefixtures("prefect_harness")
def test_lines_that_start_a_segment_but_stop_inside_it_are_said_to_miss_its_end(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    _text(source / "en.txt", "The Title\n\nA first paragraph that the writer wrapped\nover two lines of the file.\n\n"
                             "A second paragraph, on one line.\n")
    _text(source / "fr.txt", "Le titre\n\nUn premier paragraphe que l'auteur a coupé\nsur deux lignes du fichier.\n\n"
                             "Un second paragraphe, sur une ligne.\n")
    build_json(source, out)
    corrections = _corrections(tmp_path / "fixes.toml", {"src": "en.txt", "tgt": "fr.txt", "src_lines": "3-4",
                                                         "tgt_lines": 3})
    result = CliRunner().invoke(app, ["build", str(source), "--out", str(out), "--corrections", str(corrections)])
    assert result.exit_code == 2
    assert "line 3 of fr.txt is not where a segment ends (segments end at lines 1, 4, 6 nearby)" in result.output


def test_fix_names_the_option_whose_lines_are_not_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fix", str(tmp_path), "--out", str(tmp_path / "out"), "--src", "a.txt",
                                      "--tgt", "b.txt", "--src-lines", "12", "--tgt-lines", "3-x"])
    assert result.exit_code == 2
    assert "error: corpus fix: --tgt-lines = '3-x' is not a line or a range of lines" in result.output


def test_a_correction_may_name_its_files_as_a_shell_completes_them(tmp_path: Path) -> None:
    from tasks.corrections import corrections_in_force

    fixes = _corrections(tmp_path / "fixes.toml", {"src": "./en/a.txt", "tgt": "fr//a.txt", "src_lines": 2})
    documents = {"en/a.txt": ("d1", "w"), "fr/a.txt": ("d2", "w")}
    corrections, _ = corrections_in_force(fixes, None, documents)
    assert [(c.src, c.tgt) for c in corrections] == [("en/a.txt", "fr/a.txt")]
