"""What a correction costs: the time to align a corrected pair, next to the same pair aligned without corrections.

    python -m bench.corrections OUT            # the corrections stored in OUT's manifest
    python -m bench.corrections OUT FILE       # the corrections of FILE (paths as in OUT's documents)

For each document pair that has corrections, the pair is aligned from its stored segments, with and without them,
``--repeat`` times each; the medians are printed. Measured in one process, so the figures compare
the two alignments side by side rather than give a build's wall time (that includes Prefect's start-up).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow.dataset as ds

from schemas import DocumentRow
from tasks.corrections import align_corrected, load_corrections
from tasks.documents import AnalysedDocument, align_documents, segments_from_table
from tasks.store.storage import load_manifest


def _median_seconds(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="A built corpus.")
    parser.add_argument("corrections", type=Path, nargs="?", help="A corrections file (default: the stored ones).")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    manifest = load_manifest(args.out)
    if manifest is None:
        raise SystemExit(f"{args.out} holds no corpus")
    corrections = load_corrections(args.corrections) if args.corrections else manifest.corrections
    documents = {d["source_path"]: DocumentRow.model_validate(d)
                 for d in ds.dataset(args.out / "documents").to_table().to_pylist()}
    segments = ds.dataset(args.out / "segments", partitioning="hive").to_table()

    def analysed(path: str) -> AnalysedDocument:
        row = documents[path]
        mask = segments["doc_id"].to_pylist()
        return AnalysedDocument(row, segments_from_table(segments.filter([d == row.doc_id for d in mask])))

    print("| pair | corrections | beads | aligned without (s) | aligned with (s) |")
    print("|---|---|---|---|---|")
    for pair in sorted({tuple(sorted((c.src, c.tgt))) for c in corrections}):
        a, b = analysed(pair[0]), analysed(pair[1])
        mine = [c for c in corrections if tuple(sorted((c.src, c.tgt))) == pair]
        beads = sum(1 for r in align_corrected(a, b, mine) if r.level == "segment")
        without = _median_seconds(partial(align_documents, a, b), args.repeat)
        with_fixes = _median_seconds(partial(align_corrected, a, b, mine), args.repeat)
        print(f"| {pair[0]} - {pair[1]} | {len(mine)} | {beads} | {without:.3f} | {with_fixes:.3f} |")


if __name__ == "__main__":
    main()
