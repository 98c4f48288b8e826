"""The benchmark: build time, stages, no-op and incremental rebuilds, memory, size, Prefect's cost, quality.

    python -m bench.run                                  # 100, 1000 and 4000 works x 5 languages
    python -m bench.run --sizes 100,1000 --results bench/RESULTS-raw.md
    python -m bench.run --sizes 100 --embeddings --cost-works 0   # the builds with sentence embeddings on

For each size it generates the corpus (``bench.generate``, with its gold) under ``bench/out/``, holds back one
translation, builds with ``corpus build --json`` in a subprocess, builds again (nothing to do), puts the
translation back and builds once more (one new document, four new pairs). Then it scores the alignments of
an even sample of works against the generated gold, times the same build as plain function calls and as
the Prefect flow in one process (start-up excluded), and times the aligner on ever longer documents.

Every figure is measured on this machine in this run; ratios are measured side by side in one run, since a
shared machine's absolute times drift. Results are printed as markdown (``--results FILE`` also writes them).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import GOLD_NAME, SEEDS, corpus_gold, generate_corpus
from bench.server import prefect_server

BIN = Path(sys.executable).parent
WORK_DIR = Path(__file__).resolve().parent / "out"
# Seconds of each work's stages, summed over the batches inside "rebuild (wall)": not extra time.
STAGE_SUMS = ("ingest+langtag+segment", "align", "export")

# The targets of the "performance at corpus scale" issue, and of issue 16 (no orchestration tax: the full
# build's rate, the no-op and the one-translation rebuild with the defaults, no Prefect server).
FULL_BUILD_1000_DOCS_PER_SECOND = 25.0
SCALING_4000_OVER_1000 = 4.4
PREFECT_OVER_PLAIN = 1.15
NOOP_SECONDS = 4.0
ADD_ONE_SECONDS = 6.0
SERVED_REBUILD_SECONDS = 15.0
RSS_4000_OVER_1000 = 1.5
RSS_LIMIT_MB = 2048.0


@dataclass(frozen=True)
class Run:
    wall_seconds: float
    # The kernel's ru_maxrss of the build and what it waited for. Not shown: on Linux a forked child starts with
    # its parent's high-water mark, so it reports this benchmark's own size when that is larger.
    peak_rss_mb: float
    tree_rss_mb: float  # the build's processes together (sampled), Prefect's server and workers included
    summary: dict[str, Any]
    load: float  # the machine's 1-minute load average when the build started (it is shared)
    cpu_seconds: float | None = None  # user + system CPU of the build and every process it waited for
    largest_rss_mb: float | None = None  # the largest single process of the build (sampled)

    @property
    def pipeline_seconds(self) -> float:
        """Seconds inside the flow: its top-level stages, Prefect's start-up excluded."""
        return float(sum(v for k, v in self.summary["timings"].items() if k not in STAGE_SUMS))


