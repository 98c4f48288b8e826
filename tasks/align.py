"""Alignment of two documents of the same work: sections first, then n-to-m segment beads.

``align_pair`` is a pure, deterministic function from two segment lists to beads, in two levels.
The sections are aligned first (headings and the title block are strong anchors); the segments are
then aligned over the whole document, in a band around the aligned section groups, so that a wrong
or impossible section alignment (one side without headings) cannot trap them: wherever the best
path reaches the band's edge the band is widened and the program run again. The reported section
beads are the sections the segment beads join, so both levels always agree.

Both levels run one dynamic program over the bead shapes 0-1, 1-0, 1-1, 1-2, 2-1, 2-2, 1-3 and 3-1,
vectorised along the band (so cost grows about linearly with length; a band around rare shared
tokens is used when the sections do not help). Runs of 1-0 or 0-1 beads have an affine cost (open,
then extend cheaper), because translations leave out whole passages, which otherwise cost more than
smearing the other side over them with merged beads.

The cost of a bead is a sum of penalties (lower is better), all usable across scripts without a
translation model:

* **length**: Gale-Church's model with the length ratio estimated for the pair. Lengths are
  non-space characters, the target's divided by the ratio, in units of 1/100 of the median segment;
  the cost is the squared normal deviate of the difference, whose variance grows with length
  (Gale-Church's 6.8 per unit) plus a relative floor, because loose translations differ by a
  proportion that does not shrink for long segments. The ratio is that of the total lengths, unless
  the anchors or the heading lengths disagree (a large omission): then each estimate is tried and
  the cheapest alignment kept.
* **numbers**: digits of any script (Devanagari, Thai, Arabic-Indic, full-width, ...) read as
  ASCII, decimal commas as points, CJK numerals written digit by digit ("二〇二五") and digits with a
  CJK multiplier ("30萬") read as values. A number shared by both sides of a bead lowers its cost; a
  number on one side only raises it, since translators rarely drop numbers.
* **names**: Latin-script tokens (names, acronyms, technical terms) shared by both sides, plus words
  of other scripts transliterated with ``anyascii`` and compared both exactly and by a consonant
  skeleton, so that a Devanagari or Han rendering of a Latin name matches it. Names often become
  pronouns in translation, so a name on one side only costs little, and names only count if both
  documents have them. Numbers and names are weighted by rarity (a token everywhere says nothing).
* **structure**: heading with heading is rewarded and heading with body text penalised (mildly:
  segmenters do not always agree on headings), a side mixing headings and body is penalised, a
  list item against a paragraph costs a little (translations turn paragraphs into bullets), and so
  does a different relative position inside the section group.
* **embeddings** (optional ``embed`` callable): the cosine of the two sides' mean vectors, placed
  between the pair's mean cosine (unrelated texts) and the mean cosine of each segment with its
  nearest segment on the other side (a typical match), since models differ in both.

Merged beads cost a prior per extra unit; leaving a segment unaligned costs less for short segments
(inserted labels and page chrome are short). A bead's score is a logistic function, fitted on the
seed pairs and synthetic damage, of its cost per unit: for a linking bead, how likely it is exactly
right; for a 1-0/0-1 bead, how likely it is that its unit has no counterpart, judged by the best 1-1
link it could have had nearby.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import regex
from anyascii import anyascii

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
_LINK_SHAPES: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1))
_MERGE_COST = 1.2  # per unit beyond 1-1: merges and splits are common in loose translations
_NULL_COST = 2.6  # per omitted or inserted segment of median length or more (sections: per segment)
_NULL_FLOOR = 0.4  # share of it for the shortest segments
_GAP_EXTEND = 0.5  # share of it for each further unit of a run of unaligned units

_LENGTH_UNIT = 100.0  # the median segment measures this many length units
_LENGTH_VARIANCE = 6.8  # Gale-Church: variance of the difference per length unit
_LENGTH_REL_SD = 0.3  # floor of the relative standard deviation of loose translations

_MATCH_BONUS = 2.0  # per shared rare token (weight 1)
_NUMBER_MISS = 1.2  # per number found on one side only
_NAME_MISS = 0.25  # per name found on one side only

_POSITION_COST = 1.0  # per unit of difference of relative position inside the section group
_EMBED_WEIGHT = 4.0  # from a typical best match (-half) to a typical unrelated pair (+half)
_EMBED_SAMPLE = 500  # source segments whose nearest target calibrates the cosines

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

_METHOD_BASE = "dp-sections+segments/len,num,latin,kind"


# --- features -------------------------------------------------------------------------------------

_NUMBER = regex.compile(r"(?<![\p{Latin}\d])\d+(?:[.,]\d+)*(?![\p{Latin}\d])")
_MULTIPLIED = regex.compile(r"(\d+(?:[.,]\d+)?)\s*([萬万億亿])")
# CJK numerals written digit by digit ("二〇二五"); positional ones ("三十萬") are number words, which
# are not read in any language.
_CJK_DIGIT_RUN = regex.compile(r"[〇零一二三四五六七八九]{2,}")
_CJK_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_LARGE_UNIT = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
_LATIN_TOKEN = regex.compile(r"\p{Latin}[\p{Latin}\d]*(?:-[\p{Latin}\d]+)*")
_HAN_RUN = regex.compile(r"\p{Han}+")
_OTHER_WORD = regex.compile(r"[^\p{Latin}\p{Han}\P{L}][\p{L}\p{M}]*")
_MIN_TRANSLITERATED = 3  # shorter transliterations are particles that match anything
_MAX_TRANSLITERATED = 20  # longer runs are phrases of unspaced scripts, not names
_VOWELS = str.maketrans("", "", "aeiouyh")
_SOUND_ALIKE = str.maketrans("cqvzm", "kkwsn")


def _ascii_digits(text: str) -> str:
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _number_key(token: str) -> str:
    return "n:" + token.replace(",", ".")


def _numbers(text: str) -> set[str]:
    text = _ascii_digits(text)
    keys = {_number_key(m.group()) for m in _NUMBER.finditer(text)}
    for m in _MULTIPLIED.finditer(text):
        keys.discard(_number_key(m.group(1)))
        multiplied = float(m.group(1).replace(",", ".")) * _CJK_LARGE_UNIT[m.group(2)]
        keys.add(_number_key(f"{multiplied:.0f}"))
    for m in _CJK_DIGIT_RUN.finditer(text):
        value = int("".join(str(_CJK_DIGIT[ch]) for ch in m.group()))
        if value >= 10:
            keys.add(_number_key(str(value)))
    return keys


def _skeleton(word: str) -> str:
    """A rough phonetic key: consonants only, with spellings that vary across romanisations merged."""
    w = word.lower().replace("ph", "f").translate(_SOUND_ALIKE)
    out = w[:1]
    for ch in w[1:].translate(_VOWELS):
        if ch != out[-1:]:
            out += ch
    return out


@lru_cache(maxsize=1 << 16)
def _latin_keys(token: str) -> frozenset[str]:
    capitalised = token[0].isupper()
    parts = [p.lower() for p in token.split("-") if len(p) >= 2]
    keys = {"w:" + "".join(parts)} if len(parts) > 1 else set()
    for part in parts:
        keys.add("w:" + part)
        if capitalised and len(skeleton := _skeleton(part)) >= 3:
            keys.add("l:" + skeleton)
    return frozenset(keys)


@lru_cache(maxsize=1 << 16)
def _han_keys(run: str) -> frozenset[str]:
    # Han transliterates to one pinyin syllable per character, the spelling names get in Latin
    # script; names are two or more syllables, so keys are syllable pairs ("Kai-fu" -> "kaifu"):
    # single syllables would match everything.
    syllables = [s.lower() for s in regex.findall(r"[A-Z][a-z]*", anyascii(run))]
    return frozenset("w:" + a + b for a, b in itertools.pairwise(syllables))


@lru_cache(maxsize=1 << 16)
def _other_script_keys(word: str) -> frozenset[str]:
    romanised = "".join(ch for ch in anyascii(word).lower() if ch.isalpha())
    if not _MIN_TRANSLITERATED <= len(romanised) <= _MAX_TRANSLITERATED:
        return frozenset()
    skeleton = _skeleton(romanised)
    # Inflected forms append suffixes to a transliterated name, hence the prefixes.
    return frozenset({"w:" + romanised} | {"t:" + skeleton[:k] for k in range(3, len(skeleton) + 1)})


def _name_keys(text: str) -> tuple[set[str], set[str]]:
    """Name keys of a text: those written in Latin script and those transliterated from others.

    Both carry exact ``w:`` keys (a transliteration can equal a Latin spelling). Skeleton keys are
    kept apart (``l:`` Latin, ``t:`` transliterated) because they only make sense across scripts;
    a Latin word only gets one if capitalised, as names and acronyms are, so that ordinary words of
    a Latin-script text do not meet transliterated ordinary words by chance.
    """
    latin: set[str] = set()
    for m in _LATIN_TOKEN.finditer(text):
        latin |= _latin_keys(m.group())
    other: set[str] = set()
    for m in _HAN_RUN.finditer(text):
        other |= _han_keys(m.group())
    for m in _OTHER_WORD.finditer(text):
        other |= _other_script_keys(m.group())
    return latin, other


@dataclass(frozen=True, slots=True)
class _SegmentFeatures:
    length: float
    kind: int
    numbers: frozenset[str]
    names: frozenset[str]


_KIND_OF = {"title": _HEAD, "heading": _HEAD, "paragraph": _PARA, "list_item": _ITEM}


def _features(segment: Segment, swap_scripts: bool) -> _SegmentFeatures:
    latin, other = _name_keys(segment.text)
    if swap_scripts:
        # The target's Latin skeletons must meet the source's transliterated ones and vice versa.
        latin = {"t:" + k[2:] if k.startswith("l:") else k for k in latin}
        other = {"l:" + k[2:] if k.startswith("t:") else k for k in other}
    return _SegmentFeatures(
        length=float(max(1, len("".join(segment.text.split())))),
        kind=_KIND_OF[segment.kind],
        numbers=frozenset(_numbers(segment.text)),
        names=frozenset(latin | other),
    )


# --- units: what one level's dynamic program aligns -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Units:
    """One side of a dynamic program: segments, or sections made of segments."""

    length: FloatArray  # in common length units
    kind: IntArray
    numbers: list[frozenset[str]]
    names: list[frozenset[str]]
    position: FloatArray  # relative position of the unit's start inside its group, 0-1
    vectors: FloatArray | None  # unit-normalised rows, or None without embeddings
    embed_scale: tuple[float, float]  # see _Side
    null_cost: FloatArray  # cost of leaving the unit unaligned


def _window_kind(kinds: Iterable[int]) -> int:
    present = set(kinds)
    if present == {_HEAD}:
        return _HEAD
    if _HEAD in present:
        return _MIXED
    return present.pop() if len(present) == 1 else _BODY


@dataclass(frozen=True, slots=True)
class _Windows:
    """Aggregates of every window of 1-3 consecutive units of one side, indexed by the window's end."""

    length: dict[int, FloatArray]
    kind: dict[int, IntArray]
    kind_cost: dict[int, FloatArray]  # [kind of the other side's window, end]
    keys: dict[int, list[tuple[str, ...]]]  # tokens that count (see _key_weights)
    miss: dict[int, FloatArray]  # cost if none of the window's tokens were found on the other side
    position: dict[int, FloatArray]
    vectors: dict[int, FloatArray] | None
    index: dict[str, list[int]]  # token -> units containing it, ascending
    credit: dict[str, float]  # token -> cost taken off a bead whose two sides share it


