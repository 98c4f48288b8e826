"""The development corpus of real translations (eval/real) and the `real` evaluation suite."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from eval.cli import main
from eval.gold import load_gold
from eval.realsuite import (
    REAL_DIR,
    BertalignCounts,
    _compare_grouping,
    bertalign_counts,
    format_real_report,
    load_real_files,
    run_real,
)
from eval.run import SYSTEMS

KINDS = {"articles", "technical", "narrative"}
LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?$")


def _lines(path: Path) -> list[str]:
    """Lines as the pipeline counts them: \\n, \\r\\n and \\r end a line."""
    text = path.read_bytes().decode("utf-8")
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _gold_rows() -> list[dict[str, str]]:
    with (REAL_DIR / "gold.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_gold_lists_every_non_blank_line_exactly_once() -> None:
    listed: dict[str, list[int]] = defaultdict(list)
    for row in _gold_rows():
        listed[row["file"]].append(int(row["line"]))
        assert row["unit"] or row["note"], f"{row['file']}:{row['line']}: an out-of-scope line needs a note"
    files = sorted(str(p.relative_to(REAL_DIR)) for p in REAL_DIR.rglob("*.txt"))
    assert sorted(listed) == files
    for name in files:
        non_blank = [n for n, line in enumerate(_lines(REAL_DIR / name), start=1) if line.strip()]
        assert listed[name] == non_blank, f"{name}: the gold does not list its non-blank lines once each, in order"
    load_gold(REAL_DIR / "gold.tsv")  # and the scorer reads it


def test_every_file_has_a_true_language_and_kind() -> None:
    files = load_real_files()
    on_disk = sorted(str(p.relative_to(REAL_DIR)) for p in REAL_DIR.rglob("*.txt"))
    assert sorted(f.path for f in files) == on_disk
    for file in files:
        kind, work, _ = file.path.split("/")
        assert (file.kind, file.work) == (kind, work), file.path
        assert file.kind in KINDS, file.path
        assert LANG_TAG.match(file.lang), f"{file.path}: {file.lang!r} is not a language tag"
    assert {f.kind for f in files} == KINDS
    # the coverage the issue asks for: languages, and the scripts that show in the tags and texts
    assert len({f.lang for f in files}) >= 15
    assert {"vi", "ru", "hi", "th", "ar", "he", "zh-Hans", "zh-Hant", "ja", "ko"} <= {f.lang for f in files}


def test_units_of_each_work_are_in_at_least_two_files() -> None:
    work_of = {f.path: f.work for f in load_real_files()}
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in _gold_rows():
        for unit in filter(None, row["unit"].split("+")):
            holders[(work_of[row["file"]], unit)].add(row["file"])
    alone = sorted(key for key, files in holders.items() if len(files) < 2)
    assert not alone, f"units found in one file only: {alone[:5]}"


def test_each_work_has_one_file_per_language() -> None:
    langs: dict[str, list[str]] = defaultdict(list)
    for file in load_real_files():
        langs[file.work].append(file.lang)
    for work, tags in langs.items():
        assert len(tags) == len(set(tags)) >= 2, work


def test_bertalign_counts_follow_vecalign_score() -> None:
    gold = [(frozenset({1}), frozenset({1})), (frozenset({2}), frozenset({2, 3})), (frozenset({3}), frozenset())]
    hyp = [(frozenset({1}), frozenset({1})), (frozenset({2}), frozenset({2})), (frozenset(), frozenset({3})),
           (frozenset({3}), frozenset())]
    counts = bertalign_counts(hyp, gold)
    # precision over every hypothesis bead, deletions included; recall over the gold beads linking both sides
    assert counts == BertalignCounts(2, 2, 3, 1, 1, 1, 2, 0)
    assert counts.strict_f1 == pytest.approx(0.5)
    assert counts.lax_f1 == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert BertalignCounts().strict_f1 == 0.0  # vecalign's value for a division by zero


def test_grouping_comparison() -> None:
    truth = {"a/1": "a", "a/2": "a", "b/1": "b", "b/2": "b"}
    assert _compare_grouping("k", truth, dict(truth)).exact
    split = _compare_grouping("k", truth, {"a/1": "a", "a/2": "x", "b/1": "b", "b/2": "b"})
    assert not split.exact and split.found_works == 3 and split.wrong == ["a/1", "a/2"]
    assert split.pair_f1 == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_real_suite_on_a_small_subset_reports_every_section() -> None:
    report = run_real(systems=SYSTEMS, works=["django-admin", "gnome-color"], files_per_work=2, grouping=False)
    assert len(report.docs) == 4 and len(report.pairs) == 2 * len(SYSTEMS)
    text = format_real_report(report)
    for heading in ("## Segment level, overall", "## Section level, overall", "## Per kind of text",
                    "## Per work", "## One-sentence-per-line documents", "## Per language pair",
                    "worst pairs", "## Language tags", "## Targets"):
        assert heading in text, heading
    assert "| technical | 2 |" in text
    assert "sentence-per-line strict F1 (bertalign scoring)" in text


def _small_corpus(root: Path, work: str, n_files: int) -> Path:
    """A copy of the first files of one work, with their rows of works.tsv and gold.tsv."""
    files = [f for f in load_real_files() if f.work == work][:n_files]
    for file in files:
        (root / file.path).parent.mkdir(parents=True, exist_ok=True)
        (root / file.path).write_bytes((REAL_DIR / file.path).read_bytes())
    keep = {f.path for f in files}
    for table in ("works.tsv", "gold.tsv"):
        lines = (REAL_DIR / table).read_text(encoding="utf-8").splitlines(keepends=True)
        (root / table).write_text(lines[0] + "".join(line for line in lines[1:] if line.split("\t")[0] in keep),
                                  encoding="utf-8")
    return root


def test_cli_real_check_fails_on_missed_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _small_corpus(tmp_path, "django-auth", 3)
    status = main(["real", "--corpus", str(corpus), "--no-baselines", "--check", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert "3 documents in 1 works, 3 pairs" in out
    assert "## Targets" in out and "| technical | 1 | 1 | yes |" in out
    failed = [line for line in out.splitlines() if line.startswith("- FAIL")]
    assert status == (1 if failed else 0)
    assert len(err.strip().splitlines()) == len(failed)


def test_cli_real_rejects_an_unknown_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["real", "--works", "no-such-work", "--no-baselines"]) == 2
    assert "no-such-work" in capsys.readouterr().err