def _tree_rss_mb(root: int) -> tuple[float, float]:
    """Resident memory of a process and all its descendants together, and of the largest of them, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    pages = largest = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
        pages += resident
        largest = max(largest, resident)
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    return pages * page_mb, largest * page_mb


def run_build(source: Path, out: Path, *extra: str, env: dict[str, str] | None = None,
              embeddings: bool = False) -> Run:
    """`corpus build` in a subprocess: its wall time, its peak RSS and its JSON summary."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    # Without the optional embeddings even where they are installed unless asked (see bench/RESULTS.md).
    process = subprocess.Popen([str(BIN / "corpus"), "build", str(source), "--out", str(out), "--json",
                                "--embeddings" if embeddings else "--no-embeddings", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    peak_tree = peak_largest = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_largest
        while not done.wait(0.25):
            tree, largest = _tree_rss_mb(process.pid)
            peak_tree, peak_largest = max(peak_tree, tree), max(peak_largest, largest)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"corpus build failed on {source}")
    return Run(wall, usage.ru_maxrss / 1024, peak_tree, json.loads(output), load, usage.ru_utime + usage.ru_stime,
               peak_largest)


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


@dataclass(frozen=True)
class Quality:
    works: int
    pairs: int
    segment_strict_f1: float
    segment_link_f1: float
    section_strict_f1: float


def score_sample(source: Path, out: Path, works: int, sample: int) -> Quality:
    """Alignment quality of an even sample of the built works, against the generated gold."""
    from eval.output import evaluate_output
    from eval.run import ALIGNER

    chosen = sorted({f"work-{k * works // sample:05d}" for k in range(min(sample, works))})
    report = evaluate_output(out, corpus_gold(source, chosen))
    segment, section = report.total(ALIGNER, "segment"), report.total(ALIGNER, "section")
    pairs = sum(1 for r in report.rows if r.level == "segment")
    return Quality(len(chosen), pairs, segment.strict.f1, segment.links.f1, section.strict.f1)


@dataclass(frozen=True)
class SizeResult:
    works: int
    documents: int
    input_mb: float
    output_mb: float
    full: Run
    noop: Run
    add_one: Run
    quality: Quality
    # The same two rebuilds with a Prefect server already running (PREFECT_API_URL, as scheduled runs have):
    noop_served: Run | None = None
    add_one_served: Run | None = None


def corpus(works: int) -> Path:
    """The generated corpus of ``works`` works (generated now if missing or made without gold)."""
    source = WORK_DIR / f"corpus-{works}"
    complete = (source / f"work-{works - 1:05d}" / GOLD_NAME).exists() and not (
        source / f"work-{works:05d}").exists()
    if not complete:
        shutil.rmtree(source, ignore_errors=True)
        generate_corpus(source, works)
    return source


def bench_size(works: int, workers: str, sample: int, embeddings: bool = False) -> SizeResult:
    """Full build, no-op and one added translation as `corpus build` runs without PREFECT_API_URL (no Prefect
    server: the local orchestrator), then with a running server (a recorded flow run); with ``embeddings``,
    every build has sentence embeddings on (the first from a cold embedding cache: the output folder is new)."""
    source, out = corpus(works), WORK_DIR / f"output-{works}"
    shutil.rmtree(out, ignore_errors=True)
    held_back_dir = WORK_DIR / f"held-back-{works}"
    for left_over in held_back_dir.glob("*/*.txt"):  # from a run that was cut short
        shutil.move(left_over, source / left_over.parent.name / left_over.name)
    # The last translation of the first two works (of one work only in a one-work corpus) is added later.
    late = [sorted((source / f"work-{k:05d}").glob("*.txt"))[-1] for k in range(min(2, works))]
    held_back = [held_back_dir / path.parent.name / path.name for path in late]
    for path, kept_aside in zip(late, held_back, strict=True):
        kept_aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, kept_aside)
    extra = () if workers == "auto" else ("--workers", workers)
    try:
        full = run_build(source, out, *extra, embeddings=embeddings)
        noop = run_build(source, out, *extra, embeddings=embeddings)
        shutil.move(held_back[0], late[0])
        add_one = run_build(source, out, *extra, embeddings=embeddings)
        noop_served = add_one_served = None
        if len(late) > 1:
            with prefect_server(WORK_DIR / "prefect-home", WORK_DIR / "prefect-server.log") as (_, env):
                run_build(_warm_up_corpus(), WORK_DIR / "warm-up", env=env)  # the server's first flow run
                noop_served = run_build(source, out, *extra, env=env, embeddings=embeddings)
                shutil.move(held_back[1], late[1])
                add_one_served = run_build(source, out, *extra, env=env, embeddings=embeddings)
    finally:
        for path, kept_aside in zip(late, held_back, strict=True):
            if kept_aside.exists():
                shutil.move(kept_aside, path)
    return SizeResult(works, full.summary["counts"]["new"] + len(late), folder_mb(source), folder_mb(out), full, noop,
                      add_one, score_sample(source, out, works, sample), noop_served, add_one_served)


