"""Anchors: numbers and names that survive translation, read the same way by the aligner and by grouping.

Translations share almost no words, but they share numbers and names. This module reads both from
text in any script, without a translation model; ``tasks.align`` uses them as evidence that two
segments translate each other, ``tasks.grouping`` as evidence that two documents are one work.

**Numbers** are compared by value, whatever the script and the locale wrote them in:

* digits of any script (Devanagari, Thai, Arabic-Indic, full-width, ...) are read as ASCII digits;
* a separator (``.``, ``,`` or a space of any width) followed by groups of exactly three digits
  groups thousands ("21 000", "21,000", "21.000", "२१०००" are all 21000); otherwise the last ``.`` or
  ``,`` is the decimal point ("9,5" and "9.5" are 9.5);
* trailing zeros after the point go ("18.00" is 18, as "18 h" is);
* what may be hours and minutes, written with a point, comma, colon or a lone letter between them
  ("4.45", "4:45", "4 h 45", "4h45"), is read as the dotted value (4.45) and as its two parts (4 and
  45): one side may write the time in another way, or the letter may be a word ("2 a 10");
* CJK numerals written digit by digit ("二〇二五") and digits with a CJK multiplier ("30萬") are read
  as values; positional number words ("三十萬", "dix-huit") are words, which no rule here reads.

A number glued to Latin letters ("B2B", "H2O", "G7") is part of a name, not a number.

**Names** are Latin-script tokens (names, acronyms, technical terms) and words of other scripts
transliterated with ``anyascii``. Two readings serve the two users: the aligner compares exact
spellings and a consonant skeleton (``name_keys``); grouping classifies Latin tokens by how sure it
is that they are names (``latin_anchors``) and meets transliterations through a normalised spelling
(``cross_spellings``).
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex
from anyascii import anyascii

__all__ = [
    "FIRM",
    "SOFT",
    "WEAK",
    "Anchor",
    "ascii_digits",
    "cross_key",
    "cross_spellings",
    "latin_anchors",
    "name_keys",
    "number_values",
    "romanise",
]

# --- numbers ------------------------------------------------------------------------------------------

_SPACES = " \u00a0\u2009\u202f"
# Thousands may be grouped with spaces, but only by groups of three digits, and not before a decimal part.
_NUMBER = regex.compile(
    rf"(?<![\p{{Latin}}\d])(?:\d{{1,3}}(?:[{_SPACES}]\d{{3}})+(?![.,]\d)|\d+(?:[.,]\d+)*)(?![\p{{Latin}}\d])"
)
_GROUPED = regex.compile(rf"\d{{1,3}}([{_SPACES}.,])\d{{3}}(?:\1\d{{3}})*")
# Hours and minutes (or units and hundredths): "4.45", "4,45", "4:45", or a lone letter between them, "4 h 45".
_CLOCK = regex.compile(r"(?<![\p{L}\d.,:])(\d{1,2})(?:\s?\p{L}\s?|[.,:])(\d{2})(?![\p{L}\d]|[.,:]\d)")
_MULTIPLIED = regex.compile(r"(\d+(?:[.,]\d+)?)\s*([萬万億亿])")
# CJK numerals written digit by digit ("二〇二五"); positional ones ("三十萬") are number words.
_CJK_DIGIT_RUN = regex.compile(r"[〇零一二三四五六七八九]{2,}")
_CJK_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_LARGE_UNIT = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
_OTHER_DIGIT = regex.compile(r"[^\P{Nd}0-9]")  # decimal digits of scripts other than ASCII


def ascii_digits(text: str) -> str:
    """The text with the decimal digits of every script written as ASCII digits."""
    if text.isascii():
        return text
    return _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), m.group())), text)


def _canonical(integer: str, fraction: str = "") -> str:
    """One spelling of a value: no leading zeros in the integer part, no trailing zeros in the fraction."""
    integer = integer.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{integer}.{fraction}" if fraction else integer


def _value(token: str) -> str:
    """The value of a number token whatever the locale: "7,845", "7.845", "7 845" -> 7845; "9,5" -> 9.5.

    A separator followed by groups of exactly three digits groups thousands; otherwise the last
    separator is the decimal point and earlier ones group thousands, unless there are several of
    them with other group sizes (a date, "3.12.2026"), whose parts are kept.
    """
    if token.isdigit() or _GROUPED.fullmatch(token):
        return _canonical("".join(ch for ch in token if ch.isdigit()))
    parts = regex.split(r"[.,]", token)
    if len(parts) > 2 and any(len(p) != 3 for p in parts[1:-1]):
        return ".".join(p.lstrip("0") or "0" for p in parts)
    point = max(token.rfind("."), token.rfind(","))
    return _canonical("".join(ch for ch in token[:point] if ch.isdigit()), token[point + 1:])


def number_values(text: str) -> list[str]:
    """The values of the numbers of a text, in order of appearance (see the module docstring)."""
    text = ascii_digits(text)
    found: list[tuple[int, str]] = []
    clock_spans: list[tuple[int, int]] = []
    for m in _CLOCK.finditer(text):
        hours, minutes = m.group(1), m.group(2)
        if int(hours) <= 24 and int(minutes) < 60:
            # Also the parts: the other side may write the time with a word between them ("4 h 45"),
            # and a lone letter between two numbers may be a word ("2 a 10", from 2 to 10).
            found += [(m.start(), _canonical(hours, minutes)), (m.start(), _canonical(hours))]
            if int(minutes):
                found.append((m.start(2), _canonical(minutes)))
            clock_spans.append(m.span())
    multiplied_spans: list[tuple[int, int]] = []
    for m in _MULTIPLIED.finditer(text):
        value = float(m.group(1).replace(",", ".")) * _CJK_LARGE_UNIT[m.group(2)]
        found.append((m.start(), f"{value:.0f}"))
        multiplied_spans.append(m.span(1))
    for m in _NUMBER.finditer(text):
        inside = any(a <= m.start() < b for a, b in clock_spans) or m.span() in multiplied_spans
        if not inside:
            found.append((m.start(), _value(m.group())))
    for m in _CJK_DIGIT_RUN.finditer(text):
        value = int("".join(str(_CJK_DIGIT[ch]) for ch in m.group()))
        if value >= 10:
            found.append((m.start(), str(value)))
    return [value for _, value in sorted(found)]


# --- names: shared primitives --------------------------------------------------------------------------

_HAN_RUN = regex.compile(r"\p{Han}+")
_SYLLABLE = regex.compile(r"[A-Z][a-z]*")


@lru_cache(maxsize=1 << 16)
def romanise(word: str) -> str:
    """Lowercase ASCII letters and digits of a word in any script."""
    return "".join(ch for ch in anyascii(word).lower() if ch.isascii() and ch.isalnum())


def _han_syllables(run: str) -> list[str]:
    """Pinyin syllables of a Han run, one per character: the spelling Chinese names get in Latin script."""
    return [s.lower() for s in _SYLLABLE.findall(anyascii(run))]


# --- names as the aligner reads them --------------------------------------------------------------------

_LATIN_TOKEN = regex.compile(r"\p{Latin}[\p{Latin}\d]*(?:-[\p{Latin}\d]+)*")
_OTHER_WORD = regex.compile(r"[^\p{Latin}\p{Han}\P{L}][\p{L}\p{M}]*")
_MIN_TRANSLITERATED = 3  # shorter transliterations are particles that match anything
_MAX_TRANSLITERATED = 20  # longer runs are phrases of unspaced scripts, not names
_VOWELS = str.maketrans("", "", "aeiouyh")
_SOUND_ALIKE = str.maketrans("cqvzm", "kkwsn")


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
    # Names are two or more syllables, so keys are syllable pairs ("Kai-fu" -> "kaifu"): single
    # syllables would match everything.
    return frozenset("w:" + a + b for a, b in itertools.pairwise(_han_syllables(run)))


@lru_cache(maxsize=1 << 16)
def _other_script_keys(word: str) -> frozenset[str]:
    romanised = "".join(ch for ch in anyascii(word).lower() if ch.isalpha())
    if not _MIN_TRANSLITERATED <= len(romanised) <= _MAX_TRANSLITERATED:
        return frozenset()
    skeleton = _skeleton(romanised)
    # Inflected forms append suffixes to a transliterated name, hence the prefixes.
    return frozenset({"w:" + romanised} | {"t:" + skeleton[:k] for k in range(3, len(skeleton) + 1)})


def name_keys(text: str) -> tuple[set[str], set[str]]:
    """Name keys of a text for the aligner: those written in Latin script and those transliterated from others.

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


