"""Costs of beads and omissions for every shape at once, and the scores of the beads.

The cost of a bead is a sum of penalties (lower is better), all usable across scripts without a
translation model:

* **length**: Gale-Church's model with the length ratio estimated for the pair. Lengths are
  non-space characters, the target's divided by the ratio, in units of 1/100 of the median segment;
  the cost is the squared normal deviate of the difference, whose variance grows with length
  (Gale-Church's 6.8 per character, so in units it is larger where segments are short: the lengths
  of one- to three-word labels say little) plus a relative floor, because loose translations differ
  by a proportion that does not shrink for long segments. The ratio is that of the total lengths, unless
  the anchors, the heading lengths or (where one side has fewer segments) the median segment lengths
  disagree (a large omission): then each estimate is tried and the cheapest alignment kept; the ratio
  is then re-estimated from the lengths of the beads that alignment links (what one side leaves out
  does not count) and the pair aligned again, until it settles. A run of
  identical lines (one translation repeated under several verse or message numbers) shares its length
  among its copies.
* **numbers**: compared by value across scripts and formats, as ``tasks.anchors`` reads them
  (shared with grouping): "21 000" = "21,000" = "२१०००", "4.45 Uhr" = "4 h 45". A number shared by
  both sides of a bead lowers its cost; a number of 100 or more on one side only raises it, since
  translators rarely drop such numbers; a smaller one only a little, since it is often written in
  words ("dix-huit heures"), so that a missed number costs locally and never shifts the beads.
* **names**: Latin-script tokens (names, acronyms, technical terms) shared by both sides, plus words
  of other scripts transliterated with ``anyascii`` and compared both exactly and by a consonant
  skeleton, so that a Devanagari or Han rendering of a Latin name matches it. Names often become
  pronouns in translation, so a name on one side only costs little, and names only count if both
  documents have them. Numbers and names are weighted by rarity (a token everywhere says nothing).
* **format tokens**: what translators copy unchanged, placeholders ("%(name)s", "%s", "{0}"), web
  and e-mail addresses, counted like numbers (one on one side only is evidence of an omission); and
  a segment's final question mark, colon, ellipsis, exclamation mark, comma or full stop, in any
  script, like names. A merged side holds a token as often as its segments do, so that a merge which
  repeats a placeholder or a number the other side has once pays for the copy (a final mark counts once).
* **structure**: heading with heading is rewarded and heading with body text penalised (mildly:
  segmenters do not always agree on headings), a side mixing headings and body is penalised, a
  list item against a paragraph costs a little (translations turn paragraphs into bullets), and so
  does a different relative position inside the section group.
* **embeddings** (optional ``embed`` callable): the cosine of the two sides' sentence vectors, a
  merged side embedded as one text (its segments joined, as vecalign and bertalign do; a section is
  the mean of its segments' vectors), placed between the pair's mean cosine (unrelated texts) and
  the mean cosine of each segment with its nearest segment on the other side (a typical match),
  since models differ in both. Only the beads of the corridor of unsure beads have vectors
  (``tasks.align.corridor``); the others get no embedding term.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tasks.align.features import _sums_in_order, _Units, _window_kinds
from tasks.align.params import (
    _AGREED_MERGE_COST,
    _AGREEMENT,
    _EMBED_WEIGHT,
    _FORMAT_MISS,
    _GAP_EXTEND,
    _KIND_COST,
    _LARGE_BEAD_COST,
    _LENGTH_REL_SD,
    _LENGTH_VARIANCE,
    _LINK_SHAPES,
    _MATCH_BONUS,
    _MAX_SIDE,
    _MERGE_COST,
    _NAME_MISS,
    _NULL_SCORE_BIAS,
    _NULL_SCORE_SLOPE,
    _NUMBER_MISS,
    _POSITION_COST,
    _SCORE_BIAS,
    _SCORE_SLOPE,
    _SIDE_SIZES,
    _SMALL_NUMBER_MISS,
)
from tasks.align.types import FloatArray, IntArray, Span


@dataclass(frozen=True, slots=True)
class _Windows:
    """Aggregates of every window of 1 to _MAX_SIDE consecutive units of one side, indexed by the window's end.

    A window's tokens (those that count, see ``_key_weights``) are ids, ranked like the tokens' text,
    listed per window end in compressed rows: ``key_ids[size][key_start[size][e]:key_start[size][e + 1]]``,
    ascending. ``codes`` lists every (token, window end) as ``token * (n + 1) + end``, sorted, so that
    the other side can look up in one search which of its tokens a window holds.
    """

    length: dict[int, FloatArray]
    kind: dict[int, IntArray]
    miss: dict[int, FloatArray]  # cost if none of the window's tokens were found on the other side
    position: dict[int, FloatArray]
    vectors: dict[int, FloatArray] | None
    key_start: dict[int, IntArray]
    key_ids: dict[int, IntArray]
    codes: dict[int, IntArray]


def _miss_cost(key: str) -> float:
    if key.startswith("x:"):
        return 0.0  # a learned word pair (tasks.align.lexicon): translations vary, so only meeting counts
    if key.startswith(("f:", "e:")):
        return _FORMAT_MISS
    if not key.startswith("n:"):
        return _NAME_MISS
    integer = key[2:].split(".")[0]
    return _NUMBER_MISS if len(integer) > 2 else _SMALL_NUMBER_MISS


class _ById:
    """A mapping hashed by identity, so that a cache can hold a pair's token weights without hashing them."""

    __slots__ = ("value",)

    def __init__(self, value: Mapping[str, float]) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ById) and other.value is self.value


