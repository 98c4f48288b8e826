"""Rebuild eval/real/ (the development corpus of real translations) from the original package files.

Usage (see README.md beside this file for the download commands)::

    python eval/real/build_corpus.py PACKAGE_DIR [--out eval/real]

PACKAGE_DIR holds the files as the registries serve them: ``gnome-user-docs_43.0-2_all.deb`` and
``debian-history_2.28_all.deb`` (Debian), ``quran-json-3.1.2.tgz`` (npm) and
``Django-5.1.4-py3-none-any.whl`` (PyPI), and ``debian-reference-<lang>_2.100_all.deb`` for en, de, es, fr,
id, it, ja, pt, zh-cn and zh-tw (Debian). The script reads them in place (no tool but Python), takes
the translated texts out, lays each work's translations out as plain-text files the way users'
files look, and writes the gold (``gold.tsv``: every non-blank line with the source ids it carries)
and ``works.tsv`` (each file's work, kind of text, layout and true language tag). The text of every
file is the published translation; only its layout (line breaks, heading and bullet markers, line
ends, Unicode normal form) is made here. Deterministic: the same packages give the same bytes.

The gold comes from the sources' own ids, never from an aligner:

* Quran (npm quran-json): the chapter and verse numbers (``67:12``).
* GNOME Help (itstool-translated Mallard pages): the page file name and the position of each text
  block in the page, identical in every language since itstool rebuilds each translation from the
  English page's element tree; blocks still in English in a translation are dropped from that file.
* Debian history and Debian Reference (po4a-translated DocBook rendered to HTML): the position of each block (heading,
  paragraph, list item) in the chapter, identical in every language for the same reason; blocks
  still identical to the English in a translation are dropped.
* Django (gettext catalogues): the msgid (and msgctxt) of each message; untranslated and fuzzy
  messages are left out of that language's file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import tarfile
import textwrap
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# Reading the package files


def deb_members(path: Path, prefix: str) -> dict[str, bytes]:
    """Files under ``prefix`` in a Debian package's data archive (an ar archive holding data.tar.*)."""
    data = path.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise ValueError(f"{path} is not a Debian package")
    pos = 8
    while pos < len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                out = {}
                for member in tar.getmembers():
                    member_name = member.name.removeprefix("./")
                    if member.isfile() and member_name.startswith(prefix):
                        handle = tar.extractfile(member)
                        assert handle is not None
                        out[member_name] = handle.read()
                return out
    raise ValueError(f"{path} has no data archive")


def tgz_members(path: Path, prefix: str) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        out = {}
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(prefix):
                handle = tar.extractfile(member)
                assert handle is not None
                out[member.name] = handle.read()
        return out


def zip_members(path: Path, prefix: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in sorted(archive.namelist()) if name.startswith(prefix)}


# ---------------------------------------------------------------------------------------------
# Blocks: the text of a translation, unit by unit, before layout


@dataclass(frozen=True, slots=True)
class Block:
    unit: str  # source id, shared by the translations of this block
    role: str  # title, heading, para, item, code, verse
    text: str
    level: int = 1  # heading depth (1 = top) or list depth
    chapter: str = ""  # for verses: the chapter they belong to (paragraph grouping never crosses it)


def clean(text: str) -> str:
    return " ".join(text.split())


LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def untranslated(text: str, english: str) -> bool:
    """A block of a translation still in English: the same text as the English block, with words in it."""
    return text == english and bool(LATIN_WORD.search(text))


# --- Quran (npm quran-json) -------------------------------------------------------------------

QURAN_LANGS = {"ar": "quran.json", "bn": "quran_bn.json", "en": "quran_en.json", "es": "quran_es.json",
               "fr": "quran_fr.json", "id": "quran_id.json", "ru": "quran_ru.json", "sv": "quran_sv.json",
               "tr": "quran_tr.json", "ur": "quran_ur.json", "zh-Hans": "quran_zh.json"}


