"""What a person waits for: `corpus build` of the seeds (full, nothing to do, one translation added) and the
commands that read a corpus, each in a subprocess as typed, without a Prefect server.

    python -m bench.commands                         # the seeds builds, then stats and status of their output
    python -m bench.commands --corpus bench/out/output-1000 --repeats 3

Prints a markdown table of wall seconds (the best of ``--repeats``) with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.generate import SEEDS
from bench.run import BIN

# Issue 16's targets, seconds of wall time on 2 cores.
SEEDS_FULL_SECONDS = 5.0
SEEDS_NOOP_SECONDS = 2.0
SEEDS_ADD_ONE_SECONDS = 3.0
READ_SECONDS = 1.5


def timed(*args: str) -> tuple[float, float]:
    """Wall seconds of `corpus ARGS` without a Prefect API, and its CPU seconds (user + system, its processes
    included): the CPU time hardly depends on what else the machine runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(BIN / "corpus"), *args], env={**env, "CORPUS_EMBEDDINGS": "off"}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def seeds_builds(work: Path) -> dict[str, tuple[float, float]]:
    """Full build of the seeds, the same again; then a build without their last file (not timed) and with it."""
    source, out, partial = work / "seeds", work / "out", work / "partial"
    shutil.copytree(SEEDS, source)
    full = timed("build", str(source), "--out", str(out), "-q")
    noop = timed("build", str(source), "--out", str(out), "-q")
    last = sorted(source.glob("*.txt"))[-1]
    held = last.rename(work / last.name)
    timed("build", str(source), "--out", str(partial), "-q")
    held.rename(last)
    add_one = timed("build", str(source), "--out", str(partial), "-q")
    return {"seeds: full build (5 documents)": full, "seeds: no-op": noop, "seeds: one translation added": add_one}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a built corpus to time `corpus stats` and `status` on "
                                                    "(default: the seeds' output)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    best: dict[str, tuple[float, float]] = {}
    targets = {"seeds: full build (5 documents)": SEEDS_FULL_SECONDS, "seeds: no-op": SEEDS_NOOP_SECONDS,
               "seeds: one translation added": SEEDS_ADD_ONE_SECONDS}
    loads = []
    for _ in range(args.repeats):
        loads.append(os.getloadavg()[0])
        with tempfile.TemporaryDirectory(prefix="bench-commands-") as folder:
            measured = seeds_builds(Path(folder))
            corpus = args.corpus or Path(folder) / "out"
            for command in ("stats", "status"):
                measured[f"corpus {command} {corpus.name}"] = timed(command, str(corpus))
                targets[f"corpus {command} {corpus.name}"] = READ_SECONDS
            measured["corpus --help"] = timed("--help")
        for name, seconds in measured.items():
            best[name] = min(seconds, best.get(name, seconds))
    print(f"Best of {args.repeats}; 1-minute load average at each repeat: "
          + ", ".join(f"{load:.1f}" for load in loads) + f" ({os.cpu_count()} cores).\n")
    print("| command | wall s | CPU s | target (wall) |\n|---|---|---|---|")
    for name, (wall, cpu) in best.items():
        target = targets.get(name)
        verdict = "-" if target is None else f"<= {target:g} s: {'met' if wall <= target else 'not met'}"
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