# --- names as grouping reads them ------------------------------------------------------------------------

_GROUPING_LATIN_TOKEN = regex.compile(r"\p{Latin}[\p{Latin}\d]*(?:[-'’]\p{Latin}[\p{Latin}\d]*)*")
_PART_SEPARATOR = regex.compile(r"[-'’]")
_GROUPING_OTHER_WORD = regex.compile(r"[\p{L}\p{M}--\p{Latin}--\p{Han}]+", regex.V1)
_LABEL = regex.compile(r"[^:：]{1,60}[:：]")
_ASPIRATED = regex.compile(r"([bcdgjkpqrt])h")
_DOUBLED = regex.compile(r"(.)\1+")

# After one of these (or first in its segment) a word is capitalised because a sentence starts there.
_SENTENCE_START = frozenset(".!?:;…\"'“”‘’«»()[]{}-–—•·*#|")
_LABEL_WORDS = 6  # "Label Words: text" list items are title-cased like headings
_SHOUTING_WORDS = 3
# A language whose mid-sentence words are capitalised this often capitalises its nouns (German):
# there capitals do not mark names.
_NOUN_CAPITALS = 0.2
_MIN_CROSS = 4  # shorter transliterations are particles that match anything
_MAX_CROSS = 16  # longer ones are phrases of unspaced scripts, not names

