"""Alignment of two documents of the same work: sections first, then n-to-m segment beads.

``align_pair`` is a pure, deterministic function from two segment lists to beads, in two levels.
The sections are aligned first (headings and the title block are strong anchors); the segments are
then aligned over the whole document twice: in a band around the aligned section groups, and free
of them in a band around the anchors, and the guided alignment is kept only if it costs less, so
that sections that disagree (headings found on one side only, short lines taken for headings)
cannot trap them; wherever the best path reaches the band's edge the band is widened and the
program run again. The reported section beads are the sections the segment beads join, so both
levels always agree; where the sections did not guide the segments, a section no bead links joins
its neighbours rather than standing alone.

Both levels run one dynamic program over the bead shapes 0-1, 1-0 and every linking shape of up to
five units (1-1 ... 1-4, 2-3, 3-2, 4-1: a sentence split in four), vectorised along the band (so
cost grows about linearly with length; a band around rare shared tokens is used when the sections
do not help). Runs of 1-0 or 0-1 beads have an affine cost (open,
then extend cheaper), because translations leave out whole passages, which otherwise cost more than
smearing the other side over them with merged beads.

The cost of a bead is a sum of penalties (lower is better), all usable across scripts without a
translation model:

* **length**: Gale-Church's model with the length ratio estimated for the pair. Lengths are
  non-space characters, the target's divided by the ratio, in units of 1/100 of the median segment;
  the cost is the squared normal deviate of the difference, whose variance grows with length
  (Gale-Church's 6.8 per character, so in units it is larger where segments are short: the lengths
  of one- to three-word labels say little) plus a relative floor, because loose translations differ
  by a proportion that does not shrink for long segments. The ratio is that of the total lengths, unless
  the anchors or the heading lengths disagree (a large omission): then each estimate is tried and
  the cheapest alignment kept.
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
  a segment's final question mark, colon, ellipsis or exclamation mark, in any script, like names.
* **structure**: heading with heading is rewarded and heading with body text penalised (mildly:
  segmenters do not always agree on headings), a side mixing headings and body is penalised, a
  list item against a paragraph costs a little (translations turn paragraphs into bullets), and so
  does a different relative position inside the section group.
* **embeddings** (optional ``embed`` callable): the cosine of the two sides' sentence vectors, a
  merged side embedded as one text (its segments joined, as vecalign and bertalign do; a section is
  the mean of its segments' vectors), placed between the pair's mean cosine (unrelated texts) and
  the mean cosine of each segment with its nearest segment on the other side (a typical match),
  since models differ in both.

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

import itertools
import math
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import regex

from tasks.anchors import name_keys, number_values
from tasks.segment import Segment

__all__ = ["Bead", "Embed", "PairAlignment", "align_pair"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Embed = Callable[[list[str]], npt.NDArray[np.floating]]


@dataclass(frozen=True, slots=True)
class Bead:
    src: tuple[int, ...]  # section numbers (section level) or segment ordinals (segment level)
    tgt: tuple[int, ...]
    score: float  # 0-1


@dataclass(frozen=True, slots=True)
class PairAlignment:
    sections: list[Bead]
    segments: list[Bead]
    method: str


# Linking bead shapes (source units, target units).
_MAX_BEAD = 5  # units in a linking bead, both sides together (vecalign's make_alignment_types)


def _link_shapes(max_bead: int) -> tuple[tuple[int, int], ...]:
    """Every linking shape of at most ``max_bead`` units, smallest first."""
    shapes = [(a, b) for a in range(1, max_bead) for b in range(1, max_bead) if a + b <= max_bead]
    return tuple(sorted(shapes, key=lambda shape: (shape[0] + shape[1], abs(shape[0] - shape[1]), -shape[0])))


_LINK_SHAPES = _link_shapes(_MAX_BEAD)
_MAX_SIDE = max(a for a, _ in _LINK_SHAPES)
_SIDE_SIZES = tuple(range(1, _MAX_SIDE + 1))
_MERGE_COST = 1.2  # per unit beyond 1-1: merges and splits are common in loose translations
_AGREED_MERGE_COST = 3.0  # added to it where a first alignment found no merges (lengths of short segments are
# weak evidence against a merge that swallows an untranslated one)
_AGREEMENT = 0.1  # share of merged units in the first alignment from which nothing is added
_LARGE_BEAD_COST = 0.5  # per unit beyond four: such beads are rarer, and a wrong one costs precision
_LENGTH_UNIT = 100.0  # the median segment measures this many length units
_NULL_COST = 2.6  # per omitted or inserted segment of median length or more (sections: per segment)
_NULL_FLOOR = 0.4  # share of it for the shortest segments
_ABSORB_GAIN = 0.5  # how much better a bead must match to absorb an unaligned neighbour
_SENTENCE_TOLERANCE = 0.0  # how much worse it may match when absorbing a short whole sentence
_SHORT_SENTENCE = _LENGTH_UNIT / 2  # length units of a short sentence
_GAP_EXTEND = 0.5  # share of it for each further unit of a run of unaligned units

_LENGTH_VARIANCE = 6.8  # Gale-Church: variance of the difference per character of length
_LENGTH_REL_SD = 0.3  # floor of the relative standard deviation of loose translations

_MATCH_BONUS = 2.0  # per shared rare name (weight 1)
_NUMBER_MISS = 1.2  # per number of 100 or more found on one side only: rarely dropped or reworded
_SMALL_NUMBER_MISS = 0.4  # per smaller number (or time, "4.45"): often written in words ("dix-huit heures")
_NAME_MISS = 0.25  # per name found on one side only
_FORMAT_MISS = 1.2  # per placeholder or final mark found on one side only: a program needs its placeholders

_POSITION_COST = 1.0  # per unit of difference of relative position inside the section group
_EMBED_WEIGHT = 2.0  # from a typical best match (-half) to a typical unrelated pair (+half)
_EMBED_SAMPLE = 500  # source segments whose nearest target calibrates the cosines
_WINDOW_SIZES = tuple(range(2, _MAX_SIDE + 1))  # merged bead sides embedded as one text
_WINDOW_JOIN = " "

# Kinds of a bead side: a head (title/heading) side, body sides of paragraphs, list items or both,
# and a side mixing heads with body.
_HEAD, _PARA, _ITEM, _BODY, _MIXED = range(5)
_KIND_COST = np.array([
    # head  para  item  body  mixed
    [-1.5, 1.0, 1.0, 1.0, 2.5],  # head
    [1.0, 0.0, 0.3, 0.1, 2.5],  # para
    [1.0, 0.3, 0.0, 0.1, 2.5],  # item
    [1.0, 0.1, 0.1, 0.0, 2.5],  # body
    [2.5, 2.5, 2.5, 2.5, 2.5],  # mixed
])

# Logistic map of a bead's cost per aligned unit to a score: fitted to whether the beads of the seed
# pairs and of synthetic damage were exactly right (python -m eval shows precision by score).
_SCORE_BIAS = 2.4
_SCORE_SLOPE = 1.6
# The same for 1-0/0-1 beads, from the cost per unit of the best 1-1 link the unit could have had nearby.
_NULL_SCORE_BIAS = 0.45
_NULL_SCORE_SLOPE = 0.6

_BAND_MARGIN = 4  # segments (or sections) beyond the expected path, doubled while the path hits it
_MAX_NULL_SHARE = 0.25  # a section alignment leaving more content unaligned does not guide segments

_SENTENCE_END = regex.compile(r"\p{Sentence_Terminal}[\p{Pe}\p{Pf}\p{Po}\s]*$")

_METHOD_BASE = "dp-sections+segments/len,num,latin,kind"


# --- features -------------------------------------------------------------------------------------

def _numbers(text: str) -> set[str]:
    return {"n:" + value for value in number_values(text)}


# Tokens that translators copy unchanged: printf and format placeholders ("%(name)s", "%s", "{0}") and
# web addresses. Keyed whole, so a placeholder's word does not need to meet an untranslated word.
_PLACEHOLDER = regex.compile(r"%\(\w+\)[a-zA-Z]|%[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGcu]|\{[\w.]*\}"
                             r"|\b(?:https?|ftp)://[^\s<>\"']+|\b[\w.+-]+@[\w-]+\.[\w.-]+")
# How a segment ends survives translation: a question, a label followed by its value, an unfinished
# phrase. Judged by Unicode character names, so that every script's own marks count.
_ENDINGS = (("QUESTION MARK", "?"), ("COLON", ":"), ("ELLIPSIS", "…"), ("EXCLAMATION MARK", "!"))


def _format_keys(text: str) -> set[str]:
    keys = {"f:" + m.rstrip(".,;:)!?") for m in _PLACEHOLDER.findall(text)}
    stripped = text.rstrip().rstrip("\"'»”’)]\u00a0 ")
    if stripped.endswith("..."):
        keys.add("e:…")
    elif stripped:
        name = f" {unicodedata.name(stripped[-1], '')} "
        keys.update("e:" + mark for words, mark in _ENDINGS if f" {words} " in name)
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


# --- units: what one level's dynamic program aligns -------------------------------------------------


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
    total = np.zeros(len(row_start) - 1)
    for k in range(table.shape[1]):
        total += table[:, k]
    return total


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
    if key.startswith(("f:", "e:")):
        return _FORMAT_MISS
    if not key.startswith("n:"):
        return _NAME_MISS
    integer = key[2:].split(".")[0]
    return _NUMBER_MISS if len(integer) > 2 else _SMALL_NUMBER_MISS


def _windows(units: _Units, ids: Mapping[str, int], miss_of: Sequence[float], sizes: Sequence[int]) -> _Windows:
    n = len(units.length)
    unit_keys = [sorted(ids[k] for k in keys if k in ids) for keys in units.keys]
    unit_of = np.repeat(np.arange(n), [len(ks) for ks in unit_keys])
    key_of = np.array([k for ks in unit_keys for k in ks], dtype=np.int64)
    n_keys = max(len(miss_of), 1)
    pad = _MAX_SIDE
    padded = np.concatenate([np.full(pad, np.nan), units.length])
    ends = np.arange(n + 1)
    length, kind, miss, position, key_start, key_ids, codes = {}, {}, {}, {}, {}, {}, {}
    vectors: dict[int, FloatArray] | None = {} if units.vectors is not None else None
    for size in sizes:
        starts = np.maximum(ends - size, 0)
        # Summed in order rather than as differences of a running total, so that a window's length
        # does not depend on what precedes it.
        total = padded[pad - size:pad - size + n + 1]
        for d in range(1, size):
            total = total + padded[pad - size + d:pad - size + d + n + 1]
        length[size] = total
        kind[size] = _window_kinds(units.kind, size)
        # A unit's tokens are in the windows ending 1..size units after its start; a window lists each once.
        window_end = (unit_of + np.arange(1, size + 1)[:, None]).ravel()
        held = (window_end >= size) & (window_end <= n)
        end, key = np.divmod(np.unique(window_end[held] * n_keys + np.tile(key_of, size)[held]), n_keys)
        key_start[size] = np.concatenate([[0], np.cumsum(np.bincount(end, minlength=n + 1))])
        key_ids[size] = key
        codes[size] = np.sort(key * (n + 1) + end)
        miss[size] = _sums_in_order(np.asarray(miss_of)[key] if len(key) else np.zeros(0), end, key_start[size])
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
    df_src = Counter(itertools.chain.from_iterable(src))
    df_tgt = Counter(itertools.chain.from_iterable(tgt))
    total = len(src) + len(tgt)
    top = math.log1p(total / 2)
    weights = {k: math.log1p(total / (df_src[k] + df_tgt[k])) / top for k in df_src.keys() & df_tgt.keys()}
    for k in (df_src.keys() ^ df_tgt.keys()):
        if k.startswith(("n:", "f:")):
            weights[k] = min(1.0, math.log1p(total / (df_src[k] + df_tgt[k])) / top)
    return weights


# --- the cost of beads ------------------------------------------------------------------------------

_EMBED_CHUNK = 1 << 20  # vector components gathered at a time for the cosines of many beads


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

    def link(self, a: int, b: int, i: IntArray, j: IntArray) -> FloatArray:
        """Costs of the beads of source units [i-a, i) with target units [j-b, j), for paired arrays i, j.

        Beads that do not fit (i < a or j < b) cost infinity. Each bead's cost depends on its units
        only, never on the other beads asked for in the same call.
        """
        src, tgt = self.src, self.tgt
        x = src.length[a][i]
        y = tgt.length[b][j]
        mean = (x + y) / 2
        cost: FloatArray = (x - y) ** 2 / (2 * self.variance * mean + 2 * (_LENGTH_REL_SD * mean) ** 2)
        cost += _KIND_COST[src.kind[a][i], tgt.kind[b][j]]
        cost += _POSITION_COST * np.abs(tgt.position[b][j] - src.position[a][i])
        cost += tgt.miss[b][j]
        cost += self.shape_cost(a, b) + src.miss[a][i]
        self._subtract_shared(cost, a, b, i, j)
        if src.vectors is not None and tgt.vectors is not None:
            step = max(1, _EMBED_CHUNK // src.vectors[a].shape[1])
            for k in range(0, len(cost), step):
                cosine = np.einsum("ij,ij->i", tgt.vectors[b][j[k:k + step]], src.vectors[a][i[k:k + step]])
                relative = np.clip((cosine - self.embed_scale[0]) / self.embed_scale[1], -1.0, 2.0)
                cost[k:k + step] += _EMBED_WEIGHT * (0.5 - relative)
        cost[(i < a) | (j < b)] = np.inf
        return cost

    def shape_cost(self, a: int, b: int) -> float:
        return self.merge_cost * (a + b - 2) + _LARGE_BEAD_COST * max(0, a + b - 4)

    def _subtract_shared(self, cost: FloatArray, a: int, b: int, i: IntArray, j: IntArray) -> None:
        """Credit every bead for each source token its target window holds: a bonus, and no miss on either side.

        A bead's credits are taken off one after the other in the order of its tokens, so that its
        cost is the same whichever other beads are computed with it.
        """
        start = self.src.key_start[a][i]
        counts = self.src.key_start[a][i + 1] - start
        bead = np.repeat(np.arange(len(i)), counts)
        offsets = np.cumsum(counts) - counts
        keys = self.src.key_ids[a][np.arange(len(bead)) - np.repeat(offsets - start, counts)]
        wanted = keys * len(self.tgt.length[b]) + j[bead]
        codes = self.tgt.codes[b]
        at = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
        shared = codes[at] == wanted if len(codes) else np.zeros(len(wanted), dtype=bool)
        np.subtract.at(cost, bead[shared], self.credit[keys[shared]])


def _null_costs(lengths: FloatArray) -> FloatArray:
    """Cost of leaving each segment unaligned: less for short ones, as inserted labels and page chrome
    are short, and a merge would otherwise always absorb them at the cost of a little length."""
    return _NULL_COST * np.minimum(1.0, np.maximum(_NULL_FLOOR, np.sqrt(lengths / _LENGTH_UNIT)))


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


# --- the dynamic program ----------------------------------------------------------------------------


Span = tuple[int, int, int, int]  # source units [i0, i1), target units [j0, j1)

_LINK, _SRC_GAP, _TGT_GAP = range(3)  # states: the last bead links, or leaves source/target units alone
_PAD = max(b for _, b in _LINK_SHAPES)  # infinite columns before each stored row, for beads reaching left


def _band_cells(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Every cell of a band: its row, its column inside the row's band, and its target boundary."""
    width = hi - lo + 1
    rows = np.repeat(np.arange(len(lo)), width)
    inside = np.arange(len(rows)) - np.repeat(np.cumsum(width) - width, width)
    return rows, inside, lo[rows] + inside


