"""The aligner's dynamic program against its reference: the row-by-row version it replaced for speed.

``_reference_dp`` is the dynamic program as it was before its rows were computed at the band's widest in one
gather per row (commit 48edb4d); the fast one must give the same spans and the same cost, bit for bit, on any
costs and any band.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tasks.align.costs as align_costs
import tasks.align.dp as align_dp
import tasks.align.features as align_features
from tasks.align.costs import _Costs
from tasks.align.params import _LINK, _LINK_SHAPES, _MAX_SIDE, _SRC_GAP, _TGT_GAP
from tasks.align.types import FloatArray, IntArray, Span
from tasks.segment import Segment
from tests.helpers import documents

_PAD = align_dp._PAD


def _reference_dp(n: int, m: int, costs: _Costs, lo: IntArray, hi: IntArray, links: FloatArray | None = None
                  ) -> tuple[list[Span], float]:
    """``align_dp._dp`` before it was made faster: row by row, each row in its own band's width."""
    width = hi - lo + 1
    widest = int(width.max())
    # Row i's link costs become the candidates of its cells, in a copy: ``links`` is left as given.
    candidates = (align_dp._band_links(n, costs, lo, hi) if links is None else links).copy()
    reach = max([int((lo[a:] - lo[:-a] + width[a:]).max()) for a in range(1, min(_MAX_SIDE, n) + 1)] + [widest])
    stride = _PAD + reach
    best = np.full((n + 2) * stride, np.inf)  # best over the three states, row by row, then row -1
    gap = np.full((n + 1, stride), np.inf)  # best ending in a source gap
    # Where the beads of each shape ending at a row's first column start, in best.
    origin = np.empty((len(_LINK_SHAPES), n + 1), dtype=np.int64)
    for code, (a, b) in enumerate(_LINK_SHAPES):
        previous = np.arange(n + 1) - a
        origin[code] = np.where(previous >= 0, previous * stride + lo - lo[np.maximum(previous, 0)] - b + _PAD,
                                (n + 1) * stride + _PAD)
    # The loop fills only what the next rows read (the best cells and the source gaps); what the path's
    # trace needs (shapes, states, run starts) is derived from the stored rows afterwards, for all rows at
    # once: with bands about a dozen cells wide, the loop's cost is its number of vector operations.
    linked = np.full((n + 1, widest), np.inf)  # best ending in a linking bead
    opened = np.full((n + 1, widest), np.inf)  # best ending in a source gap opened here
    extended = np.full((n + 1, widest), np.inf)  # best ending in a source gap extended here
    before = np.full((n + 1, widest), np.inf)  # best of link and source gap
    starts = np.full((n + 1, widest), np.inf)  # target gaps starting at each cell, see below
    prefix = np.full((n + 1, widest), np.inf)
    tgt_gap = np.full((n + 1, widest), np.inf)  # best ending in a target gap
    extend_next = np.concatenate([costs.tgt_extend_before[1:], costs.tgt_extend_before[-1:]])
    positions = np.arange(widest)
    linked[0, 0] = 0.0  # row 0's band starts at column 0
    for i in range(n + 1):
        w, first = int(width[i]), int(lo[i])
        if i > 0:
            candidate = candidates[:, i, :w]
            np.add(best[origin[:, i, None] + positions[:w]], candidate, out=candidate)
            candidate.min(axis=0, out=linked[i, :w])
            start = first - int(lo[i - 1]) + _PAD
            np.add(best[(i - 1) * stride + start:(i - 1) * stride + start + w], costs.src_open[i - 1],
                   out=opened[i, :w])
            np.add(gap[i - 1, start:start + w], costs.src_extend[i - 1], out=extended[i, :w])
            np.minimum(opened[i, :w], extended[i, :w], out=gap[i, _PAD:_PAD + w])
        np.minimum(linked[i, :w], gap[i, _PAD:_PAD + w], out=before[i, :w])
        # A target gap over units k..j-1 costs open[k] + extend[k+1..j-1]; best over k < j by a prefix minimum.
        row_starts = starts[i, :w]
        np.add(before[i, :w], costs.tgt_open[first:first + w], out=row_starts)
        np.subtract(row_starts, extend_next[first:first + w], out=row_starts)
        np.minimum.accumulate(row_starts, out=prefix[i, :w])
        np.add(prefix[i, :w - 1], costs.tgt_extend_before[first + 1:first + w], out=tgt_gap[i, 1:w])
        np.minimum(before[i, :w], tgt_gap[i, :w], out=best[i * stride + _PAD:i * stride + _PAD + w])
    shape = candidates.argmin(axis=0)  # the first cheapest shape, as min picked it
    src_gap = gap[:, _PAD:_PAD + widest]
    link_state = (src_gap < linked).view(np.int8)  # state of the best of link and source gap; _LINK 0, _SRC_GAP 1
    state = np.where(tgt_gap < before, np.int8(_TGT_GAP), link_state)  # state of the best
    extend = extended < opened
    renewed = np.zeros((n + 1, widest), dtype=np.int64)
    renewed[:, 1:] = np.where(starts[:, 1:] < prefix[:, :-1], positions[1:], 0)
    run = np.zeros((n + 1, widest), dtype=np.int64)  # first target unit of the target gap ending here
    run[:, 1:] = lo[:, None] + np.maximum.accumulate(renewed, axis=1)[:, :-1]
    spans: list[Span] = []
    i, j = n, m
    current = int(state[n, m - lo[n]])
    while i > 0 or j > 0:
        at = j - lo[i]
        if current == _LINK:
            a, b = _LINK_SHAPES[shape[i, at]]
            spans.append((i - a, i, j - b, j))
            i, j = i - a, j - b
            current = int(state[i, j - lo[i]])
        elif current == _SRC_GAP:
            spans.append((i - 1, i, j, j))
            i -= 1
            current = _SRC_GAP if extend[i + 1, at] else int(state[i, j - lo[i]])
        else:
            k = int(run[i, at])
            spans += [(i, i, t, t + 1) for t in range(j - 1, k - 1, -1)]
            j = k
            current = int(link_state[i, j - lo[i]])
    spans.reverse()
    return spans, float(best[n * stride + _PAD + m - lo[n]])