# What an anchor costs grouping when the other side lacks it.
FIRM, SOFT, WEAK = 1.0, 0.3, 0.0


@dataclass(frozen=True, slots=True)
class Anchor:
    key: str
    position: int
    miss: float  # FIRM, SOFT or WEAK


@lru_cache(maxsize=1 << 16)
def _cross_spelling(romanised: str) -> str:
    """A spelling that romanisations of one name share: no aspiration, doubled letters or long vowels.

    "Alibaba" and Devanagari "alibaabaa" meet, so do "Kaifu" and "kaiphu"; ``""`` when too short or
    too long to be a name.
    """
    spelled = _DOUBLED.sub(r"\1", _ASPIRATED.sub(r"\1", romanised.replace("ph", "f").replace("w", "v")))
    return spelled if _MIN_CROSS <= len(spelled) <= _MAX_CROSS else ""


def cross_key(key: str) -> str:
    """The spelling a Latin-script anchor key (``w:...``) meets in a text of another script, or ``""``."""
    return _cross_spelling(key[2:]) if key.startswith("w:") else ""


def _is_sentence_initial(text: str, start: int) -> bool:
    """Whether a word is capitalised for its place: at a sentence start or in a "Label Words:" prefix."""
    before = text[:start].rstrip()
    if not before or before[-1] in _SENTENCE_START:
        return True
    label = _LABEL.match(text)
    return label is not None and start < label.end() and len(label.group().split()) <= _LABEL_WORDS


def _latin_parts(token: str) -> list[str]:
    return [part for part in _PART_SEPARATOR.split(token) if len(part) >= 2]


def _case(part: str) -> str:
    """"upper" (acronym, mixed case, digits), "title" (capitalised) or "lower"."""
    if any(ch.isdigit() for ch in part) or sum(ch.isupper() for ch in part[1:]) >= 1:
        return "upper"
    return "title" if part[0].isupper() else "lower"


def latin_anchors(texts: Sequence[tuple[str, bool, int]], latin_text: bool) -> list[Anchor]:
    """Name-like Latin-script tokens of a document's texts, given as (text, is a heading, position).

    In a Latin-script text, acronyms and mixed-case words are names, and so are capitalised words seen
    away from sentence starts and headings and never in lower case; other words are the language's own.
    In a text of another script every Latin token stands out. A hyphenated name also gives its joined
    form ("Kai-fu" is "Kaifu" elsewhere), as weak evidence.
    """
    found: list[tuple[str, int, str, bool]] = []  # part, position, case, capitalised for its place
    joined: list[Anchor] = []
    for text, heading, position in texts:
        matches = list(_GROUPING_LATIN_TOKEN.finditer(text))
        # A line in capitals is shouting, not a row of acronyms.
        shouting = len(matches) >= _SHOUTING_WORDS and all(m.group().isupper() for m in matches)
        for m in matches:
            initial = heading or shouting or _is_sentence_initial(text, m.start())
            parts = _latin_parts(m.group())
            cases = ["title" if shouting else _case(part) for part in parts]
            found += [(part, position, case, initial) for part, case in zip(parts, cases, strict=True)]
            if len(parts) > 1 and (not latin_text or cases != ["lower"] * len(parts)):
                joined.append(Anchor("w:" + romanise("".join(parts)), position, WEAK))
    mid = [case for _, _, case, initial in found if not initial]
    capitals_mark_names = mid.count("title") <= _NOUN_CAPITALS * len(mid)
    lowercase = {part for part, _, case, _ in found if case == "lower"}
    names = {part.lower() for part, _, case, initial in found
             if case == "title" and not initial and part.lower() not in lowercase}
    anchors: list[Anchor] = []
    for part, position, case, _ in found:
        key = "w:" + romanise(part)
        if case == "upper":
            anchors.append(Anchor(key, position, FIRM))
        elif not latin_text:
            anchors.append(Anchor(key, position, FIRM if case == "title" else WEAK))
        elif case == "title" and part.lower() in names:
            anchors.append(Anchor(key, position, SOFT if capitals_mark_names else WEAK))
    return anchors + joined


def cross_spellings(text: str) -> set[str]:
    """Cross-script spellings of the words of other scripts than Latin, for grouping.

    Every prefix of at least _MIN_CROSS letters, since inflection appends suffixes to a transliterated
    name; Han runs by pairs of syllables, the way Chinese names are spelt in Latin script ("Kaifu").
    """
    keys: set[str] = set()
    for m in _GROUPING_OTHER_WORD.finditer(text):
        spelled = _cross_spelling(romanise(m.group()))
        keys.update(spelled[:k] for k in range(_MIN_CROSS, len(spelled) + 1))
    for m in _HAN_RUN.finditer(text):
        for a, b in itertools.pairwise(_han_syllables(m.group())):
            if spelled := _cross_spelling(a + b):
                keys.add(spelled)
    return keys
