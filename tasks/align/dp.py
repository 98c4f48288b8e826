"""The banded dynamic program over bead shapes, its band, and the anchors and length ratios that place it.

Both levels run one dynamic program over the bead shapes 0-1, 1-0 and every linking shape of up to
five units (1-1 ... 1-4, 2-3, 3-2, 4-1: a sentence split in four), vectorised along the band (so
cost grows about linearly with length; a band around rare shared tokens is used when the sections
do not help). Runs of 1-0 or 0-1 beads have an affine cost (open,
then extend cheaper), because translations leave out whole passages, which otherwise cost more than
smearing the other side over them with merged beads.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from tasks.align.costs import _Costs
from tasks.align.features import _Side
from tasks.align.params import _BAND_MARGIN, _HEAD, _LINK, _LINK_SHAPES, _MAX_SIDE, _SRC_GAP, _TGT_GAP
from tasks.align.types import FloatArray, IntArray, Span

_PAD = max(b for _, b in _LINK_SHAPES)  # infinite columns before each stored row, for beads reaching left


def _band_cells(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Every cell of a band: its row, its column inside the row's band, and its target boundary."""
    width = hi - lo + 1
    rows = np.repeat(np.arange(len(lo)), width)
    inside = np.arange(len(rows)) - np.repeat(np.cumsum(width) - width, width)
    return rows, inside, lo[rows] + inside


def _band_links(n: int, costs: _Costs, lo: IntArray, hi: IntArray,
                known: tuple[IntArray, IntArray, FloatArray] | None = None) -> FloatArray:
    """The cost of every linking bead ending in a cell of the band, by shape, row and column inside the row.

    ``known`` is a narrower band's (lo, hi, links) with the same costs: a widened band computes only its new
    cells (a bead's cost does not depend on the other beads computed with it).
    """
    width = hi - lo + 1
    rows, inside, cols = _band_cells(lo, hi)
    links = np.full((len(_LINK_SHAPES), n + 1, int(width.max())), np.inf)
    if known is not None:
        old_lo, old_hi, old = known
        kept = (cols >= old_lo[rows]) & (cols <= old_hi[rows])
        links[:, rows[kept], inside[kept]] = old[:, rows[kept], cols[kept] - old_lo[rows[kept]]]
        rows, inside, cols = rows[~kept], inside[~kept], cols[~kept]
    if len(rows):
        links[:, rows, inside] = costs.links(rows, cols)
    return links