def quran_blocks(files: dict[str, bytes], lang: str, chapters: Sequence[int]) -> list[Block]:
    data = json.loads(files["package/dist/" + QURAN_LANGS[lang]])
    blocks = []
    for number in chapters:
        chapter = data[number - 1]
        assert chapter["id"] == number
        # the chapter's heading: its name as the translation gives it (the Arabic original: its own name);
        # a name spelled as in English ("Ya Sin") is a transliterated name, not untranslated text
        name = chapter["name"] if lang == "ar" else chapter["translation"]
        if name:
            blocks.append(Block(f"{number}:0", "heading", clean(name), chapter=str(number)))
        for verse in chapter["verses"]:
            text = verse["text"] if lang == "ar" else verse["translation"]
            blocks.append(Block(f"{number}:{verse['id']}", "verse", clean(text), chapter=str(number)))
    return blocks


# --- GNOME Help (Debian gnome-user-docs) --------------------------------------------------------

MAL = "{http://projectmallard.org/1.0/}"
GNOME_ROOT = "usr/share/help/"


def _mallard_text(element: ElementTree.Element) -> str:
    """The text of an inline run as yelp shows it (key sequences joined with '+', media left out)."""
    tag = element.tag.replace(MAL, "")
    if tag in ("media", "comment"):
        return element.tail or ""
    if tag == "keyseq":
        inner = "+".join(clean(_mallard_text_inner(child)) for child in element)
    else:
        inner = _mallard_text_inner(element)
    return inner + (element.tail or "")


def _mallard_text_inner(element: ElementTree.Element) -> str:
    return (element.text or "") + "".join(_mallard_text(child) for child in element)


def mallard_blocks(data: bytes, page: str) -> list[Block]:
    root = ElementTree.fromstring(data)
    blocks: list[Block] = []

    def walk(element: ElementTree.Element, depth: int, list_depth: int) -> None:
        tag = element.tag.replace(MAL, "")
        if tag in ("info", "links", "comment", "media"):
            return
        if tag == "title":
            role = "title" if depth == 0 else "heading"
            blocks.append(Block(f"{page}.{len(blocks)}", role, clean(_mallard_text_inner(element)), level=depth))
            return
        if tag in ("p", "desc"):
            role = "item" if list_depth else "para"
            blocks.append(Block(f"{page}.{len(blocks)}", role, clean(_mallard_text_inner(element)), level=list_depth))
            return
        if tag in ("code", "screen"):
            text = _mallard_text_inner(element).strip("\n")
            blocks.append(Block(f"{page}.{len(blocks)}", "code", text))
            return
        child_depth = depth + 1 if tag == "section" else depth
        child_list = list_depth + 1 if tag in ("list", "steps", "terms", "tree") else list_depth
        for child in element:
            walk(child, child_depth, child_list)

    walk(root, 0, 0)
    # an item whose first paragraph was seen marks the item; the others of the same item continue it
    return [b for b in blocks if b.text]


def gnome_blocks(files: dict[str, bytes], lang_dir: str, pages: Sequence[str]) -> tuple[list[Block], int, int]:
    """The blocks of a topic's pages in one language, untranslated blocks dropped; (blocks, kept, total)."""
    out: list[Block] = []
    kept = total = 0
    for page in pages:
        english = mallard_blocks(files[f"{GNOME_ROOT}C/gnome-help/{page}.page"], page)
        key = f"{GNOME_ROOT}{lang_dir}/gnome-help/{page}.page"
        if key not in files:
            continue
        translated = mallard_blocks(files[key], page)
        if [b.unit for b in translated] != [b.unit for b in english] or [b.role for b in translated] != [
                b.role for b in english]:
            raise ValueError(f"{lang_dir}/{page}: block structure differs from the English page")
        for en, tr in zip(english, translated, strict=True):
            total += 1
            if lang_dir == "C" or tr.role == "code" or not untranslated(tr.text, en.text):
                out.append(tr)
                kept += 1
    return out, kept, total


# --- Debian history (Debian debian-history, DocBook HTML) ----------------------------------------

HISTORY_ROOT = "usr/share/doc/debian-history/docs/"


