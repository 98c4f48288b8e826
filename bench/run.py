"""The benchmark: build time, stages, no-op and incremental rebuilds, memory, size, Prefect's cost.

    python -m bench.run                       # the full table: 100, 1000 and 4000 works x 5 languages
    python -m bench.run --sizes 5 --quick     # the CI smoke test (no timing targets checked)

Every figure is measured on this machine in this run; ratios are measured side by side in one run, since a
shared machine's absolute times drift. Results are printed as markdown (``--results FILE`` writes them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.generate import generate_corpus

BIN = Path(sys.executable).parent
WORK_DIR = Path(__file__).resolve().parent / "out"


@dataclass
class Run:
    wall_seconds: float
    peak_rss_mb: float
    summary: dict[str, Any]

    @property
    def pipeline_seconds(self) -> float:
        return float(sum(self.summary["timings"].values()))


def run_build(source: Path, out: Path, *extra: str) -> Run:
    """`corpus build` in a subprocess: its wall time, its peak RSS and its JSON summary."""
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "corpus"), "build", str(source), "--out", str(out), "--json", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"corpus build failed on {source}")
    return Run(wall, usage.ru_maxrss / 1024, json.loads(output))


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


@dataclass
class SizeResult:
    works: int
    documents: int
    input_mb: float
    output_mb: float
    full: Run
    noop: Run
    add_one: Run
    quality: dict[str, float] = field(default_factory=dict)


def bench_size(works: int, workers: int) -> SizeResult:
    source, out = WORK_DIR / f"corpus-{works}", WORK_DIR / f"output-{works}"
    shutil.rmtree(out, ignore_errors=True)
    if not source.exists():
        generate_corpus(source, works)
    late = sorted((source / "work-00000").glob("*.txt"))[-1]
    held_back = WORK_DIR / f"held-back-{works}.txt"
    shutil.move(late, held_back)
    extra = ("--workers", str(workers)) if workers > 1 else ()
    full = run_build(source, out, *extra)
    noop = run_build(source, out, *extra)
    shutil.move(held_back, late)
    add_one = run_build(source, out, *extra)
    return SizeResult(works, full.summary["counts"]["new"] + 1, folder_mb(source), folder_mb(out), full, noop,
                      add_one)


def prefect_cost(works: int) -> dict[str, float]:
    """The same build as plain function calls and as the Prefect flow, in this process, start-up excluded."""
    from bench.plain import plain_build
    from flows.build import build_corpus

    source = WORK_DIR / f"corpus-{works}"
    if not source.exists():
        generate_corpus(source, works)
    warm = WORK_DIR / "warm-up"
    shutil.rmtree(warm, ignore_errors=True)
    build_corpus(source=str(WORK_DIR / "corpus-empty"), out=str(warm))  # starts Prefect's server once
    results = {}
    for name in ("plain", "prefect"):
        out = WORK_DIR / f"cost-{name}-{works}"
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        if name == "plain":
            plain_build(source, out)
        else:
            build_corpus(source=str(source), out=str(out))
        results[name] = time.perf_counter() - started
    results["ratio"] = results["prefect"] / results["plain"]
    return results


def alignment_scaling() -> list[tuple[int, float]]:
    """Seconds to align one pair against segments per document (the seeds repeated)."""
    from tasks.align import align_pair
    from tasks.segment import segment_text

    seeds = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    src_text, tgt_text = (p.read_text(encoding="utf-8") for p in (seeds[0], seeds[2]))
    rows = []
    for repeat in (1, 2, 4, 8, 16):
        src = segment_text("\n".join([src_text] * repeat))
        tgt = segment_text("\n".join([tgt_text] * repeat))
        started = time.perf_counter()
        align_pair(src, tgt)
        rows.append((len(src), time.perf_counter() - started))
    return rows


def render(sizes: list[SizeResult], cost: dict[str, float] | None, scaling: list[tuple[int, float]],
           workers: int) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), commit {commit}, --workers {workers}.",
        "",
        "| works x 5 langs | docs | input MB | output MB | full build s (wall / pipeline) | docs/s | "
        "no-op s (wall / pipeline) | add one s (wall / pipeline) | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sizes:
        lines.append(
            f"| {r.works} | {r.documents} | {r.input_mb:.1f} | {r.output_mb:.1f} | "
            f"{r.full.wall_seconds:.1f} / {r.full.pipeline_seconds:.1f} | "
            f"{r.documents / r.full.wall_seconds:.1f} | {r.noop.wall_seconds:.1f} / {r.noop.pipeline_seconds:.2f} | "
            f"{r.add_one.wall_seconds:.1f} / {r.add_one.pipeline_seconds:.2f} | {r.full.peak_rss_mb:.0f} |"
        )
    stages = list(sizes[0].full.summary["timings"])
    lines += ["", "Seconds per stage of the full build:", "", "| works | " + " | ".join(stages) + " |",
              "|---" * (len(stages) + 1) + "|"]
    for r in sizes:
        lines.append(f"| {r.works} | " + " | ".join(f"{v:.1f}" for v in r.full.summary["timings"].values()) + " |")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        lines += ["", f"time({last.works}) / time({first.works}) = "
                  f"{last.full.wall_seconds / first.full.wall_seconds:.2f} for {last.works / first.works:.0f}x the "
                  f"works; peak RSS ratio {last.full.peak_rss_mb / first.full.peak_rss_mb:.2f}."]
    if cost:
        lines += ["", f"Prefect's cost ({cost['works']:.0f} works, same process, start-up excluded): plain "
                  f"{cost['plain']:.1f} s, flow {cost['prefect']:.1f} s, ratio {cost['ratio']:.3f}."]
    lines += ["", "Alignment time per pair against segments per document:", "", "| segments | seconds |",
              "|---|---|"]
    lines += [f"| {n} | {s:.3f} |" for n, s in scaling]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,4000", help="numbers of works, comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cost-works", type=int, default=1000, help="corpus size for Prefect's cost (0: skip)")
    parser.add_argument("--quick", action="store_true", help="smoke test: small sizes, no Prefect-cost run")
    parser.add_argument("--results", type=Path, help="also write the markdown table to this file")
    args = parser.parse_args()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / "corpus-empty").mkdir(exist_ok=True)
    sizes = [bench_size(int(n), args.workers) for n in args.sizes.split(",")]
    cost = None
    if not args.quick and args.cost_works:
        cost = {"works": float(args.cost_works), **prefect_cost(args.cost_works)}
    report = render(sizes, cost, alignment_scaling(), args.workers)
    print(report)
    if args.results:
        args.results.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
