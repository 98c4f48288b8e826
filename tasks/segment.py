"""Segmentation: title, headings/sections, paragraphs, list items and boilerplate, with offsets.

The segmenter works on physical lines (split only on \\n, \\r\\n and \\r, so that line numbers match a
text editor), groups them into segments (hard-wrapped prose and list-item continuations are joined) and
classifies each segment from general layout signals: position, length, final punctuation, markers,
repetition of the title and a short multilingual list of publication-stamp words. Every rule is decided
per document from its own statistics, never from a known language.

Headings are found by shape in any script: a label the document repeats with a number that goes up
("Article 1." ... "Article 2.", "अनुच्छेद १.", "第一条", "Chapter IV", "2.1"), a line underlined with
=== or ---, a Markdown #, a line in capitals where most lines are not, and a short line that opens
prose (where most lines are longer and it does not read as a sentence). Lines numbered one after the
other are a list or verses. Dates are content unless they look like page furniture (at the very start
or end, with a time of day, or beside another stamp); copyright lines and dated bylines are stamps.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import regex

from schemas import SegmentKind

__all__ = ["Segment", "segment_text"]


@dataclass(frozen=True, slots=True)
class Segment:
    ordinal: int
    section: int
    kind: SegmentKind
    text: str
    line_start: int  # 1-based, inclusive
    line_end: int  # 1-based, inclusive
    char_start: int  # offset into the decoded source text
    char_end: int


MarkerKind = Literal["", "bullet", "number", "hash"]
_NumberedKey = tuple[str, str, int, str]  # label, numeral system, depth, punctuation after the number
_NumberedShape = tuple[_NumberedKey, tuple[int, ...], str]  # key, number, the text after the number

# Only these three are line breaks: str.splitlines() also splits on \v, \f, \x1c-\x1e, \x85, \u2028 and
# \u2029, which editors do not show as new lines, so line numbers would drift from the source file.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# ASCII bullets need a following space ("-5 °C", "*emphasis*" are not list items); the typographic ones
# are often glued to the text.
_ASCII_BULLET = re.compile(r"[-*+](?=\s|$)")
_GLUED_BULLET = re.compile(r"[•·‣◦▪–●○■□►▸➢➤✓✔⁃]")
_HASH = re.compile(r"#{1,6}(?=\s|$)")
# Numbered markers: "1.", "1)", "2.1.", "(a)", "a)", "(iv)", "IV.", "一、", "（三）", "①", "3、".
# Up to three digits, so a line opening with a year ("2025. ...") keeps its number.
_NUMBER_SPACED = re.compile(
    r"(?:\d{1,3}(?:[.．]\d{1,3})*[.．)）]|\((?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})\)"
    r"|(?:[a-z]|[ivx]{1,4})\)|[IVXLC]{1,5}\.)(?=\s|$)"
)
_NUMBER_GLUED = re.compile(
    r"[一二三四五六七八九十百零〇]{1,4}、|[（(][一二三四五六七八九十百零〇]{1,4}[）)]|\d{1,3}、|[①-⑳⑴-⒇⒈-⒛]"
)
_NUMBER_BEFORE_TIGHT = re.compile(r"\d{1,3}[.．]")
_MARKERS: tuple[tuple[re.Pattern[str], MarkerKind], ...] = (
    (_HASH, "hash"), (_ASCII_BULLET, "bullet"), (_GLUED_BULLET, "bullet"),
    (_NUMBER_SPACED, "number"), (_NUMBER_GLUED, "number"),
)
# "9." and "IV.": numbers that open dates and sentences as often as lists.
_LONE_NUMBER = re.compile(r"(\d{1,3})[.．]|([IVXLC]{1,5})\.")
# A rule under a line of text: one symbol repeated, as Markdown and reStructuredText underline headings.
_RULE = regex.compile(r"([=\-~_*+^:─━═])\1{2,}")
# "第一章", "第3节": a chapter label that stays part of the heading's text.
_CHAPTER = re.compile(r"第[一二三四五六七八九十百千零〇\d]{1,6}[章节節部篇回卷]")
# A numeral in a heading: digits of any script (1.2.3 numbering included), roman or Chinese numerals.
_NUMERAL = regex.compile(r"\p{Nd}+(?:[.．]\p{Nd}+)*|[IVXLCDM]+|[ivxlcdm]+|[零〇一二两兩三四五六七八九十百千]+")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_ROMAN_LETTERS = frozenset("IVXLCDMivxlcdm")
_HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
               "八": 8, "九": 9}
_HAN_UNITS = {"十": 10, "百": 100, "千": 1000}
_LABELLED = re.compile(r"([^:：]{1,80}?)\s*(?::\s+|：\s*)(\S.*)")
_TABLE_CELLS = re.compile(r"\S\t+\S|\|.*\|")

# Characters that end a sentence or a clause; a heading or title does not end with one of them.
# Question marks are allowed: question headings are common.
_FINAL = frozenset(".!。！．｡;；,，、،।॥۔።။។៕…")
_COLON = frozenset(":：")
# Sentence ends that are never abbreviation or number dots, and clause marks.
_SENTENCE_END = frozenset("。！？｡।॥۔።။។៕")
_CLAUSE = frozenset(",，、;；،؛")
_QUESTION = frozenset("?？؟")
_CLOSERS = "\"'”’»)]）】」』》〉"

# Publication stamps and sharing widgets in common languages. _STAMP_PREFIXES may be followed by more
# words ("Published on 3 May 2024", "Posted by Ajax"); _STAMP_WHOLE must be the whole segment, because
# words like "next" or "share" open ordinary headings too.
_STAMP_PREFIXES = (
    "published", "posted", "updated", "last updated", "last modified", "written by", "copyright", "©",
    "all rights reserved", "filed under", "tags:", "categories:", "publié", "mis à jour",
    "veröffentlicht", "aktualisiert", "publicado", "actualizado", "atualizado", "pubblicato",
    "aggiornato", "gepubliceerd", "bijgewerkt", "opublikowano", "опубликовано", "обновлено",
    "yayınlandı", "diterbitkan", "dipublikasikan", "diperbarui", "imechapishwa", "đăng ngày",
    "cập nhật", "发布于", "發佈於", "發布於", "发表于", "發表於", "更新于", "更新於", "公開日", "投稿日",
    "更新日", "게시일", "작성일", "نشر في", "تاريخ النشر", "प्रकाशित", "เผยแพร่เมื่อ", "โพสต์เมื่อ",
)
_STAMP_PREFIX = re.compile("|".join(map(re.escape, sorted(_STAMP_PREFIXES, key=len, reverse=True))))
_STAMP_WHOLE = frozenset({
    "share", "share this", "share on", "read more", "continue reading", "comments", "leave a comment",
    "subscribe", "follow us", "related posts", "related articles", "advertisement", "sponsored",
    "author", "about the author", "tags", "print", "email", "tweet", "facebook", "twitter", "linkedin",
    "whatsapp", "next", "previous", "back to top", "skip to content", "table of contents", "menu",
    "partager", "lire la suite", "auteur", "teilen", "weiterlesen", "autor", "compartir",
    "compartilhar", "leer más", "leia mais", "condividi", "leggi di più", "delen", "lees meer",
    "поделиться", "читать далее", "автор", "paylaş", "devamını oku", "yazar", "bagikan",
    "baca selengkapnya", "penulis", "shiriki", "soma zaidi", "mwandishi", "chia sẻ", "đọc thêm",
    "tác giả", "分享", "阅读更多", "閱讀更多", "作者", "シェア", "続きを読む", "著者", "공유", "더 보기",
    "작성자", "شارك", "اقرأ المزيد", "الكاتب", "साझा करें", "और पढ़ें", "लेखक", "แชร์", "อ่านเพิ่มเติม",
    "ผู้เขียน",
})
_NUMERIC_DATE = re.compile(
    r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
    r"|\d{4}\s*년\s*\d{1,2}\s*월(?:\s*\d{1,2}\s*일)?"
)
_DATE_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_SEPARATOR = re.compile(r"\s[—–|·•/]\s")
_COPYRIGHT = re.compile(r"[©℗]|\([cCpP]\)\s*\d{4}")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?", re.IGNORECASE)

# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, Han (and the CJK
# punctuation and full-width forms that go with them).
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x19E0, 0x19FF), (0x2E80, 0x2FDF),
    (0x3000, 0x303F), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF),
)
_NO_SPACE_SCRIPTS = frozenset({"Hani", "Hans", "Hant", "Jpan", "Hira", "Kana", "Hrkt", "Thai", "Laoo",
                               "Khmr", "Mymr"})

_WORD_CHAR = re.compile(r"[^\W_]")
_WIDE = regex.compile(r"[\p{East_Asian_Width=Wide}\p{East_Asian_Width=Fullwidth}]")
_ZERO_WIDTH = regex.compile(r"[\p{Mn}\p{Me}\p{Cf}]")

# Layout thresholds, in display columns (a wide CJK character counts two).
_TITLE_MAX_WIDTH = 160
_HEADING_MAX_WIDTH = 90
_HEADING_MAX_WORDS = 14
_TINY_MAX_WIDTH = 24
_TINY_MAX_WORDS = 2  # an author box or menu: "Author", "Ada Lovelace", "Twitter"
_STAMP_MAX_WORDS = 6
_STAMP_MAX_WIDTH = 64
_LABEL_MAX_WIDTH = 48
_LABEL_MAX_WORDS = 6
_WRAP_MAX_WIDTH = 200  # nobody hard-wraps prose wider than this
_WRAP_MIN_WIDTH = 30
_HEADER_MAX = 12  # segments from the start where an author box may begin
_BYLINE_MAX_WORDS = 20
_LABEL_PREFIX_MAX_WORDS = 3  # "Kifungu cha", "Chapter", "第": the label before a heading's number
_LABEL_PREFIX_MAX_WIDTH = 32
_PATTERN_STEP_SHARE = 0.7  # numbered headings whose numbers go up by one, at least this share of the time
_SHORT_LINES_MAX_SHARE = 0.4  # short lines are headings only where most lines are longer
_SHORT_LINES_FREE = 3  # ... or where there are only a few of them
_CLAUSE_MIN_WORDS = 10  # a line this long with a clause comma reads as a sentence
_SMALL_START_MIN_WORDS = 4  # a line this long that starts with a small letter is the rest of a sentence
_CAPS_MIN_LETTERS = 4
_CAPS_MAX_SHARE = 0.5  # capitals mark headings only where most lines are not in capitals
_DUPLICATE_SIMILARITY = 0.9
_SUBTITLE_SIMILARITY = 0.25


@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based
    start: int  # offset of the first non-whitespace character
    end: int  # offset just past the last non-whitespace character
    indent: int  # leading whitespace, tabs counted as 4 columns
    marker: str
    marker_kind: MarkerKind
    body: str  # text after the marker, stripped
    table: bool
    width: int  # display width of the stripped line
    content: str  # the stripped line, marker included
    underlined: bool = False  # the next line is a rule (===, ---) that underlines this one
    rule: bool = False  # a line of one repeated symbol that underlines the line above it


@dataclass(slots=True)
class _Group:
    lines: list[_Line]
    text: str = ""
    width: int = 0
    words: int = 0
    kind: SegmentKind | None = None

    @property
    def first(self) -> _Line:
        return self.lines[0]

    @property
    def marker_kind(self) -> MarkerKind:
        return self.lines[0].marker_kind


def _display_width(text: str) -> int:
    """Columns a terminal gives the text: wide characters count two, combining and format marks none."""
    if text.isascii():
        return len(text)
    wide = len(text) - len(_WIDE.sub("", text))
    zero = len(text) - len(_ZERO_WIDTH.sub("", text))
    return len(text) + wide - zero


def _is_no_space_char(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _NO_SPACE_RANGES)


def _has_word_char(text: str) -> bool:
    return _WORD_CHAR.search(text) is not None


def _split_marker(content: str) -> tuple[str, MarkerKind]:
    """The list or heading marker at the start of a stripped line, and its kind."""
    for pattern, kind in _MARKERS:
        match = pattern.match(content)
        if match:
            return match.group(), kind
    # "1.背景": a numbered marker glued to a script that does not use spaces.
    match = _NUMBER_BEFORE_TIGHT.match(content)
    if match and match.end() < len(content) and _is_no_space_char(content[match.end()]):
        return match.group(), "number"
    return "", ""


def _read_lines(text: str) -> list[_Line | None]:
    """Every physical line; None for blank ones."""
    lines: list[_Line | None] = []
    bounds: list[tuple[int, int]] = []
    position = 0
    for match in _LINE_BREAK.finditer(text):
        bounds.append((position, match.start()))
        position = match.end()
    if position < len(text):
        bounds.append((position, len(text)))
    for number, (start, end) in enumerate(bounds, 1):
        raw = text[start:end]
        stripped = raw.strip()
        if not stripped:
            lines.append(None)
            continue
        lead = len(raw) - len(raw.lstrip())
        trail = len(raw) - len(raw.rstrip())
        indent = len(raw[:lead].expandtabs(4))
        marker, kind = _split_marker(stripped)
        lines.append(_Line(
            number=number, start=start + lead, end=end - trail, indent=indent, marker=marker,
            marker_kind=kind, body=stripped[len(marker):].strip(),
            table=bool(_TABLE_CELLS.search(stripped)), width=_display_width(stripped), content=stripped,
        ))
    return _mark_underlines(_inline_numbers_kept(_confirm_number_markers(lines)))


def _roman_value(numeral: str) -> int:
    """The value of a well-formed roman numeral (either case), 0 for anything else."""
    upper = numeral.upper()
    if not upper or not _ROMAN.fullmatch(upper):
        return 0
    values = [_ROMAN_VALUES[char] for char in upper]
    return sum(-value if value < after else value for value, after in zip(values, [*values[1:], 0], strict=True))


def _han_value(numeral: str) -> int:
    """The value of a number in Chinese numerals ("十一" 11, "二十" 20, "一百零五" 105, "三〇" 30)."""
    if not any(char in _HAN_UNITS for char in numeral):
        value = 0
        for char in numeral:
            value = 10 * value + _HAN_DIGITS[char]
        return value
    total, digit = 0, 0
    for char in numeral:
        if char in _HAN_UNITS:
            total += (digit or 1) * _HAN_UNITS[char]
            digit = 0
        else:
            digit = _HAN_DIGITS[char]
    return total + digit


def _lone_number(line: _Line) -> tuple[str, int] | None:
    """Style and value of a "9." or "IV." marker: the markers that also open dates and sentences."""
    match = _LONE_NUMBER.fullmatch(line.marker)
    if match is None:
        return None
    if match.group(1):
        return "digit", int(match.group(1))
    value = _roman_value(match.group(2))
    return ("roman", value) if value else None


def _confirm_number_markers(lines: list[_Line | None]) -> list[_Line | None]:
    """Keep a "9." or "IV." opening a line as a marker only where the document numbers lines with it.

    It is a list or heading number when another line carries the number before it (earlier) or after it
    (later) in the same style, when it sits in a list (a neighbour line has another marker, or the line
    before introduces a list), or when it numbers a heading ("1. Introduction": no sentence end, no other
    number); otherwise it is part of the text: "9. September 1988", "C. S. Lewis wrote a letter.".
    """
    present = [(index, line) for index, line in enumerate(lines) if line is not None]
    seen: set[tuple[str, int]] = set()
    follows: list[bool] = []
    for _, line in present:
        found = _lone_number(line)
        follows.append(found is not None and (found[0], found[1] - 1) in seen)
        if found is not None:
            seen.add(found)
    later: set[tuple[str, int]] = set()
    confirmed: list[bool] = [False] * len(present)
    for position in range(len(present) - 1, -1, -1):
        found = _lone_number(present[position][1])
        if found is not None:
            confirmed[position] = follows[position] or (found[0], found[1] + 1) in later
            later.add(found)
    result = list(lines)
    for position, (index, line) in enumerate(present):
        if _lone_number(line) is None or confirmed[position]:
            continue
        before = present[position - 1][1] if position > 0 else None
        after = present[position + 1][1] if position + 1 < len(present) else None
        in_list = any(other is not None and other.marker_kind and _lone_number(other) is None
                      for other in (before, after))
        heading = not _ends_final(line.body) and not _DIGIT.search(line.body)
        if in_list or heading or (before is not None and _ends_colon(before.content)):
            continue
        result[index] = dataclasses.replace(line, marker="", marker_kind="", body=line.content)
    return result


# A bracketed number inside running text: "... of the first (14) and the next ...".
_BRACKETED_MARKER = regex.compile(r"([(（\[])(\p{Nd}{1,3})([)）\]])")
_BRACKETED_NUMBER = regex.compile(r"(?<=\S\s*)" + _BRACKETED_MARKER.pattern)


def _inline_numbers_kept(lines: list[_Line | None]) -> list[_Line | None]:
    """Keep a bracketed number opening a line as text where the running text carries the same numbering.

    Verses, clauses or footnotes numbered in the text ("... truth (14) and ...") open some lines only
    because a line happens to start there; such a "(15)" continues the numbers inside the lines around
    it (one more or one less than a number of the same brackets inside a line), so it is no list marker.
    """
    inline: set[tuple[str, int, str]] = set()
    for line in lines:
        if line is not None:
            inline.update((m.group(1), int(m.group(2)), m.group(3))
                          for m in _BRACKETED_NUMBER.finditer(line.content))
    if not inline:
        return lines
    markers = {index: (m.group(1), int(m.group(2)), m.group(3)) for index, line in enumerate(lines)
               if line is not None and line.marker_kind == "number"
               and (m := _BRACKETED_MARKER.fullmatch(line.marker)) is not None}
    kept: set[int] = set()
    while True:  # a number kept as text carries the numbering on to the next line's
        found = {index for index, (opening, value, closing) in markers.items() if index not in kept
                 and ((opening, value - 1, closing) in inline or (opening, value + 1, closing) in inline)}
        if not found:
            break
        kept |= found
        inline.update(markers[index] for index in found)
    result = list(lines)
    for index in kept:
        if (line := lines[index]) is not None:
            result[index] = dataclasses.replace(line, marker="", marker_kind="", body=line.content)
    return result


def _mark_underlines(lines: list[_Line | None]) -> list[_Line | None]:
    """A line of one repeated symbol (===, ---, ~~~) right under a line of text underlines it: a heading.

    Not under a sentence: a rule after the last line of a paragraph only closes it.
    """
    result = list(lines)
    for index in range(1, len(result)):
        line, above = result[index], result[index - 1]
        if (line is None or above is None or above.rule or above.table or above.marker_kind == "bullet"
                or not _RULE.fullmatch(line.content) or not _has_word_char(above.content)
                or _ends_final(above.content)):
            continue
        result[index - 1] = dataclasses.replace(above, underlined=True)
        result[index] = dataclasses.replace(line, rule=True)
    return result


def _columns(line: _Line) -> int:
    return line.width


def _characters(line: _Line) -> int:
    return len(line.content)


def _first_word_columns(line: _Line) -> int:
    """Columns of what a wrapper that breaks between wide characters (or at spaces) could not break."""
    if line.body and _is_no_space_char(line.body[0]):
        return _display_width(line.body[0])
    return _display_width(line.body.split(maxsplit=1)[0]) if line.body else 0


def _first_word_characters(line: _Line) -> int:
    """Characters of what a wrapper that breaks at spaces only (and counts characters) could not break."""
    return len(line.body.split(maxsplit=1)[0]) if line.body else 0


# How a wrapper measures a line and the start of the next one: in display columns, breaking between wide
# characters (terminals, editors), or in characters, breaking at spaces only (Python's textwrap and
# others), which leaves the lines of a text mixing wide and narrow characters ragged in columns.
_WRAP_MEASURES: tuple[tuple[Callable[[_Line], int], Callable[[_Line], int]], ...] = (
    (_columns, _first_word_columns), (_characters, _first_word_characters))


def _wrap_width(lines: list[_Line | None], measure: Callable[[_Line], int] = _columns) -> int | None:
    """The width prose was hard-wrapped at, in the given measure, or None when lines are not hard-wrapped.

    Wrapped prose needs blank lines to tell paragraphs apart, keeps every line within a modest width, and
    most lines that are followed by another line of their block run close to that width.
    """
    present = [line for line in lines if line is not None]
    blanks = len(lines) - len(present)
    if not present or blanks * 30 < len(present):
        return None
    # Lines followed by a list item or by the rule that underlines them end where they must.
    continued = sorted(measure(line) for line, after in itertools.pairwise(lines)
                       if line is not None and after is not None and not after.marker_kind and not after.rule)
    widths = sorted(measure(line) for line in present)
    wrap = widths[min(len(widths) - 1, (len(widths) * 95) // 100)]
    if continued and continued[len(continued) // 4] >= 0.7 * continued[(len(continued) * 3) // 4]:
        # Filled lines cluster just below the wrap width; longer lines are paragraphs left unwrapped.
        wrap = min(wrap, continued[(len(continued) * 3) // 4])
    if not _WRAP_MIN_WIDTH <= wrap <= _WRAP_MAX_WIDTH:
        return None
    if not continued or sum(width >= 0.7 * wrap for width in continued) * 2 < len(continued):
        return None
    return wrap


def _continues(previous: _Line, line: _Line, wraps: Sequence[int | None]) -> bool:
    """Whether ``line`` is the hard-wrapped continuation of ``previous`` (same block, no blank between):
    the next line's first word would not have fitted on ``previous`` in one of the wrap measures."""
    if (line.marker_kind or line.table or previous.table or previous.marker_kind == "hash"
            or line.rule or line.underlined or previous.rule):
        return False
    if not any(wrap is not None and measure(previous) + 1 + first_word(line) >= 0.8 * wrap
               for wrap, (measure, first_word) in zip(wraps, _WRAP_MEASURES, strict=True)):
        return False
    if previous.marker_kind:
        return line.indent >= previous.indent
    return line.indent <= previous.indent


