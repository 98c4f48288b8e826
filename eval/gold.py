"""Gold alignments as data: for every line of a document, the translation units it belongs to.

Lines of two documents that share a unit are translations of each other. A line may list several
units (``a+b``) when it fuses the content of several lines of another version; a line with no unit
(boilerplate) is out of scope and ignored by the scores. See ``gold/README.md``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import CorpusError
from tasks.segment import Segment

__all__ = ["SEEDS_GOLD", "EvalDoc", "GoldError", "LineUnits", "load_gold"]

SEEDS_GOLD = Path(__file__).resolve().parent / "gold" / "seeds.tsv"

LineUnits = Mapping[int, frozenset[str]]  # 1-based line -> units; absent lines are out of scope


class GoldError(CorpusError):
    """A gold file is malformed."""


@dataclass(frozen=True, slots=True)
class EvalDoc:
    """A segmented document with its gold: what the scores compare an alignment against."""

    name: str
    segments: Sequence[Segment]
    gold: LineUnits


def load_gold(path: Path = SEEDS_GOLD) -> dict[str, dict[int, frozenset[str]]]:
    """Gold of every file in a TSV with columns file, line, unit, note (empty unit = boilerplate)."""
    gold: dict[str, dict[int, frozenset[str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"file", "line", "unit"} - set(reader.fieldnames or ())
        if missing:
            raise GoldError(f"{path}: missing columns {sorted(missing)}; expected file, line, unit, note")
        for row in reader:
            lines = gold.setdefault(row["file"], {})
            try:
                line = int(row["line"])
            except ValueError as exc:
                raise GoldError(
                    f"{path}: line {reader.line_num}: line number {row['line']!r} is not an integer"
                ) from exc
            if line in lines:
                raise GoldError(f"{path}: {row['file']} line {line} is listed twice")
            units = frozenset(u for u in row["unit"].split("+") if u)
            if units:
                lines[line] = units
    return gold