def _dp(n: int, m: int, costs: _Costs, lo: IntArray, hi: IntArray) -> tuple[list[Span], float]:
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
    rows, inside, cols = _band_cells(lo, hi)
    links = np.full((len(_LINK_SHAPES), n + 1, widest), np.inf)
    for code, (a, b) in enumerate(_LINK_SHAPES):
        links[code, rows, inside] = costs.link(a, b, rows, cols)
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
    state = np.zeros((n + 1, widest), dtype=np.int8)  # state of the best
    link_state = np.zeros((n + 1, widest), dtype=np.int8)  # state of the best of link and source gap
    shape = np.full((n + 1, widest), -1, dtype=np.int8)
    extend = np.zeros((n + 1, widest), dtype=bool)
    run = np.zeros((n + 1, widest), dtype=np.int64)  # first target unit of the target gap ending here
    extend_next = np.concatenate([costs.tgt_extend_before[1:], costs.tgt_extend_before[-1:]])
    positions = np.arange(widest)
    for i in range(n + 1):
        w, first = int(width[i]), int(lo[i])
        if i == 0:
            linked = np.where(positions[:w] + first == 0, 0.0, np.inf)
            src_gap = np.full(w, np.inf)
            extended = np.zeros(w, dtype=bool)
        else:
            candidate = best[origin[:, i, None] + positions[:w]]
            candidate += links[:, i, :w]
            linked = candidate.min(axis=0)
            shape[i, :w] = candidate.argmin(axis=0)
            start = first - int(lo[i - 1]) + _PAD
            opened = best[(i - 1) * stride + start:(i - 1) * stride + start + w] + costs.src_open[i - 1]
            from_gap = gap[i - 1, start:start + w] + costs.src_extend[i - 1]
            src_gap = np.minimum(opened, from_gap)
            extended = from_gap < opened
        before = np.minimum(linked, src_gap)
        before_state = (src_gap < linked).view(np.int8)  # _LINK is 0 and _SRC_GAP 1
        # A target gap over units k..j-1 costs open[k] + extend[k+1..j-1]; best over k < j by a prefix minimum.
        starts = before + costs.tgt_open[first:first + w] - extend_next[first:first + w]
        prefix = np.minimum.accumulate(starts)
        renewed = np.zeros(w, dtype=np.int64)
        renewed[1:] = np.where(starts[1:] < prefix[:-1], positions[1:w], 0)
        tgt_gap = np.full(w, np.inf)
        tgt_gap[1:] = prefix[:-1] + costs.tgt_extend_before[first + 1:first + w]
        run[i, 1:w] = first + np.maximum.accumulate(renewed)[:-1]
        np.minimum(before, tgt_gap, out=best[i * stride + _PAD:i * stride + _PAD + w])
        gap[i, _PAD:_PAD + w] = src_gap
        state[i, :w] = np.where(tgt_gap < before, _TGT_GAP, before_state)
        link_state[i, :w] = before_state
        extend[i, :w] = extended
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
    while True:
        lo, hi = _band(lower, upper, m, margin)
        spans, cost = _dp(n, m, costs, lo, hi)
        if not _touches_edge(spans, lo, hi, m):
            return spans, cost
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


