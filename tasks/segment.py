"""Segmentation: title, headings/sections, paragraphs, list items and boilerplate, with offsets.

The segmenter works on physical lines (split only on \\n, \\r\\n and \\r, so that line numbers match a
text editor), groups them into segments (hard-wrapped prose and list-item continuations are joined) and
classifies each segment from general layout signals: position, length, final punctuation, markers,
repetition of the title and a short multilingual list of publication-stamp words. Every rule is decided
per document from its own statistics, never from a known language.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
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
# "第一章", "第3节": a chapter label that stays part of the heading's text.
_CHAPTER = re.compile(r"第[一二三四五六七八九十百千零〇\d]{1,6}[章节節部篇回卷]")
_LABELLED = re.compile(r"([^:：]{1,80}?)\s*(?::\s+|：\s*)(\S.*)")
_TABLE_CELLS = re.compile(r"\S\t+\S|\|.*\|")

# Characters that end a sentence or a clause; a heading or title does not end with one of them.
# Question marks are allowed: question headings are common.
_FINAL = frozenset(".!。！．｡;；,，、،।॥۔።။។៕…")
_COLON = frozenset(":：")
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
_TINY_MAX_WORDS = 3
_STAMP_MAX_WORDS = 6
_STAMP_MAX_WIDTH = 64
_LABEL_MAX_WIDTH = 48
_LABEL_MAX_WORDS = 6
_WRAP_MAX_WIDTH = 200  # nobody hard-wraps prose wider than this
_WRAP_MIN_WIDTH = 30
_HEADER_MAX = 12  # segments from the start where an author box may begin
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
            table=bool(_TABLE_CELLS.search(stripped)), width=_display_width(stripped),
        ))
    return lines


def _first_word_width(line: _Line) -> int:
    if line.body and _is_no_space_char(line.body[0]):
        return _display_width(line.body[0])
    return _display_width(line.body.split(maxsplit=1)[0]) if line.body else 0


def _wrap_width(lines: list[_Line | None]) -> int | None:
    """The width prose was hard-wrapped at, or None when lines are not hard-wrapped.

    Wrapped prose needs blank lines to tell paragraphs apart, keeps every line within a modest width, and
    most lines that are followed by another line of their block run close to that width.
    """
    present = [line for line in lines if line is not None]
    blanks = len(lines) - len(present)
    if not present or blanks * 30 < len(present):
        return None
    widths = sorted(line.width for line in present)
    wrap = widths[min(len(widths) - 1, (len(widths) * 95) // 100)]
    if not _WRAP_MIN_WIDTH <= wrap <= _WRAP_MAX_WIDTH:
        return None
    continued = [line.width for line, after in itertools.pairwise(lines)
                 if line is not None and after is not None]
    if not continued or sum(width >= 0.7 * wrap for width in continued) * 2 < len(continued):
        return None
    return wrap


def _continues(previous: _Line, line: _Line, wrap: int | None) -> bool:
    """Whether ``line`` is the hard-wrapped continuation of ``previous`` (same block, no blank between)."""
    if wrap is None or line.marker_kind or line.table or previous.table or previous.marker_kind == "hash":
        return False
    if previous.width + 1 + _first_word_width(line) < 0.8 * wrap:
        return False
    if previous.marker_kind:
        return line.indent > previous.indent
    return line.indent <= previous.indent


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
    wrap = _wrap_width(lines)
    no_space_hint = script in _NO_SPACE_SCRIPTS
    groups: list[_Group] = []
    previous: _Line | None = None
    for line in lines:
        if line is not None and previous is not None and _continues(previous, line, wrap):
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
    return bool(end) and end[-1] in _FINAL


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
    if match and _stamp_continues(match.group(), folded[match.end():]):
        return True
    return _is_date(folded)


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
    return (group.marker_kind in ("", "hash") and not group.first.table and group.width <= _TITLE_MAX_WIDTH
            and _has_word_char(group.text) and bool(end) and end[-1] not in _FINAL
            and end[-1] not in _COLON)


def _heading_shaped(group: _Group) -> bool:
    if group.first.table or group.marker_kind == "bullet" or len(group.lines) > 1:
        return False
    limit = 2 * _HEADING_MAX_WIDTH if group.marker_kind == "hash" else _HEADING_MAX_WIDTH
    return (group.width <= limit and group.words <= _HEADING_MAX_WORDS and _has_word_char(group.text)
            and not _ends_final(group.text) and not _ends_colon(group.text))


def _labelled_item(group: _Group) -> bool:
    """A "Short label: longer sentence" line, the layout of a list written without markers."""
    match = _LABELLED.match(group.text)
    if not match or group.marker_kind:
        return False
    label, rest = match.group(1), match.group(2)
    label_width = _display_width(label)
    return (label_width <= _LABEL_MAX_WIDTH and len(label.split()) <= _LABEL_MAX_WORDS
            and not any(char in _FINAL for char in label) and _display_width(rest) > label_width)


def _mark_boilerplate(groups: list[_Group]) -> None:
    for group in groups:
        if not _has_word_char(group.text) or (not group.first.body and group.marker_kind) or _is_stamp(group):
            group.kind = "boilerplate"
    # An author box, byline or menu: a run of three or more tiny lines that starts in the header (the
    # first few segments, before any prose), does not follow a line introducing a list and gives way to
    # longer lines (a text made only of short lines, like a poem, has no author box).
    header = min(_HEADER_MAX, next((i for i, group in enumerate(groups) if _is_prose(group)), len(groups)))
    index = 0
    while index < header:
        end = index
        while end < len(groups) and groups[end].kind is None and _is_tiny(groups[end]):
            end += 1
        introduced = index > 0 and _ends_colon(groups[index - 1].text)
        if end - index >= 3 and end < len(groups) and not introduced:
            for group in groups[index:end]:
                group.kind = "boilerplate"
        index = max(end, index + 1)


def _mark_title(groups: list[_Group]) -> None:
    """The first content line if it is title-shaped; the next one too if it rewords or repeats it.

    Web pages often give the title twice (the page title, then the article's own): both are the
    work's title, translated in the other versions, so a second title line is a title even when it
    repeats the first word for word (the aligner joins title variants into one bead). A repeat
    further down, in the body, is page chrome: boilerplate.
    """
    content = [group for group in groups if group.kind is None]
    if not content or not _title_shaped(content[0]):
        return
    title = content[0]
    title.kind = "title"
    key = _fingerprint(title.text)
    second = content[1] if len(content) > 1 else None
    if (second is not None and _title_shaped(second) and second.marker_kind == title.marker_kind
            and _similarity(key, _fingerprint(second.text)) >= _SUBTITLE_SIMILARITY):
        second.kind = "title"
    if not key:
        return
    for group in content[1:]:
        if group.kind is not None or not 0.8 <= len(group.text) / len(title.text) <= 1.25:
            continue
        if _similarity(key, _fingerprint(group.text)) >= _DUPLICATE_SIMILARITY:
            group.kind = "boilerplate"


def _heading_candidate(groups: list[_Group], index: int) -> bool:
    group = groups[index]
    if group.kind is not None or not _heading_shaped(group):
        return False
    if group.marker_kind == "number":
        # Consecutive numbered lines are a list, not a run of numbered headings.
        neighbours = [groups[i] for i in (index - 1, index + 1) if 0 <= i < len(groups)]
        return not any(other.marker_kind == "number" and other.kind is None for other in neighbours)
    return True


def _strong_heading(group: _Group) -> bool:
    return group.marker_kind == "hash" or bool(_CHAPTER.match(group.text))


def _mark_headings(groups: list[_Group]) -> None:
    """Short lines that open a block of content.

    Runs of three or more short lines are not headings (a poem, an address, a list without markers), nor
    are short lines right after a line introducing a list; Markdown and chapter headings always are.
    """
    content = [i for i, group in enumerate(groups) if group.kind is None]
    candidate = {i: _heading_candidate(groups, i) for i in content}
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
            following.marker_kind != "" or following.width >= run[-1].width or _ends_colon(following.text))
        strong = following is not None and all(map(_strong_heading, run))
        if strong or (opens_content and len(run) <= 2 and not introduced):
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
    _mark_boilerplate(groups)
    _mark_title(groups)
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
