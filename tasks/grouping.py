"""Which work is this? Grouping translations of one text when no folder says so.

Translations share almost no words but many *anchors*: numbers, and names, acronyms and terms written
in Latin script, or transliterated into another script. Document aligners of web-crawl pipelines pair
documents on such evidence when no translation model is at hand. A :class:`WorkProfile` keeps a
document's anchors with where they occur (percent of its content length): the same anchors in another
arrangement make another text.

Evidence between two profiles is weighted:

* an anchor found in both, at roughly the same place, is *shared* (half as much when it is all over
  both texts: the topic's vocabulary more than this text's mark);
* an anchor of one side that the other lacks is *missing*, by how rarely a translator drops it:
  numbers of two digits or more count double, acronyms and mixed-case or digit-bearing tokens fully,
  and so do names written in Latin script inside a text of another script; capitalised words of a
  Latin-script text count a little (they are often translated: "China", "Chief Executive"); one-digit
  numbers (often spelt out) and transliterations not at all;
* a word of another script (``anyascii`` of Devanagari, Cyrillic, Han...) is shared with a Latin token
  of the other side when their normalised spellings agree ("अलीबाबाचे" starts with "alibaba");
* with ``rarity``, an anchor that many works share ("AI", this year) counts less;
* the *outlines* of the two sides (the lengths of their content segments) count as shared evidence when two
  of them have as many segments and their lengths rise and fall together (:func:`_outline_evidence`): texts
  without numbers or Latin-script names are grouped by it.

``similarity = shared / (shared + missing + prior)``, where ``missing`` is that of the side missing
less: a document is compared with a work's representative, the merge of its documents, whose anchors
are the union of every language's, so only the document's own misses say something. The prior keeps
one or two shared anchors from making a confident match.

:class:`WorkIndex` compares a new document with one representative per work, shortlisted through an
inverted index over the document's rarer anchors, so that placing a document costs about the same
with 1,000 works as with 10. A work that already has the document's language is never a candidate.

Order: :func:`group_documents` places documents in a canonical order (richest profile first, then by
id), in two passes (the first learns how many works share each anchor, the second groups with that
rarity), so its grouping depends only on the set of documents. Placing documents one at a time with
:meth:`WorkIndex.place` in arrival order merges works a document reveals to be one, and gives the same
grouping whenever every decision is clear-cut; the evaluation (``python -m eval.grouping``) measures
how often random arrival orders agree with the canonical grouping.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex

from tasks.anchors import FIRM, SOFT, WEAK, Anchor, cross_key, cross_spellings, latin_anchors, number_values
from tasks.segment import Segment

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "AnchorRarity",
    "Assignment",
    "Rarity",
    "WorkIndex",
    "WorkProfile",
    "assign_work",
    "group_documents",
    "merge_profiles",
    "profile_document",
    "similarity",
]

UNDETERMINED = "und"
DEFAULT_THRESHOLD = 0.35
DEFAULT_MARGIN = 0.1

Rarity = Callable[[str], float]  # anchor key -> how much its evidence counts, 0-1


@dataclass(frozen=True, slots=True)
class WorkProfile:
    """Language-independent fingerprint of a document, or of a work (the merge of its documents).

    ``anchors`` maps a key to the positions where it occurs, as sorted bytes of percent of the content
    length (0-100): ``n:2025`` a number, ``w:alibaba`` a Latin-script token. ``spellings`` maps the
    transliterations of words of other scripts (and their prefixes, for inflected forms) the same way.
    """

    langs: frozenset[str]
    anchors: Mapping[str, bytes]
    spellings: Mapping[str, bytes]
    soft: frozenset[str]  # keys that count little when the other side lacks them
    weak: frozenset[str]  # keys that count when shared, never when missing
    # Of each document: the lengths of its content segments (letters and digits), in order, negative for
    # titles and headings; see _outline_evidence.
    outlines: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a document goes: ``work_id`` None means it starts a new work."""

    work_id: str | None
    confidence: float  # similarity to the best candidate work (0 without candidates)
    runner_up_confidence: float  # similarity to the best competing work (0 without one)
    merge_with: tuple[str, ...] = ()  # fragments of the same work, to merge into work_id


