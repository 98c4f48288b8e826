"""The benchmark's pieces: generated corpora and their gold, and the targets it checks (no timings here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.generate import GOLD_NAME, SEEDS, corpus_gold, generate_corpus
from bench.run import Quality, Run, SizeResult, _load, _save, targets
from eval.gold import SEEDS_GOLD, EvalDoc, load_gold
from eval.score import evaluate_pair
from tasks.align import align_pair
from tasks.langtag import tag_language
from tasks.segment import segment_text


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("corpus")
    generate_corpus(dest, works=2)
    return dest


def test_the_same_arguments_give_the_same_bytes(generated: Path, tmp_path: Path) -> None:
    files = generate_corpus(tmp_path, works=2)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.relative_to(generated) for p in generated.rglob("*") if p.is_file())
    assert all(p.read_bytes() == (generated / p.relative_to(tmp_path)).read_bytes() for p in files)
    assert len(files) == 2 * len(list(SEEDS.glob("*.txt")))


def test_the_gold_follows_the_lines_through_the_damage(generated: Path) -> None:
    """Work 0 keeps the seeds' numbers, so its lines are the seed lines, some dropped, some pairs joined."""
    seed_gold = load_gold(SEEDS_GOLD)
    gold = corpus_gold(generated)
    assert set(gold) == {p.relative_to(generated).as_posix() for p in generated.glob("*/*.txt")}
    dropped = merged = 0
    for seed in sorted(SEEDS.glob("*.txt")):
        seed_lines = [*seed.read_text(encoding="utf-8").split("\n"), ""]
        units = seed_gold[seed.name]
        k = 0
        for number, line in enumerate((generated / "work-00000" / seed.name).read_text(encoding="utf-8").split("\n"),
                                      start=1):
            while line not in (seed_lines[k], f"{seed_lines[k]} {seed_lines[k + 1]}"):
                k, dropped = k + 1, dropped + 1
            joined = line != seed_lines[k]
            expected = units.get(k + 1, frozenset()) | (units.get(k + 2, frozenset()) if joined else frozenset())
            assert gold[f"work-00000/{seed.name}"].get(number, frozenset()) == expected, (seed.name, number)
            k, merged = k + 1 + joined, merged + joined
    assert dropped and merged


def test_a_sample_of_works_has_only_its_gold(generated: Path) -> None:
    assert {path.split("/")[0] for path in corpus_gold(generated, ["work-00001"])} == {"work-00001"}
    assert (generated / "work-00001" / GOLD_NAME).exists()


def test_a_generated_pair_scores_against_its_gold(generated: Path) -> None:
    gold = corpus_gold(generated)
    docs = []
    for path in sorted((generated / "work-00001").glob("*.txt"))[:3:2]:
        text = path.read_text(encoding="utf-8")
        source_path = path.relative_to(generated).as_posix()
        docs.append(EvalDoc(source_path, segment_text(text, script=tag_language(text).script), gold[source_path]))
    src, tgt = docs
    counts = evaluate_pair(src, tgt, align_pair(src.segments, tgt.segments)).counts
    assert counts["segment"].strict.f1 > 0.8
    assert counts["section"].strict.f1 > 0.9


def _size(works: int, full_seconds: float, rss_mb: float) -> SizeResult:
    def run(seconds: float) -> Run:
        return Run(seconds, rss_mb / 2, rss_mb, {"timings": {"rebuild (wall)": seconds - 10, "align": 99.0}}, 1.0)

    return SizeResult(works, works * 5, 1.0, 1.0, run(full_seconds), run(12.0), run(16.0),
                      Quality(20, 200, 0.9, 0.95, 1.0))


def test_the_targets_say_which_are_met() -> None:
    found = {t.name: t for t in targets([_size(1000, 280.0, 900.0), _size(4000, 1300.0, 1500.0)],
                                        {"works": 1000.0, "plain": 100.0, "prefect": 120.0, "ratio": 1.2})}
    assert [name for name, t in found.items() if not t.ok] == [
        "full build of 1,000 works >= 25 documents/s",
        "no-op rebuild of 1,000 works <= 4 s wall",
        "adding one translation <= 6 s wall",
        "time(4000) / time(1000) <= 4.4",
        "peak RSS (all processes) at 4,000 works <= 1.5 x at 1,000",
        "Prefect run / plain run <= 1.15 (1000 works)",
    ]
    assert found["full build of 1,000 works >= 25 documents/s"].value == "17.9 documents/s (280 s)"
    assert _size(1000, 280.0, 900.0).full.pipeline_seconds == 270.0  # the per-stage sums are not added again


def test_saved_measurements_render_the_same(tmp_path: Path) -> None:
    sizes = [_size(1000, 280.0, 900.0)]
    cost = {"works": 1000.0, "plain": 100.0, "prefect": 110.0, "ratio": 1.1}
    scaling = [(57, 63, 0.02), (114, 126, 0.04)]
    _save(tmp_path / "raw.json", sizes, cost, scaling, "auto")
    assert _load(tmp_path / "raw.json") == (sizes, cost, scaling, "auto")


class _Started(Exception):
    pass


@pytest.mark.parametrize("embeddings", [False, True])
def test_a_benchmark_build_has_embeddings_only_when_asked(embeddings: bool, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.run

    commands: list[list[str]] = []

    def popen(command: list[str], **_: object) -> None:
        commands.append(command)
        raise _Started

    monkeypatch.setattr(bench.run.subprocess, "Popen", popen)
    with pytest.raises(_Started):
        bench.run.run_build(tmp_path / "in", tmp_path / "out", embeddings=embeddings)
    flags = [flag for flag in commands[0] if flag.endswith("embeddings")]
    assert flags == (["--embeddings"] if embeddings else ["--no-embeddings"])