_DASHES = frozenset("-–—")


def _wrapped_dashes_kept(lines: list[_Line | None], wraps: Sequence[int | None]) -> list[_Line | None]:
    """Lines where a dash that a wrapper moved to the start of a line stays text rather than a bullet.

    Hard-wrapping breaks at any space, also before a dash inside a sentence ("... nothing better -
    to our Lord we turn"): a line that opens with a dash and a lowercase word, after a line filled to
    the wrap width that does not end a sentence, is the rest of that sentence, not a list item. A line that opens
    with the same dash is the item before it: a list of long items in lowercase stays a list.

    A dash that opens a sentence ("... His gifts? / - But no, they persist ...") is text as well where the
    dash line sits inside a wrapped paragraph: after a filled line that does not introduce it (no colon),
    itself filled, and followed by a line of the paragraph at the dash's own indent, where a list item's
    wrapped text would be indented under its words or end the item.
    """
    out = list(lines)
    for k in range(1, len(out)):
        line, previous = out[k], out[k - 1]
        if (line is None or previous is None or line.marker_kind != "bullet" or line.marker.strip() not in _DASHES
                or previous.marker_kind == "hash" or previous.rule
                or (previous.marker_kind == "bullet" and previous.marker.strip() == line.marker.strip())
                or previous.content.endswith((":", "："))):
            continue
        following = out[k + 1] if k + 1 < len(out) else None
        if line.body[:1].islower():
            if _ends_final(previous.content) or previous.content.endswith(("?", "？")):
                continue
            filled = [previous]
        elif (following is not None and following.marker_kind == "" and not following.rule
              and previous.indent == line.indent == following.indent):
            filled = [previous, line]
        else:
            continue
        if any(wrap is not None and all(measure(x) + 2 >= 0.8 * wrap for x in filled)
               for wrap, (measure, _) in zip(wraps, _WRAP_MEASURES, strict=True)):
            out[k] = dataclasses.replace(line, marker="", marker_kind="", body=line.content)
    return out


