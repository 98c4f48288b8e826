"""Word translations learned from a pair's own first alignment, as tokens that short segments share.

Interface messages, labels and menu entries are one to three words: their lengths say little, and
where one side leaves many of them untranslated (a catalogue with half of its messages missing)
the first alignment can link each translated label to its neighbour's original and still cost no
more than the right one. But the same words recur across such a document ("password", "change",
"user"), and most of its beads are right: as hunalign does without a dictionary, the words that
keep meeting in linked beads are taken for translations of each other, and the pair is aligned
again with every learned word pair as a token that a short segment carries on both sides (a
shared token credits a bead; one found on one side only costs nothing, as a translation may word it
otherwise). The second run is made only where the learned tokens say that a link of the first is wrong.

Words are runs of letters and marks, lowercased; in Han and kana, where a character is about a
morpheme and words are not spaced, a run's character bigrams stand for its words (in other scripts
written without spaces, Thai or Khmer, bigrams are pieces of syllables that every word shares: there a
run stays one word). Nothing here knows a language.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import regex

from tasks.align.features import _Side
from tasks.align.params import (
    _LEXICON_DICE,
    _LEXICON_MARKED,
    _LEXICON_MAX_LENGTH,
    _LEXICON_MIN_PAIRS,
    _LEXICON_UNALIGNED,
)
from tasks.align.types import Span

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")


@lru_cache(maxsize=1 << 16)
def _words(text: str) -> frozenset[str]:
    """The words of a text: lowercased, two letters or more, none with a digit (numbers are tokens of their
    own, by value); bigrams of Han and kana runs."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if any(char.isdigit() for char in word):
            continue
        if _UNSPACED.search(word):
            out.update(word[k:k + 2] for k in range(max(1, len(word) - 1)))
        elif len(word) >= 2:
            out.add(word)
    return frozenset(out)


def _gappy(spans: Sequence[Span], n: int, m: int) -> bool:
    """Whether an alignment leaves enough units unaligned for the lexicon to be worth a second run."""
    unaligned = sum(i1 - i0 + j1 - j0 for i0, i1, j0, j1 in spans if i1 == i0 or j1 == j0)
    return unaligned >= _LEXICON_UNALIGNED * (n + m)


def _with_lexicon(spans: Sequence[Span], src: _Side, tgt: _Side, ratio: float) -> tuple[_Side, _Side] | None:
    """Both sides with a token for every word pair the linked spans join often enough, on short segments.

    Only segments of at most ``_LEXICON_MAX_LENGTH`` characters of the source (the target's characters
    divided by ``ratio``, its characters per source character) get the tokens: the length of a long
    segment already says much, and the many words of a paragraph would credit any merge. So only their
    words are learned, from every linking span: a word pair is learned when it meets in at least
    ``_LEXICON_MIN_PAIRS`` linking spans and its Dice coefficient over them (twice the spans where both
    meet, over the spans holding either) reaches ``_LEXICON_DICE``; a word spelled alike on both sides is
    a name token already. None (no second run) when the alignment leaves few units out, or the learned
    tokens mark less than ``_LEXICON_MARKED`` of either side's segments.
    """
    if not _gappy(spans, len(src.segments), len(tgt.segments)):
        return None
    short = [[length <= limit for length in side.lengths.tolist()]
             for side, limit in ((src, _LEXICON_MAX_LENGTH), (tgt, _LEXICON_MAX_LENGTH * ratio))]
    if any(sum(flags) < _LEXICON_MARKED * len(flags) for flags in short):
        return None
    s_words = [_words(s.text) for s in src.segments]
    t_words = [_words(s.text) for s in tgt.segments]
    s_vocab = frozenset().union(*(ws for ws, flag in zip(s_words, short[0], strict=True) if flag))
    t_vocab = frozenset().union(*(ws for ws, flag in zip(t_words, short[1], strict=True) if flag))
    s_count: Counter[str] = Counter()
    t_count: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    for i0, i1, j0, j1 in spans:
        if i1 == i0 or j1 == j0:
            continue
        left = frozenset().union(*s_words[i0:i1]) & s_vocab
        right = frozenset().union(*t_words[j0:j1]) & t_vocab
        s_count.update(left)
        t_count.update(right)
        both.update(itertools.product(left, right))
    s_keys: defaultdict[str, set[str]] = defaultdict(set)
    t_keys: defaultdict[str, set[str]] = defaultdict(set)
    for (a, b), count in both.items():
        if a != b and count >= _LEXICON_MIN_PAIRS and 2 * count >= _LEXICON_DICE * (s_count[a] + t_count[b]):
            key = f"x:{a}|{b}"
            s_keys[a].add(key)
            t_keys[b].add(key)
    learned = []
    for words, pairs, flags in ((s_words, s_keys, short[0]), (t_words, t_keys, short[1])):
        learned.append([frozenset(k for w in ws for k in pairs.get(w, ())) if flag else frozenset()
                        for ws, flag in zip(words, flags, strict=True)])
        # Worth a second run only where the learned tokens mark a good share of the segments,
        if sum(bool(keys) for keys in learned[-1]) < _LEXICON_MARKED * len(flags):
            return None
    # and where they say that a link is wrong: both sides of a bead hold learned tokens, none of them shared.
    if not any(_disagree(learned[0][i0:i1], learned[1][j0:j1]) for i0, i1, j0, j1 in spans if i1 > i0 and j1 > j0):
        return None
    return (replace(src, keys=[own | extra for own, extra in zip(src.keys, learned[0], strict=True)]),
            replace(tgt, keys=[own | extra for own, extra in zip(tgt.keys, learned[1], strict=True)]))


def _disagree(left: Sequence[frozenset[str]], right: Sequence[frozenset[str]]) -> bool:
    a, b = frozenset().union(*left), frozenset().union(*right)
    return bool(a | b) and not a & b