# --- anchors and the length ratio ----------------------------------------------------------------


def _anchor_chain(src: Sequence[frozenset[str]], tgt: Sequence[frozenset[str]]) -> list[tuple[int, int]]:
    """Longest monotone chain of unit pairs sharing a token that occurs once on each side."""
    def once(keys: Sequence[frozenset[str]]) -> dict[str, int]:
        counts = Counter(itertools.chain.from_iterable(keys))
        return {k: unit for unit, unit_keys in enumerate(keys) for k in unit_keys if counts[k] == 1}

    src_once, tgt_once = once(src), once(tgt)
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
    candidates = [total]
    for ratio in others:
        if ratio > 0 and all(max(ratio / c, c / ratio) > _RATIO_DISAGREEMENT for c in candidates):
            candidates.append(ratio)
    return candidates


# --- the two levels ---------------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _link_score(cost: float, units: int) -> float:
    """Score of a linking bead from its cost per aligned unit."""
    return _sigmoid(_SCORE_BIAS - _SCORE_SLOPE * cost / units)


def _unlinked_score(best_link_cost: float) -> float:
    """Score of a 1-0/0-1 bead from the cost of the best 1-1 link its unit could have had nearby."""
    return _sigmoid(_NULL_SCORE_BIAS + _NULL_SCORE_SLOPE * best_link_cost / 2)


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
    window_vectors: Mapping[int, FloatArray] | None = None  # by window size: see _by_window_end


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
    features = [_features(s) for s in content]
    return _Side(content, features, [f.numbers | f.names for f in features],
                 np.array([f.length for f in features], dtype=np.float64), None, (0.0, 1.0), 1.0)