class _HistoryParser(HTMLParser):
    """Headings, paragraphs and list items of a DocBook HTML chapter, navigation and contents left out."""

    SKIP_CLASSES = ("navheader", "navfooter", "toc")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int, str]] = []  # role, level, text
        self._skip_depth = 0
        self._div_depth = 0
        self._open: tuple[str, int] | None = None
        self._text: list[str] = []
        self._li_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self._div_depth += 1
            if self._skip_depth == 0 and any(c in self.SKIP_CLASSES for c in classes):
                self._skip_depth = self._div_depth
        if self._skip_depth:
            return
        if tag in ("ul", "ol"):
            self._li_depth += 1
        if self._open is None:
            if re.fullmatch(r"h[1-6]", tag):
                self._open = ("heading", int(tag[1]))
                self._text = []
            elif tag == "p":
                self._open = ("item" if self._li_depth else "para", self._li_depth)
                self._text = []
            elif tag == "li":
                self._open = ("item", self._li_depth)
                self._text = []
            elif tag == "pre":
                self._open = ("code", 0)
                self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self._skip_depth == self._div_depth:
                self._skip_depth = 0
            self._div_depth -= 1
            return
        if self._skip_depth:
            return
        if tag in ("ul", "ol"):
            self._li_depth -= 1
        closes = {"heading": re.fullmatch(r"h[1-6]", tag) is not None, "para": tag == "p",
                  "item": tag in ("p", "li"), "code": tag == "pre"}
        if self._open is not None and closes[self._open[0]]:
            role, level = self._open
            text = "".join(self._text)
            self.blocks.append((role, level, text.strip("\n") if role == "code" else clean(text)))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None and not self._skip_depth:
            self._text.append(data)


def history_blocks(files: dict[str, bytes], chapter: str, lang: str, limit: int | None = None,
                   root: str = HISTORY_ROOT) -> tuple[list[Block], int, int]:
    """The blocks of a DocBook HTML chapter in one language (the first ``limit`` of the English ones),
    untranslated blocks dropped; (blocks, kept, total)."""
    def parse(code: str) -> list[tuple[str, int, str]]:
        parser = _HistoryParser()
        parser.feed(files[f"{root}{chapter}.{code}.html"].decode("utf-8"))
        return [b for b in parser.blocks if b[2]]

    english, translated = parse("en"), parse(lang)
    if [(r, lv) for r, lv, _ in english] != [(r, lv) for r, lv, _ in translated]:
        raise ValueError(f"{chapter}.{lang}: block structure differs from the English chapter")
    out: list[Block] = []
    kept = total = 0
    for index, ((_, _, en), (role, level, text)) in enumerate(zip(english, translated, strict=True)):
        if limit is not None and index >= limit:
            break
        total += 1
        if lang != "en" and role != "code" and untranslated(text, en):
            continue  # code (commands, file contents) is the same in every language; prose left in English is not
        kept += 1
        if role == "heading":
            role = "title" if level == 1 else "heading"
            level -= 1
        out.append(Block(f"{chapter}.{index}", role, text, level=level))
    return out, kept, total


# --- Django (PyPI wheel, gettext catalogues) ----------------------------------------------------


def _po_string(lines: list[str]) -> str:
    out = []
    for line in lines:
        body = line[line.index('"') + 1:line.rindex('"')]
        out.append(re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body))
    return "".join(out)