def _dp(n: int, m: int, costs: _Costs, lo: IntArray, hi: IntArray, links: FloatArray | None = None
        ) -> tuple[list[Span], float]:
    """Cheapest monotone bead sequence from (0, 0) to (n, m) inside the band lo[i] <= j <= hi[i], and its cost.

    Runs of 1-0 (or 0-1) beads cost an opening cost for their first unit and a smaller extension cost
    for the others (an affine gap, as in sequence alignment): a translation that leaves out a whole
    passage is likelier than one that leaves out scattered sentences, and without it a long
    omission costs more than smearing the other side over it with merged beads.

    The costs of all linking beads of the band are computed at once; the rows are then filled one
    after the other, each in a few vector operations. A row is stored from its band's first column,
    after ``_PAD`` infinite columns (and row -1 is all infinite), so the cells that the beads ending in
    a row start from are read in one gather.
    """
    width = hi - lo + 1
    widest = int(width.max())
    shapes = len(_LINK_SHAPES)
    reach = max([int((lo[a:] - lo[:-a] + width[a:]).max()) for a in range(1, min(_MAX_SIDE, n) + 1)] + [widest])
    stride = _PAD + reach
    # One flat buffer holds the best cells over the three states (row by row, then row -1, all infinite) and,
    # after them, the best cells ending in a source gap: every cell a row starts from is read in one gather.
    gaps = (n + 2) * stride
    buffer = np.full(gaps + (n + 1) * stride, np.inf)
    positions = np.arange(widest)
    inside = positions < width[:, None]
    rows = np.arange(n + 1)
    # Candidates of every cell: each linking shape, then opening a source gap, then extending one. Row i's
    # candidates are its beads' own costs, to which the cells they start from are added in place; cells
    # outside a row's band stay infinite, so every row is computed at the band's widest.
    candidates = np.full((n + 1, shapes + 2, widest), np.inf)  # by row, then candidate, then column
    candidates[:, :shapes] = (_band_links(n, costs, lo, hi) if links is None else links).transpose(1, 0, 2)
    candidates[1:, shapes] = np.where(inside[1:], costs.src_open[:, None], np.inf)
    candidates[1:, shapes + 1] = np.where(inside[1:], costs.src_extend[:, None], np.inf)
    # Where in the buffer the candidates of each row's first column start from: a linking bead of a source
    # units and b target units from row i - a, b columns to the left; a source gap from row i - 1 of the best
    # cells (opened) or of the source gaps (extended). Row -1 is infinite.
    above = np.concatenate([[a for a, _ in _LINK_SHAPES], [1, 1]])
    left = np.concatenate([[b for _, b in _LINK_SHAPES], [0, 0]])
    region = np.concatenate([np.zeros(shapes, dtype=np.int64), [0, gaps]])
    previous = rows[:, None] - above
    origin = np.where(previous >= 0,
                      region + previous * stride + lo[:, None] - lo[np.maximum(previous, 0)] - left + _PAD,
                      (n + 1) * stride + _PAD)
    gather = np.minimum(origin[:, :, None] + positions, len(buffer) - 1)
    # A target gap over units k..j-1 costs open[k] + extend[k+1..j-1]; best over k < j by a prefix minimum.
    # Outside the band the extension is infinite, so that no target gap reaches a cell there.
    columns = np.minimum(lo[:, None] + positions, len(costs.tgt_open) - 1)
    extend_next = np.concatenate([costs.tgt_extend_before[1:], costs.tgt_extend_before[-1:]])
    open_at = costs.tgt_open[columns]
    next_at = extend_next[columns]
    # Column k + 1's target gap extends to it from column k: both must be in the band.
    extend_at = np.where(positions + 1 < width[:, None],
                         costs.tgt_extend_before[np.minimum(columns + 1, len(costs.tgt_extend_before) - 1)], np.inf)
    before = np.full((n + 1, widest), np.inf)  # best of link and source gap
    starts = np.full((n + 1, widest), np.inf)  # target gaps starting at each cell, see below
    prefix = np.full((n + 1, widest), np.inf)
    tgt_gap = np.full((n + 1, widest), np.inf)  # best ending in a target gap
    before[0, 0] = 0.0  # row 0's band starts at column 0
    # The loop fills only what the next rows read (the best cells and the source gaps); what the path's
    # trace needs (shapes, states, run starts) is derived from the stored rows afterwards, for all rows at
    # once: with bands about a dozen cells wide, the loop's cost is its number of vector operations.
    best_rows = buffer[:(n + 1) * stride].reshape(n + 1, stride)[:, _PAD:_PAD + widest]
    gap_rows = buffer[gaps:].reshape(n + 1, stride)[:, _PAD:_PAD + widest]
    add, subtract, minimum = np.add, np.subtract, np.minimum
    reduce_min, accumulate_min = np.minimum.reduce, np.minimum.accumulate
    rows_of = zip(candidates, gather, candidates[:, shapes], candidates[:, shapes + 1], gap_rows, before, starts,
                  open_at, next_at, prefix, prefix[:, :-1], extend_at[:, :-1], tgt_gap[:, 1:], tgt_gap, best_rows,
                  strict=True)
    for i, (candidate, cells, opened_row, extended_row, gap_row, row_before, row_starts, open_row, next_row,
            prefix_row, prefix_head, extend_head, tgt_tail, tgt_row, best_row) in enumerate(rows_of):
        if i:
            add(buffer[cells], candidate, out=candidate)
            minimum(opened_row, extended_row, out=gap_row)
            reduce_min(candidate, axis=0, out=row_before)
        add(row_before, open_row, out=row_starts)
        subtract(row_starts, next_row, out=row_starts)
        accumulate_min(row_starts, out=prefix_row)
        add(prefix_head, extend_head, out=tgt_tail)
        minimum(row_before, tgt_row, out=best_row)
    best = buffer
    linked = candidates[:, :shapes].min(axis=1)  # best ending in a linking bead
    linked[0] = np.inf
    linked[0, 0] = 0.0
    opened, extended = candidates[:, shapes], candidates[:, shapes + 1]  # best ending in a source gap opened, extended
    shape = candidates[:, :shapes].argmin(axis=1)  # the first cheapest shape, as min picked it
    src_gap = buffer[gaps:].reshape(n + 1, stride)[:, _PAD:_PAD + widest]
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