def _spaced_letter(char: str) -> bool:
    return char.isalpha() and not _is_no_space_char(char)


def _join(left: str, right: str, no_space_hint: bool) -> str:
    """Join two wrapped lines: no space between characters of scripts written without spaces.

    Digits and punctuation at the break belong to no script; there the document's script decides.
    """
    if not left or not right:
        return left + right
    a, b = left[-1], right[0]
    if _is_no_space_char(a) and _is_no_space_char(b):
        return left + right
    if no_space_hint and not _spaced_letter(a) and not _spaced_letter(b):
        return left + right
    return left + " " + right


def _group_lines(lines: list[_Line | None], script: str | None) -> list[_Group]:
    wraps = [_wrap_width(lines, measure) for measure, _ in _WRAP_MEASURES]
    lines = _wrapped_dashes_kept(lines, wraps)
    no_space_hint = script in _NO_SPACE_SCRIPTS
    groups: list[_Group] = []
    previous: _Line | None = None
    for line in lines:
        if line is not None and previous is not None and _continues(previous, line, wraps):
            groups[-1].lines.append(line)
        elif line is not None:
            groups.append(_Group([line]))
        previous = line
    for group in groups:
        text = ""
        for line in group.lines:
            text = _join(text, " ".join(line.body.split()), no_space_hint)
        text = unicodedata.normalize("NFC", text or group.first.marker)
        group.text = text
        group.width = _display_width(text)
        group.words = len(text.split())
    return groups


