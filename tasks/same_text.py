"""Are two documents that look like one language one text (in two close languages or spellings) or two texts?

A language tag or a letter-trigram profile cannot tell Malay from Indonesian, Serbian from Croatian, Hindi
from Marathi, or Simplified from Traditional Chinese: their texts look like one language. Their *words*
tell: a translation into a close language keeps many words of the other (cognates, terms, names), and keeps
them in the same order, at about the same place. Two different texts of one language share words too, but
the words each uses only once turn up at unrelated places.

:func:`text_shape` keeps the words a document uses exactly once, each with its place (share of the content
length, boilerplate left out); texts of unspaced scripts (Han, kana, Thai...) are read by letter pairs.
:func:`same_text` takes the words used once in both documents and finds the longest run of them that keeps
its order in both and stays near the diagonal; one text gives a run of nearly all of them, two texts a run
of a few. When the documents share too few such words to tell, their outline decides: one text has as many
headings and paragraphs, in the same order and of about the same relative lengths.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import regex

from tasks.segment import Segment

__all__ = ["TextShape", "same_text", "text_shape"]

_WORD = regex.compile(r"[\p{L}\p{M}]+")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_MIN_WORD = 4  # letters: shorter words are particles every text of a language has

_MIN_SHARED = 5  # shared words needed for the words to decide
# One text: this share of the shared words in one ordered run whose places differ by at most 0.1 of the
# content length, or this other share when they may differ by 0.25 (a long translation drifts). Measured on
# the dev corpus (eval/real) and tests/data/django_po, 406 pairs of files that look like one language: the 42
# pairs of translations score at least 0.75 (0.1) and 0.75 (0.25); of the 364 pairs of different texts, 360
# score below 0.6 and 0.75. Splitting a folder needs strong evidence, so the bars sit near the different texts.
_IN_ORDER = ((0.1, 0.6), (0.25, 0.75))  # (largest difference of places, share in one ordered run)
_OUTLINE_DRIFT = 0.1  # the outline's paragraph ends may move this much


@dataclass(frozen=True, slots=True)
class TextShape:
    """The words a document uses once, with their place (0-1), and its outline: for each content segment,
    whether it is a heading and the share of the content length at its end."""

    once: Mapping[str, float]
    outline: tuple[tuple[bool, float], ...]


def _words(text: str) -> list[str]:
    words: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if _UNSPACED.search(word):
            words += [word[i:i + 2] for i in range(len(word) - 1)]
        elif len(word) >= _MIN_WORD:
            words.append(word)
    return words


def text_shape(segments: Sequence[Segment]) -> TextShape:
    """The shape of a segmented document (see the module docstring)."""
    content = [s for s in segments if s.kind != "boilerplate"]
    lengths = [max(1, len("".join(s.text.split()))) for s in content]
    total = sum(lengths) or 1
    counts: Counter[str] = Counter()
    places: dict[str, float] = {}
    outline: list[tuple[bool, float]] = []
    before = 0
    for segment, length in zip(content, lengths, strict=True):
        for word in _words(segment.text):
            counts[word] += 1
            places[word] = (before + length / 2) / total
        before += length
        outline.append((segment.kind in ("title", "heading"), before / total))
    return TextShape({word: place for word, place in places.items() if counts[word] == 1}, tuple(outline))


def _ordered_run(points: Sequence[tuple[float, float]]) -> int:
    """Length of the longest chain of points non-decreasing in both coordinates."""
    tails: list[float] = []
    for _, y in sorted(points):
        at = bisect_right(tails, y)
        if at == len(tails):
            tails.append(y)
        else:
            tails[at] = y
    return len(tails)


def _same_outline(a: TextShape, b: TextShape) -> bool:
    return len(a.outline) == len(b.outline) and all(
        heading_a == heading_b and abs(end_a - end_b) <= _OUTLINE_DRIFT
        for (heading_a, end_a), (heading_b, end_b) in zip(a.outline, b.outline, strict=True))


def same_text(a: TextShape, b: TextShape) -> bool:
    """Whether two documents (of one language or close ones) are one text rather than two."""
    shared = [(place, b.once[word]) for word, place in a.once.items() if word in b.once]
    if len(shared) < _MIN_SHARED:
        return _same_outline(a, b)
    return any(_ordered_run([(x, y) for x, y in shared if abs(x - y) <= drift]) >= share * len(shared)
               for drift, share in _IN_ORDER)
