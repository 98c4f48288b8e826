"""Strict and lax precision/recall/F1 of beads against gold, in the manner of vecalign's score.py.

Beads are compared as pairs of item sets: lines at segment level (a segment bead covers the lines
of its segments) and section numbers at section level. The gold beads of a pair are the connected
components of its gold links: two items are linked when they share a unit. Items with no unit are
out of scope and removed from the beads; in-scope items that no bead covers count as omitted.

* strict: a bead is right if the other side has exactly the same bead;
* lax: a linking bead is right if it contains at least one gold link;
* links: precision and recall of the item-to-item links themselves.

A 1-0 or 0-1 bead stands for one item (omissions have no grouping) and is right, strictly and
laxly, if the other side also leaves that item unlinked. Precision judges the hypothesis beads
against the gold, recall the gold beads against the hypothesis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Self

from eval.gold import EvalDoc, LineUnits
from tasks.align import Bead, PairAlignment

__all__ = [
    "LEVELS",
    "Counts",
    "ItemBead",
    "Judged",
    "PairEvaluation",
    "Prf",
    "SegmentErrors",
    "Summable",
    "evaluate_pair",
    "gold_beads",
    "score_beads",
    "section_units",
    "segment_errors",
]

LEVELS = ("section", "segment")

ItemBead = tuple[frozenset[int], frozenset[int]]


@dataclass(frozen=True, slots=True)
class Prf:
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, hits_p: int, n_p: int, hits_r: int, n_r: int) -> Prf:
        p = hits_p / n_p if n_p else 1.0
        r = hits_r / n_r if n_r else 1.0
        return cls(p, r, 2 * p * r / (p + r) if p + r else 0.0)


class Summable:
    """A dataclass of counts that add up field by field (micro-averaging over pairs)."""

    __slots__ = ()

    def __add__(self, other: Self) -> Self:
        return type(self)(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Counts(Summable):
    """Counts of one comparison; they add up over pairs (micro-averaging)."""

    hyp: int = 0
    hyp_strict: int = 0
    hyp_lax: int = 0
    gold: int = 0
    gold_strict: int = 0
    gold_lax: int = 0
    hyp_links: int = 0
    gold_links: int = 0
    shared_links: int = 0

    @property
    def strict(self) -> Prf:
        return Prf.of(self.hyp_strict, self.hyp, self.gold_strict, self.gold)

    @property
    def lax(self) -> Prf:
        return Prf.of(self.hyp_lax, self.hyp, self.gold_lax, self.gold)

    @property
    def links(self) -> Prf:
        return Prf.of(self.shared_links, self.hyp_links, self.shared_links, self.gold_links)


@dataclass(frozen=True, slots=True)
class Judged:
    """One linking hypothesis bead: its score and whether it is right."""

    score: float
    strict: bool
    lax: bool


@dataclass(frozen=True, slots=True)
class PairEvaluation:
    src: str
    tgt: str
    counts: Mapping[str, Counts]  # by level
    judged: Mapping[str, Sequence[Judged]]  # by level


def gold_beads(src_units: Mapping[int, frozenset[str]], tgt_units: Mapping[int, frozenset[str]]) -> list[ItemBead]:
    """Connected components of the gold links between two documents' items, plus unlinked items."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(node: tuple[int, int]) -> tuple[int, int]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    by_unit: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for side, units in ((0, src_units), (1, tgt_units)):
        for item, item_units in units.items():
            find((side, item))
            for unit in item_units:
                by_unit[unit].append((side, item))
    for nodes in by_unit.values():
        if {side for side, _ in nodes} == {0, 1}:
            root = find(nodes[0])
            for node in nodes[1:]:
                parent[find(node)] = root
    groups: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for node in list(parent):
        groups[find(node)].append(node)
    beads: list[ItemBead] = []
    for nodes in groups.values():
        src = frozenset(item for side, item in nodes if side == 0)
        tgt = frozenset(item for side, item in nodes if side == 1)
        if src and tgt:
            beads.append((src, tgt))
        else:
            beads += [(frozenset({i}), frozenset()) for i in src] + [(frozenset(), frozenset({j})) for j in tgt]
    return sorted(beads, key=lambda b: (min(b[0], default=-1), min(b[1], default=-1)))


def _project(beads: Iterable[tuple[ItemBead, float]], src_scope: Iterable[int], tgt_scope: Iterable[int]
             ) -> list[tuple[ItemBead, float]]:
    """Beads restricted to in-scope items; uncovered in-scope items become 1-0/0-1 beads."""
    src_in, tgt_in = set(src_scope), set(tgt_scope)
    out: list[tuple[ItemBead, float]] = []
    covered_src: set[int] = set()
    covered_tgt: set[int] = set()
    for (src, tgt), score in beads:
        s, t = src & src_in, tgt & tgt_in
        covered_src |= s
        covered_tgt |= t
        if s and t:
            out.append(((s, t), score))
        else:
            out += [((frozenset({i}), frozenset()), score) for i in sorted(s)]
            out += [((frozenset(), frozenset({j})), score) for j in sorted(t)]
    out += [((frozenset({i}), frozenset()), 1.0) for i in sorted(src_in - covered_src)]
    out += [((frozenset(), frozenset({j})), 1.0) for j in sorted(tgt_in - covered_tgt)]
    return out


