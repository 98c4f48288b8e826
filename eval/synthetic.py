"""Synthetic damage benchmark: real translations, grown to a chosen size, damaged in known ways.

A case starts from two gold-aligned documents X and Y in different languages. Aligned section groups
of the pair are drawn (the title block first, then at random with repetition) until the source has
the requested number of segments; X's copy is the source and Y's copy, the "translation", is then
damaged. Every copy of a unit gets its own unit id, so repeated sections are distinct gold. Damage
edits segments and carries the gold along, so the expected beads are known exactly:

* ``drop_paragraph``: a body segment disappears (its source is a 1-0 bead);
* ``merge_paragraphs``: two neighbouring body segments become one (2-1);
* ``split_paragraph``: a body segment is cut in two at a sentence or word boundary (1-2);
* ``reorder_list_items``: two neighbouring list items swap places (not monotone: at best a 2-2);
* ``drop_heading``: a heading disappears and its section joins the previous one;
* ``add_boilerplate``: page chrome is inserted, half marked boilerplate by the segmenter and half
  missed (those must stay 0-1 beads);
* ``bulletize``: a paragraph is turned into one list item per sentence (1-n);
* ``clean``: no damage, the pair as translated.

Everything is drawn from ``random.Random(seed)``, so a case is reproducible from its seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import regex

from eval.gold import EvalDoc
from eval.score import gold_beads, section_units
from schemas import SegmentKind
from tasks.segment import Segment

__all__ = ["DAMAGES", "SyntheticCase", "make_case", "synthetic_cases"]

MIN_SEGMENTS, MAX_SEGMENTS = 20, 300

_CHROME = (
    "Share this article", "Advertisement", "Read more", "Subscribe to our newsletter",
    "© 2024 All rights reserved", "Tags: AI, LLM, startups", "Previous post", "Next post",
)
_SENTENCE_END = regex.compile(r"(?<=[.!?。！？।॥])\s*")


@dataclass(frozen=True, slots=True)
class _Seg:
    """A segment being edited: one unit set per source line it stands for."""

    kind: SegmentKind
    section: int
    text: str
    lines: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    name: str
    damage: str
    src: EvalDoc
    tgt: EvalDoc


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _halves(text: str) -> tuple[str, str] | None:
    """Text cut in two: after the sentence nearest the middle, else at the middle space or character."""
    sentences = _sentences(text)
    if len(sentences) > 1:
        cut = min(range(1, len(sentences)), key=lambda k: abs(len("".join(sentences[:k])) - len(text) / 2))
        return " ".join(sentences[:cut]), " ".join(sentences[cut:])
    spaces = [k for k, ch in enumerate(text) if ch == " "]
    middle = min(spaces, key=lambda k: abs(k - len(text) / 2)) if spaces else len(text) // 2
    first, second = text[:middle].strip(), text[middle:].strip()
    return (first, second) if first and second else None


def _body(seg: _Seg) -> bool:
    return seg.kind in ("paragraph", "list_item") and bool(seg.lines[0])


def _pick(rng: random.Random, candidates: Sequence[int]) -> int | None:
    return rng.choice(candidates) if candidates else None


def _drop_paragraph(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i, s in enumerate(segs) if _body(s)])
    return segs if k is None else segs[:k] + segs[k + 1:]


def _merge_paragraphs(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i in range(len(segs) - 1)
                    if _body(segs[i]) and _body(segs[i + 1]) and segs[i].section == segs[i + 1].section])
    if k is None:
        return segs
    a, b = segs[k], segs[k + 1]
    merged = replace(a, text=f"{a.text} {b.text}", lines=(frozenset().union(*a.lines, *b.lines),))
    return [*segs[:k], merged, *segs[k + 2:]]


def _split_paragraph(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i, s in enumerate(segs) if _body(s) and _halves(s.text)])
    if k is None:
        return segs
    halves = _halves(segs[k].text)
    assert halves is not None
    units = frozenset().union(*segs[k].lines)
    return [*segs[:k], *(replace(segs[k], text=h, lines=(units,)) for h in halves), *segs[k + 1:]]


def _reorder_list_items(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i in range(len(segs) - 1)
                    if segs[i].kind == segs[i + 1].kind == "list_item" and segs[i].section == segs[i + 1].section])
    if k is None:
        return segs
    return [*segs[:k], segs[k + 1], segs[k], *segs[k + 2:]]


def _drop_heading(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i, s in enumerate(segs) if s.kind == "heading" and i > 0])
    if k is None:
        return segs
    dropped, previous = segs[k].section, segs[k - 1].section
    return [replace(s, section=previous) if s.section == dropped else s for s in segs[:k] + segs[k + 1:]]


def _add_boilerplate(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = rng.randrange(1, len(segs) + 1)
    missed = rng.random() < 0.5
    chrome = _Seg(
        kind="paragraph" if missed else "boilerplate",
        section=segs[k - 1].section,
        text=rng.choice(_CHROME),
        # Chrome the segmenter missed is content without a counterpart; detected chrome is out of scope.
        lines=(frozenset({f"chrome@{k}.{rng.randrange(10**6)}"}) if missed else frozenset(),),
    )
    return [*segs[:k], chrome, *segs[k:]]


def _bulletize(segs: list[_Seg], rng: random.Random) -> list[_Seg]:
    k = _pick(rng, [i for i, s in enumerate(segs)
                    if s.kind == "paragraph" and _body(s) and len(_sentences(s.text)) > 1])
    if k is None:
        return segs
    units = frozenset().union(*segs[k].lines)
    items = [replace(segs[k], kind="list_item", text=t, lines=(units,)) for t in _sentences(segs[k].text)]
    return [*segs[:k], *items, *segs[k + 1:]]


_Damage = Callable[[list[_Seg], random.Random], list[_Seg]]

_DAMAGE_FUNCTIONS: dict[str, _Damage] = {
    "clean": lambda segs, rng: segs,
    "drop_paragraph": _drop_paragraph,
    "merge_paragraphs": _merge_paragraphs,
    "split_paragraph": _split_paragraph,
    "reorder_list_items": _reorder_list_items,
    "drop_heading": _drop_heading,
    "add_boilerplate": _add_boilerplate,
    "bulletize": _bulletize,
}
DAMAGES: tuple[str, ...] = tuple(_DAMAGE_FUNCTIONS)


def _grow(x: EvalDoc, y: EvalDoc, size: int, rng: random.Random) -> tuple[list[_Seg], list[_Seg]]:
    """Copies of aligned section groups of x and y until x's copy has at least size segments."""
    groups = [(sorted(s), sorted(t)) for s, t in gold_beads(section_units(x), section_units(y)) if s and t]
    first = next(g for g in groups if 0 in g[0])
    rest = [g for g in groups if g is not first]

    def copy(doc: EvalDoc, sections: Sequence[int], n: int, section_base: int) -> list[_Seg]:
        out = []
        numbering = {sec: section_base + k for k, sec in enumerate(sections)}
        for s in doc.segments:
            if s.section not in numbering or s.kind == "boilerplate":
                continue
            kind: SegmentKind = "heading" if s.kind == "title" and n > 0 else s.kind
            lines = tuple(
                frozenset(f"{u}@{n}" for u in doc.gold.get(line, frozenset()))
                for line in range(s.line_start, s.line_end + 1)
            )
            out.append(_Seg(kind, numbering[s.section], s.text, lines))
        return out

    src: list[_Seg] = []
    tgt: list[_Seg] = []
    n = 0
    group = first
    while len(src) < size:
        src += copy(x, group[0], n, (src[-1].section + 1) if src else 0)
        tgt += copy(y, group[1], n, (tgt[-1].section + 1) if tgt else 0)
        n += 1
        group = rng.choice(rest)
    return src, tgt