@lru_cache(maxsize=8)
def _token_table(weights: _ById) -> tuple[dict[str, int], FloatArray, FloatArray]:
    """Ids of the tokens that count (ranked like their text), the cost of missing each, and the credit of
    sharing each copy of it (see _windows)."""
    keys = sorted(weights.value)
    miss_of = np.array([weights.value[k] * _miss_cost(k) for k in keys], dtype=np.float64)
    credit = np.repeat(np.array([weights.value[k] * (_MATCH_BONUS + 2 * _miss_cost(k)) for k in keys],
                                dtype=np.float64), _MAX_SIDE)
    return {k: x for x, k in enumerate(keys)}, miss_of, credit


@lru_cache(maxsize=8)
def _ending_ids(weights: _ById) -> npt.NDArray[np.bool_]:
    """Which token ids are a segment's final mark (see _format_keys)."""
    return np.array([k.startswith("e:") for k in sorted(weights.value)], dtype=np.bool_)


_TokenWindows = tuple[dict[int, FloatArray], dict[int, IntArray], dict[int, IntArray], dict[int, IntArray]]


@lru_cache(maxsize=32)
def _token_windows(unit_keys: tuple[frozenset[str], ...], weights: _ById, sizes: tuple[int, ...]) -> _TokenWindows:
    """The tokens of every window of one side (misses, then key_start, key_ids and codes of _Windows).

    They depend on the units' tokens and the pair's weights only, not on the length ratio or the groups
    tried, so a pair computes them once for all its runs of the dynamic program."""
    ids, miss_of, _ = _token_table(weights)
    ending = _ending_ids(weights)
    n = len(unit_keys)
    # Every (unit, token id) of the tokens that count, in no particular order: the codes below are sorted.
    unit_of = np.repeat(np.arange(n), [len(keys) for keys in unit_keys])
    key_of = np.array([ids.get(k, -1) for keys in unit_keys for k in keys], dtype=np.int64)
    unit_of, key_of = unit_of[key_of >= 0], key_of[key_of >= 0]
    n_keys = max(len(miss_of), 1)
    miss, key_start, key_ids, codes = {}, {}, {}, {}
    for size in sizes:
        # A unit's tokens are in the windows ending 1..size units after its start.
        window_end = (unit_of + np.arange(1, size + 1)[:, None]).ravel()
        held = (window_end >= size) & (window_end <= n)
        # A window holds a token as often as its units do (a multiset): the k-th copy is token id
        # key * _MAX_SIDE + k - 1, so a merge that repeats a placeholder or a number the other side has
        # once pays for the copy it cannot match.
        held_codes = np.sort(window_end[held] * n_keys + np.tile(key_of, size)[held])
        first = np.concatenate([[True], held_codes[1:] != held_codes[:-1]]) if len(held_codes) else held_codes == 0
        run_start = np.maximum.accumulate(np.where(first, np.arange(len(held_codes)), 0))
        end, key = np.divmod(held_codes, n_keys)
        copy = np.arange(len(held_codes)) - run_start
        # A final mark counts once: units that end alike are merged as often as split.
        once = ~(ending[key] & (copy > 0)) if len(key) else np.zeros(0, dtype=np.bool_)
        end, key = end[once], key[once] * _MAX_SIDE + copy[once]
        key_start[size] = np.concatenate([[0], np.cumsum(np.bincount(end, minlength=n + 1))])
        key_ids[size] = key
        codes[size] = np.sort(key * (n + 1) + end)
        miss[size] = _sums_in_order(miss_of[key // _MAX_SIDE] if len(key) else np.zeros(0), end, key_start[size])
    return miss, key_start, key_ids, codes


@lru_cache(maxsize=64)
def _kinds_by_size(kinds: bytes, sizes: tuple[int, ...]) -> dict[int, IntArray]:
    """``_window_kinds`` of a side's unit kinds for every window size, read-only: the same for every length
    ratio and plan a pair tries, and for every pair of the document."""
    out = {}
    for size in sizes:
        out[size] = _window_kinds(np.frombuffer(kinds, dtype=np.int64), size)
        out[size].flags.writeable = False
    return out


def _windows(units: _Units, weights: Mapping[str, float], sizes: Sequence[int]) -> _Windows:
    n = len(units.length)
    pad = _MAX_SIDE
    padded = np.concatenate([np.full(pad, np.nan), units.length])
    ends = np.arange(n + 1)
    miss, key_start, key_ids, codes = _token_windows(tuple(units.keys), _ById(weights), tuple(sizes))
    kinds = _kinds_by_size(units.kind.astype(np.int64).tobytes(), tuple(sizes))
    length, kind, position = {}, {}, {}
    vectors: dict[int, FloatArray] | None = {} if units.vectors is not None else None
    for size in sizes:
        starts = np.maximum(ends - size, 0)
        # Summed in order rather than as differences of a running total, so that a window's length
        # does not depend on what precedes it.
        total = padded[pad - size:pad - size + n + 1]
        for d in range(1, size):
            total = total + padded[pad - size + d:pad - size + d + n + 1]
        length[size] = total
        kind[size] = kinds[size]
        position[size] = units.position[np.minimum(starts, max(n - 1, 0))] if n else np.zeros(1)
        if vectors is not None and units.window_vectors is not None and size in units.window_vectors:
            vectors[size] = units.window_vectors[size]
        elif vectors is not None and units.vectors is not None:
            sums = np.zeros((n + 1, units.vectors.shape[1]))
            for e in range(size, n + 1):
                sums[e] = units.vectors[e - size:e].sum(axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            vectors[size] = sums / np.where(norms > 0, norms, 1.0)
    return _Windows(length, kind, miss, position, vectors, key_start, key_ids, codes)


def _key_weights(src: Sequence[frozenset[str]], tgt: Sequence[frozenset[str]]) -> dict[str, float]:
    """Rarity weights (1 for a token in one unit per side, less when frequent) of the tokens that count.

    Names count only if both documents have them (a name may be rendered in a way no key matches);
    numbers and placeholders also count when one document lacks them, as evidence of an omission.
    """
    df_src, df_tgt = _key_counts(tuple(src)), _key_counts(tuple(tgt))
    total = len(src) + len(tgt)
    top = math.log1p(total / 2)
    weights = {k: math.log1p(total / (df_src[k] + df_tgt[k])) / top for k in df_src.keys() & df_tgt.keys()}
    for k in (df_src.keys() ^ df_tgt.keys()):
        if k.startswith(("n:", "f:")):
            weights[k] = min(1.0, math.log1p(total / (df_src[k] + df_tgt[k])) / top)
    return weights


# A document is in a pair with every other document of its work: its counts are made once.
@lru_cache(maxsize=64)
def _key_counts(keys: tuple[frozenset[str], ...]) -> Counter[str]:
    """In how many units each token occurs (shared: not to be changed)."""
    return Counter(itertools.chain.from_iterable(keys))


_EMBED_CHUNK = 1 << 20  # vector components gathered at a time for the cosines of many beads


_DENSE_TOKENS = 1 << 22  # (token copy, window end) cells up to which a target's tokens are looked up in a table


@dataclass(frozen=True, slots=True)
class _Costs:
    """Vectorised bead costs between the units of two sides."""

    src: _Windows
    tgt: _Windows
    weights: Mapping[str, float]
    credit: FloatArray  # by token id: cost taken off a bead whose two sides share the token
    src_open: FloatArray  # cost of leaving a source unit unaligned, first of a run
    src_extend: FloatArray  # the same, after another unaligned source unit
    tgt_open: FloatArray  # as src_open for target units, with an infinite last entry for position m
    tgt_extend_before: FloatArray  # cumulative extension cost of the target units before each position
    embed_scale: tuple[float, float]  # see _Side
    merge_cost: float = _MERGE_COST  # prior per unit beyond 1-1 (see _merge_cost)
    variance: float = _LENGTH_VARIANCE  # per length unit: see _costs_for
    # By window size: which (token copy, window end) codes the target's windows hold, as a table; filled
    # when first needed, for targets with few enough cells (see _subtract_shared).
    held: dict[int, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def link(self, a: int, b: int, i: IntArray, j: IntArray) -> FloatArray:
        """Costs of the beads of source units [i-a, i) with target units [j-b, j), for paired arrays i, j.

        Beads that do not fit (i < a or j < b) cost infinity. Each bead's cost depends on its units
        only, never on the other beads asked for in the same call.
        """
        return self._cost(a, b, i, j, self._source(a, i, j), _gathered(self.tgt, b, j))

    def links(self, i: IntArray, j: IntArray) -> FloatArray:
        """``link`` of every shape of ``_LINK_SHAPES`` (by code, then bead) for the same beads' ends i, j.

        What a side's windows bring is gathered once per window size instead of once per shape.
        """
        out = np.empty((len(_LINK_SHAPES), len(i)))
        sources = {a: self._source(a, i, j) for a in sorted({a for a, _ in _LINK_SHAPES})}
        targets = {b: _gathered(self.tgt, b, j) for b in sorted({b for _, b in _LINK_SHAPES})}
        for code, (a, b) in enumerate(_LINK_SHAPES):
            out[code] = self._cost(a, b, i, j, sources[a], targets[b])
        return out

    def _source(self, a: int, i: IntArray, j: IntArray) -> tuple[_Gathered, _SourceTokens]:
        """What the source windows of ``a`` units ending at i bring to beads ending at (i, j), whatever their
        target side: their aggregates, and their tokens, each with the (token copy, window end) code that
        a target window ending at j holding it has (see _Windows)."""
        start = self.src.key_start[a][i]
        counts = self.src.key_start[a][i + 1] - start
        bead = np.repeat(np.arange(len(i)), counts)
        offsets = np.cumsum(counts) - counts
        keys = self.src.key_ids[a][np.arange(len(bead)) - np.repeat(offsets - start, counts)]
        wanted = keys * len(next(iter(self.tgt.length.values()))) + j[bead]  # every size has a value per end
        return _gathered(self.src, a, i), _SourceTokens(bead, keys, wanted)

    def _cost(self, a: int, b: int, i: IntArray, j: IntArray, source: tuple[_Gathered, _SourceTokens],
              tgt: _Gathered) -> FloatArray:
        src, tokens = source
        x = src.length
        y = tgt.length
        mean = (x + y) / 2
        cost: FloatArray = (x - y) ** 2 / (2 * self.variance * mean + 2 * (_LENGTH_REL_SD * mean) ** 2)
        cost += _KIND_COST[src.kind, tgt.kind]
        cost += _POSITION_COST * np.abs(tgt.position - src.position)
        cost += tgt.miss
        cost += self.shape_cost(a, b) + src.miss
        self._subtract_shared(cost, b, tokens)
        if self.src.vectors is not None and self.tgt.vectors is not None:
            s_vectors, t_vectors = self.src.vectors[a], self.tgt.vectors[b]
            step = max(1, _EMBED_CHUNK // s_vectors.shape[1])
            for k in range(0, len(cost), step):
                cosine = np.einsum("ij,ij->i", t_vectors[j[k:k + step]], s_vectors[i[k:k + step]])
                relative = np.clip((cosine - self.embed_scale[0]) / self.embed_scale[1], -1.0, 2.0)
                # A side left unembedded (outside the corridor, see tasks.align.corridor) is NaN: no evidence.
                cost[k:k + step] += np.where(np.isnan(cosine), 0.0, _EMBED_WEIGHT * (0.5 - relative))
        cost[(i < a) | (j < b)] = np.inf
        return cost

    def shape_cost(self, a: int, b: int) -> float:
        return self.merge_cost * (a + b - 2) + _LARGE_BEAD_COST * max(0, a + b - 4)

    def _subtract_shared(self, cost: FloatArray, b: int, tokens: _SourceTokens) -> None:
        """Credit every bead for each source token its target window holds: a bonus, and no miss on either side.

        A bead's credits are taken off one after the other in the order of its tokens, so that its
        cost is the same whichever other beads are computed with it.
        """
        bead, keys, wanted = tokens
        codes = self.tgt.codes[b]
        cells = len(self.credit) * len(self.tgt.length[b])  # every code is below it
        if cells <= _DENSE_TOKENS:
            # A table lookup instead of a binary search (the DP asks for every bead of the band).
            held = self.held.get(b)
            if held is None:
                held = np.zeros(cells, dtype=np.bool_)
                held[codes] = True
                self.held[b] = held
            shared = held[wanted]
        else:
            at = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
            shared = codes[at] == wanted if len(codes) else np.zeros(len(wanted), dtype=bool)
        np.subtract.at(cost, bead[shared], self.credit[keys[shared]])


class _Gathered(NamedTuple):
    """A side's window aggregates of one size, gathered at the beads' window ends."""

    length: FloatArray
    kind: IntArray
    position: FloatArray
    miss: FloatArray


def _gathered(windows: _Windows, size: int, ends: IntArray) -> _Gathered:
    return _Gathered(windows.length[size][ends], windows.kind[size][ends], windows.position[size][ends],
                     windows.miss[size][ends])


class _SourceTokens(NamedTuple):
    """The tokens of source windows, one row per (bead, token): the bead, the token copy's id, and the code
    a target window at the bead's end holding it has."""

    bead: IntArray
    keys: IntArray
    wanted: IntArray


def _merge_cost(spans: Sequence[Span]) -> float:
    """Prior per segment merged beyond 1-1, from a first alignment of the pair with the default prior.

    Loose translations merge and split; where a first alignment finds few merges, the translation
    is one to one and a merge must be earned, otherwise a short line translated by a much longer one
    ("Email" / "Адрес электронной почты") shifts the beads after it. (Gale-Church's priors are
    likewise the shares of the shapes.)
    """
    linked = [(i1 - i0, j1 - j0) for i0, i1, j0, j1 in spans if i1 > i0 and j1 > j0]
    units = sum(a + b for a, b in linked)
    merged = sum(a + b - 2 for a, b in linked) / max(units, 1)
    return _MERGE_COST + _AGREED_MERGE_COST * max(0.0, 1.0 - merged / _AGREEMENT)


def _shape_cost(a: int, b: int) -> float:
    """Prior cost of a bead shape: per unit beyond 1-1, and more for the rarer beads of five units."""
    return _MERGE_COST * (a + b - 2) + _LARGE_BEAD_COST * max(0, a + b - 4)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _link_score(cost: float, units: int) -> float:
    """Score of a linking bead from its cost per aligned unit."""
    return _sigmoid(_SCORE_BIAS - _SCORE_SLOPE * cost / units)


def _unlinked_score(best_link_cost: float) -> float:
    """Score of a 1-0/0-1 bead from the cost of the best 1-1 link its unit could have had nearby."""
    return _sigmoid(_NULL_SCORE_BIAS + _NULL_SCORE_SLOPE * best_link_cost / 2)


def _costs_for(src: _Units, tgt: _Units, weights: Mapping[str, float], sizes: Sequence[int] = _SIDE_SIZES,
               merge_cost: float = _MERGE_COST, scale: float = 1.0) -> _Costs:
    """Bead costs; ``scale`` is the source's length units per character.

    Gale-Church's variance grows with the length in characters, so in length units (the median segment
    measures _LENGTH_UNIT) it is larger where segments are short: the lengths of one- to three-word
    interface messages say little, those of long paragraphs much.
    """
    credit = _token_table(_ById(weights))[2]
    return _Costs(_windows(src, weights, sizes), _windows(tgt, weights, sizes), weights, credit,
                  src.null_cost, _GAP_EXTEND * src.null_cost, np.concatenate([tgt.null_cost, [np.inf]]),
                  np.concatenate([[0.0], np.cumsum(_GAP_EXTEND * tgt.null_cost)]), src.embed_scale,
                  merge_cost, _LENGTH_VARIANCE * scale)


def _linking(span: Span) -> bool:
    return span[1] > span[0] and span[3] > span[2]


def _evidence_cost(costs: _Costs, span: Span) -> float:
    """Cost of a linking span without its shape's prior: how well its two sides match."""
    i0, i1, j0, j1 = span
    a, b = i1 - i0, j1 - j0
    return float(costs.link(a, b, np.array([i1]), np.array([j1]))[0]) - costs.shape_cost(a, b)
