"""Exporting language pairs of a built corpus (read through ``tasks.io.reader``) to common formats.

Export formats, each safe for any text a document may hold:

* **TMX 1.4b**: characters XML 1.0 forbids (most C0 controls, so also the ESC of ANSI sequences,
  U+FFFE, U+FFFF) are removed, everything else is escaped (so the text reads back exactly otherwise);
  no DOCTYPE, so no parser fetches a DTD.
* **Moses**: ``DEST.<src>`` and ``DEST.<tgt>``, line *n* of one the translation of line *n* of the
  other. Every line break (including U+2028, U+2029, NEL, VT, FF) and tab becomes a space, other
  control characters are removed, so the two files always have the same number of lines.
* **TSV**: a header ``<src>\\t<tgt>\\tscore``, then one pair a line. Backslash, tab, newline and
  carriage return are escaped as ``\\\\``, ``\\t``, ``\\n``, ``\\r`` (so the file is lossless for them and
  never gains a column or a line); other control characters are removed. Text is not altered
  otherwise: a sentence may well start with ``-`` or ``=``. For a file to open in a spreadsheet,
  ``spreadsheet_safe`` prefixes a cell starting with ``= + - @`` with ``'`` so it is not run as a formula.
* **JSONL**: one object a line, ``{"work_id", "score", "translation": {src, tgt}, "segment_ids"}``
  (the shape of Hugging Face's translation datasets); every control character, DEL, U+2028 and U+2029
  is written as a ``\\u`` escape.

:func:`export_pairs` writes one language pair to one file; :func:`export_every_pair` writes every pair
of languages that share a work, one file per pair, into a folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal, get_args
from xml.sax.saxutils import escape, quoteattr

from tasks.errors import DestinationError, UnknownLanguageError
from tasks.files import atomic_text
from tasks.io.reader import (
    Corpus,
    Pair,
    PairSource,
    iter_pairs,
)

__all__ = [
    "FORMATS",
    "ExportResult",
    "Format",
    "export_every_pair",
    "export_pairs",
    "one_line",
    "tsv_cell",
    "xml_text",
]


Format = Literal["tmx", "tsv", "jsonl", "moses"]


FORMATS: tuple[str, ...] = get_args(Format)


_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_LINE_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


_TSV_SPECIAL = re.compile(r"[\\\t\n\r]")


_FORMULA_TRIGGERS = ("=", "+", "-", "@")


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def xml_text(text: str) -> str:
    """Text as XML 1.0 character data: forbidden characters removed, markup characters escaped, and
    carriage returns as a character reference, which a parser keeps (a raw one it turns into a newline)."""
    return escape(_XML_FORBIDDEN.sub("", text), {"\r": "&#13;"})


def one_line(text: str) -> str:
    """Text on one line: line breaks and tabs become spaces, other control characters are removed."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", text))


def tsv_cell(text: str, spreadsheet_safe: bool = False) -> str:
    escaped = one_line(_TSV_SPECIAL.sub(lambda m: _TSV_ESCAPES[m.group()], text))
    if spreadsheet_safe and escaped.startswith(_FORMULA_TRIGGERS):
        return "'" + escaped
    return escaped


def _json_line(value: object) -> str:
    dumped = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def _tool_version() -> str:
    try:
        return version("parallel-corpus")
    except PackageNotFoundError:
        return "unknown"