def _with_vectors(src: _Side, tgt: _Side, embed: Embed) -> tuple[_Side, _Side]:
    """Both sides with the vectors of their segments and of their windows of 2-3 consecutive segments.

    Everything is embedded in one call (the cache computes only new texts). A window's text is its
    segments' texts joined, as vecalign and bertalign embed overlaps: the model reads a merged bead as
    one passage, which a mean of its segments' vectors does not capture (means of two vectors are
    closer to everything, so merged beads looked better than they are).
    """
    texts = [[s.text for s in side.segments] for side in (src, tgt)]
    windows = [[_WINDOW_JOIN.join(t[e - size:e]) for size in _WINDOW_SIZES for e in range(size, len(t) + 1)]
               for t in texts]
    matrix = np.asarray(embed(texts[0] + texts[1] + windows[0] + windows[1]), dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    n, m = len(texts[0]), len(texts[1])
    cosines = matrix[:n][:: max(1, n // _EMBED_SAMPLE)] @ matrix[n:n + m].T
    floor = float(cosines.mean())
    scale = (floor, max(float(cosines.max(axis=1).mean()) - floor, 1e-3))
    src_windows = _by_window_end(matrix[:n], matrix[n + m:n + m + len(windows[0])])
    tgt_windows = _by_window_end(matrix[n:n + m], matrix[n + m + len(windows[0]):])
    return (replace(src, vectors=matrix[:n], embed_scale=scale, window_vectors=src_windows),
            replace(tgt, vectors=matrix[n:n + m], embed_scale=scale, window_vectors=tgt_windows))


def _by_window_end(singles: FloatArray, windows: FloatArray) -> dict[int, FloatArray]:
    """Vectors of the windows of each size, as rows indexed by the window's end (rows before the first
    window's end are zero): the layout of ``_Windows``."""
    n, dim = singles.shape
    out = {1: np.concatenate([np.zeros((1, dim)), singles])}
    start = 0
    for size in _WINDOW_SIZES:
        count = max(0, n - size + 1)
        out[size] = np.concatenate([np.zeros((min(size, n + 1), dim)), windows[start:start + count]])
        start += count
    return out


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
    return [side.keys[ks[0]] if len(ks) == 1 else frozenset().union(*(side.keys[k] for k in ks)) for ks in members]


def _costs_for(src: _Units, tgt: _Units, weights: Mapping[str, float], sizes: Sequence[int] = _SIDE_SIZES,
               merge_cost: float = _MERGE_COST, scale: float = 1.0) -> _Costs:
    """Bead costs; ``scale`` is the source's length units per character.

    Gale-Church's variance grows with the length in characters, so in length units (the median segment
    measures _LENGTH_UNIT) it is larger where segments are short: the lengths of one- to three-word
    interface messages say little, those of long paragraphs much.
    """
    keys = sorted(weights)
    ids = {k: x for x, k in enumerate(keys)}
    miss_of = [weights[k] * _miss_cost(k) for k in keys]
    credit = np.array([weights[k] * (_MATCH_BONUS + 2 * _miss_cost(k)) for k in keys], dtype=np.float64)
    return _Costs(_windows(src, ids, miss_of, sizes), _windows(tgt, ids, miss_of, sizes), weights, credit,
                  src.null_cost, _GAP_EXTEND * src.null_cost, np.concatenate([tgt.null_cost, [np.inf]]),
                  np.concatenate([[0.0], np.cumsum(_GAP_EXTEND * tgt.null_cost)]), src.embed_scale,
                  merge_cost, _LENGTH_VARIANCE * scale)


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


def align_pair(src: Sequence[Segment], tgt: Sequence[Segment], *, embed: Embed | None = None) -> PairAlignment:
    """Align two documents: section beads (section numbers) and segment beads (segment ordinals).

    Boilerplate segments appear in no bead; every other segment is in exactly one segment bead and
    every section with content in exactly one section bead, in document order on both sides.
    ``embed`` maps texts to sentence vectors (one row per text) and adds their cosine to the cost.

    The sections are aligned first; the segment alignment then runs over the whole document in a band
    around the aligned section groups (or around anchors, if the section alignment leaves much content
    unaligned, e.g. when one side has no headings), widened wherever the best path reaches its edge.
    The reported section beads are the sections the segment beads join, so both levels agree.

    The result does not depend on which document is given first: the pair is aligned with the
    document that has more content as the source (see ``_leads``), and the beads are then given with
    ``src`` as their source, unaligned source units before unaligned target units where they meet.
    """
    method = _METHOD_BASE + (",embed" if embed is not None else "")
    if _leads(tgt, src):
        sections, segments = _align_oriented(tgt, src, embed)
        sections, segments = _mirrored(sections), _mirrored(segments)
    else:
        sections, segments = _align_oriented(src, tgt, embed)
    return PairAlignment(_sources_first(sections), _sources_first(segments), method)


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
    if embed is not None:
        s_side, t_side = _with_vectors(s_side, t_side, embed)
    chain = _anchor_chain(s_side.keys, t_side.keys)
    s_secs, t_secs = _sections(s_side), _sections(t_side)
    # Token weights depend on the texts only, not on the length ratio tried.
    weights = (_key_weights(_member_keys(s_side, s_secs.members), _member_keys(t_side, t_secs.members)),
               _key_weights(s_side.keys, t_side.keys))
    _, sections, segments = min(
        (_align_scaled(s_side, t_side, s_secs, t_secs, weights, chain, ratio)
         for ratio in _ratio_candidates(s_side, t_side, chain)),
        key=lambda result: result[0],
    )
    return sections, segments


def _align_scaled(s_side: _Side, t_side: _Side, s_secs: _Sections, t_secs: _Sections,
                  weights: tuple[Mapping[str, float], Mapping[str, float]], chain: Sequence[tuple[int, int]],
                  ratio: float) -> tuple[float, list[Bead], list[Bead]]:
    """Section and segment beads for one estimate of the length ratio, and the segment alignment's cost."""
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
        spans, cost = _banded_dp(seg_costs, n, m, *_expected_path(n, m, points))
    spans = _with_unaligned_absorbed(spans, seg_costs, _short_sentences(s_side, s_side.scale),
                                     _short_sentences(t_side, t_side.scale))
    spans = _with_title_variants(spans, [s.kind == "title" for s in s_side.segments],
                                 [s.kind == "title" for s in t_side.segments])
    groups = _section_groups(spans, s_secs, t_secs)
    if not sections_agree:
        groups = _unlinked_joined(groups)
    sections = _section_beads(groups, s_side, t_side, s_secs, t_secs, sec_costs.weights)
    return cost, sections, _segment_beads(spans, s_side, t_side, seg_costs)


def _linking(span: Span) -> bool:
    return span[1] > span[0] and span[3] > span[2]


def _evidence_cost(costs: _Costs, span: Span) -> float:
    """Cost of a linking span without its shape's prior: how well its two sides match."""
    i0, i1, j0, j1 = span
    a, b = i1 - i0, j1 - j0
    return float(costs.link(a, b, np.array([i1]), np.array([j1]))[0]) - costs.shape_cost(a, b)


def _short_sentences(side: _Side, scale: float) -> list[bool]:
    """Which segments are short whole sentences (ending with a sentence terminal of any script)."""
    return [f.length * scale < _SHORT_SENTENCE and bool(_SENTENCE_END.search(s.text))
            for s, f in zip(side.segments, side.features, strict=True)]


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


def _centres(units: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(i + 0.5, j + 0.5) for i, j in units]


def _monotone(points: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Points kept only while both coordinates strictly increase."""
    out: list[tuple[int, int]] = []
    for i, j in sorted(points):
        if not out or (i > out[-1][0] and j > out[-1][1]):
            out.append((i, j))
    return out