def _fingerprint(text: str) -> str:
    """Text reduced to letters, digits and marks, for comparing lines that differ only in punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LNM")


def _similarity(a: str, b: str) -> float:
    """Dice coefficient of character bigrams (characters for one-letter strings)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    grams_a = Counter(a[i:i + 2] for i in range(max(1, len(a) - 1)))
    grams_b = Counter(b[i:i + 2] for i in range(max(1, len(b) - 1)))
    shared = sum((grams_a & grams_b).values())
    return 2 * shared / (sum(grams_a.values()) + sum(grams_b.values()))


def _stripped_end(text: str) -> str:
    return text.rstrip(_CLOSERS + " ")


def _ends_final(text: str) -> bool:
    end = _stripped_end(text)
    return bool(end) and end[-1] in _FINAL and not _greek_question(end)


def _greek_question(end: str) -> bool:
    """Greek writes its question mark as a semicolon (U+037E, the same character after NFC)."""
    if end[-1] not in ";\u037e":
        return False
    letter = next((char for char in reversed(end) if char.isalpha()), "")
    return "\u0370" <= letter <= "\u03ff" or "\u1f00" <= letter <= "\u1fff"


def _ends_colon(text: str) -> bool:
    end = _stripped_end(text)
    return bool(end) and end[-1] in _COLON


