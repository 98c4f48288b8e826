"""Deterministic synthetic corpora for tests and benchmarks: N works x the seed languages.

Each work is made of every seed file, with the work's own numbers (every number shifted by the work's
index, consistently across its languages, as a real article has its own figures) and, per document, a
few paragraphs dropped or merged the way loose translations differ. Same arguments, same bytes.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
_NUMBER = re.compile(r"\d+")


def _shift_numbers(line: str, by: int) -> str:
    return _NUMBER.sub(lambda m: str(int(m.group()) + by), line)


def _damage(lines: list[str], rng: random.Random) -> list[str]:
    """Drop or merge a couple of long lines (paragraphs), never the first three lines of the file."""
    lines = list(lines)
    for _ in range(rng.randint(0, 2)):
        candidates = [i for i in range(3, len(lines) - 1) if len(lines[i]) > 80 and len(lines[i + 1]) > 80]
        if not candidates:
            break
        i = rng.choice(candidates)
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines[i : i + 2] = [lines[i] + " " + lines[i + 1]]
    return lines


def generate_corpus(dest: Path, works: int, languages: int = 5, seed: int = 0) -> list[Path]:
    """Write ``works`` folders of ``languages`` documents under ``dest``; return the files written."""
    seeds = sorted(SEEDS.glob("*.txt"))[:languages]
    texts = [p.read_text(encoding="utf-8").split("\n") for p in seeds]
    written: list[Path] = []
    for work in range(works):
        folder = dest / f"work-{work:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for seed_path, lines in zip(seeds, texts, strict=True):
            rng = random.Random(f"{seed}/{work}/{seed_path.name}")
            shifted = [_shift_numbers(line, work) for line in lines]
            target = folder / seed_path.name
            target.write_text("\n".join(_damage(shifted, rng)), encoding="utf-8")
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--works", type=int, default=100)
    parser.add_argument("--languages", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = generate_corpus(args.dest, args.works, args.languages, args.seed)
    print(f"wrote {len(files)} files under {args.dest}")


if __name__ == "__main__":
    main()