def _band(lower: FloatArray, upper: FloatArray, m: int, margin: int) -> tuple[IntArray, IntArray]:
    """Band of target boundaries for every source boundary: [lower - margin, upper + margin].

    Both edges are made non-decreasing and consecutive rows overlap, so a path always gets through.
    """
    lo = np.clip(np.floor(lower) - margin, 0, m).astype(np.int64)
    hi = np.clip(np.ceil(upper) + margin, 0, m).astype(np.int64)
    lo[0], hi[-1] = 0, m
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo[1:] = np.minimum(lo[1:], hi[:-1])
    return lo, hi


def _touches_edge(spans: Sequence[Span], lo: IntArray, hi: IntArray, m: int) -> bool:
    return any((j1 == lo[i1] > 0) or (j1 == hi[i1] < m) for _, i1, _, j1 in spans)


def _banded_dp(costs: _Costs, n: int, m: int, lower: FloatArray, upper: FloatArray) -> tuple[list[Span], float]:
    """The dynamic program in a band around the expected path, widened until the path is free of its edges."""
    margin = _BAND_MARGIN
    known = None
    while True:
        lo, hi = _band(lower, upper, m, margin)
        links = _band_links(n, costs, lo, hi, known)
        spans, cost = _dp(n, m, costs, lo, hi, links)
        if not _touches_edge(spans, lo, hi, m):
            return spans, cost
        known = (lo, hi, links)
        margin *= 2