def _is_stamp(group: _Group) -> bool:
    if group.words > _STAMP_MAX_WORDS or group.width > _STAMP_MAX_WIDTH:
        return False
    folded = " ".join(unicodedata.normalize("NFKC", group.text).casefold().split())
    if folded.strip(":：.!|-–—·•>»") in _STAMP_WHOLE:
        return True
    match = _STAMP_PREFIX.match(folded)
    return match is not None and _stamp_continues(match.group(), folded[match.end():])


def _folded(group: _Group) -> str:
    return " ".join(unicodedata.normalize("NFKC", group.text).casefold().split())


def _is_date_line(group: _Group) -> bool:
    return group.words <= _STAMP_MAX_WORDS and group.width <= _STAMP_MAX_WIDTH and _is_date(_folded(group))


def _dated(text: str) -> bool:
    """Whether a line carries a full date: "2024-05-03", "3 mai 2024", "May 3, 2024"."""
    numbers = _DATE_TOKEN.findall(text)
    numbers = [number for number in numbers if number.isdigit()]
    return bool(_NUMERIC_DATE.search(text)) or (
        len(numbers) >= 2 and any(len(number) == 4 for number in numbers))


def _is_byline(group: _Group) -> bool:
    """A name and a date set apart by a dash or bar: "By Ada Lovelace | 3 May 2024"."""
    return group.words <= _BYLINE_MAX_WORDS and bool(_SEPARATOR.search(group.text)) and _dated(group.text)


def _is_copyright(group: _Group) -> bool:
    return group.words <= _BYLINE_MAX_WORDS * 2 and bool(_COPYRIGHT.search(group.text))


def _stamp_continues(prefix: str, rest: str) -> bool:
    """Whether what follows a stamp word makes a stamp: "Published on 3 May", not "Published works"."""
    if _is_no_space_char(prefix[-1]) or not rest.strip():
        return True
    if rest[0].isalpha():  # the start of a longer word ("postedit")
        return False
    following = rest.split(maxsplit=1)[0].strip(":：")
    return " " in prefix or not prefix[-1].isalpha() or len(following) <= 3 or bool(_DIGIT.search(rest))