def _warm_up_corpus() -> Path:
    """A one-file input folder for a build that only warms Prefect up (an empty folder is refused)."""
    folder = WORK_DIR / "corpus-warm-up"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "warm-up.txt").write_text("Warm-up\n\nA short text to start the server with.\n", encoding="utf-8")
    return folder


def prefect_cost(works: int, repeats: int) -> dict[str, float]:
    """The same build as plain function calls and as the Prefect flow, in this process, start-up excluded.

    Runs alternate (plain, flow, plain, flow, ...) and the fastest of each is kept.
    """
    from bench.plain import plain_build
    from flows.build import build_corpus

    source = corpus(works)
    warm = WORK_DIR / "warm-up"
    shutil.rmtree(warm, ignore_errors=True)
    build_corpus(source=str(_warm_up_corpus()), out=str(warm), embeddings=False)  # starts Prefect's server
    seconds: dict[str, list[float]] = {"plain": [], "prefect": []}
    for _ in range(repeats):
        for name in seconds:
            out = WORK_DIR / f"cost-{name}-{works}"
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            if name == "plain":
                plain_build(source, out)
            else:
                build_corpus(source=str(source), out=str(out), embeddings=False)
            seconds[name].append(time.perf_counter() - started)
            shutil.rmtree(out, ignore_errors=True)
    plain, prefect = min(seconds["plain"]), min(seconds["prefect"])
    return {"works": float(works), "plain": plain, "prefect": prefect, "ratio": prefect / plain}


def alignment_scaling(repeats: Sequence[int] = (1, 2, 4, 8, 16)) -> list[tuple[int, int, float]]:
    """CPU seconds to align one pair against segments per document (two seeds, repeated end to end)."""
    from tasks.align import align_pair
    from tasks.segment import segment_text

    seeds = sorted(SEEDS.glob("*.txt"))
    src_text, tgt_text = (p.read_text(encoding="utf-8") for p in (seeds[0], seeds[2]))
    rows = []
    for repeat in repeats:
        src = segment_text("\n".join([src_text] * repeat))
        tgt = segment_text("\n".join([tgt_text] * repeat))
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            align_pair(src, tgt)
            best = min(best, time.process_time() - started)
        rows.append((len(src), len(tgt), best))
    return rows


@dataclass(frozen=True)
class Target:
    name: str
    value: str
    ok: bool


def targets(sizes: Sequence[SizeResult], cost: dict[str, float] | None) -> list[Target]:
    """The issue's targets that this run measured, met or not."""
    by_works = {r.works: r for r in sizes}
    found: list[Target] = []
    if 1000 in by_works:
        r = by_works[1000]
        rate = r.documents / r.full.wall_seconds
        found += [
            Target(f"full build of 1,000 works >= {FULL_BUILD_1000_DOCS_PER_SECOND:.0f} documents/s",
                   f"{rate:.1f} documents/s ({r.full.wall_seconds:.0f} s)", rate >= FULL_BUILD_1000_DOCS_PER_SECOND),
            Target(f"no-op rebuild of 1,000 works <= {NOOP_SECONDS:.0f} s wall", f"{r.noop.wall_seconds:.1f} s",
                   r.noop.wall_seconds <= NOOP_SECONDS),
            Target(f"adding one translation <= {ADD_ONE_SECONDS:.0f} s wall", f"{r.add_one.wall_seconds:.1f} s",
                   r.add_one.wall_seconds <= ADD_ONE_SECONDS),
        ]
        if r.noop_served and r.add_one_served:
            found += [
                Target(f"no-op rebuild of 1,000 works < {SERVED_REBUILD_SECONDS:.0f} s wall, Prefect server running",
                       f"{r.noop_served.wall_seconds:.1f} s", r.noop_served.wall_seconds < SERVED_REBUILD_SECONDS),
                Target(f"adding one translation < {SERVED_REBUILD_SECONDS:.0f} s wall, Prefect server running",
                       f"{r.add_one_served.wall_seconds:.1f} s",
                       r.add_one_served.wall_seconds < SERVED_REBUILD_SECONDS),
            ]
    if 1000 in by_works and 4000 in by_works:
        small, large = by_works[1000], by_works[4000]
        time_ratio = large.full.wall_seconds / small.full.wall_seconds
        rss_ratio = large.full.tree_rss_mb / small.full.tree_rss_mb
        found += [
            Target(f"time(4000) / time(1000) <= {SCALING_4000_OVER_1000}", f"{time_ratio:.2f}",
                   time_ratio <= SCALING_4000_OVER_1000),
            Target(f"peak RSS (all processes) at 4,000 works <= {RSS_4000_OVER_1000} x at 1,000", f"{rss_ratio:.2f}",
                   rss_ratio <= RSS_4000_OVER_1000),
            Target("peak RSS (all processes) at 4,000 works < 2 GiB", f"{large.full.tree_rss_mb:.0f} MB",
                   large.full.tree_rss_mb < RSS_LIMIT_MB),
        ]
    if cost:
        found.append(Target(f"Prefect run / plain run <= {PREFECT_OVER_PLAIN} ({cost['works']:.0f} works)",
                            f"{cost['ratio']:.3f}", cost["ratio"] <= PREFECT_OVER_PLAIN))
    return found


