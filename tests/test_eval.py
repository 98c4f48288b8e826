"""The evaluation: gold data, scores, baselines, synthetic damage and the `python -m eval` command."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval import (
    SEEDS_DIR,
    SEEDS_GOLD,
    EvalDoc,
    GoldError,
    check_targets,
    evaluate_output,
    evaluate_pair,
    load_gold,
    main,
    run_seeds,
)
from eval.baselines import gale_church_align, zip_align
from eval.score import SegmentErrors, gold_beads, score_beads, segment_errors
from eval.synthetic import _DAMAGE_FUNCTIONS, DAMAGES, MAX_SEGMENTS, MIN_SEGMENTS, _Seg, make_case
from schemas import SegmentKind
from tasks.align import Bead, PairAlignment, align_pair
from tasks.segment import Segment
from tests.helpers import assert_valid, make_corpus


@pytest.fixture(scope="module")
def seeds() -> list[EvalDoc]:
    from eval.run import seed_documents

    return seed_documents()


def units(*pairs: tuple[int, str]) -> dict[int, frozenset[str]]:
    return {line: frozenset(u.split("+")) for line, u in pairs}


# --- gold ------------------------------------------------------------------------------------------


def test_gold_lists_every_line_of_every_seed_file_once() -> None:
    gold = load_gold()
    assert sorted(gold) == sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    rows = [line.split("\t") for line in SEEDS_GOLD.read_text(encoding="utf-8").splitlines()[1:]]
    for name, lines in gold.items():
        text = (SEEDS_DIR / name).read_text(encoding="utf-8").splitlines()
        listed = [int(r[1]) for r in rows if r[0] == name]
        assert sorted(listed) == [n for n, line in enumerate(text, 1) if line.strip()], name
        assert set(lines) <= set(listed)


def test_gold_units_are_shared_unless_a_note_says_why() -> None:
    gold = load_gold()
    files_of: dict[str, set[str]] = {}
    for name, lines in gold.items():
        for line_units in lines.values():
            for unit in line_units:
                files_of.setdefault(unit, set()).add(name)
    notes = {(r[0], r[2]): r[3] for r in
             (line.split("\t") for line in SEEDS_GOLD.read_text(encoding="utf-8").splitlines()[1:])}
    for unit, files in files_of.items():
        if len(files) == 1:
            assert "no counterpart" in notes[(next(iter(files)), unit)], unit
    assert len([u for u, f in files_of.items() if len(f) == len(gold)]) > 50


def test_a_malformed_gold_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "gold.tsv"
    path.write_text("file\tline\tunit\tnote\na.txt\tone\tx\t\n", encoding="utf-8")
    with pytest.raises(GoldError, match="not an integer"):
        load_gold(path)
    path.write_text("file\tunit\na.txt\tx\n", encoding="utf-8")
    with pytest.raises(GoldError, match="missing columns"):
        load_gold(path)


# --- scores ----------------------------------------------------------------------------------------


def test_gold_beads_are_the_components_of_shared_units() -> None:
    src = units((1, "t"), (2, "a+b"), (3, "c"), (4, "d"))
    tgt = units((1, "t"), (2, "a"), (3, "b"), (5, "c"), (6, "x"))
    beads = set(gold_beads(src, tgt))
    assert beads == {
        (frozenset({1}), frozenset({1})),
        (frozenset({2}), frozenset({2, 3})),
        (frozenset({3}), frozenset({5})),
        (frozenset({4}), frozenset()),
        (frozenset(), frozenset({6})),
    }


def test_strict_lax_and_link_scores_count_as_vecalign_does() -> None:
    gold = [(frozenset({1}), frozenset({1})), (frozenset({2}), frozenset({2, 3})), (frozenset({4}), frozenset())]
    hyp = [(frozenset({1}), frozenset({1})), (frozenset({2}), frozenset({2})), (frozenset(), frozenset({3})),
           (frozenset({4}), frozenset())]
    counts = score_beads(hyp, gold)
    # Precision: 1-1 exact, 2-2 only lax, 0-1 of a linked line wrong, 1-0 right. Recall: 1, lax, 1-0.
    assert (counts.hyp, counts.hyp_strict, counts.hyp_lax) == (4, 2, 3)
    assert (counts.gold, counts.gold_strict, counts.gold_lax) == (3, 2, 3)
    assert (counts.hyp_links, counts.gold_links, counts.shared_links) == (2, 3, 2)
    assert counts.strict.precision == 0.5 and counts.lax.recall == 1.0
    assert counts.links.f1 == pytest.approx(0.8)
    assert score_beads(gold, gold).strict.f1 == 1.0


def _segment(ordinal: int, section: int, line: int, kind: str = "paragraph") -> Segment:
    return Segment(ordinal, section, kind, f"text {ordinal}", line, line, 0, 0)  # type: ignore[arg-type]


def test_boilerplate_lines_are_out_of_scope_and_missing_lines_count_as_omitted() -> None:
    src = EvalDoc("a", [_segment(0, 0, 1, "title"), _segment(1, 0, 2, "boilerplate"), _segment(2, 1, 3)],
                  units((1, "t"), (3, "p")))
    tgt = EvalDoc("b", [_segment(0, 0, 1, "title"), _segment(1, 1, 2), _segment(2, 1, 3)],
                  units((1, "t"), (2, "p"), (3, "q")))
    # The boilerplate segment wrongly sits in a bead; target segment 2 is in none.
    alignment = PairAlignment(
        sections=[Bead((0, 1), (0, 1), 1.0)],
        segments=[Bead((0, 1), (0,), 0.9), Bead((2,), (1,), 0.8)],
        method="test",
    )
    evaluation = evaluate_pair(src, tgt, alignment)
    segment = evaluation.counts["segment"]
    assert (segment.hyp, segment.hyp_strict) == (3, 3)  # the 0-1 of line 3 is right: gold leaves it alone
    assert segment.strict.f1 == 1.0
    assert [j.score for j in evaluation.judged["segment"]] == [0.9, 0.8]
    assert evaluation.counts["section"].strict.f1 == 0.0  # gold sections are 0-0 and 1-1, not 2-2
    assert evaluation.counts["section"].lax.f1 == 1.0


def test_the_gold_itself_scores_one(seeds: list[EvalDoc]) -> None:
    a, b = seeds[0], seeds[2]
    ordinal_a = {line: s.ordinal for s in a.segments for line in range(s.line_start, s.line_end + 1)}
    ordinal_b = {line: s.ordinal for s in b.segments for line in range(s.line_start, s.line_end + 1)}
    beads = [Bead(tuple(sorted({ordinal_a[x] for x in s})), tuple(sorted({ordinal_b[y] for y in t})), 1.0)
             for s, t in gold_beads(a.gold, b.gold)]
    beads.sort(key=lambda bead: (bead.src or (-1,), bead.tgt or (-1,)))
    alignment = PairAlignment([], beads, "gold")
    assert evaluate_pair(a, b, alignment).counts["segment"].strict.f1 == 1.0
    assert segment_errors(a, b, alignment) == SegmentErrors([], [])
    zipped = segment_errors(a, b, zip_align(a.segments, b.segments))
    counts = evaluate_pair(a, b, zip_align(a.segments, b.segments)).counts["segment"]
    assert len(zipped.wrong) == counts.hyp - counts.hyp_strict
    assert len(zipped.missed) == counts.gold - counts.gold_strict


# --- baselines -------------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", [zip_align, gale_church_align])
def test_baselines_give_valid_alignments(seeds: list[EvalDoc], baseline: object) -> None:
    for a, b in ((seeds[0], seeds[1]), (seeds[3], seeds[4])):
        alignment = baseline(a.segments, b.segments)  # type: ignore[operator]
        assert_valid(alignment, a.segments, b.segments, nested=False)


def test_gale_church_survives_very_unequal_inputs() -> None:
    long = [_segment(k, 0, k + 1) for k in range(6)]
    long = [Segment(s.ordinal, 0, "paragraph", "x" * 5000, s.line_start, s.line_end, 0, 0) for s in long]
    short = [Segment(k, 0, "paragraph", "y", k + 1, k + 1, 0, 0) for k in range(6)]
    for src, tgt in ((long, short), (short, long)):
        assert_valid(gale_church_align(src, tgt), src, tgt, nested=False)


# --- synthetic damage ------------------------------------------------------------------------------


def test_synthetic_cases_are_reproducible_and_sized(seeds: list[EvalDoc]) -> None:
    for damage in DAMAGES:
        case = make_case(seeds, damage, 3)
        assert case == make_case(seeds, damage, 3)
        assert MIN_SEGMENTS <= len(case.src.segments) <= MAX_SEGMENTS
        assert case.src.name != case.tgt.name.split("+")[0]


def _segs() -> list[_Seg]:
    def seg(kind: SegmentKind, section: int, text: str, unit: str) -> _Seg:
        return _Seg(kind, section, text, (frozenset({unit}) if unit else frozenset(),))

    return [
        seg("title", 0, "Title", "t"),
        seg("heading", 1, "First part", "h1"),
        seg("paragraph", 1, "One sentence here. Another one there.", "p1"),
        seg("list_item", 1, "An item", "i1"),
        seg("list_item", 1, "Another item", "i2"),
        seg("heading", 2, "Second part", "h2"),
        seg("paragraph", 2, "Closing words follow. They end it.", "p2"),
    ]


def _apply(damage: str) -> list[_Seg]:
    return _DAMAGE_FUNCTIONS[damage](_segs(), random.Random(0))


def test_drop_paragraph_removes_one_body_segment() -> None:
    after = _apply("drop_paragraph")
    missing = [s for s in _segs() if s not in after]
    assert len(after) == 6 and len(missing) == 1 and missing[0].kind in ("paragraph", "list_item")


def test_merge_paragraphs_joins_two_neighbours_of_a_section_into_one_line() -> None:
    after = _apply("merge_paragraphs")
    merged = next(s for s in after if s not in _segs())
    assert len(after) == 6 and len(merged.lines) == 1 and len(merged.lines[0]) == 2
    first, second = sorted(merged.lines[0])
    texts = {next(iter(s.lines[0])): s.text for s in _segs()}
    assert merged.text in (f"{texts[first]} {texts[second]}", f"{texts[second]} {texts[first]}")


def test_split_paragraph_cuts_a_segment_in_two_with_the_same_unit() -> None:
    after = _apply("split_paragraph")
    k = next(k for k, s in enumerate(after) if s not in _segs())
    whole = next(s for s in _segs() if s.lines == after[k].lines)
    assert len(after) == 8 and after[k + 1].lines == whole.lines
    assert f"{after[k].text} {after[k + 1].text}" == whole.text


def test_reorder_list_items_swaps_two_neighbouring_items() -> None:
    assert [s.text for s in _apply("reorder_list_items")][3:5] == ["Another item", "An item"]


def test_drop_heading_joins_its_section_to_the_previous_one() -> None:
    after = _apply("drop_heading")
    assert [s.text for s in after if s.kind == "heading"] == ["First part"]
    assert {s.section for s in after} == {0, 1}


def test_add_boilerplate_inserts_chrome_detected_or_missed() -> None:
    kinds = set()
    for seed in range(8):
        after = _DAMAGE_FUNCTIONS["add_boilerplate"](_segs(), random.Random(seed))
        chrome = next(s for s in after if s not in _segs())
        assert len(after) == 8
        assert (chrome.kind, bool(chrome.lines[0])) in (("boilerplate", False), ("paragraph", True))
        kinds.add(chrome.kind)
    assert kinds == {"boilerplate", "paragraph"}


def test_bulletize_turns_a_paragraph_into_one_item_per_sentence() -> None:
    after = _apply("bulletize")
    items = [s for s in after if s not in _segs()]
    assert [s.kind for s in items] == ["list_item", "list_item"]
    assert len({s.lines for s in items}) == 1


def test_the_aligner_handles_every_damage(seeds: list[EvalDoc]) -> None:
    rng = random.Random(5)
    for damage in DAMAGES:
        case = make_case(seeds, damage, rng.randrange(1000))
        alignment = align_pair(case.src.segments, case.tgt.segments)
        assert_valid(alignment, case.src.segments, case.tgt.segments)
        assert evaluate_pair(case.src, case.tgt, alignment).counts["segment"].links.f1 > 0.8, case.name


# --- the suites and the command --------------------------------------------------------------------


def test_seed_eval_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seeds", "--check"]) == 0
    out = capsys.readouterr().out
    assert "| aligner |" in out and "| gale-church |" in out and "| zip |" in out
    assert "FAIL" not in out and out.count("- ok") == 3
    assert "## Precision of the linking segment beads of the aligner by minimum score" in out


def test_a_missed_target_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = run_seeds(systems={"aligner": zip_align})
    assert not all(r.ok for r in check_targets(report))
    assert main(["output", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_an_output_without_gold_is_an_error_not_a_perfect_score(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = make_corpus(tmp_path / "out", {"w": {"en": [("paragraph", "One.")], "fr": [("paragraph", "Un.")]}})
    assert main(["output", str(out), "--check"]) == 2
    assert "error: no aligned pair of" in capsys.readouterr().err


def test_the_embedding_aligner_has_its_own_targets(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = run_seeds(systems={"aligner": align_pair, "aligner+embeddings": zip_align})
    targets = {r.name: r.ok for r in check_targets(report)}
    assert targets == {"segment strict F1": True, "section strict F1": True,
                       "segment strict F1 with embeddings": False, "section strict F1 with embeddings": True}
    monkeypatch.setattr("tasks.embeddings.embeddings_available", lambda: False)
    assert main(["seeds", "--embeddings"]) == 2
    assert "pip install -e '.[embeddings]'" in capsys.readouterr().err


def test_errors_lists_the_wrong_and_missed_beads_with_their_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seeds", "--no-baselines", "--errors"]) == 0
    out = capsys.readouterr().out
    errors = out[out.index("## Wrong and missed segment beads: aligner"):]
    assert "Documents: 000 sw, 001 th, 002 id, 003 mr, 004 zh-Hant." in errors
    assert "### 000 sw - 001 th" in errors
    # The Thai file's four bullets for one Swahili paragraph: the gold 1-4 bead, the aligner's two beads, the lines.
    group = errors[errors.index("- gold: 4 = 9+10+11+12"):]
    assert group.splitlines()[1].startswith("  aligner: - = 9 (0.")
    assert "  - 001 9: - Zero One Wanwu" in group and "  - 000 4: Lee Kai-fu" in group


def test_error_groups_join_the_beads_that_share_a_line() -> None:
    from eval.run import _error_groups

    def bead(src: set[int], tgt: set[int]) -> tuple[frozenset[int], frozenset[int]]:
        return frozenset(src), frozenset(tgt)

    wrong = [(bead({1}, {1}), 0.9), (bead({2}, set()), 0.5), (bead({5}, {6}), 0.8)]
    missed = [bead({1, 2}, {1}), bead({5}, {5})]
    groups = _error_groups(wrong, missed)
    assert [(sorted(b for b, _ in w), m) for w, m in groups] == [
        (sorted([bead({1}, {1}), bead({2}, set())]), [bead({1, 2}, {1})]),
        ([bead({5}, {6})], [bead({5}, {5})]),
    ]


def test_corpus_eval_is_a_command_group_with_each_commands_flags() -> None:
    from flows.cli import app

    common = ["--check", "--no-baselines", "--embeddings", "--embedding-cache"]
    flags = {
        "seeds": ["--seeds", "--gold", "--errors", *common],
        "synthetic": ["--docs", "--seed", "--seeds", "--gold", *common],
        "real": ["--corpus", "--works", "--files-per-work", "--no-grouping", "--jobs", *common],
        "output": ["out_dir", "--gold", "--check"],
    }
    runner = CliRunner()
    listing = runner.invoke(app, ["eval", "--help"])
    assert listing.exit_code == 0 and all(command in listing.output for command in flags)
    for command, names in flags.items():
        result = runner.invoke(app, ["eval", command, "--help"])
        assert result.exit_code == 0, result.output
        assert [name for name in names if name not in result.output] == [], command
    assert runner.invoke(app, ["eval", "synthetic", "--docs", "0"]).exit_code == 2
    assert runner.invoke(app, ["eval", "nonsense"]).exit_code == 2


def test_synthetic_command_reports_every_damage_with_progress_on_stderr() -> None:
    from flows.cli import app

    result = CliRunner().invoke(app, ["eval", "synthetic", "--docs", "1", "--seed", "4", "--no-baselines"])
    assert result.exit_code == 0, result.output
    progress = result.stderr.splitlines()
    assert progress[0] == f"synthetic: {len(DAMAGES)} damaged documents (1 per damage type, {len(DAMAGES)} types) " \
                          "x 1 system(s)"
    for damage in DAMAGES:
        assert f"| {damage} |" in result.stdout
        assert any(f"aligner, {damage}: 1 pair(s) aligned (" in line for line in progress), damage
    assert "so far" not in result.stdout and result.stdout.startswith("#")


@pytest.fixture(scope="module")
def built_output(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    from flows.cli import app

    out = tmp_path_factory.mktemp("eval") / "output"
    result = CliRunner().invoke(app, ["build", str(SEEDS_DIR), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_a_built_output_folder_is_scored_like_the_in_memory_alignment(built_output: Path) -> None:
    report = evaluate_output(built_output, load_gold())
    assert len(report.groups) == 10
    assert all(r.ok for r in check_targets(report))
    in_memory = run_seeds(systems={"aligner": align_pair})
    stored = report.total("aligner", "segment").strict.f1
    assert stored == pytest.approx(in_memory.total("aligner", "segment").strict.f1, abs=0.02)