def po_messages(data: bytes) -> list[tuple[str, str]]:
    """(id, translation) of each translated, non-fuzzy message, in file order; id = msgctxt|msgid."""
    entries: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    key = ""
    for raw in [*data.decode("utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if current:
                entries.append(current)
            current, key = {}, ""
            continue
        if line.startswith("#,"):
            current.setdefault("flags", []).append(line)
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s", line)
        if match:
            key = match.group(1)
            current.setdefault(key, []).append(line[match.end():])
        elif line.startswith('"') and key:
            current[key].append(line)
    out = []
    for entry in entries:
        if "msgid" not in entry or any("fuzzy" in f for f in entry.get("flags", [])):
            continue
        msgid = _po_string(entry["msgid"])
        if not msgid:
            continue  # the header
        context = _po_string(entry["msgctxt"]) if "msgctxt" in entry else ""
        translation = _po_string(entry.get("msgstr") or entry.get("msgstr[0]") or ['""'])
        out.append((f"{context}|{msgid}" if context else msgid, translation))
    return out


def django_blocks(files: dict[str, bytes], catalogue: str, locale: str, limit: int) -> list[Block]:
    """The first ``limit`` messages of the English catalogue, as one language translates them."""
    english = po_messages(files[f"{catalogue}/en/LC_MESSAGES/django.po"])
    ids = [msgid for msgid, _ in english][:limit]
    if locale == "en":
        translated = {msgid: msgid.split("|", 1)[-1] for msgid in ids}
    else:
        translated = {msgid: text for msgid, text in po_messages(files[f"{catalogue}/{locale}/LC_MESSAGES/django.po"])
                      if text}
    blocks = []
    for index, msgid in enumerate(ids):
        if msgid in translated:
            text = clean(translated[msgid].replace("\n", " "))
            if text:
                digest = hashlib.sha1(msgid.encode("utf-8")).hexdigest()[:8]
                blocks.append(Block(f"msg{index:03d}-{digest}", "para", text))
    return blocks


# ---------------------------------------------------------------------------------------------
# Layouts: blocks -> lines, each line with the units it carries


@dataclass(slots=True)
class Laid:
    lines: list[tuple[str, list[str], str]] = field(default_factory=list)  # text, units, note

    def add(self, text: str, units: Sequence[str] = (), note: str = "") -> None:
        self.lines.append((text, list(units), note))

    def blank(self) -> None:
        if self.lines and self.lines[-1][0] != "":
            self.add("")


def spaced(text: str) -> bool:
    """Whether a text separates its words with spaces (hard-wrapping is only done for such text)."""
    return text.count(" ") * 12 >= len(text)


def wrapped(text: str, width: int) -> list[str]:
    if not spaced(text) or len(text) <= width:
        return [text]
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def display_width(text: str) -> int:
    """Columns a text takes in a terminal: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def heading_number(counters: list[int], level: int) -> str:
    while len(counters) < level:
        counters.append(0)
    del counters[level:]
    counters[level - 1] += 1
    return ".".join(str(c) for c in counters)


LEADING_NUMBER = re.compile(r"^(?:[A-Z]|\d+)(?:\.\d+)*\.\s+")


def strip_number(text: str) -> str:
    """A heading's own section number ("4.2. ", "A.1. ") taken off, for layouts that number or mark their own."""
    return LEADING_NUMBER.sub("", text)


def layout_markdown(blocks: Sequence[Block], width: int | None = 72) -> Laid:
    """Blank-line paragraphs hard-wrapped, title underlined with '=', headings with '-', '-' bullets."""
    out = Laid()
    for block in blocks:
        if block.role in ("title", "heading"):
            text = strip_number(block.text)
            out.blank()
            out.add(text, [block.unit])
            underline = "=" if block.role == "title" else "-"
            out.add(underline * max(3, min(display_width(text), 60)), [], "underline of a heading")
            out.blank()
        elif block.role == "code":
            out.blank()
            for line in block.text.splitlines():
                if line.strip():
                    out.add("    " + line.rstrip(), [block.unit])
            out.blank()
        elif block.role == "item":
            indent = "  " * max(0, block.level - 1)
            lines = wrapped(block.text, (width or 10_000) - len(indent) - 2)
            out.add(f"{indent}- {lines[0]}", [block.unit])
            for line in lines[1:]:
                out.add(f"{indent}  {line}", [block.unit])
        else:
            out.blank()
            for line in wrapped(block.text, width or 10_000):
                out.add(line, [block.unit])
            out.blank()
    return out


def layout_source_numbered(blocks: Sequence[Block], width: int = 78) -> Laid:
    """Headings with the source's own numbers ("2.1.1. ..."), blank-line paragraphs hard-wrapped at ``width``,
    '*' bullets without indentation."""
    out = Laid()
    for block in blocks:
        if block.role in ("title", "heading"):
            out.blank()
            out.add(block.text, [block.unit])
            out.blank()
        elif block.role == "item":
            lines = wrapped(block.text, width - 2)
            out.add(f"* {lines[0]}", [block.unit])
            for line in lines[1:]:
                out.add(f"  {line}", [block.unit])
        elif block.role == "code":
            for line in block.text.splitlines():
                if line.strip():
                    out.add("    " + line.rstrip(), [block.unit])
        else:
            out.blank()
            for line in wrapped(block.text, width):
                out.add(line, [block.unit])
            out.blank()
    return out


def layout_numbered(blocks: Sequence[Block], bullet: str = "•") -> Laid:
    """No blank lines, one paragraph per line, headings numbered 1 / 1.1 / ..., bullets of one kind."""
    out = Laid()
    counters: list[int] = []
    for block in blocks:
        if block.role == "title":
            out.add(strip_number(block.text), [block.unit])
        elif block.role == "heading":
            out.add(f"{heading_number(counters, max(1, block.level))} {strip_number(block.text)}", [block.unit])
        elif block.role == "item":
            out.add(f"{'  ' * max(0, block.level - 1)}{bullet} {block.text}", [block.unit])
        elif block.role == "code":
            for line in block.text.splitlines():
                if line.strip():
                    out.add("\t" + line.rstrip(), [block.unit])
        else:
            out.add(block.text, [block.unit])
    return out


def layout_capitals(blocks: Sequence[Block]) -> Laid:
    """Headings in capitals (where the script has case), blank-line paragraphs on one line, '*' bullets."""
    out = Laid()
    for block in blocks:
        if block.role in ("title", "heading"):
            out.blank()
            out.add(strip_number(block.text).upper(), [block.unit])
            out.blank()
        elif block.role == "item":
            out.add(f"{'    ' * max(0, block.level - 1)}  * {block.text}", [block.unit])
        elif block.role == "code":
            out.blank()
            for line in block.text.splitlines():
                if line.strip():
                    out.add("    " + line.rstrip(), [block.unit])
            out.blank()
        else:
            out.blank()
            out.add(block.text, [block.unit])
            out.blank()
    return out


def layout_verse_lines(blocks: Sequence[Block], numbered: bool) -> Laid:
    """One verse per line; chapters headed "<n>. <name>" with a blank line around; verses numbered or not."""
    out = Laid()
    for block in blocks:
        if block.role == "heading":
            out.blank()
            out.add(f"{block.chapter}. {block.text}", [block.unit])
            out.blank()
        else:
            number = block.unit.split(":")[1]
            out.add(f"{number} {block.text}" if numbered else block.text, [block.unit])
    return out


def layout_verse_paragraphs(blocks: Sequence[Block], per_paragraph: int, width: int) -> Laid:
    """Verses run together in paragraphs of ``per_paragraph`` verses, numbered inline "(n)", hard-wrapped
    where the script uses spaces; a line carries the units of the verses whose text it holds."""
    out = Laid()
    group: list[Block] = []

    def flush() -> None:
        if not group:
            return
        pieces = [(f"({b.unit.split(':')[1]}) {b.text}", b.unit) for b in group]
        joiner = " " if spaced(" ".join(p for p, _ in pieces)) else ""
        text = joiner.join(p for p, _ in pieces)
        spans = []
        pos = 0
        for piece, unit in pieces:
            spans.append((pos, pos + len(piece), unit))
            pos += len(piece) + len(joiner)
        out.blank()
        start = 0
        for line in wrapped(text, width):
            begin = text.index(line, start)
            end = begin + len(line)
            units = [u for s, e, u in spans if s < end and e > begin]
            out.add(line, units)
            start = end
        out.blank()
        group.clear()

    for block in blocks:
        if block.role == "heading":
            flush()
            out.blank()
            out.add(f"[{block.chapter}] {block.text}", [block.unit])
            out.blank()
        else:
            if group and (len(group) >= per_paragraph or group[0].chapter != block.chapter):
                flush()
            group.append(block)
    flush()
    return out


def layout_message_lines(blocks: Sequence[Block]) -> Laid:
    out = Laid()
    for block in blocks:
        out.add(block.text, [block.unit])
    return out


def layout_message_paragraphs(blocks: Sequence[Block]) -> Laid:
    out = Laid()
    for block in blocks:
        out.blank()
        out.add(block.text, [block.unit])
    return out


# ---------------------------------------------------------------------------------------------
# Works


@dataclass(frozen=True, slots=True)
class Work:
    kind: str  # articles, technical, narrative
    name: str
    layout: str  # a short description, recorded in works.tsv
    layout_fn: Callable[[Sequence[Block]], Laid]
    files: dict[str, list[Block]]  # file name -> its blocks
    langs: dict[str, str]  # file name -> language tag
    crlf: bool = False
    nfd: frozenset[str] = frozenset()  # file names stored decomposed (NFD)
    bom: frozenset[str] = frozenset()  # file names that start with a UTF-8 byte-order mark
    sentence_per_line: bool = False


def _gnome_lang(tag: str) -> str:
    return {"en": "C", "zh-Hans": "zh_CN"}.get(tag, tag)


GNOME_WORKS = {
    "gnome-backup": ["backup-why", "backup-frequency", "backup-what", "backup-where", "backup-how",
                     "backup-restore", "backup-thinkabout"],
    "gnome-power": ["power-batterylife", "power-batteryslow", "power-batterywindows", "power-constantfan",
                    "power-closelid", "power-autosuspend", "power-hotcomputer"],
    "gnome-color": ["color-whatisspace", "color-why-calibrate", "color-missingvcgt", "color-calibrate-screen",
                    "color-testing", "color-howtoimport"],
}
GNOME_LANGS = {
    "gnome-backup": ["en", "de", "ru", "uk", "zh-Hans", "ko", "vi", "mr", "el", "pl", "id", "gu"],
    "gnome-power": ["en", "fr", "es", "ru", "ko", "hu", "sv", "uk", "sr", "pt", "id", "nl"],
    "gnome-color": ["en", "de", "fr", "ru", "uk", "ko", "el", "id", "pl", "es", "hr", "lv"],
}
HISTORY_LANGS = ["en", "de", "es", "fr", "it", "ja", "ko", "lt", "pt", "ru"]
REFERENCE_ROOT = "usr/share/debian-reference/"
REFERENCE_LANGS = {"en": "en", "de": "de", "es": "es", "fr": "fr", "id": "id", "it": "it", "ja": "ja", "pt": "pt",
                   "zh-Hans": "zh-cn", "zh-Hant": "zh-tw"}
DJANGO_LANGS = ["en", "th", "zh-Hant", "zh-Hans", "ar", "he", "hi", "ko", "ja", "vi", "ru", "fa"]
DJANGO_LOCALES = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans"}


def works(packages: Path, coverage: dict[str, str]) -> list[Work]:
    quran = tgz_members(packages / "quran-json-3.1.2.tgz", "package/dist/quran")
    gnome = deb_members(packages / "gnome-user-docs_43.0-2_all.deb", GNOME_ROOT)
    history = deb_members(packages / "debian-history_2.28_all.deb", HISTORY_ROOT)
    django = zip_members(packages / "Django-5.1.4-py3-none-any.whl", "django/")
    reference: dict[str, bytes] = {}
    for code in REFERENCE_LANGS.values():
        reference.update(deb_members(packages / f"debian-reference-{code}_2.100_all.deb", REFERENCE_ROOT))
    out: list[Work] = []

    def quran_work(name: str, chapters: Sequence[int], layout: str, fn: Callable[[Sequence[Block]], Laid],
                   naming: Callable[[str], str], **kw: object) -> Work:
        files = {naming(lang): quran_blocks(quran, lang, chapters) for lang in QURAN_LANGS}
        return Work("articles", name, layout, fn, files, {naming(lang): lang for lang in QURAN_LANGS},
                    **kw)  # type: ignore[arg-type]

    out.append(quran_work("quran-78-80", [78, 79, 80], "numbered chapter headings, one verse per line numbered",
                          lambda b: layout_verse_lines(b, numbered=True), lambda lang: f"surahs-78-80.{lang}.txt"))
    out.append(quran_work("quran-67-68", [67, 68],
                          "bracketed chapter numbers, verses run together in paragraphs, hard-wrapped, CRLF",
                          lambda b: layout_verse_paragraphs(b, 4, 72),
                          lambda lang: f"al-mulk-{sorted(QURAN_LANGS).index(lang) + 1:02d}.txt", crlf=True))
    out.append(quran_work("quran-36", [36], "one sentence (verse) per line, no numbers; two files NFD",
                          lambda b: layout_verse_lines(b, numbered=False), lambda lang: f"yasin_{lang}.txt",
                          nfd=frozenset({"yasin_fr.txt", "yasin_tr.txt"}), sentence_per_line=True))

    def gnome_work(name: str, layout: str, fn: Callable[[Sequence[Block]], Laid], naming: Callable[[str], str],
                   **kw: object) -> Work:
        files: dict[str, list[Block]] = {}
        langs = {}
        for lang in GNOME_LANGS[name]:
            blocks, kept, total = gnome_blocks(gnome, _gnome_lang(lang), GNOME_WORKS[name])
            coverage[f"technical/{name}/{naming(lang)}"] = f"{kept}/{total} blocks translated"
            files[naming(lang)] = blocks
            langs[naming(lang)] = lang
        return Work("technical", name, layout, fn, files, langs, **kw)  # type: ignore[arg-type]

    out.append(gnome_work("gnome-backup",
                          "underlined headings, blank-line paragraphs hard-wrapped, '-' bullets; Vietnamese NFD",
                          layout_markdown, lambda lang: f"backup.{lang}.txt", nfd=frozenset({"backup.vi.txt"})))
    out.append(gnome_work("gnome-power", "numbered headings, no blank lines, '•' bullets, CRLF; Portuguese NFD",
                          layout_numbered, lambda lang: f"power-{GNOME_LANGS['gnome-power'].index(lang):02d}.txt",
                          crlf=True, nfd=frozenset({f"power-{GNOME_LANGS['gnome-power'].index('pt'):02d}.txt"})))
    out.append(gnome_work("gnome-color", "headings in capitals, blank-line paragraphs on one line, '*' bullets",
                          layout_capitals, lambda lang: f"colour_{lang}.txt"))

    reference_files: dict[str, list[Block]] = {}
    for lang, code in REFERENCE_LANGS.items():
        blocks, kept, total = history_blocks(reference, "ch02", code, 90, root=REFERENCE_ROOT)
        name = f"reference-ch02.{lang}.txt"
        coverage[f"technical/debian-reference/{name}"] = f"{kept}/{total} blocks translated"
        reference_files[name] = blocks
    out.append(Work("technical", "debian-reference",
                    "headings with their own numbers (2.1.1.), blank-line paragraphs hard-wrapped at 78 columns, "
                    "'*' bullets; the Traditional Chinese file with a UTF-8 byte-order mark",
                    layout_source_numbered, reference_files,
                    {f"reference-ch02.{lang}.txt": lang for lang in REFERENCE_LANGS},
                    bom=frozenset({"reference-ch02.zh-Hant.txt"})))

    def django_work(name: str, catalogue: str, limit: int, layout: str, fn: Callable[[Sequence[Block]], Laid],
                    naming: Callable[[str], str], **kw: object) -> Work:
        files = {naming(lang): django_blocks(django, catalogue, DJANGO_LOCALES.get(lang, lang), limit)
                 for lang in DJANGO_LANGS}
        return Work("technical", name, layout, fn, files, {naming(lang): lang for lang in DJANGO_LANGS},
                    **kw)  # type: ignore[arg-type]

    out.append(django_work("django-admin", "django/contrib/admin/locale", 120, "one interface message per line",
                           layout_message_lines, lambda lang: f"admin-{lang}.txt", sentence_per_line=True))
    out.append(django_work("django-auth", "django/contrib/auth/locale", 80,
                           "one interface message per blank-line paragraph, CRLF", layout_message_paragraphs,
                           lambda lang: f"auth.{DJANGO_LANGS.index(lang):02d}.txt", crlf=True))

    def history_work(name: str, chapters: Sequence[tuple[str, int | None]], layout: str,
                     fn: Callable[[Sequence[Block]], Laid], naming: Callable[[str], str], **kw: object) -> Work:
        files: dict[str, list[Block]] = {}
        for lang in HISTORY_LANGS:
            blocks: list[Block] = []
            kept = total = 0
            for chapter, limit in chapters:
                b, k, t = history_blocks(history, chapter, lang, limit)
                blocks += b
                kept += k
                total += t
            coverage[f"narrative/{name}/{naming(lang)}"] = f"{kept}/{total} blocks translated"
            files[naming(lang)] = blocks
        return Work("narrative", name, layout, fn, files, {naming(lang): lang for lang in HISTORY_LANGS},
                    **kw)  # type: ignore[arg-type]

    out.append(history_work("debian-manifesto", [("manifesto", None)],
                            "underlined headings, blank-line paragraphs hard-wrapped at 72 columns",
                            layout_markdown, lambda lang: f"manifesto.{lang}.txt"))
    out.append(history_work("debian-history", [("intro", None), ("leaders", None)],
                            "numbered headings, one paragraph per line, no blank lines, CRLF; French and Russian NFD",
                            lambda b: layout_numbered(b, "–"), lambda lang: f"history-{lang}.txt", crlf=True,
                            nfd=frozenset({"history-fr.txt", "history-ru.txt"})))
    out.append(history_work("debian-detailed", [("detailed", 70)],
                            "headings in capitals, blank-line paragraphs on one line, '*' bullets",
                            layout_capitals, lambda lang: f"detailed_{HISTORY_LANGS.index(lang):02d}.txt"))
    return out


# ---------------------------------------------------------------------------------------------
# Writing


def write(packages: Path, out_dir: Path) -> None:
    coverage: dict[str, str] = {}
    all_works = works(packages, coverage)
    gold_rows: list[tuple[str, int, str, str]] = []
    work_rows: list[tuple[str, str, str, str, str, str, str]] = []
    for work in all_works:
        folder = out_dir / work.kind / work.name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.txt"):
            old.unlink()
        for name in sorted(work.files):
            laid = work.layout_fn(work.files[name])
            lines = list(laid.lines)
            while lines and lines[-1][0] == "":
                lines.pop()
            while lines and lines[0][0] == "":
                lines.pop(0)
            text = "\n".join(t for t, _, _ in lines) + "\n"
            if name in work.nfd:
                text = unicodedata.normalize("NFD", text)
            if work.crlf:
                text = text.replace("\n", "\r\n")
            bom = "\ufeff" if name in work.bom else ""
            (folder / name).write_bytes((bom + text).encode("utf-8"))
            rel = f"{work.kind}/{work.name}/{name}"
            for number, (line, units, note) in enumerate(lines, start=1):
                if line.strip():
                    gold_rows.append((rel, number, "+".join(dict.fromkeys(units)), note))
            notes = []
            if name in work.nfd:
                notes.append("NFD")
            if name in work.bom:
                notes.append("BOM")
            if work.crlf:
                notes.append("CRLF")
            if rel in coverage:
                notes.append(coverage[rel])
            work_rows.append((rel, work.kind, work.name, work.langs[name], work.layout,
                              "yes" if work.sentence_per_line else "no", "; ".join(notes)))
    with (out_dir / "gold.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(["file", "line", "unit", "note"])
        writer.writerows(gold_rows)
    with (out_dir / "works.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(["file", "kind", "work", "lang", "layout", "sentence_per_line", "note"])
        writer.writerows(work_rows)


def _iter_sizes(out_dir: Path) -> Iterator[tuple[str, int]]:
    for path in sorted(out_dir.rglob("*.txt")):
        yield str(path.relative_to(out_dir)), path.stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("packages", type=Path, help="folder holding the downloaded package files")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    write(args.packages, args.out)
    total = sum(size for _, size in _iter_sizes(args.out))
    print(f"wrote {sum(1 for _ in _iter_sizes(args.out))} files, {total / 1e6:.2f} MB, under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