def render(sizes: Sequence[SizeResult], cost: dict[str, float] | None, scaling: Sequence[tuple[int, int, float]],
           workers: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), commit {commit}{' with uncommitted changes' if dirty else ''}, "
        f"--workers {workers}. The machine is shared: its 1-minute load average when each full build started: "
        + ", ".join(f"{r.works} works {r.full.load:.1f}" for r in sizes) + ".",
        "",
        "| works x 5 langs | docs | input MB | output MB | full build s (wall / in flow / CPU) | docs/s | "
        "no-op s (wall / in flow) | add one s (wall / in flow) | no-op, add one s (wall, server running) | "
        "peak RSS MB (all processes / largest one, sampled) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sizes:
        cpu = f"{r.full.cpu_seconds:.0f}" if r.full.cpu_seconds is not None else "-"
        largest = f"{r.full.largest_rss_mb:.0f}" if r.full.largest_rss_mb is not None else "-"
        served = (f"{r.noop_served.wall_seconds:.1f}, {r.add_one_served.wall_seconds:.1f}"
                  if r.noop_served and r.add_one_served else "-")
        lines.append(
            f"| {r.works} | {r.documents} | {r.input_mb:.1f} | {r.output_mb:.1f} | "
            f"{r.full.wall_seconds:.1f} / {r.full.pipeline_seconds:.1f} / {cpu} | "
            f"{r.documents / r.full.wall_seconds:.1f} | {r.noop.wall_seconds:.1f} / {r.noop.pipeline_seconds:.2f} | "
            f"{r.add_one.wall_seconds:.1f} / {r.add_one.pipeline_seconds:.2f} | {served} | "
            f"{r.full.tree_rss_mb:.0f} / {largest} |"
        )
    stages = list(dict.fromkeys(k for r in sizes for k in r.full.summary["timings"]))
    lines += ["", "Seconds per stage of the full build (the per-work stages are summed over the workers' batches, "
              "so with several workers they add up to more than `rebuild (wall)`):", "",
              "| works | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|"]
    for r in sizes:
        timings = r.full.summary["timings"]
        lines.append(f"| {r.works} | " + " | ".join(f"{timings.get(s, 0.0):.1f}" for s in stages) + " |")
    lines += ["", "Alignment quality of a sample of works of the built corpus (after adding the held-back "
              "translation), against the generated gold:", "",
              "| works | works scored | pairs | segment strict F1 | segment link F1 | section strict F1 |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r.works} | {r.quality.works} | {r.quality.pairs} | {r.quality.segment_strict_f1:.3f} | "
              f"{r.quality.segment_link_f1:.3f} | {r.quality.section_strict_f1:.3f} |" for r in sizes]
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        lines += ["", f"time({last.works}) / time({first.works}) = "
                  f"{last.full.wall_seconds / first.full.wall_seconds:.2f} for {last.works / first.works:.0f}x the "
                  f"works; peak RSS ratio (all processes) {last.full.tree_rss_mb / first.full.tree_rss_mb:.2f}."]
    if cost:
        lines += ["", f"Prefect's cost ({cost['works']:.0f} works, same process, start-up excluded): plain "
                  f"{cost['plain']:.1f} s, flow {cost['prefect']:.1f} s, ratio {cost['ratio']:.3f}."]
    lines += ["", "Alignment CPU time of one pair against segments per document (seeds 000 and 002 repeated):", "",
              "| segments (src / tgt) | seconds | ms per source segment |", "|---|---|---|"]
    lines += [f"| {n} / {m} | {s:.3f} | {1000 * s / n:.2f} |" for n, m, s in scaling]
    found = targets(sizes, cost)
    if found:
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        lines += [f"| {t.name} | {t.value} | {'yes' if t.ok else 'no'} |" for t in found]
    return "\n".join(lines) + "\n"


