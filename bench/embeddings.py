"""What sentence embeddings cost a build: the same build with and without them, cold cache, as a user types it.

    python -m bench.embeddings                                  # the seeds
    python -m bench.embeddings --corpus generated --works 100   # bench.generate's corpus of 100 works x 5
    python -m bench.embeddings --corpus long                    # the dev corpus's sentence-per-line works
                                                                # (eval/real: quran-36, django-admin)
    python -m bench.embeddings --corpus DIR                     # any folder of inputs
    python -m bench.embeddings --corpus all                     # seeds, long and generated: the 3 ratios

Each build is `python -m flows.cli build SRC --out OUT --json` in a subprocess from the project folder, into a
new output folder (so the embedding cache under OUT/.cache/embeddings starts empty), with `--no-embeddings`, then
`--embeddings`. Prints a markdown table: wall and CPU seconds (user + system of the build and every process it
started: the fairer figure on a shared machine), their ratio, and the texts the build embedded (rows of the
cache it wrote), with the 1-minute load average when each build started. `--corpus all` measures the three
corpora of issue 19's targets one after the other and ends with their ratios side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.generate import SEEDS, generate_corpus

ROOT = Path(__file__).resolve().parent.parent
LONG_WORKS = ("articles/quran-36", "technical/django-admin")
ALL_CORPORA = ("seeds", "long", "generated")
TARGET_RATIO = 3.0  # issue 19: a build with embeddings costs at most 3x the same build without


def build(source: Path, out: Path, embeddings: bool, workers: str) -> dict[str, float]:
    """Wall and CPU seconds of one build, its load average at the start and the texts it embedded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", "build", str(source), "--out", str(out), "--json",
                           "--workers", workers, "--embeddings" if embeddings else "--no-embeddings"],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(done.stdout)
    return {"wall": wall, "cpu": after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime,
            "load": load, "embedded": float(embedded_texts(out)), "pairs": float(summary.get("pairs_aligned", 0))}


def embedded_texts(out: Path) -> int:
    """Texts in the embedding cache of an output folder (each text is computed once per build)."""
    total = 0
    for shard in (out / ".cache" / "embeddings").rglob("*.npz"):
        with np.load(shard) as data:
            total += len(data["digests"])
    return total


def source_of(corpus: str, works: int, folder: Path) -> Path:
    if corpus == "seeds":
        return SEEDS
    if corpus == "generated":
        generate_corpus(folder / "generated", works)
        return folder / "generated"
    if corpus == "long":
        for work in LONG_WORKS:
            shutil.copytree(ROOT / "eval" / "real" / work, folder / "long" / Path(work).name,
                            ignore=shutil.ignore_patterns("*.tsv", "*.md"))
        return folder / "long"
    return Path(corpus)


def measure(corpus: str, works: int, workers: str) -> tuple[dict[str, float], dict[str, float]]:
    """The build of one corpus without, then with embeddings (each into a new output folder), printed as a table."""
    with tempfile.TemporaryDirectory(prefix="bench-embeddings-") as work:
        source = source_of(corpus, works, Path(work))
        plain = build(source, Path(work) / "plain", False, workers)
        embedded = build(source, Path(work) / "embedded", True, workers)
    print(f"{corpus}: {source.name}, --workers {workers}, {os.cpu_count()} cores; "
          f"{plain['pairs']:.0f} pairs aligned\n")
    print("| build | load at start | wall s | CPU s | texts embedded |\n|---|---|---|---|---|")
    for name, run in (("--no-embeddings", plain), ("--embeddings (cold cache)", embedded)):
        print(f"| {name} | {run['load']:.1f} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['embedded']:.0f} |")
    ratio = embedded["cpu"] / max(plain["cpu"], 1e-9)
    print(f"| ratio | | {embedded['wall'] / max(plain['wall'], 1e-9):.2f} | {ratio:.2f} "
          f"(target <= {TARGET_RATIO:g}: {'met' if ratio <= TARGET_RATIO else 'not met'}) | |\n", flush=True)
    return plain, embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="seeds", help="seeds, generated, long, all (the three) or a folder")
    parser.add_argument("--works", type=int, default=100, help="works of the generated corpus")
    parser.add_argument("--workers", default="auto")
    args = parser.parse_args()
    corpora = ALL_CORPORA if args.corpus == "all" else (args.corpus,)
    results = {corpus: measure(corpus, args.works, args.workers) for corpus in corpora}
    if len(results) > 1:
        print("| corpus | without: wall / CPU s | with: wall / CPU s | with / without, CPU | target |\n"
              "|---|---|---|---|---|")
        for corpus, (plain, embedded) in results.items():
            ratio = embedded["cpu"] / max(plain["cpu"], 1e-9)
            print(f"| {corpus} | {plain['wall']:.1f} / {plain['cpu']:.1f} | {embedded['wall']:.1f} / "
                  f"{embedded['cpu']:.1f} | {ratio:.1f}x | <= {TARGET_RATIO:g}x: "
                  f"{'met' if ratio <= TARGET_RATIO else 'not met'} |")


if __name__ == "__main__":
    main()
