"""Sections first, then segments inside and across them: the two levels of the alignment.

Merged beads cost a prior per extra unit, and five-unit beads a little more; the prior is raised for
a pair whose first alignment finds few merges (a one-to-one translation, where a short line against
a long one must not shift the beads after it). Leaving a segment unaligned costs less for short
segments (inserted labels and page chrome are short); after the dynamic program, an unaligned unit
joins a neighbouring bead that then matches clearly better, and a short whole sentence ("Sicherlich
.") joins one that matches no worse: omissions stay only where the other side lacks the text.
Title lines are variants of one title (a page title and a reworded article title): one left
unaligned joins the title bead next to it. A bead's score is a logistic function, fitted on the seed
pairs and synthetic damage, of its cost per unit: for a linking bead, how likely it is exactly
right; for a 1-0/0-1 bead, how likely it is that its unit
has no counterpart, judged by the best 1-1 link it could have had nearby.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from tasks.align.corridor import _corridor
from tasks.align.costs import (
    _Costs,
    _costs_for,
    _evidence_cost,
    _key_weights,
    _link_score,
    _linking,
    _merge_cost,
    _shape_cost,
    _unlinked_score,
)
from tasks.align.dp import (
    _RATIO_ROUNDS,
    _RATIO_SETTLED,
    _anchor_chain,
    _banded_dp,
    _centres,
    _expected_path,
    _linked_ratio,
    _monotone,
    _ratio_candidates,
)
from tasks.align.features import _member_keys, _short_sentences, _Side, _side, _units, _with_vectors
from tasks.align.lexicon import _with_lexicon
from tasks.align.params import _ABSORB_GAIN, _LENGTH_UNIT, _LINK_SHAPES, _MAX_NULL_SHARE, _SENTENCE_TOLERANCE
from tasks.align.types import Bead, Embed, Span
from tasks.segment import Segment


def _segment_beads(spans: Sequence[Span], src: _Side, tgt: _Side, costs: _Costs) -> list[Bead]:
    """Beads of the segment spans, scored; the costs they need are computed together, shape by shape.

    A 1-0/0-1 bead's score comes from the best 1-1 link its unit could have had nearby: with the
    other side's units up to two positions either side of where the bead sits.
    """
    n, m = len(src.segments), len(tgt.segments)
    scores = [1.0] * len(spans)
    linking: dict[tuple[int, int], list[int]] = defaultdict(list)
    near_i: list[int] = []
    near_j: list[int] = []
    near_of: list[int] = []
    for k, (i0, i1, j0, j1) in enumerate(spans):
        if i1 > i0 and j1 > j0:
            linking[i1 - i0, j1 - j0].append(k)
        elif i1 > i0:
            for j in range(max(0, j0 - 2) + 1, min(m, j0 + 2) + 1):
                near_i.append(i1)
                near_j.append(j)
                near_of.append(k)
        else:
            for i in range(max(0, i0 - 2) + 1, min(n, i0 + 2) + 1):
                near_i.append(i)
                near_j.append(j1)
                near_of.append(k)
    for (a, b), ks in linking.items():
        cost = costs.link(a, b, np.array([spans[k][1] for k in ks]), np.array([spans[k][3] for k in ks]))
        for k, value in zip(ks, cost.tolist(), strict=True):
            scores[k] = _link_score(value, a + b)
    best: dict[int, float] = {}
    for k, value in zip(near_of, costs.link(1, 1, np.array(near_i, dtype=np.int64),
                                            np.array(near_j, dtype=np.int64)).tolist(), strict=True):
        best[k] = min(best.get(k, math.inf), value)
    for k, value in best.items():
        scores[k] = _unlinked_score(value)
    s_ordinals = [s.ordinal for s in src.segments]
    t_ordinals = [s.ordinal for s in tgt.segments]
    return [
        Bead(tuple(s_ordinals[i0:i1]), tuple(t_ordinals[j0:j1]), round(score, 6))
        for (i0, i1, j0, j1), score in zip(spans, scores, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class _Sections:
    """The sections with content of one side: section numbers and their content segments."""

    numbers: list[int]
    members: list[list[int]]  # positions in the side's content segments
    of_segment: list[int]  # index into numbers of every content segment

    @property
    def starts(self) -> list[int]:
        """Position of the first segment of every section, and the total at the end."""
        return [ks[0] for ks in self.members] + [len(self.of_segment)]


def _sections(side: _Side) -> _Sections:
    members: dict[int, list[int]] = defaultdict(list)
    for k, segment in enumerate(side.segments):
        members[segment.section].append(k)
    numbers = sorted(members)
    index = {n: x for x, n in enumerate(numbers)}
    return _Sections(numbers, [members[n] for n in numbers], [index[s.section] for s in side.segments])


def _group_corners(spans: Sequence[Span], src: _Sections, tgt: _Sections) -> list[tuple[float, float]]:
    """The segment boundaries where aligned section groups meet."""
    s_starts, t_starts = src.starts, tgt.starts
    return [(float(s_starts[i0]), float(t_starts[j0])) for i0, _, j0, _ in spans]


def _unlinked_joined(groups: Sequence[tuple[list[int], list[int]]]) -> list[tuple[list[int], list[int]]]:
    """Section groups where each section that no bead links joins the linked group before it (or after it,
    before the first linked group)."""
    out: list[tuple[list[int], list[int]]] = []
    pending: tuple[list[int], list[int]] = ([], [])  # unlinked sections before the first linked group
    for s_idx, t_idx in groups:
        if s_idx and t_idx:
            out.append((sorted(pending[0] + s_idx), sorted(pending[1] + t_idx)))
            pending = ([], [])
        elif out:
            out[-1] = (sorted(out[-1][0] + s_idx), sorted(out[-1][1] + t_idx))
        else:
            pending = (pending[0] + s_idx, pending[1] + t_idx)
    return out + [([x], []) for x in pending[0]] + [([], [y]) for y in pending[1]]


def _section_groups(spans: Sequence[Span], src: _Sections, tgt: _Sections) -> list[tuple[list[int], list[int]]]:
    """Section beads (indices into the sections) induced by segment beads.

    Sections joined by a linking segment bead are in one section bead; a section inside the range of
    a bead joins it; sections no segment bead links are 1-0/0-1 beads, in document order.
    """
    linked: list[tuple[int, int, int, int]] = []  # first and last section of each side
    for i0, i1, j0, j1 in spans:
        if i1 == i0 or j1 == j0:
            continue
        s_first, s_last = src.of_segment[i0], src.of_segment[i1 - 1]
        t_first, t_last = tgt.of_segment[j0], tgt.of_segment[j1 - 1]
        if linked and (s_first <= linked[-1][1] or t_first <= linked[-1][3]):
            a, _, c, _ = linked.pop()
            s_first, t_first = a, c
        linked.append((s_first, s_last, t_first, t_last))
    groups: list[tuple[list[int], list[int]]] = []
    s_next = t_next = 0
    for s_first, s_last, t_first, t_last in linked:
        groups += [([x], []) for x in range(s_next, s_first)] + [([], [y]) for y in range(t_next, t_first)]
        groups.append((list(range(s_first, s_last + 1)), list(range(t_first, t_last + 1))))
        s_next, t_next = s_last + 1, t_last + 1
    groups += [([x], []) for x in range(s_next, len(src.numbers))]
    groups += [([], [y]) for y in range(t_next, len(tgt.numbers))]
    return groups


def _section_beads(groups: Sequence[tuple[list[int], list[int]]], src: _Side, tgt: _Side, s_secs: _Sections,
                   t_secs: _Sections, weights: Mapping[str, float]) -> list[Bead]:
    """Section beads of the groups, scored by the cost of linking their sections' merged content.

    An unlinked section is doubtful if it would link well with a section of a neighbouring group.
    Every link cost a score needs is computed in one call.
    """
    linking = [k for k, (s, t) in enumerate(groups) if s and t]
    alternatives: list[list[tuple[tuple[int, ...], tuple[int, ...]]]] = []
    for k, (s_idx, t_idx) in enumerate(groups):
        if s_idx and t_idx:
            alternatives.append([(tuple(s_idx), tuple(t_idx))])
            continue
        near = [g for g in linking if abs(g - k) <= 2]
        other = [x for g in near for x in (groups[g][1] if s_idx else groups[g][0])]
        alternatives.append([((*s_idx,), (x,)) if s_idx else ((x,), (*t_idx,)) for x in other])
    wanted = list(dict.fromkeys(pair for pairs in alternatives for pair in pairs))
    cost: dict[tuple[tuple[int, ...], tuple[int, ...]], float] = {}
    if wanted:
        s_sets = list(dict.fromkeys(s for s, _ in wanted))
        t_sets = list(dict.fromkeys(t for _, t in wanted))
        s_units = _units(src, [[k for x in s for k in s_secs.members[x]] for s in s_sets], range(len(s_sets)))
        t_units = _units(tgt, [[k for y in t for k in t_secs.members[y]] for t in t_sets], range(len(t_sets)))
        s_at = {s: x + 1 for x, s in enumerate(s_sets)}
        t_at = {t: y + 1 for y, t in enumerate(t_sets)}
        values = _costs_for(s_units, t_units, weights, (1,)).link(
            1, 1, np.array([s_at[s] for s, _ in wanted]), np.array([t_at[t] for _, t in wanted]))
        cost = {pair: value + _shape_cost(len(pair[0]), len(pair[1]))
                for pair, value in zip(wanted, values.tolist(), strict=True)}
    beads = []
    for (s_idx, t_idx), pairs in zip(groups, alternatives, strict=True):
        if s_idx and t_idx:
            score = _link_score(cost[pairs[0]], len(s_idx) + len(t_idx))
        else:
            score = _unlinked_score(min(cost[pair] for pair in pairs)) if pairs else 1.0
        beads.append(Bead(tuple(s_secs.numbers[x] for x in s_idx), tuple(t_secs.numbers[y] for y in t_idx),
                          round(score, 6)))
    return beads


def _plausible(spans: Sequence[Span], src: _Sections, tgt: _Sections) -> bool:
    """Whether a section alignment can guide the segments: little content left in 1-0/0-1 beads."""
    s_null = sum(len(src.members[x]) for i0, i1, j0, j1 in spans if j0 == j1 for x in range(i0, i1))
    t_null = sum(len(tgt.members[y]) for i0, i1, j0, j1 in spans if i0 == i1 for y in range(j0, j1))
    return s_null <= _MAX_NULL_SHARE * len(src.of_segment) and t_null <= _MAX_NULL_SHARE * len(tgt.of_segment)


def _leads(a: Sequence[Segment], b: Sequence[Segment]) -> bool:
    """Whether ``a`` is the source when aligned with ``b``: the document with more content segments,
    then more content; exact ties are broken by the segments themselves, so that the order is total.

    The band of the dynamic program is measured in target units around the expected path; along the
    longer document it is wide enough to let the path leave the expected diagonal for an omission.
    """
    def key(segments: Sequence[Segment]) -> tuple[int, int]:
        content = [s for s in segments if s.kind != "boilerplate"]
        return len(content), sum(len(s.text) for s in content)

    def fields(segments: Sequence[Segment]) -> list[tuple[int, int, str, str, int, int, int, int]]:
        return [(s.ordinal, s.section, s.kind, s.text, s.line_start, s.line_end, s.char_start, s.char_end)
                for s in segments]

    key_a, key_b = key(a), key(b)
    return key_a > key_b if key_a != key_b else fields(a) > fields(b)


def _mirrored(beads: Sequence[Bead]) -> list[Bead]:
    return [Bead(b.tgt, b.src, b.score) for b in beads]


def _sources_first(beads: Sequence[Bead]) -> list[Bead]:
    """Beads with each run of unaligned units listed source side first (their order is arbitrary)."""
    out: list[Bead] = []
    run: list[Bead] = []
    for bead in [*beads, None]:
        if bead is not None and not (bead.src and bead.tgt):
            run.append(bead)
            continue
        out += [b for b in run if b.src] + [b for b in run if not b.src]
        run = []
        if bead is not None:
            out.append(bead)
    return out


def _align_oriented(src: Sequence[Segment], tgt: Sequence[Segment], embed: Embed | None
                    ) -> tuple[list[Bead], list[Bead]]:
    """Section and segment beads of the pair, ``src`` as the source."""
    s_side, t_side = _side(src, False), _side(tgt, True)
    n, m = len(s_side.segments), len(t_side.segments)
    if n == 0 or m == 0:
        return ([Bead((x,), (), 1.0) for x in _sections(s_side).numbers]
                + [Bead((), (y,), 1.0) for y in _sections(t_side).numbers],
                [Bead((s.ordinal,), (), 1.0) for s in s_side.segments]
                + [Bead((), (s.ordinal,), 1.0) for s in t_side.segments])
    # With sentence embeddings the beads' similarity is the evidence that learned word pairs stand in for
    # without them; the corridor is then chosen from the plain alignment the embeddings were tuned with.
    plain = _align_sides(s_side, t_side, lexicon=embed is None)
    if embed is None:
        return plain
    # Embeddings only in the corridor of the plain alignment's unsure beads (tasks.align.corridor).
    keep = _corridor(plain[1], s_side, t_side)
    if keep is None:
        return plain
    return _align_sides(*_with_vectors(s_side, t_side, embed, keep[:2], keep[2]), lexicon=False)


def _align_sides(s_side: _Side, t_side: _Side, *, lexicon: bool = True) -> tuple[list[Bead], list[Bead]]:
    """Section and segment beads of two non-empty sides (with vectors, the embedding term counts); ``lexicon``:
    aligned again with learned word pairs where the first alignment leaves units out."""
    chain = _anchor_chain(s_side.keys, t_side.keys)
    s_secs, t_secs = _sections(s_side), _sections(t_side)
    # Token weights depend on the texts only, not on the length ratio tried.
    weights = (_key_weights(_member_keys(s_side, s_secs.members), _member_keys(t_side, t_secs.members)),
               _key_weights(s_side.keys, t_side.keys))
    # Only the cheapest estimate's beads are made (the first wins ties).
    best = min((_align_scaled(s_side, t_side, s_secs, t_secs, weights, chain, ratio)
                for ratio in _ratio_candidates(s_side, t_side, chain)), key=lambda result: result.cost)
    # Then the ratio is re-estimated from what that alignment links, until it settles.
    for _ in range(_RATIO_ROUNDS):
        ratio = _linked_ratio(best.spans, s_side, t_side)
        if ratio is None or max(ratio / best.ratio, best.ratio / ratio) <= _RATIO_SETTLED:
            break
        best = _align_scaled(s_side, t_side, s_secs, t_secs, weights, chain, ratio)
    # Where it leaves units out, the pair is aligned again (at the ratio found) with the word pairs its
    # linked beads agree on as tokens of the short segments (tasks.align.lexicon).
    learned = _with_lexicon(best.spans, s_side, t_side, best.ratio) if lexicon else None
    if learned is not None:
        s_side, t_side = learned
        weights = (weights[0], _key_weights(s_side.keys, t_side.keys))
        best = _align_scaled(s_side, t_side, s_secs, t_secs, weights, chain, best.ratio)
    return best.beads()


class _Scaled(NamedTuple):
    """The segment alignment for one estimate of the length ratio."""

    cost: float
    beads: Callable[[], tuple[list[Bead], list[Bead]]]  # makes its section and segment beads
    spans: list[Span]  # its segment spans (content segments) before unaligned units are absorbed
    ratio: float


def _align_scaled(s_side: _Side, t_side: _Side, s_secs: _Sections, t_secs: _Sections,
                  weights: tuple[Mapping[str, float], Mapping[str, float]], chain: Sequence[tuple[int, int]],
                  ratio: float) -> _Scaled:
    """The segment alignment for one estimate of the length ratio."""
    n, m = len(s_side.segments), len(t_side.segments)
    s_len = [f.length for f in s_side.features]
    t_len = [f.length for f in t_side.features]
    unit = float(np.median(s_len + [x / ratio for x in t_len])) / _LENGTH_UNIT
    s_side, t_side = replace(s_side, scale=1.0 / unit), replace(t_side, scale=1.0 / (unit * ratio))

    sec_costs = _costs_for(_units(s_side, s_secs.members), _units(t_side, t_secs.members), weights[0],
                           scale=s_side.scale)
    sec_anchors = _monotone([(s_secs.of_segment[i], t_secs.of_segment[j]) for i, j in chain])
    n_sec, m_sec = len(s_secs.numbers), len(t_secs.numbers)
    sec_spans, _ = _banded_dp(sec_costs, n_sec, m_sec, *_expected_path(n_sec, m_sec, _centres(sec_anchors)))

    # The segments are aligned over the whole document, in a band around the anchors; and, if the section
    # alignment is plausible, also in a band around its groups, with positions relative to the groups.
    # Sections of two documents may disagree (headings found on one side only, short lines taken for
    # headings): the guided alignment is kept only if it costs less than the free one.
    plans: list[tuple[list[int], list[int], list[tuple[float, float]]]] = [([0] * n, [0] * m, _centres(chain))]
    if _plausible(sec_spans, s_secs, t_secs):
        s_span = {x: k for k, (i0, i1, _, _) in enumerate(sec_spans) for x in range(i0, i1)}
        t_span = {y: k for k, (_, _, j0, j1) in enumerate(sec_spans) for y in range(j0, j1)}
        s_group = [s_span[x] for x in s_secs.of_segment]
        t_group = [t_span[y] for y in t_secs.of_segment]
        # Inside a group, anchors refine the path; anchors across groups contradict the sections.
        inside = [(i, j) for i, j in chain if s_group[i] == t_group[j]]
        plans.insert(0, (s_group, t_group, sorted(_group_corners(sec_spans, s_secs, t_secs) + _centres(inside))))
    tried = []
    for s_group, t_group, points in plans:
        plan_costs = _costs_for(_units(s_side, [[k] for k in range(n)], s_group),
                                _units(t_side, [[k] for k in range(m)], t_group), weights[1],
                                scale=s_side.scale)
        plan_spans, plan_cost = _banded_dp(plan_costs, n, m, *_expected_path(n, m, points))
        tried.append((plan_cost, plan_spans, plan_costs, points))
    # The first plan wins ties.
    cost, spans, seg_costs, points = min(tried, key=lambda plan: plan[0])
    # Sections that did not guide the segments (no plausible section alignment, or a free one cheaper, or
    # one side without sections) are artefacts of one side's layout rather than parts of the text (short
    # lines taken for headings, headings found on one side only): a section no bead links belongs with
    # its neighbours.
    sections_agree = len(tried) > 1 and cost == tried[0][0] and min(n_sec, m_sec) > 1
    merge_cost = _merge_cost(spans)
    if merge_cost > seg_costs.merge_cost:
        seg_costs = replace(seg_costs, merge_cost=merge_cost)
        # A dearer merge prior cannot change an alignment without merges (its path costs the same, every
        # other path no less): the program is run again only where it has some.
        if any(i1 - i0 > 1 or j1 - j0 > 1 for i0, i1, j0, j1 in spans):
            spans, cost = _banded_dp(seg_costs, n, m, *_expected_path(n, m, points))

    def beads() -> tuple[list[Bead], list[Bead]]:
        final = _with_unaligned_absorbed(spans, seg_costs, _short_sentences(s_side, s_side.scale),
                                         _short_sentences(t_side, t_side.scale))
        final = _with_title_variants(final, [s.kind == "title" for s in s_side.segments],
                                     [s.kind == "title" for s in t_side.segments])
        groups = _section_groups(final, s_secs, t_secs)
        if not sections_agree:
            groups = _unlinked_joined(groups)
        sections = _section_beads(groups, s_side, t_side, s_secs, t_secs, sec_costs.weights)
        return sections, _segment_beads(final, s_side, t_side, seg_costs)

    return _Scaled(cost, beads, spans, ratio)


def _with_unaligned_absorbed(spans: Sequence[Span], costs: _Costs, s_short: Sequence[bool],
                             t_short: Sequence[bool]) -> list[Span]:
    """Spans where a unit left unaligned joins a linking bead next to it if that bead then matches better.

    The dynamic program pays a merge prior to join a unit to a bead, and leaving a short unit out
    costs less than that prior, so a short line ("Sure.", "Enough.") that the other side ran into
    the next sentence would stay unaligned however well it fits. A unit really missing from the
    other side makes its neighbour's match worse (longer, with tokens the other side lacks), so it
    stays out; one whose neighbour gains joins the neighbour that gains most. A short whole sentence
    joins unless its neighbour clearly loses: the length of a short unit says little, and a
    translation more often runs a short sentence into the next than leaves it out (labels and
    page chrome, which are left out, do not end like sentences). The merged bead must keep a shape
    of the dynamic program.
    """
    out = list(spans)
    k = 0
    while k < len(out):
        i0, i1, j0, j1 = out[k]
        if _linking(out[k]):
            k += 1
            continue
        best: tuple[float, int, Span] | None = None
        for at in (k - 1, k + 1):
            if not 0 <= at < len(out) or not _linking(out[at]):
                continue
            n0, n1, m0, m1 = out[at]
            merged = (min(i0, n0), max(i1, n1), min(j0, m0), max(j1, m1))
            if (merged[1] - merged[0], merged[3] - merged[2]) not in _LINK_SHAPES:
                continue
            gain = _evidence_cost(costs, out[at]) - _evidence_cost(costs, merged)
            sentence = s_short[i0] if i1 > i0 else t_short[j0]
            if gain >= (-_SENTENCE_TOLERANCE if sentence else _ABSORB_GAIN) and (best is None or gain > best[0]):
                best = (gain, at, merged)
        if best is None:
            k += 1
            continue
        _, at, merged = best
        first = min(k, at)
        out[first:first + 2] = [merged]
        k = max(first - 1, 0)
    return out


def _with_title_variants(spans: Sequence[Span], s_title: Sequence[bool], t_title: Sequence[bool]) -> list[Span]:
    """Spans where a title line left unaligned joins the bead linking title lines next to it.

    The segmenter marks a second title line only when it rewords or repeats the first (a page title
    and an article title): both render the one title, so whatever the other side's title bead holds
    translates both. A merged bead must keep a shape of the dynamic program.
    """
    def titles(span: Span) -> bool:
        i0, i1, j0, j1 = span
        return all(s_title[i0:i1]) and all(t_title[j0:j1])

    def linking(span: Span) -> bool:
        return span[1] > span[0] and span[3] > span[2]

    def joined(first: Span, last: Span) -> Span | None:
        span = (first[0], last[1], first[2], last[3])
        return span if (span[1] - span[0], span[3] - span[2]) in _LINK_SHAPES else None

    out: list[Span] = []
    pending: list[Span] = []  # unaligned title spans not yet joined to a following title bead
    for span in spans:
        if titles(span) and not linking(span):
            if out and linking(out[-1]) and titles(out[-1]) and (merged := joined(out[-1], span)):
                out[-1] = merged
            else:
                pending.append(span)
        elif pending and linking(span) and titles(span) and (merged := joined(pending[0], span)):
            out.append(merged)
            pending = []
        else:
            out += [*pending, span]
            pending = []
    return out + pending