def _load(raw: Path) -> tuple[list[SizeResult], dict[str, float] | None, list[tuple[int, int, float]], str]:
    """The measurements saved by ``_save``."""
    data = json.loads(raw.read_text(encoding="utf-8"))
    runs = ("full", "noop", "add_one", "noop_served", "add_one_served")
    sizes = [SizeResult(**{**r, **{k: Run(**r[k]) for k in runs if r.get(k)}, "quality": Quality(**r["quality"])})
             for r in data["sizes"]]
    return sizes, data["cost"], [(n, m, s) for n, m, s in data["scaling"]], str(data["workers"])


def _save(raw: Path, sizes: Sequence[SizeResult], cost: dict[str, float] | None,
          scaling: Sequence[tuple[int, int, float]], workers: str) -> None:
    """The measurements so far, so that a run cut short keeps them (``--render`` prints them)."""
    data = {"sizes": [dataclasses.asdict(r) for r in sizes], "cost": cost, "scaling": list(scaling),
            "workers": workers}
    raw.write_text(json.dumps(data, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,4000", help="numbers of works, comma-separated")
    parser.add_argument("--workers", default="auto", help="as `corpus build --workers`: a number or auto")
    parser.add_argument("--cost-works", type=int, default=1000, help="corpus size for Prefect's cost (0: skip)")
    parser.add_argument("--cost-repeats", type=int, default=1, help="runs of each of plain and flow for the cost")
    parser.add_argument("--quality-works", type=int, default=20, help="works scored against the gold per size")
    parser.add_argument("--results", type=Path, help="also write the markdown to this file")
    parser.add_argument("--raw", type=Path, default=WORK_DIR / "raw.json",
                        help="measurements as JSON, saved after each step (default: %(default)s)")
    parser.add_argument("--render", action="store_true", help="only print the measurements saved in --raw")
    parser.add_argument("--embeddings", action="store_true",
                        help="builds with sentence embeddings on (the embeddings extra; default off)")
    args = parser.parse_args()
    if args.render:
        report = render(*_load(args.raw))
    else:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the flow run in this process, as `--json` does
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        sizes: list[SizeResult] = []
        cost: dict[str, float] | None = None
        scaling = alignment_scaling()
        _save(args.raw, sizes, cost, scaling, args.workers)
        for works in args.sizes.split(","):
            sizes.append(bench_size(int(works), args.workers, args.quality_works, args.embeddings))
            _save(args.raw, sizes, cost, scaling, args.workers)
        if args.cost_works:
            cost = prefect_cost(args.cost_works, args.cost_repeats)
            _save(args.raw, sizes, cost, scaling, args.workers)
        report = render(sizes, cost, scaling, args.workers)
        if args.embeddings:
            report = ("Builds with sentence embeddings on (`--embeddings`, cold embedding cache at the full build)."
                      "\n\n" + report)
    print(report)
    if args.results:
        args.results.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
