"""Deterministic synthetic corpora for tests and benchmarks: N works x the seed languages, with their gold.

Each work is made of every seed file, with the work's own numbers (every number shifted by the work's
index, consistently across its languages, as a real article has its own figures) and, per document, a
few paragraphs dropped or merged the way loose translations differ. Same arguments, same bytes.

Every work folder also gets ``gold.tsv``: the seed gold (``eval/gold/seeds.tsv``) carried through the
damage, so that a build of the corpus can be scored like the seeds (``python -m eval output OUT --gold
FILE``). A generated line has the units of the seed lines it came from: none if it was dropped, both
lines' units if it is a merge of two. Its ``file`` column is the path relative to the corpus root, the
``source_path`` the build records.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from eval.gold import SEEDS_GOLD, load_gold

__all__ = ["GOLD_NAME", "SEEDS", "corpus_gold", "generate_corpus"]

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GOLD_NAME = "gold.tsv"  # in every work folder; not an input of a build (which reads *.txt)
_NUMBER = re.compile(r"\d+")

Line = tuple[str, tuple[int, ...]]  # text, and the 0-based seed lines it came from


def _shift_numbers(line: str, by: int) -> str:
    return _NUMBER.sub(lambda m: str(int(m.group()) + by), line)


def _damage(lines: Sequence[str], rng: random.Random) -> list[Line]:
    """Drop or merge a couple of long lines (paragraphs), never the first three lines of the file."""
    damaged: list[Line] = [(line, (k,)) for k, line in enumerate(lines)]
    for _ in range(rng.randint(0, 2)):
        candidates = [i for i in range(3, len(damaged) - 1)
                      if len(damaged[i][0]) > 80 and len(damaged[i + 1][0]) > 80]
        if not candidates:
            break
        i = rng.choice(candidates)
        if rng.random() < 0.5:
            del damaged[i]
        else:
            (first, a), (second, b) = damaged[i], damaged[i + 1]
            damaged[i : i + 2] = [(first + " " + second, a + b)]
    return damaged


def _gold_rows(path: str, lines: Sequence[Line], seed_gold: Mapping[int, frozenset[str]]) -> list[list[str]]:
    rows = []
    for number, (_, origin) in enumerate(lines, start=1):
        units = sorted({u for k in origin for u in seed_gold.get(k + 1, ())})
        if units:
            rows.append([path, str(number), "+".join(units), "merged" if len(origin) > 1 else ""])
    return rows


def generate_corpus(dest: Path, works: int, languages: int = 5, seed: int = 0) -> list[Path]:
    """Write ``works`` folders of ``languages`` documents and their gold under ``dest``; return the documents."""
    seeds = sorted(SEEDS.glob("*.txt"))[:languages]
    texts = [p.read_text(encoding="utf-8").split("\n") for p in seeds]
    seed_gold = load_gold(SEEDS_GOLD)
    written: list[Path] = []
    for work in range(works):
        folder = dest / f"work-{work:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        gold: list[list[str]] = []
        for seed_path, lines in zip(seeds, texts, strict=True):
            rng = random.Random(f"{seed}/{work}/{seed_path.name}")
            damaged = _damage([_shift_numbers(line, work) for line in lines], rng)
            target = folder / seed_path.name
            target.write_text("\n".join(text for text, _ in damaged), encoding="utf-8")
            written.append(target)
            gold += _gold_rows(f"{folder.name}/{seed_path.name}", damaged, seed_gold.get(seed_path.name, {}))
        with (folder / GOLD_NAME).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
            writer.writerows([["file", "line", "unit", "note"], *gold])
    return written


def corpus_gold(dest: Path, works: Sequence[str] | None = None) -> dict[str, dict[int, frozenset[str]]]:
    """The gold of a generated corpus (of the named work folders only, if given), keyed by source path."""
    folders = sorted(p.parent for p in dest.glob(f"*/{GOLD_NAME}")) if works is None else [dest / w for w in works]
    gold: dict[str, dict[int, frozenset[str]]] = {}
    for folder in folders:
        gold.update(load_gold(folder / GOLD_NAME))
    return gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--works", type=int, default=100)
    parser.add_argument("--languages", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = generate_corpus(args.dest, args.works, args.languages, args.seed)
    print(f"wrote {len(files)} files and their gold under {args.dest}")


if __name__ == "__main__":
    main()