def write_tmx(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src, tgt = langs
    n = 0
    with atomic_text(dest) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n')
        out.write(f'<header creationtool="parallel-corpus" creationtoolversion={quoteattr(_tool_version())} '
                  f'segtype="paragraph" o-tmf="parallel-corpus" adminlang="en" srclang={quoteattr(src)} '
                  'datatype="plaintext"/>\n<body>\n')
        for pair in pairs:
            n += 1
            out.write(
                f'<tu tuid="{n}"><prop type="x-score">{pair.score:.6g}</prop>'
                f'<prop type="x-work">{xml_text(pair.work_id)}</prop>'
                f'<tuv xml:lang={quoteattr(src)}><seg>{xml_text(pair.src)}</seg></tuv>'
                f'<tuv xml:lang={quoteattr(tgt)}><seg>{xml_text(pair.tgt)}</seg></tuv></tu>\n'
            )
        out.write("</body>\n</tmx>\n")
    return n


def write_tsv(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path, spreadsheet_safe: bool = False) -> int:
    n = 0
    with atomic_text(dest) as out:
        out.write(f"{tsv_cell(langs[0])}\t{tsv_cell(langs[1])}\tscore\n")
        for pair in pairs:
            n += 1
            out.write(f"{tsv_cell(pair.src, spreadsheet_safe)}\t{tsv_cell(pair.tgt, spreadsheet_safe)}\t"
                      f"{pair.score:.6g}\n")
    return n


def write_jsonl(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src, tgt = langs
    n = 0
    with atomic_text(dest) as out:
        for pair in pairs:
            n += 1
            out.write(_json_line({
                "work_id": pair.work_id, "score": pair.score,
                "translation": {src: pair.src, tgt: pair.tgt},
                "segment_ids": {src: list(pair.src_ids), tgt: list(pair.tgt_ids)},
            }) + "\n")
    return n


def moses_paths(dest: Path, langs: tuple[str, str]) -> tuple[Path, Path]:
    return dest.with_name(f"{dest.name}.{langs[0]}"), dest.with_name(f"{dest.name}.{langs[1]}")


def write_moses(pairs: Iterable[Pair], langs: tuple[str, str], dest: Path) -> int:
    src_path, tgt_path = moses_paths(dest, langs)
    n = 0
    with atomic_text(src_path) as src_out, atomic_text(tgt_path) as tgt_out:
        for pair in pairs:
            n += 1
            src_out.write(one_line(pair.src) + "\n")
            tgt_out.write(one_line(pair.tgt) + "\n")
    return n


@dataclass(frozen=True, slots=True)
class ExportResult:
    langs: tuple[str, str]
    pairs: int
    files: tuple[Path, ...]
    source: PairSource


_SUFFIXES: dict[str, str] = {"tmx": ".tmx", "tsv": ".tsv", "jsonl": ".jsonl", "moses": ""}


def _pair_file_name(langs: tuple[str, str], fmt: Format) -> str:
    return f"{langs[0]}-{langs[1]}{_SUFFIXES[fmt]}"


def _write(corpus: Corpus, fmt: Format, langs: tuple[str, str], dest: Path, min_score: float, source: PairSource,
           spreadsheet_safe: bool, works: Collection[str] | None) -> ExportResult:
    pairs = iter_pairs(corpus, langs, min_score, source, works)
    writers: dict[str, Callable[[], int]] = {
        "tmx": lambda: write_tmx(pairs, langs, dest),
        "tsv": lambda: write_tsv(pairs, langs, dest, spreadsheet_safe),
        "jsonl": lambda: write_jsonl(pairs, langs, dest),
        "moses": lambda: write_moses(pairs, langs, dest),
    }
    n = writers[fmt]()
    return ExportResult(langs, n, moses_paths(dest, langs) if fmt == "moses" else (dest,), source)


def _checked(out_dir: Path, fmt: Format, works: Collection[str] | None, version: int | None) -> Corpus:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    corpus = Corpus.open(out_dir, version)
    corpus.check_works(works or ())
    return corpus


def export_pairs(
    out_dir: Path,
    fmt: Format,
    langs: Sequence[str],
    dest: Path,
    *,
    min_score: float = 0.0,
    source: PairSource = "beads",
    spreadsheet_safe: bool = False,
    works: Collection[str] | None = None,
    version: int | None = None,
) -> ExportResult:
    """Write the ``langs`` pairs of the corpus in ``out_dir`` (of ``works`` only, if given) to ``dest``
    (for moses: a path prefix); into an existing folder ``dest``, under the name :func:`export_every_pair`
    gives the pair. On a store, ``version`` reads a kept earlier version of the corpus."""
    corpus = _checked(out_dir, fmt, works, version)
    pair = corpus.pair(langs)
    pairs = corpus.language_pairs(works)
    if tuple(sorted(pair)) not in pairs:  # else an empty file, and a person left to guess why
        partners = sorted({b if a == pair[0] else a for a, b in pairs if pair[0] in (a, b)})
        raise UnknownLanguageError(
            f"{pair[0]} and {pair[1]} share no work{' of those chosen' if works else ''}, so no bead links them; "
            f"languages that share a work with {pair[0]}: {', '.join(partners) or 'none'}")
    if dest.is_dir():
        dest = dest / _pair_file_name(pair, fmt)
    return _write(corpus, fmt, pair, dest, min_score, source, spreadsheet_safe, works)


def export_every_pair(
    out_dir: Path,
    fmt: Format,
    dest_dir: Path,
    *,
    langs: Sequence[str] | None = None,
    min_score: float = 0.0,
    source: PairSource = "beads",
    spreadsheet_safe: bool = False,
    works: Collection[str] | None = None,
    version: int | None = None,
) -> list[ExportResult]:
    """Write every language pair that shares a work (among ``langs``, if given; of ``works`` only, if given)
    into the folder ``dest_dir``, one file per pair named ``<src>-<tgt>.<format>`` (moses:
    ``<src>-<tgt>.<src>`` and ``<src>-<tgt>.<tgt>``), the languages of a pair in tag order. On a store,
    ``version`` reads a kept earlier version of the corpus."""
    corpus = _checked(out_dir, fmt, works, version)
    chosen = None if langs is None else {corpus.language(lang) for lang in langs}
    if chosen is not None:
        corpus.check_languages(sorted(chosen))
    if dest_dir.exists() and not dest_dir.is_dir():
        raise DestinationError(f"{dest_dir} is a file; several pairs are written into a folder, one file per pair")
    pairs = [p for p in corpus.language_pairs(works) if chosen is None or set(p) <= chosen]
    if not pairs:
        shown = ", ".join(sorted(chosen if chosen is not None else corpus.languages)) or "none"
        raise UnknownLanguageError(f"no two of these languages share a work: {shown}")
    return [_write(corpus, fmt, pair, dest_dir / _pair_file_name(pair, fmt), min_score, source, spreadsheet_safe,
                   works) for pair in pairs]
