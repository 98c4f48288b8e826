"""What a segment brings to the cost: length, numbers, names, format tokens, kind; a document as a side.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import regex

from tasks.align.params import (
    _BODY,
    _EMBED_SAMPLE,
    _HEAD,
    _ITEM,
    _LENGTH_UNIT,
    _MAX_SIDE,
    _MIXED,
    _NULL_COST,
    _NULL_FLOOR,
    _PARA,
    _SENTENCE_END,
    _SHORT_SENTENCE,
    _WINDOW_JOIN,
    _WINDOW_SIZES,
)
from tasks.align.types import Embed, FloatArray, IntArray
from tasks.anchors import name_keys, number_values
from tasks.segment import Segment


def _numbers(text: str) -> set[str]:
    return {"n:" + value for value in number_values(text)}


# Tokens that translators copy unchanged: printf and format placeholders ("%(name)s", "%s", "{0}") and
# web addresses. Keyed whole, so a placeholder's word does not need to meet an untranslated word.
_PLACEHOLDER = regex.compile(r"%\(\w+\)[a-zA-Z]|%[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGcu]|\{[\w.]*\}"
                             r"|\b(?:https?|ftp)://[^\s<>\"']+|\b[\w.+-]+@[\w-]+\.[\w.-]+")


# How a segment ends survives translation: a question, a label followed by its value, an unfinished
# phrase. Judged by Unicode character names, so that every script's own marks count.
_ENDINGS = (("QUESTION MARK", "?"), ("COLON", ":"), ("ELLIPSIS", "…"), ("EXCLAMATION MARK", "!"), ("COMMA", ","))


_SENTENCE_MARK = regex.compile(r"\p{Sentence_Terminal}")


# Every placeholder or address holds one of these: a text without them has none (and is not searched).
_PLACEHOLDER_MARKS = ("%", "{", "://", "@")


def _format_keys(text: str) -> set[str]:
    keys = ({"f:" + m.rstrip(".,;:)!?") for m in _PLACEHOLDER.findall(text)}
            if any(mark in text for mark in _PLACEHOLDER_MARKS) else set())
    stripped = text.rstrip().rstrip("\"'»”’)]\u00a0 ")
    if stripped.endswith("..."):
        keys.add("e:…")
    elif stripped:
        name = f" {unicodedata.name(stripped[-1], '')} "
        marks = {"e:" + mark for words, mark in _ENDINGS if f" {words} " in name}
        if not marks and _SENTENCE_MARK.match(stripped[-1]):
            marks.add("e:.")  # a full stop of any script: a sentence, not a label
        keys.update(marks)
    return keys


@dataclass(frozen=True, slots=True)
class _SegmentFeatures:
    length: float
    kind: int
    numbers: frozenset[str]
    names: frozenset[str]


_KIND_OF = {"title": _HEAD, "heading": _HEAD, "paragraph": _PARA, "list_item": _ITEM}


def _features(segment: Segment) -> _SegmentFeatures:
    latin, other = name_keys(segment.text)
    return _SegmentFeatures(
        length=float(max(1, len("".join(segment.text.split())))),
        kind=_KIND_OF[segment.kind],
        numbers=frozenset(_numbers(segment.text)),
        names=frozenset(latin | other | _format_keys(segment.text)),
    )


_SWAPPED_SKELETON = {"l:": "t:", "t:": "l:"}


def _as_target(features: _SegmentFeatures) -> _SegmentFeatures:
    """Features of a pair's target: its Latin skeletons must meet the source's transliterated ones and
    vice versa, so the two kinds of skeleton keys trade names."""
    names = frozenset(_SWAPPED_SKELETON.get(k[:2], k[:2]) + k[2:] for k in features.names)
    return replace(features, names=names)


@dataclass(frozen=True, slots=True)
class _Units:
    """One side of a dynamic program: segments, or sections made of segments."""

    length: FloatArray  # in common length units
    kind: IntArray
    keys: list[frozenset[str]]  # numbers and names
    position: FloatArray  # relative position of the unit's start inside its group, 0-1
    vectors: FloatArray | None  # unit-normalised rows, or None without embeddings
    embed_scale: tuple[float, float]  # see _Side
    null_cost: FloatArray  # cost of leaving the unit unaligned
    window_vectors: Mapping[int, FloatArray] | None = None  # by size, then window end: embedded concatenations


def _window_kinds(kinds: IntArray, size: int) -> IntArray:
    """Kind of every window of ``size`` units, by its end: heads only, a mix of heads and body (or too short,
    at the start), one body kind, or body of several kinds."""
    n = len(kinds)
    out = np.full(n + 1, _MIXED, dtype=np.int64)
    if n < size:
        return out
    members = [kinds[d:n - size + 1 + d] for d in range(size)]
    heads = [k == _HEAD for k in members]
    all_heads = np.logical_and.reduce(heads)
    any_head = np.logical_or.reduce(heads)
    same = np.logical_and.reduce([k == members[0] for k in members])
    out[size:] = np.where(all_heads, _HEAD, np.where(any_head, _MIXED, np.where(same, members[0], _BODY)))
    return out


def _sums_in_order(values: FloatArray, rows: IntArray, row_start: IntArray) -> FloatArray:
    """Sum of the values of each row (rows ascending), added one after the other as Python's ``sum``
    does, so that a row's sum does not depend on the other rows (numpy's own sums pair terms up)."""
    column = np.arange(len(values)) - row_start[rows]
    table = np.zeros((len(row_start) - 1, int(column.max()) + 1 if len(values) else 0))
    table[rows, column] = values
    # A running sum (accumulate) adds the columns one after the other, from 0 + the first.
    return np.cumsum(table, axis=1)[:, -1] if table.shape[1] else np.zeros(len(row_start) - 1)


def _null_costs(lengths: FloatArray) -> FloatArray:
    """Cost of leaving each segment unaligned: less for short ones, as inserted labels and page chrome
    are short, and a merge would otherwise always absorb them at the cost of a little length."""
    return _NULL_COST * np.minimum(1.0, np.maximum(_NULL_FLOOR, np.sqrt(lengths / _LENGTH_UNIT)))


@dataclass(frozen=True, slots=True)
class _Side:
    """The content (non-boilerplate) segments of one document with their features."""

    segments: list[Segment]
    features: list[_SegmentFeatures]
    keys: list[frozenset[str]]  # numbers and names of each segment
    lengths: FloatArray  # of each segment, in characters
    vectors: FloatArray | None
    # Cosines mean different things for different models: the pair's mean cosine (unrelated texts)
    # and its distance to the mean cosine of segments with their nearest other-side segment.
    embed_scale: tuple[float, float]
    scale: float  # length units per character
    window_vectors: Mapping[int, FloatArray] | None = None  # by window size, then window end (NaN: not embedded)


def _side(segments: Sequence[Segment], as_target: bool) -> _Side:
    return _cached_side(tuple(segments), as_target)


# A build aligns each document with every other document of its work, as source or as target: its
# features are computed once.
@lru_cache(maxsize=64)
def _cached_side(segments: tuple[Segment, ...], as_target: bool) -> _Side:
    if as_target:
        side = _cached_side(segments, False)
        features = [_as_target(f) for f in side.features]
        return replace(side, features=features, keys=[f.numbers | f.names for f in features])
    content = [s for s in segments if s.kind != "boilerplate"]
    features = _repeats_shared(_title_variants_as_body(content, [_features(s) for s in content]),
                               [" ".join(s.text.split()) for s in content])
    return _Side(content, features, [f.numbers | f.names for f in features],
                 np.array([f.length for f in features], dtype=np.float64), None, (0.0, 1.0), 1.0)


def _title_variants_as_body(content: Sequence[Segment], features: list[_SegmentFeatures]) -> list[_SegmentFeatures]:
    """Features where a title line that opens the body's first block of lines is body.

    Such a line is set apart from the title line before it (by a blank line) and runs on into the next
    line: a chapter name, then its first verse, which names the chapter again. Another version may give
    that line as body (it ends with a full stop there, and the segmenter keeps it in the body): as a
    head it would pay the head-to-body cost there and rather join the title bead, shifting every body
    bead after it by one. A title split over consecutive lines, and a second title standing alone
    (a page title, then the article's own), stay heads; a title line the other side leaves unmatched
    still joins the title bead (``levels._with_title_variants``).
    """
    out = list(features)
    for k in range(1, len(content) - 1):
        before, here, after = content[k - 1], content[k], content[k + 1]
        if (here.kind == "title" and before.kind == "title" and after.kind != "title"
                and here.line_start > before.line_end + 1 and after.line_start == here.line_end + 1):
            out[k] = replace(out[k], kind=_PARA)
    return out


def _repeats_shared(features: list[_SegmentFeatures], texts: Sequence[str]) -> list[_SegmentFeatures]:
    """Features where a run of identical consecutive segments shares its length among its copies.

    Some translations of numbered verses or messages give one text for several units and repeat it
    under each of their numbers: each copy stands for one of the units the other side gives apart, so
    it is one of them in length, not all of them. (A repeated title or heading is a variant of one
    title, see ``_with_title_variants``, and keeps its length.)
    """
    out = list(features)
    start = 0
    for end in range(1, len(texts) + 1):
        if end < len(texts) and texts[end] == texts[start] and features[start].kind != _HEAD:
            continue
        if end - start > 1:
            for k in range(start, end):
                out[k] = replace(out[k], length=max(1.0, out[k].length / (end - start)))
        start = end
    return out


def _with_vectors(src: _Side, tgt: _Side, embed: Embed,
                  keep: tuple[Sequence[bool], Sequence[bool]] | None = None, largest: int = _MAX_SIDE
                  ) -> tuple[_Side, _Side]:
    """Both sides with the vectors of their segments and of their windows of 2-4 consecutive segments.

    Everything is embedded in one call (the cache computes only new texts). A window's text is its
    segments' texts joined, as vecalign and bertalign embed overlaps: the model reads a merged bead as
    one passage, which a mean of its segments' vectors does not capture (means of two vectors are
    closer to everything, so merged beads looked better than they are).

    ``keep`` (a flag per content segment of each side) embeds only the kept segments and the windows of up
    to ``largest`` kept segments (the corridor of ``tasks.align.corridor``); the others get NaN vectors,
    which the cost reads as no embedding evidence. The cosines are calibrated on the kept segments.
    """
    sides = (src, tgt)
    masks = keep if keep is not None else tuple([True] * len(side.segments) for side in sides)
    texts: list[str] = []
    slots: list[list[tuple[int, int]]] = []  # per side: (window size, window end) of every text asked for
    for side, mask in zip(sides, masks, strict=True):
        own = [s.text for s in side.segments]
        kept = np.concatenate([[0], np.cumsum(np.asarray(mask, dtype=np.int64))])
        wanted = [(size, e) for size in (1, *_WINDOW_SIZES) if size <= largest for e in range(size, len(own) + 1)
                  if kept[e] - kept[e - size] == size]
        slots.append(wanted)
        texts += [_WINDOW_JOIN.join(own[e - size:e]) for size, e in wanted]
    matrix = np.asarray(embed(texts), dtype=np.float64) if texts else np.zeros((0, 1))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    dim = matrix.shape[1]
    by_size: list[dict[int, FloatArray]] = []
    row = 0
    for side, wanted in zip(sides, slots, strict=True):
        n = len(side.segments)
        windows = {size: np.full((n + 1, dim), np.nan) for size in (1, *_WINDOW_SIZES)}
        for size, e in wanted:
            windows[size][e] = matrix[row]
            row += 1
        by_size.append(windows)
    s_vectors, t_vectors = by_size[0][1][1:], by_size[1][1][1:]
    s_rows = s_vectors[np.asarray(masks[0], dtype=bool)]
    t_rows = t_vectors[np.asarray(masks[1], dtype=bool)]
    cosines = s_rows[:: max(1, len(s_rows) // _EMBED_SAMPLE)] @ t_rows.T
    floor = float(cosines.mean())
    scale = (floor, max(float(cosines.max(axis=1).mean()) - floor, 1e-3))
    return (replace(src, vectors=s_vectors, embed_scale=scale, window_vectors=by_size[0]),
            replace(tgt, vectors=t_vectors, embed_scale=scale, window_vectors=by_size[1]))


def _units(side: _Side, members: Sequence[Sequence[int]], groups: Sequence[int] | None = None) -> _Units:
    """Units made of the listed content segments; positions are relative to runs of equal group ids."""
    singles = all(len(ks) == 1 for ks in members)
    if singles:
        lengths = side.scale * side.lengths[[ks[0] for ks in members]]
    else:
        lengths = np.array([side.scale * sum(side.lengths[k] for k in ks) for ks in members])
    null_costs = _null_costs(side.scale * side.lengths)
    vectors = None
    if side.vectors is not None:
        sums = np.array([side.vectors[list(ks)].sum(axis=0) for ks in members])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors = sums / np.where(norms > 0, norms, 1.0)
    return _Units(
        length=lengths,
        kind=np.array([side.features[ks[0]].kind for ks in members], dtype=np.int64),
        keys=_member_keys(side, members),
        position=_relative_positions(lengths, groups if groups is not None else [0] * len(members)),
        vectors=vectors,
        embed_scale=side.embed_scale,
        # Windows of consecutive units are the embedded windows when the units are the side's segments.
        window_vectors=side.window_vectors if singles and len(members) == len(side.segments)
        and all(ks[0] == k for k, ks in enumerate(members)) else None,
        null_cost=null_costs[[ks[0] for ks in members]] if singles
        else np.array([sum(null_costs[k] for k in ks) for ks in members]),
    )


def _relative_positions(lengths: FloatArray, groups: Sequence[int]) -> FloatArray:
    """Start of each unit as a fraction of the length of its group (a run of equal group ids)."""
    out = np.zeros(len(lengths))
    start = 0
    for end in range(1, len(lengths) + 1):
        if end == len(lengths) or groups[end] != groups[start]:
            if end - start == 1:  # a unit alone starts its group: 0
                start = end
                continue
            run = lengths[start:end]
            out[start:end] = (np.cumsum(run) - run) / max(float(run.sum()), 1e-9)
            start = end
    return out


def _member_keys(side: _Side, members: Sequence[Sequence[int]]) -> list[frozenset[str]]:
    """Numbers and names of units made of the listed content segments."""
    if all(len(ks) == 1 for ks in members):
        return [side.keys[ks[0]] for ks in members]
    return list(_unions(tuple(side.keys), tuple(tuple(ks) for ks in members)))


# A pair's sections are made of the same segments for every length ratio it tries.
@lru_cache(maxsize=64)
def _unions(keys: tuple[frozenset[str], ...], members: tuple[tuple[int, ...], ...]) -> tuple[frozenset[str], ...]:
    return tuple(keys[ks[0]] if len(ks) == 1 else frozenset().union(*(keys[k] for k in ks)) for ks in members)


def _short_sentences(side: _Side, scale: float) -> list[bool]:
    """Which segments are short whole sentences (ending with a sentence terminal of any script)."""
    return [f.length * scale < _SHORT_SENTENCE and bool(_SENTENCE_END.search(s.text))
            for s, f in zip(side.segments, side.features, strict=True)]