def _expected_path(n: int, m: int, points: Sequence[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    """Lowest and highest expected target boundary for every source boundary 0..n.

    The path runs through the given points (monotone in both coordinates) and the two corners; where
    several points share a source boundary (a target stretch with no source), it spans all of them.
    """
    by_x: dict[float, list[float]] = defaultdict(list)
    for x, y in [(0.0, 0.0), *points, (float(n), float(m))]:
        by_x[x].append(y)
    xs = sorted(by_x)
    rows = np.arange(n + 1, dtype=np.float64)
    lower: FloatArray = np.interp(rows, xs, [min(by_x[x]) for x in xs])
    upper: FloatArray = np.interp(rows, xs, [max(by_x[x]) for x in xs])
    return lower, upper


# A document is in a pair with every other document of its work: its unique tokens are found once.
@lru_cache(maxsize=64)
def _once(keys: tuple[frozenset[str], ...]) -> dict[str, int]:
    """The unit of each token that occurs in one unit only (shared: not to be changed)."""
    counts = Counter(itertools.chain.from_iterable(keys))
    return {k: unit for unit, unit_keys in enumerate(keys) for k in unit_keys if counts[k] == 1}


def _anchor_chain(src: Sequence[frozenset[str]], tgt: Sequence[frozenset[str]]) -> list[tuple[int, int]]:
    """Longest monotone chain of unit pairs sharing a token that occurs once on each side."""
    src_once, tgt_once = _once(tuple(src)), _once(tuple(tgt))
    points = sorted({(src_once[k], tgt_once[k]) for k in src_once.keys() & tgt_once.keys()})
    # Longest strictly increasing chain in both coordinates (patience sorting with back links).
    tails: list[int] = []
    tail_index: list[int] = []
    parent: list[int] = []
    for idx, (i, j) in enumerate(points):
        pos = bisect_left(tails, j)
        # Points of the same source unit must not chain with each other.
        while pos > 0 and points[tail_index[pos - 1]][0] == i:
            pos -= 1
        parent.append(tail_index[pos - 1] if pos else -1)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(idx)
        elif j < tails[pos]:
            tails[pos] = j
            tail_index[pos] = idx
    chain: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        chain.append(points[k])
        k = parent[k]
    chain.reverse()
    return chain


_MIN_RATIO_ANCHORS = 4


_MAX_SLOPE_ANCHORS = 200


_MIN_RATIO_HEADS = 3


_RATIO_DISAGREEMENT = 1.3


_RATIO_ROUNDS = 3  # re-estimations of the length ratio from the beads an alignment links


_RATIO_SETTLED = 1.05  # a re-estimate closer than this to the ratio it came from changes nothing worth a run


def _ratio_candidates(src: _Side, tgt: _Side, chain: Sequence[tuple[int, int]]) -> list[float]:
    """Estimates of the target length per source length unit for this pair, the first preferred.

    The ratio of the total lengths is right unless one side has a large omission or insertion. Two
    estimates that such a change leaves alone are added when they disagree with it: the Theil-Sen
    slope (median of pairwise slopes, robust to a few wrong anchors) of the anchors' positions, and
    the ratio of the median heading lengths (headings are translated one to one, whatever happens
    to the paragraphs). The caller keeps the estimate whose alignment costs least.
    """
    src_len = np.array([f.length for f in src.features])
    tgt_len = np.array([f.length for f in tgt.features])
    total = float(tgt_len.sum() / src_len.sum())
    others: list[float] = []
    if len(chain) >= _MIN_RATIO_ANCHORS:
        # The slopes of all pairs of anchors grow with the square of their number: long documents use an
        # even sample of them.
        sample = chain[:: -(-len(chain) // _MAX_SLOPE_ANCHORS)]
        src_at = (np.cumsum(src_len) - src_len / 2)[[i for i, _ in sample]]
        tgt_at = (np.cumsum(tgt_len) - tgt_len / 2)[[j for _, j in sample]]
        first, second = np.triu_indices(len(sample), k=1)
        others.append(float(np.median((tgt_at[second] - tgt_at[first]) / (src_at[second] - src_at[first]))))
    src_heads = [f.length for f in src.features if f.kind == _HEAD]
    tgt_heads = [f.length for f in tgt.features if f.kind == _HEAD]
    if min(len(src_heads), len(tgt_heads)) >= _MIN_RATIO_HEADS:
        others.append(float(np.median(tgt_heads) / np.median(src_heads)))
    if len(src_len) != len(tgt_len):
        # Where one side leaves whole segments out, the typical segment still translates the typical one.
        others.append(float(np.median(tgt_len) / np.median(src_len)))
    candidates = [total]
    for ratio in others:
        if ratio > 0 and all(max(ratio / c, c / ratio) > _RATIO_DISAGREEMENT for c in candidates):
            candidates.append(ratio)
    return candidates


def _linked_ratio(spans: Sequence[Span], src: _Side, tgt: _Side) -> float | None:
    """The target length per source length unit of the units an alignment links, or None if it links none.

    The ratio of the total lengths counts what one side leaves out (untranslated paragraphs, messages
    missing from a catalogue) as if the other side had it in shorter words: every linked bead then looks
    too long on one side, and a long untranslated paragraph may take the place of the short one that is
    translated. The lengths of the linked beads only are the text the two sides share.
    """
    src_len = [f.length for f in src.features]
    tgt_len = [f.length for f in tgt.features]
    src_total = sum(sum(src_len[i0:i1]) for i0, i1, j0, j1 in spans if i1 > i0 and j1 > j0)
    tgt_total = sum(sum(tgt_len[j0:j1]) for i0, i1, j0, j1 in spans if i1 > i0 and j1 > j0)
    return tgt_total / src_total if src_total > 0 and tgt_total > 0 else None


def _centres(units: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(i + 0.5, j + 0.5) for i, j in units]


def _monotone(points: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Points kept only while both coordinates strictly increase."""
    out: list[tuple[int, int]] = []
    for i, j in sorted(points):
        if not out or (i > out[-1][0] and j > out[-1][1]):
            out.append((i, j))
    return out