def _is_date(folded: str) -> bool:
    """A date (and time) alone: "2024-05-03", "2024年5月3日", "3 May 2024, 10:30", "May 3, 2024"."""
    if not _DIGIT.search(folded):
        return False
    rest = _TIME.sub(" ", _NUMERIC_DATE.sub(" 0 ", folded))
    tokens = _DATE_TOKEN.findall(rest)
    numbers = [token for token in tokens if token.isdigit()]
    words = [token for token in tokens if not token.isdigit()]
    if _NUMERIC_DATE.search(folded):
        return len(words) <= 2
    has_year = any(len(number) == 4 for number in numbers)
    return has_year and len(numbers) >= 2 and len(words) <= 2 and all(len(word) <= 12 for word in words)


def _is_tiny(group: _Group) -> bool:
    # A table row is data even when its cells are short: it never makes an author box.
    return (not group.first.table and group.words <= _TINY_MAX_WORDS and group.width <= _TINY_MAX_WIDTH
            and not _ends_final(group.text) and not _ends_colon(group.text))


def _is_prose(group: _Group) -> bool:
    return _ends_final(group.text) or _ends_colon(group.text) or group.width > _TITLE_MAX_WIDTH


def _title_shaped(group: _Group) -> bool:
    end = _stripped_end(group.text)
    # A numbered title ("36. Ya Sin") is one whose number no other line continues: lists and numbered
    # headings are marked before the title is looked for.
    return (group.marker_kind != "bullet" and not group.first.table and group.width <= _TITLE_MAX_WIDTH
            and _has_word_char(group.text) and bool(end) and not _ends_final(group.text)
            and end[-1] not in _COLON)


def _heading_shaped(group: _Group) -> bool:
    if group.first.table or group.marker_kind == "bullet" or len(group.lines) > 1:
        return False
    limit = 2 * _HEADING_MAX_WIDTH if group.marker_kind == "hash" or group.first.underlined else _HEADING_MAX_WIDTH
    return (group.width <= limit and group.words <= _HEADING_MAX_WORDS and _has_word_char(group.text)
            and not _ends_final(group.text) and not _ends_colon(group.text))


def _numeral_value(text: str, start: int, end: int) -> tuple[str, tuple[int, ...]] | None:
    """The system and value of the numeral at text[start:end], None for letters that only look like one."""
    numeral = text[start:end]
    if numeral[0] in _HAN_DIGITS or numeral[0] in _HAN_UNITS:
        return "han", (_han_value(numeral),)
    if numeral[0] not in _ROMAN_LETTERS:
        return "digit", tuple(int(part) for part in re.split("[.．]", numeral))
    # A roman numeral is a word of its own ("Chapter IV", not the "C" of "Civil").
    if (start and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha()):
        return None
    value = _roman_value(numeral)
    return ("roman", (value,)) if value else None


def _numbered_shape(text: str) -> _NumberedShape | None:
    """The label, numeral system, depth and punctuation of a line opened by a numbered label; its number;
    and the text after the label.

    "Kifungu cha 1." gives (("kifungucha", "digit", 1, "."), (1,), ""); "第十一条" (("第", "han", 1, "条"),
    (11,), ""); "2.1 Memory" (("", "digit", 2, ""), (2, 1), "Memory"). The label is at most a few words
    before the number, in any script.
    """
    for match in _NUMERAL.finditer(text):
        start, end = match.span()
        prefix = text[:start]
        if len(prefix.split()) > _LABEL_PREFIX_MAX_WORDS or _display_width(prefix) > _LABEL_PREFIX_MAX_WIDTH:
            return None
        numeral = _numeral_value(text, start, end)
        if numeral is None:
            continue
        system, values = numeral
        tail = end
        if tail < len(text) and text[tail].isalpha() and not (text[tail].isupper() or text[tail].islower()):
            tail += 1  # the counter glued to the number in uncased scripts: "第一条", "第3章", "1장", "제1조"
        while tail < len(text) and tail - end < 3 and unicodedata.category(text[tail])[0] in "PS":
            tail += 1
        label, punctuation, rest = _fingerprint(prefix), text[end:tail], text[tail:].strip()
        if label and not rest:
            punctuation = punctuation.rstrip(".．:：")  # "Article 1." and "Article 2" in one document
        return (label, system, len(values), punctuation), values, rest
    return None