# --- anchors ------------------------------------------------------------------------------------------

_LETTER = regex.compile(r"\p{L}")
_LATIN_LETTER = regex.compile(r"\p{Latin}")
_OUTLINE_CHARS = regex.compile(r"[\p{L}\p{N}]")

# What a key costs when the other side lacks it (see the module docstring); anchors are read by tasks.anchors.
_FIRM, _SOFT, _WEAK = FIRM, SOFT, WEAK


def _numbers(text: str, position: int) -> list[Anchor]:
    return [Anchor("n:" + value, position, _FIRM if len(value) > 1 else _WEAK) for value in number_values(text)]


def _latin_tokens(positioned: Sequence[tuple[Segment, int]], latin_text: bool) -> list[Anchor]:
    return latin_anchors([(s.text, s.kind in ("title", "heading"), position) for s, position in positioned],
                         latin_text)


def _transliterated(text: str, position: int) -> list[tuple[str, int]]:
    return [(key, position) for key in sorted(cross_spellings(text))]


def _positioned(segments: Sequence[Segment]) -> list[tuple[Segment, int]]:
    """Content segments with the percent of the content length at their middle."""
    content = [s for s in segments if s.kind != "boilerplate"]
    lengths = [max(1, len("".join(s.text.split()))) for s in content]
    total = sum(lengths)
    positioned = []
    before = 0
    for segment, length in zip(content, lengths, strict=True):
        positioned.append((segment, round(100 * (before + length / 2) / total)))
        before += length
    return positioned


def profile_document(segments: Sequence[Segment], lang: str) -> WorkProfile:
    """Fingerprint of one document: its anchors and where they occur. Boilerplate is left out."""
    positioned = _positioned(segments)
    letters = sum(len(_LETTER.findall(s.text)) for s, _ in positioned)
    latin = sum(len(_LATIN_LETTER.findall(s.text)) for s, _ in positioned)
    tokens = _latin_tokens(positioned, latin_text=latin * 2 > letters)
    spellings: defaultdict[str, set[int]] = defaultdict(set)
    for segment, position in positioned:
        tokens += _numbers(segment.text, position)
        for spelling, at in _transliterated(segment.text, position):
            spellings[spelling].add(at)
    places: defaultdict[str, set[int]] = defaultdict(set)
    miss: defaultdict[str, float] = defaultdict(float)
    for token in tokens:
        places[token.key].add(token.position)
        miss[token.key] = max(miss[token.key], token.miss)
    return WorkProfile(
        langs=frozenset({lang}),
        anchors=_sorted_places(places),
        spellings=_sorted_places(spellings),
        soft=frozenset(k for k, m in miss.items() if m == _SOFT),
        weak=frozenset(k for k, m in miss.items() if m == _WEAK),
        outlines=(_outline(segments),),
    )


def _outline(segments: Sequence[Segment]) -> tuple[int, ...]:
    return tuple(max(1, len(_OUTLINE_CHARS.findall(s.text))) * (-1 if s.kind in ("title", "heading") else 1)
                 for s in segments if s.kind != "boilerplate")


def _sorted_places(places: Mapping[str, Iterable[int]]) -> dict[str, bytes]:
    return {key: bytes(sorted(set(positions))) for key, positions in sorted(places.items())}


def _merge_places(a: Mapping[str, bytes], b: Mapping[str, bytes]) -> dict[str, bytes]:
    return _sorted_places({key: a.get(key, b"") + b.get(key, b"") for key in a.keys() | b.keys()})