def _document(name: str, segs: Sequence[_Seg]) -> EvalDoc:
    """Segments with fresh ordinals, lines (one per gold line) and sections numbered 0, 1, ... in order."""
    segments: list[Segment] = []
    gold: dict[int, frozenset[str]] = {}
    sections: dict[int, int] = {}
    line = offset = 0
    for ordinal, s in enumerate(segs):
        section = sections.setdefault(s.section, len(sections))
        first = line + 1
        for units in s.lines:
            line += 1
            if units:
                gold[line] = units
        segments.append(Segment(ordinal, section, s.kind, s.text, first, line, offset, offset + len(s.text)))
        offset += len(s.text) + 1
    return EvalDoc(name, tuple(segments), gold)


def make_case(docs: Sequence[EvalDoc], damage: str, seed: int) -> SyntheticCase:
    """One case: a random ordered pair of docs, a random size, damage applied about every 15 segments."""
    rng = random.Random(f"{damage}/{seed}")
    x, y = rng.sample(list(docs), 2)
    size = rng.randrange(MIN_SEGMENTS, MAX_SEGMENTS - 20)
    src, tgt = _grow(x, y, size, rng)
    apply = _DAMAGE_FUNCTIONS[damage]
    for _ in range(max(1, len(src) // 15)):
        tgt = apply(tgt, rng)
    name = f"{damage}/{seed}:{x.name}>{y.name}"
    return SyntheticCase(name, damage, _document(x.name, src), _document(y.name + "+" + damage, tgt))


def synthetic_cases(docs: Sequence[EvalDoc], n_docs: int, seed: int = 0) -> list[SyntheticCase]:
    """n_docs cases for every damage type, reproducible from seed."""
    return [make_case(docs, damage, seed * 100_003 + k) for damage in DAMAGES for k in range(n_docs)]