def _follows(before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    """Whether one number comes next after another: 3 after 2, 2.1 after 1.4, and a restart at 1."""
    if after == before:
        return False
    if all(part <= 1 for part in after):
        return True
    for was, now in zip(before, after, strict=True):
        if was != now:
            return now == was + 1
    return False


def _all_caps(text: str) -> bool:
    if text.upper() != text or text.lower() == text:  # a small letter, or no cased letter: the quick answers
        return False
    cased = sum(char.isupper() for char in text)
    return cased >= _CAPS_MIN_LETTERS and 2 * cased >= sum(char.isalpha() for char in text)


def _mark_numbered_runs(groups: list[_Group], shapes: list[_NumberedShape | None]) -> None:
    """Lines numbered one after the other ("1 ...", "2 ...", "3 ...") are a list or verses: body text.

    Such lines are often short and unpunctuated (verses, a table of contents), the shape of headings;
    numbered in sequence with the line before or after, they are none.
    """
    for index, group in enumerate(groups):
        shape = shapes[index]
        if shape is None or group.kind is not None:
            continue
        for before, after in ((index - 1, index), (index, index + 1)):
            if before >= 0 and after < len(groups):
                first, second = shapes[before], shapes[after]
                if first and second and first[0] == second[0] and _follows(first[1], second[1]):
                    group.kind = "list_item" if group.marker_kind else "paragraph"
                    break


def _mark_numbered_headings(groups: list[_Group]) -> None:
    """Short lines that repeat one label with a number that goes up: "Article 1." ... "Article 2." ...

    The label may be any words in any script, the number in any digits, roman or Chinese numerals, or
    1.2.3 numbering; the label is learned from the document itself. Lines numbered one after the other
    are a list, verses or a table of contents, not headings; a label with no words ("1.", "IV") must
    recur at least three times.
    """
    shapes = [_numbered_shape(group.first.content) if len(group.lines) == 1 and not group.first.table
              and group.marker_kind not in ("bullet", "hash") else None for group in groups]
    _mark_numbered_runs(groups, shapes)
    members: dict[_NumberedKey, list[tuple[int, tuple[int, ...]]]] = {}
    for index, (group, shape) in enumerate(zip(groups, shapes, strict=True)):
        if (shape is None or group.kind is not None or group.first.width > _HEADING_MAX_WIDTH
                or group.words > _HEADING_MAX_WORDS):
            continue
        key, values, rest = shape
        if rest and (_ends_final(rest) or _ends_colon(rest)):
            continue  # a numbered sentence: a list item or a numbered paragraph
        if not key[0] and not _has_word_char(rest) and key[1] == "digit" and not key[3]:
            continue  # a bare number ("12", "- 12 -"): a page number as often as a section's
        members.setdefault(key, []).append((index, values))
    for key, found in members.items():
        labelled = bool(key[0]) or _has_word_char(key[3])
        if len(found) < (2 if labelled else 3):
            continue
        steps = sum(_follows(a, b) for (_, a), (_, b) in itertools.pairwise(found))
        if steps >= _PATTERN_STEP_SHARE * (len(found) - 1):
            for index, _ in found:
                groups[index].kind = "heading"


def _labelled_item(group: _Group) -> bool:
    """A "Short label: longer sentence" line, the layout of a list written without markers."""
    match = _LABELLED.match(group.text)
    if not match or group.marker_kind:
        return False
    label, rest = match.group(1), match.group(2)
    label_width = _display_width(label)
    return (label_width <= _LABEL_MAX_WIDTH and len(label.split()) <= _LABEL_MAX_WORDS
            and not any(char in _FINAL for char in label) and _display_width(rest) > label_width)


def _mark_stamps(groups: list[_Group]) -> None:
    """Rules, stamps and copyright lines anywhere; dates only where they look like page furniture.

    A date alone is content in the text ("9 September 1988" opening a diary entry, a date line the
    translations share); it is a publication stamp when it is the first or last line of the document,
    carries a time of day, or stands next to another stamp. A dated byline ("By Ada | 3 May 2024") is
    a stamp in the header, the lines before the first prose.
    """
    for group in groups:
        if group.kind is not None:
            continue
        if (not _has_word_char(group.text) or (not group.first.body and group.marker_kind) or _is_stamp(group)
                or _is_copyright(group)):
            group.kind = "boilerplate"
    content = [index for index, group in enumerate(groups) if group.kind != "boilerplate"]
    header = next((i for i, group in enumerate(groups) if _is_prose(group) and group.kind is None), len(groups))
    for position, index in enumerate(content):
        group = groups[index]
        if group.kind is not None:
            continue
        beside = any(0 <= other < len(groups) and groups[other].kind == "boilerplate"
                     and _has_word_char(groups[other].text) for other in (index - 1, index + 1))
        edge = position in (0, len(content) - 1)
        stamp = _is_date_line(group) and (edge or beside or bool(_TIME.search(group.text)))
        byline = position > 0 and index < header and _is_byline(group)
        if stamp or byline:
            group.kind = "boilerplate"


def _mark_author_box(groups: list[_Group]) -> None:
    # An author box, byline or menu: a run of three or more tiny lines that starts in the header (the
    # first few segments, before the first prose) after the title, does not follow a line introducing a
    # list and gives way to longer lines, mostly not tiny (a text made mostly of short lines, like a
    # poem, verses or interface messages, has no author box).
    prose = next((i for i, group in enumerate(groups) if _is_prose(group)), None)
    if prose is None:
        return
    header = min(_HEADER_MAX, prose)
    index = next((i + 1 for i in range(len(groups) - 1, -1, -1) if groups[i].kind == "title"), 0)
    while index < header:
        end = index
        while end < len(groups) and groups[end].kind is None and _is_tiny(groups[end]):
            end += 1
        introduced = index > 0 and _ends_colon(groups[index - 1].text)
        rest = [group for group in groups[end:] if group.kind is None]
        short = sum(map(_is_tiny, rest)) > _SHORT_LINES_MAX_SHARE * len(rest)
        if end - index >= 3 and rest and not introduced and not short:
            for group in groups[index:end]:
                group.kind = "boilerplate"
        index = max(end, index + 1)


def _mark_title(groups: list[_Group]) -> None:
    """The first content line if it is title-shaped, and the next one if it continues it.

    A continuation line starts small; the line after it must not (lines that all start small are verse).
    """
    content = [group for group in groups if group.kind != "boilerplate"]
    if not content or content[0].kind is not None or not _title_shaped(content[0]):
        return
    content[0].kind = "title"
    if len(content) > 1 and content[1].kind is None and _title_shaped(content[1]) and _continues_title(
            content[0], content[1]) and (len(content) == 2 or not _starts_small(content[2])):
        content[1].kind = "title"


def _mark_title_variants(groups: list[_Group]) -> None:
    """The line after the title (past an author box) if it rewords or repeats the title.

    Web pages often give the title twice (the page title, then the article's own): both are the
    work's title, translated in the other versions, so a second title line is a title even when it
    repeats the first word for word (the aligner joins title variants into one bead). A repeat
    further down, in the body, is page chrome: boilerplate.
    """
    titles = [index for index, group in enumerate(groups) if group.kind == "title"]
    if not titles:
        return
    title = groups[titles[0]]
    key = _fingerprint(title.text)
    after = [group for group in groups[titles[-1] + 1:] if group.kind != "boilerplate"]
    second = after[0] if after and len(titles) == 1 else None
    if (second is not None and second.kind is None and _title_shaped(second)
            and (second.marker_kind == "hash") == (title.marker_kind == "hash")
            and _similarity(key, _fingerprint(second.text)) >= _SUBTITLE_SIMILARITY):
        second.kind = "title"
    if not key:
        return
    for group in after:
        if group.kind is not None or not 0.8 <= len(group.text) / len(title.text) <= 1.25:
            continue
        if _similarity(key, _fingerprint(group.text)) >= _DUPLICATE_SIMILARITY:
            group.kind = "boilerplate"


def _starts_small(group: _Group) -> bool:
    return next((char for char in group.text if char.isalpha()), "").islower()


def _continues_title(title: _Group, line: _Group) -> bool:
    """A title split over two lines: the second starts with a small letter (in a cased script)."""
    return _starts_small(line) and not _ends_final(title.text) and not _ends_colon(title.text)


def _heading_candidate(groups: list[_Group], index: int) -> bool:
    group = groups[index]
    if group.kind is not None or not _heading_shaped(group):
        return False
    if group.marker_kind == "number":
        # Consecutive numbered lines are a list, not a run of numbered headings.
        neighbours = [groups[i] for i in (index - 1, index + 1) if 0 <= i < len(groups)]
        return not any(other.marker_kind == "number" and other.kind is None for other in neighbours)
    return group.marker_kind == "hash" or group.first.underlined or _all_caps(group.text) or not _sentence_like(group)


def _sentence_like(group: _Group) -> bool:
    """A short line that reads as a sentence or a piece of one, not a heading.

    It has a sentence end inside it ("这是什么？我不知道", in scripts whose full stop is unambiguous), or a
    clause comma in a line of many words that is not a question (questions with a comma are common
    headings), or it starts with a small letter (the rest of a sentence split over lines) in a line of
    several words.
    """
    end = _stripped_end(group.text)
    if any(char in _SENTENCE_END for char in end[:-1]):
        return True
    if (group.words >= _CLAUSE_MIN_WORDS and any(char in _CLAUSE for char in group.text)
            and end[-1:] not in _QUESTION):
        return True
    return group.words >= _SMALL_START_MIN_WORDS and _starts_small(group)


def _strong_heading(group: _Group, caps: bool) -> bool:
    return (group.marker_kind == "hash" or group.first.underlined or bool(_CHAPTER.match(group.text))
            or (caps and _all_caps(group.text)))


def _mark_headings(groups: list[_Group]) -> None:
    """Short lines that open a block of content.

    Runs of three or more short lines are not headings (a poem, an address, a list without markers), nor
    are short lines right after a line introducing a list, nor any short line where most lines are
    short; Markdown, underlined and chapter headings always are, and so are lines in capitals where
    most of the document is not.
    """
    content = [i for i, group in enumerate(groups) if group.kind is None]
    caps = sum(_all_caps(groups[i].text) for i in content) < _CAPS_MAX_SHARE * len(content)
    # A dated line before the first prose is a byline or a dateline ("Written by Ada, revised 01/06/94"),
    # not the heading of what follows.
    header = next((i for i, group in enumerate(groups) if group.kind is None and _is_prose(group)), len(groups))
    candidate = {i: _heading_candidate(groups, i) and not (i < header and _dated(groups[i].text)) for i in content}
    # Where most lines are short (interface messages, verses, a poem), a short line is no sign of a
    # heading: only the strong signs count.
    weak = sum(candidate.values()) <= max(_SHORT_LINES_FREE, _SHORT_LINES_MAX_SHARE * len(content))
    position = 0
    while position < len(content):
        if not candidate[content[position]]:
            position += 1
            continue
        end = position
        while end < len(content) and candidate[content[end]]:
            end += 1
        run = [groups[i] for i in content[position:end]]
        following = groups[content[end]] if end < len(content) else None
        introduced = content[position] > 0 and _ends_colon(groups[content[position] - 1].text)
        opens_content = following is not None and (
            following.marker_kind != "" or _ends_colon(following.text)
            or (following.width >= run[-1].width and (_is_prose(following) or following.kind is not None)))
        strong = following is not None and all(_strong_heading(group, caps) for group in run)
        if strong or (weak and opens_content and len(run) <= 2 and not introduced):
            for group in run:
                group.kind = "heading"
        elif introduced:
            for group in run:
                group.kind = "list_item"
        position = end


def _mark_labelled_lists(groups: list[_Group]) -> None:
    for index, group in enumerate(groups):
        if group.kind is not None or not _ends_colon(group.text):
            continue
        end = index + 1
        while end < len(groups) and groups[end].kind is None and _labelled_item(groups[end]):
            end += 1
        if end - index - 1 >= 2:
            for item in groups[index + 1:end]:
                item.kind = "list_item"


def segment_text(text: str, script: str | None = None) -> list[Segment]:
    """Split a document into classified segments.

    ``script`` is the ISO 15924 code of the document's dominant script; it decides how hard-wrapped lines
    are joined where the characters at the break do not tell (no space for scripts written without spaces).
    """
    groups = _group_lines(_read_lines(text), script)
    _mark_numbered_headings(groups)
    _mark_stamps(groups)
    _mark_title(groups)
    _mark_author_box(groups)
    _mark_title_variants(groups)
    _mark_labelled_lists(groups)
    _mark_headings(groups)
    segments: list[Segment] = []
    section = 0
    for ordinal, group in enumerate(groups):
        kind: SegmentKind = group.kind or ("list_item" if group.marker_kind else "paragraph")
        if kind == "heading":
            section += 1
        segments.append(Segment(
            ordinal=ordinal, section=section, kind=kind, text=group.text,
            line_start=group.first.number, line_end=group.lines[-1].number,
            char_start=group.first.start, char_end=group.lines[-1].end,
        ))
    return segments