def _miss_cost(key: str) -> float:
    return _NUMBER_MISS if key.startswith("n:") else _NAME_MISS


def _windows(units: _Units, weights: Mapping[str, float]) -> _Windows:
    n = len(units.length)
    unit_keys = [
        tuple(sorted(k for k in numbers | names if k in weights))
        for numbers, names in zip(units.numbers, units.names, strict=True)
    ]
    index: dict[str, list[int]] = defaultdict(list)
    for unit, present in enumerate(unit_keys):
        for key in present:
            index[key].append(unit)
    cumulative = np.concatenate([[0.0], np.cumsum(units.length)])
    ends = np.arange(n + 1)
    length, kind, kind_cost, window_keys, miss, position = {}, {}, {}, {}, {}, {}
    vectors: dict[int, FloatArray] | None = {} if units.vectors is not None else None
    for size in (1, 2, 3):
        starts = np.maximum(ends - size, 0)
        length[size] = np.where(ends >= size, cumulative - cumulative[starts], np.nan)
        kind[size] = np.array(
            [_window_kind(units.kind[e - size:e].tolist()) if e >= size else _MIXED for e in range(n + 1)],
            dtype=np.int64)
        kind_cost[size] = _KIND_COST[:, kind[size]]
        window_keys[size] = [
            tuple(sorted(set().union(*unit_keys[e - size:e]))) if e >= size else () for e in range(n + 1)
        ]
        miss[size] = np.array([sum(weights[k] * _miss_cost(k) for k in ks) for ks in window_keys[size]])
        position[size] = units.position[np.minimum(starts, max(n - 1, 0))] if n else np.zeros(1)
        if vectors is not None and units.vectors is not None:
            sums = np.zeros((n + 1, units.vectors.shape[1]))
            for e in range(size, n + 1):
                sums[e] = units.vectors[e - size:e].sum(axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            vectors[size] = sums / np.where(norms > 0, norms, 1.0)
    credit = {k: weights[k] * (_MATCH_BONUS + 2 * _miss_cost(k)) for k in index}
    return _Windows(length, kind, kind_cost, window_keys, miss, position, vectors, dict(index), credit)


def _key_weights(src: Sequence[frozenset[str]], tgt: Sequence[frozenset[str]]) -> dict[str, float]:
    """Rarity weights (1 for a token in one unit per side, less when frequent) of the tokens that count.

    Names count only if both documents have them (a name may be rendered in a way no key matches);
    numbers also count when one document lacks them, as evidence of an omission.
    """
    df_src: dict[str, int] = defaultdict(int)
    df_tgt: dict[str, int] = defaultdict(int)
    for keys in src:
        for k in keys:
            df_src[k] += 1
    for keys in tgt:
        for k in keys:
            df_tgt[k] += 1
    total = len(src) + len(tgt)
    top = math.log1p(total / 2)
    weights = {k: math.log1p(total / (df_src[k] + df_tgt[k])) / top for k in df_src.keys() & df_tgt.keys()}
    for k in (df_src.keys() ^ df_tgt.keys()):
        if k.startswith("n:"):
            weights[k] = min(1.0, math.log1p(total / (df_src[k] + df_tgt[k])) / top)
    return weights


# --- the cost of beads ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Costs:
    """Vectorised bead costs between the units of two sides."""

    src: _Windows
    tgt: _Windows
    weights: Mapping[str, float]
    src_open: FloatArray  # cost of leaving a source unit unaligned, first of a run
    src_extend: FloatArray  # the same, after another unaligned source unit
    tgt_open: FloatArray  # as src_open for target units, with an infinite last entry for position m
    tgt_extend_before: FloatArray  # cumulative extension cost of the target units before each position
    embed_scale: tuple[float, float]  # see _Side

    def link(self, a: int, i0: int, b: int, first: int, count: int) -> FloatArray:
        """Cost of beads of source units [i0, i0+a) with target units [j-b, j), first <= j < first+count."""
        i1 = i0 + a
        ends = slice(first, first + count)
        x = self.src.length[a][i1]
        y = self.tgt.length[b][ends]
        mean = (x + y) / 2
        cost: FloatArray = (x - y) ** 2 / (2 * _LENGTH_VARIANCE * mean + 2 * (_LENGTH_REL_SD * mean) ** 2)
        cost += self.tgt.kind_cost[b][self.src.kind[a][i1], ends]
        cost += _POSITION_COST * np.abs(self.tgt.position[b][ends] - self.src.position[a][i1])
        cost += self.tgt.miss[b][ends]
        cost += _shape_cost(a, b) + self.src.miss[a][i1]
        self._subtract_shared(cost, self.src.keys[a][i1], b, first)
        if self.src.vectors is not None and self.tgt.vectors is not None:
            cosine = self.tgt.vectors[b][ends] @ self.src.vectors[a][i1]
            relative = np.clip((cosine - self.embed_scale[0]) / self.embed_scale[1], -1.0, 2.0)
            cost += _EMBED_WEIGHT * (0.5 - relative)
        if first < b:
            cost[: b - first] = np.inf
        return cost

    def _subtract_shared(self, cost: FloatArray, keys: Sequence[str], b: int, first: int) -> None:
        """Credit every target window for the source tokens it shares: a bonus, and no miss on either side."""
        count = len(cost)
        index, credit = self.tgt.index, self.tgt.credit
        for key in keys:
            units = index.get(key)
            if units is None:
                continue
            # Windows [j-b, j) containing unit p end at j in p+1..p+b.
            start = bisect_left(units, first - b)
            stop = bisect_left(units, first + count, start)
            if start == stop:
                continue
            hit = {p + d - first for p in units[start:stop] for d in range(1, b + 1)}
            inside = [h for h in hit if 0 <= h < count]
            cost[inside] -= credit[key]


def _null_cost(length: float) -> float:
    """Cost of leaving a segment unaligned: less for short ones, as inserted labels and page chrome
    are short, and a merge would otherwise always absorb them at the cost of a little length."""
    return _NULL_COST * min(1.0, max(_NULL_FLOOR, math.sqrt(length / _LENGTH_UNIT)))


def _shape_cost(a: int, b: int) -> float:
    return _MERGE_COST * (a + b - 2)


# --- the dynamic program ----------------------------------------------------------------------------


Span = tuple[int, int, int, int]  # source units [i0, i1), target units [j0, j1)


def _take(row: FloatArray, lo: int, cols: IntArray) -> FloatArray:
    """Values of a banded row at columns cols (infinite outside its band)."""
    idx = cols - lo
    inside = (idx >= 0) & (idx < len(row))
    out = np.full(len(cols), np.inf)
    out[inside] = row[idx[inside]]
    return out


_LINK, _SRC_GAP, _TGT_GAP = range(3)  # states: the last bead links, or leaves source/target units alone


def _dp(n: int, m: int, costs: _Costs, lo: IntArray, hi: IntArray) -> tuple[list[Span], float]:
    """Cheapest monotone bead sequence from (0, 0) to (n, m) inside the band lo[i] <= j <= hi[i], and its cost.

    Runs of 1-0 (or 0-1) beads cost an opening cost for their first unit and a smaller extension cost
    for the others (an affine gap, as in sequence alignment): a translation that leaves out a whole
    passage is likelier than one that leaves out scattered sentences, and without it a long
    omission costs more than smearing the other side over it with merged beads.
    """
    best_rows: list[FloatArray] = []  # best over the three states
    gap_rows: list[FloatArray] = []  # best ending in a source gap
    state_rows: list[npt.NDArray[np.int8]] = []  # state of the best
    link_state_rows: list[npt.NDArray[np.int8]] = []  # state of the best of link and source gap
    shape_rows: list[npt.NDArray[np.int8]] = []
    extend_rows: list[npt.NDArray[np.bool_]] = []
    run_rows: list[IntArray] = []  # first target unit of the target gap ending here
    for i in range(n + 1):
        cols = np.arange(lo[i], hi[i] + 1, dtype=np.int64)
        width = len(cols)
        linked = np.where(cols == 0, 0.0, np.inf) if i == 0 else np.full(width, np.inf)
        shape = np.full(width, -1, dtype=np.int8)
        for code, (a, b) in enumerate(_LINK_SHAPES):
            if a > i:
                continue
            candidate = _take(best_rows[i - a], int(lo[i - a]), cols - b) + costs.link(a, i - a, b, int(lo[i]), width)
            better = candidate < linked
            linked[better] = candidate[better]
            shape[better] = code
        if i > 0:
            opened = _take(best_rows[i - 1], int(lo[i - 1]), cols) + costs.src_open[i - 1]
            extended = _take(gap_rows[i - 1], int(lo[i - 1]), cols) + costs.src_extend[i - 1]
            src_gap = np.minimum(opened, extended)
            extend = extended < opened
        else:
            src_gap = np.full(width, np.inf)
            extend = np.zeros(width, dtype=bool)
        before = np.minimum(linked, src_gap)
        before_state = np.where(src_gap < linked, _SRC_GAP, _LINK).astype(np.int8)
        # A target gap over units k..j-1 costs open[k] + extend[k+1..j-1]; best over k < j by a prefix minimum.
        starts = before + costs.tgt_open[cols] - costs.tgt_extend_before[np.minimum(cols + 1, m)]
        prefix = np.minimum.accumulate(starts)
        positions = np.arange(width)
        first_best = np.maximum.accumulate(np.where(starts < np.concatenate([[np.inf], prefix[:-1]]), positions, 0))
        tgt_gap = np.full(width, np.inf)
        tgt_gap[1:] = prefix[:-1] + costs.tgt_extend_before[cols[1:]]
        run = np.zeros(width, dtype=np.int64)
        run[1:] = cols[first_best[:-1]]
        best = np.minimum(before, tgt_gap)
        best_state = np.where(tgt_gap < before, _TGT_GAP, before_state).astype(np.int8)
        best_rows.append(best)
        gap_rows.append(src_gap)
        state_rows.append(best_state)
        link_state_rows.append(before_state)
        shape_rows.append(shape)
        extend_rows.append(extend)
        run_rows.append(run)
    spans: list[Span] = []
    i, j = n, m
    state = int(state_rows[n][m - lo[n]])
    while i > 0 or j > 0:
        at = j - lo[i]
        if state == _LINK:
            a, b = _LINK_SHAPES[shape_rows[i][at]]
            spans.append((i - a, i, j - b, j))
            i, j = i - a, j - b
            state = int(state_rows[i][j - lo[i]])
        elif state == _SRC_GAP:
            spans.append((i - 1, i, j, j))
            i -= 1
            state = _SRC_GAP if extend_rows[i + 1][at] else int(state_rows[i][j - lo[i]])
        else:
            k = int(run_rows[i][at])
            spans += [(i, i, t, t + 1) for t in range(j - 1, k - 1, -1)]
            j = k
            state = int(link_state_rows[i][j - lo[i]])
    spans.reverse()
    return spans, float(best_rows[n][m - lo[n]])


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
        seen: dict[str, int] = {}
        repeated: set[str] = set()
        for unit, unit_keys in enumerate(keys):
            for k in unit_keys:
                if k in seen:
                    repeated.add(k)
                seen[k] = unit
        return {k: u for k, u in seen.items() if k not in repeated}

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
        src_at = (np.cumsum(src_len) - src_len / 2)[[i for i, _ in chain]]
        tgt_at = (np.cumsum(tgt_len) - tgt_len / 2)[[j for _, j in chain]]
        others.append(float(np.median([
            (tgt_at[b] - tgt_at[a]) / (src_at[b] - src_at[a])
            for a in range(len(chain)) for b in range(a + 1, len(chain))
        ])))
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
    vectors: FloatArray | None
    # Cosines mean different things for different models: the pair's mean cosine (unrelated texts)
    # and its distance to the mean cosine of segments with their nearest other-side segment.
    embed_scale: tuple[float, float]
    scale: float  # length units per character


def _side(segments: Sequence[Segment], swap_scripts: bool) -> _Side:
    content = [s for s in segments if s.kind != "boilerplate"]
    return _Side(content, [_features(s, swap_scripts) for s in content], None, (0.0, 1.0), 1.0)


def _with_vectors(src: _Side, tgt: _Side, embed: Embed) -> tuple[_Side, _Side]:
    texts = [s.text for s in src.segments] + [s.text for s in tgt.segments]
    matrix = np.asarray(embed(texts), dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    n = len(src.segments)
    cosines = matrix[:n][:: max(1, n // _EMBED_SAMPLE)] @ matrix[n:].T
    floor = float(cosines.mean())
    scale = (floor, max(float(cosines.max(axis=1).mean()) - floor, 1e-3))
    return (replace(src, vectors=matrix[:n], embed_scale=scale), replace(tgt, vectors=matrix[n:], embed_scale=scale))


def _units(side: _Side, members: Sequence[Sequence[int]], groups: Sequence[int] | None = None) -> _Units:
    """Units made of the listed content segments; positions are relative to runs of equal group ids."""
    lengths = np.array([side.scale * sum(side.features[k].length for k in ks) for ks in members])
    vectors = None
    if side.vectors is not None:
        sums = np.array([side.vectors[list(ks)].sum(axis=0) for ks in members])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors = sums / np.where(norms > 0, norms, 1.0)
    return _Units(
        length=lengths,
        kind=np.array([_window_kind(side.features[k].kind for k in ks[:1]) for ks in members], dtype=np.int64),
        numbers=[frozenset().union(*(side.features[k].numbers for k in ks)) for ks in members],
        names=[frozenset().union(*(side.features[k].names for k in ks)) for ks in members],
        position=_relative_positions(lengths, groups if groups is not None else [0] * len(members)),
        vectors=vectors,
        embed_scale=side.embed_scale,
        null_cost=np.array([sum(_null_cost(side.scale * side.features[k].length) for k in ks) for ks in members]),
    )


def _relative_positions(lengths: FloatArray, groups: Sequence[int]) -> FloatArray:
    """Start of each unit as a fraction of the length of its group (a run of equal group ids)."""
    out = np.zeros(len(lengths))
    start = 0
    for end in range(1, len(lengths) + 1):
        if end == len(lengths) or groups[end] != groups[start]:
            run = lengths[start:end]
            out[start:end] = (np.cumsum(run) - run) / max(float(run.sum()), 1e-9)
            start = end
    return out


def _costs_for(src: _Units, tgt: _Units, weights: Mapping[str, float] | None = None) -> _Costs:
    if weights is None:
        weights = _key_weights(
            [a | b for a, b in zip(src.numbers, src.names, strict=True)],
            [a | b for a, b in zip(tgt.numbers, tgt.names, strict=True)],
        )
    return _Costs(_windows(src, weights), _windows(tgt, weights), weights, src.null_cost,
                  _GAP_EXTEND * src.null_cost, np.concatenate([tgt.null_cost, [np.inf]]),
                  np.concatenate([[0.0], np.cumsum(_GAP_EXTEND * tgt.null_cost)]), src.embed_scale)


def _null_score(costs: _Costs, side_is_src: bool, unit: int, other_at: int, other_n: int) -> float:
    """Confidence that a unit has no counterpart, from the best 1-1 link it could have had nearby."""
    lo, hi = max(0, other_at - 2), min(other_n, other_at + 2)
    if lo >= hi:
        return 1.0
    if side_is_src:
        best = float(np.min(costs.link(1, unit, 1, lo + 1, hi - lo)))
    else:
        best = min(float(costs.link(1, k, 1, unit + 1, 1)[0]) for k in range(lo, hi))
    return _unlinked_score(best)


def _segment_beads(spans: Sequence[Span], src: _Side, tgt: _Side, costs: _Costs) -> list[Bead]:
    beads = []
    for i0, i1, j0, j1 in spans:
        if i1 > i0 and j1 > j0:
            cost = float(costs.link(i1 - i0, i0, j1 - j0, j1, 1)[0])
            score = _link_score(cost, (i1 - i0) + (j1 - j0))
        elif i1 > i0:
            score = _null_score(costs, True, i0, j0, len(tgt.segments))
        else:
            score = _null_score(costs, False, j0, i0, len(src.segments))
        beads.append(Bead(tuple(src.segments[k].ordinal for k in range(i0, i1)),
                          tuple(tgt.segments[k].ordinal for k in range(j0, j1)), round(score, 6)))
    return beads


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
    def cost(s_idx: Sequence[int], t_idx: Sequence[int]) -> float:
        s_units = _units(src, [[k for x in s_idx for k in s_secs.members[x]]])
        t_units = _units(tgt, [[k for y in t_idx for k in t_secs.members[y]]])
        return float(_costs_for(s_units, t_units, weights).link(1, 0, 1, 1, 1)[0]) + _shape_cost(len(s_idx), len(t_idx))

    linking = [k for k, (s, t) in enumerate(groups) if s and t]
    beads = []
    for k, (s_idx, t_idx) in enumerate(groups):
        if s_idx and t_idx:
            score = _link_score(cost(s_idx, t_idx), len(s_idx) + len(t_idx))
        else:
            # An unlinked section is doubtful if it would link well with a neighbouring group's section.
            near = [g for g in linking if abs(g - k) <= 2]
            other = [x for g in near for x in (groups[g][1] if s_idx else groups[g][0])]
            alternatives = [cost(s_idx, [x]) if s_idx else cost([x], t_idx) for x in other]
            score = _unlinked_score(min(alternatives)) if alternatives else 1.0
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
    """
    s_side, t_side = _side(src, False), _side(tgt, True)
    method = _METHOD_BASE + (",embed" if embed is not None else "")
    n, m = len(s_side.segments), len(t_side.segments)
    if n == 0 or m == 0:
        return PairAlignment(
            sections=[Bead((x,), (), 1.0) for x in _sections(s_side).numbers]
            + [Bead((), (y,), 1.0) for y in _sections(t_side).numbers],
            segments=[Bead((s.ordinal,), (), 1.0) for s in s_side.segments]
            + [Bead((), (s.ordinal,), 1.0) for s in t_side.segments],
            method=method,
        )
    if embed is not None:
        s_side, t_side = _with_vectors(s_side, t_side, embed)
    chain = _anchor_chain([f.numbers | f.names for f in s_side.features],
                          [f.numbers | f.names for f in t_side.features])
    _, sections, segments = min(
        (_align_scaled(s_side, t_side, chain, ratio) for ratio in _ratio_candidates(s_side, t_side, chain)),
        key=lambda result: result[0],
    )
    return PairAlignment(sections, segments, method)


def _align_scaled(s_side: _Side, t_side: _Side, chain: Sequence[tuple[int, int]], ratio: float
                  ) -> tuple[float, list[Bead], list[Bead]]:
    """Section and segment beads for one estimate of the length ratio, and the segment alignment's cost."""
    n, m = len(s_side.segments), len(t_side.segments)
    s_len = [f.length for f in s_side.features]
    t_len = [f.length for f in t_side.features]
    unit = float(np.median(s_len + [x / ratio for x in t_len])) / _LENGTH_UNIT
    s_side, t_side = replace(s_side, scale=1.0 / unit), replace(t_side, scale=1.0 / (unit * ratio))

    s_secs, t_secs = _sections(s_side), _sections(t_side)
    sec_costs = _costs_for(_units(s_side, s_secs.members), _units(t_side, t_secs.members))
    sec_anchors = _monotone([(s_secs.of_segment[i], t_secs.of_segment[j]) for i, j in chain])
    n_sec, m_sec = len(s_secs.numbers), len(t_secs.numbers)
    sec_spans, _ = _banded_dp(sec_costs, n_sec, m_sec, *_expected_path(n_sec, m_sec, _centres(sec_anchors)))

    if _plausible(sec_spans, s_secs, t_secs):
        s_span = {x: k for k, (i0, i1, _, _) in enumerate(sec_spans) for x in range(i0, i1)}
        t_span = {y: k for k, (_, _, j0, j1) in enumerate(sec_spans) for y in range(j0, j1)}
        s_group = [s_span[x] for x in s_secs.of_segment]
        t_group = [t_span[y] for y in t_secs.of_segment]
        # Inside a group, anchors refine the path; anchors across groups contradict the sections.
        inside = [(i, j) for i, j in chain if s_group[i] == t_group[j]]
        points = sorted(_group_corners(sec_spans, s_secs, t_secs) + _centres(inside))
    else:
        s_group, t_group = [0] * n, [0] * m
        points = _centres(chain)
    seg_costs = _costs_for(_units(s_side, [[k] for k in range(n)], s_group),
                           _units(t_side, [[k] for k in range(m)], t_group))
    spans, cost = _banded_dp(seg_costs, n, m, *_expected_path(n, m, points))
    groups = _section_groups(spans, s_secs, t_secs)
    sections = _section_beads(groups, s_side, t_side, s_secs, t_secs, sec_costs.weights)
    return cost, sections, _segment_beads(spans, s_side, t_side, seg_costs)


def _centres(units: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    return [(i + 0.5, j + 0.5) for i, j in units]


def _monotone(points: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Points kept only while both coordinates strictly increase."""
    out: list[tuple[int, int]] = []
    for i, j in sorted(points):
        if not out or (i > out[-1][0] and j > out[-1][1]):
            out.append((i, j))
    return out