@settings(max_examples=60, deadline=None)
@given(documents(), documents(), st.integers(0, 6), st.randoms(use_true_random=False), st.booleans())
def test_the_dynamic_program_gives_the_reference_spans_and_cost(src: list[Segment], tgt: list[Segment], margin: int,
                                                                  rng: random.Random, merged: bool) -> None:
    s_side, t_side = align_features._side(src, False), align_features._side(tgt, True)
    n, m = len(s_side.segments), len(t_side.segments)
    assume(n and m)
    costs = align_costs._costs_for(align_features._units(s_side, [[k] for k in range(n)]),
                                    align_features._units(t_side, [[k] for k in range(m)]),
                                    align_costs._key_weights(s_side.keys, t_side.keys),
                                    merge_cost=3.0 if merged else 1.2)
    # A band around a random monotone path, as _banded_dp makes them.
    shift = np.array([rng.uniform(-3, 3) for _ in range(n + 1)])
    diagonal = np.arange(n + 1) * m / n
    lo, hi = align_dp._band(np.maximum.accumulate(diagonal + shift), np.maximum.accumulate(diagonal + shift), m,
                            margin)
    assert align_dp._dp(n, m, costs, lo, hi) == _reference_dp(n, m, costs, lo, hi)
    links = align_dp._band_links(n, costs, lo, hi)
    assert align_dp._dp(n, m, costs, lo, hi, links) == _reference_dp(n, m, costs, lo, hi, links)


@settings(max_examples=30, deadline=None)
@given(documents(), documents())
def test_the_beads_of_every_shape_at_once_cost_what_each_shape_alone_does(src: list[Segment],
                                                                           tgt: list[Segment]) -> None:
    s_side, t_side = align_features._side(src, False), align_features._side(tgt, True)
    n, m = len(s_side.segments), len(t_side.segments)
    assume(n and m)
    costs = align_costs._costs_for(align_features._units(s_side, [[k] for k in range(n)]),
                                    align_features._units(t_side, [[k] for k in range(m)]),
                                    align_costs._key_weights(s_side.keys, t_side.keys))
    i, j = np.repeat(np.arange(n + 1), m + 1), np.tile(np.arange(m + 1), n + 1)
    together = costs.links(i, j)
    for code, (a, b) in enumerate(_LINK_SHAPES):
        assert together[code].tolist() == costs.link(a, b, i, j).tolist()
        assert [float(costs.link(a, b, i[k:k + 1], j[k:k + 1])[0]) for k in range(0, len(i), 7)] == \
            together[code][::7].tolist()