def merge_all_profiles(profiles: Sequence[WorkProfile]) -> WorkProfile:
    """``merge_profiles`` of several profiles at once (the same result as merging them one by one)."""
    if len(profiles) == 1:
        return profiles[0]
    anchors: defaultdict[str, bytearray] = defaultdict(bytearray)
    spellings: defaultdict[str, bytearray] = defaultdict(bytearray)
    firm: set[str] = set()
    soft: set[str] = set()
    for profile in profiles:
        for key, places in profile.anchors.items():
            anchors[key] += places
        for key, places in profile.spellings.items():
            spellings[key] += places
        firm |= profile.anchors.keys() - profile.soft - profile.weak
        soft |= profile.soft
    merged_anchors = _sorted_places(anchors)
    return WorkProfile(
        langs=frozenset().union(*(p.langs for p in profiles)),
        anchors=merged_anchors,
        spellings=_sorted_places(spellings),
        soft=frozenset(soft - firm),
        weak=frozenset(merged_anchors.keys() - firm - (soft - firm)),
        outlines=_merge_outlines(*(p.outlines for p in profiles)),
    )


def merge_profiles(a: WorkProfile, b: WorkProfile) -> WorkProfile:
    """Profile of the work made of the documents of both (commutative and associative).

    An anchor is as firm as its firmest occurrence, and occurs where it occurs in any document.
    """
    anchors = _merge_places(a.anchors, b.anchors)
    firm = (a.anchors.keys() - a.soft - a.weak) | (b.anchors.keys() - b.soft - b.weak)
    soft = (a.soft | b.soft) - firm
    return WorkProfile(
        langs=a.langs | b.langs,
        anchors=anchors,
        spellings=_merge_places(a.spellings, b.spellings),
        soft=frozenset(soft),
        weak=frozenset(anchors.keys() - firm - soft),
        outlines=_merge_outlines(a.outlines, b.outlines),
    )