def _links(beads: Iterable[ItemBead]) -> set[tuple[int, int]]:
    return {(a, b) for src, tgt in beads for a in src for b in tgt}


def _judge(beads: Sequence[ItemBead], reference: Sequence[ItemBead]) -> list[tuple[bool, bool]]:
    exact = set(reference)
    links = _links(reference)
    alone_src = {i for src, tgt in reference if not tgt for i in src}
    alone_tgt = {j for src, tgt in reference if not src for j in tgt}
    out = []
    for src, tgt in beads:
        if src and tgt:
            out.append(((src, tgt) in exact, any((a, b) in links for a in src for b in tgt)))
        else:
            alone = next(iter(src)) in alone_src if src else next(iter(tgt)) in alone_tgt
            out.append((alone, alone))
    return out


def score_beads(hyp: Sequence[ItemBead], gold: Sequence[ItemBead]) -> Counts:
    """Counts of hypothesis beads against gold beads (both already restricted to in-scope items)."""
    p = _judge(hyp, gold)
    r = _judge(gold, hyp)
    hyp_links, gold_links = _links(hyp), _links(gold)
    return Counts(
        hyp=len(hyp), hyp_strict=sum(s for s, _ in p), hyp_lax=sum(lax for _, lax in p),
        gold=len(gold), gold_strict=sum(s for s, _ in r), gold_lax=sum(lax for _, lax in r),
        hyp_links=len(hyp_links), gold_links=len(gold_links), shared_links=len(hyp_links & gold_links),
    )


def section_units(doc: EvalDoc) -> dict[int, frozenset[str]]:
    units: dict[int, frozenset[str]] = defaultdict(frozenset)
    for s in doc.segments:
        for line in range(s.line_start, s.line_end + 1):
            if line in doc.gold:
                units[s.section] = units[s.section] | doc.gold[line]
    return dict(units)


def _line_beads(beads: Sequence[Bead], src: EvalDoc, tgt: EvalDoc) -> list[tuple[ItemBead, float]]:
    src_lines = {s.ordinal: range(s.line_start, s.line_end + 1) for s in src.segments}
    tgt_lines = {s.ordinal: range(s.line_start, s.line_end + 1) for s in tgt.segments}
    return [
        ((frozenset(x for o in b.src for x in src_lines[o]), frozenset(x for o in b.tgt for x in tgt_lines[o])),
         b.score)
        for b in beads
    ]


def _evaluate_level(hyp: Sequence[tuple[ItemBead, float]], src_units: LineUnits, tgt_units: LineUnits
                    ) -> tuple[Counts, list[Judged]]:
    projected = _project(hyp, src_units, tgt_units)
    gold = gold_beads(src_units, tgt_units)
    beads = [b for b, _ in projected]
    judged = [
        Judged(score, strict, lax)
        for ((src, tgt), score), (strict, lax) in zip(projected, _judge(beads, gold), strict=True)
        if src and tgt
    ]
    return score_beads(beads, gold), judged


def evaluate_pair(src: EvalDoc, tgt: EvalDoc, alignment: PairAlignment) -> PairEvaluation:
    """Scores of one aligned pair at section and segment level."""
    sections = [((frozenset(b.src), frozenset(b.tgt)), b.score) for b in alignment.sections]
    section_counts, section_judged = _evaluate_level(sections, section_units(src), section_units(tgt))
    segment_counts, segment_judged = _evaluate_level(
        _line_beads(alignment.segments, src, tgt), src.gold, tgt.gold
    )
    return PairEvaluation(
        src.name, tgt.name,
        {"section": section_counts, "segment": segment_counts},
        {"section": section_judged, "segment": segment_judged},
    )


@dataclass(frozen=True, slots=True)
class SegmentErrors:
    """Segment beads of one pair, as line sets, that the strict score counts as wrong."""

    wrong: list[tuple[ItemBead, float]]  # hypothesis beads not in the gold, with their scores
    missed: list[ItemBead]  # gold beads not in the hypothesis


def segment_errors(src: EvalDoc, tgt: EvalDoc, alignment: PairAlignment) -> SegmentErrors:
    """The wrong and the missed segment beads of an aligned pair (strictly judged, as the scores count them)."""
    hyp = _project(_line_beads(alignment.segments, src, tgt), src.gold, tgt.gold)
    gold = gold_beads(src.gold, tgt.gold)
    beads = [b for b, _ in hyp]
    wrong = [(bead, score) for (bead, score), (strict, _) in zip(hyp, _judge(beads, gold), strict=True) if not strict]
    missed = [bead for bead, (strict, _) in zip(gold, _judge(gold, beads), strict=True) if not strict]
    return SegmentErrors(wrong, missed)
