"""Adding the first file in a new language to one work of a built corpus: which Parquet files the build writes.

    python -m bench.new_language --works 1000 --workers 2 [--source GENERATED] [--base BUILT_OUT]

Builds the generated corpus of ``--works`` works x the five seed languages (``bench/out/corpus-N``, made by
``bench.generate``) into ``bench/out/new-language/base-N``, unless ``--base`` names such a build already made;
copies that output folder (mtimes kept), adds to the middle work a text in a language the corpus lacks (English:
``eval/real``'s Yasin, a text of another content, which changes nothing in what is counted), builds again with
this checkout's code and prints, as JSON: the wall time of that build, how many Parquet files it wrote (files in
the new manifest that the old one did not name, by table), those of them that hold rows of works other than the
one that grew (the parallel table's all-languages file, which has no rows, is not one), how many files that were
there before changed on disk (mtime or size) and how many were deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.run import WORK_DIR, corpus
from tasks.store.storage import file_members, load_manifest, work_key

ROOT = Path(__file__).resolve().parent.parent
NEW_TEXT = ROOT / "eval" / "real" / "articles" / "quran-36" / "yasin_en.txt"


def build(source: Path, out: Path, workers: int) -> tuple[float, dict[str, Any]]:
    """`corpus build` of this checkout's code in a subprocess (Prefect's temporary server, as a user runs it)."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "flows.cli", "build", str(source), "--out", str(out), "--json",
                          "--no-embeddings", "--workers", str(workers)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"corpus build failed: {run.stderr[-2000:]}")
    return time.perf_counter() - started, json.loads(run.stdout)


def files_on_disk(out: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*.parquet")}


def measure(works: int, workers: int, base: Path | None, source: Path | None = None) -> dict[str, Any]:
    source = source or corpus(works)
    folder = WORK_DIR / "new-language"
    if base is None:
        base = folder / f"base-{works}"
        if not (base / "manifest.json").exists():
            build(source, base, workers)
    grown_source, out = folder / f"source-{works}", folder / f"output-{works}"
    for path in (grown_source, out):
        shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(source, grown_source, copy_function=os.link)  # hard links: the generated corpus stays as it is
    shutil.copytree(base, out)  # copy2: mtimes kept
    grown = f"work-{works // 2:05d}"
    (grown_source / grown / "en.txt").write_bytes(NEW_TEXT.read_bytes())
    before_manifest, before_disk = load_manifest(out), files_on_disk(out)
    assert before_manifest is not None
    wall, summary = build(grown_source, out, workers)
    after_manifest = load_manifest(out)
    assert after_manifest is not None
    named_before = {f.path for f in before_manifest.files()}
    written = [f for f in after_manifest.files() if f.path not in named_before]
    others = [f for f in written if f.table in ("documents", "alignments", "parallel")  # per-work tables
              and work_key(grown) not in file_members(f) and not f.path.startswith("parallel/all-languages-")]
    after_disk = files_on_disk(out)
    return {
        "works": works, "workers": workers, "grown_work": grown, "wall_seconds": round(wall, 1),
        "counts": summary["counts"], "languages": after_manifest.languages,
        "parquet_files_in_the_snapshot": len(after_manifest.files()),
        "written": dict(Counter(f.table for f in written)),
        "written_for_other_works": [f.path for f in others][:5] + ([f"... {len(others)} in all"] if others else []),
        "files_changed_on_disk": sum(1 for p, v in before_disk.items() if p in after_disk and after_disk[p] != v),
        "files_deleted": sum(1 for p in before_disk if p not in after_disk),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--source", type=Path, help="the generated corpus (default: bench/out/corpus-N)")
    parser.add_argument("--base", type=Path, help="an output folder already built from that corpus")
    args = parser.parse_args()
    print(json.dumps(measure(args.works, args.workers, args.base, args.source), indent=2))


if __name__ == "__main__":
    main()