def _merge_outlines(*outlines: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """The members' outlines, once each, in a canonical order (merging is commutative)."""
    return tuple(sorted({o for group in outlines for o in group}))


# --- similarity ---------------------------------------------------------------------------------------

_POSITION_TOLERANCE = 25  # percent of the content length: translations stretch and drop sections
_PRIOR = 3.0
_NUMBER_MISS = 2.0
_SURE_CROSS = 8  # a transliteration shared over this many letters is as sure as an exact match
_SPREAD = 4  # places of both texts from which an anchor is "all over" them
_SPREAD_FACTOR = 0.5
_COMMON_WORKS = 5  # an anchor shared by this many more works counts half
_MIN_OUTLINE = 8  # segments: fewer give no evidence from the outline
_MAX_CORRELATION = 0.99
_OUTLINE_Z = 3.0
_OUTLINE_WEIGHT = 4.0


@lru_cache(maxsize=1 << 16)
def _weight(key: str) -> float:
    """Intrinsic weight: short numbers and tokens are more often shared by chance."""
    value = key[2:]
    if key.startswith("n:"):
        digits = sum(ch.isdigit() for ch in value)
        return 0.3 if digits == 1 else 0.6 if digits == 2 else 1.0
    return 0.4 if len(value) <= 2 else 0.7 if len(value) == 3 else 1.0


def _near(a: bytes, b: bytes | None) -> bool:
    """Whether some position of ``a`` is within the tolerance of some position of ``b``."""
    if not b:
        return False
    for x in a:
        i = bisect_left(b, x - _POSITION_TOLERANCE)
        if i < len(b) and b[i] <= x + _POSITION_TOLERANCE:
            return True
    return False


def _evidence(a: WorkProfile, b: WorkProfile, rarity: Rarity | None) -> tuple[float, float, float]:
    """Weights of a's anchors found in b exactly, found in b transliterated, and missing from b."""
    exact = cross = missing = 0.0
    for key, positions in a.anchors.items():
        weight = _weight(key) * (rarity(key) if rarity else 1.0)
        if _near(positions, b.anchors.get(key)):
            spread = len(positions) >= _SPREAD and len(b.anchors[key]) >= _SPREAD
            exact += weight * (_SPREAD_FACTOR if spread else 1.0)
        elif (spelling := cross_key(key)) and _near(positions, b.spellings.get(spelling)):
            # The longer the shared spelling, the less likely a chance likeness of two words.
            cross += weight * min(1.0, len(spelling) / _SURE_CROSS)
        elif key in a.soft:
            missing += weight * _SOFT
        elif key not in a.weak:
            missing += weight * (_NUMBER_MISS if key.startswith("n:") else _FIRM)
    return exact, cross, missing


def similarity(a: WorkProfile, b: WorkProfile, rarity: Rarity | None = None) -> float:
    """How confidently two profiles are translations of one work, 0-1 (symmetric).

    ``rarity`` scales each anchor's evidence by how rare it is in the corpus (:class:`AnchorRarity`);
    without it every anchor counts fully.
    """
    exact, cross_ab, missing_a = _evidence(a, b, rarity)
    _, cross_ba, missing_b = _evidence(b, a, rarity)
    shared = exact + cross_ab + cross_ba + _outline_evidence(a, b)
    return shared / (shared + min(missing_a, missing_b) + _PRIOR)


def _log_length_deviations(outline: Sequence[int]) -> list[float]:
    """Log length of each segment minus the mean of its kind's (headings, other segments) in the document:
    every text has short headings and long paragraphs, only a translation has them long and short alike."""
    logs = [math.log(abs(n)) for n in outline]
    means = {}
    for heading in (True, False):
        kind = [v for v, n in zip(logs, outline, strict=True) if (n < 0) == heading]
        means[heading] = sum(kind) / len(kind) if kind else 0.0
    return [v - means[n < 0] for v, n in zip(logs, outline, strict=True)]


def _log_length_correlation(a: Sequence[int], b: Sequence[int]) -> float:
    x, y = _log_length_deviations(a), _log_length_deviations(b)
    sxy = sum(p * q for p, q in zip(x, y, strict=True))
    sxx = sum(p * p for p in x)
    syy = sum(q * q for q in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def _outline_evidence(a: WorkProfile, b: WorkProfile) -> float:
    """Evidence of one text from the outlines alone, for texts with few anchors (no numbers, no names).

    A translation keeps the text's paragraphs: as many, and long where the original is long. Between two
    outlines with as many segments (at least _MIN_OUTLINE), the correlation of the log lengths is about 0.9
    for translations and about 0 for two texts; its Fisher z-score (standard normal for two unrelated texts)
    gives the evidence, worth up to _OUTLINE_WEIGHT anchors from _OUTLINE_Z standard deviations on.
    """
    best = 0.0
    for x in a.outlines:
        for y in b.outlines:
            if len(x) == len(y) >= _MIN_OUTLINE:
                r = min(_log_length_correlation(x, y), _MAX_CORRELATION)
                best = max(best, math.atanh(r) * math.sqrt(len(x) - 3)) if r > 0 else best
    return _OUTLINE_WEIGHT * min(1.0, max(0.0, (best - _OUTLINE_Z) / _OUTLINE_Z))


def _rarity(works_with: int) -> float:
    return 1.0 / (1.0 + max(0, works_with - 1) / _COMMON_WORKS)


@dataclass(frozen=True, slots=True)
class AnchorRarity:
    """Rarity of anchors from the number of works each occurs in: 1 in one work, 1/2 in six."""

    works_with: Mapping[str, int]

    def __call__(self, key: str) -> float:
        return _rarity(self.works_with.get(key, 0))


def _compatible(profile: WorkProfile, work: WorkProfile) -> bool:
    """Whether they share no language (an undetermined one conflicts with nothing)."""
    return not (profile.langs - {UNDETERMINED}) & work.langs


def assign_work(
    profile: WorkProfile,
    candidates: Iterable[tuple[str, WorkProfile]],
    threshold: float = DEFAULT_THRESHOLD,
    margin: float = DEFAULT_MARGIN,
    rarity: Rarity | None = None,
) -> Assignment:
    """The work a document (or a work) joins among candidate works that lack its languages.

    It joins the most similar one if the similarity reaches ``threshold`` and no other candidate comes
    within ``margin`` of it; else it starts a new work (``work_id`` None). Candidates within the margin
    are no competitors when they are fragments of the best one (translations that matched nothing when
    they came, and that the document bridges): no two of them have a language in common, and each
    matches the best one merged with the document. The document then joins them all (``merge_with``).
    """
    reps = {work_id: rep for work_id, rep in candidates if _compatible(profile, rep)}
    scores = sorted(((similarity(profile, rep, rarity), work_id) for work_id, rep in reps.items()),
                    key=lambda item: (-item[0], item[1]))
    if not scores:
        return Assignment(None, 0.0, 0.0)
    best, work_id = scores[0]
    contenders = [w for score, w in scores[1:] if best - score < margin]
    bridged = merge_profiles(reps[work_id], profile) if contenders else profile
    fragments = (
        best >= threshold
        and all(_compatible(reps[a], reps[b]) for a, b in itertools.combinations([work_id, *contenders], 2))
        and all(similarity(bridged, reps[w], rarity) >= threshold for w in contenders)
    )
    others = [score for score, w in scores[1:] if not fragments or w not in contenders]
    runner_up = round(others[0], 6) if others else 0.0
    if not fragments:
        return Assignment(None, round(best, 6), runner_up)
    return Assignment(work_id, round(best, 6), runner_up, tuple(sorted(contenders)))


# --- the index ------------------------------------------------------------------------------------------

_SHORTLIST = 8
# Anchors found in more works than this share of the index (and at least _COMMON_MIN works) do not
# shortlist: they are everywhere, and their posting lists would make placing a document slow.
_COMMON_SHARE = 0.1
_COMMON_MIN = 20


def _postings(profile: WorkProfile) -> Iterable[str]:
    """Keys a work is found under: its anchors, the cross spellings of its Latin tokens ("x:"), and its
    transliterations ("t:")."""
    for key in profile.anchors:
        yield key
        if spelling := cross_key(key):
            yield "x:" + spelling
    for spelling in profile.spellings:
        yield "t:" + spelling
    for outline in profile.outlines:
        yield _outline_key(outline)


def _outline_key(outline: Sequence[int]) -> str:
    """The posting of works with an outline of this many segments ("o:"): texts without anchors meet there."""
    return f"o:{len(outline)}"


def _lookups(profile: WorkProfile) -> Iterable[tuple[str, str]]:
    """(key, posting) pairs that find the works sharing an anchor with the profile, in any script."""
    for key in profile.anchors:
        yield key, key
        if spelling := cross_key(key):
            yield key, "t:" + spelling
    for spelling in profile.spellings:
        yield "w:" + spelling, "x:" + spelling
    for outline in profile.outlines:
        if len(outline) >= _MIN_OUTLINE:
            yield _outline_key(outline), _outline_key(outline)


class WorkIndex:
    """Works, their documents and representative profiles, with an inverted index from anchors to works.

    Works added with :meth:`add` are *given* (a folder, an earlier build): two given works are never
    merged. :meth:`place` puts a document into the work it matches, or into a new work named after the
    document, then merges that work with another whenever their representatives now match (the
    document may bridge a work founded by a translation that matched nothing at first).
    """

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, margin: float = DEFAULT_MARGIN, rarity: Rarity | None = None,
    ) -> None:
        """``rarity`` fixes how much each anchor counts; by default, from the works in the index."""
        self.threshold = threshold
        self.margin = margin
        self._fixed_rarity = rarity
        self._works: dict[str, WorkProfile] = {}
        self._members: dict[str, list[str]] = {}
        self._work_of: dict[str, str] = {}
        self._given: set[str] = set()
        self._postings: defaultdict[str, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._works)

    @property
    def works(self) -> Mapping[str, WorkProfile]:
        """Representative profile of every work."""
        return self._works

    def members(self, work_id: str) -> tuple[str, ...]:
        return tuple(self._members[work_id])

    def assignments(self) -> dict[str, str]:
        """Work of every document."""
        return dict(self._work_of)

    def rarity(self, key: str) -> float:
        if self._fixed_rarity is not None:
            return self._fixed_rarity(key)
        return _rarity(len(self._postings.get(key, ())))

    def add(self, work_id: str, doc_id: str, profile: WorkProfile) -> None:
        """Add a document to a given work (created if new), without matching."""
        self._given.add(work_id)
        self._join(work_id, [doc_id], profile)

    def add_work(self, work_id: str, documents: Sequence[tuple[str, WorkProfile]]) -> None:
        """Add the documents of a given work at once (as ``add`` one by one, faster)."""
        self._given.add(work_id)
        self._join(work_id, [doc_id for doc_id, _ in documents], merge_all_profiles([p for _, p in documents]))

    def shortlist(self, profile: WorkProfile, size: int = _SHORTLIST, exclude: str = "") -> list[str]:
        """Works without the profile's languages that share the most rare anchors with it (idf)."""
        total = len(self._works)
        common = max(_COMMON_MIN, _COMMON_SHARE * total)
        scores: defaultdict[str, float] = defaultdict(float)
        for key, lookup in _lookups(profile):
            works = self._postings.get(lookup)
            if not works or len(works) > common:
                continue
            weight = _weight(key) * math.log(1 + total / len(works))
            for work_id in works:
                scores[work_id] += weight
        ranked = ((score, work_id) for work_id, score in scores.items()
                  if work_id != exclude and _compatible(profile, self._works[work_id]))
        return [work_id for _, work_id in heapq.nlargest(size, ranked)]

    def best_match(self, profile: WorkProfile, exclude: str = "") -> Assignment:
        """The work the profile belongs to among the shortlisted ones (None: a new work)."""
        candidates = [(work_id, self._works[work_id]) for work_id in self.shortlist(profile, exclude=exclude)]
        return assign_work(profile, candidates, self.threshold, self.margin, self.rarity)

    def place(self, doc_id: str, profile: WorkProfile) -> str:
        """Put a document into its work, merging works it reveals to be one; return its work id."""
        match = self.best_match(profile)
        work_id = doc_id if match.work_id is None else self._merge_all(match.work_id, match.merge_with)
        self._join(work_id, [doc_id], profile)
        while True:
            match = self.best_match(self._works[work_id], exclude=work_id)
            mergeable = [w for w in (match.work_id, *match.merge_with)
                         if w is not None and not (w in self._given and work_id in self._given)]
            if not mergeable:
                return work_id
            work_id = self._merge_all(work_id, mergeable)

    def _join(self, work_id: str, doc_ids: Sequence[str], profile: WorkProfile) -> None:
        current = self._works.get(work_id)
        self._works[work_id] = profile if current is None else merge_profiles(current, profile)
        self._members.setdefault(work_id, []).extend(doc_ids)
        for doc_id in doc_ids:
            self._work_of[doc_id] = work_id
        for posting in _postings(profile):
            self._postings[posting].add(work_id)

    def _merge_all(self, work_id: str, others: Iterable[str]) -> str:
        for other in others:
            if not (other in self._given and work_id in self._given):
                work_id = self._merge(work_id, other)
        return work_id

    def _merge(self, a: str, b: str) -> str:
        """Merge two works; the survivor is the given one, else the larger one, else the smaller id."""
        survivor, absorbed = sorted((a, b), key=lambda w: (w not in self._given, -len(self._members[w]), w))
        profile = self._works.pop(absorbed)
        for posting in _postings(profile):
            self._postings[posting].discard(absorbed)
        self._given.discard(absorbed)
        self._join(survivor, self._members.pop(absorbed), profile)
        return survivor


def _richness(profile: WorkProfile) -> float:
    return sum(_weight(key) for key in profile.anchors if key not in profile.weak)


def group_documents(
    profiles: Mapping[str, WorkProfile],
    threshold: float = DEFAULT_THRESHOLD,
    margin: float = DEFAULT_MARGIN,
) -> dict[str, str]:
    """Work of every document (by id); a work is named after one of its documents.

    Documents are placed richest profile first, then by id, so the result does not depend on the order
    of ``profiles``. The first pass learns how many works share each anchor; the second groups again
    with that rarity, which the first could only learn as it went.
    """
    order = sorted(profiles, key=lambda doc_id: (-_richness(profiles[doc_id]), doc_id))
    first = WorkIndex(threshold, margin)
    for doc_id in order:
        first.place(doc_id, profiles[doc_id])
    works_with = Counter(key for rep in first.works.values() for key in rep.anchors)
    second = WorkIndex(threshold, margin, AnchorRarity(works_with))
    for doc_id in order:
        second.place(doc_id, profiles[doc_id])
    return second.assignments()
